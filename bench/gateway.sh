#!/usr/bin/env bash
# make bench, the gateway: tools/call of the Go SDK's conformance
# everything-server (stateless, 2026-07-28, tool test_simple_text) called
# directly, through /mcp/servers/{id} and through /mcp/agents/{id}, in
# alternating runs of BENCH_GATEWAY_CLIENTS (16) sessions for
# BENCH_GATEWAY_DURATION (4) seconds each, BENCH_GATEWAY_ROUNDS (6) rounds
# (every other one in reverse order);
# the API's CPU time per proxied call; and the API's RSS with
# BENCH_GATEWAY_HOLD (1000) stateful 2025-06-18 sessions open through the
# gateway (in front of a stateful everything-server). One `mcp-api serve`
# on a throwaway PostgreSQL, measured by bench/cmd/gatewaybench.
#
# Writes bench/RESULTS-gateway.md (BENCH_GATEWAY_OUT) and exits 1 when a
# target is missed: throughput >= 0.75 x direct, p99 <= 1.5 x direct,
# RSS < 200 MB. When /mcp/agents/{id} is not served (404) the agent runs are
# skipped with "agent endpoint not available".
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
prog=bench-gateway
. "$root/scripts/lib.sh"

clients=${BENCH_GATEWAY_CLIENTS:-16}
duration=${BENCH_GATEWAY_DURATION:-4}
rounds=${BENCH_GATEWAY_ROUNDS:-6}
hold=${BENCH_GATEWAY_HOLD:-1000}
out=${BENCH_GATEWAY_OUT:-$root/bench/RESULTS-gateway.md}
log_level=${BENCH_LOG_LEVEL:-info}

need curl
work=$(scratch_dir mcp-bench-gateway)
UP_PIDS=()
on_exit 'rm -rf "$work"'
on_exit 'pg_down "$work/pg"'
on_exit 'for p in "${UP_PIDS[@]}"; do stop_process "$p"; done'
on_exit 'stop_process "${API_PID:-}"'

idle_before=$(cpu_idle)

log "building mcp-api, gatewaybench and the Go SDK's everything-server"
go_build "$work" mcp-api=./apiserver/cmd/mcp-api gatewaybench=./bench/cmd/gatewaybench \
  everything-server=github.com/modelcontextprotocol/go-sdk/conformance/everything-server
sdk=$(cd "$root" && go list -m -f '{{.Version}}' github.com/modelcontextprotocol/go-sdk)

# start_everything NAME STATELESS FROM: starts an everything-server on the
# first free port from FROM and prints its URL.
start_everything() {
  local port
  port=$(free_port "$3")
  nohup "$work/everything-server" -http="127.0.0.1:$port" -stateless="$2" >"$work/$1.log" 2>&1 &
  UP_PIDS+=($!)
  wait_http "http://127.0.0.1:$port/" "$!" "everything-server ($1)" "$work/$1.log" any
  echo "http://127.0.0.1:$port/"
}
# (not in a subshell: UP_PIDS must reach the cleanup)
start_everything stateless true 18200 >"$work/stateless.url"
start_everything stateful false 18300 >"$work/stateful.url"
stateless_url=$(cat "$work/stateless.url")
stateful_url=$(cat "$work/stateful.url")

pg_init "$work/pg" --no-sync
pg_start_free "$work/pg" 55533 -c max_connections=100 -c fsync=off -c synchronous_commit=off
pg_version=$("$PG_BIN/postgres" --version)
"$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c "CREATE DATABASE mcp"

MCP_API_ALLOW_PRIVATE_TARGETS=true serve_bench_api "$work/mcp-api" 18480 bench \
  "postgres://postgres@127.0.0.1:$PG_PORT/mcp?sslmode=disable" "$log_level" "$work/api.log" --no-scheduler
api_url=$API_URL api_key=$API_KEY

# api METHOD PATH [BODY]: the API's answer, or death naming the request.
api() {
  curl -fsS -X "$1" "$api_url$2" -H "Authorization: Bearer $api_key" -H 'Content-Type: application/json' ${3:+-d "$3"} ||
    die "$1 $2 failed"
}
json_field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" | head -n 1; }

project=$(api POST /api/projects '{"name":"bench"}' | json_field id)
server() {
  api POST /api/mcp/servers "{\"projectId\":\"$project\",\"name\":\"$1\",\"url\":\"$2\",\"transportType\":\"http\",\"connectionType\":\"proxy\"}" | json_field id
}
stateless_id=$(server "everything stateless" "$stateless_url")
stateful_id=$(server "everything stateful" "$stateful_url")
[ -n "$stateless_id" ] && [ -n "$stateful_id" ] || die "could not register the servers"

# The agent, assigned the stateless server under the prefix "bench", and a
# token of its own; the runs are skipped when the endpoint is not served.
agent_args=()
agent_token=
# try METHOD PATH BODY: api without dying; the agent endpoint is optional.
try() { curl -sS -X "$1" "$api_url$2" -H "Authorization: Bearer $api_key" -H 'Content-Type: application/json' -d "$3" || true; }
agent_id=$(try POST /api/agents "{\"name\":\"bench\",\"assignments\":[{\"serverId\":\"$stateless_id\",\"prefix\":\"bench\",\"allowedTools\":null}]}" | json_field id)
[ -n "$agent_id" ] && agent_token=$(try POST "/api/agents/$agent_id/tokens" '{"name":"bench"}' | json_field token)
if [ -z "$agent_token" ]; then
  log "agent endpoint not available (could not create an agent and its token); skipping its runs"
else
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$api_url/mcp/agents/$agent_id" \
    -H "Authorization: Bearer $agent_token" -H 'Content-Type: application/json' -d '{}')
  if [ "$code" = 404 ]; then
    log "agent endpoint not available (POST /mcp/agents/{id} answers 404); skipping its runs"
  else
    agent_args=(-agent "$api_url/mcp/agents/$agent_id" -agent-tool bench__test_simple_text)
  fi
fi

log "gatewaybench: $rounds rounds of ${duration}s runs, $clients sessions, then $hold held sessions"
report_body=$(GATEWAYBENCH_API_KEY=$api_key GATEWAYBENCH_AGENT_TOKEN=$agent_token "$work/gatewaybench" \
  -direct "$stateless_url" -gateway "$api_url/mcp/servers/$stateless_id" "${agent_args[@]}" \
  -pid "$API_PID" -c "$clients" -d "${duration}s" -rounds "$rounds" \
  -hold-url "$api_url/mcp/servers/$stateful_id" -hold "$hold") && rc=0 || rc=$?
[ -n "$report_body" ] || die "gatewaybench reported nothing (see above)"
peak_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$API_PID/status")

write_report() {
  cat <<EOF
# Gateway benchmark results

Written by \`bench/gateway.sh\` (\`make bench\`); every number below comes from one run.

- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Machine: $(machine); CPUs ${idle_before}% idle in the
  second before the run (less means other work competed with it)
- Software: $(go version | awk '{print $3}'), $pg_version, MCP Go SDK $sdk
- Upstream: the Go SDK's conformance everything-server, stateless (2026-07-28), tool
  \`test_simple_text\`. API: \`mcp-api serve --no-scheduler\`, MCP_API_LOG_LEVEL=$log_level,
  no rate limit. Client: \`bench/cmd/gatewaybench\` (the Go SDK's client), $clients sessions calling
  back to back, $rounds rounds of direct, gateway (and agent) runs alternating (every other round in reverse order), ${duration}s measured
  per run after 1s of warm-up, latencies pooled over the rounds; all on this machine.
- API CPU per call: the API process's user + system time (/proc/<pid>/stat) over the measured
  runs, divided by the calls that succeeded in them.
- Held sessions: $hold sessions at 2025-06-18 opened through \`/mcp/servers/{id}\` in front of
  a stateful everything-server, the API's VmRSS read while all are open: once after their
  handshakes (a session opens its upstream on its first request), then after one call each
  (each with its upstream session and standalone SSE streams: the figure the target is judged on). Peak RSS of the API over the whole run: $(awk -v k="$peak_kb" 'BEGIN {printf "%.1f", k/1024}') MB.

$report_body
EOF
}
write_report >"$out"
cat "$out"
log "written to ${out#"$root"/}"
exit "$rc"

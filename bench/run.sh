#!/usr/bin/env bash
# make bench: the API's read path measured beside PostgreSQL itself, on one
# throwaway PostgreSQL server, in one run:
#   1. GET /api/mcp-connections/{id} through mcp-api at BENCH_CLIENTS (32)
#      concurrent clients for BENCH_DURATION (15s), with bench/cmd/loadgen;
#   2. pgbench -S (primary-key SELECTs) with the same number of clients and
#      duration, p50/p99 taken from its per-transaction log (-l);
#   3. the API's peak RSS (VmHWM).
# Prints a table and writes it to bench/RESULTS.md (BENCH_OUT) with the date
# and the machine. Exits 1 when a target is missed:
#   API throughput >= 0.5 x pgbench's, API p99 <= 3 x pgbench's, RSS < 100 MB.
# Everything it starts runs on 127.0.0.1 and is stopped at the end.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
prog=bench
. "$root/scripts/lib.sh"

clients=${BENCH_CLIENTS:-32}
duration=${BENCH_DURATION:-15}
out=${BENCH_OUT:-$root/bench/RESULTS.md}
log_level=${BENCH_LOG_LEVEL:-info}

work=$(scratch_dir mcp-bench)
on_exit 'rm -rf "$work"'
on_exit 'pg_down "$work/pg"'
on_exit 'stop_process "${API_PID:-}"'

idle_before=$(cpu_idle)

log "building mcp-api and loadgen"
go_build "$work" mcp-api=./apiserver/cmd/mcp-api loadgen=./bench/cmd/loadgen

# max_connections covers the API's pool (32) and pgbench's 32 clients;
# durability is irrelevant to a read-only benchmark.
pg_init "$work/pg" --no-sync
pg_start_free "$work/pg" 55433 -c max_connections=200 -c fsync=off -c synchronous_commit=off
pg_version=$("$PG_BIN/postgres" --version)
psql() { "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }
psql -d postgres -c "CREATE DATABASE mcp" -c "CREATE DATABASE pgbench"

serve_bench_api "$work/mcp-api" 18080 bench "postgres://postgres@127.0.0.1:$PG_PORT/mcp?sslmode=disable" "$log_level" \
  "$work/api.log" --no-scheduler
api_url=$API_URL api_key=$API_KEY

id=$(curl -fsS -X POST "$api_url/api/mcp-connections" -H "Authorization: Bearer $api_key" \
  -H 'Content-Type: application/json' \
  -d '{"name":"Order Management System","serverUrl":"https://mcp.example.com/oms","authType":"bearer","bearerToken":"tok-bench"}' |
  sed -n 's/^{"id":"\([^"]*\)".*/\1/p')
[ -n "$id" ] || die "could not create the connection to read"

# cpu_ticks PID...: user + system CPU time of the processes, in clock ticks
cpu_ticks() {
  local sum=0 pid
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] && sum=$((sum + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$sum"
}
postmaster=$(head -n 1 "$work/pg/data/postmaster.pid")
# the API's pooled connections are long-lived backends, so their CPU time
# before and after the run is the PostgreSQL side of it
pg_procs() { echo "$postmaster" $(pgrep -P "$postmaster" || true); }

log "API: GET /api/mcp-connections/{id}, $clients clients, ${duration}s (after 2s warm-up)"
api_ticks0=$(cpu_ticks "$API_PID")
pg_ticks0=$(cpu_ticks $(pg_procs))
api_json=$(LOADGEN_API_KEY=$api_key "$work/loadgen" -url "$api_url/api/mcp-connections/$id" -c "$clients" -d "${duration}s" -warmup 2s)
api_ticks1=$(cpu_ticks "$API_PID")
pg_ticks1=$(cpu_ticks $(pg_procs))
echo "$api_json" >&2
rss_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$API_PID/status")
stop_process "$API_PID"
API_PID=

field() { echo "$api_json" | sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
api_rps=$(printf '%.0f' "$(field rps)")
api_p50=$(printf '%.2f' "$(field p50ms)")
api_p99=$(printf '%.2f' "$(field p99ms)")
# CPU per request over every request sent, warm-up included
sent=$(field sent)
tick_us=$((1000000 / $(getconf CLK_TCK)))
per_req() { awk -v v="$1" -v n="$sent" 'BEGIN {printf "%.0f", v / n}'; }
api_cpu=$(per_req $(((api_ticks1 - api_ticks0) * tick_us)))
pg_cpu=$(per_req $(((pg_ticks1 - pg_ticks0) * tick_us)))
lg_cpu=$(per_req "$(awk -v s="$(field cpuSec)" 'BEGIN {printf "%.0f", s * 1e6}')")

log "pgbench -S: $clients clients, 2 threads, ${duration}s"
pgb() { "$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }
pgb -i -q -s 10 pgbench >/dev/null 2>&1
mkdir -p "$work/pgbench"
pgb -S -c "$clients" -j 2 -T "$duration" -l --log-prefix="$work/pgbench/log" pgbench >"$work/pgbench.out" 2>&1 ||
  { cat "$work/pgbench.out" >&2; die "pgbench failed"; }
grep -E '^(tps|latency|number of (transactions|failed))' "$work/pgbench.out" >&2 || true
pg_rps=$(printf '%.0f' "$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/pgbench.out" | head -n 1)")
# column 3 of pgbench's log is each transaction's latency in microseconds
read -r pg_p50 pg_p99 < <(cat "$work"/pgbench/log.* | awk '{print $3}' | sort -n |
  awk '{v[NR]=$1} END {
    r50=int(NR*0.50); if (r50<NR*0.50) r50++; r99=int(NR*0.99); if (r99<NR*0.99) r99++
    printf "%.2f %.2f\n", v[r50]/1000, v[r99]/1000 }')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
rps_ratio=$(ratio "$api_rps" "$pg_rps")
p99_ratio=$(ratio "$api_p99" "$pg_p99")
rss_mb=$(awk -v k="$rss_kb" 'BEGIN {printf "%.1f", k/1024}')
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {ok = (op == ">=") ? v >= t : v < t; print ok ? "met" : "MISSED"}'; }
rps_ok=$(verdict "$rps_ratio" ">=" 0.5)
p99_ok=$(verdict "$p99_ratio" "<=" 3.0001)
rss_ok=$(verdict "$rss_mb" "<" 100)

report=$(cat <<EOF
# Benchmark results

Written by \`bench/run.sh\` (\`make bench\`); every number below comes from one run,
measured one after the other on the same throwaway PostgreSQL server.

- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Machine: $(machine); CPUs ${idle_before}% idle in the
  second before the run (less means other work competed with it)
- Software: $(go version | awk '{print $3}'), $pg_version
- API: \`mcp-api serve --no-scheduler\`, MCP_API_LOG_LEVEL=$log_level (an access-log line per
  request at info), default pool and GC settings; client: \`bench/cmd/loadgen\`, $clients clients
  with kept-alive connections, ${duration}s measured after a 2s warm-up, on the same machine.
- PostgreSQL: \`pgbench -S -c $clients -j 2 -T $duration -l\` (scale 10, simple protocol, TCP to
  127.0.0.1); p50/p99 from its per-transaction log.

| | throughput (req/s) | p50 (ms) | p99 (ms) |
|---|---:|---:|---:|
| API \`GET /api/mcp-connections/{id}\` | $api_rps | $api_p50 | $api_p99 |
| \`pgbench -S\` | $pg_rps | $pg_p50 | $pg_p99 |
| API / pgbench | **$rps_ratio** | | **$p99_ratio** |

CPU time per API request, warm-up included: API $api_cpu µs, PostgreSQL $pg_cpu µs, load
generator $lg_cpu µs; $(nproc) CPUs at $api_rps req/s have $(awk -v r="$api_rps" -v n="$(nproc)" 'BEGIN {printf "%.0f", n * 1e6 / r}') µs per request.

| target | measured | |
|---|---|---|
| API throughput >= 0.5 x pgbench | $rps_ratio x | $rps_ok |
| API p99 <= 3 x pgbench p99 | $p99_ratio x | $p99_ok |
| API peak RSS (VmHWM) < 100 MB | $rss_mb MB | $rss_ok |
EOF
)
echo "$report" >"$out"
echo "$report"
log "written to ${out#"$root"/}"
if [ "$rps_ok$p99_ok$rss_ok" != metmetmet ]; then
  exit 1
fi

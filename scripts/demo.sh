#!/usr/bin/env bash
# make demo / make demo-down: the product's main job end to end on this machine.
#   up:   a throwaway PostgreSQL, the API (with a bootstrap key), a real MCP
#         server, the provider built from this checkout, terraform apply of
#         examples/quickstart, the status read back, and last a tool called
#         as the agent would: through its gateway URL with its token.
#   down: stops everything "up" started and removes .demo/.
# Everything lives in .demo/ in the checkout; re-running "up" is safe.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
demo="$root/.demo"
pg_port=${MCP_DEMO_PG_PORT:-55432}
api_listen=${MCP_DEMO_API_LISTEN:-127.0.0.1:8080}
api_url="http://$api_listen"
mcp_listen=${MCP_DEMO_MCP_LISTEN:-127.0.0.1:8090}
mcp_url="http://$mcp_listen/mcp"

prog=demo
. "$root/scripts/lib.sh"

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pid FILE: stops the process whose pid FILE holds and removes FILE.
stop_pid() {
  if pid_alive "$1"; then stop_process "$(cat "$1")"; fi
  rm -f "$1"
}

# start_postgres keeps a running demo cluster on its port, and otherwise
# starts it on the first free port from $pg_port: tests on the same machine
# start clusters on free ports too, and may hold that one.
start_postgres() {
  pg_init "$demo/pg"
  if as_pg "$PG_BIN/pg_ctl" -D "$demo/pg/data" status >/dev/null 2>&1; then
    pg_start "$demo/pg" "$(sed -n 4p "$demo/pg/data/postmaster.pid")"
  else
    pg_start_free "$demo/pg" "$pg_port"
  fi
  export DATABASE_URL=$PG_URL
}

secret() { # secret FILE CMD...: the content of FILE, created by CMD once
  local f=$1; shift
  [ -s "$f" ] || "$@" >"$f"
  chmod 600 "$f"
  cat "$f"
}

mcp_token() { random_base64 18 | tr "+/" "-_"; }

start_api() {
  log "building the API and the provider"
  go_build "$demo/bin" mcp-api=./apiserver/cmd/mcp-api terraform-provider-mcp=. demoserver=./internal/demoserver \
    mcpcall=./scripts/mcpcall
  export MCP_API_SECRET_KEY; MCP_API_SECRET_KEY=$(secret "$demo/secret-key" random_base64 32)
  export MCP_API_BOOTSTRAP_KEY; MCP_API_BOOTSTRAP_KEY=$(secret "$demo/api-key" new_api_key demo)
  stop_pid "$demo/api.pid"
  log "starting the API on $api_url"
  MCP_API_ALLOW_PRIVATE_TARGETS=true MCP_API_HEALTH_INTERVAL=${MCP_API_HEALTH_INTERVAL:-30s} \
    serve_api "$demo/bin/mcp-api" "$api_listen" "$demo/api.log"
  echo "$API_PID" >"$demo/api.pid"
}

start_mcp_server() {
  export DEMO_MCP_TOKEN; DEMO_MCP_TOKEN=$(secret "$demo/mcp-token" mcp_token)
  stop_pid "$demo/mcp.pid"
  log "starting the demo MCP server on $mcp_url (bearer token in .demo/mcp-token)"
  serve_demo_mcp "$demo/bin/demoserver" "$mcp_listen" "$demo/mcp.log"
  echo "$MCP_PID" >"$demo/mcp.pid"
}

terraform_apply() {
  command -v terraform >/dev/null || die "terraform (>= 1.11) is not on PATH"
  # mcpconn/mcp is the provider just built
  terraformrc "$demo/terraformrc" "mcpconn/mcp=$demo/bin"
  mkdir -p "$demo/quickstart"
  cp "$root"/examples/quickstart/*.tf "$demo/quickstart/"
  export TF_CLI_CONFIG_FILE="$demo/terraformrc" TF_IN_AUTOMATION=1
  export MCP_ENDPOINT="$api_url" MCP_API_KEY="$MCP_API_BOOTSTRAP_KEY"
  export TF_VAR_mcp_server_url="$mcp_url" TF_VAR_mcp_server_token="$DEMO_MCP_TOKEN"
  log "terraform apply (examples/quickstart, state in .demo/quickstart)"
  local rc=0
  terraform -chdir="$demo/quickstart" apply -auto-approve -input=false -no-color >"$demo/apply.log" 2>&1 || rc=$?
  # the dev_overrides warning box is expected; show the rest
  awk '/Warning: Provider development overrides are in effect/{skip=1} skip&&/^$/{skip=0;next} !skip' "$demo/apply.log" >&2
  [ "$rc" = 0 ] || die "terraform apply failed (full output: .demo/apply.log)"
}

report() {
  local tf=(terraform -chdir="$demo/quickstart")
  local status id
  status=$("${tf[@]}" output -raw status 2>/dev/null)
  id=$("${tf[@]}" output -raw connection_id 2>/dev/null)
  echo
  echo "MCP connection $id: status $status"
  if [ "$status" = active ]; then
    echo "instructions the MCP server gave (first lines):"
    "${tf[@]}" output -raw instructions 2>/dev/null | head -n 3 | sed 's/^/  | /'
    echo
    echo "tools it offers (name = hash):"
    "${tf[@]}" output tools 2>/dev/null | sed -n 's/^ *"\{0,1\}\([^" ]*\)"\{0,1\} *= *"\(.*\)"$/  \1 = \2/p'
  else
    echo "last error: $("${tf[@]}" output -raw last_error 2>/dev/null)"
  fi
  cat <<MSG

Read it back through the API:
  curl -s -H "Authorization: Bearer \$(cat .demo/api-key)" $api_url/api/mcp-connections/$id
Its tool catalog, check history and catalog changes:
  curl -s -H "Authorization: Bearer \$(cat .demo/api-key)" $api_url/api/mcp-connections/$id/catalog
  curl -s -H "Authorization: Bearer \$(cat .demo/api-key)" $api_url/api/mcp-connections/$id/checks
Run a health check now:
  curl -s -X POST -H "Authorization: Bearer \$(cat .demo/api-key)" $api_url/api/mcp-connections/$id/health-check
The status page (sign in with the key in .demo/api-key):
  $api_url/ui/
Prometheus metrics (README "Metrics"):
  curl -s http://${MCP_API_METRICS_LISTEN:-127.0.0.1:9464}/metrics | grep '^mcp_api_'
Terraform (same state): TF_CLI_CONFIG_FILE=.demo/terraformrc MCP_ENDPOINT=$api_url MCP_API_KEY=\$(cat .demo/api-key) terraform -chdir=.demo/quickstart plan
Stop everything: make demo-down
MSG
  [ "$status" = active ] || die "the connection is not active"
  call_as_agent
}

# call_as_agent does what the agent handed the two outputs would: calls
# desk__order_status (the connection's order_status, under the assignment's
# prefix) at the agent's gateway URL with the agent's token. The token goes
# to mcpcall in its environment, never on a command line, and is not shown.
call_as_agent() {
  local tf=(terraform -chdir="$demo/quickstart")
  local url token
  url=$("${tf[@]}" output -raw agent_gateway_url 2>/dev/null) || die "the quick start has no agent_gateway_url output"
  token=$("${tf[@]}" output -raw agent_token 2>/dev/null) || die "the quick start has no agent_token output"
  echo
  echo "The agent calls desk__order_status through its gateway URL $url"
  echo "(with its token; the MCP server's own bearer token never leaves the API):"
  local answer
  answer=$(MCP_TOKEN=$token "$demo/bin/mcpcall" "$url" desk__order_status '{"order_id":"1001"}') ||
    die "the call through the agent's gateway URL failed (see above)"
  echo "  | $answer"
  cat <<MSG

Call it yourself, as the agent:
  MCP_TOKEN=\$(TF_CLI_CONFIG_FILE=.demo/terraformrc terraform -chdir=.demo/quickstart output -raw agent_token) \\
    .demo/bin/mcpcall $url desk__order_status '{"order_id":"1002"}'
MSG
}

up() {
  need go curl
  start_postgres
  start_api
  start_mcp_server
  terraform_apply
  report
}

down() {
  stop_pid "$demo/api.pid"
  stop_pid "$demo/mcp.pid"
  pg_stop "$demo/pg"
  rm -rf "$demo"
  log "demo stopped and .demo/ removed"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) die "usage: scripts/demo.sh up|down" ;;
esac

#!/usr/bin/env bash
# make demo / make demo-down: the product's main job end to end on this machine.
#   up:   a throwaway PostgreSQL, the API (with a bootstrap key), a real MCP
#         server, the provider built from this checkout, terraform apply of
#         examples/quickstart, and the status read back.
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

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_pid() {
  local f=$1
  if pid_alive "$f"; then
    local pid; pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

start_postgres() {
  "$root/scripts/ensure-postgres.sh"
  local bin; bin=$("$root/scripts/pgbin.sh")
  mkdir -p "$demo"
  if [ ! -f "$demo/pg/data/PG_VERSION" ]; then
    log "initialising PostgreSQL in .demo/pg"
    rm -rf "$demo/pg" && mkdir -p "$demo/pg"
    [ "$(id -u)" = 0 ] && chown postgres: "$demo/pg" && chmod 700 "$demo/pg"
    as_pg "$bin/initdb" -D "$demo/pg/data" -U postgres -A trust -E UTF8 --no-instructions >/dev/null
  fi
  if ! as_pg "$bin/pg_ctl" -D "$demo/pg/data" status >/dev/null 2>&1; then
    log "starting PostgreSQL on 127.0.0.1:$pg_port"
    as_pg "$bin/pg_ctl" -D "$demo/pg/data" -l "$demo/pg/log" -w -t 60 \
      -o "-k $demo/pg -p $pg_port -c listen_addresses=127.0.0.1" start >/dev/null
  fi
  export DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/postgres?sslmode=disable"
}

secret() { # secret FILE CMD...: the content of FILE, created by CMD once
  local f=$1; shift
  [ -s "$f" ] || "$@" >"$f"
  chmod 600 "$f"
  cat "$f"
}

start_api() {
  log "building the API and the provider"
  (cd "$root" && go build -o "$demo/bin/mcp-api" ./apiserver/cmd/mcp-api &&
    go build -o "$demo/bin/terraform-provider-mcp" . &&
    go build -o "$demo/bin/demoserver" ./internal/demoserver)
  export MCP_API_SECRET_KEY; MCP_API_SECRET_KEY=$(secret "$demo/secret-key" sh -c 'head -c 32 /dev/urandom | base64')
  export MCP_API_BOOTSTRAP_KEY; MCP_API_BOOTSTRAP_KEY=$(secret "$demo/api-key" sh -c 'printf "mcpk_demo_%s\n" "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d " \n")"')
  stop_pid "$demo/api.pid"
  log "starting the API on $api_url"
  MCP_API_ALLOW_PRIVATE_TARGETS=true MCP_API_HEALTH_INTERVAL=${MCP_API_HEALTH_INTERVAL:-30s} \
    nohup "$demo/bin/mcp-api" serve --listen "$api_listen" >"$demo/api.log" 2>&1 &
  echo $! >"$demo/api.pid"
  for _ in $(seq 100); do
    curl -fsS "$api_url/readyz" >/dev/null 2>&1 && return 0
    pid_alive "$demo/api.pid" || { tail -n 5 "$demo/api.log" >&2; die "the API exited; see .demo/api.log"; }
    sleep 0.2
  done
  die "the API did not become ready; see .demo/api.log"
}

start_mcp_server() {
  export DEMO_MCP_TOKEN; DEMO_MCP_TOKEN=$(secret "$demo/mcp-token" sh -c 'head -c 18 /dev/urandom | base64 | tr "+/" "-_"')
  stop_pid "$demo/mcp.pid"
  log "starting the demo MCP server on $mcp_url (bearer token in .demo/mcp-token)"
  nohup "$demo/bin/demoserver" --listen "$mcp_listen" >"$demo/mcp.log" 2>&1 &
  echo $! >"$demo/mcp.pid"
  for _ in $(seq 50); do
    # any HTTP answer (401 without the token) means it is listening
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$mcp_url")" != 000 ] && return 0
    pid_alive "$demo/mcp.pid" || { tail -n 5 "$demo/mcp.log" >&2; die "the MCP server exited; see .demo/mcp.log"; }
    sleep 0.1
  done
  die "the demo MCP server did not start; see .demo/mcp.log"
}

terraform_apply() {
  command -v terraform >/dev/null || die "terraform (>= 1.11) is not on PATH"
  # A CLI config of our own, never the user's: it points mcpconn/mcp at the
  # provider just built, so no registry is asked and no init is needed.
  cat >"$demo/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "mcpconn/mcp" = "$demo/bin"
  }
  direct {}
}
RC
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
  else
    echo "last error: $("${tf[@]}" output -raw last_error 2>/dev/null)"
  fi
  cat <<MSG

Read it back through the API:
  curl -s -H "Authorization: Bearer \$(cat .demo/api-key)" $api_url/api/mcp-connections/$id
Run a health check now:
  curl -s -X POST -H "Authorization: Bearer \$(cat .demo/api-key)" $api_url/api/mcp-connections/$id/health-check
Terraform (same state): TF_CLI_CONFIG_FILE=.demo/terraformrc MCP_ENDPOINT=$api_url MCP_API_KEY=\$(cat .demo/api-key) terraform -chdir=.demo/quickstart plan
Stop everything: make demo-down
MSG
  [ "$status" = active ] || die "the connection is not active"
}

up() {
  command -v go >/dev/null || die "go is not on PATH"
  command -v curl >/dev/null || die "curl is not on PATH"
  start_postgres
  start_api
  start_mcp_server
  terraform_apply
  report
}

down() {
  stop_pid "$demo/api.pid"
  stop_pid "$demo/mcp.pid"
  if [ -f "$demo/pg/data/PG_VERSION" ]; then
    local bin; bin=$("$root/scripts/pgbin.sh")
    as_pg "$bin/pg_ctl" -D "$demo/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$demo"
  log "demo stopped and .demo/ removed"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) die "usage: scripts/demo.sh up|down" ;;
esac

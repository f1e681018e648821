# shellcheck shell=bash
# Sourced by scripts/demo.sh, scripts/conformance.sh, bench/run.sh,
# bench/gateway.sh, bench/tfbench/run.sh, bench/fuzz.sh and
# scripts/npm-fixture.sh: starting and stopping the
# product's pieces on this machine (a throwaway PostgreSQL, mcp-api, the demo
# MCP server) and installing the test tools, so that every script does it the
# same way. Before sourcing, set root (the checkout) and prog (the name error
# messages start with).

log() { printf '==> %s\n' "$*" >&2; }
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }

# need CMD...: dies unless every CMD is on PATH.
need() {
  local c
  for c in "$@"; do command -v "$c" >/dev/null || die "$c is not on PATH"; done
}

# on_exit CMD: evaluates CMD when the script ends, however it ends (an
# interrupt included), the last one registered first; the exit status is kept.
_on_exit=()
on_exit() {
  _on_exit=("$1" "${_on_exit[@]}")
  trap _run_on_exit EXIT
  trap 'exit 130' INT TERM
}
_run_on_exit() {
  local rc=$? c
  trap - EXIT INT TERM
  for c in "${_on_exit[@]}"; do eval "$c" || true; done
  exit "$rc"
}

# scratch_dir NAME prints a new directory under /tmp that the postgres user
# can traverse (its clusters live inside).
scratch_dir() {
  local d
  d=$(mktemp -d "/tmp/$1.XXXXXX")
  chmod 755 "$d"
  echo "$d"
}

# random_hex N prints N random bytes in hex, random_base64 N in base64.
random_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
random_base64() { head -c "$1" /dev/urandom | base64; }

# new_api_key NAME prints a fresh API key, mcpk_NAME_<48 hex digits>.
new_api_key() { printf 'mcpk_%s_%s\n' "$1" "$(random_hex 24)"; }

# free_port FROM prints the first loopback TCP port from FROM nobody listens
# on. A FROM below Linux's ephemeral range (32768-60999) avoids a port that
# is free to connect to yet held by some outgoing connection.
free_port() {
  local p
  for p in $(seq "$1" 65000); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  die "no free port from $1"
}

# go_build DIR NAME=PACKAGE...: builds each package of the checkout into
# DIR/NAME, with -ldflags "$GO_LDFLAGS" when that is set.
go_build() {
  local dir=$1 b
  shift
  for b in "$@"; do
    (cd "$root" && go build ${GO_LDFLAGS:+-ldflags "$GO_LDFLAGS"} ${GO_TAGS:+-tags "$GO_TAGS"} -o "$dir/${b%%=*}" "${b#*=}")
  done
}

# stop_process PID: SIGTERM, then SIGKILL after 5s; nothing for an empty PID
# or one that is gone.
stop_process() {
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 0
  kill "$1" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# wait_http URL PID NAME LOG [any]: waits up to 30s until URL answers 2xx, or
# with "any" anything over HTTP (an MCP server answers a bare GET with an
# error); dies with the end of LOG when PID exits first, and stops PID when
# it is still not answering after that.
wait_http() {
  local code
  for _ in $(seq 150); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)
    case "${5:-}:$code" in any:000) ;; any:* | *:2??) return 0 ;; esac
    kill -0 "$2" 2>/dev/null || { tail -n 5 "$4" >&2; die "$3 exited; see ${4#"$root"/}"; }
    sleep 0.2
  done
  stop_process "$2"
  die "$3 did not start; see ${4#"$root"/}"
}

# The processes serve_api and serve_demo_mcp started, for the caller's
# cleanup; never a pid inherited from the environment.
API_PID= MCP_PID=

# serve_api BIN LISTEN LOG [SERVE FLAG...]: starts `BIN serve` on LISTEN in
# the background with the caller's environment (DATABASE_URL, MCP_API_*),
# output to LOG, immune to hangups (the demo's outlives its terminal); sets
# API_PID and returns once /readyz answers.
serve_api() {
  local bin=$1 listen=$2 out=$3
  shift 3
  nohup "$bin" serve --listen "$listen" "$@" >"$out" 2>&1 &
  API_PID=$!
  wait_http "http://$listen/readyz" "$API_PID" "mcp-api" "$out"
}

# serve_bench_api BIN FROM NAME DB LOG_LEVEL OUT [SERVE FLAG...]: serve_api
# for a benchmark: on the first free loopback port from FROM, on the database
# URL DB, with a fresh secret key, a fresh bootstrap key named NAME and
# MCP_API_LOG_LEVEL=LOG_LEVEL (the caller's other MCP_API_* pass through),
# output to OUT. Sets API_URL and API_KEY too. BENCH_API_NOTE, if set, is
# added to the log line, as in "scheduler off, ".
API_URL= API_KEY=
serve_bench_api() {
  local bin=$1 port name=$3 db=$4 level=$5 out=$6
  port=$(free_port "$2")
  shift 6
  API_URL="http://127.0.0.1:$port"
  API_KEY=$(new_api_key "$name")
  log "starting mcp-api on $API_URL (${BENCH_API_NOTE:-}MCP_API_LOG_LEVEL=$level)"
  DATABASE_URL=$db MCP_API_SECRET_KEY=$(random_base64 32) MCP_API_BOOTSTRAP_KEY=$API_KEY MCP_API_LOG_LEVEL=$level \
    serve_api "$bin" "127.0.0.1:$port" "$out" "$@"
}

# serve_demo_mcp BIN LISTEN LOG: starts the demo MCP server (internal/demoserver,
# built as BIN) on LISTEN like serve_api, with the caller's DEMO_MCP_TOKEN; sets
# MCP_PID and returns once http://LISTEN/mcp answers.
serve_demo_mcp() {
  nohup "$1" --listen "$2" >"$3" 2>&1 &
  MCP_PID=$!
  wait_http "http://$2/mcp" "$MCP_PID" "the demo MCP server" "$3" any
}

# terraformrc FILE SOURCE=DIR...: writes a Terraform CLI configuration of our
# own (never the user's) whose dev_overrides take each provider SOURCE from
# DIR, so no registry is asked and no terraform init is needed.
terraformrc() {
  local f=$1 o
  shift
  {
    echo 'provider_installation {'
    echo '  dev_overrides {'
    for o in "$@"; do printf '    "%s" = "%s"\n' "${o%%=*}" "${o#*=}"; done
    echo '  }'
    echo '  direct {}'
    echo '}'
  } >"$f"
}

# as_pg CMD...: runs CMD as the postgres user when we are root (initdb and
# postgres refuse to run as root), as ourselves otherwise.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_find_bin prints the directory of PostgreSQL's server binaries: PG_BIN,
# else the newest /usr/lib/postgresql/*/bin, else initdb's on PATH.
pg_find_bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return 0; fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
  echo "PostgreSQL server binaries not found: run scripts/ensure-postgres.sh" >&2
  return 1
}

# pg_init DIR [INITDB OPTION...]: installs PostgreSQL when it is missing, sets
# PG_BIN and initialises a cluster in DIR/data unless DIR already holds one.
pg_init() {
  local dir=$1
  shift
  "$root/scripts/ensure-postgres.sh"
  PG_BIN=$(pg_find_bin)
  export PG_BIN
  [ -f "$dir/data/PG_VERSION" ] && return 0
  rm -rf "$dir" && mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; chmod 700 "$dir"; fi
  as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-instructions "$@" >/dev/null
}

# pg_start DIR PORT [SERVER OPTION...]: starts DIR's cluster on
# 127.0.0.1:PORT, its socket and log in DIR, unless it is running; sets
# PG_PORT and PG_URL (a lib/pq URL of database postgres).
pg_start() {
  local dir=$1 port=$2
  shift 2
  PG_PORT=$port PG_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  export PG_PORT PG_URL
  as_pg "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 && return 0
  log "starting PostgreSQL on 127.0.0.1:$port"
  as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
    -o "-k $dir -p $port -c listen_addresses=127.0.0.1${*:+ $*}" start >/dev/null
}

# pg_start_free DIR FROM [SERVER OPTION...]: pg_start on the first free port
# from FROM. Tests running beside us start clusters on free ports too; a port
# taken between the check and the bind is retried on the next one.
pg_start_free() {
  local dir=$1 port attempt
  port=$(free_port "$2")
  shift 2
  for attempt in 1 2 3 4 5; do
    pg_start "$dir" "$port" "$@" && return 0
    grep -q 'Address already in use' "$dir/log" && [ "$attempt" != 5 ] ||
      { tail -n 5 "$dir/log" >&2; die "PostgreSQL did not start"; }
    port=$(free_port $((port + 1)))
  done
}

# pg_stop DIR: stops DIR's cluster if it runs (fast: sessions are cut).
pg_stop() {
  [ -f "$1/data/postmaster.pid" ] || return 0
  as_pg "${PG_BIN:-$(pg_find_bin)}/pg_ctl" -D "$1/data" -m fast -w stop >/dev/null 2>&1 || true
}

# pg_down DIR: stops DIR's cluster and removes DIR.
pg_down() {
  pg_stop "$1"
  rm -rf "$1"
}

# cpu_idle: how idle the CPUs were (percent) over the next second. Other
# work on the machine skews every benchmark figure, so reports say it.
cpu_idle() {
  local a b
  a=$(head -n 1 /proc/stat)
  sleep 1
  b=$(head -n 1 /proc/stat)
  # fields: cpu user nice system idle iowait irq softirq steal ...
  printf '%s\n%s\n' "$a" "$b" | awk '{
    t = 0; for (i = 2; i <= 9; i++) t += $i
    tot[NR] = t; idle[NR] = $5 + $6 }
    END { printf "%.0f", 100 * (idle[2] - idle[1]) / (tot[2] - tot[1]) }'
}

# machine: this machine for a benchmark report, as
# "N CPUs (model), M GiB RAM, kernel".
machine() {
  local cpu mem
  cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  mem=$(awk '/^MemTotal:/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)
  printf '%s CPUs (%s), %s RAM, %s' "$(nproc)" "$cpu" "$mem" "$(uname -sr)"
}

# npm_install DIR CHECK WHAT...: installs WHAT (npm packages, or the
# dependencies of a package.json file, which is copied in) into DIR unless
# CHECK (a path under DIR) exists. It installs into a scratch directory and
# renames it into place, so an interrupted or concurrent run never leaves
# half a cache.
npm_install() {
  local dir=$1 check=$2 what scratch
  shift 2
  [ -e "$dir/$check" ] && return 0
  command -v npm >/dev/null 2>&1 || die "npm is not on PATH; install Node.js (which ships npm) first"
  what=$*
  mkdir -p "$(dirname "$dir")"
  scratch=$(mktemp -d "$(dirname "$dir")/.install.XXXXXX")
  if [ "${1##*/}" = package.json ]; then
    cp "$1" "$scratch/"
    shift
  fi
  log "installing $what into $dir"
  if ! npm install --prefix "$scratch" --no-audit --no-fund --no-package-lock --loglevel=error "$@" >&2; then
    rm -rf "$scratch"
    die "npm install $what failed"
  fi
  if [ ! -e "$scratch/$check" ]; then
    rm -rf "$scratch"
    die "$what installed no $check; the package layout changed"
  fi
  if ! mv -T "$scratch" "$dir" 2>/dev/null; then
    rm -rf "$scratch"
    [ -e "$dir/$check" ] || die "could not move the install into $dir"
  fi
}

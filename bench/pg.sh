# Sourced by bench/run.sh and bench/fuzz.sh: a throwaway PostgreSQL cluster in
# a directory of the caller's, reachable on 127.0.0.1 (as the tests' and the
# demo's are), stopped and removed by pg_down.

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# free_port prints a loopback TCP port nobody listens on.
free_port() {
  local p
  for p in $(seq "${1:-55433}" 65000); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  echo "no free port" >&2
  return 1
}

# pg_up DIR: initialises and starts a cluster in DIR and sets PG_BIN, PG_PORT
# and PG_URL (a lib/pq URL of database postgres).
pg_up() {
  local dir=$1
  "$root/scripts/ensure-postgres.sh"
  PG_BIN=$("$root/scripts/pgbin.sh")
  PG_PORT=$(free_port "${PG_PORT_FROM:-55433}")
  rm -rf "$dir" && mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; chmod 700 "$dir"; fi
  as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync --no-instructions >/dev/null
  # max_connections covers the API's pool (32), pgbench's 32 clients and the
  # fuzzers' databases; durability is irrelevant to a read-only benchmark.
  as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
    -o "-k $dir -p $PG_PORT -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=off" \
    start >/dev/null
  PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
  export PG_BIN PG_PORT PG_URL
}

# pg_down DIR: stops the cluster pg_up started in DIR and removes DIR.
pg_down() {
  local dir=$1
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

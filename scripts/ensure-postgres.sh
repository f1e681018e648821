#!/usr/bin/env bash
# Makes sure PostgreSQL's server binaries are installed; tests and the demo
# start their own throwaway clusters from them. Installs Debian's package when
# they are missing (needs root, as in CI).
set -euo pipefail

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  exit 0 # tests use the server named there
fi
if [ -n "${PG_BIN:-}" ] && [ -x "${PG_BIN}/initdb" ]; then
  exit 0
fi
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
  exit 0
fi

echo "PostgreSQL server binaries not found; installing Debian's postgresql package" >&2
if [ "$(id -u)" != 0 ]; then
  echo "error: installing PostgreSQL needs root; install the postgresql package or set TEST_DATABASE_URL" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# the package's own cluster is not used; tests and the demo start their own
apt-get install -y -qq --no-install-recommends postgresql postgresql-contrib >/dev/null
ls /usr/lib/postgresql/*/bin/initdb >/dev/null

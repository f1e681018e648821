#!/usr/bin/env bash
# Prints the directory of PostgreSQL's server binaries (newest installed version).
set -euo pipefail
if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; exit 0; fi
d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; exit 0; fi
if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; exit 0; fi
echo "PostgreSQL server binaries not found: run scripts/ensure-postgres.sh" >&2
exit 1

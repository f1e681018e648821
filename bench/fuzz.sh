#!/usr/bin/env bash
# make fuzz: runs each fuzz target with -fuzz for FUZZTIME (default 30s), one
# after the other. Plain `go test` (and so make test) already runs their seed
# corpora; this searches beyond them. A failing input is saved by go test
# under the package's testdata/fuzz/<Target>/: commit it with the fix, and it
# becomes part of the seed corpus.
#
# The httpapi targets run the real server on PostgreSQL. Every fuzz worker is
# a process of its own, so they share one throwaway cluster started here
# (TEST_DATABASE_URL) instead of each starting one.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
prog=fuzz
. "$root/scripts/lib.sh"

fuzztime=${FUZZTIME:-30s}
targets=(
  "./apiserver/contract FuzzValidateServerURL"
  "./apiserver/contract FuzzValidateName"
  "./apiserver/contract FuzzValidateToken"
  "./apiserver/httpapi FuzzCreateConnection"
  "./apiserver/httpapi FuzzUpdateConnection"
  "./apiserver/httpapi FuzzListQuery"
  "./apiserver/httpapi FuzzConnectionID"
  "./apiserver/httpapi FuzzProjectWrites"
  "./apiserver/httpapi FuzzServerWrites"
)

work=$(scratch_dir mcp-fuzz)
on_exit 'rm -rf "$work"'
on_exit 'pg_down "$work/pg"'
# max_connections covers the databases of every fuzz worker
pg_init "$work/pg" --no-sync
pg_start_free "$work/pg" 56433 -c max_connections=200 -c fsync=off -c synchronous_commit=off
export TEST_DATABASE_URL=$PG_URL

cd "$root"
failed=()
for t in "${targets[@]}"; do
  set -- $t
  pkg=$1 name=$2
  corpus="$pkg/testdata/fuzz/$name"
  before=$({ ls "$corpus" 2>/dev/null || true; } | wc -l)
  echo "==> $name ($pkg) for $fuzztime"
  # A new input that widens coverage is minimised first; without a bound
  # that can stall the run for a minute on a long input.
  if go test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" -fuzzminimizetime 5s "$pkg" 2>&1 | tee "$work/out"; then
    continue
  fi
  after=$({ ls "$corpus" 2>/dev/null || true; } | wc -l)
  # Go 1.26's coordinator can report its own -fuzztime deadline as a
  # failure (golang/go#75804); a real failure always saves its input.
  if [ "$after" = "$before" ] && grep -q 'context deadline exceeded' "$work/out"; then
    echo "fuzz: $name stopped on Go's fuzztime race (golang/go#75804), no failing input: not a failure" >&2
    continue
  fi
  failed+=("$name")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failing targets: ${failed[*]} (inputs saved under testdata/fuzz/)" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets ran for $fuzztime each without a failure"

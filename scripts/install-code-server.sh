#!/usr/bin/env bash
# Installs code-server 4.100.3 into .code-server/ (not a dependency of the extension: it is only how the
# extension runs where VS Code is not installed, and what the end-to-end tests drive).
# It needs Debian's ripgrep (seeded into @vscode/ripgrep's download cache, since nothing may download it on
# a machine without internet access); scripts/setup.sh installs that and libkrb5-dev first.
# npm 11 warns about every dependency install script package.json's allowScripts does not name: code-server's
# postinstall and argon2's native build (code-server loads it at start) are approved there, which
# keeps npm quiet. Measured: about 70 s the first time.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.code-server"
version=4.100.3
if [ -x "$dest/node_modules/.bin/code-server" ]; then
  exit 0
fi
command -v rg >/dev/null || { echo "install-code-server: needs ripgrep: run scripts/setup.sh start" >&2; exit 1; }
# @vscode/ripgrep 1.15.11 (code-server $version) looks for this archive before downloading.
cache="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-1.15.11"
asset="$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [ "$(uname -m)" = x86_64 ] && [ ! -s "$asset" ]; then
  mkdir -p "$cache"
  tmp="$(mktemp -d)"
  cp "$(command -v rg)" "$tmp/rg"
  tar czf "$asset" -C "$tmp" rg
  rm -rf "$tmp"
fi
mkdir -p "$dest"
echo '{ "private": true, "allowScripts": { "code-server": true, "argon2": true } }' > "$dest/package.json"
echo "install-code-server: installing code-server@$version into $dest (about a minute the first time)"
# code-server's postinstall refuses to run as root unless npm_config_unsafe_perm=true, a setting npm 11 no
# longer has (scripts run with full permissions anyway) and warns about: that one line is dropped.
(cd "$dest" && npm_config_unsafe_perm=true npm_config_yes=true npm install --no-fund --no-audit --no-progress "code-server@$version" \
  2> >(grep -v 'Unknown env config "unsafe-perm"' >&2) >/dev/null)
"$dest/node_modules/.bin/code-server" --version

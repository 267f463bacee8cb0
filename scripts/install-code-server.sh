#!/usr/bin/env bash
# Installs code-server 4.100.3 into .code-server/ (not a dependency of the extension: it is only how the
# extension runs where VS Code is not installed, and what the end-to-end tests drive).
# It needs Debian's libkrb5-dev (for its kerberos module) and ripgrep (seeded into @vscode/ripgrep's
# download cache, since the postinstall cannot download it on a machine without internet access).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.code-server"
version=4.100.3
if [ -x "$dest/node_modules/.bin/code-server" ]; then
  exit 0
fi
missing=()
[ -e /usr/include/krb5.h ] || [ -e /usr/include/krb5/krb5.h ] || missing+=(libkrb5-dev)
command -v rg >/dev/null || missing+=(ripgrep)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "install-code-server: needs ${missing[*]} (e.g. sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
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
[ -f "$dest/package.json" ] || echo '{ "private": true }' > "$dest/package.json"
echo "install-code-server: installing code-server@$version into $dest"
(cd "$dest" && npm_config_unsafe_perm=true npm_config_yes=true npm install --no-fund --no-audit --no-progress "code-server@$version" >/dev/null)
"$dest/node_modules/.bin/code-server" --version

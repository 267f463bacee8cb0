#!/usr/bin/env bash
# Puts a pristine SQLite amalgamation (sqlite3.c, sqlite3.h) into DEST (default .cache/sqlite/ at the
# repository root; with --version 3.45.1, .cache/sqlite-3.45.1/) and prints DEST. Sources, in order:
#   $SQLITE_AMALGAMATION   a directory holding sqlite3.c and sqlite3.h (e.g. unpacked from sqlite.org)
#   npm                    better-sqlite3@12.11.1 ships SQLite 3.53.2 in deps/sqlite3 (the registry is
#                          reachable where sqlite.org is not); better-sqlite3@9.4.0 ships 3.45.1, the
#                          version the published SQLiteOS was built with (kernel-scripts/published/)
# The files are never edited here: nofloat.py writes an edited copy at build time.
#
#   fetch.sh [--version 3.53.2|3.45.1] [DEST]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
version=3.53.2
if [ "${1:-}" = --version ]; then version="$2"; shift 2; fi
case "$version" in
  3.53.2) pkg=better-sqlite3@12.11.1 dest="${1:-$root/.cache/sqlite}" ;;
  3.45.1) pkg=better-sqlite3@9.4.0 dest="${1:-$root/.cache/sqlite-3.45.1}" ;;
  *) echo "fetch.sh: no source known for SQLite $version (3.53.2, 3.45.1)" >&2; exit 2 ;;
esac
mkdir -p "$dest"
# The version a sqlite3.h says it is (a copy of another version never stands in for this one).
is_version() { grep -q "^#define SQLITE_VERSION  *\"$version\"" "$1/sqlite3.h"; }
if [ -s "$dest/sqlite3.c" ] && [ -s "$dest/sqlite3.h" ]; then
  is_version "$dest" || { echo "fetch.sh: $dest holds another SQLite than $version: remove it" >&2; exit 1; }
  echo "$dest"; exit 0
fi
if [ -n "${SQLITE_AMALGAMATION:-}" ]; then
  for f in sqlite3.c sqlite3.h; do
    [ -s "$SQLITE_AMALGAMATION/$f" ] || { echo "fetch.sh: $SQLITE_AMALGAMATION/$f is missing" >&2; exit 1; }
  done
  is_version "$SQLITE_AMALGAMATION" || { echo "fetch.sh: SQLITE_AMALGAMATION ($SQLITE_AMALGAMATION) is not SQLite $version" >&2; exit 1; }
  cp "$SQLITE_AMALGAMATION/sqlite3.c" "$SQLITE_AMALGAMATION/sqlite3.h" "$dest/"
  echo "$dest"; exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$pkg" >/dev/null) || { echo "fetch.sh: npm pack $pkg failed (no registry?); set SQLITE_AMALGAMATION" >&2; exit 1; }
tar xzf "$tmp"/better-sqlite3-*.tgz -C "$tmp" package/deps/sqlite3/sqlite3.c package/deps/sqlite3/sqlite3.h
is_version "$tmp/package/deps/sqlite3" ||
  { echo "fetch.sh: $pkg does not carry SQLite $version" >&2; exit 1; }
cp "$tmp/package/deps/sqlite3/sqlite3.c" "$tmp/package/deps/sqlite3/sqlite3.h" "$dest/"
echo "$dest"

#!/usr/bin/env bash
# checkpatch.pl --strict on the companion patch's own C (sqliteos/), as a kernel maintainer runs it on a
# patch. What it flags and we keep is excused here, per file, each for its one reason, and nowhere else;
# anything else it says fails the run.
#
#   checkpatch.sh LINUX_TREE        the tree whose scripts/checkpatch.pl to use (any 6.x)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tree="$(cd "${1:?usage: checkpatch.sh LINUX_TREE}" && pwd)"
cp="$tree/scripts/checkpatch.pl"
[ -f "$cp" ] || { echo "checkpatch.sh: no $cp" >&2; exit 2; }

declare -A excused=(
  # SQLite's VFS API names the members we fill (xOpen, szOsFile, iVersion): not ours to rename.
  [vfs.c]=CAMELCASE
  # The one place that says how the trees we build differ (5.15, 6.1, 6.12); the version test reads
  # as the kernel's own compatibility headers write it.
  [compat.h]=LINUX_VERSION_CODE,CONSTANT_COMPARISON
  # SQL statements split across lines to be read; they are no message anyone greps for.
  [sql.c]=SPLIT_STRING
  # The schema's SQL, as above; fail_sqlite= is documented with the other parameters in
  # kernel-scripts/README.md (the patch does not edit Documentation/).
  [db.c]=SPLIT_STRING,UNDOCUMENTED_SETUP
  # The layout record's LAYOUT_FIELD(s, f) names a struct and a field (stringified, offsetof,
  # sizeof_field), never an expression that could have a side effect.
  [sqliteos.h]=MACRO_ARG_REUSE
)

# One checkpatch run per list of excusals (each run first reads the tree's include/ for CamelCase).
run() { # IGNORE FILE...
  local ignore="$1"; shift
  # From the tree's own folder: inside a git checkout (ours) checkpatch also runs spdxcheck.py.
  (cd "$tree" && perl "$cp" --root="$tree" --strict --terse --show-types --ignore "$ignore" -f "$@" 2>&1) |
    grep -v '^total: ' || true
}
plain=()
for f in "$here"/sqliteos/*.c "$here"/sqliteos/*.h; do
  [ -n "${excused[$(basename "$f")]:-}" ] || plain+=("$f")
done
out=$(run "" "${plain[@]}"; for name in "${!excused[@]}"; do run "${excused[$name]}" "$here/sqliteos/$name"; done)
n=$(ls "$here"/sqliteos/*.[ch] | wc -l)
if [ -n "$out" ]; then
  echo "$out"
  echo "checkpatch --strict: findings above" >&2
  exit 1
fi
echo "checkpatch --strict: $n files clean (excused: ${!excused[*]})"

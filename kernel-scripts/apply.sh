#!/usr/bin/env bash
# Applies the SQLiteOS companion patch to a kernel tree, idempotently:
#   - copies kernel-scripts/sqliteos/ to TREE/sqliteos/ (replacing an older copy),
#   - adds `obj-$(CONFIG_SQLITEOS) += sqliteos/` to TREE/Kbuild (before 6.1: `core-$(CONFIG_SQLITEOS)
#     += sqliteos/` to TREE/Makefile) and `source "sqliteos/Kconfig"` to TREE/Kconfig,
#   - adds the pid_store hooks to copy_process(), ksys_unshare() and unshare_files() (kernel/fork.c)
#     and do_exit() (kernel/exit.c), and
#     F_GETPIPE_SZ / F_SETPIPE_SZ for SQL pipes to pipe_fcntl() (fs/pipe.c),
#   - adds syscalls 548-558 to arch/x86/entry/syscalls/syscall_64.tbl and declares them conditional in
#     kernel/sys_ni.c (so a kernel without CONFIG_SQLITEOS still links); a tree patched by an older
#     version gains the ones it lacks.
# It knows Microsoft's WSL2 5.15 (linux-msft-wsl-5.15.*, the paper's) and Linux 6.1 to 6.12 (the tests
# build WSL2 5.15.146.1, Debian's 6.1 and Debian's 6.12; WSL2's 6.6 lies between). Anything else, and a
# tree that still carries the published SQLiteOS, is refused with the reason.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tree="${1:-}"
die() { echo "apply.sh: $*" >&2; exit 1; }
[ -n "$tree" ] || die "usage: apply.sh KERNEL_TREE"
[ -f "$tree/Makefile" ] && [ -f "$tree/Kbuild" ] && [ -f "$tree/Kconfig" ] || die "$tree is not a kernel tree (no Makefile, Kbuild and Kconfig)"
ver=$(awk -F' = ' '/^VERSION =/{v=$2} /^PATCHLEVEL =/{p=$2} END{print v"."p}' "$tree/Makefile")
case "$ver" in
  6.1 | 6.12) kind="Linux $ver" ;;
  5.15) [ -f "$tree/Microsoft/config-wsl" ] || die "$tree is Linux 5.15 but not Microsoft's WSL2 tree (no Microsoft/config-wsl)"; kind="WSL2 5.15" ;;
  6.[2-9] | 6.1[01])
    kind="Linux $ver"
    echo "apply.sh: note: Linux $ver is not built here; the patch is tested on WSL2 5.15, 6.1 and 6.12, and $ver lies between them" >&2 ;;
  *) die "$tree is Linux $ver: the patch is made for Microsoft's WSL2 5.15 and for Linux 6.1 to 6.12" ;;
esac
[ ! -f "$tree/ksqlite/ksqlite.c" ] || die "$tree carries the published SQLiteOS (ksqlite/): take it out first with: kernel-scripts/kernel.sh unpublish $tree"
tbl="$tree/arch/x86/entry/syscalls/syscall_64.tbl"
[ -f "$tbl" ] || die "$tree has no $tbl"
# The SQLiteOS syscalls in number order from 548: the published ABI's ten, then ours (558
# sql_pipe2: 552 with flags). The one list of them here.
syscalls=(hello_world ksqlite_query sql_pipe_read sql_pipe_write sql_pipe sql_start_transaction
  sql_rollback_transaction sql_start_savepoint sql_release_savepoint sql_rollback_savepoint
  sql_pipe2)
first=548
last=$((first + ${#syscalls[@]} - 1))
# Their numbers must be free (or already ours).
names=$(IFS='|'; echo "${syscalls[*]}")
taken=$(awk -v lo="$first" -v hi="$last" -v re="^($names)\$" '$1>=lo && $1<=hi && $3 !~ re {print $1" "$3}' "$tbl")
[ -z "$taken" ] || die "syscall numbers already used in $tbl: $taken"

# sqliteos/ plus the float-free amalgamation, made here and never committed. Files are copied only
# when they differ, so a warm build does not recompile SQLite.
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp -r "$here/sqliteos/." "$stage/"
amalgamation="$(bash "$here/sqlite/fetch.sh")"
python3 "$here/sqlite/nofloat.py" "$amalgamation/sqlite3.c" "$stage/sqlite3.c"
cp "$amalgamation/sqlite3.h" "$stage/sqlite3.h"
cp "$here/sqlite/flags" "$stage/sqlite.flags"
mkdir -p "$tree/sqliteos"
(cd "$stage" && find . -type f) | while read -r f; do
  mkdir -p "$tree/sqliteos/$(dirname "$f")"
  cmp -s "$stage/$f" "$tree/sqliteos/$f" || cp "$stage/$f" "$tree/sqliteos/$f"
done
(cd "$tree/sqliteos" && find . -type f) | while read -r f; do
  case "$f" in *.o|*.cmd|*.a|modules.order|*.mod*) continue ;; esac
  [ -e "$stage/$f" ] || rm -f "$tree/sqliteos/$f"
done
if grep -qE '^obj-y[[:space:]]+\+= kernel/' "$tree/Kbuild"; then
  # 6.1 on: the top Kbuild lists the folders (commit 5750121ae738, "kbuild: list sub-directories in ./Kbuild").
  grep -qx 'obj-$(CONFIG_SQLITEOS) += sqliteos/' "$tree/Kbuild" || printf '\nobj-$(CONFIG_SQLITEOS) += sqliteos/\n' >> "$tree/Kbuild"
else
  # Before: the top Makefile's core-y does.
  grep -qx 'core-$(CONFIG_SQLITEOS) += sqliteos/' "$tree/Makefile" ||
    sed -i '/^core-y[[:space:]]*+= kernel\//a core-$(CONFIG_SQLITEOS) += sqliteos/' "$tree/Makefile"
  grep -qx 'core-$(CONFIG_SQLITEOS) += sqliteos/' "$tree/Makefile" || die "$tree/Makefile: no 'core-y += kernel/' line to add sqliteos/ after"
fi
grep -qx 'source "sqliteos/Kconfig"' "$tree/Kconfig" || printf '\nsource "sqliteos/Kconfig"\n' >> "$tree/Kconfig"
# The table's SQLiteOS block, in number order at its end (scripts/syscalltbl.sh wants the table sorted):
# written again whole when it is not exactly this, so a tree patched by an older version gains the
# lines it lacks in their place.
block=$(printf '\n# SQLiteOS (published ABI numbers, then ours; x32 uses 512-547)\n'
  for i in "${!syscalls[@]}"; do printf '%d\tcommon\t%s\t\tsys_%s\n' $((first + i)) "${syscalls[$i]}" "${syscalls[$i]}"; done)
if [ "$(tail -n $(( ${#syscalls[@]} + 2 )) "$tbl")" != "$block" ] || [ "$(grep -c '^# SQLiteOS' "$tbl")" != 1 ]; then
  awk -v re="^sys_($names)\$" '/^# SQLiteOS / || ($1 ~ /^[0-9]+$/ && $4 ~ re) { next } { print }' "$tbl" |
    sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' > "$tbl.new"
  printf '%s\n' "$block" >> "$tbl.new"
  mv "$tbl.new" "$tbl"
fi
# Every SQLiteOS syscall is conditional: -ENOSYS when not built (CONFIG_SQLITEOS=n, or not written yet).
ni="$tree/kernel/sys_ni.c"
[ -f "$ni" ] || die "$tree has no kernel/sys_ni.c"
grep -q "COND_SYSCALL(${syscalls[0]});" "$ni" || printf '\n/* SQLiteOS (CONFIG_SQLITEOS) */\n' >> "$ni"
for s in "${syscalls[@]}"; do
  grep -q "^COND_SYSCALL($s);" "$ni" || printf 'COND_SYSCALL(%s);\n' "$s" >> "$ni"
done
# The task hooks: a header, and one call each in copy_process() and do_exit().
mkdir -p "$tree/include/linux"
cmp -s "$here/include/linux/sqliteos.h" "$tree/include/linux/sqliteos.h" || cp "$here/include/linux/sqliteos.h" "$tree/include/linux/sqliteos.h"
hook() { # FILE ANCHOR CALL: add the include, and CALL on the line after ANCHOR, once
  python3 - "$tree/$1" "$2" "$3" <<'PY' || die "$1: no line '$2' to hook after"
import sys
path, anchor, call = sys.argv[1:]
src = open(path).read()
lines = src.split("\n")
if not any(l.strip() == anchor for l in lines):
    sys.exit(1)
if "#include <linux/sqliteos.h>" not in src:
    i = next(n for n, l in enumerate(lines) if l.startswith("#include <linux/"))
    lines.insert(i, "#include <linux/sqliteos.h>")
if not any(l.strip() == call for l in lines):
    i = next(n for n, l in enumerate(lines) if l.strip() == anchor)
    indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
    lines.insert(i + 1, indent + call)
out = "\n".join(lines)
if out != src:  # unchanged files keep their time, so a warm build does not recompile them
    open(path, "w").write(out)
PY
}
hook kernel/fork.c 'copy_oom_score_adj(clone_flags, p);' 'sqliteos_fork(p, clone_flags);'
hook kernel/exit.c 'exit_signals(tsk);  /* sets PF_EXITING */' 'sqliteos_exit(tsk);'
hook kernel/fork.c 'perf_event_namespaces(current);' 'if (new_fd) sqliteos_unshare_files(current);'
hook kernel/fork.c 'put_files_struct(old);' 'sqliteos_unshare_files(task);'
hook fs/pipe.c 'pipe = get_pipe_info(file, false);' 'if (!pipe && sqliteos_is_pipe(file)) return sqliteos_pipe_fcntl(file, cmd, arg);'
echo "apply.sh: SQLiteOS applied to $tree ($kind)"

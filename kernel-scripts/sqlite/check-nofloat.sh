#!/usr/bin/env bash
# Checks the no-floating-point edit of the SQLite amalgamation without building a kernel: fetch it, run
# nofloat.py, compile it with the kernel's -mgeneral-regs-only and the flags the kernel build will use,
# and verify that (1) it compiles, (2) no SSE or x87 instruction is left in the object, and (3) it needs
# exactly the C library functions the kernel provides or our glue supplies.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$(bash "$here/fetch.sh")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 "$here/nofloat.py" "$src/sqlite3.c" "$work/sqlite3.c"
cp "$src/sqlite3.h" "$work/"
# shellcheck disable=SC2046
gcc -c -O2 -mgeneral-regs-only -mno-red-zone -fno-asynchronous-unwind-tables $(cat "$here/flags") "$work/sqlite3.c" -o "$work/sqlite3.o"
fp=$(objdump -d "$work/sqlite3.o" | grep -cE '%xmm|%ymm|%st\b|%st\(' || true)
if [ "$fp" != 0 ]; then
  echo "check-nofloat: $fp instruction(s) still use SSE or x87 registers:" >&2
  objdump -d "$work/sqlite3.o" | grep -E '%xmm|%ymm|%st\b|%st\(' | head >&2
  exit 1
fi
undefined=$(nm "$work/sqlite3.o" | awk '$1=="U"{print $2}' | sort | tr '\n' ' ')
expected="gmtime_r memchr memcmp memcpy memmove memset sqlite3_os_end sqlite3_os_init strchr strcmp strcspn strftime strlen strncmp strrchr strspn "
if [ "$undefined" != "$expected" ]; then
  echo "check-nofloat: undefined symbols changed:" >&2
  echo "  got:      $undefined" >&2
  echo "  expected: $expected" >&2
  exit 1
fi
version=$(grep -m1 '^#define SQLITE_VERSION ' "$src/sqlite3.c" | awk '{print $3}' | tr -d '"')
echo "check-nofloat: SQLite $version compiles with -mgeneral-regs-only: no SSE/x87 instruction, $(echo "$undefined" | wc -w) libc/glue symbols"
# The same edited engine in user space (its own unix VFS), on the statements the kernel will run.
flags=$(sed -e 's/-DSQLITE_OS_OTHER=1//' "$here/flags")
# shellcheck disable=SC2086
gcc -O1 -w $flags -I"$work" "$here/selftest.c" "$work/sqlite3.c" -o "$work/selftest" -lm
"$work/selftest"

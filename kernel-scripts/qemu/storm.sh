#!/usr/bin/env bash
# The storm of kernel-scripts/tests/storm.c at a size of your choosing, for reliability figures:
#   bash kernel-scripts/qemu/storm.sh IMAGE OPERATIONS [KILLS] [TIMEOUT_S]
# boots IMAGE (a companion kernel, e.g. .cache/kbuild/arch/x86/boot/bzImage or the checking kernel in
# .cache/kbuild-debug) under QEMU TCG with `sqliteos-tests --storm OPERATIONS KILLS` as the only
# program, then prints its line, any kernel report, and on a kmemleak kernel the leaks two scans find.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$here/guest-lib.sh"
image="${1:?usage: storm.sh IMAGE OPERATIONS [KILLS] [TIMEOUT_S]}" ops="${2:?operations}"
kills="${3:-16}" limit="${4:-1800}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
gcc -static -O2 -Wall -pthread -o "$work/sqliteos-tests" "$root"/kernel-scripts/tests/*.c
make_initramfs "$work/root" "/bin/sqliteos-tests --storm $ops $kills
dmesg | grep -E 'BUG|WARNING|KASAN' | head -5
leak=/sys/kernel/debug/kmemleak
if [ -w \$leak ]; then echo scan > \$leak; sleep 6; echo scan > \$leak; echo kmemleak: \$(grep -c unreferenced \$leak) objects; fi" "$work/sqliteos-tests"
timeout "$limit" qemu-system-x86_64 -accel tcg -m 1024 -nographic -no-reboot -net none -kernel "$image" \
  -initrd "$work/root.cpio.gz" -append "console=ttyS0 panic=-1 loglevel=3" 2>&1 | console_clean |
  grep -E 'storm:|BUG|WARNING|KASAN|kmemleak'

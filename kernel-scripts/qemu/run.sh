#!/usr/bin/env bash
# npm run test:kernel. Builds the patched Debian 6.1 kernel three ways (tinyconfig + config.fragment;
# the same without CONFIG_SQLITEOS, which must still link; and a checking kernel with lockdep and
# KASAN), reusing the builds in .cache between runs; builds the static guest tests and the
# sqliteos-inspect helper into a busybox initramfs; boots both kernels under QEMU (TCG: the KVM here
# cannot boot a normal kernel) with a timeout, and passes on the guest's "P passed, F failed" line
# with no BUG, WARNING, lockdep or KASAN report in the console log.
set -euo pipefail
source "$(dirname "$0")/common.sh"
build="$cache/kbuild"

# The apply script: a second run changes nothing, and a tree it does not know is refused.
tbl="$src/arch/x86/entry/syscalls/syscall_64.tbl"
sums() { cat "$tbl" "$src/Kbuild" "$src/Kconfig" "$src/kernel/sys_ni.c" "$src/kernel/fork.c" "$src/kernel/exit.c" "$src/fs/pipe.c" | md5sum; }
before=$(sums)
bash "$root/kernel-scripts/apply.sh" "$src" >/dev/null
[ "$(sums)" = "$before" ] || { echo "qemu/run.sh: apply.sh is not idempotent" >&2; exit 1; }
[ "$(grep -c 'sys_hello_world' "$tbl")" = 1 ] || { echo "qemu/run.sh: syscall 548 is in the table more than once" >&2; exit 1; }
fake="$(mktemp -d)"
printf 'VERSION = 5\nPATCHLEVEL = 10\n' > "$fake/Makefile"
touch "$fake/Kbuild" "$fake/Kconfig"
if bash "$root/kernel-scripts/apply.sh" "$fake" 2>/dev/null; then echo "qemu/run.sh: apply.sh accepted a Linux 5.10 tree" >&2; exit 1; fi
rm -rf "$fake"
echo "   apply.sh: idempotent, refuses an unknown tree"
echo "== checkpatch.pl --strict on sqliteos/"
bash "$root/kernel-scripts/checkpatch.sh" "$src" | sed 's/^/   /'
[ "${PIPESTATUS[0]}" = 0 ] || { echo "qemu/run.sh: checkpatch found the above" >&2; exit 1; }

echo "== building bzImage (tinyconfig + config.fragment, -j$jobs)"
build_kernel "$build"
with=$(stat -c %s "$build/arch/x86/boot/bzImage")

# The same kernel without CONFIG_SQLITEOS must still build (the syscalls fall back to -ENOSYS), and the
# difference is what the patch costs in image size.
echo "== building bzImage without CONFIG_SQLITEOS"
nobuild="$cache/kbuild-nosqliteos"
build_kernel "$nobuild" no-sqliteos
without=$(stat -c %s "$nobuild/arch/x86/boot/bzImage")
echo "   CONFIG_SQLITEOS adds $(( with - without )) bytes"

# The checking kernel: lockdep, KASAN and might-sleep checks; the same tests must pass with no report.
echo "== building the checking bzImage (+ debug.fragment: PROVE_LOCKING, KASAN)"
debugbuild="$cache/kbuild-debug"
build_kernel "$debugbuild" debug

echo "== booting under QEMU (TCG)"
t0=$(date +%s)
boot_checks "$build/arch/x86/boot/bzImage" "$guest/console.log" 120 || exit 1
tail -1 "$guest/console.log"
echo "   $(( $(date +%s) - t0 )) s"
echo "== booting the checking kernel (lockdep + KASAN)"
t0=$(date +%s)
boot_checks "$debugbuild/arch/x86/boot/bzImage" "$guest/console-debug.log" 900 || exit 1
tail -1 "$guest/console-debug.log"
checking_proofs "$guest/console-debug.log" "Debian 6.1" || exit 1
echo "   lockdep and KASAN were on, lockdep still on at the end, kmemleak found no leak, fault injection ran"
echo "   $(( $(date +%s) - t0 )) s"

#!/usr/bin/env bash
# Builds the patched Debian 6.1 kernel (tinyconfig + config.fragment, reusing .cache/kbuild between runs),
# the static guest tests and a busybox initramfs, boots it under QEMU (TCG: the KVM here cannot boot a
# normal kernel) with a timeout around everything, and passes on the guest's "P passed, F failed" line.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="$root/.cache"
src="$cache/linux-source-6.1"
build="$cache/kbuild"
guest="$cache/guest"
jobs="$(nproc)"

need=()
for p in linux-source-6.1 bc bison flex libelf-dev libssl-dev cpio qemu-system-x86 busybox-static xz-utils; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "qemu/run.sh: needs ${need[*]} (apt-get install them)" >&2; exit 1; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

mkdir -p "$cache" "$build" "$guest"
if [ ! -f "$src/Makefile" ]; then
  echo "== unpacking linux-source-6.1"
  tar xJf /usr/src/linux-source-6.1.tar.xz -C "$cache"
fi
bash "$root/kernel-scripts/apply.sh" "$src"
# The apply script: a second run changes nothing, and a tree it does not know is refused.
tbl="$src/arch/x86/entry/syscalls/syscall_64.tbl"
sums() { cat "$tbl" "$src/Kbuild" "$src/Kconfig" "$src/kernel/sys_ni.c" "$src/kernel/fork.c" "$src/kernel/exit.c" | md5sum; }
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

# tinyconfig + fragments, out of tree in $1 (reused between runs); fails if the config lost a line.
build_kernel() {
  local out="$1"; shift
  mkdir -p "$out"
  cat "$@" > "$out/fragment"
  make -s -C "$src" O="$out" tinyconfig >/dev/null
  "$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$out/fragment" >/dev/null
  make -s -C "$src" O="$out" olddefconfig >/dev/null
  missing=$(grep -E '^CONFIG_' "$out/fragment" | while read -r line; do grep -qx "$line" "$out/.config" || echo "$line"; done)
  [ -z "$missing" ] || { echo "qemu/run.sh: the kernel config lost: $missing" >&2; exit 1; }
  local t0; t0=$(date +%s)
  make -s -C "$src" O="$out" -j"$jobs" bzImage 2> "$out/build.log" || { cat "$out/build.log" >&2; exit 1; }
  echo "   built in $(( $(date +%s) - t0 )) s: $(stat -c %s "$out/arch/x86/boot/bzImage") bytes"
}

echo "== building bzImage (tinyconfig + config.fragment, -j$jobs)"
build_kernel "$build" "$here/config.fragment"
with=$(stat -c %s "$build/arch/x86/boot/bzImage")

# The same kernel without CONFIG_SQLITEOS must still build (the syscalls fall back to -ENOSYS), and the
# difference is what the patch costs in image size.
echo "== building bzImage without CONFIG_SQLITEOS"
nobuild="$cache/kbuild-nosqliteos"
mkdir -p "$nobuild"
grep -v '^CONFIG_SQLITEOS=' "$here/config.fragment" > "$nobuild/no-sqliteos.fragment"
build_kernel "$nobuild" "$nobuild/no-sqliteos.fragment"
without=$(stat -c %s "$nobuild/arch/x86/boot/bzImage")
echo "   CONFIG_SQLITEOS adds $(( with - without )) bytes"

# The checking kernel: lockdep, KASAN and might-sleep checks; the same tests must pass with no report.
echo "== building the checking bzImage (+ debug.fragment: PROVE_LOCKING, KASAN)"
debugbuild="$cache/kbuild-debug"
build_kernel "$debugbuild" "$here/config.fragment" "$here/debug.fragment"

echo "== guest tests and initramfs"
rm -rf "$guest/root" && mkdir -p "$guest/root/bin" "$guest/root/proc" "$guest/root/dev" "$guest/root/sys"
gcc -static -O2 -Wall -pthread -o "$guest/root/bin/sqliteos-tests" "$root"/kernel-scripts/tests/*.c
gcc -static -O2 -Wall -o "$guest/root/bin/sqliteos-inspect" "$root/kernel-scripts/tools/sqliteos-inspect.c"
cp /bin/busybox "$guest/root/bin/busybox"
for app in sh mount echo reboot cat dmesg grep sed; do ln -sf busybox "$guest/root/bin/$app"; done
cat > "$guest/root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t debugfs debugfs /sys/kernel/debug
/bin/sqliteos-tests
echo "guest: tests exited with $?"
# On the checking kernel: proof that lockdep and KASAN ran, and that lockdep is still on at the end.
dmesg | grep -E 'KernelAddressSanitizer initialized|Lock dependency validator' | sed 's/^/guest: /'
[ -e /proc/lockdep_stats ] && grep debug_locks /proc/lockdep_stats | sed 's/^ */guest: lockdep /'
reboot -f
INIT
chmod +x "$guest/root/init"
(cd "$guest/root" && find . | cpio -o -H newc --quiet | gzip -1) > "$guest/initramfs.cpio.gz"

# Boots $1 with the initramfs (timeout $3 s) and judges $2, the console log: the guest's summary line,
# and no BUG, WARNING, lockdep or KASAN report, no panic.
boot() {
  local kernel="$1" log="$2" limit="$3" status summary
  set +e
  timeout "$limit" qemu-system-x86_64 -accel tcg -m 512 -nographic -no-reboot -net none \
    -kernel "$kernel" -initrd "$guest/initramfs.cpio.gz" \
    -append "console=ttyS0 panic=-1 loglevel=5" > "$log.raw" 2>&1
  status=$?
  set -e
  # The serial console ends lines with CR LF and the firmware paints with escape sequences.
  sed -E -e 's/\x1b(\[[0-9;?]*[A-Za-z]|c)//g' -e 's/\r$//' "$log.raw" > "$log"
  grep -E '^(ok|not ok) [0-9]+ - ' "$log" | grep -v '^ok' || true
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 || true)
  if [ "$status" = 124 ]; then echo "qemu/run.sh: QEMU did not finish within $limit s; console log: $log" >&2; tail -20 "$log" >&2; return 1; fi
  if [ -z "$summary" ]; then echo "qemu/run.sh: the guest printed no result; console log: $log" >&2; tail -30 "$log" >&2; return 1; fi
  # lockdep's reports start with WARNING:, KASAN's with BUG:; the console shows warnings (loglevel=5)
  if grep -qE 'BUG:|WARNING:|Kernel panic|INFO: task .* blocked|general protection' "$log"; then
    echo "qemu/run.sh: the kernel logged a report ($log):" >&2
    grep -E -A 12 'BUG:|WARNING:|Kernel panic|INFO: task .* blocked|general protection' "$log" | head -60 >&2
    return 1
  fi
  echo "$summary"
  case "$summary" in *", 0 failed") return 0 ;; *) return 1 ;; esac
}

echo "== booting under QEMU (TCG)"
t0=$(date +%s)
boot "$build/arch/x86/boot/bzImage" "$guest/console.log" 120 || exit 1
echo "   $(( $(date +%s) - t0 )) s"
echo "== booting the checking kernel (lockdep + KASAN)"
t0=$(date +%s)
boot "$debugbuild/arch/x86/boot/bzImage" "$guest/console-debug.log" 600 || exit 1
for proof in 'KernelAddressSanitizer initialized' 'Lock dependency validator' 'lockdep debug_locks: +1'; do
  grep -qE "^guest: .*$proof" "$guest/console-debug.log" || { echo "qemu/run.sh: the checking boot does not show '$proof'" >&2; exit 1; }
done
echo "   lockdep and KASAN were on, and lockdep was still on at the end"
echo "   $(( $(date +%s) - t0 )) s"

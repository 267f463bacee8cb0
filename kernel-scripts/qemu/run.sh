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

echo "== configuring (tinyconfig + config.fragment)"
make -s -C "$src" O="$build" tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" "$here/config.fragment" >/dev/null
make -s -C "$src" O="$build" olddefconfig >/dev/null
missing=$(grep -E '^CONFIG_' "$here/config.fragment" | while read -r line; do grep -qx "$line" "$build/.config" || echo "$line"; done)
[ -z "$missing" ] || { echo "qemu/run.sh: the kernel config lost: $missing" >&2; exit 1; }

echo "== building bzImage (-j$jobs)"
t0=$(date +%s)
make -s -C "$src" O="$build" -j"$jobs" bzImage
with=$(stat -c %s "$build/arch/x86/boot/bzImage")
echo "   built in $(( $(date +%s) - t0 )) s: $with bytes"

# The same kernel without CONFIG_SQLITEOS must still build (the syscalls fall back to -ENOSYS), and the
# difference is what the patch costs in image size.
echo "== building bzImage without CONFIG_SQLITEOS"
nobuild="$cache/kbuild-nosqliteos"
mkdir -p "$nobuild"
make -s -C "$src" O="$nobuild" tinyconfig >/dev/null
grep -v '^CONFIG_SQLITEOS=' "$here/config.fragment" > "$nobuild/fragment"
"$src/scripts/kconfig/merge_config.sh" -m -O "$nobuild" "$nobuild/.config" "$nobuild/fragment" >/dev/null
make -s -C "$src" O="$nobuild" olddefconfig >/dev/null
make -s -C "$src" O="$nobuild" -j"$jobs" bzImage
without=$(stat -c %s "$nobuild/arch/x86/boot/bzImage")
echo "   without: $without bytes; CONFIG_SQLITEOS adds $(( with - without )) bytes"

echo "== guest tests and initramfs"
rm -rf "$guest/root" && mkdir -p "$guest/root/bin" "$guest/root/proc" "$guest/root/dev" "$guest/root/sys"
gcc -static -O2 -Wall -o "$guest/root/bin/sqliteos-tests" "$root/kernel-scripts/tests/sqliteos-tests.c"
cp /bin/busybox "$guest/root/bin/busybox"
for app in sh mount echo reboot cat; do ln -sf busybox "$guest/root/bin/$app"; done
cat > "$guest/root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
/bin/sqliteos-tests
echo "guest: tests exited with $?"
reboot -f
INIT
chmod +x "$guest/root/init"
(cd "$guest/root" && find . | cpio -o -H newc --quiet | gzip -1) > "$guest/initramfs.cpio.gz"

echo "== booting under QEMU (TCG)"
log="$guest/console.log"
set +e
timeout 120 qemu-system-x86_64 -accel tcg -m 256 -nographic -no-reboot -net none \
  -kernel "$build/arch/x86/boot/bzImage" -initrd "$guest/initramfs.cpio.gz" \
  -append "console=ttyS0 panic=-1 loglevel=4" > "$log.raw" 2>&1
status=$?
set -e
# The serial console ends lines with CR LF and the firmware paints with escape sequences.
sed -E -e 's/\x1b(\[[0-9;?]*[A-Za-z]|c)//g' -e 's/\r$//' "$log.raw" > "$log"
grep -E '^(ok|not ok) [0-9]+ - ' "$log" || true
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 || true)
if [ "$status" = 124 ]; then echo "qemu/run.sh: QEMU did not finish within 120 s; console log: $log" >&2; tail -20 "$log" >&2; exit 1; fi
if [ -z "$summary" ]; then echo "qemu/run.sh: the guest printed no result; console log: $log" >&2; tail -30 "$log" >&2; exit 1; fi
if grep -qE 'BUG:|WARNING:|Kernel panic' "$log"; then echo "qemu/run.sh: the kernel logged a BUG, WARNING or panic:" >&2; grep -E 'BUG:|WARNING:|Kernel panic' "$log" >&2; exit 1; fi
echo "$summary"
case "$summary" in *", 0 failed") exit 0 ;; *) exit 1 ;; esac

# The guest pieces shared by kernel.sh (the guest checks) and the QEMU harness (common.sh: benchmarks):
# a busybox initramfs and the console cleaned of escape codes. No side effects when sourced.

# An initramfs in $1.cpio.gz: busybox, the given static programs in /bin, and $2 as /init's body
# (after proc, sysfs, devtmpfs (/dev/kmsg) and debugfs are mounted; the guest powers off at the end).
make_initramfs() {
  local out="$1" body="$2"; shift 2
  rm -rf "$out" && mkdir -p "$out/bin" "$out/proc" "$out/dev" "$out/sys"
  cp "$@" "$out/bin/"
  cp /bin/busybox "$out/bin/busybox"
  for app in sh mount echo reboot cat dmesg grep sed sleep; do ln -sf busybox "$out/bin/$app"; done
  # (the firmware leaves the console mid-line: the first echo ends that line)
  { printf '#!/bin/sh\necho\nmount -t proc proc /proc\nmount -t sysfs sys /sys\nmount -t devtmpfs dev /dev\n'
    printf 'mount -t debugfs debugfs /sys/kernel/debug\n%s\nreboot -f\n' "$body"; } > "$out/init"
  chmod +x "$out/init"
  (cd "$out" && find . | cpio -o -H newc --quiet | gzip -1) > "$out.cpio.gz"
}

# stdin to stdout, line by line: the serial console ends lines with CR LF and the firmware paints with
# escape sequences.
console_clean() {
  sed -u -E -e 's/\x1b(\[[0-9;?]*[A-Za-z]|c)//g' -e 's/\r$//'
}

# The published SQLiteOS tarball (sqliteos-published-5.15.146.1.tar.xz): SQLITEOS_PUBLISHED_TARBALL, else
# shared/kernels beside checkout $1, or beside the checkout it was cloned from (a clean clone elsewhere,
# as CI's), or at this workplace's /work/shared. Prints its path, or says what to set and fails.
published_tarball() {
  local name=sqliteos-published-5.15.146.1.tar.xz origin at
  if [ -n "${SQLITEOS_PUBLISHED_TARBALL:-}" ]; then
    [ -f "$SQLITEOS_PUBLISHED_TARBALL" ] || { echo "SQLITEOS_PUBLISHED_TARBALL: no file $SQLITEOS_PUBLISHED_TARBALL" >&2; return 1; }
    echo "$SQLITEOS_PUBLISHED_TARBALL"; return 0
  fi
  origin=$(git -C "$1" config --get remote.origin.url 2>/dev/null || true)
  for at in "$1/.." ${origin:+"${origin#file://}/.."} /work; do
    [ -f "$at/shared/kernels/$name" ] && { echo "$at/shared/kernels/$name"; return 0; }
  done
  echo "no published SQLiteOS tarball ($name) beside $1 or its origin: set SQLITEOS_PUBLISHED_TARBALL" >&2
  return 1
}

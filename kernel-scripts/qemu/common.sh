# Shared by run.sh (the tests) and bench.sh (the benchmarks): the packages, the tree with the patch
# applied, out-of-tree kernel builds reused between runs, the busybox initramfs and the QEMU boot.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="$root/.cache"
src="$cache/linux-source-6.1"
guest="$cache/guest"
jobs="$(nproc)"

source "$here/guest-lib.sh"
bash "$root/scripts/setup.sh" kernel

mkdir -p "$cache" "$guest"
# Source, patch and builds go through `sqliteos kernel` (the extension's Kernel commands run the same).
sqliteos() { node "$root/bin/sqliteos.js" "$@"; }
[ -f "$root/dist/cli.js" ] || (cd "$root" && npm run --silent build >/dev/null)
if [ ! -f "$src/Makefile" ]; then
  echo "== unpacking linux-source-6.1"
  sqliteos kernel source --from debian --dir "$cache" >/dev/null
fi
sqliteos kernel patch --tree "$src" | grep -v '^@@' | tail -1

# tinyconfig + config.fragment + the named fragments of kernel-scripts/qemu (debug, no-sqliteos), out of
# tree in $1 (reused between runs); make's log in $1/build.log, progress and diagnostics on stdout.
build_kernel() {
  local out="$1"; shift
  mkdir -p "$out"
  local frags=()
  for f in "$@"; do frags+=(--fragment "$f"); done
  sqliteos kernel build --tree "$src" --out "$out" --config qemu "${frags[@]}" --jobs "$jobs" --log "$out/build.log" | grep -E '^built |: (error|warning): ' ||
    { echo "qemu: the build failed; make's log: $out/build.log" >&2; tail -30 "$out/build.log" >&2; exit 1; }
  echo "   $(stat -c %s "$out/arch/x86/boot/bzImage") bytes"
}

# Boots kernel $1 with initramfs $2 under TCG (timeout $4 s, $5 MiB of memory, kernel command line
# additions $6); the console log, without escape codes and CRs, goes to $3.
qemu_boot() {
  local status
  set +e
  timeout "$4" qemu-system-x86_64 -accel tcg -m "$5" -nographic -no-reboot -net none \
    -kernel "$1" -initrd "$2" -append "console=ttyS0 panic=-1 loglevel=5 $6" > "$3.raw" 2>&1
  status=$?
  set -e
  console_clean < "$3.raw" > "$3"
  if [ "$status" = 124 ]; then echo "kernel-scripts/qemu: QEMU did not finish within $4 s; console log: $3" >&2; tail -20 "$3" >&2; return 1; fi
  return 0
}

# No BUG, WARNING (lockdep's reports start so), panic or hung task in console log $1.
no_reports() {
  if grep -qE 'BUG:|WARNING:|Kernel panic|INFO: task .* blocked|general protection' "$1"; then
    echo "kernel-scripts/qemu: the kernel logged a report ($1):" >&2
    grep -E -A 12 'BUG:|WARNING:|Kernel panic|INFO: task .* blocked|general protection' "$1" | head -60 >&2
    return 1
  fi
}

# Boots kernel $1 with the guest checks (`sqliteos kernel test`: every check passed, a closing line, no
# BUG, WARNING, lockdep or KASAN report) within $3 s; the console goes to $2, the failed checks to stdout.
boot_checks() {
  local status=0
  sqliteos kernel test --image "$1" --timeout "$3" > "$2" || status=$?
  grep -E '^not ok [0-9]+ - ' "$2" || true
  [ "$status" = 0 ] || { tail -30 "$2" >&2; echo "kernel-scripts/qemu: the guest checks failed on $1; console: $2" >&2; return 1; }
}

# The checking boot's console $1 (of kernel $2, for the message) proves that KASAN and lockdep were on,
# lockdep still on at the end, kmemleak scanned, and the fault-injection checks ran (not skipped).
checking_proofs() {
  local proof
  for proof in 'KernelAddressSanitizer initialized' 'Lock dependency validator' 'lockdep debug_locks: +1' 'kmemleak scanned'; do
    grep -qE "^guest: .*$proof" "$1" || { echo "kernel-scripts/qemu: the checking boot of $2 does not show '$proof'" >&2; return 1; }
  done
  grep -q '^# commit window under failing allocations: ' "$1" ||
    { echo "kernel-scripts/qemu: the checking boot of $2 did not run the fault-injection checks (no fail_sqlite?)" >&2; return 1; }
}

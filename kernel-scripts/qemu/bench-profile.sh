#!/usr/bin/env bash
# Where the time goes, by kernel function: boots the benchmark kernel built with the tick profiler
# (config.fragment + profile.fragment, in .cache/kbuild-prof) with profile=2, runs each workload
# between a reset and a dump of /proc/profile (bench/profdump.c), and names the samples with the
# build's System.map (bench/profile-report.mjs): per workload, the functions with the most samples.
# Usage: bench-profile.sh ["LABEL|GUEST COMMANDS" ...]; with none, the four plain runs below.
# PROFILE_TOP: how many functions (25); BENCH_APPEND: more kernel parameters.
# Under TCG the timer tick is taken where a translated block starts (or where interrupts come back
# on), so a sample lands just after the code that used the time: right per function in the large
# (hundreds of samples), not per instruction.
set -euo pipefail
source "$(dirname "$0")/common.sh"
build="$cache/kbuild-prof"
work="$cache/bench-profile"
mkdir -p "$work"

runs=("$@")
[ ${#runs[@]} -gt 0 ] || runs=(
  "SQL pipe, 64 KiB bandwidth|bw_sqlpipe"
  "stock pipe, 64 KiB bandwidth|bw_sqlpipe --stock"
  "SQL pipe, 1-byte latency|lat_sqlpipe"
  "stock pipe, 1-byte latency|lat_sqlpipe --stock"
)

echo "== building bzImage with the profiler (tinyconfig + config.fragment + profile.fragment)"
build_kernel "$build" profile

echo "== programs and initramfs"
gcc -static -O2 -Wall -o "$work/bw_sqlpipe" "$root/kernel-scripts/bench/pipebench.c"
cp "$work/bw_sqlpipe" "$work/lat_sqlpipe"
gcc -static -O2 -Wall -o "$work/profdump" "$root/kernel-scripts/bench/profdump.c"
script=""
for r in "${runs[@]}"; do
  label="${r%%|*}"; label="${label//\'/}"
  script="$script
profdump reset
${r#*|}
echo 'prof: label $label'
profdump"
done
make_initramfs "$work/root" "export PATH=/bin
echo 32768 > /proc/sys/kernel/pid_max
$script
echo bench: done" "$work/bw_sqlpipe" "$work/lat_sqlpipe" "$work/profdump"

echo "== booting under QEMU (TCG)"
log="$work/console.log"
qemu_boot "$build/arch/x86/boot/bzImage" "$work/root.cpio.gz" "$log" 1500 2048 "tsc=reliable profile=2 ${BENCH_APPEND:-}"
no_reports "$log"
grep -q '^bench: done' "$log" || { echo "bench-profile.sh: the guest did not finish; console log: $log" >&2; tail -30 "$log" >&2; exit 1; }
grep -E 'bandwidth:|latency:' "$log" || true
node "$root/kernel-scripts/bench/profile-report.mjs" "$build/System.map" "$log" "${PROFILE_TOP:-25}"

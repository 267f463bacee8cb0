#!/usr/bin/env bash
# Where the time goes, by kernel function: bench.sh boots the benchmark kernel built with the tick
# profiler (config.fragment + profile.fragment, in .cache/kbuild-profile) with profile=2 and runs each
# workload between a reset and a dump of /proc/profile (bench/profdump.c); the samples are named with
# the build's System.map (bench/profile-report.mjs): per workload, the functions with the most.
# Usage: bench-profile.sh ["LABEL|GUEST COMMANDS" ...]; with none, the four plain runs below.
# PROFILE_TOP: how many functions (25); BENCH_APPEND: more kernel parameters.
# Under TCG the timer tick is taken where a translated block starts (or where interrupts come back
# on), so a sample lands just after the code that used the time: right per function in the large
# (hundreds of samples), not per instruction.
set -euo pipefail
source "$(dirname "$0")/common.sh"
work="$cache/bench-profile"
mkdir -p "$work"

runs=("$@")
[ ${#runs[@]} -gt 0 ] || runs=(
  "SQL pipe, 64 KiB bandwidth|bw_sqlpipe"
  "stock pipe, 64 KiB bandwidth|bw_sqlpipe --stock"
  "SQL pipe, 1-byte latency|lat_sqlpipe"
  "stock pipe, 1-byte latency|lat_sqlpipe --stock"
)
script=""
for r in "${runs[@]}"; do
  label="${r%%|*}"; label="${label//\'/}"
  script="$script
profdump reset
${r#*|}
echo 'prof: label $label'
profdump"
done

gcc -static -O2 -Wall -o "$work/profdump" "$root/kernel-scripts/bench/profdump.c"
BENCH_FRAGMENT=profile BENCH_QUICK=1 BENCH_SCRIPT="$script" BENCH_PROGS="$work/profdump" \
  BENCH_APPEND="profile=2 ${BENCH_APPEND:-}" bash "$here/bench.sh"
node "$root/kernel-scripts/bench/profile-report.mjs" "$cache/kbuild-profile/System.map" \
  "$cache/bench/console.log" "${PROFILE_TOP:-25}"

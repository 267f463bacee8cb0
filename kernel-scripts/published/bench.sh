#!/usr/bin/env bash
# npm run bench:published: the paper's Table 1 beside the published kernel and the companion kernel,
# each against its own stock pipe(2) in the same boot (under TCG only ratios within one boot mean
# anything). The paper's method: 64 KiB chunks with the writer one chunk ahead (bw_sqlpipe --paced,
# configuration "paper"), and 1-byte round trips. The published kernel's runs are short and fixed
# (--published: each of its reads leaks a connection); the others are doubled by the warm-up until a run
# lasts 0.1 s (a rate does not depend on a run's length; a short run is only noisier). Uses the published kernel test:kernel:trees builds (or `sqliteos guest start
# --published`), and qemu/bench.sh for the boots. Consoles and reports in .cache/bench/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
kcache="${SQLITEOS_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sqliteos-companion}"
image="$kcache/kbuild-published/arch/x86/boot/bzImage"
[ -f "$image" ] || { echo "published/bench.sh: no published kernel at $image: build it with npm run test:kernel:trees (or sqliteos guest start --published)" >&2; exit 1; }
runs="--runs 5"
same='bw_sqlpipe --stock --paced RUNS; lat_sqlpipe --stock --trips 100 RUNS'
pub="bw_sqlpipe --published --paced RUNS; lat_sqlpipe --published --trips 100 RUNS; $same"
ours="bw_sqlpipe --paced RUNS; lat_sqlpipe --trips 100 RUNS; $same"
bench="$root/.cache/bench"
echo "==== the published SQLiteOS kernel ($image)"
BENCH_IMAGE="$image" BENCH_SCRIPT="${pub//RUNS/$runs}" bash "$root/kernel-scripts/qemu/bench.sh"
cp "$bench/console.log" "$bench/published.log"
echo "==== the companion kernel"
BENCH_SCRIPT="${ours//RUNS/$runs}" bash "$root/kernel-scripts/qemu/bench.sh"
cp "$bench/console.log" "$bench/companion-paper.log"
for k in published companion-paper; do
  echo "==== $k: SQL pipe / stock pipe"
  node "$root/bin/sqliteos.js" bench report "$bench/$k.log" --emulated | tee "$bench/$k.report"
done
echo "==== the paper's Table 1 (WSL2 on hardware, bandwidth only): 124.8 / 1852.33 MB/s = 0.067 (Ryzen 5 5600),"
echo "     102.18 / 3271.53 MB/s = 0.031 (i5-13600KF)"

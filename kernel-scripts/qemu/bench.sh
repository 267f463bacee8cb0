#!/usr/bin/env bash
# npm run bench:kernel. Boots the patched kernel (the same tinyconfig build as the tests) under QEMU
# with the benchmark programs: bw_sqlpipe / lat_sqlpipe on SQL pipes and on stock pipe(2) in the same
# boot, plain, with the writer 64 chunks ahead, and with 10,000 live processes holding pipes; a
# bystander's forks per second beside a process that forks holding 4096 pipe fds (forkbench.c); and
# lmbench's own bw_pipe / lat_pipe (Debian's lmbench, from its non-free section). Prints lmbench's
# lines, one JSON object per run, and the ratios SQL pipe / stock pipe (`sqliteos bench report`: the
# parser and statistics the extension's report uses). Under TCG only ratios within
# one boot mean anything. BENCH_QUICK=1: the plain runs only (and no lmbench); BENCH_SCRIPT: the
# guest's commands instead of the full set (e.g. BENCH_SCRIPT="bw_sqlpipe --procs 10000");
# BENCH_APPEND: more kernel parameters (bench-ideas.sh: sqliteos.page_size=, sqliteos.auto_vacuum=);
# BENCH_IMAGE: boot that bzImage instead of building .cache/kbuild's (a variant built elsewhere);
# BENCH_FRAGMENT: build with that fragment of this folder too, in .cache/kbuild-FRAGMENT
# (bench-profile.sh: profile); BENCH_PROGS: more static programs for the guest's /bin.
set -euo pipefail
source "$(dirname "$0")/common.sh"
build="$cache/kbuild${BENCH_FRAGMENT:+-$BENCH_FRAGMENT}"
bench="$cache/bench"
mkdir -p "$bench"

image="${BENCH_IMAGE:-$build/arch/x86/boot/bzImage}"
if [ -z "${BENCH_IMAGE:-}" ]; then
  echo "== building bzImage (tinyconfig + config.fragment${BENCH_FRAGMENT:+ + $BENCH_FRAGMENT.fragment})"
  build_kernel "$build" ${BENCH_FRAGMENT:-}
fi

# lmbench's bw_pipe and lat_pipe: the distribution's if installed, else Debian's package, fetched
# with a private apt configuration that adds the non-free section (signed like the rest of Debian).
lmbench="$bench/lmbench/usr/lib/lmbench/bin/x86_64-linux-gnu"
if [ -x /usr/lib/lmbench/bin/x86_64-linux-gnu/bw_pipe ]; then
  lmbench=/usr/lib/lmbench/bin/x86_64-linux-gnu
elif [ ! -x "$lmbench/bw_pipe" ]; then
  echo "== fetching lmbench (Debian non-free)"
  apt="$bench/apt"
  mkdir -p "$apt/lists/partial" "$apt/archives/partial"
  printf 'deb http://deb.debian.org/debian bookworm non-free\n' > "$apt/sources.list"
  opts=(-o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
        -o Dir::State::Lists="$apt/lists" -o Dir::Cache::Archives="$apt/archives" -qq)
  if apt-get "${opts[@]}" update && (cd "$bench" && apt-get "${opts[@]}" download lmbench); then
    dpkg-deb -x "$bench"/lmbench_*.deb "$bench/lmbench"
  else
    echo "   lmbench could not be fetched: its lines are left out" >&2
  fi
fi

echo "== benchmark programs and initramfs"
gcc -static -O2 -Wall -o "$bench/bw_sqlpipe" "$root/kernel-scripts/bench/pipebench.c"
cp "$bench/bw_sqlpipe" "$bench/lat_sqlpipe"
gcc -static -O2 -Wall -o "$bench/fork_bystander" "$root/kernel-scripts/bench/forkbench.c"
progs=("$bench/bw_sqlpipe" "$bench/lat_sqlpipe" "$bench/fork_bystander" ${BENCH_PROGS:-})
script='for a in "" --stock; do bw_sqlpipe $a; lat_sqlpipe $a; done
for a in "" --stock; do bw_sqlpipe $a --ahead 64; done
for a in "" --stock; do bw_sqlpipe $a --procs 10000; lat_sqlpipe $a --procs 10000; done
for a in "" --stock; do fork_bystander $a; done'
if [ -x "$lmbench/bw_pipe" ] && [ -z "${BENCH_QUICK:-}" ]; then
  progs+=("$lmbench/bw_pipe" "$lmbench/lat_pipe")
  script="$script
echo lmbench:; bw_pipe -N 11 2>&1; lat_pipe -N 11 2>&1"
fi
[ -z "${BENCH_QUICK:-}" ] || script=$(echo "$script" | head -1)
[ -z "${BENCH_SCRIPT:-}" ] || script="$BENCH_SCRIPT"
make_initramfs "$bench/root" "export PATH=/bin
# tinyconfig (BASE_SMALL) allows 4096 pids; 10,000 holders need more
echo 32768 > /proc/sys/kernel/pid_max
$script
echo bench: done" "${progs[@]}"
if [ -x "$lmbench/bw_pipe" ] && [ -z "${BENCH_QUICK:-}" ]; then
  # lmbench is linked against glibc: its loader and libc go in too.
  mkdir -p "$bench/root/lib64" "$bench/root/lib/x86_64-linux-gnu"
  cp /lib64/ld-linux-x86-64.so.2 "$bench/root/lib64/"
  cp /lib/x86_64-linux-gnu/libc.so.6 "$bench/root/lib/x86_64-linux-gnu/"
  (cd "$bench/root" && find . | cpio -o -H newc --quiet | gzip -1) > "$bench/root.cpio.gz"
fi

echo "== booting under QEMU (TCG, 2 GiB for the 10,000 processes)"
log="$bench/console.log"
t0=$(date +%s)
# Under TCG the timekeeping watchdog can find the TSC "unstable" while 10,000 processes start and fall
# back to jiffies (4 ms steps), which wrecks the timings: keep the TSC.
qemu_boot "$image" "$bench/root.cpio.gz" "$log" 1500 2048 "tsc=reliable ${BENCH_APPEND:-}"
echo "   $(( $(date +%s) - t0 )) s"
no_reports "$log"
grep -q '^bench: done' "$log" || { echo "bench.sh: the guest did not finish; console log: $log" >&2; tail -30 "$log" >&2; exit 1; }
grep -E 'bandwidth:|latency:|^fork bystander:|^\{"bench":"profile"' "$log"
grep -E '^\{"bench":' "$log" > "$bench/runs.jsonl"
echo "   one JSON object per run: $bench/runs.jsonl"
sqliteos bench report "$log" --emulated

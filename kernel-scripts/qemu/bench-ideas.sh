#!/usr/bin/env bash
# The per-idea measurements that need no rebuild: the quick benchmark (plain bandwidth and latency,
# SQL and stock pipes in the same boot) once per database layout, each a boot of the same kernel with
# other boot parameters. Prints, per layout, the ratios SQL / stock and the time inside SQLite per
# write and per read (debugfs ns_write_sql / ns_read_sql, in the bandwidth runs: 64 KiB chunks).
# BENCH_SCRIPT (bench.sh's) runs other guest commands, e.g. with --ahead 64 too.
# Usage: bench-ideas.sh ["LABEL|KERNEL PARAMETERS" ...]; with none, the layouts below.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ideas=("$@")
[ ${#ideas[@]} -gt 0 ] || ideas=(
  "default: 2048-byte pages, incremental auto-vacuum|"
  "1024-byte pages|sqliteos.page_size=1024"
  "4096-byte pages|sqliteos.page_size=4096"
  "8192-byte pages|sqliteos.page_size=8192"
  "no auto-vacuum|sqliteos.auto_vacuum=0"
)
out="${XDG_CACHE_HOME:-$HOME/.cache}/sqliteos-companion/bench-ideas"
mkdir -p "$out"
n=0
for idea in "${ideas[@]}"; do
  label="${idea%%|*}"
  params="${idea#*|}"
  n=$((n + 1))
  log="$out/idea-$n.log"
  echo "== $label${params:+ ($params)}"
  if ! BENCH_QUICK=1 BENCH_APPEND="$params" bash "$here/bench.sh" > "$log" 2>&1; then
    echo "   bench.sh failed: $log" >&2
    continue
  fi
  grep -E '^ours ' "$log" | sed 's/^/   /'
  grep -E '^\{"bench":"profile","test":"bw"' "$log" |
    sed -E 's/.*"us_sql_per_write":([0-9.]+),"us_sql_per_read":([0-9.]+).*/   SQLite time per 64 KiB write \1 us, per read \2 us/'
done

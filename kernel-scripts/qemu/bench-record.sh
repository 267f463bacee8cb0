#!/usr/bin/env bash
# npm run bench:record: what recording costs (issue 30). One boot of the companion kernel (bench.sh,
# TCG): bw_sqlpipe and lat_sqlpipe on SQL pipes, each run plain and then again followed by the
# recorder (debugfs sqliteos/record "follow", as `sqliteos record` follows a program), alternating,
# ROUNDS times (3). The recorder is set to keep every call (record_max raised; each write keeps its
# first 4 KiB and a digest of all its bytes, record_bytes=4096), and its header after each recorded run
# is printed, so a run that lost records shows. Prints the medians and recorded / plain.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
rounds="${ROUNDS:-3}"
case "$rounds" in ''|*[!0-9]*) echo "bench-record.sh: ROUNDS must be a whole number" >&2; exit 2 ;; esac
script='R=/sys/kernel/debug/sqliteos/record
P=/sys/module/sqliteos/parameters
echo 1048576 > $P/record_max
echo 4096 > $P/record_bytes
i=0
while [ $i -lt '"$rounds"' ]; do
  i=$((i + 1))
  for t in bw_sqlpipe lat_sqlpipe; do
    $t --runs 5
    echo clear > $R
    sh -c "echo follow \$\$ > $R && exec $t --runs 5 --config recorded"
    echo stop > $R
    echo "record: $t: $(sed -n 3,4p $R | tr "\n" " ")"
  done
done'
BENCH_QUICK=1 BENCH_SCRIPT="$script" bash "$here/bench.sh" > /dev/null
log="${SQLITEOS_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sqliteos-companion}/bench-record.log"
mkdir -p "$(dirname "$log")"
root="$(cd "$here/../.." && pwd)"
cp "$root/.cache/bench/console.log" "$log"
grep '^record: ' "$log" | sed 's/^/   /' || { echo "bench-record.sh: no recorded run finished; console: $log" >&2; exit 1; }
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter((l) => l.startsWith("{\"bench\":\"b") || l.startsWith("{\"bench\":\"l"));
const runs = lines.map((l) => JSON.parse(l)).filter((j) => j.pipe === "sql");
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
for (const bench of ["bw", "lat"]) {
  const of = (config) => runs.filter((j) => j.bench === bench && j.config === config).map((j) => j.value);
  const [plain, rec] = [of("plain"), of("recorded")];
  if (!plain.length || !rec.length) { console.log(bench + ": missing runs"); process.exitCode = 1; continue; }
  const unit = bench === "bw" ? "MB/s" : "us";
  console.log(`${bench === "bw" ? "bandwidth" : "latency  "}: plain ${med(plain).toFixed(2)} ${unit} (${plain.length} runs), recorded ${med(rec).toFixed(2)} ${unit} (${rec.length} runs): recorded / plain ${(med(rec) / med(plain)).toFixed(3)}`);
}' "$log"
echo "   console: $log"

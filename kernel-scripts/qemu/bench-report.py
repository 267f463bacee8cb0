#!/usr/bin/env python3
"""The ratios of a kernel benchmark boot: SQL pipe / stock pipe for each configuration (medians of
the runs in runs.jsonl), the SQL pipe against itself with the writer ahead and with 10,000 processes,
and lmbench's own lines from the console log beside ours."""
import json, re, statistics, sys

runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
log = open(sys.argv[2]).read()
med = {}
for r in runs:
    if r['bench'] in ('bw', 'lat'):
        med.setdefault((r['bench'], r['pipe'], r['config']), []).append(r['value'])
med = {k: statistics.median(v) for k, v in med.items()}

print('\nconfiguration              stock pipe      SQL pipe   SQL / stock   goal')
for bench, unit, goal in (('bw', 'MB/s', '>= 0.50'), ('lat', 'us', '<= 3')):
    for config in ('plain', 'ahead64', 'procs10000'):
        s, q = med.get((bench, 'stock', config)), med.get((bench, 'sql', config))
        if s is None or q is None:
            continue
        print(f'{bench:3} {config:12} {s:12.2f} {unit:4} {q:9.2f} {unit:4} {q / s:9.4f}   {goal}')
print('\nSQL pipe against itself (goal: flat within 10%)')
for bench, config in (('bw', 'ahead64'), ('bw', 'procs10000'), ('lat', 'procs10000')):
    base, other = med.get((bench, 'sql', 'plain')), med.get((bench, 'sql', config))
    if base and other:
        print(f'{bench:3} {config:12} / plain: {other / base:.3f}')
lm = re.findall(r'^(Pipe (?:bandwidth|latency): .*)$', log.split('\nlmbench:\n', 1)[1], re.M) \
    if '\nlmbench:\n' in log else []
if lm:
    print('\nlmbench bw_pipe / lat_pipe, same boot (stock pipes):')
    for l in lm:
        print('  ' + l)

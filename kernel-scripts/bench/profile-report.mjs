// Names the samples of profdump's output (kernel-scripts/bench/profdump.c) by kernel function.
// Usage: node profile-report.mjs SYSTEM_MAP CONSOLE_LOG [TOP]: for each dump in the log (a
// "prof: label L" line names the next one), the samples and the TOP (25) functions with the most.
import { readFileSync } from 'node:fs';

const [mapFile, logFile, topArg] = process.argv.slice(2);
if (!mapFile || !logFile) {
  console.error('usage: node profile-report.mjs SYSTEM_MAP CONSOLE_LOG [TOP]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
process.on('uncaughtException', (e) => {
  console.error(`profile-report: ${e.message}`);
  process.exit(1);
});

const syms = [];
let stext;
readFileSync(mapFile, 'utf8').split('\n').forEach((line, i) => {
  const [addr, type, name] = line.split(' ');
  if (!name) return;
  const a = BigInt(`0x${addr}`);
  if (name === '_stext') stext = a;
  if ('tTwW'.includes(type)) syms.push({ a, name });
  else if (!/^[a-zA-Z?]$/.test(type)) throw new Error(`${mapFile}:${i + 1}: not a System.map line`);
});
if (stext === undefined) throw new Error(`${mapFile}: no _stext`);
syms.sort((x, y) => (x.a < y.a ? -1 : x.a > y.a ? 1 : 0));

function nameOf(a) {
  let lo = 0;
  let hi = syms.length - 1;
  if (!syms.length || a < syms[0].a) return '?';
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (syms[mid].a <= a) lo = mid;
    else hi = mid - 1;
  }
  return syms[lo].name;
}

const dumps = [];
let label = '';
let cur;
readFileSync(logFile, 'utf8').split('\n').forEach((line, i) => {
  const m = /^prof: (.*)$/.exec(line);
  if (!m) return;
  const f = m[1].split(' ');
  if (f[0] === 'label') label = f.slice(1).join(' ');
  else if (f[0] === 'step') {
    cur = { label, step: BigInt(f[1]), hits: new Map(), total: 0 };
    dumps.push(cur);
    label = '';
  } else if (cur && f.length === 2 && /^\d+$/.test(f[0]) && /^\d+$/.test(f[1])) {
    const name = nameOf(stext + BigInt(f[0]) * cur.step);
    const c = Number(f[1]);
    cur.hits.set(name, (cur.hits.get(name) ?? 0) + c);
    cur.total += c;
  } else {
    throw new Error(`${logFile}:${i + 1}: not a profdump line: ${line}`);
  }
});
if (!dumps.length) throw new Error(`${logFile}: no profile (no "prof: step" line)`);
for (const d of dumps) {
  console.log(`== ${d.label || 'profile'}: ${d.total} samples`);
  [...d.hits].sort((x, y) => y[1] - x[1]).slice(0, top).forEach(([name, c]) => {
    console.log(`${String(c).padStart(7)} ${((100 * c) / d.total).toFixed(1).padStart(5)}%  ${name}`);
  });
}

/*
 * The explorer's reduction against the full search on a generated corpus (npm run check:reduction [N]):
 * for seeds 1..N (300 by default), both searches up to 5,000 states, each going on past every violation;
 * where the full one exhausts, every violation (kind, line) met, `exhausted` and the end-state count must
 * be the same and the reduced state count no higher. Prints each difference and a summary; exits 1 on any difference.
 */
import { explore, verdict } from '../extension/core/explore/explorer';
import { generateScenario } from '../extension/core/scenario/generate';
import { parseScenario } from '../extension/core/scenario/parser';

async function main(): Promise<number> {
  const n = Number(process.argv[2] ?? 300);
  const cap = 5000;
  let same = 0;
  let different = 0;
  let cut = 0;
  let full = 0;
  let reduced = 0;
  for (let seed = 1; seed <= n; seed++) {
    const p = parseScenario(generateScenario(seed), `generated-${seed}.sqlos`);
    if (!p.ok) throw new Error(`seed ${seed}: ${p.errors.join('; ')}`);
    const a = await explore(p.scenario, { reduction: false, maxStates: cap, everyViolation: true });
    if (!a.exhausted) {
      cut++;
      continue;
    }
    const b = await explore(p.scenario, { maxStates: cap, everyViolation: true });
    const ok = JSON.stringify(verdict(a)) === JSON.stringify(verdict(b)) && b.states <= a.states;
    if (ok) same++;
    else {
      different++;
      const found = (r: typeof a) => verdict(r).violations!.join(', ') || 'no violation';
      const show = (r: typeof a) => `${r.states} states, ${r.complete} end states, ${found(r)}, ${r.exhausted ? 'exhausted' : 'cut'}`;
      process.stdout.write(`seed ${seed}: full ${show(a)}; reduced ${show(b)}\n`);
    }
    full += a.states;
    reduced += b.states;
  }
  process.stdout.write(`${n} generated scenarios: ${same} the same, ${different} different, ${cut} too large for the full search (> ${cap} states)\n`);
  process.stdout.write(`states: full ${full}, reduced ${reduced} (${(full / Math.max(reduced, 1)).toFixed(2)}x)\n`);
  return different === 0 ? 0 : 1;
}

main().then((code) => process.exit(code));

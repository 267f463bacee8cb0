/*
 * The explorer's partial-order reduction against the full search, in one run: states, transitions and
 * time of each, on the four independent writer/reader pairs (example 16), on example 08 (a writer, a
 * reader in a transaction and a query, all on one store) and on two pairs. Where the full search would
 * take too long (four pairs: millions of states), it runs until it has visited `cap` times the reduced
 * search's states: not exhausted by then, the reduction is worth more than `cap`x. Beside them, where the
 * full search ends, the reduction without its persistent sets, to show what the rest (sleep sets above all)
 * is worth alone.
 */
import * as fs from 'fs';
import * as path from 'path';
import { explore, ExploreResult } from '../explore/explorer';
import { parseScenario } from '../scenario/parser';
import { fmt } from './stats';

export interface ReductionFigure {
  reduced: { states: number; transitions: number; ms: number; pruned: number; slept: number };
  /** The reduction without persistent sets (canonical states, merged private steps, sleep sets): not on example 16, where it does not end. */
  noPersistent?: { states: number; transitions: number; ms: number; exhausted: boolean };
  full: { states: number; transitions: number; ms: number; exhausted: boolean };
  /** full states / reduced states; a lower bound when the full search was cut. */
  stateRatio: number;
  cut: boolean;
  goal: number;
}

/** n writer/reader pairs, each on a pipe of its own, as in example 16 (which is four of them). */
export function independentPairs(n: number): string {
  const out: string[] = [];
  for (let i = 1; i <= n; i++) out.push(`P1 fork P${2 * i}`);
  out.push('P1 exit');
  for (let i = 1; i <= n; i++) {
    const [w, r] = [2 * i, 2 * i + 1];
    out.push(`P${w} pipe r${i} w${i}`, `P${w} fork P${r}`, `P${w} write w${i} "p${i}"`, `P${r} read r${i} 2 == "p${i}"`);
  }
  return `${out.join('\n')}\n`;
}

/** quick: example 16's full search (minutes to its cap) is left out. */
export async function reductionBench(examplesDir: string | undefined, log: (s: string) => void, quick = false): Promise<Record<string, ReductionFigure>> {
  // [name, scenario, goal, the full search's cap in reduced states (0: none)]
  const cases: [string, string, number, number][] = [['two pairs', independentPairs(2), 5, 0]];
  if (examplesDir) {
    const ex = (f: string) => fs.readFileSync(path.join(examplesDir, f), 'utf8');
    if (!quick) cases.unshift(['16-independent-pairs.sqlos', ex('16-independent-pairs.sqlos'), 20, 500]);
    cases.push(['08-pending-writer.sqlos', ex('08-pending-writer.sqlos'), 3, 0]);
  }
  log('\nexplorer reduction (canonical states, private steps merged, persistent and sleep sets) against the full search, same run:\n');
  const out: Record<string, ReductionFigure> = {};
  for (const [name, text, goal, cap] of cases) {
    const p = parseScenario(text, name);
    if (!p.ok) throw new Error(`${name} does not parse`);
    const r = await explore(p.scenario, { maxStates: 1_000_000 });
    const f = await explore(p.scenario, { reduction: false, maxStates: cap ? r.states * cap + 1 : 1_000_000 });
    const cut = !f.exhausted && !f.violation;
    const n = cap ? undefined : await explore(p.scenario, { persistentSets: false, maxStates: 1_000_000 });
    const fig: ReductionFigure = {
      reduced: { states: r.states, transitions: r.transitions, ms: r.ms, pruned: r.pruned, slept: r.slept },
      noPersistent: n && { states: n.states, transitions: n.transitions, ms: n.ms, exhausted: n.exhausted },
      full: { states: f.states, transitions: f.transitions, ms: f.ms, exhausted: f.exhausted },
      stateRatio: f.states / r.states,
      cut,
      goal,
    };
    out[name] = fig;
    const line = (label: string, x: ExploreResult, end: string) =>
      `    ${label.padEnd(8)} ${String(x.states).padStart(7)} states ${String(x.transitions).padStart(8)} transitions ${fmt(x.ms / 1000, 2).padStart(7)} s  ${end}\n`;
    log(`  ${name}\n`);
    const end = (x: ExploreResult) => (x.exhausted ? 'exhausted' : x.violation ? `${x.violation.kind} at line ${x.violation.line}` : 'cut');
    log(line('reduced', r, `${end(r)}; ${r.pruned} choices left out by persistent sets, ${r.slept} asleep`));
    if (n) log(line('no pers.', n, `${end(n)}; the same without persistent sets: ${n.slept} choices asleep`));
    log(line('full', f, cut ? `cut at ${cap}x the reduced states, not exhausted` : f.exhausted ? 'exhausted' : `${f.violation!.kind} at line ${f.violation!.line}`));
    const ratio = `${cut ? '> ' : ''}${fmt(fig.stateRatio, 1)}x fewer states, ${fmt(f.ms / r.ms, 1)}x the time${cut ? ' (full cut)' : ''}`;
    log(`    ${ratio}   goal >= ${goal}x: ${fig.stateRatio >= goal ? 'met' : 'NOT met'}\n`);
  }
  return out;
}

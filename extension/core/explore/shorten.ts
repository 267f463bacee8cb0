/*
 * A counterexample made shorter. Breadth-first search over every interleaving finds a shortest schedule;
 * over the reduced graph it finds the shortest the reduction kept, which can be longer (a process left
 * out at a state runs later instead). So a reduced search's schedule is shortened here: runs of one
 * process's micro-steps are dropped, one at a time from the end, while the replay still ends in the same
 * violation (kind and line), until no run can be dropped (a local minimum, as delta debugging gives).
 */
import type { Scenario } from '../scenario/ast';
import { ScenarioRun } from '../scenario/runner';
import type { SimOptions } from '../sim/types';
import type { Violation } from './explorer';

/** The schedule's prefix that reproduces `v`, or null when it does not (a step cannot run, or no such violation). */
async function reproduce(scenario: Scenario, schedule: number[], v: Violation, opts: Partial<SimOptions>): Promise<number[] | null> {
  const run = await ScenarioRun.create(scenario, opts);
  try {
    for (const [i, pid] of schedule.entries()) {
      if (!run.runnable().includes(pid)) return null;
      run.step(pid);
      if (run.anomalies.some((a) => a.kind === v.kind && a.line === v.line)) return schedule.slice(0, i + 1);
    }
    if (run.runnable().length > 0) return null;
    return run.stuck().some((a) => a.kind === v.kind && a.line === v.line) ? schedule : null;
  } catch {
    return null;
  } finally {
    run.kernel.close();
  }
}

function runs(schedule: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < schedule.length; i++) {
    if (i > 0 && schedule[i] === schedule[i - 1]) out[out.length - 1][1]++;
    else out.push([i, 1]);
  }
  return out;
}

export async function shorten(scenario: Scenario, v: Violation, opts: Partial<SimOptions> = {}): Promise<number[]> {
  let best = v.schedule;
  for (let changed = true; changed; ) {
    changed = false;
    const rs = runs(best);
    for (let r = rs.length - 1; r >= 0; r--) {
      const [at, n] = rs[r];
      const shorter = await reproduce(scenario, [...best.slice(0, at), ...best.slice(at + n)], v, opts);
      if (shorter && shorter.length < best.length) {
        best = shorter;
        changed = true;
        break;
      }
    }
  }
  return best;
}

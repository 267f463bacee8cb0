/*
 * One scenario on both executors, compared: the simulator (the scenario's profile, sqliteos locks, its
 * capacity) and a real kernel through sqliteos-run — the companion kernel for the companion profile, the
 * published kernel for the upstream one. Used by `sqliteos diff`, by the extension's Compare with
 * Simulator, and by the differential and fuzz tests over a generated corpus.
 */
import type { Scenario } from '../core/scenario/ast';
import { Difference, Excuse, compare } from '../core/scenario/compare';
import { generateScenario } from '../core/scenario/generate';
import { parseScenario } from '../core/scenario/parser';
import { RunResult, ScenarioRun, optionsFor } from '../core/scenario/runner';
import type { SimOptions } from '../core/sim/types';
import type { KernelHost } from './kernel-host';
import { runOnKernel } from './scenario-kernel';

export interface Compared {
  simulator: RunResult;
  kernel: RunResult;
  differences: Difference[];
  /** What the comparison excused, by reason. */
  excused: Map<Excuse, number>;
}

export class NotOnKernel extends Error {}

/** Why a scenario cannot run on a real kernel (a lock policy no kernel has), or undefined. */
export function kernelCannotRun(s: Scenario, over: Partial<SimOptions> = {}): string | undefined {
  const o = optionsFor(s, over);
  if (o.locks !== 'sqliteos') {
    return `${s.file}: a kernel runs sqliteos locks (the paper's MMemLock); this scenario asks for ${o.profile}/${o.locks} (it runs on the simulator only)`;
  }
  return undefined;
}

export async function simulate(s: Scenario, over: Partial<SimOptions> = {}): Promise<RunResult> {
  const r = await ScenarioRun.create(s, over);
  try {
    r.watchQueries();
    r.runDefault();
    return r.result();
  } finally {
    r.kernel.close();
  }
}

export async function compareWithKernel(host: KernelHost, s: Scenario, runner: Buffer, over: Partial<SimOptions> = {}): Promise<Compared> {
  const why = kernelCannotRun(s, over);
  if (why) throw new NotOnKernel(why);
  const simulator = await simulate(s, over);
  const kernel = await runOnKernel(host, s, runner, { capacity: simulator.capacity, profile: optionsFor(s, over).profile });
  return { simulator, kernel, ...compare(simulator, kernel) };
}

export interface CorpusResult {
  seed: number;
  /** Scenarios run (fewer than asked when the time budget ran out). */
  ran: number;
  differing: { seed: number; text: string; differences: Difference[] }[];
  /** Scenarios that ended with a process asleep for good (on both sides, as they agree). */
  deadlocks: number;
  /** Comparisons excused across the corpus, by reason. */
  excused: Map<Excuse, number>;
  ms: number;
}

/**
 * Generated scenarios seed, seed+1, … on both executors, until `count` have run or `budgetMs` is spent,
 * for the profile of the host's kernel (the companion kernel's, or the published kernel's: upstream).
 * A scenario the generator wrote that does not parse is a bug of ours, and throws.
 *
 * `fresh` gives a freshly booted host (the published kernel, where the caller can reboot it): called
 * every `freshEvery` scenarios and after one that left a process asleep on a lock (the published kernel
 * keeps every row and leaks a connection a read; a sleeper on a lock there never leaves).
 */
export async function runCorpus(
  host: KernelHost,
  runner: Buffer,
  o: { seed: number; count: number; budgetMs?: number; onEach?: (seed: number, c: Compared) => void; fresh?: () => Promise<KernelHost>; freshEvery?: number },
): Promise<CorpusResult> {
  const t0 = Date.now();
  const res: CorpusResult = { seed: o.seed, ran: 0, differing: [], deadlocks: 0, excused: new Map(), ms: 0 };
  const facts = host.known ?? (await host.probe(true));
  const profile = facts.kernel === 'upstream' ? 'upstream' : 'companion';
  let since = 0;
  for (let i = 0; i < o.count && (o.budgetMs === undefined || Date.now() - t0 < o.budgetMs); i++) {
    const seed = o.seed + i;
    const text = generateScenario(seed, profile);
    const parsed = parseScenario(text, `generated-${seed}.sqlos`);
    if (!parsed.ok) throw new Error(`the generator wrote a scenario that does not parse (seed ${seed}): ${parsed.errors.join('; ')}`);
    const c = await compareWithKernel(host, parsed.scenario, runner);
    since++;
    const more = i + 1 < o.count;
    if (more && o.fresh && (since >= (o.freshEvery ?? Infinity) || c.kernel.processes.some((p) => p.waitingOn && p.waitingOn.kind !== 'pipe'))) {
      host = await o.fresh();
      since = 0;
    }
    res.ran++;
    if (c.kernel.anomalies.some((a) => a.kind === 'deadlock')) res.deadlocks++;
    if (c.differences.length) res.differing.push({ seed, text, differences: c.differences });
    for (const [why, n] of c.excused) res.excused.set(why, (res.excused.get(why) ?? 0) + n);
    o.onEach?.(seed, c);
  }
  res.ms = Date.now() - t0;
  return res;
}

/** "N comparisons excused (a: 3, b: 1)" for a corpus run's closing line. */
export function describeExcusals(e: Map<Excuse, number>): string {
  const total = [...e.values()].reduce((a, b) => a + b, 0);
  return total ? `${total} comparisons excused (${[...e].map(([why, n]) => `${n}: ${why}`).join('; ')})` : '0 comparisons excused';
}

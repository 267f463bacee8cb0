/*
 * A scenario on a real kernel: compiled to a plan, run there by sqliteos-run (static, shipped in the
 * extension, placed in the target's cache like the inspect helper) as root, read back as a RunResult.
 * A companion-profile scenario runs on the companion kernel (the runner watches its debugfs wait
 * queues), an upstream one on the published kernel (sleeps from /proc, tables through 549).
 */
import type { Scenario } from '../core/scenario/ast';
import type { Profile } from '../core/sim/types';
import { compilePlan } from '../core/scenario/plan';
import { type RunResult, ScenarioRun } from '../core/scenario/runner';
import { KernelRunError, kernelRunResult } from '../core/kernel-output/run-result';
import { HostError, KernelHost } from './kernel-host';

export interface KernelRunOptions {
  capacity: number;
  /** The scenario's profile: which kernel it is for (companion: the companion kernel; upstream: the published one). */
  profile: Profile;
  /** How long a statement may neither finish nor sleep before the run is called hung (ms). */
  settleMs?: number;
  timeoutMs?: number;
}

export async function runOnKernel(host: KernelHost, scenario: Scenario, runner: Buffer, o: KernelRunOptions): Promise<RunResult> {
  // Probed once per host, for the kernel's kind only: a corpus runs many scenarios on one host.
  const facts = host.known ?? (await host.probe(true));
  if (facts.problem) throw new HostError(`${host.shell.label}: ${facts.problem}`);
  if (facts.kernel !== o.profile) {
    const name = (k: string) => (k === 'upstream' ? 'the published SQLiteOS kernel' : 'the companion kernel');
    throw new HostError(`${host.shell.label}: runs ${name(facts.kernel)}; ${scenario.file} is for the ${o.profile} profile, which runs on ${name(o.profile)} (\`@profile ${facts.kernel}\` runs here)`);
  }
  const upstream = o.profile === 'upstream';
  const wedge = upstream ? await wedgesPublished(scenario) : undefined;
  if (wedge) throw new HostError(`${host.shell.label}: ${wedge}`);
  // The published kernel has no pipe capacity to set: its pipes hold what its store can.
  const plan = compilePlan(scenario, upstream ? undefined : o.capacity);
  const settle = String(o.settleMs ?? 20000);
  const args = (inspect: string) => [...(upstream ? ['--upstream'] : []), '--inspect', inspect, '--settle-ms', settle];
  const r = await host.runAsRoot('sqliteos-run', runner, args, plan.text, o.timeoutMs ?? 120000);
  const out = r.stdout.toString('utf8');
  if (r.code !== 0 && !out.includes('\nerror ')) {
    throw new KernelRunError(`${host.shell.label}: sqliteos-run exited with ${r.code}${r.stderr.trim() ? `: ${r.stderr.trim()}` : ''}`);
  }
  return kernelRunResult(scenario, out, host.shell.label, o.capacity);
}

/**
 * Why the scenario would wedge the published kernel, if it would: there a 553(8) holder's mutex is
 * never let go when it sleeps on it or exits (and the run ends by killing what is left), so every
 * later fork waits for ever, the SSH server's and the runner's own too. Read from the simulator's
 * upstream run, which models exactly that.
 */
async function wedgesPublished(scenario: Scenario): Promise<string | undefined> {
  const run = await ScenarioRun.create(scenario, { profile: 'upstream' });
  try {
    run.runDefault();
    const owner = run.kernel.state.mutex.owner;
    if (owner === null) return undefined;
    const p = run.kernel.state.procs[owner];
    const hang = `and every later fork there, the SSH server's too, would hang: not run (\`sqliteos run ${scenario.file} --profile upstream\` shows it on the simulator)`;
    if (p?.txnWrite) {
      const begin = [...scenario.statements].reverse().find((x) => x.pid === owner && x.op === 'begin' && x.write)!;
      return `${scenario.file}:${begin.line}: P${owner}'s \`begin write\` keeps the published kernel's write mutex for ever (it sleeps on it, or exits, or is killed at the end holding it), ${hang}`;
    }
    return `${scenario.file}:${p?.current?.line ?? 0}: P${owner} is left holding the published kernel's write mutex (its call never returns), ${hang}`;
  } finally {
    run.kernel.close();
  }
}

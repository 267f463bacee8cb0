/*
 * A scenario on a real kernel: compiled to a plan, run there by sqliteos-run (static, shipped in the
 * extension, placed in the target's cache like the inspect helper) as root, read back as a RunResult.
 * Only the companion kernel can run one: the runner watches its debugfs wait queues.
 */
import type { Scenario } from '../core/scenario/ast';
import { compilePlan } from '../core/scenario/plan';
import type { RunResult } from '../core/scenario/runner';
import { KernelRunError, kernelRunResult } from '../core/kernel-output/run-result';
import { HostError, KernelHost } from './kernel-host';

export interface KernelRunOptions {
  capacity: number;
  /** How long a statement may neither finish nor sleep before the run is called hung (ms). */
  settleMs?: number;
  timeoutMs?: number;
}

export async function runOnKernel(host: KernelHost, scenario: Scenario, runner: Buffer, o: KernelRunOptions): Promise<RunResult> {
  // Probed once per host (a probe reads the whole kernel): a corpus runs many scenarios on one host.
  const facts = host.known ?? (await host.probe());
  if (facts.problem) throw new HostError(`${host.shell.label}: ${facts.problem}`);
  if (facts.kernel !== 'companion') throw new HostError(`${host.shell.label}: runs the ${facts.kernel} SQLiteOS kernel; scenarios run on the companion kernel only (its debugfs wait queues show when a process sleeps)`);
  const plan = compilePlan(scenario, o.capacity);
  const settle = String(o.settleMs ?? 20000);
  const r = await host.runAsRoot('sqliteos-run', runner, (inspect) => ['--inspect', inspect, '--settle-ms', settle], plan.text, o.timeoutMs ?? 120000);
  const out = r.stdout.toString('utf8');
  if (r.code !== 0 && !out.includes('\nerror ')) {
    throw new KernelRunError(`${host.shell.label}: sqliteos-run exited with ${r.code}${r.stderr.trim() ? `: ${r.stderr.trim()}` : ''}`);
  }
  return kernelRunResult(scenario, out, host.shell.label, o.capacity);
}

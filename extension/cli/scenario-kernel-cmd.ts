/*
 * `sqliteos run FILE --on guest|ssh:DEST|local [--json]`: the scenario on a real companion kernel, printed
 * as `sqliteos run` prints the simulator's. `sqliteos diff FILE [--on ...]`: both, and their differences.
 * Exit: run 0 no anomaly, 1 anomalies; diff 0 the same, 1 different; both 2 for bad input, no kernel,
 * or a run that failed (a hang, a connection), with the reason on stderr.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Scenario } from '../core/scenario/ast';
import { formatDifferences } from '../core/scenario/compare';
import { optionsFor } from '../core/scenario/runner';
import { summarize } from '../core/scenario/summary';
import { runJson } from '../core/scenario/run-json';
import type { SimOptions } from '../core/sim/types';
import { KernelRunError } from '../core/kernel-output/run-result';
import { HostError, KernelHost } from '../machines/kernel-host';
import { runOnKernel } from '../machines/scenario-kernel';
import { NotOnKernel, compareWithKernel, describeExcusals, kernelCannotRun, runCorpus } from '../machines/differential';
import { LocalShell, bundledHelper } from '../machines/sources';
import { resolveWithGuest } from '../machines/guest';
import { DestinationError } from '../machines/ssh/config';
import { ConnectionManager, SshError } from '../machines/ssh/connection';
import { terminalPrompts } from './inspect-cmd';

export class OnError extends Error {}

export function runnerProgram(distDir: string): Buffer {
  const file = path.join(distDir, 'helpers', 'sqliteos-run-x86_64');
  if (!fs.existsSync(file)) throw new OnError(`${file} is missing: npm run build makes it (needs gcc and libc6-dev)`);
  return fs.readFileSync(file);
}

export interface OnArgs {
  cmd: 'run' | 'diff';
  scenario: Scenario;
  source: string;
  on: string;
  json: boolean;
  acceptNew: boolean;
  opts: Partial<SimOptions>;
}

export async function connect(on: string, manager: ConnectionManager, distDir: string): Promise<KernelHost> {
  let shell;
  if (on === 'local') shell = new LocalShell();
  else if (on === 'guest') shell = await manager.get(resolveWithGuest('guest', path.join(distDir, '..')));
  else if (on.startsWith('ssh:')) shell = await manager.get(resolveWithGuest(on.slice(4), path.join(distDir, '..')));
  else throw new OnError(`--on: expected guest, ssh:DEST or local, got '${on}'`);
  return new KernelHost(shell, bundledHelper(distDir));
}

export function managerFor(acceptNew: boolean): ConnectionManager {
  return new ConnectionManager(() => ({ prompts: terminalPrompts(), hostKeyPolicy: acceptNew ? 'accept-new' : process.stdin.isTTY ? 'ask' : 'strict' }));
}

export function known(e: unknown): boolean {
  return e instanceof OnError || e instanceof SshError || e instanceof DestinationError || e instanceof HostError || e instanceof KernelRunError || e instanceof NotOnKernel;
}

export async function scenarioOnKernel(a: OnArgs, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const distDir = __dirname;
  const manager = managerFor(a.acceptNew);
  try {
    const why = kernelCannotRun(a.scenario, a.opts);
    if (why) throw new OnError(why);
    const host = await connect(a.on, manager, distDir);
    if (a.cmd === 'run') {
      const o = optionsFor(a.scenario, a.opts);
      const kernel = await runOnKernel(host, a.scenario, runnerProgram(distDir), { capacity: o.capacity, profile: o.profile });
      out(a.json ? `${JSON.stringify(runJson(kernel), null, 2)}\n` : `${summarize(kernel, a.source.split('\n'))}\n`);
      return kernel.ok ? 0 : 1;
    }
    const { simulator, kernel, differences: d, excused } = await compareWithKernel(host, a.scenario, runnerProgram(distDir), a.opts);
    const label = host.shell.label;
    if (a.json) out(`${JSON.stringify({ file: a.scenario.file, same: d.length === 0, differences: d, simulator: runJson(simulator), kernel: runJson(kernel) }, null, 2)}\n`);
    else if (d.length === 0) out(`${a.scenario.file}: the simulator and ${label} agree (${kernel.ops.length} statements, final tables${kernel.hidden ? '' : ', pipes, locks'}; ${describeExcusals(excused)})\n`);
    else out(`${a.scenario.file}: ${d.length} difference${d.length === 1 ? '' : 's'} between the simulator and ${label}\n${formatDifferences(d, ['simulator', 'kernel'])}\n`);
    return d.length ? 1 : 0;
  } catch (e) {
    if (known(e)) {
      err(`sqliteos ${a.cmd}: ${(e as Error).message}\n`);
      return 2;
    }
    throw e;
  } finally {
    manager.closeAll();
  }
}

/**
 * `sqliteos diff --generated N [--seed S] [--on ...]`: N generated scenarios (seeds S, S+1, …), each on
 * both executors; prints each differing scenario with its seed and text. Exit 0 all agree, 1 not.
 */
export async function generatedDiff(a: { count: number; seed: number; on: string; acceptNew: boolean }, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const manager = managerFor(a.acceptNew);
  try {
    const host = await connect(a.on, manager, __dirname);
    const facts = host.known ?? (await host.probe(true));
    out(`seed ${a.seed}, ${a.count} ${facts.kernel === 'upstream' ? 'upstream-profile ' : ''}scenarios on ${host.shell.label}\n`);
    if (facts.kernel === 'upstream' && a.count > 100) {
      err(`note: the published kernel leaks kernel memory with every read and query and never deletes a row: a 1 GiB guest ran out of memory after about 600 such scenarios here. Run batches of 100 (--seed S, S+100, …) and restart the guest between them (\`sqliteos guest start --published\`).\n`);
    }
    const r = await runCorpus(host, runnerProgram(__dirname), { seed: a.seed, count: a.count });
    for (const d of r.differing) out(`\nseed ${d.seed}: ${d.differences.length} difference(s)\n${d.text}${formatDifferences(d.differences, ['simulator', 'kernel'])}\n`);
    out(`\n${r.ran} scenarios (${r.deadlocks} ending in a deadlock on both), ${r.differing.length} with differences, in ${(r.ms / 1000).toFixed(1)} s (seed ${a.seed}); ${describeExcusals(r.excused)}\n`);
    return r.differing.length ? 1 : 0;
  } catch (e) {
    if (known(e)) {
      err(`sqliteos diff: ${(e as Error).message}\n`);
      return 2;
    }
    throw e;
  } finally {
    manager.closeAll();
  }
}

/* Shared by the unit tests: run a scenario given as text or as a file, the way the CLI does. */
import * as fs from 'fs';
import * as path from 'path';
import { parseScenario } from '../../extension/core/scenario/parser';
import { RunResult, ScenarioRun } from '../../extension/core/scenario/runner';
import { SimOptions } from '../../extension/core/sim/types';

export const ROOT = path.join(__dirname, '..', '..');

export async function start(src: string, opts: Partial<SimOptions> = {}, file = 'test.sqlos'): Promise<ScenarioRun> {
  const p = parseScenario(src, file);
  if (!p.ok) throw new Error(p.errors.map(String).join('\n'));
  return ScenarioRun.create(p.scenario, opts);
}

export async function run(src: string, opts: Partial<SimOptions> = {}, file = 'test.sqlos'): Promise<RunResult> {
  const r = await start(src, opts, file);
  r.runDefault();
  const res = r.result();
  r.kernel.close();
  return res;
}

export async function runExample(name: string, opts: Partial<SimOptions> = {}): Promise<RunResult> {
  const file = path.join(ROOT, 'examples', name);
  return run(fs.readFileSync(file, 'utf8'), opts, file);
}

/** The op record of a line (the first one that completed there). */
export function opAt(res: RunResult, line: number) {
  const op = res.ops.find((o) => o.line === line);
  if (!op) throw new Error(`no op completed at line ${line}; ops: ${JSON.stringify(res.ops)}`);
  return op;
}

export function kinds(res: RunResult): string[] {
  return res.anomalies.map((a) => `${a.kind}@${a.line}`);
}

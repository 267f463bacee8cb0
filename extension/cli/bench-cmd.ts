/*
 * `sqliteos bench pipes [--ssh DEST] ...`: the Run Pipe Benchmarks command from a terminal (our programs
 * on SQL and stock pipes, lmbench's where installed), printed as the ratio table, or as the stored
 * record with --json. `sqliteos bench report LOG`: the same table from a console log or saved output
 * (`npm run bench:kernel` uses it). Exit 0, 1 when a measurement failed, 2 bad input, 130 cancelled.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseBenchOutput, ratioTable } from '../core/bench/pipes';
import { BenchEvent, BenchPlan, runPipeBench, runSimulatorBench } from '../targets/pipe-bench';
import { Cancelled } from '../targets/session-run';
import { LocalShell } from '../targets/sources';
import { resolveWithGuest } from '../targets/guest';
import { DestinationError } from '../targets/ssh/config';
import { ConnectionManager, SshError } from '../targets/ssh/connection';
import { terminalPrompts } from './kernel';

export const BENCH_USAGE = `  sqliteos bench pipes [--ssh DEST | --simulator] [--chunk BYTES]... [--ahead N] [--holders N] [--runs N]
                       [--lmbench] [--json] [--accept-new]
                                 bandwidth and latency of SQL pipes and stock pipes, with their ratios
  sqliteos bench report FILE [--emulated]   the ratio table of saved benchmark output or a console log`;

export class BenchUsageError extends Error {}

function programs(): Buffer {
  const file = path.join(__dirname, 'helpers', 'pipebench-x86_64');
  if (!fs.existsSync(file)) throw new BenchUsageError(`${file} is missing: npm run build makes it (needs gcc and libc6-dev)`);
  return fs.readFileSync(file);
}

export async function benchPipesCommand(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const sub = argv[0];
  const plan: BenchPlan = { chunks: [], ahead: 0, holders: 0, runs: 11, lmbench: false };
  let ssh: string | undefined;
  let json = false;
  let acceptNew = false;
  let simulator = false;
  let emulated = false;
  const files: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const v = argv[i];
    const num = (min: number, max: number) => {
      const x = Number(argv[++i]);
      if (!Number.isInteger(x) || x < min || x > max) throw new BenchUsageError(`${v}: expected a whole number from ${min} to ${max}`);
      return x;
    };
    if (v === '--ssh') ssh = argv[++i];
    else if (v === '--chunk') plan.chunks.push(num(1, 16 << 20));
    else if (v === '--ahead') plan.ahead = num(0, 1024);
    else if (v === '--holders') plan.holders = num(0, 100000);
    else if (v === '--runs') plan.runs = num(1, 101);
    else if (v === '--lmbench') plan.lmbench = true;
    else if (v === '--json') json = true;
    else if (v === '--accept-new') acceptNew = true;
    else if (v === '--simulator') simulator = true;
    else if (v === '--emulated') emulated = true;
    else if (v.startsWith('-')) throw new BenchUsageError(`bench ${sub}: unknown option ${v}`);
    else files.push(v);
  }
  if (sub === 'report') {
    if (files.length !== 1) throw new BenchUsageError('bench report: which file?');
    const parsed = parseBenchOutput(fs.readFileSync(files[0], 'utf8'));
    for (const p of parsed.problems) err(`${files[0]}: ${p}\n`);
    out(`${ratioTable(parsed.series, emulated)}\n`);
    return parsed.problems.length ? 1 : 0;
  }
  if (plan.chunks.length === 0) plan.chunks.push(65536);
  const manager = new ConnectionManager(() => ({ prompts: terminalPrompts(), hostKeyPolicy: acceptNew ? 'accept-new' : process.stdin.isTTY ? 'ask' : 'strict' }));
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.on('SIGINT', onSigint);
  try {
    const shell = ssh ? await manager.get(resolveWithGuest(ssh, path.join(__dirname, '..'))) : new LocalShell();
    const onEvent = (e: BenchEvent) => {
      if (e.kind === 'step') err(`[${e.index + 1}/${e.total}] ${e.label}\n`);
    };
    const record = simulator
      ? await runSimulatorBench(programs(), plan, onEvent, (l) => err(`${l}\n`), abort.signal)
      : await runPipeBench(shell, programs(), plan, { host: shell.label, kind: ssh ? 'ssh' : 'local' }, onEvent, abort.signal);
    if (json) out(`${JSON.stringify(record, null, 2)}\n`);
    else {
      out(`${record.host}: ${record.release}, ${record.cpu}${record.emulated ? ' (emulated)' : ''}\n${ratioTable(record.series, record.emulated)}\n`);
      for (const p of record.problems) err(`problem: ${p}\n`);
    }
    return record.problems.length ? 1 : 0;
  } catch (e) {
    if (e instanceof Cancelled) {
      err(`sqliteos bench pipes: ${e.message}\n`);
      return 130;
    }
    if (e instanceof SshError || e instanceof DestinationError) {
      err(`sqliteos bench pipes: ${e.message}\n`);
      return 2;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    manager.closeAll();
  }
}

/*
 * `sqliteos bench pipes [--ssh DEST] ...`: the Run Pipe Benchmarks command from a terminal (our programs
 * on SQL and stock pipes, lmbench's where installed), printed as the ratio table, or as the stored
 * record with --json. `sqliteos bench report LOG`: the same table from a console log or saved output
 * (`npm run bench:kernel` uses it). Exit 0, 1 when a measurement failed, 2 bad input, 130 cancelled.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseBenchOutput, ratioTable } from '../core/bench/pipes';
import { BenchEvent, BenchPlan, runPipeBench, runSimulatorBench } from '../machines/pipe-bench';
import { Cancelled } from '../machines/session-run';
import { LocalShell } from '../machines/sources';
import { resolveWithGuest } from '../machines/guest';
import { DestinationError } from '../machines/ssh/config';
import { ConnectionManager, SshError } from '../machines/ssh/connection';
import { terminalPrompts } from './inspect-cmd';
import { CommandSpec, Opt, UsageError, parseCommand, wholeNumber } from './options';

const flag: Opt = { kind: 'flag' };

export const BENCH_COMMANDS: CommandSpec[] = [
  {
    name: 'bench pipes',
    options: {
      ssh: { kind: 'value', value: 'DEST' },
      simulator: flag,
      chunk: { kind: 'value', value: 'BYTES', multiple: true, check: wholeNumber(1, 16 << 20) },
      ahead: { kind: 'value', value: 'N', check: wholeNumber(0, 1024) },
      holders: { kind: 'value', value: 'N', check: wholeNumber(0, 100000) },
      runs: { kind: 'value', value: 'N', check: wholeNumber(1, 101) },
      lmbench: flag,
      json: flag,
      'accept-new': flag,
    },
    positionals: [0, 0],
    forms: [
      {
        options: ['ssh', 'simulator', 'chunk', 'ahead', 'holders', 'runs', 'lmbench', 'json', 'accept-new'],
        about: 'bandwidth and latency of SQL pipes and stock pipes, with their ratios',
      },
    ],
  },
  {
    name: 'bench report',
    options: { emulated: flag },
    positionals: [1, 1],
    positionalName: 'FILE (saved benchmark output or a console log)',
    forms: [{ args: 'FILE', options: ['emulated'], about: 'the ratio table of saved benchmark output or a console log' }],
  },
];

function programs(): Buffer {
  const file = path.join(__dirname, 'helpers', 'pipebench-x86_64');
  if (!fs.existsSync(file)) throw new UsageError(`${file} is missing: npm run build makes it (needs gcc and libc6-dev)`, 'bench pipes');
  return fs.readFileSync(file);
}

export async function benchPipesCommand(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const sub = argv[0];
  const { values: v, positionals: files } = parseCommand(BENCH_COMMANDS.find((c) => c.name === `bench ${sub}`)!, argv.slice(1));
  const plan: BenchPlan = {
    chunks: (v.chunk as number[] | undefined) ?? [],
    ahead: (v.ahead as number | undefined) ?? 0,
    holders: (v.holders as number | undefined) ?? 0,
    runs: (v.runs as number | undefined) ?? 11,
    lmbench: v.lmbench === true,
  };
  const [ssh, json, acceptNew, simulator, emulated] = [v.ssh as string | undefined, v.json === true, v['accept-new'] === true, v.simulator === true, v.emulated === true];
  if (sub === 'report') {
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

/*
 * `sqliteos`: the core from a terminal. `run` runs a scenario on the simulator (exit 0 ok, 1 anomalies,
 * 2 bad input), `bench` runs the simulator benchmark, `inspect` / `query` read a real kernel (cli/kernel.ts).
 * Tests, users and CI all go through here.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parseScenario } from '../core/scenario/parser';
import { ScenarioRun, optionsFor } from '../core/scenario/runner';
import { Scenario } from '../core/scenario/ast';
import { explore } from '../core/explore/explorer';
import { summarize } from '../core/scenario/summary';
import { runJson } from '../core/scenario/run-json';
import { BENCH_USAGE, BenchUsageError } from './bench-cmd';
import { KERNEL_USAGE, KernelUsageError } from './kernel-cmd';
import { LOCK_POLICIES, LockPolicy, PROFILES, Profile, SimOptions } from '../core/sim/types';

const USAGE = `usage:
  sqliteos run FILE [--profile upstream|companion] [--locks sqliteos|memdb|sqliteos-as-printed] [--capacity BYTES] [--json]
  sqliteos run FILE --on guest|ssh:DEST|local [--capacity BYTES] [--json] [--accept-new]
                                 the scenario on a real companion kernel, with real processes
  sqliteos diff FILE [--on guest|ssh:DEST|local] [--json]   the simulator against a real kernel:
                                 exit 0 the same, 1 different, 2 bad input or no kernel
  sqliteos diff --generated N [--seed S] [--on ...]   N generated scenarios (seeds S, S+1, ...) on both
  sqliteos explore FILE [--profile P] [--locks L] [--capacity BYTES] [--max-states N] [--no-reduction] [--json]
  sqliteos bench [--quick] [--json]
  sqliteos bench --ssh DEST [--quick]                          polls of a real kernel against a bare round trip
  sqliteos inspect [--ssh DEST] [--json] [--accept-new] [--upstream]
                                 a real kernel's tables, locks, queues, pipes (--upstream: through 549 only)
  sqliteos query [--ssh DEST] [--json] [--accept-new] "SQL"   one read-only statement on a real kernel
     DEST: a Host of ~/.ssh/config, or user@host[:port]; without --ssh, this machine
  sqliteos guest start [--kernel PATH] [--port N] [--pending] | stop | status
                                 the companion kernel under QEMU with an SSH server on 127.0.0.1
${KERNEL_USAGE}
${BENCH_USAGE}`;

class UsageError extends Error {}

interface Args {
  cmd: string;
  file?: string;
  json: boolean;
  quick: boolean;
  maxStates?: number;
  /** explore --no-reduction: every process at every state. */
  reduction?: boolean;
  ssh?: string;
  on?: string;
  generated?: number;
  seed?: number;
  acceptNew: boolean;
  upstream: boolean;
  rest: string[];
  opts: Partial<SimOptions>;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { cmd: argv[0] ?? '', json: false, quick: false, acceptNew: false, upstream: false, rest: argv.slice(1), opts: {} };
  if (a.cmd === 'guest' || a.cmd === 'kernel' || (a.cmd === 'bench' && (argv[1] === 'pipes' || argv[1] === 'report'))) return a;
  for (let i = 1; i < argv.length; i++) {
    const v = argv[i];
    const value = () => {
      const x = argv[++i];
      if (x === undefined) throw new UsageError(`${v} needs a value`);
      return x;
    };
    if (v === '--json') a.json = true;
    else if (v === '--quick') a.quick = true;
    else if (v === '--accept-new') a.acceptNew = true;
    else if (v === '--upstream') a.upstream = true;
    else if (v === '--ssh') a.ssh = value();
    else if (v === '--on') a.on = value();
    else if (v === '--generated' || v === '--seed') {
      const x = Number(value());
      if (!Number.isInteger(x) || x < (v === '--seed' ? 0 : 1)) throw new UsageError(`${v}: expected a whole number${v === '--seed' ? '' : ' above 0'}`);
      if (v === '--seed') a.seed = x;
      else a.generated = x;
    }
    else if (v === '--profile') {
      const x = value();
      if (!(PROFILES as readonly string[]).includes(x)) throw new UsageError(`--profile: unknown profile '${x}' (${PROFILES.join(' | ')})`);
      a.opts.profile = x as Profile;
    } else if (v === '--locks') {
      const x = value();
      if (!(LOCK_POLICIES as readonly string[]).includes(x)) throw new UsageError(`--locks: unknown lock policy '${x}' (${LOCK_POLICIES.join(' | ')})`);
      a.opts.locks = x as LockPolicy;
    } else if (v === '--capacity') {
      const x = Number(value());
      if (!Number.isInteger(x) || x < 1) throw new UsageError('--capacity: expected a positive number of bytes');
      a.opts.capacity = x;
    } else if (v === '--no-reduction') {
      a.reduction = false;
    } else if (v === '--max-states') {
      const x = Number(value());
      if (!Number.isInteger(x) || x < 1) throw new UsageError('--max-states: expected a positive number');
      a.maxStates = x;
    } else if (v.startsWith('-')) throw new UsageError(`unknown option ${v}`);
    else if (a.file === undefined) a.file = v;
    else throw new UsageError(`unexpected argument '${v}'`);
  }
  return a;
}

function jsonReplacer(_k: string, v: unknown): unknown {
  return v instanceof Uint8Array ? { blob: v.length, hex: Buffer.from(v.subarray(0, 64)).toString('hex') } : v;
}

/** Reads and parses the scenario, printing located errors; undefined means exit 2. */
function load(a: Args, cmd: string): { source: string; scenario: Scenario } | undefined {
  if (!a.file) throw new UsageError(`${cmd}: which scenario file?`);
  let source: string;
  try {
    source = fs.readFileSync(a.file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory, not a scenario file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    process.stderr.write(`sqliteos ${cmd}: ${why}: ${a.file}\n`);
    return undefined;
  }
  const parsed = parseScenario(source, a.file);
  if (!parsed.ok) {
    for (const e of parsed.errors) process.stderr.write(`${e.toString()}\n`);
    return undefined;
  }
  return { source, scenario: parsed.scenario };
}

async function exploreCmd(a: Args): Promise<number> {
  const l = load(a, 'explore');
  if (!l) return 2;
  const res = await explore(l.scenario, { ...optionsFor(l.scenario, a.opts), maxStates: a.maxStates, reduction: a.reduction });
  if (a.json) {
    process.stdout.write(`${JSON.stringify(res)}\n`);
  } else {
    const rate = res.states / (res.ms / 1000);
    process.stdout.write(`${a.file}: profile ${res.profile}, locks ${res.locks}\n`);
    process.stdout.write(`${res.states} states, ${res.transitions} transitions, ${res.complete} complete runs in ${(res.ms / 1000).toFixed(2)} s (${rate.toFixed(0)} states/s)${res.exhausted ? ', exhausted' : ''}\n`);
    process.stdout.write(res.reduction ? `reduction on: ${res.pruned} choices left out (--no-reduction tries every process at every state)\n` : 'reduction off\n');
    const v = res.violation;
    if (v) {
      process.stdout.write(`${a.file}:${v.line}: ${v.kind}: ${v.message}\n`);
      process.stdout.write(`${v.shortest === false ? 'schedule, shortened' : 'shortest schedule'} (${v.schedule.length} micro-steps): ${JSON.stringify(v.schedule)}\n`);
    } else if (!res.exhausted) {
      process.stdout.write(`no violation in the states visited; the search stopped at --max-states ${a.maxStates ?? 50000}\n`);
    } else {
      process.stdout.write('no violation in any interleaving\n');
    }
  }
  return res.violation ? 1 : 0;
}

async function onKernel(a: Args, cmd: 'run' | 'diff'): Promise<number> {
  const l = load(a, cmd);
  if (!l) return 2;
  const { scenarioOnKernel } = await import('./scenario-kernel-cmd');
  const io = [(s: string) => process.stdout.write(s), (s: string) => process.stderr.write(s)] as const;
  return scenarioOnKernel({ cmd, scenario: l.scenario, source: l.source, on: a.on ?? 'guest', json: a.json, acceptNew: a.acceptNew, opts: a.opts }, ...io);
}

async function run(a: Args): Promise<number> {
  if (a.on) return onKernel(a, 'run');
  const l = load(a, 'run');
  if (!l) return 2;
  const source = l.source;
  const r = await ScenarioRun.create(l.scenario, a.opts);
  r.runDefault();
  const res = r.result();
  r.kernel.close();
  process.stdout.write(a.json ? `${JSON.stringify(runJson(res), jsonReplacer, 2)}\n` : `${summarize(res, source.split('\n'))}\n`);
  return res.ok ? 0 : 1;
}

/** The .vsix a user installs, against its 5 MB goal (`npm run package` makes it). */
function packageSize(): string {
  const file = path.join(__dirname, '..', 'dist-vsix', 'sqliteos-companion.vsix');
  if (!fs.existsSync(file)) return 'package: not built (npm run package makes dist-vsix/sqliteos-companion.vsix)';
  const mb = fs.statSync(file).size / 1e6;
  return `package: dist-vsix/sqliteos-companion.vsix ${mb.toFixed(2)} MB (goal < 5 MB: ${mb < 5 ? 'met' : 'NOT met'})`;
}

/** `sqliteos guest ...`: kernel-scripts/qemu/guest.sh, which holds the QEMU and initramfs details. */
function guest(rest: string[]): number {
  const sub = rest[0];
  if (sub !== 'start' && sub !== 'stop' && sub !== 'status') throw new UsageError('guest: start, stop or status?');
  const script = path.join(__dirname, '..', 'kernel-scripts', 'qemu', 'guest.sh');
  if (!fs.existsSync(script)) throw new UsageError(`guest: ${script} is missing (the guest runs from a checkout of the repository)`);
  const r = spawnSync('bash', [script, ...rest], { stdio: 'inherit' });
  return r.status === null ? 2 : r.status;
}

/** `--help`, `-h` or `help` anywhere before a `--`: the usage, exit 0. */
function wantsHelp(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((v) => v === '--help' || v === '-h') || argv[0] === 'help';
}

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  return `sqliteos ${pkg.version}`;
}

export async function main(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (argv[0] === '--version' || argv[0] === '-V') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  try {
    const a = parseArgs(argv);
    if (a.cmd === 'run') return await run(a);
    if (a.cmd === 'diff' && a.generated) {
      if (a.file) throw new UsageError('diff --generated makes its own scenarios: no FILE');
      const { generatedDiff } = await import('./scenario-kernel-cmd');
      const seed = a.seed ?? Math.floor(Date.now() / 1000) % 1000000;
      return await generatedDiff({ count: a.generated, seed, on: a.on ?? 'guest', acceptNew: a.acceptNew }, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
    }
    if (a.cmd === 'diff') return await onKernel(a, 'diff');
    if (a.cmd === 'explore') return await exploreCmd(a);
    if (a.cmd === 'inspect' || a.cmd === 'query') {
      if (a.cmd === 'query' && !a.file) throw new UsageError('query: which SQL statement?');
      if (a.cmd === 'inspect' && a.file) throw new UsageError(`unexpected argument '${a.file}'`);
      const { kernelCommand } = await import('./kernel');
      const out = (s: string) => process.stdout.write(s);
      const err = (s: string) => process.stderr.write(s);
      return await kernelCommand({ cmd: a.cmd, ssh: a.ssh, json: a.json, acceptNew: a.acceptNew, upstream: a.upstream, sql: a.file }, out, err);
    }
    if (a.cmd === 'guest') return guest(a.rest);
    if (a.cmd === 'kernel') {
      const { kernelWorkCommand } = await import('./kernel-cmd');
      return await kernelWorkCommand(a.rest, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
    }
    if (a.cmd === 'bench' && (a.rest[0] === 'pipes' || a.rest[0] === 'report')) {
      const { benchPipesCommand } = await import('./bench-cmd');
      return await benchPipesCommand(a.rest, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
    }
    if (a.cmd === 'bench' && a.ssh) {
      const { kernelCommand } = await import('./kernel');
      return await kernelCommand({ cmd: 'bench', ssh: a.ssh, json: false, acceptNew: a.acceptNew, runs: a.quick ? 5 : 21 }, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
    }
    if (a.cmd === 'bench') {
      const { runBench } = await import('../core/bench/simbench');
      const code = await runBench({ quick: a.quick, json: a.json, out: (s: string) => process.stdout.write(s) });
      if (!a.json) process.stdout.write(`\n${packageSize()}\n`);
      return code;
    }
    throw new UsageError(a.cmd ? `unknown command '${a.cmd}'` : 'which command?');
  } catch (e) {
    if (e instanceof UsageError || e instanceof KernelUsageError || e instanceof BenchUsageError) {
      process.stderr.write(`sqliteos: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
}

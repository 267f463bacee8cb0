/*
 * `sqliteos`: the core from a terminal. `run` runs a scenario on the simulator (exit 0 ok, 1 anomalies,
 * 2 bad input), `bench` runs the simulator benchmark, `inspect` / `query` read a real kernel (cli/inspect-cmd.ts).
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
import { BENCH_COMMANDS } from './bench-cmd';
import { KERNEL_COMMANDS } from './kernel-work-cmd';
import { RECORD_SPEC } from './record-cmd';
import { CommandSpec, Opt, UsageError, oneOf, parseCommand, usageOf, wholeNumber } from './options';
import { LOCK_POLICIES, PROFILES, SimOptions } from '../core/sim/types';
import { ANOMALY_KINDS, AnomalyKind } from '../core/sim/events';

const SIM_OPTIONS: Record<string, Opt> = {
  profile: { kind: 'value', check: oneOf(PROFILES, 'profile') },
  locks: { kind: 'value', check: oneOf(LOCK_POLICIES, 'lock policy') },
  capacity: { kind: 'value', value: 'BYTES', check: wholeNumber(1) },
};
const flag: Opt = { kind: 'flag' };
const ON: Opt = { kind: 'value', value: 'guest|ssh:DEST|local' };
const SSH: Opt = { kind: 'value', value: 'DEST' };

/** `sqliteos guest ...`: checked here, then passed to kernel-scripts/qemu/guest.sh as they were typed. */
const GUEST_COMMANDS: CommandSpec[] = [
  {
    name: 'guest start',
    options: {
      kernel: { kind: 'value', value: 'PATH' },
      published: flag,
      port: { kind: 'value', value: 'N', check: wholeNumber(1, 65535) },
      'no-demo': flag,
      pending: flag,
      holders: { kind: 'value', value: 'N', check: wholeNumber(0, 30000) },
      mem: { kind: 'value', value: 'MiB', check: wholeNumber(128, 16384) },
      gdb: flag,
    },
    positionals: [0, 0],
    forms: [
      { options: ['kernel', 'port', 'no-demo', 'pending', 'holders', 'mem', 'gdb'], about: 'the companion kernel under QEMU with an SSH server on 127.0.0.1 (--gdb: and its gdbstub on a unix socket)' },
      { options: ['published', 'port', 'no-demo', 'mem'], about: 'the published SQLiteOS kernel itself (its sqlite3.c reconstructed), the same way' },
    ],
  },
  { name: 'guest stop', options: {}, positionals: [0, 0], forms: [{ options: [] }] },
  { name: 'guest dump', options: {}, positionals: [1, 1], positionalName: 'core FILE', forms: [{ args: 'FILE', options: [], about: "the running guest's memory as an ELF core (for inspect --core)" }] },
  { name: 'guest status', options: {}, positionals: [0, 0], forms: [{ options: [] }] },
];

/** The commands' option tables; the usage is written from them. */
const COMMANDS: CommandSpec[] = [
  {
    name: 'run',
    options: { ...SIM_OPTIONS, json: flag, on: ON, 'accept-new': flag },
    positionals: [1, 1],
    positionalName: 'scenario FILE',
    forms: [
      { args: 'FILE', options: ['profile', 'locks', 'capacity', 'json'] },
      { args: 'FILE', options: ['on', 'profile', 'capacity', 'json', 'accept-new'], about: 'the scenario on a real kernel, with real processes (the companion profile on the companion kernel, upstream on the published one)' },
    ],
  },
  {
    name: 'diff',
    options: { on: ON, json: flag, 'accept-new': flag, profile: SIM_OPTIONS.profile, capacity: SIM_OPTIONS.capacity, generated: { kind: 'value', value: 'N', check: wholeNumber(1) }, seed: { kind: 'value', value: 'S', check: wholeNumber(0) } },
    positionals: [0, 1],
    forms: [
      { args: 'FILE', options: ['on', 'profile', 'capacity', 'json', 'accept-new'], about: 'the simulator against a real kernel: exit 0 the same, 1 different, 2 bad input or no kernel' },
      { options: ['generated', 'seed', 'on', 'accept-new'], about: "N generated scenarios (seeds S, S+1, ...) on both, for the kernel's profile" },
    ],
  },
  {
    name: 'explore',
    options: { ...SIM_OPTIONS, 'max-states': { kind: 'value', value: 'N', check: wholeNumber(1) }, 'no-reduction': flag, 'every-violation': flag, json: flag },
    positionals: [1, 1],
    positionalName: 'scenario FILE',
    forms: [{ args: 'FILE', options: ['profile', 'locks', 'capacity', 'max-states', 'no-reduction', 'every-violation', 'json'], about: 'every interleaving of the scenario, searched for a deadlock, lost wake-up or failed expectation (the first, or with --every-violation each kind and line)' }],
  },
  {
    name: 'minimize',
    options: { ...SIM_OPTIONS, kind: { kind: 'value', value: 'K', check: oneOf(ANOMALY_KINDS, 'violation kind') }, line: { kind: 'value', value: 'N', check: wholeNumber(1) }, run: flag, out: { kind: 'value', value: 'FILE' }, 'max-states': { kind: 'value', value: 'N', check: wholeNumber(1) }, 'max-tests': { kind: 'value', value: 'N', check: wholeNumber(1) }, json: flag },
    positionals: [1, 1],
    positionalName: 'scenario FILE',
    forms: [
      {
        args: 'FILE',
        options: ['kind', 'line', 'run', 'out', 'profile', 'locks', 'capacity', 'max-states', 'max-tests', 'json'],
        about: "the scenario made small while explore (--run: the default schedule) still shows its violation (--kind K, --line N: that one) at the same statement; written to --out FILE or printed, never over FILE",
      },
    ],
  },
  {
    name: 'bench',
    options: { quick: flag, json: flag, ssh: SSH, 'accept-new': flag, gdb: { kind: 'value', value: 'ENDPOINT' }, vmlinux: { kind: 'value', value: 'PATH' } },
    positionals: [0, 0],
    forms: [
      { options: ['quick', 'json'], about: "the simulator's benchmarks" },
      { options: ['ssh', 'quick', 'accept-new'], about: 'polls of a real kernel against a bare round trip' },
      { options: ['ssh', 'gdb', 'vmlinux', 'quick', 'accept-new'], about: 'and snapshots read from its memory on its gdbstub, against those polls' },
    ],
  },
  ...BENCH_COMMANDS,
  {
    name: 'inspect',
    options: { ssh: SSH, json: flag, 'accept-new': flag, upstream: flag, gdb: { kind: 'value', value: 'ENDPOINT' }, vmlinux: { kind: 'value', value: 'PATH' }, stay: flag, core: { kind: 'value', value: 'FILE' } },
    positionals: [0, 0],
    forms: [
      { options: ['ssh', 'json', 'accept-new', 'upstream'], about: "a real kernel's tables, locks, queues, pipes (--upstream: through 549 only)" },
      { options: ['gdb', 'vmlinux', 'stay', 'json'], about: 'the same read from the memory of a companion kernel halted on its gdbstub (guest: the QEMU guest started with --gdb); it runs on after unless --stay' },
      { options: ['core', 'json'], about: 'the same from a saved core (sqliteos guest dump)' },
    ],
  },
  {
    name: 'query',
    options: { ssh: SSH, json: flag, 'accept-new': flag },
    positionals: [1, 1],
    positionalName: 'SQL statement',
    forms: [
      {
        args: '"SQL"',
        options: ['ssh', 'json', 'accept-new'],
        about: 'one read-only statement on a real kernel\n   DEST: a Host of ~/.ssh/config, user@host[:port], or guest (the QEMU guest); without --ssh, this machine',
      },
    ],
  },
  RECORD_SPEC,
  ...GUEST_COMMANDS,
  ...KERNEL_COMMANDS,
];

const USAGE = `usage:\n${COMMANDS.map(usageOf).join('\n')}`;

/** The table of the command argv starts with, and how many of argv's words name it. */
function commandOf(argv: string[]): { spec: CommandSpec; words: number } | undefined {
  const two = COMMANDS.find((c) => c.name === `${argv[0]} ${argv[1]}`);
  if (two) return { spec: two, words: 2 };
  const one = COMMANDS.find((c) => c.name === argv[0]);
  return one && { spec: one, words: 1 };
}

interface Args {
  cmd: string;
  file?: string;
  json: boolean;
  quick: boolean;
  maxStates?: number;
  /** explore --no-reduction: every process at every state. */
  reduction?: boolean;
  /** explore --every-violation: search on past each violation. */
  everyViolation?: boolean;
  ssh?: string;
  on?: string;
  generated?: number;
  seed?: number;
  acceptNew: boolean;
  upstream: boolean;
  /** inspect from memory: a gdbstub (and the vmlinux with the layout record's address) or a core */
  gdb?: string;
  vmlinux?: string;
  core?: string;
  stay?: boolean;
  /** minimize */
  kind?: AnomalyKind;
  line?: number;
  byRun?: boolean;
  out?: string;
  maxTests?: number;
  rest: string[];
  opts: Partial<SimOptions>;
}

function parseArgsOf(argv: string[]): Args {
  const a: Args = { cmd: argv[0] ?? '', json: false, quick: false, acceptNew: false, upstream: false, rest: argv.slice(1), opts: {} };
  const c = commandOf(argv);
  if (!c) {
    if (a.cmd === 'guest' || a.cmd === 'kernel') throw new UsageError(`${a.cmd}: ${a.cmd === 'guest' ? 'start, stop, status or dump' : 'status, source, patch, build, test or install'}? (not '${argv[1] ?? ''}')`);
    throw new UsageError(a.cmd ? `unknown command '${a.cmd}'` : 'which command?');
  }
  const { values: v, positionals } = parseCommand(c.spec, argv.slice(c.words));
  // Commands with their own words (guest start, kernel build, bench pipes) read their table again where they run.
  if (c.words === 2) return a;
  a.file = positionals[0];
  a.json = v.json === true;
  a.quick = v.quick === true;
  a.acceptNew = v['accept-new'] === true;
  a.upstream = v.upstream === true;
  a.ssh = v.ssh as string | undefined;
  a.gdb = v.gdb as string | undefined;
  a.vmlinux = v.vmlinux as string | undefined;
  a.core = v.core as string | undefined;
  a.stay = v.stay === true;
  a.on = v.on as string | undefined;
  a.generated = v.generated as number | undefined;
  a.seed = v.seed as number | undefined;
  a.maxStates = v['max-states'] as number | undefined;
  a.maxTests = v['max-tests'] as number | undefined;
  a.kind = v.kind as AnomalyKind | undefined;
  a.line = v.line as number | undefined;
  a.byRun = v.run === true;
  a.out = v.out as string | undefined;
  if (v['no-reduction']) a.reduction = false;
  if (v['every-violation']) a.everyViolation = true;
  for (const k of ['profile', 'locks', 'capacity'] as const) if (v[k] !== undefined) (a.opts as Record<string, unknown>)[k] = v[k];
  return a;
}

function jsonReplacer(_k: string, v: unknown): unknown {
  return v instanceof Uint8Array ? { blob: v.length, hex: Buffer.from(v.subarray(0, 64)).toString('hex') } : v;
}

/** Reads and parses the scenario, printing located errors; undefined means exit 2. */
function load(a: Args, cmd: string): { source: string; scenario: Scenario } | undefined {
  if (!a.file) throw new UsageError('which scenario FILE?', cmd);
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
  const res = await explore(l.scenario, { ...optionsFor(l.scenario, a.opts), maxStates: a.maxStates, reduction: a.reduction, everyViolation: a.everyViolation });
  if (a.json) {
    process.stdout.write(`${JSON.stringify(res)}\n`);
  } else {
    const rate = res.states / (res.ms / 1000);
    process.stdout.write(`${a.file}: profile ${res.profile}, locks ${res.locks}\n`);
    process.stdout.write(`${res.states} states, ${res.transitions} transitions, ${res.complete} complete runs in ${(res.ms / 1000).toFixed(2)} s (${rate.toFixed(0)} states/s)${res.exhausted ? ', exhausted' : ''}\n`);
    process.stdout.write(res.reduction ? `reduction on: ${res.pruned} choices left out by persistent sets, ${res.slept} asleep (--no-reduction tries every process at every state)\n` : 'reduction off\n');
    for (const v of res.violations ?? (res.violation ? [res.violation] : [])) {
      process.stdout.write(`${a.file}:${v.line}: ${v.kind}: ${v.message}\n`);
      process.stdout.write(`${v.shortest === false ? 'schedule, shortened' : 'shortest schedule'} (${v.schedule.length} micro-steps): ${JSON.stringify(v.schedule)}\n`);
    }
    if (res.violation) {
      if (res.violations && !res.exhausted) process.stdout.write(`the search stopped at --max-states ${a.maxStates ?? 50000}: other violations may be left\n`);
    } else if (!res.exhausted) {
      process.stdout.write(`no violation in the states visited; the search stopped at --max-states ${a.maxStates ?? 50000}\n`);
    } else {
      process.stdout.write('no violation in any interleaving\n');
    }
  }
  return res.violation ? 1 : 0;
}

async function minimizeCmd(a: Args): Promise<number> {
  const l = load(a, 'minimize');
  if (!l) return 2;
  if (a.out && path.resolve(a.out) === path.resolve(a.file!)) throw new UsageError(`--out ${a.out} is the scenario being minimized: write the result beside it`, 'minimize');
  const { minimize, MinimizeError } = await import('../core/explore/minimize');
  let res;
  try {
    const statements = l.scenario.statements.length;
    const tty = process.stderr.isTTY && !a.json;
    res = await minimize(l.scenario, l.source, {
      ...a.opts,
      maxStates: a.maxStates,
      maxTests: a.maxTests,
      kind: a.kind,
      line: a.line,
      by: a.byRun ? 'run' : 'explore',
      progress: tty ? (p) => process.stderr.write(`\r${p.tests} tests, ${p.statements} of ${statements} statements left `) : undefined,
    });
    if (tty) process.stderr.write('\n');
  } catch (e) {
    if (!(e instanceof MinimizeError)) throw e;
    process.stderr.write(`sqliteos minimize: ${a.file}: ${e.message}\n`);
    return 2;
  }
  if (a.out) fs.writeFileSync(a.out, res.source);
  if (a.json) process.stdout.write(`${JSON.stringify(res)}\n`);
  else if (!a.out) process.stdout.write(res.source);
  const where = a.out ?? 'the result';
  const o = res.original;
  process.stderr.write(
    `${a.file}:${o.line}: ${res.kind} kept: ${where}:${res.line}: ${res.message}\n` +
      `${o.statements} statements -> ${res.statements}, ${o.bytes} bytes written -> ${res.bytes}; ${res.tests} candidates tested in ${(res.ms / 1000).toFixed(1)} s` +
      `${res.stopped ? ` (stopped at ${res.stopped === 'max-tests' ? '--max-tests' : 'a cancel'}: smaller may exist)` : ''}\n`,
  );
  return 0;
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
  const script = path.join(__dirname, '..', 'kernel-scripts', 'qemu', 'guest.sh');
  if (!fs.existsSync(script)) throw new UsageError(`${script} is missing (the guest runs from a checkout of the repository)`, `guest ${rest[0]}`);
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
    if (argv[0] === 'record') {
      const { recordCommand } = await import('./record-cmd');
      return await recordCommand(argv.slice(1), (s) => process.stdout.write(s), (s) => process.stderr.write(s));
    }
    const a = parseArgsOf(argv);
    if (a.cmd === 'run') return await run(a);
    if (a.cmd === 'diff' && a.generated) {
      if (a.file) throw new UsageError('--generated makes its own scenarios: no FILE', 'diff');
      const { generatedDiff } = await import('./scenario-kernel-cmd');
      const seed = a.seed ?? Math.floor(Date.now() / 1000) % 1000000;
      return await generatedDiff({ count: a.generated, seed, on: a.on ?? 'guest', acceptNew: a.acceptNew }, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
    }
    if (a.cmd === 'diff') {
      if (!a.file) throw new UsageError('which scenario FILE? (or --generated N)', 'diff');
      return await onKernel(a, 'diff');
    }
    if (a.cmd === 'explore') return await exploreCmd(a);
    if (a.cmd === 'minimize') return await minimizeCmd(a);
    if (a.cmd === 'inspect' && (a.gdb || a.core)) {
      if (a.ssh || a.upstream || (a.gdb && a.core)) throw new UsageError('one source: --ssh, --gdb or --core', 'inspect');
      const { memoryCommand } = await import('./inspect-cmd');
      return await memoryCommand({ gdb: a.gdb, core: a.core, vmlinux: a.vmlinux, stay: a.stay === true, json: a.json }, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
    }
    if (a.cmd === 'inspect' && (a.vmlinux || a.stay)) throw new UsageError(`--${a.vmlinux ? 'vmlinux' : 'stay'} goes with --gdb`, 'inspect');
    if (a.cmd === 'inspect' || a.cmd === 'query') {
      const { kernelCommand } = await import('./inspect-cmd');
      const out = (s: string) => process.stdout.write(s);
      const err = (s: string) => process.stderr.write(s);
      return await kernelCommand({ cmd: a.cmd, ssh: a.ssh, json: a.json, acceptNew: a.acceptNew, upstream: a.upstream, sql: a.file }, out, err);
    }
    if (a.cmd === 'guest' && a.rest[0] === 'dump') {
      const { guestDump } = await import('./inspect-cmd');
      return await guestDump(a.rest[1], path.join(__dirname, '..'), (s) => process.stdout.write(s), (s) => process.stderr.write(s));
    }
    if (a.cmd === 'guest') return guest(a.rest);
    if (a.cmd === 'kernel') {
      const { kernelWorkCommand } = await import('./kernel-work-cmd');
      return await kernelWorkCommand(a.rest, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
    }
    if (a.cmd === 'bench' && (a.rest[0] === 'pipes' || a.rest[0] === 'report')) {
      const { benchPipesCommand } = await import('./bench-cmd');
      return await benchPipesCommand(a.rest, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
    }
    if (a.cmd === 'bench' && a.ssh) {
      const { kernelCommand } = await import('./inspect-cmd');
      return await kernelCommand({ cmd: 'bench', ssh: a.ssh, json: false, acceptNew: a.acceptNew, runs: a.quick ? 5 : 21, gdb: a.gdb, vmlinux: a.vmlinux }, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
    }
    if (a.cmd === 'bench') {
      const { runBench } = await import('../core/bench/simbench');
      const code = await runBench({ quick: a.quick, json: a.json, out: (s: string) => process.stdout.write(s) });
      if (!a.json) process.stdout.write(`\n${packageSize()}\n`);
      return code;
    }
    throw new UsageError(`unknown command '${a.cmd}'`);
  } catch (e) {
    if (e instanceof UsageError) {
      // The command's own usage where it is known; the whole of it otherwise.
      const spec = COMMANDS.find((c) => c.name === e.command);
      process.stderr.write(`sqliteos${e.command ? ` ${e.command}` : ''}: ${e.message}\n${spec ? `usage:\n${usageOf(spec)}` : USAGE}\n`);
      return 2;
    }
    throw e;
  }
}

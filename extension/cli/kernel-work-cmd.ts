/*
 * `sqliteos kernel status|source|patch|build|test|install [--ssh DEST] ...`: the extension's Kernel
 * commands from a terminal, through the same KernelWork. The log goes to stdout (or to --log FILE, with
 * steps, progress every tenth and diagnostics still on stdout); Ctrl+C cancels and says whether anything
 * was left running. Exit 0 done, 1 the work failed (build error, failed checks), 2 bad input or no
 * connection, 130 cancelled.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Cancelled, describeTree, KERNEL_CONFIGS, KernelConfig, KernelWork, KernelWorkError, SOURCE_KINDS, SourceKind, TreeInfo, WorkEvent } from '../machines/kernel-work';
import { LocalShell } from '../machines/sources';
import { resolveWithGuest } from '../machines/guest';
import { DestinationError } from '../machines/ssh/config';
import { ConnectionManager, SshError } from '../machines/ssh/connection';
import { askTerminal, terminalPrompts } from './inspect-cmd';
import { CommandSpec, Opt, UsageError, oneOf, parseCommand, wholeNumber } from './options';

const flag: Opt = { kind: 'flag' };
const PATH_: Opt = { kind: 'value', value: 'PATH' };
/** Every kernel command works here or on an SSH target, with kernel-scripts from the package or --scripts. */
const WHERE: Record<string, Opt> = { ssh: { kind: 'value', value: 'DEST' }, 'accept-new': flag, scripts: { kind: 'value', value: 'DIR' } };
const kernelSpec = (sub: string, options: Record<string, Opt>, args: string, about: string, required: string[] = []): CommandSpec => ({
  name: `kernel ${sub}`,
  options: { ...options, ...WHERE },
  positionals: [0, 0],
  required,
  forms: [{ args, options: [...Object.keys(options).filter((k) => !required.includes(k)), ...Object.keys(WHERE)], about }],
});

export const KERNEL_COMMANDS: CommandSpec[] = [
  kernelSpec('status', { tree: PATH_ }, '--tree PATH', "a tree's release, kind, patch state, tested here or not", ['tree']),
  kernelSpec(
    'source',
    { from: { kind: 'value', check: oneOf(SOURCE_KINDS, 'source') }, dir: { kind: 'value', value: 'DIR' } },
    '',
    "unpacks Debian's linux-source-6.1 or 6.12, or fetches WSL2's 5.15.146.1 (the paper's) or 6.6, or the\npublished SQLiteOS tree, into DIR (~/sqliteos-kernel); SQLITEOS_PUBLISHED_TARBALL=FILE: published and\nwsl from that tarball of the published tree",
  ),
  kernelSpec(
    'patch',
    { tree: PATH_, yes: flag },
    '--tree PATH',
    'applies the companion patch; a tree with the published SQLiteOS in it is listed, and with --yes\ntaken out first',
    ['tree'],
  ),
  kernelSpec(
    'build',
    {
      tree: PATH_,
      config: { kind: 'value', check: oneOf(KERNEL_CONFIGS, 'configuration') },
      out: { kind: 'value', value: 'DIR' },
      fragment: { kind: 'value', value: 'NAME|FILE', multiple: true },
      jobs: { kind: 'value', value: 'N', check: wholeNumber(1, 1024) },
      log: { kind: 'value', value: 'FILE' },
    },
    '--tree PATH',
    "builds bzImage (progress: objects of make -n's count)",
    ['tree'],
  ),
  kernelSpec('test', { image: PATH_, timeout: { kind: 'value', value: 'S', check: wholeNumber(1, 86400) } }, '--image PATH', 'boots it under QEMU with the guest checks', ['image']),
  kernelSpec(
    'install',
    { image: PATH_, release: { kind: 'value', value: 'R' }, yes: flag },
    '--image PATH',
    'WSL2: copies it to the Windows profile and sets kernel= in .wslconfig',
    ['image'],
  ),
];

interface Opts {
  sub: string;
  ssh?: string;
  acceptNew: boolean;
  tree?: string;
  from: SourceKind;
  dir?: string;
  config: KernelConfig;
  out?: string;
  fragments: string[];
  jobs?: number;
  log?: string;
  image?: string;
  release?: string;
  timeout: number;
  scripts?: string;
  yes: boolean;
}

function parse(argv: string[]): Opts {
  const spec = KERNEL_COMMANDS.find((c) => c.name === `kernel ${argv[0]}`);
  if (!spec) throw new UsageError(`kernel: status, source, patch, build, test or install? (not '${argv[0] ?? ''}')`);
  const { values: v } = parseCommand(spec, argv.slice(1));
  return {
    sub: argv[0],
    ssh: v.ssh as string | undefined,
    acceptNew: v['accept-new'] === true,
    tree: v.tree as string | undefined,
    from: (v.from as SourceKind | undefined) ?? 'debian',
    dir: v.dir as string | undefined,
    config: (v.config as KernelConfig | undefined) ?? 'qemu',
    out: v.out as string | undefined,
    fragments: (v.fragment as string[] | undefined) ?? [],
    jobs: v.jobs as number | undefined,
    log: v.log as string | undefined,
    image: v.image as string | undefined,
    release: v.release as string | undefined,
    timeout: (v.timeout as number | undefined) ?? 600,
    scripts: v.scripts as string | undefined,
    yes: v.yes === true,
  };
}

const treeLine = (t: TreeInfo) => `${t.tree}: ${describeTree(t)}`;

export async function kernelWorkCommand(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const o = parse(argv);
  const root = path.join(__dirname, '..');
  const scripts = { dir: path.resolve(o.scripts ?? path.join(root, 'kernel-scripts')), amalgamation: path.join(root, '.cache', 'sqlite') };
  if (!fs.existsSync(path.join(scripts.dir, 'kernel.sh'))) throw new UsageError(`--scripts: ${scripts.dir} has no kernel.sh`, `kernel ${o.sub}`);
  const manager = new ConnectionManager(() => ({ prompts: terminalPrompts(), hostKeyPolicy: o.acceptNew ? 'accept-new' : process.stdin.isTTY ? 'ask' : 'strict' }));
  const abort = new AbortController();
  const onSigint = () => {
    err('\nsqliteos kernel: cancelling...\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  const logFile = o.log ? fs.openSync(o.log, 'w') : undefined;
  let lastTenth = -1;
  const on = (e: WorkEvent) => {
    if (e.kind === 'line') {
      if (logFile !== undefined) fs.writeSync(logFile, `${e.text}\n`);
      else if (!e.text.startsWith('@@sqliteos ')) out(`${e.text}\n`);
    } else if (logFile !== undefined) {
      if (e.kind === 'step') out(`   ${e.step}\n`);
      else if (e.kind === 'progress' && e.total) {
        const tenth = Math.min(10, Math.floor((10 * e.done) / e.total));
        if (tenth > lastTenth) out(`   ${e.done} of ${e.total} objects\n`);
        lastTenth = tenth;
      } else if (e.kind === 'diagnostic') {
        const d = e.diagnostic;
        out(`${e.file.local ?? d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}\n`);
      }
    }
    if (e.kind === 'check' && !e.check.ok) err(`not ok ${e.check.n} - ${e.check.name}${e.check.why ? ` (${e.check.why})` : ''}\n`);
  };
  try {
    const local = !o.ssh;
    const shell = o.ssh ? await manager.get(resolveWithGuest(o.ssh, path.join(__dirname, '..'))) : new LocalShell();
    const work = new KernelWork(shell, scripts, local);
    const abs = (p: string) => (local ? path.resolve(p) : p);
    switch (o.sub) {
      case 'status':
        out(`${treeLine(await work.status(abs(o.tree!)))}\n`);
        return 0;
      case 'source':
        out(`${treeLine(await work.source(o.from, abs(o.dir ?? (local ? path.join(os.homedir(), 'sqliteos-kernel') : 'sqliteos-kernel')), on, abort.signal))}\n`);
        return 0;
      case 'patch': {
        const tree = abs(o.tree!);
        if ((await work.status(tree)).patch === 'published') {
          const plan = await work.unpublishPlan(tree);
          const list = plan.map((p) => `  ${p}\n`).join('');
          if (!o.yes) {
            err(`sqliteos kernel patch: ${tree} carries the published SQLiteOS; the companion patch replaces it. Taking it out removes:\n${list}Run again with --yes to take it out and apply the companion patch.\n`);
            return 1;
          }
          out(`taking the published SQLiteOS out of ${tree}:\n${list}`);
          await work.unpublish(tree, on, abort.signal);
        }
        out(`${treeLine(await work.patch(tree, on, abort.signal))}\n`);
        return 0;
      }
      case 'build': {
        const t0 = Date.now();
        const r = await work.build({ tree: abs(o.tree!), out: o.out && abs(o.out), config: o.config, jobs: o.jobs, fragments: o.fragments }, on, abort.signal);
        const warnings = r.diagnostics.filter((d) => d.diagnostic.severity === 'warning').length;
        out(`built ${r.image} (${r.release}) in ${Math.round((Date.now() - t0) / 1000)} s: ${r.objects} objects compiled (make -n counted ${r.total ?? '?'}), ${warnings} warnings\n`);
        return 0;
      }
      case 'test': {
        const r = await work.test(abs(o.image!), on, abort.signal, o.timeout);
        for (const rep of r.run.reports) err(`${rep}\n`);
        out(`${r.ok ? 'passed' : 'FAILED'}: ${r.message}\n`);
        return r.ok ? 0 : 1;
      }
      case 'install': {
        const r = await work.installWsl(abs(o.image!), o.release ?? '', async (edit, file) => {
          out(`${file}:\n  ${edit.before ? `- ${edit.before}\n  + ${edit.after}` : `+ ${edit.after} (under [wsl2])`}\n`);
          if (!edit.changed) return true;
          return o.yes || (process.stdin.isTTY && (await askTerminal('Write this change (a backup is kept)? (yes/no) '))?.trim() === 'yes');
        });
        if (!r) {
          err('sqliteos kernel install: not changed (answer yes, or pass --yes)\n');
          return 1;
        }
        out(`installed ${r.windowsImage}${r.backup ? `; the old file is in ${r.backup}` : ''}\nnow run \`wsl --shutdown\` in Windows, and start the distribution again\n`);
        return 0;
      }
    }
    return 2;
  } catch (e) {
    if (e instanceof Cancelled) {
      err(`sqliteos kernel ${o.sub}: ${e.message}\n`);
      return 130;
    }
    if (e instanceof KernelWorkError) {
      err(`sqliteos kernel ${o.sub}: ${e.message}\n`);
      return 1;
    }
    if (e instanceof SshError || e instanceof DestinationError) {
      err(`sqliteos kernel ${o.sub}: ${e.message}\n`);
      return 2;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    if (logFile !== undefined) fs.closeSync(logFile);
    manager.closeAll();
  }
}

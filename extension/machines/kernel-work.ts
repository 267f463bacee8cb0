/*
 * Kernel work on a machine that builds (this one, or an SSH target): get a tree, apply the patch, build,
 * boot the guest checks, install for WSL2. The work itself is kernel-scripts/kernel.sh, run there (uploaded
 * once per version to ~/.cache/sqliteos-companion/scripts-HASH/); this side streams its output into events
 * (log lines, progress, diagnostics mapped to the patch's files, check results) and cancels it by killing
 * its whole session there (session-run.ts), then checks that nothing of it is left. The CLI and the extension both use it.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { BuildLog, Diagnostic, MappedFile, driverLine, mapBuildPath } from '../core/kernel-output/build-log';
import { CheckResult, GuestChecks, GuestRun } from '../core/kernel-output/guest-checks';
import { TarEntry, tarGz } from '../core/files/tar';
import { WslConfigEdit, setWslKernel } from '../core/files/wslconfig';
import { CACHE_DIR_SH, Shell, shellQuote } from './kernel-host';
import { Cancelled, runInSession } from './session-run';

export { Cancelled };

export type KernelConfig = 'qemu' | 'wsl' | 'tree';
export const KERNEL_CONFIGS: readonly KernelConfig[] = ['qemu', 'wsl', 'tree'];
/** Where kernel.sh gets a tree (its `source` step): the one list of them, with their words. */
export const SOURCES = {
  wsl: { label: 'WSL2 5.15.146.1', description: "Microsoft's tree of the paper's kernel (git, or a tarball from GitHub); tested here" },
  'wsl-6.6': { label: 'WSL2 6.6', description: "Microsoft's current default WSL2 kernel (git, branch linux-msft-wsl-6.6.y); not tested here: it lies between 6.1 and 6.12" },
  debian: { label: "Debian's linux-source-6.1", description: 'the tree npm run test:kernel uses (apt package linux-source-6.1); tested here' },
  'debian-6.12': { label: "Debian's linux-source-6.12", description: 'apt package linux-source-6.12; tested here' },
  published: { label: 'The published SQLiteOS tree', description: 'realVinayak/SQLiteOS as the paper published it (WSL2 5.15.146.1 with the paper\'s patch)' },
} as const;
export type SourceKind = keyof typeof SOURCES;
export const SOURCE_KINDS = Object.keys(SOURCES) as SourceKind[];

export interface TreeInfo {
  tree: string;
  version: string;
  kind: 'debian' | 'wsl' | 'other';
  patch: 'companion' | 'published' | 'none';
  /** A published tree's ksqlite/sqlite3.c: the authors' own, ours (kernel-scripts/published/), or absent. */
  sqlite3?: 'authors' | 'reconstructed' | 'missing';
  /** One of the trees this project builds and boots in its tests (kernel.sh status says which). */
  tested: boolean;
}

/** A tree in words: "Linux 6.1.192 (Debian's linux-source, tested here), the companion patch applied". */
export function describeTree(t: TreeInfo): string {
  const sqlite3 = { authors: '', reconstructed: ' (its sqlite3.c reconstructed)', missing: ' (its sqlite3.c missing: kernel.sh reconstruct makes it)' }[t.sqlite3 ?? 'authors'];
  const patch = { companion: 'the companion patch applied', published: `the published SQLiteOS kernel${sqlite3}`, none: 'not patched' }[t.patch];
  const kind = t.kind === 'wsl' ? "Microsoft's WSL2 tree" : t.kind === 'debian' ? "Debian's linux-source" : 'a kernel tree';
  return `Linux ${t.version} (${kind}, ${t.tested ? 'tested here' : 'not tested here'}), ${patch}`;
}

export type WorkEvent =
  | { kind: 'line'; text: string }
  | { kind: 'step'; step: string }
  | { kind: 'progress'; done: number; total?: number; object: string }
  | { kind: 'diagnostic'; diagnostic: Diagnostic; file: MappedFile }
  | { kind: 'check'; check: CheckResult };

export interface BuildResult {
  image: string;
  release: string;
  objects: number;
  total?: number;
  diagnostics: { diagnostic: Diagnostic; file: MappedFile }[];
}

/** The work failed (not cancelled): the message says what, where, and what to do. */
export class KernelWorkError extends Error {
  constructor(
    message: string,
    readonly missingPackages: string[] = [],
  ) {
    super(message);
  }
}

export interface ScriptsSource {
  /** kernel-scripts on this machine (the extension's own copy, or a scratch copy to try changes). */
  dir: string;
  /** A directory with sqlite3.c and sqlite3.h to send along (so the machine needs no npm to fetch it). */
  amalgamation?: string;
}

const SKIP = /(^|\/)(__pycache__|.*\.pyc|.*\.o)$/;

function walk(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (SKIP.test(r)) continue;
    if (e.isDirectory()) out.push(...walk(dir, r));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

export class KernelWork {
  private remoteScripts: Promise<string> | undefined;

  constructor(
    readonly shell: Shell,
    readonly scripts: ScriptsSource,
    /** The shell is this machine's: paths are the same here and there, nothing is uploaded. */
    readonly local: boolean,
  ) {}

  get label(): string {
    return this.shell.label;
  }

  /** kernel-scripts on the machine that builds. */
  scriptsDir(): Promise<string> {
    if (this.local) return Promise.resolve(this.scripts.dir);
    this.remoteScripts ??= this.upload().catch((e) => {
      this.remoteScripts = undefined;
      throw e;
    });
    return this.remoteScripts;
  }

  private async upload(): Promise<string> {
    const entries: TarEntry[] = walk(this.scripts.dir).map((r) => {
      const file = path.join(this.scripts.dir, ...r.split('/'));
      return { name: `kernel-scripts/${r}`, data: fs.readFileSync(file), mode: fs.statSync(file).mode & 0o777 };
    });
    const a = this.scripts.amalgamation;
    if (a && fs.existsSync(path.join(a, 'sqlite3.c')) && fs.existsSync(path.join(a, 'sqlite3.h'))) {
      for (const f of ['sqlite3.c', 'sqlite3.h']) entries.push({ name: `.cache/sqlite/${f}`, data: fs.readFileSync(path.join(a, f)), mode: 0o644 });
    }
    const tar = tarGz(entries);
    const hash = createHash('sha256').update(tar).digest('hex').slice(0, 16);
    const cache = (await this.must(`printf %s ${CACHE_DIR_SH}`)).trim();
    const dir = `${cache}/scripts-${hash}`;
    const have = await this.shell.exec(`test -f ${shellQuote(`${dir}/.complete`)}`);
    if (have.code !== 0) {
      await this.must(`mkdir -p ${shellQuote(dir)}`);
      await this.shell.upload(`${dir}.tar.gz`, tar, 0o600);
      await this.must(`tar xzf ${shellQuote(`${dir}.tar.gz`)} -C ${shellQuote(dir)} && rm -f ${shellQuote(`${dir}.tar.gz`)} && touch ${shellQuote(`${dir}/.complete`)}`);
    }
    return `${dir}/kernel-scripts`;
  }

  private async must(command: string): Promise<string> {
    const r = await this.shell.exec(command, { timeoutMs: 60000 });
    if (r.code !== 0) throw new KernelWorkError(`${this.label}: '${command}' failed: ${r.stderr.trim() || `exit ${r.code}`}`);
    return r.stdout.toString('utf8');
  }

  /** Runs kernel.sh with ARGS in a session of its own there, handing each output line to onLine. */
  async run(args: string[], onLine: (line: string) => void, signal?: AbortSignal): Promise<void> {
    const scripts = await this.scriptsDir();
    let tail: string[] = [];
    const missing: string[] = [];
    const r = await runInSession(
      this.shell,
      ['bash', `${scripts}/kernel.sh`, ...args].map(shellQuote).join(' '),
      (line) => {
        const d = driverLine(line);
        if (d?.key === 'missing') missing.push(...d.value.split(' '));
        tail = [...tail.slice(-19), line];
        onLine(line);
      },
      signal,
    );
    if (r.code !== 0) {
      const why = [...tail].reverse().find((l) => /^kernel\.sh: |^apply\.sh: |error|Error|\*\*\*/.test(l)) ?? tail[tail.length - 1] ?? `exit ${r.code}`;
      throw new KernelWorkError(`${this.label}: kernel.sh ${args[0]} failed: ${why.replace(/^kernel\.sh: /, '')}`, missing);
    }
  }

  private static treeInfo(lines: string[]): TreeInfo {
    const f: Record<string, string> = {};
    for (const l of lines) {
      const d = driverLine(l);
      if (d) f[d.key] = d.value;
    }
    return { tree: f.tree ?? '', version: f.version ?? '?', kind: (f.kind as TreeInfo['kind']) ?? 'other', patch: (f.patch as TreeInfo['patch']) ?? 'none', ...(f.sqlite3 ? { sqlite3: f.sqlite3 as TreeInfo['sqlite3'] } : {}), tested: f.tested === 'yes' };
  }

  /** Runs a step whose result is the tree facts it prints. */
  private async treeStep(args: string[], on: (e: WorkEvent) => void, signal?: AbortSignal): Promise<TreeInfo> {
    const lines: string[] = [];
    await this.run(args, (text) => (lines.push(text), on({ kind: 'line', text })), signal);
    return KernelWork.treeInfo(lines);
  }

  status(tree: string, on: (e: WorkEvent) => void = () => undefined): Promise<TreeInfo> {
    return this.treeStep(['status', tree], on);
  }

  source(kind: SourceKind, dir: string, on: (e: WorkEvent) => void, signal?: AbortSignal): Promise<TreeInfo> {
    return this.treeStep(['source', kind, dir], on, signal);
  }

  patch(tree: string, on: (e: WorkEvent) => void, signal?: AbortSignal): Promise<TreeInfo> {
    return this.treeStep(['patch', tree], on, signal);
  }

  /** What taking the published SQLiteOS out of TREE removes ("file: what" each), changing nothing. */
  async unpublishPlan(tree: string): Promise<string[]> {
    const lines: string[] = [];
    await this.run(['unpublish', tree, '--list'], (l) => lines.push(l));
    return lines.filter((l) => l.startsWith('would remove: ')).map((l) => l.slice('would remove: '.length));
  }

  /** Takes the published SQLiteOS out of TREE (Microsoft's WSL2 tree as it was), then reads it again. */
  async unpublish(tree: string, on: (e: WorkEvent) => void, signal?: AbortSignal): Promise<TreeInfo> {
    await this.run(['unpublish', tree], (text) => on({ kind: 'line', text }), signal);
    return this.status(tree, on);
  }

  /** The out directory a configuration builds into when none is given: beside the tree's sources. */
  static defaultOut(tree: string, config: KernelConfig): string {
    return config === 'tree' ? tree : `${tree.replace(/\/+$/, '')}/.sqliteos-build/${config}`;
  }

  async build(
    o: { tree: string; out?: string; config: KernelConfig; jobs?: number; fragments?: string[] },
    on: (e: WorkEvent) => void,
    signal?: AbortSignal,
  ): Promise<BuildResult> {
    const scripts = await this.scriptsDir();
    const out = o.out ?? KernelWork.defaultOut(o.tree, o.config);
    const fragments = (o.fragments ?? []).map((f) => {
      if (/^[a-z][a-z0-9-]*$/.test(f)) return `${scripts}/qemu/${f}.fragment`;
      if (!this.local) throw new KernelWorkError(`--fragment ${f}: only the fragments in kernel-scripts/qemu (by name: debug, no-sqliteos) go to a remote machine`);
      return path.resolve(f);
    });
    const log = new BuildLog(o.config === 'tree' ? o.tree : out);
    const result: BuildResult = { image: '', release: '', objects: 0, diagnostics: [] };
    const args = ['build', o.tree, out, o.config, ...(o.jobs ? [`-j${o.jobs}`] : []), ...fragments];
    await this.run(
      args,
      (text) => {
        on({ kind: 'line', text });
        const e = log.line(text);
        if (!e) return;
        if (e.kind === 'object') {
          result.objects = e.done;
          on({ kind: 'progress', done: e.done, total: result.total, object: e.path });
        } else if (e.kind === 'diagnostic') {
          const d = { diagnostic: e.diagnostic, file: mapBuildPath(e.diagnostic.file, o.tree, this.scripts.dir, this.local, path.join) };
          result.diagnostics.push(d);
          on({ kind: 'diagnostic', ...d });
        } else if (e.key === 'total') result.total = Number(e.value);
        else if (e.key === 'step') on({ kind: 'step', step: e.value });
        else if (e.key === 'image') result.image = e.value;
        else if (e.key === 'release') result.release = e.value;
      },
      signal,
    ).catch((e) => {
      // The diagnostics say more than make's last line.
      const first = result.diagnostics.find((d) => d.diagnostic.severity === 'error');
      if (e instanceof KernelWorkError && first) {
        const d = first.diagnostic;
        throw new KernelWorkError(`${this.label}: the build failed: ${first.file.local ?? d.file}:${d.line}:${d.column}: ${d.message}`, e.missingPackages);
      }
      throw e;
    });
    return result;
  }

  /** Boots IMAGE with the guest checks; each check as it finishes, the whole run at the end. */
  async test(image: string, on: (e: WorkEvent) => void, signal?: AbortSignal, timeoutS = 600): Promise<{ run: GuestRun; ok: boolean; message: string }> {
    const checks = new GuestChecks();
    await this.run(
      ['test', image, String(timeoutS)],
      (text) => {
        on({ kind: 'line', text });
        const d = driverLine(text);
        if (d?.key === 'step') return on({ kind: 'step', step: d.value });
        const c = checks.line(text);
        if (c) on({ kind: 'check', check: c });
      },
      signal,
    );
    return { run: checks.run, ...checks.verdict() };
  }

  /** WSL2: the Windows user profile, as a path here and as Windows writes it. */
  async windowsProfile(): Promise<{ wsl: string; windows: string }> {
    const lines: string[] = [];
    await this.run(['windows-profile'], (l) => lines.push(l));
    const p = lines.map((l) => driverLine(l)).find((d) => d?.key === 'profile')?.value.match(/^(\S+) (.+)$/);
    if (!p) throw new KernelWorkError(`${this.label}: could not learn the Windows user profile`);
    return { wsl: p[1], windows: p[2] };
  }

  /**
   * WSL2: copies IMAGE beside the Windows profile and points .wslconfig's kernel= at it. `confirm` sees
   * the edit first and may refuse; a backup of the old file is written before it is replaced.
   */
  async installWsl(image: string, release: string, confirm: (edit: WslConfigEdit, file: string) => Promise<boolean>): Promise<{ edit: WslConfigEdit; file: string; backup?: string; windowsImage: string } | undefined> {
    const profile = await this.windowsProfile();
    const name = `bzImage-${release.replace(/[^A-Za-z0-9._+-]/g, '_') || 'sqliteos'}`;
    const target = `${profile.wsl}/sqliteos-kernel/${name}`;
    const windowsImage = `${profile.windows.replace(/\\+$/, '')}\\sqliteos-kernel\\${name}`;
    const file = `${profile.wsl}/.wslconfig`;
    const read = await this.shell.exec(`cat ${shellQuote(file)}`);
    const original = read.code === 0 ? read.stdout.toString('utf8') : undefined;
    const edit = setWslKernel(original, windowsImage);
    if (!(await confirm(edit, file))) return undefined;
    await this.must(`mkdir -p ${shellQuote(`${profile.wsl}/sqliteos-kernel`)} && cp ${shellQuote(image)} ${shellQuote(target)}`);
    if (!edit.changed) return { edit, file, windowsImage };
    let backup: string | undefined;
    if (original !== undefined) {
      backup = `${file}.sqliteos-backup-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await this.must(`cp -p ${shellQuote(file)} ${shellQuote(backup)}`);
    }
    await this.shell.upload(file, Buffer.from(edit.text, 'utf8'), 0o644);
    return { edit, file, backup, windowsImage };
  }
}

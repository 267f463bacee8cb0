/*
 * Kernel work from the palette and the Target view: Get Kernel Source, Apply SQLiteOS Patch, Build Kernel,
 * Install Kernel, Boot in QEMU and Run Kernel Tests, on this machine or an SSH target. Each runs with a
 * progress notification whose Cancel kills the work there (and says if anything survived), streams the
 * whole log to the "SQLiteOS Kernel" output, and puts the compiler's errors and warnings in Problems at the
 * patch's own files. The machine, tree and image chosen are remembered in settings, so the next command
 * asks nothing. The work itself is KernelWork (no VS Code).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { Cmd, Setting } from '../ids';
import { KernelTests } from '../test-controller';
import { Session } from '../session';
import { builtImages, localGuest } from '../machines/guest';
import { RemoteTarget } from '../targets/remote';
import { Cancelled, describeTree, KERNEL_CONFIGS, KernelConfig, KernelWork, KernelWorkError, SOURCE_KINDS, SOURCES, SourceKind, TreeInfo, WorkEvent } from '../machines/kernel-work';
import { LocalShell } from '../machines/sources';
import { DestinationError, resolveDestination } from '../machines/ssh/config';
import type { ConnectCommands } from './connect';
import { installKernel } from './kernel-install';
import { UserError, register } from './register';

/** Arguments a caller (a test, a keybinding) may pass to skip the questions. */
export interface KernelArgs {
  machine?: string;
  tree?: string;
  config?: KernelConfig;
  out?: string;
  image?: string;
  from?: SourceKind;
  dir?: string;
}

export class KernelCommands implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly problems: vscode.DiagnosticCollection;
  readonly tests: KernelTests;

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly session: Session,
    private readonly connections: ConnectCommands,
  ) {
    this.log = vscode.window.createOutputChannel('SQLiteOS Kernel', { log: true });
    this.problems = vscode.languages.createDiagnosticCollection('sqliteos-kernel');
    this.tests = new KernelTests((work, image, on, token) => this.runTests(work, image, on, token), () => vscode.commands.executeCommand(Cmd.kernelTest));
  }

  registerAll(): void {
    const r = <A extends unknown[]>(id: Parameters<typeof register>[2], fn: (...a: A) => unknown) => register(this.ctx, this.log, id, fn);
    r(Cmd.kernelSource, (a?: KernelArgs) => this.source(a ?? {}));
    r(Cmd.kernelPatch, (a?: KernelArgs) => this.patch(a ?? {}));
    r(Cmd.kernelBuild, (a?: KernelArgs) => this.build(a ?? {}));
    r(Cmd.kernelInstall, (a?: KernelArgs) => this.install(a ?? {}));
    r(Cmd.kernelTest, (a?: KernelArgs) => this.test(a ?? {}));
  }

  private get config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(Setting.section);
  }

  private async remember(key: string, value: string): Promise<void> {
    if (this.config.get<string>(key) === value) return;
    const where = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await this.config.update(key, value, where);
    this.log.info(`remembered ${Setting.section}.${key} = ${value}`);
  }

  /** The kernel-scripts applied: a setting, else this workspace's own (a patch being worked on), else ours. */
  scriptsDir(): string {
    const set = this.config.get<string>(Setting.kernelScripts);
    if (set) return set;
    for (const f of vscode.workspace.workspaceFolders ?? []) {
      const d = path.join(f.uri.fsPath, 'kernel-scripts');
      if (fs.existsSync(path.join(d, 'kernel.sh'))) return d;
    }
    return path.join(this.ctx.extensionPath, 'kernel-scripts');
  }

  /** The machine that builds: "local", an SSH destination, or the connected target; asked when unset. */
  async work(a: KernelArgs): Promise<KernelWork> {
    let machine = a.machine ?? this.config.get<string>(Setting.kernelMachine);
    const target = this.session.target;
    if (!machine) {
      type Item = vscode.QuickPickItem & { value: string };
      const items: Item[] = [];
      if (process.platform === 'linux') items.push({ label: '$(vm) This Machine', description: `builds here, on ${os.hostname()}`, value: 'local' });
      // The connected target, unless it is the local QEMU guest: a busybox initramfs builds nothing.
      const guest = localGuest(this.ctx.extensionPath);
      const label = target instanceof RemoteTarget && target.info().kind === 'ssh' ? target.info().label : undefined;
      if (label && !(guest?.running && label === `root@[127.0.0.1]:${guest.port}`)) items.push({ label: `$(remote) ${label}`, description: 'the connected target', value: label });
      items.push({ label: '$(plug) Another SSH Host…', description: '~/.ssh/config, or user@host[:port]', value: '' });
      const pick = await vscode.window.showQuickPick(items, { title: 'Where is the kernel built?' });
      if (!pick) throw new Cancelled([]);
      machine = pick.value || (await vscode.window.showInputBox({ title: 'SSH host that builds the kernel', prompt: 'A Host of ~/.ssh/config, or user@host[:port]' }));
      if (!machine) throw new Cancelled([]);
      await this.remember(Setting.kernelMachine, machine);
    }
    const scripts = { dir: this.scriptsDir(), amalgamation: path.join(this.ctx.extensionPath, '.cache', 'sqlite') };
    if (machine === 'local') {
      if (process.platform !== 'linux') throw new UserError(`This machine runs ${process.platform}: build on a Linux host or a WSL2 distro over SSH (setting ${Setting.section}.${Setting.kernelMachine}).`);
      return new KernelWork(new LocalShell(), scripts, true);
    }
    try {
      const conn = await this.connections.manager.get(resolveDestination(machine));
      return new KernelWork(conn, scripts, false);
    } catch (e) {
      if (e instanceof DestinationError) throw new UserError(e.message);
      throw new UserError((e as Error).message);
    }
  }

  private async tree(a: KernelArgs): Promise<string> {
    const t = a.tree ?? this.config.get<string>(Setting.kernelTree);
    if (t) return t;
    const typed = await vscode.window.showInputBox({ title: 'Kernel tree', prompt: 'The path of a Linux tree on the machine that builds (or run Get Kernel Source first)' });
    if (!typed) throw new Cancelled([]);
    await this.remember(Setting.kernelTree, typed);
    return typed;
  }

  /** Runs fn under a cancellable progress notification; failures become one clear message. */
  async withProgress<T>(title: string, fn: (on: (e: WorkEvent) => void, report: (m: string, inc?: number) => void, signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
    this.log.show(true);
    this.log.info(`== ${title}`);
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => {
        this.log.warn('cancel requested: ending the work there');
        abort.abort();
      });
      const on = (e: WorkEvent) => {
        if (e.kind === 'line' && !e.text.startsWith('@@sqliteos ')) this.log.info(e.text);
        else if (e.kind === 'step') progress.report({ message: e.step });
      };
      try {
        return await fn(on, (message, increment) => progress.report({ message, increment }), abort.signal);
      } catch (e) {
        if (e instanceof Cancelled) {
          this.log.warn(e.message);
          if (e.leftBehind.length) void vscode.window.showWarningMessage(`SQLiteOS: ${title}: ${e.message}`);
          else void vscode.window.showInformationMessage(`SQLiteOS: ${title}: cancelled; nothing of it is left running.`);
          return undefined;
        }
        if (e instanceof KernelWorkError) {
          this.log.error(e.message);
          const install = e.missingPackages.length ? `sudo apt-get install --no-install-recommends ${e.missingPackages.join(' ')}` : undefined;
          const copy = 'Copy Install Command';
          const showLog = 'Show Log';
          void vscode.window.showErrorMessage(`SQLiteOS: ${e.message}`, ...(install ? [copy] : []), showLog).then((b) => {
            if (b === copy && install) void vscode.env.clipboard.writeText(install);
            if (b === showLog) this.log.show();
          });
          return undefined;
        }
        throw e;
      }
    });
  }

  async source(a: KernelArgs): Promise<TreeInfo | undefined> {
    const work = await this.work(a);
    type Item = vscode.QuickPickItem & { value: SourceKind | 'existing' };
    const from =
      a.from ??
      (
        await vscode.window.showQuickPick<Item>(
          [
            ...SOURCE_KINDS.map((value): Item => ({ ...SOURCES[value], value })),
            { label: 'An Existing Tree…', description: 'a path on that machine', value: 'existing' },
          ],
          { title: `Kernel source on ${work.label}` },
        )
      )?.value;
    if (!from) return undefined;
    if (from === 'existing') {
      const t = await this.tree({});
      const info = await this.withProgress(`Reading ${t} on ${work.label}`, (on) => work.status(t, on));
      if (info) void vscode.window.showInformationMessage(`SQLiteOS: ${info.tree}: ${describeTree(info)}`);
      return info;
    }
    const dir = a.dir ?? 'sqliteos-kernel';
    const info = await this.withProgress(`Getting kernel source on ${work.label}`, (on, _r, signal) => work.source(from, work.local ? path.resolve(os.homedir(), dir) : dir, on, signal));
    if (!info) return undefined;
    await this.remember(Setting.kernelTree, info.tree);
    void vscode.window.showInformationMessage(`SQLiteOS: ${info.tree}: ${describeTree(info)}`);
    return info;
  }

  async patch(a: KernelArgs): Promise<TreeInfo | undefined> {
    const work = await this.work(a);
    const tree = await this.tree(a);
    const status = await this.withProgress(`Reading ${tree}`, (on) => work.status(tree, on));
    if (!status) return undefined;
    if (status.patch === 'published') {
      // The companion patch replaces the published one: say what goes, and keep the tree as it is unless asked.
      const plan = await this.withProgress(`Reading ${tree}`, () => work.unpublishPlan(tree));
      if (!plan) return undefined;
      const replace = 'Replace with the Companion Patch';
      const yes = await vscode.window.showWarningMessage(
        `${tree} carries the published SQLiteOS kernel. Replace it with the companion patch?`,
        { modal: true, detail: `Taken out (${plan.length} changes):\n${plan.join('\n')}\n\nTo build the published kernel as it is, choose Cancel and Build Kernel.` },
        replace,
      );
      if (yes !== replace) return undefined;
      const bare = await this.withProgress(`Taking the published SQLiteOS out of ${tree}`, (on, _r, signal) => work.unpublish(tree, on, signal));
      if (!bare) return undefined;
    } else if (status.patch === 'none' && !a.tree) {
      type Item = vscode.QuickPickItem & { value: 'companion' | 'published' };
      const pick = await vscode.window.showQuickPick<Item>(
        [
          { label: 'The Companion Patch', description: "this project's: the published ABI, its defects fixed, an inspection interface", value: 'companion' },
          { label: 'The Published SQLiteOS Kernel, As It Is', description: 'fetch realVinayak/SQLiteOS beside this tree and build that instead', value: 'published' },
        ],
        { title: `${tree}: ${describeTree(status)}` },
      );
      if (!pick) return undefined;
      if (pick.value === 'published') return this.source({ ...a, from: 'published', dir: path.posix.dirname(tree) });
    } else if (!a.tree) {
      // The tree was remembered, not chosen now: say which before changing it.
      const apply = 'Apply';
      const yes = await vscode.window.showInformationMessage(`Apply the companion patch to ${tree} on ${work.label}?`, { modal: true, detail: `${describeTree(status)}. The patch's files are copied in again; the tree is set in ${Setting.section}.${Setting.kernelTree}.` }, apply);
      if (yes !== apply) return undefined;
    }
    const info = await this.withProgress(`Applying the SQLiteOS patch to ${tree} on ${work.label}`, (on, _r, signal) => work.patch(tree, on, signal));
    if (info) void vscode.window.showInformationMessage(`SQLiteOS: ${info.tree}: ${describeTree(info)}`);
    return info;
  }

  async build(a: KernelArgs): Promise<{ image: string; release: string } | undefined> {
    const work = await this.work(a);
    const tree = await this.tree(a);
    let config = a.config ?? this.config.get<KernelConfig>(Setting.kernelConfig);
    if (!config) {
      const pick = await vscode.window.showQuickPick(
        [
          { label: 'wsl', description: "Microsoft's config-wsl + CONFIG_SQLITEOS: a kernel for WSL2" },
          { label: 'qemu', description: 'tinyconfig + the test fragment: a small kernel to boot under QEMU' },
          { label: 'tree', description: "the tree's own .config (built in the tree)" },
        ],
        { title: 'Kernel configuration' },
      );
      if (!pick) return undefined;
      config = pick.label as KernelConfig;
      await this.remember(Setting.kernelConfig, config);
    }
    if (!KERNEL_CONFIGS.includes(config)) throw new UserError(`${Setting.section}.${Setting.kernelConfig}: unknown configuration '${config}' (${KERNEL_CONFIGS.join(', ')})`);
    const out = a.out ?? (this.config.get<string>(Setting.kernelOut) || undefined);
    const jobs = this.config.get<number>(Setting.kernelJobs) || undefined;
    this.problems.clear();
    const byFile = new Map<string, vscode.Diagnostic[]>();
    let elsewhere = 0;
    const t0 = Date.now();
    const r = await this.withProgress(`Building the kernel on ${work.label}`, (on, report, signal) =>
      work.build({ tree, out, config, jobs }, (e) => {
        on(e);
        if (e.kind === 'progress') {
          const total = e.total && e.total >= e.done ? e.total : undefined;
          report(`${e.done}${total ? ` of ${total}` : ''} objects: ${e.object}`, total ? 100 / total : undefined);
        } else if (e.kind === 'diagnostic') {
          const d = e.diagnostic;
          if (!e.file.local) {
            elsewhere++;
            return;
          }
          const severity = d.severity === 'error' ? vscode.DiagnosticSeverity.Error : d.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information;
          const pos = new vscode.Position(Math.max(0, d.line - 1), Math.max(0, d.column - 1));
          const diag = new vscode.Diagnostic(new vscode.Range(pos, pos.translate(0, 1)), d.message, severity);
          diag.source = `kernel build on ${work.label}`;
          const list = byFile.get(e.file.local) ?? [];
          list.push(diag);
          byFile.set(e.file.local, list);
          this.problems.set(vscode.Uri.file(e.file.local), list);
        }
      }, signal),
    );
    if (elsewhere) this.log.warn(`${elsewhere} diagnostics in files outside the patch (on ${work.label}): see the log above`);
    if (!r) return undefined;
    const warnings = r.diagnostics.filter((d) => d.diagnostic.severity === 'warning').length;
    await this.remember(Setting.kernelImage, r.image);
    this.log.info(`built ${r.image} (${r.release}) in ${Math.round((Date.now() - t0) / 1000)} s: ${r.objects} objects compiled, ${warnings} warnings`);
    const next = config === 'qemu' ? 'Run Kernel Tests' : 'Install Kernel';
    void vscode.window.showInformationMessage(`SQLiteOS: built ${r.release} on ${work.label}${warnings ? ` (${warnings} warnings in Problems)` : ''}.`, next).then((b) => {
      if (b) void vscode.commands.executeCommand(config === 'qemu' ? Cmd.kernelTest : Cmd.kernelInstall);
    });
    return { image: r.image, release: r.release };
  }

  /**
   * The image to boot: the one given or remembered, else one this checkout built (.cache/kbuild*, as the
   * QEMU guest boots) or test:kernel:trees built, picked and remembered.
   */
  async image(a: KernelArgs): Promise<string> {
    const i = a.image ?? this.config.get<string>(Setting.kernelImage);
    if (i) return i;
    const built = builtImages(path.join(this.ctx.extensionPath, '.cache'), path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'sqliteos-companion'));
    const build = { title: 'Build Kernel', run: () => vscode.commands.executeCommand(Cmd.kernelBuild) };
    if (!built.length) throw new UserError(`No kernel image yet: none set (sqliteos.kernel.image) and none built in ${path.join(this.ctx.extensionPath, '.cache')}.`, [build]);
    const kinds: Record<string, string> = {
      kbuild: 'the tested configuration',
      'kbuild-debug': 'the checking kernel (lockdep, KASAN, kmemleak)',
      'kbuild-nosqliteos': 'without CONFIG_SQLITEOS',
      'kbuild-5.15': 'WSL2 5.15.146.1, the tested configuration',
      'kbuild-5.15-debug': 'WSL2 5.15.146.1, the checking kernel',
      'kbuild-6.12': 'Debian 6.12, the tested configuration',
      'kbuild-6.12-debug': 'Debian 6.12, the checking kernel',
    };
    const pick = await vscode.window.showQuickPick(
      built.map((b) => ({ label: `$(file-binary) ${b.release ?? 'unknown release'}`, description: `${b.build}: ${kinds[b.build] ?? 'another build'}, ${new Date(b.mtimeMs).toLocaleString()}`, detail: b.path, image: b.path })),
      { title: 'Which kernel image? (remembered in sqliteos.kernel.image)' },
    );
    if (!pick) throw new Cancelled([]);
    await this.config.update(Setting.kernelImage, pick.image, vscode.workspace.workspaceFolders ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global);
    return pick.image;
  }

  async test(a: KernelArgs): Promise<boolean | undefined> {
    const image = await this.image(a);
    const work = await this.work(a);
    return this.tests.runFor(image, work);
  }

  /** The Testing API's run: boots the image there and reports each guest check as it finishes. */
  private runTests(work: KernelWork, image: string, on: (e: WorkEvent) => void, token: vscode.CancellationToken): Promise<{ ok: boolean; message: string } | undefined> {
    return this.withProgress(`Booting ${path.posix.basename(image)} with the guest checks on ${work.label}`, async (log, report, signal) => {
      const abort = new AbortController();
      signal.addEventListener('abort', () => abort.abort());
      token.onCancellationRequested(() => abort.abort());
      let n = 0;
      const r = await work.test(image, (e) => {
        log(e);
        on(e);
        if (e.kind === 'check') report(`${++n} checks: ${e.check.name}`);
      }, abort.signal);
      this.log.info(`guest checks: ${r.message}`);
      if (r.ok) void vscode.window.showInformationMessage(`SQLiteOS: kernel checks: ${r.message}`);
      else void vscode.window.showErrorMessage(`SQLiteOS: kernel checks: ${r.message} (Testing view)`);
      return r;
    });
  }

  install(a: KernelArgs): Promise<unknown> {
    return installKernel(this, this.ctx, this.connections, a);
  }

  dispose(): void {
    this.log.dispose();
    this.problems.dispose();
    this.tests.dispose();
  }
}

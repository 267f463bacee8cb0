/*
 * Commands that load and drive the simulator: run or load a scenario (the active editor, a file from the
 * explorer, or one picked), open an example, step by statement or micro-step, run to the end, reset, and
 * switch profile or lock policy. Results go to the SQLiteOS output channel and the views.
 */
import * as vscode from 'vscode';
import { parseScenario } from '../core/scenario/parser';
import { RunResult } from '../core/scenario/runner';
import { OptionLayer, resolveOptions } from '../core/scenario/options';
import { firstComment, summarize } from '../core/scenario/summary';
import { LOCK_POLICIES, LockPolicy, PROFILES, Profile, SimOptions } from '../core/sim/types';
import { Cmd, Ctx, LANGUAGE, Setting } from '../ids';
import { Session } from '../session';
import { SimulatorTarget, simulatorOf } from '../targets/simulator';
import { RemoteTarget } from '../targets/remote';
import { UserError, register } from './register';
import { textOf } from '../text';

interface Loaded {
  uri: vscode.Uri;
  text: string;
}

export class ScenarioCommands {
  private loaded: Loaded | undefined;
  /** Chosen from the Target view; like the CLI's flags they win over the file's directives. */
  private overrides: Partial<SimOptions> = {};

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly session: Session,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  registerAll(): void {
    this.ctx.subscriptions.push(
      this.session.onDidChangeTarget((t) => void vscode.commands.executeCommand('setContext', Ctx.scenarioLoaded, !!simulatorOf(t)?.scenario)),
    );
    const r = <A extends unknown[]>(id: Parameters<typeof register>[2], fn: (...a: A) => unknown) => register(this.ctx, this.log, id, fn);
    r(Cmd.runScenario, (uri?: vscode.Uri) => this.load(uri, true));
    r(Cmd.loadScenario, (uri?: vscode.Uri) => this.load(uri, false));
    r(Cmd.openExample, (name?: string) => this.openExample(name));
    r(Cmd.useSimulator, () => this.useSimulator());
    r(Cmd.stepStatement, () => this.step((s) => s.stepStatement()));
    r(Cmd.stepMicro, () => this.step((s) => s.stepMicro()));
    r(Cmd.runToEnd, () => this.report(this.sim().runToEnd()));
    r(Cmd.reset, () => this.reset());
    r(Cmd.setProfile, () => this.choose('profile', PROFILES));
    r(Cmd.setLocks, () => this.choose('locks', LOCK_POLICIES));
  }

  /** What this window adds to resolveOptions: the overrides chosen here and the settings. */
  optionSources(): { overrides: OptionLayer; settings: OptionLayer } {
    return { overrides: { ...this.overrides }, settings: this.defaults() };
  }

  private defaults(): OptionLayer {
    const c = vscode.workspace.getConfiguration(Setting.section);
    return { profile: c.get<Profile>(Setting.profile), locks: c.get<LockPolicy>(Setting.locks), capacity: c.get<number>(Setting.capacity) };
  }

  private sim(): SimulatorTarget {
    const t = this.session.target;
    const s = simulatorOf(t);
    if (s?.scenario) return s;
    const ed = vscode.window.activeTextEditor;
    const here = ed?.document.languageId === LANGUAGE ? ed.document.uri : undefined;
    const loadIt = here ? [{ title: 'Load in Simulator', run: () => this.load(here, false) }] : [];
    if (t instanceof RemoteTarget) {
      throw new UserError(
        `The views show ${t.info().label}, a real kernel: stepping is the simulator's. Load the scenario in the simulator (the connection is closed), or run it on the kernel.`,
        [...loadIt, ...(here ? [{ title: 'Run on Kernel', run: () => vscode.commands.executeCommand(Cmd.runOnKernel, here) }] : [])],
      );
    }
    throw new UserError('No scenario is loaded in the simulator: load a .sqlos file first.', loadIt);
  }

  private async pickFile(uri?: vscode.Uri): Promise<vscode.Uri | undefined> {
    if (uri instanceof vscode.Uri) return uri;
    const ed = vscode.window.activeTextEditor;
    if (ed?.document.languageId === LANGUAGE) return ed.document.uri;
    const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'SQLiteOS scenario': ['sqlos'] }, openLabel: 'Run scenario' });
    return picked?.[0];
  }

  async load(uri: vscode.Uri | undefined, runIt: boolean): Promise<RunResult | undefined> {
    const file = await this.pickFile(uri);
    if (!file) return undefined;
    return this.start({ uri: file, text: await textOf(file) }, runIt);
  }

  private async start(l: Loaded, runIt: boolean): Promise<RunResult | undefined> {
    const name = vscode.workspace.asRelativePath(l.uri);
    const parsed = parseScenario(l.text, name);
    if (!parsed.ok) {
      for (const e of parsed.errors) this.log.error(e.toString());
      const n = parsed.errors.length;
      throw new UserError(`${name} has ${n} error${n === 1 ? '' : 's'} (see Problems); nothing ran. First: ${parsed.errors[0].toString()}`);
    }
    const s = parsed.scenario;
    const target = await SimulatorTarget.create(s, resolveOptions({ ...this.optionSources(), file: s }));
    target.sourcePath = l.uri.fsPath;
    this.loaded = l;
    this.session.setTarget(target);
    this.log.info(`loaded ${name}: ${target.info().label}`);
    if (!runIt) return undefined;
    return this.report(target.runToEnd());
  }

  private report(res: RunResult): RunResult {
    const source = this.loaded?.text.split('\n') ?? [];
    this.log.info(`\n${summarize(res, source)}`);
    this.log.show(true);
    if (!res.ok) void vscode.window.showWarningMessage(`SQLiteOS: ${res.anomalies.length} anomaly(ies): ${res.anomalies[0].kind} at line ${res.anomalies[0].line}. See the SQLiteOS output.`);
    return res;
  }

  private step(f: (s: SimulatorTarget) => boolean): void {
    const s = this.sim();
    if (!f(s)) {
      this.report(s.result());
      throw new UserError('Nothing can run: the scenario has finished or every process is blocked.');
    }
  }

  private async reset(): Promise<void> {
    if (!this.loaded) throw new UserError('No scenario is loaded: nothing to reset.');
    await this.start({ uri: this.loaded.uri, text: await textOf(this.loaded.uri) }, false);
  }

  private async useSimulator(): Promise<void> {
    this.loaded = undefined;
    const d = this.defaults();
    this.session.setTarget(await SimulatorTarget.create(null, { ...d, ...this.overrides }));
  }

  /**
   * Opens a copy of an example, never the extension's own file (editing that would change the installed
   * extension): in the workspace's sqliteos-examples/ when a folder is open, else in the extension's
   * storage. An existing copy is opened as it is, so the user's edits survive.
   */
  private async openExample(name?: string): Promise<vscode.Uri | undefined> {
    const dir = vscode.Uri.joinPath(this.ctx.extensionUri, 'examples');
    const files = (await vscode.workspace.fs.readDirectory(dir)).map(([f]) => f).filter((f) => f.endsWith('.sqlos')).sort();
    let pick = name;
    if (!pick) {
      const items = await Promise.all(files.map(async (f) => ({ label: f, detail: firstComment(Buffer.from(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(dir, f))).toString('utf8')) })));
      pick = (await vscode.window.showQuickPick(items, { placeHolder: 'Open a copy of an example scenario', matchOnDetail: true }))?.label;
    }
    if (!pick) return undefined;
    if (!files.includes(pick)) throw new UserError(`No example named ${pick}.`);
    const ws = vscode.workspace.workspaceFolders?.[0];
    const copies = ws ? vscode.Uri.joinPath(ws.uri, 'sqliteos-examples') : vscode.Uri.joinPath(this.ctx.globalStorageUri, 'examples');
    const copy = vscode.Uri.joinPath(copies, pick);
    try {
      await vscode.workspace.fs.stat(copy);
    } catch {
      await vscode.workspace.fs.createDirectory(copies);
      await vscode.workspace.fs.copy(vscode.Uri.joinPath(dir, pick), copy);
    }
    await vscode.window.showTextDocument(copy, { preview: false });
    const t = this.session.target;
    if (t instanceof RemoteTarget) {
      // Connected to a real kernel: the example opens beside it; the user says where it runs.
      const load = 'Load in Simulator';
      const run = 'Run on Kernel';
      void vscode.window.showInformationMessage(`SQLiteOS: opened a copy of ${pick}. The views still show ${t.info().label}.`, run, load).then((b) => {
        if (b === load) return vscode.commands.executeCommand(Cmd.loadScenario, copy);
        if (b === run) return vscode.commands.executeCommand(Cmd.runOnKernel, copy);
        return undefined;
      });
      return copy;
    }
    await this.load(copy, false);
    return copy;
  }

  private async choose<K extends 'profile' | 'locks'>(key: K, values: readonly SimOptions[K][]): Promise<void> {
    const current = simulatorOf(this.session.target)?.options[key];
    const pick = await vscode.window.showQuickPick(
      values.map((v) => ({ label: v, description: v === current ? 'current' : undefined })),
      { placeHolder: `Simulator ${key} (overrides the scenario's @${key})` },
    );
    if (!pick) return;
    this.overrides = { ...this.overrides, [key]: pick.label };
    if (this.loaded) await this.start(this.loaded, false);
    else await this.useSimulator();
  }

  /** Opens a copy of an example at start-up, loaded (npm start sets SQLITEOS_START_EXAMPLE). */
  async startWith(example: string): Promise<void> {
    await this.openExample(example);
  }
}

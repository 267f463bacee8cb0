/*
 * Run Pipe Benchmarks on the active target (the simulator: its SQL pipe against this machine's stock pipe;
 * a real kernel over SSH or on this machine: our programs on SQL and stock pipes, lmbench's where
 * installed), with a progress notification per run whose Cancel stops the program there; Show Benchmark
 * Report; Export Benchmark Results (CSV or JSON); Import Benchmark Results (those exports, or the output
 * of runs made elsewhere: `npm run bench:kernel` / `bench:published` console logs, so the report holds
 * the published and the companion kernel side by side). Every run is kept in the history.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { BenchRecord, recordsToCsv } from '../core/bench/pipes';
import { ImportError, importBenchFile } from '../core/bench/import';
import { BenchHistory } from '../bench/history';
import { BenchReportPanel } from '../bench/report-panel';
import { Cmd } from '../ids';
import { Session } from '../session';
import { shellQuote } from '../machines/kernel-host';
import { BenchPlan, runPipeBench, runSimulatorBench } from '../machines/pipe-bench';
import { RemoteTarget } from '../targets/remote';
import { Cancelled, runInSession } from '../machines/session-run';
import { SimulatorTarget } from '../targets/simulator';
import { UserError, register } from './register';

/** What a caller (a test, a keybinding) may pass to skip the questions. */
export interface BenchArgs {
  chunks?: number[];
  ahead?: number;
  holders?: number;
  runs?: number;
}

const CHUNKS = [4096, 16384, 65536, 262144, 1048576];

export class BenchCommands {
  readonly history: BenchHistory;

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly session: Session,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.history = new BenchHistory(path.join(ctx.globalStorageUri.fsPath, 'bench-history.json'), (m) => void vscode.window.showWarningMessage(`SQLiteOS: ${m}`));
  }

  registerAll(): void {
    const r = <A extends unknown[]>(id: Parameters<typeof register>[2], fn: (...a: A) => unknown) => register(this.ctx, this.log, id, fn);
    r(Cmd.benchRun, (a?: BenchArgs) => this.run(a ?? {}));
    r(Cmd.benchReport, () => this.report());
    r(Cmd.benchExport, (format?: 'csv' | 'json', ids?: string[], to?: vscode.Uri) => this.exportRecords(format, ids, to));
    r(Cmd.benchImport, (from?: vscode.Uri[]) => this.importRecords(from));
  }

  /** The open report, if any (tests look at it through the extension's API). */
  get openReport(): BenchReportPanel | undefined {
    return BenchReportPanel.current;
  }

  report(select?: string[]): BenchReportPanel {
    return BenchReportPanel.show(this.ctx.extensionUri, this.history, { exportRecords: (f, ids) => this.exportRecords(f, ids), run: () => vscode.commands.executeCommand(Cmd.benchRun) }, select);
  }

  private programs(): Buffer {
    const file = path.join(this.ctx.extensionPath, 'dist', 'helpers', 'pipebench-x86_64');
    if (!fs.existsSync(file)) throw new UserError(`${file} is missing: the benchmark programs are built by \`npm run build\` (needs gcc and libc6-dev)`);
    return fs.readFileSync(file);
  }

  /** The plan: asked when not given (a preset, or chunk sizes, then configurations). */
  private async plan(a: BenchArgs, real: boolean): Promise<BenchPlan | undefined> {
    let chunks = a.chunks;
    if (!chunks && a.runs === undefined) {
      const preset = await vscode.window.showQuickPick(
        [
          { label: 'Quick', description: '64 KiB, 3 runs', chunks: [65536], runs: 3 },
          { label: 'Every Chunk Size', description: '4 KiB to 1 MiB, 5 runs each', chunks: CHUNKS, runs: 5 },
          { label: 'Choose…', description: 'chunk sizes, then more configurations (a writer ahead, idle pipe holders)' },
        ],
        { title: 'Pipe benchmarks' },
      );
      if (!preset) return undefined;
      if (preset.chunks) return { chunks: preset.chunks, ahead: 0, holders: 0, runs: preset.runs, lmbench: true };
    }
    if (!chunks) {
      const picked = await vscode.window.showQuickPick(
        CHUNKS.map((c) => ({ label: c >= 1 << 20 ? `${c >> 20} MiB` : `${c >> 10} KiB`, picked: c === 65536, chunk: c })),
        { title: 'Chunk sizes for the bandwidth runs', canPickMany: true },
      );
      if (!picked?.length) return undefined;
      chunks = picked.map((p) => p.chunk);
    }
    let ahead = a.ahead ?? 0;
    let holders = a.holders ?? 0;
    if (real && a.ahead === undefined && a.holders === undefined) {
      const more = await vscode.window.showQuickPick(
        [
          { label: 'Writer N Chunks Ahead', description: 'the reader never waits (sets the pipe capacity: root on a real kernel)', key: 'ahead' },
          { label: 'N Idle Processes Holding Pipes', description: 'do full tables slow the pipes down?', key: 'holders' },
        ],
        { title: 'More configurations (none: the plain runs only)', canPickMany: true },
      );
      if (!more) return undefined;
      const ask = async (title: string, value: number, max: number) => {
        const v = await vscode.window.showInputBox({ title, value: String(value), validateInput: (x) => (/^\d+$/.test(x) && Number(x) >= 1 && Number(x) <= max ? undefined : `a whole number from 1 to ${max}`) });
        return v === undefined ? undefined : Number(v);
      };
      if (more.some((m) => m.key === 'ahead')) ahead = (await ask('How many chunks ahead of the reader is the writer?', 64, 1024)) ?? 0;
      if (more.some((m) => m.key === 'holders')) holders = (await ask('How many idle processes each holding a pipe?', 1000, 100000)) ?? 0;
    }
    return { chunks, ahead, holders, runs: a.runs ?? 5, lmbench: true };
  }

  async run(a: BenchArgs): Promise<BenchRecord | undefined> {
    const t = this.session.target;
    const remote = t instanceof RemoteTarget ? t : undefined;
    if (!remote && !(t instanceof SimulatorTarget) && t !== undefined) throw new UserError('Run Pipe Benchmarks needs the simulator or a real kernel as the target.');
    if (remote && !remote.kernelHost) throw new UserError(`${remote.info().label} is not connected.`);
    const plan = await this.plan(a, !!remote);
    if (!plan) return undefined;
    const where = remote ? remote.info().label : 'the simulator';
    const record = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Pipe benchmarks on ${where}`, cancellable: true }, async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      const onEvent = (e: { kind: string; index?: number; total?: number; label?: string; text?: string }) => {
        if (e.kind === 'step') progress.report({ message: `${e.index! + 1} of ${e.total}: ${e.label}`, increment: 100 / e.total! });
        else if (e.text !== undefined) this.log.info(e.text);
      };
      try {
        if (remote) {
          const info = remote.info();
          return await runPipeBench(remote.kernelHost!.shell, this.programs(), plan, { host: info.label, kind: info.kind === 'ssh' ? 'ssh' : 'local' }, onEvent, abort.signal);
        }
        if (process.platform !== 'linux') throw new UserError('The simulator is compared with this machine\'s stock pipe, which is measured on Linux only.');
        return await runSimulatorBench(this.programs(), plan, onEvent, (label) => progress.report({ message: label }), abort.signal);
      } catch (e) {
        if (e instanceof Cancelled) {
          this.log.warn(`pipe benchmarks on ${where}: ${e.message}`);
          if (e.leftBehind.length) void vscode.window.showWarningMessage(`SQLiteOS: pipe benchmarks: ${e.message}`);
          else void vscode.window.showInformationMessage('SQLiteOS: pipe benchmarks cancelled; nothing of them is left running.');
          return undefined;
        }
        throw e;
      }
    });
    if (!record) return undefined;
    this.history.add(record);
    for (const p of record.problems) this.log.warn(`pipe benchmarks on ${where}: ${p}`);
    for (const n of record.notes ?? []) this.log.info(`pipe benchmarks on ${where}: ${n}`);
    if (record.problems.length) {
      void vscode.window.showWarningMessage(`SQLiteOS: pipe benchmarks on ${where}: ${record.problems.length} problem(s), listed in the report.`);
    } else if (remote && record.notes?.length) {
      // Not a problem of the run: said plainly, with the install offered only where it can work.
      const install = 'Install lmbench There';
      void vscode.window.showInformationMessage(`SQLiteOS: ${record.notes[0]}.`, ...(record.lmbenchInstallable ? [install] : [])).then((b) => {
        if (b === install) void this.installLmbench(remote);
      });
    }
    this.report([record.id]);
    return record;
  }

  /** Debian's / Ubuntu's lmbench on the target, with apt-get as root or through sudo -n (never a password here). */
  private async installLmbench(t: RemoteTarget): Promise<void> {
    const shell = t.kernelHost!.shell;
    const cmd = 'if [ "$(id -u)" = 0 ]; then s=; elif sudo -n true 2>/dev/null; then s="sudo -n"; else echo "installing needs root or sudo without a password: run sudo apt-get install lmbench there" >&2; exit 1; fi; DEBIAN_FRONTEND=noninteractive $s apt-get install -y lmbench';
    const lines: string[] = [];
    const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Installing lmbench on ${shell.label}`, cancellable: true }, (_p, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      return runInSession(shell, `sh -c ${shellQuote(cmd)}`, (l) => (lines.push(l), this.log.info(l)), abort.signal).catch((e) => (e instanceof Cancelled ? { code: -1 } : Promise.reject(e)));
    });
    if (r.code === 0) void vscode.window.showInformationMessage(`SQLiteOS: lmbench is installed on ${shell.label}; the next run measures with it too.`);
    else if (r.code !== -1) void vscode.window.showErrorMessage(`SQLiteOS: lmbench could not be installed on ${shell.label}: ${lines.slice(-1)[0] ?? `exit ${r.code}`} (Debian has it in non-free)`);
  }

  /**
   * Reads benchmark results from files (`from`, else the files the user picks) into the history, and
   * opens the report on them. A run already there (the same id) is not added twice. A file that holds
   * none is an error naming it; the files before it are kept.
   */
  async importRecords(from?: vscode.Uri[]): Promise<BenchRecord[]> {
    const files = from ?? (await vscode.window.showOpenDialog({ canSelectMany: true, title: 'Import benchmark results', openLabel: 'Import', filters: { 'Benchmark results': ['json', 'csv', 'log', 'txt'], 'All files': ['*'] } }));
    if (!files?.length) return [];
    const have = new Set(this.history.all().map((r) => r.id));
    const added: BenchRecord[] = [];
    for (const f of files) {
      let records: BenchRecord[];
      try {
        const text = Buffer.from(await vscode.workspace.fs.readFile(f)).toString('utf8');
        const stat = await vscode.workspace.fs.stat(f);
        records = importBenchFile(text, path.basename(f.fsPath), new Date(stat.mtime).toISOString());
      } catch (e) {
        if (e instanceof ImportError) throw new UserError(`${e.message} (${f.fsPath})${added.length ? `; ${added.length} run(s) from the files before it were imported` : ''}`);
        throw new UserError(`${f.fsPath}: ${(e as Error).message}`);
      }
      const fresh = records.filter((x) => !have.has(x.id));
      for (const r of [...fresh].reverse()) {
        this.history.add(r);
        have.add(r.id);
      }
      added.push(...fresh);
      this.log.info(`imported ${fresh.length} benchmark run(s) from ${f.fsPath}${records.length > fresh.length ? ` (${records.length - fresh.length} there already)` : ''}`);
    }
    const ids = added.map((r) => r.id);
    if (ids.length) this.report(ids);
    else void vscode.window.showInformationMessage('SQLiteOS: every run in those files is in the benchmark history already.');
    return added;
  }

  /** Writes the runs (all, or those named) as CSV or JSON: to `to` when given, else where the user says. */
  async exportRecords(format?: 'csv' | 'json', ids?: string[], to?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const records = ids?.length ? this.history.get(ids) : this.history.all();
    if (!records.length) throw new UserError('No benchmark runs to export yet.');
    const f = format ?? ((await vscode.window.showQuickPick(['csv', 'json'], { title: 'Export benchmark results as' })) as 'csv' | 'json' | undefined);
    if (!f) return undefined;
    const base = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
    const uri = to ?? await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.joinPath(base, `sqliteos-pipe-benchmarks.${f}`), filters: f === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] } });
    if (!uri) return undefined;
    const text = f === 'csv' ? recordsToCsv(records) : `${JSON.stringify({ version: 1, records }, null, 2)}\n`;
    await vscode.workspace.fs.writeFile(uri, Buffer.from(text, 'utf8'));
    this.log.info(`exported ${records.length} benchmark run(s) to ${uri.fsPath}`);
    return uri;
  }
}

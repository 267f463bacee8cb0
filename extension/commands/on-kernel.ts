/*
 * Run Scenario on Kernel and Compare with Simulator: the scenario in the editor on the connected real
 * kernel (the companion kernel: the QEMU guest, WSL2, any SSH host), with real processes; the result in
 * the SQLiteOS output as `sqliteos run` prints it. Compare runs it on the simulator too and opens the two
 * results side by side in a diff editor, normalised the way they are compared, so exactly the differences
 * are marked; the list of differences goes to the output. Record Program on Kernel: a static program
 * run there under the kernel's recorder, written as a scenario beside it and opened (its lenses: Debug,
 * Explore, Minimize); what the language cannot say is listed, by record, and nothing is written.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { comparableTexts, formatDifferences } from '../core/scenario/compare';
import type { Scenario } from '../core/scenario/ast';
import type { RunResult } from '../core/scenario/runner';
import { resolveOptions } from '../core/scenario/options';
import { summarize } from '../core/scenario/summary';
import { Documents } from '../documents';
import { Cmd } from '../ids';
import { Session } from '../session';
import { Compared, compareWithKernel, kernelCannotRun } from '../machines/differential';
import { KernelHost } from '../machines/kernel-host';
import { RemoteTarget } from '../targets/remote';
import { runOnKernel } from '../machines/scenario-kernel';
import { recordOnKernel } from '../machines/record-kernel';
import { Cancelled } from '../machines/session-run';
import { recordingProblems, recordingToScenario } from '../core/record/to-scenario';
import { UserError, register } from './register';
import { scenarioFile } from './scenario-file';
import type { OptionLayer } from '../core/scenario/options';

export class OnKernelCommands {
  constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly session: Session,
    private readonly docs: Documents,
    private readonly log: vscode.LogOutputChannel,
    private readonly optionSources: () => { overrides: OptionLayer; settings: OptionLayer },
  ) {}

  registerAll(): void {
    register(this.ctx, this.log, Cmd.runOnKernel, (uri?: vscode.Uri) => this.run(uri));
    register(this.ctx, this.log, Cmd.compareWithSimulator, (uri?: vscode.Uri) => this.compare(uri));
    register(this.ctx, this.log, Cmd.recordProgram, (program?: vscode.Uri, args?: string[]) => this.record(program, args));
  }

  /** `program` and `args` skip the pickers (tests, other commands); the scenario's file is returned. */
  async record(program?: vscode.Uri, args?: string[]): Promise<vscode.Uri | undefined> {
    const host = this.host('Record Program on Kernel');
    const exe = program ?? (await vscode.window.showOpenDialog({ title: 'A static x86_64 program to record on the kernel', openLabel: 'Record', canSelectMany: false }))?.[0];
    if (!exe) return undefined;
    const argText = args ? undefined : await vscode.window.showInputBox({ title: `Arguments for ${path.basename(exe.fsPath)}`, prompt: 'separated by spaces (none: leave empty)' });
    if (argText === undefined && !args) return undefined;
    const argv = args ?? argText!.split(/\s+/).filter(Boolean);
    const abort = new AbortController();
    let run;
    try {
      run = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Recording ${path.basename(exe.fsPath)} on ${host.shell.label}…`, cancellable: true }, (_p, token) => {
        token.onCancellationRequested(() => abort.abort());
        return recordOnKernel(host, { local: exe.fsPath, data: fs.readFileSync(exe.fsPath) }, argv, undefined, '', abort.signal);
      });
    } catch (e) {
      if (!(e instanceof Cancelled)) throw e;
      // Said plainly: what was ended, and anything that could not be.
      this.log.warn(`recording ${exe.fsPath} on ${host.shell.label}: ${e.message}`);
      void (e.leftBehind.length ? vscode.window.showWarningMessage : vscode.window.showInformationMessage)(
        `SQLiteOS: recording cancelled; ${e.leftBehind.length ? `still running on ${host.shell.label}: ${e.leftBehind.join('; ')}` : `nothing of ${path.basename(exe.fsPath)} is left running, and no scenario was written`}.`,
      );
      return undefined;
    }
    const command = [exe.fsPath, ...argv];
    this.log.info(`${command.join(' ')} on ${host.shell.label} exited with ${run.code}; ${run.recording.records.length} records${run.output ? `\n${run.output}` : ''}`);
    const s = recordingToScenario(run.recording, { command, host: host.shell.label, release: run.release, date: new Date().toISOString().slice(0, 10) });
    const problems = recordingProblems(run.recording, s, run.code);
    if (problems.length) {
      this.log.warn(`no scenario written:\n${problems.map((p) => `  ${p}`).join('\n')}`);
      this.log.show(true);
      throw new UserError(`the recording of ${path.basename(exe.fsPath)} cannot be a scenario: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more; see the SQLiteOS output)` : ''}`);
    }
    let beside = `${exe.fsPath}.sqlos`;
    for (let i = 2; fs.existsSync(beside); i++) beside = `${exe.fsPath}-${i}.sqlos`;
    // Asked where (beside the program by default) unless a caller named the program.
    const uri = program ? vscode.Uri.file(beside) : await vscode.window.showSaveDialog({ title: 'Save the recording as a scenario', defaultUri: vscode.Uri.file(beside), filters: { 'SQLiteOS scenario': ['sqlos'] } });
    if (!uri) return undefined;
    await vscode.workspace.fs.writeFile(uri, Buffer.from(s.source));
    await vscode.window.showTextDocument(uri);
    const exit = run.code ? ` ${path.basename(exe.fsPath)} exited with ${run.code} (its output is in the SQLiteOS output).` : '';
    void (run.code ? vscode.window.showWarningMessage : vscode.window.showInformationMessage)(`SQLiteOS: ${path.basename(uri.fsPath)}: ${s.processes} process(es), ${s.calls} calls recorded on ${host.shell.label}.${exit}`);
    return uri;
  }

  private runner(): Buffer {
    const file = path.join(this.ctx.extensionPath, 'dist', 'helpers', 'sqliteos-run-x86_64');
    if (!fs.existsSync(file)) throw new UserError(`${file} is missing: it is built by \`npm run build\` (needs gcc and libc6-dev)`);
    return fs.readFileSync(file);
  }

  private host(what: string): KernelHost {
    const t = this.session.target;
    const host = t instanceof RemoteTarget ? t.kernelHost : undefined;
    if (!host) throw new UserError(`${what} needs a real kernel as the target: connect to a host running the companion kernel first (the QEMU guest: \`sqliteos guest start\`, then Connect to Host).`);
    return host;
  }

  private async scenario(uri: vscode.Uri | undefined): Promise<{ file: vscode.Uri; name: string; source: string; s: Scenario }> {
    const { file, name, source, scenario } = await scenarioFile(uri, { none: 'Open a .sqlos scenario first.', broken: '; nothing ran. First: ' });
    const why = kernelCannotRun(scenario, this.optionSources().overrides);
    if (why) throw new UserError(why);
    return { file, name, source, s: scenario };
  }

  async run(uri?: vscode.Uri): Promise<RunResult | undefined> {
    const host = this.host('Run Scenario on Kernel');
    const sc = await this.scenario(uri);
    const { capacity, profile } = resolveOptions({ ...this.optionSources(), file: sc.s });
    const res = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Running ${sc.name} on ${host.shell.label}…` }, () =>
      runOnKernel(host, sc.s, this.runner(), { capacity, profile }),
    );
    this.log.info(`\n${summarize(res, sc.source.split('\n'))}`);
    this.log.show(true);
    if (!res.ok) void vscode.window.showWarningMessage(`SQLiteOS: ${sc.name} on ${host.shell.label}: ${res.anomalies.length} anomaly(ies): ${res.anomalies[0].kind} at line ${res.anomalies[0].line}. See the SQLiteOS output.`);
    return res;
  }

  async compare(uri?: vscode.Uri): Promise<Compared | undefined> {
    const host = this.host('Compare with Simulator');
    const sc = await this.scenario(uri);
    const c = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Running ${sc.name} on the simulator and on ${host.shell.label}…` }, () =>
      compareWithKernel(host, sc.s, this.runner(), this.optionSources().overrides),
    );
    const [left, right] = comparableTexts(c.simulator, c.kernel);
    const base = path.basename(sc.file.fsPath);
    const l = this.docs.addResult(`${base} on the simulator`, left);
    const r = this.docs.addResult(`${base} on ${host.shell.label.replace(/[[\]:@]/g, '_')}`, right);
    const diff = () => vscode.commands.executeCommand('vscode.diff', l, r, `${base}: simulator ↔ ${host.shell.label}`, { preview: false });
    const n = c.differences.length;
    this.log.info(n ? `${sc.name}: ${n} difference(s) between the simulator and ${host.shell.label}\n${formatDifferences(c.differences, ['simulator', 'kernel'])}` : `${sc.name}: the simulator and ${host.shell.label} agree`);
    // The same text on both sides: an empty diff says nothing, so say it, and open the two on request.
    if (left === right) {
      void vscode.window.showInformationMessage(`SQLiteOS: the simulator and ${host.shell.label} give the same result on ${sc.name}: statements, tables, pipes, locks and anomalies.`, 'Open Both').then((pick) => (pick ? diff() : undefined));
      return c;
    }
    await diff();
    if (n) void vscode.window.showWarningMessage(`SQLiteOS: ${n} difference${n === 1 ? '' : 's'} between the simulator and ${host.shell.label}: ${c.differences[0].what}. See the SQLiteOS output.`);
    else void vscode.window.showInformationMessage(`SQLiteOS: the simulator and ${host.shell.label} agree on ${sc.name}; what differs in the two is marked "not compared" and why.`);
    return c;
  }
}

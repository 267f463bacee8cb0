/*
 * Minimize: the active scenario (or the one an exploration's report is about) shrunk while it shows the
 * same violation at the same statement (core/explore/minimize). The result is a new file beside it,
 * NAME.min.sqlos (never over a file that exists), opened so Explore, Run and the debugger work on it.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { MinimizeError, minimize } from '../core/explore/minimize';
import { OptionLayer, resolveOptions } from '../core/scenario/options';
import type { AnomalyKind } from '../core/sim/events';
import { Cmd } from '../ids';
import { UserError, register } from './register';
import { scenarioFile } from './scenario-file';

/** What the report's Minimize lens passes: the violation it found. */
export interface MinimizeTarget {
  file: string;
  kind: AnomalyKind;
  line: number;
}

/** The first of NAME.min.sqlos, NAME.min-2.sqlos, ... that does not exist. */
async function freeName(file: vscode.Uri): Promise<vscode.Uri> {
  const base = file.path.replace(/\.sqlos$/, '');
  for (let n = 1; ; n++) {
    const uri = file.with({ path: `${base}.min${n > 1 ? `-${n}` : ''}.sqlos` });
    try {
      await vscode.workspace.fs.stat(uri);
    } catch {
      return uri;
    }
  }
}

export function registerMinimize(ctx: vscode.ExtensionContext, log: vscode.LogOutputChannel, sources: () => { overrides: OptionLayer; settings: OptionLayer }): void {
  register(ctx, log, Cmd.minimize, async (arg?: vscode.Uri | MinimizeTarget) => {
    const target = arg && !(arg instanceof vscode.Uri) ? arg : undefined;
    const { file, name, source, scenario } = await scenarioFile(target ? vscode.Uri.file(target.file) : arg, { none: 'Open a .sqlos scenario to minimize.', broken: ': ' });
    const opts = resolveOptions({ ...sources(), file: scenario });
    const total = scenario.statements.length;
    const res = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Minimizing ${name}`, cancellable: true },
      async (progress, token) => {
        try {
          return await minimize(scenario, source, {
            ...opts,
            kind: target?.kind,
            line: target?.line,
            cancelled: () => token.isCancellationRequested,
            progress: (p) => progress.report({ message: `${p.tests} candidates tested, ${p.statements} of ${total} statements left` }),
          });
        } catch (e) {
          if (e instanceof MinimizeError) throw new UserError(`${name}: ${e.message}`);
          throw e;
        }
      },
    );
    const out = await freeName(file);
    await vscode.workspace.fs.writeFile(out, Buffer.from(res.source, 'utf8'));
    const doc = await vscode.workspace.openTextDocument(out);
    await vscode.window.showTextDocument(doc, { preview: false, viewColumn: vscode.ViewColumn.Beside });
    const what = `${total} statements -> ${res.statements}, the ${res.kind} of line ${res.original.line} kept at line ${res.line} of ${path.basename(out.path)}`;
    log.info(`minimize ${name}: ${what}; ${res.tests} candidates tested in ${(res.ms / 1000).toFixed(1)} s${res.stopped ? ` (${res.stopped})` : ''}`);
    const more = res.stopped ? ` Stopped (${res.stopped === 'cancelled' ? 'cancelled' : 'at the test limit'}): a smaller one may exist.` : '';
    void vscode.window.showInformationMessage(`SQLiteOS: ${what}.${more}`, 'Explore It').then((pick) => (pick ? vscode.commands.executeCommand(Cmd.explore, out) : undefined));
    return { ...res, file: out.fsPath };
  });
}

/*
 * Explore: every interleaving of the active scenario (core/explore), the result in a document beside it,
 * a violation in Problems at its line until the next exploration or an edit, and Replay, which steps
 * through its schedule from the start in a debug session.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { explore, scheduleSteps } from '../core/explore/explorer';
import { exploreReport } from '../core/explore/report';
import { OptionLayer, resolveOptions } from '../core/scenario/options';
import { DEBUG_TYPE } from '../debug';
import { Documents, Replay } from '../documents';
import { Cmd, SCHEME } from '../ids';
import { register } from './register';
import { scenarioFile } from './scenario-file';

export function registerExplore(
  ctx: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
  sources: () => { overrides: OptionLayer; settings: OptionLayer },
  docs: Documents,
): void {
  // A violation the explorer found, in Problems at its line until the next exploration or an edit.
  const found = vscode.languages.createDiagnosticCollection('sqliteos-explore');
  ctx.subscriptions.push(
    found,
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.contentChanges.length) found.delete(e.document.uri);
    }),
  );
  register(ctx, log, Cmd.explore, async (uri?: vscode.Uri) => {
    const { file, name, source, scenario } = await scenarioFile(uri, { none: 'Open a .sqlos scenario to explore.', broken: ': ' });
    const opts = resolveOptions({ ...sources(), file: scenario });
    const res = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Exploring the interleavings of ${name} (${opts.profile}, ${opts.locks})…` }, () =>
      explore(scenario, opts),
    );
    log.info(`explore ${name}: ${res.states} states, ${res.transitions} transitions in ${(res.ms / 1000).toFixed(2)} s${res.exhausted ? ' (exhausted)' : ''}`);
    const v = res.violation;
    // The results stay, in a document beside the scenario (with a Replay lens when there is a violation).
    const replay: Replay | undefined = v ? { file: file.fsPath, schedule: v.schedule, profile: res.profile, locks: res.locks, kind: v.kind, line: v.line } : undefined;
    const lines = source.split('\n');
    const steps = v ? await scheduleSteps(scenario, v.schedule, opts) : undefined;
    const doc = docs.addExploreReport(path.basename(file.fsPath), exploreReport(name, res, (l) => lines[l - 1] ?? '', steps), replay);
    found.delete(file);
    if (v) {
      const text = lines[v.line - 1] ?? '';
      const d = new vscode.Diagnostic(new vscode.Range(v.line - 1, text.length - text.trimStart().length, v.line - 1, text.trimEnd().length), `${v.kind}: ${v.message} (found by Explore; Replay in debugger from its report)`, vscode.DiagnosticSeverity.Warning);
      d.source = 'sqliteos explore';
      found.set(file, [d]);
    }
    await vscode.window.showTextDocument(doc, { preview: false, viewColumn: vscode.ViewColumn.Beside, preserveFocus: true });
    if (!v) {
      void vscode.window.showInformationMessage(`SQLiteOS: no violation in ${res.states} states of ${name}${res.exhausted ? ' (every interleaving)' : ' (search cut at the state limit)'}.`);
      return res;
    }
    log.info(`${name}:${v.line}: ${v.kind}: ${v.message}\nschedule: ${JSON.stringify(v.schedule)}`);
    void vscode.window.showWarningMessage(`SQLiteOS: ${v.kind} at line ${v.line}: ${v.message}`, 'Replay in debugger').then((pick) => (pick ? replayIt(replay!) : undefined));
    return res;
  });
  register(ctx, log, Cmd.replay, (r: Replay) => replayIt(r));
  // The Replay lens on a report with a violation.
  ctx.subscriptions.push(vscode.languages.registerCodeLensProvider({ scheme: SCHEME }, docs));
}

/** A counterexample from the explorer, stepped through from its start in a debug session. */
function replayIt(r: Replay): Thenable<boolean> {
  return vscode.debug.startDebugging(undefined, { type: DEBUG_TYPE, request: 'launch', name: `Replay ${r.kind}`, program: r.file, schedule: r.schedule, profile: r.profile, locks: r.locks, stopOnEntry: true });
}

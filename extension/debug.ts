/*
 * The `sqliteos` debug type, inline in the extension (the adapter also builds as dist/debug-adapter.js):
 * a launch configuration for the active scenario when there is none, the views following the session's
 * kernel at every stop, and the explorer command whose counterexample replays in a debug session.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { SqliteosDebugSession } from '../debug-adapter/session';
import { explore, scheduleSteps } from './core/explore/explorer';
import { parseScenario } from './core/scenario/parser';
import { Cmd, LANGUAGE, SCHEME } from './ids';
import { Documents, Replay } from './documents';
import { exploreReport } from './core/explore/report';
import { Session } from './session';
import { textOf } from './text';
import { SimulatorTarget } from './targets/simulator';
import { OptionLayer, resolveOptions } from './core/scenario/options';
import { UserError, register } from './commands/register';

export const DEBUG_TYPE = 'sqliteos';


export function registerDebugging(
  ctx: vscode.ExtensionContext,
  session: Session,
  log: vscode.LogOutputChannel,
  refresh: () => void,
  sources: () => { overrides: OptionLayer; settings: OptionLayer },
  docs: Documents,
): void {
  ctx.subscriptions.push(
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, {
      createDebugAdapterDescriptor: () => {
        const s = new SqliteosDebugSession((file) => textOf(vscode.Uri.file(file)));
        // The kernel is shared by the session and the views: it closes once both have let go of it.
        let ended = false;
        let dropped = false;
        s.onLaunched = (rt) => {
          const closeIfDone = () => {
            if (ended && dropped) rt.run.kernel.close();
          };
          // The views show the session's kernel while it runs, then go back to what they showed before.
          const lease = session.lend(
            SimulatorTarget.wrap(rt.run, () => {
              dropped = true;
              closeIfDone();
            }),
          );
          s.onDisconnect = () => {
            ended = true;
            lease.dispose();
            closeIfDone();
          };
        };
        return new vscode.DebugAdapterInlineImplementation(s);
      },
    }),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, {
      resolveDebugConfiguration: async (_folder, config) => {
        if (!config.type && !config.request && !config.name) {
          const ed = vscode.window.activeTextEditor;
          if (ed?.document.languageId !== LANGUAGE) return undefined;
          return { type: DEBUG_TYPE, request: 'launch', name: 'Debug scenario', program: ed.document.uri.fsPath, stopOnEntry: true };
        }
        if (!config.program) {
          void vscode.window.showErrorMessage('SQLiteOS: the launch configuration needs a "program" (a .sqlos file).');
          return undefined;
        }
        // A file that does not parse: its errors are in Problems already; say so plainly and start nothing.
        const name = vscode.workspace.asRelativePath(config.program);
        let text: string;
        try {
          text = await textOf(vscode.Uri.file(config.program));
        } catch (e) {
          void vscode.window.showWarningMessage(`SQLiteOS: cannot read ${name}: ${(e as Error).message}`);
          return undefined;
        }
        const parsed = parseScenario(text, name);
        if (!parsed.ok) {
          const n = parsed.errors.length;
          void vscode.window.showWarningMessage(`SQLiteOS: ${name} has ${n} error${n === 1 ? '' : 's'} (see Problems), so it cannot be debugged. First: ${parsed.errors[0].toString()}`);
          return undefined;
        }
        // The debugger resolves its options as every other command does (core/scenario/options.ts).
        return { ...sources(), ...config };
      },
    }),
    vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => {
      if (e.session.type === DEBUG_TYPE && e.event === 'sqliteos/state') refresh();
    }),
  );
  // A violation the explorer found, in Problems at its line until the next exploration or an edit.
  const found = vscode.languages.createDiagnosticCollection('sqliteos-explore');
  ctx.subscriptions.push(
    found,
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.contentChanges.length) found.delete(e.document.uri);
    }),
  );
  register(ctx, log, Cmd.explore, async (uri?: vscode.Uri) => {
    const file = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.languageId === LANGUAGE ? vscode.window.activeTextEditor.document.uri : undefined;
    if (!file) throw new UserError('Open a .sqlos scenario to explore.');
    const name = vscode.workspace.asRelativePath(file);
    const source = await textOf(file);
    const parsed = parseScenario(source, name);
    if (!parsed.ok) throw new UserError(`${name} has errors (see Problems): ${parsed.errors[0].toString()}`);
    const opts = resolveOptions({ ...sources(), file: parsed.scenario });
    const res = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Exploring the interleavings of ${name} (${opts.profile}, ${opts.locks})…` }, () =>
      explore(parsed.scenario, opts),
    );
    log.info(`explore ${name}: ${res.states} states, ${res.transitions} transitions in ${(res.ms / 1000).toFixed(2)} s${res.exhausted ? ' (exhausted)' : ''}`);
    const v = res.violation;
    // The results stay, in a document beside the scenario (with a Replay lens when there is a violation).
    const replay: Replay | undefined = v ? { file: file.fsPath, schedule: v.schedule, profile: res.profile, locks: res.locks, kind: v.kind } : undefined;
    const lines = source.split('\n');
    const steps = v ? await scheduleSteps(parsed.scenario, v.schedule, opts) : undefined;
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
  ctx.subscriptions.push(vscode.languages.registerCodeLensProvider({ scheme: SCHEME }, docs));
}

/** A counterexample from the explorer, stepped through from its start in a debug session. */
function replayIt(r: Replay): Thenable<boolean> {
  return vscode.debug.startDebugging(undefined, { type: DEBUG_TYPE, request: 'launch', name: `Replay ${r.kind}`, program: r.file, schedule: r.schedule, profile: r.profile, locks: r.locks, stopOnEntry: true });
}

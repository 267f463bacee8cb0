/*
 * The `sqliteos` debug type, inline in the extension (the adapter also builds as dist/debug-adapter.js):
 * a launch configuration for the active scenario when there is none, and the views following the
 * session's kernel at every stop. The explorer's command (commands/explore.ts) replays its
 * counterexamples here.
 */
import * as vscode from 'vscode';
import { SqliteosDebugSession } from '../debug-adapter/session';
import { LANGUAGE } from './ids';
import { parseScenario } from './core/scenario/parser';
import { Session } from './session';
import { textOf } from './text';
import { SimulatorTarget } from './targets/simulator';
import { OptionLayer } from './core/scenario/options';

export const DEBUG_TYPE = 'sqliteos';

/** F5 on a .sqlos file without a launch.json, and the Debug lens: the file, stopped on its first statement. */
export function scenarioDebugConfig(file: vscode.Uri): vscode.DebugConfiguration {
  return { type: DEBUG_TYPE, request: 'launch', name: 'Debug scenario', program: file.fsPath, stopOnEntry: true };
}


export function registerDebugging(
  ctx: vscode.ExtensionContext,
  session: Session,
  log: vscode.LogOutputChannel,
  refresh: () => void,
  sources: () => { overrides: OptionLayer; settings: OptionLayer },
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
          return scenarioDebugConfig(ed.document.uri);
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
}

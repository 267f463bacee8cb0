/*
 * Lenses over a .sqlos scenario's first line: Debug (the simulator's debugger, stopped on entry),
 * Explore (every interleaving) and Minimize (the scenario shrunk to its violation), so a scenario that
 * arrives in an editor (a recording, a minimized one, an example) is one click from each.
 */
import * as vscode from 'vscode';
import { scenarioDebugConfig } from './debug';
import { Cmd, LANGUAGE } from './ids';
import { register } from './commands/register';

export function registerScenarioLenses(ctx: vscode.ExtensionContext, log: vscode.LogOutputChannel): void {
  register(ctx, log, Cmd.debugScenario, (uri?: vscode.Uri) => {
    const file = uri ?? vscode.window.activeTextEditor?.document.uri;
    if (!file) return false;
    return vscode.debug.startDebugging(undefined, scenarioDebugConfig(file));
  });
  ctx.subscriptions.push(
    vscode.languages.registerCodeLensProvider(
      { language: LANGUAGE },
      {
        provideCodeLenses(doc) {
          // over the first statement (or the top of a file with none)
          const first = Math.max(0, doc.getText().split('\n').findIndex((l) => /^\s*P\d/.test(l)));
          const at = new vscode.Range(first, 0, first, 0);
          return [
            new vscode.CodeLens(at, { title: '$(debug-alt) Debug', command: Cmd.debugScenario, arguments: [doc.uri] }),
            new vscode.CodeLens(at, { title: '$(search-fuzzy) Explore', command: Cmd.explore, arguments: [doc.uri] }),
            new vscode.CodeLens(at, { title: '$(fold) Minimize', command: Cmd.minimize, arguments: [doc.uri] }),
          ];
        },
      },
    ),
  );
}

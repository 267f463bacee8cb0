/*
 * Activation: wires the session, the views, the commands, the documents and the diagnostics together.
 * Nothing heavy happens here: sql.js loads when a command first creates a simulator.
 */
import { loadedAt } from './t0';
import * as vscode from 'vscode';
import { ConnectCommands } from './commands/connect';
import { BenchCommands } from './commands/bench';
import { OnKernelCommands } from './commands/on-kernel';
import { DataCommands } from './commands/data';
import { KernelCommands } from './commands/kernel-work';
import { EditorMarks } from './editor';
import { ScenarioCommands } from './commands/scenario';
import { registerDebugging } from './debug';
import { registerKernelDebugging } from './debug-kernel';
import { registerExplore } from './commands/explore';
import { registerMinimize } from './commands/minimize';
import { registerScenarioLenses } from './scenario-lenses';
import { registerDiagnostics } from './diagnostics';
import { registerHover } from './hover';
import { Documents } from './documents';
import { SCHEME } from './ids';
import { Session } from './session';
import { Views } from './views/views';

/** What activate() hands back: the in-host tests drive the extension through it. */
export interface Api {
  session: Session;
  views: Views;
  scenarios: ScenarioCommands;
  data: DataCommands;
  connections: ConnectCommands;
  kernel: KernelCommands;
  bench: BenchCommands;
  editor: EditorMarks;
  /**
   * What activation costs us: evaluating the bundle plus running activate(). The extension host's own
   * pause between loading a module and calling activate() (other extensions, the workbench) is not ours.
   */
  activationMs: number;
}

/** When the bundle finished evaluating (every import above has run by now). */
const evaluatedAt = performance.now();

export function activate(ctx: vscode.ExtensionContext): Api {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('SQLiteOS', { log: true });
  const session = new Session();
  const views = new Views(session);
  const docs = new Documents(session);
  const scenarios = new ScenarioCommands(ctx, session, log);
  const data = new DataCommands(ctx, session, views, docs, log);
  const connections = new ConnectCommands(ctx, session, log);
  const editor = new EditorMarks(session);
  const kernel = new KernelCommands(ctx, session, connections);
  connections.registerAll();
  kernel.registerAll();
  const bench = new BenchCommands(ctx, session, log);
  bench.registerAll();
  new OnKernelCommands(ctx, session, docs, log, () => scenarios.optionSources()).registerAll();
  scenarios.registerAll();
  data.registerAll();
  registerDiagnostics(ctx);
  registerHover(ctx);
  registerDebugging(ctx, session, log, () => views.refreshAll(), () => scenarios.optionSources());
  registerKernelDebugging(ctx, session);
  registerExplore(ctx, log, () => scenarios.optionSources(), docs);
  registerMinimize(ctx, log, () => scenarios.optionSources());
  registerScenarioLenses(ctx, log);
  ctx.subscriptions.push(log, connections, kernel, editor, session, views, vscode.workspace.registerTextDocumentContentProvider(SCHEME, docs));
  const start = process.env.SQLITEOS_START_EXAMPLE;
  if (start) {
    scenarios.startWith(start).catch((e: Error) => log.error(`start-up example ${start}: ${e.message}`));
  }
  const evaluationMs = evaluatedAt - loadedAt;
  const activationMs = evaluationMs + (performance.now() - t0);
  log.info(`activated in ${activationMs.toFixed(1)} ms (bundle evaluation ${evaluationMs.toFixed(1)} ms)`);
  return { session, views, scenarios, data, connections, kernel, bench, editor, activationMs };
}

export function deactivate(): void {}

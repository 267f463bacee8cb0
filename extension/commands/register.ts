/*
 * One typed helper registers every command: the disposable goes to the extension's subscriptions, and an
 * error becomes one clear message (and a log line) instead of an unexplained failure.
 */
import * as vscode from 'vscode';
import { Cmd } from '../ids';
import { Cancelled } from '../machines/kernel-work';

export type CommandId = (typeof Cmd)[keyof typeof Cmd];

/** A button on a problem's message: its title and what it does. */
export interface Action {
  title: string;
  run: () => unknown;
}

/** A problem the user can act on: shown as a warning (with its actions), not as an error with a stack. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly actions: Action[] = [],
  ) {
    super(message);
  }
}

export function register<A extends unknown[]>(
  ctx: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
  id: CommandId,
  fn: (...args: A) => unknown,
): void {
  ctx.subscriptions.push(
    vscode.commands.registerCommand(id, async (...args: A) => {
      try {
        return await fn(...args);
      } catch (e) {
        // The user closed a question: nothing to say.
        if (e instanceof Cancelled) return undefined;
        const msg = e instanceof Error ? e.message : String(e);
        if (e instanceof UserError) {
          const actions = e.actions;
          void vscode.window.showWarningMessage(`SQLiteOS: ${msg}`, ...actions.map((a) => a.title)).then((pick) => actions.find((a) => a.title === pick)?.run());
        } else {
          log.error(`${id}: ${e instanceof Error && e.stack ? e.stack : msg}`);
          void vscode.window.showErrorMessage(`SQLiteOS: ${msg}`);
        }
        return undefined;
      }
    }),
  );
}

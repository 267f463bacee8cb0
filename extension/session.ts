/*
 * The one place that holds the active target: views and commands ask it for the target and listen to it
 * for changes; switching targets disposes the old one. It knows targets only through the Target interface.
 */
import * as vscode from 'vscode';
import { Change, Target } from './targets/target';
import { Ctx } from './ids';

export class Session implements vscode.Disposable {
  private current: Target | undefined;
  private sub: { dispose(): void } | undefined;
  private readonly targetEmitter = new vscode.EventEmitter<Target | undefined>();
  private readonly changeEmitter = new vscode.EventEmitter<Change>();
  /** Fired when the target is replaced (or dropped). */
  readonly onDidChangeTarget = this.targetEmitter.event;
  /** Fired for every change inside the current target. */
  readonly onDidChange = this.changeEmitter.event;

  get target(): Target | undefined {
    return this.current;
  }

  /** The target a lent one covers (a debug session's kernel over the views' own), kept alive meanwhile. */
  private covered: Target | undefined;

  /** Replaces the target for good: the old one (and any it covered) is disposed. */
  setTarget(t: Target | undefined): void {
    const old = this.current;
    const covered = this.covered;
    this.covered = undefined;
    this.show(t);
    old?.dispose();
    covered?.dispose();
  }

  /**
   * Shows `t` (a debug session's kernel) until the returned lease is disposed; then the target shown
   * before comes back as it was. If another target was chosen meanwhile, that one stays.
   */
  lend(t: Target): vscode.Disposable {
    this.covered?.dispose();
    this.covered = this.current;
    this.show(t);
    return {
      dispose: () => {
        if (this.current !== t) return;
        const back = this.covered;
        this.covered = undefined;
        this.show(back);
        t.dispose();
      },
    };
  }

  private show(t: Target | undefined): void {
    this.sub?.dispose();
    this.current?.setVisible?.(false);
    this.current = t;
    this.sub = t?.onDidChange((c) => this.changeEmitter.fire(c));
    void vscode.commands.executeCommand('setContext', Ctx.targetLoaded, t !== undefined);
    this.targetEmitter.fire(t);
  }

  dispose(): void {
    this.sub?.dispose();
    this.current?.dispose();
    this.covered?.dispose();
    this.targetEmitter.dispose();
    this.changeEmitter.dispose();
  }
}

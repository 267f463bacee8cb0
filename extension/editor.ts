/*
 * The editor follows the simulator as a debugger's does: each live process's next statement is marked
 * in the scenario's editor (the one the default schedule runs next highlighted, blocked ones with what
 * they sleep on), and a status-bar item says which target the views show and what comes next. Stepping
 * from the views, the palette or the keybindings moves the marks.
 */
import * as vscode from 'vscode';
import { Mark, marksOf } from './core/scenario/marks';
import { Defaults, Setting, View } from './ids';
import { Session } from './session';
import { simulatorOf } from './targets/simulator';

export class EditorMarks implements vscode.Disposable {
  private readonly next = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('editor.stackFrameHighlightBackground'),
    after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), margin: '0 0 0 2em' },
  });
  private readonly other = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), margin: '0 0 0 2em' },
  });
  private readonly status = vscode.window.createStatusBarItem('sqliteos.target', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [];
  /** What was last put in the editor and the status bar (the in-host tests read these). */
  last: { file: string | undefined; marks: Mark[]; status: string } = { file: undefined, marks: [], status: '' };

  constructor(private readonly session: Session) {
    this.status.name = 'SQLiteOS target';
    this.status.command = { title: 'Show the SQLiteOS views', command: `${View.target}.focus` };
    this.disposables.push(
      this.next,
      this.other,
      this.status,
      session.onDidChangeTarget(() => this.schedule()),
      session.onDidChange((c) => (c.target || c.processes ? this.schedule() : undefined)),
      vscode.window.onDidChangeVisibleTextEditors(() => this.schedule()),
    );
    this.update();
  }

  private timer: NodeJS.Timeout | undefined;

  /** No update is waiting (tests wait for this). */
  get settled(): boolean {
    return this.timer === undefined;
  }

  /**
   * Updates are batched like the views' refreshes: a run of 20,000 statements fires an event per
   * statement, and recomputing the marks for each made it 30 times slower (measured: 1.7 s -> 56 s).
   */
  private schedule(): void {
    if (this.timer) return;
    const delay = vscode.workspace.getConfiguration(Setting.section).get<number>(Setting.refreshDelay, Defaults[Setting.refreshDelay]);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.update();
    }, delay);
  }

  update(): void {
    const t = this.session.target;
    const sim = simulatorOf(t);
    const file = sim?.sourcePath;
    const marks = sim ? marksOf(sim.run) : [];
    for (const ed of vscode.window.visibleTextEditors) {
      const mine = file !== undefined && ed.document.uri.fsPath === file;
      const deco = (kind: (k: Mark['kind']) => boolean) =>
        mine
          ? marks
              .filter((m) => kind(m.kind))
              .filter((m) => m.line <= ed.document.lineCount)
              // The whole line's range, so the text comes after the statement, not before it.
              .map((m) => ({ range: ed.document.lineAt(m.line - 1).range, renderOptions: { after: { contentText: m.text } }, hoverMessage: m.text.replace(/^◀ /, '') }))
          : [];
      ed.setDecorations(this.next, deco((k) => k === 'next'));
      ed.setDecorations(this.other, deco((k) => k !== 'next'));
    }
    if (!t) {
      this.status.hide();
      this.last = { file, marks, status: '' };
      return;
    }
    const info = t.info();
    const icon = info.kind === 'simulator' ? '$(beaker)' : info.kind === 'local' ? '$(vm)' : '$(remote)';
    const nextMark = marks.find((m) => m.kind === 'next');
    const tail = info.kind === 'simulator' ? (nextMark ? `next: line ${nextMark.line}` : info.state) : info.stale ? 'stale' : info.state;
    this.status.text = `${icon} ${info.label} · ${tail}`;
    this.status.tooltip = `SQLiteOS: the views show ${info.label}\n${info.state}`;
    this.status.show();
    this.last = { file, marks, status: this.status.text };
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

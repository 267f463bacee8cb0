/*
 * The guest checks in VS Code's Testing view: one item per check of the last boot (under an item for the
 * image booted), each passed or failed with its reason as the message, and the kernel's own reports
 * (BUG, WARNING, KASAN) as a failed item of their own. A run from the Testing view is the Run Kernel
 * Tests command; the boot itself is KernelWork.test.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { KernelWork, WorkEvent } from './machines/kernel-work';

export type GuestRunner = (work: KernelWork, image: string, on: (e: WorkEvent) => void, token: vscode.CancellationToken) => Promise<{ ok: boolean; message: string } | undefined>;

export class KernelTests implements vscode.Disposable {
  readonly controller: vscode.TestController;

  constructor(
    private readonly boot: GuestRunner,
    start: () => Thenable<unknown>,
  ) {
    this.controller = vscode.tests.createTestController('sqliteos.kernelChecks', 'SQLiteOS Kernel Checks');
    this.controller.createRunProfile('Boot in QEMU and Run', vscode.TestRunProfileKind.Run, () => void start(), true);
  }

  /** Boots image on work's machine; the result is also left in the Testing view. */
  async runFor(image: string, work: KernelWork): Promise<boolean | undefined> {
    const c = this.controller;
    const rootId = `${work.label}:${image}`;
    c.items.replace([]);
    const root = c.createTestItem(rootId, `${path.posix.basename(path.posix.dirname(path.posix.dirname(path.posix.dirname(path.posix.dirname(image))))) || image} on ${work.label}`);
    root.description = image;
    c.items.add(root);
    const run = c.createTestRun(new vscode.TestRunRequest([root]), `guest checks of ${image}`, false);
    run.started(root);
    const t0 = Date.now();
    let last = t0;
    try {
      const r = await this.boot(work, image, (e: WorkEvent) => {
        if (e.kind === 'line') run.appendOutput(`${e.text}\r\n`);
        if (e.kind !== 'check') return;
        const ch = e.check;
        const item = c.createTestItem(`${rootId}#${ch.n}`, `${ch.n}. ${ch.name}`);
        root.children.add(item);
        const now = Date.now();
        if (ch.ok) run.passed(item, now - last);
        else run.failed(item, new vscode.TestMessage(ch.why ?? 'failed'), now - last);
        last = now;
      }, run.token);
      if (!r) {
        run.skipped(root);
        return undefined;
      }
      if (r.ok) run.passed(root, Date.now() - t0);
      else {
        if (/report/.test(r.message)) {
          const item = c.createTestItem(`${rootId}#reports`, 'no kernel report (BUG, WARNING, KASAN, panic)');
          root.children.add(item);
          run.failed(item, new vscode.TestMessage(r.message));
        }
        run.failed(root, new vscode.TestMessage(r.message), Date.now() - t0);
      }
      return r.ok;
    } finally {
      run.end();
    }
  }

  dispose(): void {
    this.controller.dispose();
  }
}

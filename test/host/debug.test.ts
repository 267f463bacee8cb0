/* A debug session in the real host: the inline adapter stops, steps, and the views follow its kernel. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { api, labels, settled, until } from './util';

/** A writer in PENDING behind another process's read transaction (test/fixtures/pending-writer.sqlos). */
function pendingWriter(): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-debug-')), 'pending-writer.sqlos');
  fs.writeFileSync(file, 'P1 pipe r w\nP1 fork P2\nP2 begin\nP1 write w "x"\nP2 commit\nP1 exit\nP2 exit\n');
  return file;
}

function waitForStop(seen: unknown[], count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      if (seen.filter((m) => (m as { event?: string }).event === 'stopped').length >= count) return resolve();
      if (Date.now() - t0 > 10000) return reject(new Error(`no stop #${count}: ${JSON.stringify(seen.slice(-5))}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

describe('debugging a scenario', () => {
  it('stops on entry, steps, and the Locks and Wait Queues views follow the stopped state', async () => {
    const a = await api();
    const seen: unknown[] = [];
    const tracker = vscode.debug.registerDebugAdapterTrackerFactory('sqliteos', { createDebugAdapterTracker: () => ({ onDidSendMessage: (m) => seen.push(m) }) });
    try {
      await vscode.commands.executeCommand('sqliteos.openExample', '03-several-readers.sqlos');
      const before = (await labels(a.views.target, 1))[0];
      const ok = await vscode.debug.startDebugging(undefined, { type: 'sqliteos', request: 'launch', name: 'test', program: pendingWriter(), stopOnEntry: true });
      assert.ok(ok, 'the session started');
      await waitForStop(seen, 1);
      const s = vscode.debug.activeDebugSession!;
      // P1 makes the pipe and forks, P2 begins its read transaction, P1's write then waits in PENDING.
      for (const [i, threadId] of [1, 1, 2, 1].entries()) {
        await s.customRequest('next', { threadId });
        await waitForStop(seen, i + 2);
      }
      await settled(a.views);
      const locks = await labels(a.views.locks, 1);
      assert.ok(locks.includes('PENDING · 2 readers — VFS store current_max_lock'), locks.join('\n'));
      const queues = await labels(a.views.waitQueues, 1);
      assert.ok(queues.includes('VFS store · write_q — 1 sleeping: P1'), queues.join('\n'));
      const trace = (await s.customRequest('stackTrace', { threadId: 1 })) as { stackFrames: { name: string }[] };
      assert.match(trace.stackFrames[0].name, /^write: xLock\(EXCLUSIVE\)/);
      assert.notEqual((await labels(a.views.target, 1))[0], before, 'the views show the session\'s kernel meanwhile');
      await vscode.debug.stopDebugging(s);
      // Ended: the views go back to the scenario they showed before, not the session's stale kernel.
      await until(async () => (await labels(a.views.target, 1))[0] === before, 'the views to show their own target again');
      assert.match(a.session.target?.info().details.scenario ?? '', /03-several-readers\.sqlos$/);
    } finally {
      tracker.dispose();
    }
  });

  it('runs the text the editor shows, unsaved edits included; a file that does not parse does not start', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-debug-')), 'edit.sqlos');
    fs.writeFileSync(file, 'P1 pipe r w\nP1 exit\n');
    const ed = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(file));
    await ed.edit((e) => e.insert(new vscode.Position(1, 0), 'P1 fork P2\nP2 exit\n'));
    assert.ok(ed.document.isDirty, 'the edit is not saved');
    const out: string[] = [];
    const tracker = vscode.debug.registerDebugAdapterTrackerFactory('sqliteos', {
      createDebugAdapterTracker: () => ({ onDidSendMessage: (m: { event?: string; body?: { output?: string } }) => m.event === 'output' && out.push(m.body?.output ?? '') }),
    });
    try {
      const ended = new Promise<void>((r) => {
        const d = vscode.debug.onDidTerminateDebugSession(() => (d.dispose(), r()));
      });
      assert.ok(await vscode.debug.startDebugging(undefined, { type: 'sqliteos', request: 'launch', name: 'unsaved', program: file }));
      await ended;
      await until(() => /ok: no anomaly|FAILED/.test(out.join('')), 'the summary at the end of the run');
      assert.match(out.join(''), /P1 fork P2/, 'the unsaved line ran');
      await ed.edit((e) => e.insert(new vscode.Position(0, 0), 'P1 frobnicate\n'));
      assert.equal(await vscode.debug.startDebugging(undefined, { type: 'sqliteos', request: 'launch', name: 'broken', program: file }), false, 'a file with errors does not start');
      assert.equal(vscode.debug.activeDebugSession, undefined);
    } finally {
      tracker.dispose();
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
  });
});

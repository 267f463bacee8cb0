/* A debug session in the real host: the inline adapter stops, steps, and the views follow its kernel. */
import * as assert from 'assert';
import * as vscode from 'vscode';
import { api, example, labels, settled, until } from './util';

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
      const ok = await vscode.debug.startDebugging(undefined, { type: 'sqliteos', request: 'launch', name: 'test', program: example('10-self-deadlock.sqlos').fsPath, profile: 'upstream', stopOnEntry: true });
      assert.ok(ok, 'the session started');
      await waitForStop(seen, 1);
      const s = vscode.debug.activeDebugSession!;
      for (let i = 0; i < 3; i++) {
        await s.customRequest('next', { threadId: 1 });
        await waitForStop(seen, i + 2);
      }
      await settled(a.views);
      const locks = await labels(a.views.locks, 1);
      assert.ok(locks.includes('current_max_lock: PENDING — num_readers 2'), locks.join('\n'));
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
});

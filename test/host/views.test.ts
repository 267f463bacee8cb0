/* The four views filled from a real scenario on the simulator, and refreshed only where it changed. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { Cmd } from '../../extension/ids';
import type { TreeNode } from '../../extension/views/nodes/node';
import { api, example, labels, settled, until } from './util';

describe('views', () => {
  it('show the target, tables, locks and wait queues of a loaded scenario, live as it steps', async () => {
    const a = await api();
    await vscode.commands.executeCommand(Cmd.loadScenario, example('08-pending-writer.sqlos'));
    assert.match(a.session.target?.info().details.scenario ?? '', /08-pending-writer\.sqlos$/, 'scenario loaded');
    // Run the statements up to the point where the writer is PENDING and the query waits on read_q.
    for (let i = 0; i < 6; i++) await vscode.commands.executeCommand(Cmd.stepStatement);
    await settled(a.views);
    const target = await labels(a.views.target, 3);
    // The name first, then the state, the profile and lock policy last (what a narrow sidebar cuts).
    assert.match(target[0], /^simulator — next: line \d+ \(P2 commit\) · companion, sqliteos$/);
    assert.ok(target.some((l) => /P1 — blocked on write_q$/.test(l)), target.join('\n'));
    assert.ok(target.some((l) => /P3 — blocked on read_q/.test(l)), target.join('\n'));
    const locks = await labels(a.views.locks, 2);
    assert.deepStrictEqual(locks.slice(0, 2), ['PENDING · 2 readers — VFS store current_max_lock', 'global write mutex — held by P1']);
    assert.ok(locks.some((l) => /^ {2}P1: PENDING — connection \d+ \(write\)$/.test(l)), locks.join('\n'));
    assert.ok(locks.some((l) => /P2: SHARED — connection \d+ \(begin\)/.test(l)), locks.join('\n'));
    const queues = await labels(a.views.waitQueues, 2);
    assert.ok(queues.includes('VFS store · read_q — 1 sleeping: P3'), queues.join('\n'));
    assert.ok(queues.includes('VFS store · write_q — 1 sleeping: P1'), queues.join('\n'));
    const tables = await labels(a.views.tables, 1);
    assert.deepStrictEqual(tables, ['pid_store — 3 rows', 'pid_pipe — 6 rows', 'pipe_data — 1 row', 'pipe_chunk — 0 rows']);
    // P2 commits: the writer and the reader finish; the views follow without a manual refresh.
    await vscode.commands.executeCommand(Cmd.stepStatement);
    await vscode.commands.executeCommand(Cmd.stepStatement);
    await settled(a.views);
    const after = await labels(a.views.waitQueues, 1);
    assert.ok(after.includes('VFS store · write_q — empty'), after.join('\n'));
    assert.ok((await labels(a.views.tables, 1)).includes('pipe_chunk — 1 row'));
  });

  it('gives every Target node its own id after a run with an anomaly, so anomalies, processes and details all expand', async () => {
    const a = await api();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-ids-')), 'stuck.sqlos');
    fs.writeFileSync(file, 'P1 pipe r w\nP1 read r 5\n');
    await vscode.commands.executeCommand(Cmd.runScenario, vscode.Uri.file(file));
    const ids: string[] = [];
    const walk = async (node?: TreeNode, depth = 0): Promise<void> => {
      for (const child of await a.views.target.getChildren(node)) {
        ids.push((await a.views.target.getTreeItem(child)).id ?? '');
        if (depth < 2) await walk(child, depth + 1);
      }
    };
    await walk();
    const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
    assert.deepStrictEqual(twice, [], `ids given twice: ${twice.join(', ')}`);
    const text = (await labels(a.views.target, 3)).join('\n');
    assert.match(text, /anomalies — 1\n {4}line 2: deadlock/, text);
    assert.match(text, /processes\n {4}P1/, text);
  });

  it('pages table rows and shows blobs as length and preview', async () => {
    const a = await api();
    await vscode.workspace.getConfiguration('sqliteos').update('tables.pageSize', 2, vscode.ConfigurationTarget.Global);
    try {
      await vscode.commands.executeCommand(Cmd.runScenario, example('12-upstream-rows-kept.sqlos'));
      const tables = await labels(a.views.tables, 3);
      assert.ok(tables.includes('pid_pipe — 2 rows'), tables.join('\n'));
      assert.ok(tables.some((l) => /data — blob 11 B: 6c 65 66 74/.test(l)), tables.join('\n'));
      await vscode.commands.executeCommand(Cmd.runScenario, example('04-fork-grandchild.sqlos'));
      await vscode.commands.executeCommand(Cmd.loadScenario, example('04-fork-grandchild.sqlos'));
      for (let i = 0; i < 4; i++) await vscode.commands.executeCommand(Cmd.stepStatement);
      const roots = await a.views.tables.getChildren();
      const pidPipe = roots.find((n) => n.id === 'table:pid_pipe')!;
      const rows = await a.views.tables.getChildren(pidPipe);
      assert.strictEqual(rows.length, 4, 'the columns, two rows and "Load more"');
      const schema = await labels(a.views.tables, 2, rows[0]);
      assert.deepStrictEqual(schema[0], 'pid: the handler (the fd table\'s owner) holding the fd; the published kernel stores the calling pid');
      const more = await a.views.tables.getTreeItem(rows[3]);
      assert.strictEqual(more.label, 'Load more (4 more rows)');
      await vscode.commands.executeCommand(Cmd.loadMore, pidPipe);
      assert.strictEqual((await a.views.tables.getChildren(pidPipe)).length, 6, 'the columns, four rows and "Load more"');
    } finally {
      await vscode.workspace.getConfiguration('sqliteos').update('tables.pageSize', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('keeps tree ids stable across refreshes and refreshes only the touched table', async () => {
    const a = await api();
    await vscode.commands.executeCommand(Cmd.loadScenario, example('01-fork-pipe.sqlos'));
    await settled(a.views); // the whole-view refresh of the new target goes out first
    const before = (await a.views.tables.getChildren()).map((n) => n.id);
    const repainted: (string | undefined)[] = [];
    const sub = a.views.tables.onDidChangeTreeData((n) => repainted.push(n?.id));
    await vscode.commands.executeCommand(Cmd.stepStatement); // pipe: touches pipe_data and pid_pipe
    await settled(a.views);
    sub.dispose();
    assert.deepStrictEqual((await a.views.tables.getChildren()).map((n) => n.id), before);
    assert.deepStrictEqual([...new Set(repainted)].sort(), ['table:pid_pipe', 'table:pipe_data'], 'the two tables written repaint; the rest of the view does not');
  });

  it('lists a run\'s anomalies under the Target with their lines, and a click opens the line', async () => {
    const a = await api();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-anomaly-')), 'bad-expect.sqlos');
    fs.writeFileSync(file, 'P1 pipe r w\nP1 write w "ab"\n# the bytes are "ab", not "xy"\nP1 read r 2 == "xy"\nP1 exit\n');
    await vscode.commands.executeCommand(Cmd.runScenario, vscode.Uri.file(file));
    const target = await labels(a.views.target, 3);
    assert.ok(target.some((l) => /^ {2}anomalies — 1$/.test(l)), target.join('\n'));
    assert.ok(target.some((l) => /^ {4}line 4: expectation — /.test(l)), target.join('\n'));
    assert.ok(target.some((l) => /details — 4 ops, 1 anomaly$/.test(l)), target.join('\n'));
    const root = (await a.views.target.getChildren())[0];
    const list = (await a.views.target.getChildren(root)).find((n) => n.id === 'target:anomalies')!;
    const item = await a.views.target.getTreeItem((await a.views.target.getChildren(list))[0]);
    await vscode.commands.executeCommand(item.command!.command, ...(item.command!.arguments ?? []));
    const ed = vscode.window.activeTextEditor!;
    assert.strictEqual(ed.document.uri.fsPath, file);
    assert.strictEqual(ed.selection.active.line, 3, 'the cursor is on line 4');
  });

  it('marks each process\'s next statement in the editor and says what comes next in the status bar', async () => {
    const a = await api();
    const copy = (await vscode.commands.executeCommand(Cmd.openExample, '08-pending-writer.sqlos')) as vscode.Uri;
    await until(() => a.editor.settled, 'the editor marks');
    assert.strictEqual(a.editor.last.file, copy.fsPath);
    assert.deepStrictEqual(a.editor.last.marks.map((m) => `${m.line} ${m.text}`), ['5 ◀ P1 runs next']);
    for (let i = 0; i < 6; i++) await vscode.commands.executeCommand(Cmd.stepStatement);
    await until(() => a.editor.settled, 'the editor marks');
    assert.deepStrictEqual(a.editor.last.marks.map((m) => `${m.line} ${m.text}`), ['9 ◀ P1 blocked on write_q', '10 ◀ P3 blocked on read_q', '11 ◀ P2 runs next']);
    assert.strictEqual(a.editor.last.status, '$(beaker) simulator (companion, sqliteos) · next: line 11');
    await vscode.commands.executeCommand(Cmd.runToEnd);
    await until(() => a.editor.settled, 'the editor marks');
    assert.deepStrictEqual(a.editor.last.marks, [], 'nothing left to run: no marks');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('gives every item of every view a tooltip with its whole text', async () => {
    const a = await api();
    await vscode.commands.executeCommand(Cmd.loadScenario, example('08-pending-writer.sqlos'));
    for (let i = 0; i < 6; i++) await vscode.commands.executeCommand(Cmd.stepStatement);
    for (const p of [a.views.target, a.views.tables, a.views.locks, a.views.waitQueues]) {
      const walk = async (node?: Parameters<typeof p.getChildren>[0], depth = 0): Promise<void> => {
        for (const child of await p.getChildren(node)) {
          const item = await p.getTreeItem(child);
          const tip = typeof item.tooltip === 'string' ? item.tooltip : (item.tooltip?.value ?? '');
          assert.ok(tip.length > 0, `${p.viewId}: ${String(item.label)} has no tooltip`);
          if (item.description) assert.ok(tip.includes(String(item.description)), `${p.viewId}: ${String(item.label)}'s tooltip leaves out its description '${String(item.description)}': ${tip}`);
          if (depth < 2) await walk(child, depth + 1);
        }
      };
      await walk();
    }
  });
});

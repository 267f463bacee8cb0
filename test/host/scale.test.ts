/*
 * A kernel with 10,000 processes and 10,000 pipes: the views stay small (paged, summarised) and each
 * view's refresh is measured and printed (the figures go in the note; nothing here is timed
 * against a limit, the assertions are about what the user sees).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { note } from './report';
import { Cmd } from '../../extension/ids';
import type { NodeProvider } from '../../extension/views/provider';
import { api, labels, settled } from './util';

async function timed(p: NodeProvider, depth = 1): Promise<{ ms: number; items: string[] }> {
  const t0 = performance.now();
  const items = await labels(p, depth);
  return { ms: performance.now() - t0, items };
}

describe('scale: 10,000 processes and 10,000 pipes', () => {
  it('keeps every view small and prints how long each refresh takes', async function () {
    this.timeout(120000);
    const n = 10000;
    const lines = [...Array.from({ length: n }, (_, i) => `P1 fork P${i + 2}`), ...Array.from({ length: n }, (_, i) => `P${i + 2} pipe r${i} w${i}`)];
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-scale-')), 'big.sqlos');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const a = await api();
    const t0 = performance.now();
    await vscode.commands.executeCommand(Cmd.runScenario, vscode.Uri.file(file));
    const runMs = performance.now() - t0;
    await settled(a.views);
    const target = await timed(a.views.target, 3);
    const tables = await timed(a.views.tables, 1);
    const locks = await timed(a.views.locks, 2);
    const queues = await timed(a.views.waitQueues, 1);
    const roots = await a.views.tables.getChildren();
    const t1 = performance.now();
    const page = await a.views.tables.getChildren(roots.find((r) => r.id === 'table:pid_pipe'));
    const pageMs = performance.now() - t1;
    note(
      `      run 20,000 statements: ${runMs.toFixed(0)} ms; refresh target ${target.ms.toFixed(1)} ms, tables ${tables.ms.toFixed(1)} ms, ` +
        `locks ${locks.ms.toFixed(1)} ms, wait queues ${queues.ms.toFixed(1)} ms; first page of pid_pipe (200 rows) ${pageMs.toFixed(1)} ms`,
    );
    assert.ok(target.items.some((l) => /9801 more processes — see the pid_store table/.test(l)), target.items.join('\n'));
    assert.ok(target.items.length < 220);
    assert.deepStrictEqual(tables.items, ['pid_store — 10001 rows', 'pid_pipe — 20000 rows', 'pipe_data — 10000 rows', 'pipe_chunk — 0 rows']);
    assert.strictEqual(page.length, 202, 'the columns, 200 rows and "Load more"');
    assert.ok(queues.items.includes('20000 idle pipe queues — nobody sleeps on them'), queues.items.join('\n'));
    assert.ok(queues.items.length <= 4);
  });
});

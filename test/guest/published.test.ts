/*
 * The published SQLiteOS kernel itself as an SSH target (`sqliteos guest start --published`: WSL2
 * 5.15.146.1 with the paper's patch, its sqlite3.c reconstructed; built by npm run test:kernel:trees, or
 * here when missing): the target finds it is the published kernel by itself, reads its five tables
 * through 549 and the kernel log (the demo's bytes in pipe_data), runs queries, says why there are no
 * locks; then the same in code-server: Connect to Host… lists it by name, the Tables view fills, and the
 * Locks and Wait Queues views say why they are empty. Screenshots in test-results/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import { Page } from 'playwright-core';
import { RemoteTarget } from '../../extension/targets/remote';
import { bundledHelper, sshSource } from '../../extension/machines/sources';
import { NO_PROMPTS } from '../../extension/machines/ssh/auth';
import { ConnectionManager } from '../../extension/machines/ssh/connection';
import { NotShown } from '../../extension/targets/target';
import { row, screenshot } from '../e2e/harness';
import { freePort } from '../ssh/harness';
import { GuestWorkbench, ROOT, guest, guestDest, guestWorkbench } from './util';

const DEMO_BYTES = 'hello from the published kernel';

describe('the published SQLiteOS kernel over SSH (QEMU guest)', () => {
  after(() => guest('stop'));

  it('is found to be the published kernel, its tables read through 549, queries run, no locks shown', { timeout: 900000 }, async () => {
    const port = await freePort();
    const out = guest('start', '--published', '--port', String(port));
    assert.match(out, new RegExp(`the published SQLiteOS kernel .*\\n.*destination: +root@127\\.0\\.0\\.1:${port}`));
    assert.match(guest('status'), /running on 127\.0\.0\.1:\d+ .*the published SQLiteOS kernel/);
    const m = new ConnectionManager(() => ({ prompts: NO_PROMPTS, hostKeyPolicy: 'strict' }));
    const t = new RemoteTarget(sshSource(guestDest(port), m), bundledHelper(path.join(ROOT, 'dist')), { pollIntervalMs: () => 200, backoffMs: [200, 1000] });
    try {
      const facts = await t.start();
      assert.deepEqual([facts.kernel, facts.privilege], ['upstream', 'root']);
      assert.match(t.info().state, /^connected: published kernel 5\.15\.146\.1-microsoft-standard-WSL2/);
      assert.deepEqual(await t.tableNames(), ['pid_store', 'pid_pipe', 'pipe_data', 'inode', 'partitioned_data']);
      const data = await t.tablePage('pipe_data', 0, 10);
      assert.ok(data.rows.some((r) => r.includes(DEMO_BYTES)), JSON.stringify(data.rows));
      // Wait-queue addresses are kernel pointers (0xffff8..., negative as int64), for anyone to read through 549.
      assert.ok(data.rows.every((r) => typeof r[2] === 'number' && r[2] < 0 && r[2] >= -(2 ** 47)), JSON.stringify(data.rows));
      // What /proc says: the demo's reader asleep in sql_pipe_read, the boot script's processes gone (rows kept).
      const procs = await t.processes();
      assert.equal(procs.filter((p) => p.state === 'blocked' && /^sql_pipe_read/.test(p.activity ?? '')).length, 1, JSON.stringify(procs));
      assert.ok(procs.some((p) => p.state === 'exited'), 'a pid_store row of a process gone');
      const q = await t.query('SELECT count(*) AS n FROM pid_pipe');
      assert.deepEqual(q, { columns: ['n'], rows: [[(await t.tablePage('pid_pipe', 0, 0)).total]] });
      await assert.rejects(t.locks(), (e: Error) => e instanceof NotShown && /only its tables/.test(e.message));
      // Every 549 call leaks its connection there: asked to poll every 200 ms, it reads once a minute, and says why.
      assert.match(t.info().warnings?.join('\n') ?? '', /read once a minute: every query the published kernel runs \(syscall 549\) leaks its connection/);
      const taken = t.snapshot!.takenAt;
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(t.snapshot!.takenAt, taken, 'no new snapshot within 2 s');
    } finally {
      t.dispose();
      m.closeAll();
    }
  });
});

describe('Connect to Host… in code-server, to the published kernel in the QEMU guest', () => {
  let w: GuestWorkbench;
  let page: Page;
  before(async () => {
    guest('stop');
    w = await guestWorkbench({ demo: true, knownHost: false, sshConfig: false, published: true });
    ({ page } = w);
  });
  after(() => w?.close());

  it('lists it by name, fills the Tables view, and says why Locks and Wait Queues are empty', { timeout: 300000 }, async () => {
    await page.locator('.activitybar [aria-label^="SQLiteOS"]').first().click();
    await page.getByRole('button', { name: 'Connect to host…', exact: true }).click();
    const first = page.locator('.quick-input-list .monaco-list-row').first();
    await first.waitFor({ state: 'visible' });
    assert.match(await first.innerText(), /Local QEMU guest[\s\S]*running, published SQLiteOS kernel 5\.15\.146\.1-microsoft-standard-WSL2/);
    await page.keyboard.press('Enter');
    await row(page, new RegExp(`root@\\[127\\.0\\.0\\.1\\]:${w.port}.*connected: published kernel 5\\.15\\.146\\.1`)).waitFor({ timeout: 60000 });
    await row(page, /^pipe_data.*\d+ rows/).click();
    await row(page, new RegExp(DEMO_BYTES)).waitFor({ timeout: 30000 });
    await row(page, /^inode.*0 rows/).waitFor({ timeout: 30000 });
    await row(page, /only its tables.*no interface for lock state or wait queues/).first().waitFor({ timeout: 30000 });
    await screenshot(page, 'published-01-tables');
  });
});

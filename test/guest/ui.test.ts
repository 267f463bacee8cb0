/*
 * Connecting to a real SQLiteOS kernel as a person does it, in a real code-server in a real Chromium:
 * the welcome view's "Connect to host…" listing the running QEMU guest first, connected with no file
 * edited; and a Host of ~/.ssh/config whose host key is unknown, shown with its fingerprint, read for
 * longer than an attempt may take, and trusted with a click, then the companion kernel filling the
 * Target, Tables and Wait Queues views. The extension host runs with a HOME of its own, so the user's
 * real ~/.ssh is never read or written. Screenshots in test-results/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { Page } from 'playwright-core';
import { row, screenshot } from '../e2e/harness';
import { sshKeygenFingerprint } from '../ssh/harness';
import { GuestWorkbench, STATE, guestWorkbench } from './util';

describe('Connect to Host… in code-server, to the QEMU guest, as a new user does it', () => {
  let w: GuestWorkbench;
  let page: Page;
  let port: number;
  before(async () => {
    w = await guestWorkbench({ demo: true, knownHost: false, sshConfig: false });
    ({ page, port } = w);
  });
  after(() => w?.close());

  it('lists the running guest first and connects with its own key and host key, with ~/.ssh left empty', { timeout: 180000 }, async () => {
    await page.locator('.activitybar [aria-label^="SQLiteOS"]').first().click();
    await page.getByRole('button', { name: 'Connect to host…', exact: true }).click();
    const first = page.locator('.quick-input-list .monaco-list-row').first();
    await first.waitFor({ state: 'visible' });
    assert.match(await first.innerText(), /Local QEMU guest[\s\S]*running, companion kernel 6\.1\.\d+/);
    await screenshot(page, 'guest-00-connect-list');
    await page.keyboard.press('Enter');
    await row(page, new RegExp(`root@\\[127\\.0\\.0\\.1\\]:${port}.*connected: companion kernel 6\\.1`)).waitFor({ timeout: 60000 });
    await row(page, /blocked on pipe \d+ read_wq/).waitFor({ timeout: 30000 });
    // Real processes by their command names; the SSH session and helper the companion runs, folded apart.
    await row(page, /P\d+ sqliteos-demo.*blocked on pipe \d+ read_wq/).waitFor({ timeout: 30000 });
    // The helper, the SSH session it runs in and the SFTP server beside it (the daemon is not the session).
    await row(page, /companion's own.*\d+: .*(sqliteos-inspec.*sftp-server|sftp-server.*sqliteos-inspec)/).waitFor({ timeout: 30000 });
    for (const own of ['sqliteos-inspec', 'sftp-server']) assert.equal(await row(page, new RegExp(`P\\d+ ${own}`)).count(), 0, `${own} is not listed among the user's processes`);
    await screenshot(page, 'guest-01-connected');
    assert.deepEqual(fs.readdirSync(path.join(w.home, '.ssh')), [], 'no config, no known_hosts written: the guest brought its own');
  });
});

describe('Connect to Host… in code-server, to a Host of ~/.ssh/config whose key is unknown', () => {
  let w: GuestWorkbench;
  let page: Page;
  before(async () => {
    // An attempt may take 3 s: the user takes longer over the fingerprint, and no timer may run meanwhile.
    w = await guestWorkbench({ demo: true, knownHost: false, settings: { 'sqliteos.ssh.connectTimeout': 3 } });
    ({ page } = w);
  });
  after(() => w?.close());

  it('asks about the unknown host key, waits for the user however long, then shows the tables and sleeping reader', { timeout: 180000 }, async () => {
    const port = w.port;
    await page.locator('.activitybar [aria-label^="SQLiteOS"]').first().click();
    await page.getByRole('button', { name: 'Connect to host…', exact: true }).click();
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill('myguest');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'myguest' }).first().waitFor();
    await page.keyboard.press('Enter');
    const fp = sshKeygenFingerprint(path.join(STATE, 'known_hosts'));
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 60000 });
    await dialog.getByText(fp).waitFor();
    await screenshot(page, 'guest-02-host-key');
    await page.waitForTimeout(6000);
    await dialog.getByRole('button', { name: 'Trust and Connect' }).click();
    await row(page, new RegExp(`root@\\[127\\.0\\.0\\.1\\]:${port}.*connected: companion kernel 6\\.1`)).waitFor({ timeout: 60000 });
    await row(page, /blocked on pipe \d+ read_wq/).waitFor({ timeout: 30000 });
    await screenshot(page, 'guest-03-target');
    await row(page, /^pid_store.*\d+ rows/).click();
    await row(page, /pid \d+ · parent_id \d+/).waitFor({ timeout: 30000 });
    await row(page, /pipe \d+ · read_wq.*1 sleeping/).waitFor({ timeout: 30000 });
    await screenshot(page, 'guest-04-tables-and-queues');
    const known = fs.readFileSync(path.join(w.home, '.ssh', 'known_hosts'), 'utf8');
    assert.match(known, new RegExp(`^\\[127\\.0\\.0\\.1\\]:${port} ssh-ed25519 `), 'trusted only after the click, and written where OpenSSH would');
  });
});

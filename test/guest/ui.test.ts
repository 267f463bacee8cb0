/*
 * Connecting to a real SQLiteOS kernel as a person does it, in a real code-server in a real Chromium:
 * the welcome view's "Connect to host…", a destination typed in, the unknown host key shown with its
 * fingerprint and trusted with a click, then the companion kernel in the QEMU guest filling the Target,
 * Tables and Wait Queues views. The extension host runs with a HOME of its own, so the user's real
 * ~/.ssh is never read or written. Screenshots in test-results/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { Page } from 'playwright-core';
import { row, screenshot } from '../e2e/harness';
import { sshKeygenFingerprint } from '../ssh/harness';
import { GuestWorkbench, STATE, guestWorkbench } from './util';

describe('Connect to Host… in code-server, to the QEMU guest', () => {
  let w: GuestWorkbench;
  let page: Page;
  let port: number;
  before(async () => {
    w = await guestWorkbench({ demo: true, knownHost: false });
    ({ page, port } = w);
  });
  after(() => w?.close());

  it('asks about the unknown host key, then shows the guest kernel\'s tables and sleeping reader', { timeout: 180000 }, async () => {
    await page.locator('.activitybar [aria-label^="SQLiteOS"]').first().click();
    await page.getByRole('button', { name: 'Connect to host…', exact: true }).click();
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`root@127.0.0.1:${port}`);
    await page.keyboard.press('Enter');
    const fp = sshKeygenFingerprint(path.join(STATE, 'known_hosts'));
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 60000 });
    await dialog.getByText(fp).waitFor();
    await screenshot(page, 'guest-01-host-key');
    await dialog.getByRole('button', { name: 'Trust and Connect' }).click();
    await row(page, new RegExp(`root@\\[127\\.0\\.0\\.1\\]:${port}.*connected: companion kernel 6\\.1`)).waitFor({ timeout: 60000 });
    await row(page, /blocked on pipe \d+ read_wq/).waitFor({ timeout: 30000 });
    await screenshot(page, 'guest-02-target');
    await row(page, /^pid_store.*\d+ rows/).click();
    await row(page, /pid \d+ · parent_id \d+/).waitFor({ timeout: 30000 });
    await row(page, /pipe \d+ · read_wq.*1 sleeping/).waitFor({ timeout: 30000 });
    await screenshot(page, 'guest-03-tables-and-queues');
    const known = fs.readFileSync(path.join(w.home, '.ssh', 'known_hosts'), 'utf8');
    assert.match(known, new RegExp(`^\\[127\\.0\\.0\\.1\\]:${port} ssh-ed25519 `), 'trusted only after the click, and written where OpenSSH would');
  });
});

/*
 * Connect to Host… from the palette, in a real code-server in a real Chromium, to a real sshd on this
 * machine, which runs no SQLiteOS kernel: the Target view must say exactly that (and what to do), and the
 * other views must say why they are empty instead of offering the simulator's welcome. The extension host
 * runs with a HOME of its own (~/.ssh/config with a Host for the test server, its key already known).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Browser, Page } from 'playwright-core';
import { Server, launchChromium, openWorkbench, palette, row, screenshot, startCodeServer } from '../e2e/harness';
import { Sshd, canRun, keygen } from './harness';
import { skipUnlessRunnable } from '../skip';

const SUITE = 'Connect to Host… from the palette, to a host without SQLiteOS';
describe(SUITE, { skip: skipUnlessRunnable(SUITE, canRun()) }, () => {
  let sshd: Sshd;
  let server: Server;
  let browser: Browser;
  let page: Page;
  let home: string;
  before(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-ui-ssh-'));
    fs.mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
    const key = keygen(path.join(home, '.ssh', 'id_test'));
    sshd = await Sshd.start([key.pub]);
    fs.writeFileSync(path.join(home, '.ssh', 'known_hosts'), `${sshd.knownHostsLine()}\n`);
    fs.writeFileSync(path.join(home, '.ssh', 'config'), `Host plain-linux\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n  IdentityFile ${key.priv}\n`);
    server = await startCodeServer({ env: { HOME: home, SSH_AUTH_SOCK: '' } });
    browser = await launchChromium();
    page = await openWorkbench(browser, server);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await sshd?.dispose();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('lists the Host of ~/.ssh/config, connects, and says the host runs no SQLiteOS kernel', { timeout: 120000 }, async () => {
    await page.locator('.activitybar [aria-label^="SQLiteOS"]').first().click();
    await palette(page, 'SQLiteOS: Connect to Host…', 'plain-linux');
    await row(page, new RegExp(`root@\\[127\\.0\\.0\\.1\\]:${sshd.port}.*connected: Linux`)).waitFor({ timeout: 60000 });
    const warning = row(page, /^No SQLiteOS kernel on this host: Linux \S+ here is not a SQLiteOS kernel/);
    await warning.waitFor();
    // The other views say why they are empty; none offers the simulator's welcome as if nothing were there.
    assert.equal(await page.locator('.monaco-list-row', { hasText: 'No SQLiteOS kernel on this host (the Target view says more)' }).count(), 4, 'processes, tables, locks, wait queues');
    assert.equal(await page.getByRole('button', { name: 'Open example scenario', exact: true }).count(), 0);
    await screenshot(page, 'ssh-01-no-sqliteos');
    assert.match(sshd.log, /Accepted publickey for root/);
  });
});

/*
 * Build Kernel as a person runs it, in a real code-server in a real Chromium: a workspace holding its own
 * kernel-scripts (a copy of the patch with a deliberate error), Apply SQLiteOS Patch and Build Kernel from
 * the palette on this machine with the warm tree `npm run test:kernel` leaves, the progress notification,
 * and the compiler's error in the Problems panel at the workspace file's line; then Run Kernel Tests on
 * the built image, each guest check an item in the Testing view. The real patch is applied
 * again afterwards. Screenshots in test-results/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Browser, Page } from 'playwright-core';
import { Server, launchChromium, openWorkbench, palette, row, screenshot, startCodeServer } from '../e2e/harness';
import { ROOT } from './util';
import { skipUnlessRunnable } from '../skip';

const TREE = path.join(ROOT, '.cache', 'linux-source-6.1');
const OUT = path.join(ROOT, '.cache', 'kbuild');
const BROKEN_LINE = 40;

const SUITE = 'Build Kernel from the palette in code-server';
const skip = skipUnlessRunnable(SUITE, !fs.existsSync(path.join(OUT, 'arch', 'x86', 'boot', 'bzImage')) && 'no warm kernel build (npm run test:kernel first)');
describe(SUITE, { skip }, () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let pipe: string;

  before(async () => {
    server = await startCodeServer();
    const scripts = path.join(server.workspace, 'kernel-scripts');
    fs.cpSync(path.join(ROOT, 'kernel-scripts'), scripts, { recursive: true });
    fs.cpSync(path.join(ROOT, '.cache', 'sqlite'), path.join(server.workspace, '.cache', 'sqlite'), { recursive: true });
    pipe = path.join(scripts, 'sqliteos', 'pipe.c');
    const lines = fs.readFileSync(pipe, 'utf8').split('\n');
    lines.splice(BROKEN_LINE - 1, 0, 'static int sqliteos_broken_on_purpose = undeclared_on_purpose;');
    fs.writeFileSync(pipe, lines.join('\n'));
    fs.writeFileSync(
      path.join(server.workspace, '.vscode', 'settings.json'),
      JSON.stringify({ 'sqliteos.kernel.machine': 'local', 'sqliteos.kernel.tree': TREE, 'sqliteos.kernel.config': 'qemu', 'sqliteos.kernel.outDir': OUT, 'sqliteos.kernel.image': path.join(OUT, 'arch', 'x86', 'boot', 'bzImage') }),
    );
    browser = await launchChromium();
    page = await openWorkbench(browser, server);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    spawnSync('node', [path.join(ROOT, 'bin', 'sqliteos.js'), 'guest', 'stop']);
    // The real patch back in the tree the other suites boot.
    const r = spawnSync('node', [path.join(ROOT, 'bin', 'sqliteos.js'), 'kernel', 'patch', '--tree', TREE], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('shows the build\'s progress and puts the error at the workspace patch file\'s line in Problems', { timeout: 240000 }, async () => {
    // The extension up (its view container open) before the palette is used.
    await page.locator('.activitybar [aria-label^="SQLiteOS"]').first().click();
    await page.getByRole('button', { name: 'Connect to host…', exact: true }).waitFor({ timeout: 30000 });
    await palette(page, 'SQLiteOS: Apply SQLiteOS Patch');
    // The remembered tree is named before anything changes in it.
    const confirm = page.locator('.monaco-dialog-box', { hasText: `Apply the companion patch to ${TREE}` });
    await confirm.waitFor({ timeout: 60000 });
    await confirm.getByRole('button', { name: 'Apply', exact: true }).click();
    await page.locator('.notifications-toasts', { hasText: 'companion patch applied' }).waitFor({ timeout: 120000 });
    await palette(page, 'SQLiteOS: Build Kernel');
    const progress = page.locator('.notifications-toasts', { hasText: 'Building the kernel on this machine' });
    await progress.waitFor({ timeout: 60000 });
    await page.waitForTimeout(700); // the toast fades in
    await screenshot(page, 'kernel-01-build-progress');
    await page.locator('.notifications-toasts', { hasText: /the build failed: .*pipe\.c:40/ }).waitFor({ timeout: 180000 });
    await palette(page, 'View: Focus Problems (Errors, Warnings, Infos)');
    const problem = row(page, /undeclared_on_purpose/);
    await problem.waitFor({ timeout: 30000 });
    await screenshot(page, 'kernel-02-problems');
    assert.match((await problem.textContent()) ?? '', /\[Ln 40, Col \d+\]/);
    await row(page, /pipe\.c/).waitFor();
  });

  it('runs the guest checks on the built image, each an item in the Testing view', { timeout: 240000 }, async () => {
    await palette(page, 'SQLiteOS: Boot in QEMU and Run Kernel Tests');
    await page.locator('.notifications-toasts', { hasText: /kernel checks: \d+ passed, 0 failed/ }).waitFor({ timeout: 200000 });
    await page.locator('.activitybar [aria-label^="Testing"]').first().click();
    await row(page, /bzImage on this machine|kbuild on this machine/).waitFor({ timeout: 30000 });
    await row(page, /^1\. /).waitFor({ timeout: 30000 }).catch(async () => {
      await row(page, /kbuild on this machine/).click();
      await page.keyboard.press('ArrowRight');
      await row(page, /^1\. /).waitFor({ timeout: 10000 });
    });
    await screenshot(page, 'kernel-03-testing-view');
  });

  it('installs the image as the local QEMU guest and connects to it', { timeout: 180000 }, async () => {
    await palette(page, 'SQLiteOS: Install Kernel', 'QEMU on This Machine');
    await page.locator('.activitybar [aria-label^="SQLiteOS"]').first().click();
    await row(page, /the QEMU guest.*connected: companion kernel 6\.1|root@\[127\.0\.0\.1\]:\d+.*connected: companion kernel 6\.1/).waitFor({ timeout: 120000 });
    await row(page, /blocked on pipe \d+ read_wq/).waitFor({ timeout: 30000 });
    await screenshot(page, 'kernel-04-installed-guest');
  });
});

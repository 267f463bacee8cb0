/*
 * Run Pipe Benchmarks and the report as a person sees them, in a real code-server in a real Chromium: on
 * the simulator, then on the companion kernel in the QEMU guest (connected from the palette), each from
 * the palette; the report (Chart.js in a webview, shipped in the package) with both runs compared beside
 * the paper's Table 1, in the dark and the light theme; lmbench missing said plainly, with no install
 * offered where it cannot work. Screenshots in test-results/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FrameLocator, Page } from 'playwright-core';
import { palette, row, screenshot } from '../e2e/harness';
import { GuestWorkbench, guestWorkbench } from './util';

describe('Run Pipe Benchmarks and the report in code-server', () => {
  let w: GuestWorkbench;
  let page: Page;
  let port: number;
  before(async () => {
    w = await guestWorkbench({ demo: false, knownHost: true });
    ({ page, port } = w);
  });
  after(() => w?.close());

  const report = (): FrameLocator => page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');

  it('runs on the simulator from the palette and opens the report', { timeout: 180000 }, async () => {
    await page.locator('.activitybar [aria-label^="SQLiteOS"]').first().click();
    await page.getByRole('button', { name: 'Use simulator', exact: true }).click();
    await row(page, /simulator.*companion, sqliteos/).waitFor({ timeout: 30000 });
    await palette(page, 'SQLiteOS: Run Pipe Benchmarks');
    await page.locator('.quick-input-widget', { hasText: 'Every Chunk Size' }).waitFor();
    await page.keyboard.press('Enter'); // Quick: 64 KiB, 3 runs
    await report().getByText('simulator (ours)').first().waitFor({ timeout: 120000 });
    await report().getByText("The paper's Table 1 (pipe bandwidth, lmbench)").waitFor();
  });

  it('runs on the guest kernel over SSH, and compares both runs beside the paper in both themes', { timeout: 300000 }, async () => {
    await palette(page, 'SQLiteOS: Connect to Host…');
    const input = page.locator('.quick-input-widget input');
    await input.fill(`root@127.0.0.1:${port}`);
    await page.keyboard.press('Enter');
    await row(page, /connected: companion kernel 6\.1/).waitFor({ timeout: 60000 });
    await palette(page, 'SQLiteOS: Run Pipe Benchmarks');
    await page.locator('.quick-input-widget', { hasText: 'Every Chunk Size' }).waitFor();
    // Choose…: 64 KiB (picked by default), then none of the more configurations.
    await page.locator('.quick-input-widget input').fill('Choose');
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget', { hasText: 'Chunk sizes' }).waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget', { hasText: 'More configurations' }).waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.notifications-toasts', { hasText: /Pipe benchmarks on root@.*of \d+: / }).waitFor({ timeout: 60000 });
    await screenshot(page, 'bench-01-progress');
    const r = report();
    await r.getByText(/emulated \(TCG\)/).first().waitFor({ timeout: 240000 });
    // Compare: both runs ticked.
    const boxes = r.locator('input[type=checkbox]');
    assert.equal(await boxes.count(), 2);
    for (let i = 0; i < 2; i++) if (!(await boxes.nth(i).isChecked())) await boxes.nth(i).check();
    await r.getByText(/Measured under emulation/).waitFor();
    await r.getByText('simulator (ours)').first().waitFor();
    assert.equal(await r.locator('canvas').count(), 3);
    const ratioCell = r.locator('table.numbers tr', { hasText: 'bw_sqlpipe / lat_sqlpipe (ours)' }).first().locator('td').last();
    // Bandwidth and latency both in words that read one way: slower or faster than the stock pipe.
    assert.match((await ratioCell.textContent()) ?? '', /^\d+(\.\d+)?× slower$/, 'the SQL pipe is slower than the stock pipe on the guest');
    assert.match((await ratioCell.getAttribute('title')) ?? '', /^SQL \/ stock bandwidth = 0\.\d{4}$/);
    assert.deepEqual(await r.locator('p.problem').allTextContents(), [], 'lmbench missing is not a problem of the run');
    await r.getByText(/^lmbench not installed on root@.*: its rows are left out \(no apt-get with root there/).waitFor();
    await page.waitForTimeout(500);
    const dark = (await page.locator('.monaco-workbench.vs-dark').count()) > 0;
    // The report follows the theme: its text colour is the workbench's, and changes with it.
    // (run in the webview: its globals, which this project's Node typings do not declare)
    const colours = () =>
      r.locator('body').evaluate((b) => {
        const w = globalThis as unknown as { getComputedStyle(e: unknown): { color: string } };
        return { text: w.getComputedStyle(b).color, kind: (b as { className: string }).className };
      });
    const before = await colours();
    await screenshot(page, `bench-02-report-${dark ? 'dark' : 'light'}`);
    await palette(page, 'Preferences: Toggle between Light/Dark Themes');
    await page.locator(`.monaco-workbench.${dark ? 'vs' : 'vs-dark'}`).waitFor();
    await page.waitForTimeout(1000);
    const after = await colours();
    assert.notEqual(after.text, before.text, `the report's text colour stayed ${before.text} across the theme change`);
    assert.match(after.kind, dark ? /vscode-light/ : /vscode-dark/, after.kind);
    await screenshot(page, `bench-03-report-${dark ? 'light' : 'dark'}`);
  });

  it('says lmbench is not installed plainly, and offers no install where it cannot work (the guest has no apt-get)', { timeout: 120000 }, async () => {
    await palette(page, 'Notifications: Show Notifications');
    const said = page.locator('.notifications-center .notification-list-item', { hasText: /lmbench not installed on root@.*its rows are left out/ }).first();
    await said.waitFor({ timeout: 60000 });
    assert.equal(await said.getByRole('button', { name: 'Install lmbench There' }).count(), 0);
    await screenshot(page, 'bench-04-no-lmbench');
  });
});

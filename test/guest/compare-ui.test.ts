/*
 * Run Scenario on Kernel and Compare Kernel with Simulator as a person uses them, in a real code-server
 * in a real Chromium: an example opened from the welcome view, the companion kernel in the QEMU guest
 * connected from the palette, then the scenario run there with real processes (its summary in the
 * SQLiteOS output) and compared with the simulator in a diff editor. Screenshots in test-results/.
 */
import { after, before, describe, it } from 'node:test';
import { Page } from 'playwright-core';
import { palette, row, screenshot } from '../e2e/harness';
import { GuestWorkbench, guestWorkbench } from './util';

describe('a scenario on the guest kernel, and compared with the simulator, in code-server', () => {
  let w: GuestWorkbench;
  let page: Page;
  before(async () => {
    w = await guestWorkbench({ demo: false, knownHost: true });
    page = w.page;
  });
  after(() => w?.close());

  it('runs the open example on the kernel, then shows both results side by side', { timeout: 240000 }, async () => {
    await page.locator('.activitybar [aria-label^="SQLiteOS"]').first().click();
    await page.getByRole('button', { name: 'Open example scenario', exact: true }).click();
    await page.locator('.quick-input-widget input').fill('03-several-readers');
    await page.keyboard.press('Enter');
    await page.locator('.tab', { hasText: '03-several-readers.sqlos' }).waitFor({ timeout: 30000 });
    await palette(page, 'SQLiteOS: Connect to Host…');
    await page.locator('.quick-input-widget input').fill(`root@127.0.0.1:${w.port}`);
    await page.keyboard.press('Enter');
    await row(page, /connected: companion kernel 6\.1/).waitFor({ timeout: 60000 });
    await page.locator('.tab', { hasText: '03-several-readers.sqlos' }).click();

    await palette(page, 'SQLiteOS: Run Scenario on Kernel');
    // The summary's first line may have scrolled into the sticky header: look in the whole panel.
    const output = (text: RegExp) => page.locator('.panel', { hasText: text }).first();
    await output(/profile\scompanion-kernel,\slocks\ssqliteos/).waitFor({ timeout: 60000 });
    await output(/P3\sread\sr\s4\s==\s"EFGH"\s+->\s4\s+"EFGH"/).waitFor();
    await screenshot(page, 'compare-01-run-on-kernel');

    await page.locator('.tab', { hasText: '03-several-readers.sqlos' }).first().click();
    await palette(page, 'SQLiteOS: Compare Kernel with Simulator');
    await page.locator('.tab', { hasText: /03-several-readers\.sqlos: simulator ↔ root@\[127\.0\.0\.1\]/ }).waitFor({ timeout: 60000 });
    await page.locator('.editor-container', { hasText: 'P2 line 6 read' }).first().waitFor();
    await screenshot(page, 'compare-02-side-by-side');
    await page.locator('.notifications-toasts', { hasText: /the simulator and root@\[127\.0\.0\.1\]:\d+ agree on \S*03-several-readers\.sqlos/ }).waitFor({ timeout: 30000 });
  });
});

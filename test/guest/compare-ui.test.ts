/*
 * Run Scenario on Kernel and Compare Kernel with Simulator as a person uses them, in a real code-server
 * in a real Chromium: an example opened from the welcome view, the companion kernel in the QEMU guest
 * connected from the palette, then the scenario run there with real processes (its summary in the
 * SQLiteOS output) and compared with the simulator in a diff editor. Screenshots in test-results/.
 */
import { after, before, describe, it } from 'node:test';
import { Locator, Page } from 'playwright-core';
import { palette, row, screenshot } from '../e2e/harness';
import { GuestWorkbench, guestWorkbench } from './util';

/**
 * A palette command from the scenario's editor, again if the palette closed under it (the output panel
 * or a notification settling can take the focus as it opens), until `done` shows.
 */
async function fromEditor(page: Page, command: string, done: Locator): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await page.locator('.tab', { hasText: '03-several-readers.sqlos' }).first().click(); // the scenario's own tab, opened first
      await palette(page, command);
      await done.waitFor({ timeout: 60000 });
      return;
    } catch (e) {
      if (attempt === 3) throw e;
      await page.keyboard.press('Escape');
    }
  }
}

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
    // The summary's first line may have scrolled into the sticky header: look in the whole panel.
    const output = (text: RegExp) => page.locator('.panel', { hasText: text }).first();
    await fromEditor(page, 'SQLiteOS: Run Scenario on Kernel', output(/profile\scompanion-kernel,\slocks\ssqliteos/));
    await output(/P3\sread\sr\s4\s==\s"EFGH"\s+->\s4\s+"EFGH"/).waitFor();
    await screenshot(page, 'compare-01-run-on-kernel');

    await fromEditor(page, 'SQLiteOS: Compare Kernel with Simulator', page.locator('.tab', { hasText: /03-several-readers\.sqlos: simulator ↔ root@\[127\.0\.0\.1\]/ }));
    await page.locator('.editor-container', { hasText: 'P2 line 6 read' }).first().waitFor();
    await screenshot(page, 'compare-02-side-by-side');
    await page.locator('.notifications-toasts', { hasText: /the simulator and root@\[127\.0\.0\.1\]:\d+ agree on \S*03-several-readers\.sqlos/ }).waitFor({ timeout: 30000 });
  });
});

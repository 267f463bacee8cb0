/*
 * The end-to-end tests' harness: a real code-server (scripts/code-server.ts) and a real Chromium (Debian's)
 * driven by playwright-core, with screenshots kept in test-results/.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Browser, Page, chromium } from 'playwright-core';
import { ROOT, Server, workbenchUrl } from '../../scripts/code-server';

export { ROOT, startCodeServer, workbenchUrl } from '../../scripts/code-server';
export type { Server } from '../../scripts/code-server';
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = path.join(ROOT, 'test-results');

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: run scripts/setup.sh test as root (it installs Debian's chromium), or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** The workbench URL with a folder and, for in-host tests, the payload VS Code reads its test path from. */

/** Runs a command from the palette; `then` picks an item of the quick pick it opens. */
export async function palette(page: Page, command: string, then?: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${command}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: command }).first().waitFor();
  await page.keyboard.press('Enter');
  if (then !== undefined) {
    await page.locator('.quick-input-list .monaco-list-row', { hasText: then }).first().waitFor();
    await input.fill(then);
    await page.keyboard.press('Enter');
  }
}

/** The first row of any list or tree whose text matches. */
export function row(page: Page, text: string | RegExp) {
  return page.locator('.monaco-list-row', { hasText: text }).first();
}

/** A workbench page of `server` in a 1600x1000 window, once the workbench has loaded. */
export async function openWorkbench(browser: Browser, server: Server): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.goto(workbenchUrl(server));
  await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
  return page;
}

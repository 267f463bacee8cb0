/*
 * The end-to-end tests' harness: a real code-server (scripts/code-server.ts) and a real Chromium (Debian's)
 * driven by playwright-core, with screenshots kept in test-results/.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Browser, Page, chromium } from 'playwright-core';
import { ROOT } from '../../scripts/code-server';

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

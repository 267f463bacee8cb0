/*
 * The extension as a person sees it, in a real code-server in a real Chromium: the SQLiteOS container,
 * each view filled from an example scenario, commands from the palette, a parse error in Problems, and a
 * table exported to a file and opened from the toast. Screenshots of each step go to test-results/ (look at them).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { Browser, Page } from 'playwright-core';
import { Server, launchChromium, openWorkbench, palette, row, screenshot, startCodeServer } from './harness';

describe('the extension in code-server', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  before(async () => {
    server = await startCodeServer();
    fs.writeFileSync(path.join(server.workspace, 'bad.sqlos'), 'P1 pipe r w\nP1 wirte w "x"\n');
    browser = await launchChromium();
    page = await openWorkbench(browser, server);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('opens the SQLiteOS container on its welcome view', { timeout: 60000 }, async () => {
    await page.locator('.activitybar [aria-label^="SQLiteOS"]').first().click();
    await page.getByRole('button', { name: 'Open example scenario', exact: true }).waitFor({ timeout: 30000 });
    await page.getByRole('button', { name: 'Use simulator', exact: true }).waitFor();
    const connect = page.getByRole('button', { name: 'Connect to host…', exact: true });
    await connect.waitFor();
    // Every button of the welcome in sight at the default layout, inside the Target view (the tallest).
    const body = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /^Target/ }) }).locator('.pane-body').first();
    const [pane, button] = [await body.boundingBox(), await connect.boundingBox()];
    assert.ok(pane && button && button.y + button.height <= pane.y + pane.height, `the Connect button (${JSON.stringify(button)}) inside the Target view (${JSON.stringify(pane)})`);
    await screenshot(page, '01-welcome');
  });

  it('fills all four views from an example scenario stepped from the palette', { timeout: 120000 }, async () => {
    await palette(page, 'SQLiteOS: Open Example Scenario', '08-pending-writer.sqlos');
    await row(page, /simulator.*companion, sqliteos/).waitFor({ timeout: 30000 });
    for (let i = 0; i < 6; i++) await palette(page, 'SQLiteOS: Step One Syscall');
    await row(page, /P1.*blocked on write_q/).waitFor({ timeout: 20000 });
    await row(page, /P3.*blocked on read_q/).waitFor();
    await screenshot(page, '02-target');
    // The level and the readers are the label, whole at the default width; the names come after.
    const store = row(page, 'PENDING · 2 readers');
    await store.waitFor();
    const [name, box] = [await store.locator('.label-name').first().boundingBox(), await store.locator('.monaco-icon-label-container').first().boundingBox()];
    assert.ok(name && box && name.x + name.width <= box.x + box.width + 0.5, `'PENDING · 2 readers' not cut: ${JSON.stringify({ name, box })}`);
    assert.equal(await row(page, /^simulator/).locator('.label-name').first().textContent(), 'simulator');
    await row(page, /global write mutex.*held by P1/).waitFor();
    await screenshot(page, '03-locks');
    await row(page, /VFS store · write_q.*1 sleeping: P1/).waitFor();
    await row(page, /VFS store · read_q.*1 sleeping: P3/).waitFor();
    await screenshot(page, '04-wait-queues');
    await row(page, /^pid_store.*3 rows/).click();
    await row(page, /pid 2 · parent_id 2/).waitFor();
    await screenshot(page, '05-tables');
    // The next two statements: P2's commit lets the writer and then the reader through.
    await palette(page, 'SQLiteOS: Step One Syscall');
    await palette(page, 'SQLiteOS: Step One Syscall');
    await row(page, /VFS store · write_q.*empty/).waitFor({ timeout: 20000 });
    await row(page, /^pipe_chunk.*1 row/).waitFor();
    await screenshot(page, '06-after-commit');
  });

  it('shows a scenario\'s parse error in Problems', { timeout: 60000 }, async () => {
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('bad.sqlos');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'bad.sqlos' }).first().waitFor();
    await page.keyboard.press('Enter');
    await palette(page, 'View: Focus Problems');
    await page.locator('.markers-panel', { hasText: "unknown operation 'wirte'" }).waitFor({ timeout: 20000 });
    await screenshot(page, '07-problems');
  });

  it('exports a table to a CSV file picked in the save dialog', { timeout: 60000 }, async () => {
    const dest = path.join(server.workspace, 'pid_store.csv');
    await palette(page, 'SQLiteOS: Export Table as CSV or JSON…', 'pid_store');
    const input = page.locator('.quick-input-widget input');
    // The save dialog replaces the table pick in the same widget: wait for its default path first.
    for (let i = 0; i < 100 && !(await input.inputValue()).endsWith('/pid_store.csv'); i++) await new Promise((r) => setTimeout(r, 100));
    await input.fill(dest);
    await page.keyboard.press('Enter');
    for (let i = 0; i < 100 && !fs.existsSync(dest); i++) await new Promise((r) => setTimeout(r, 100));
    await screenshot(page, '08-exported');
    assert.equal(fs.readFileSync(dest, 'utf8'), 'rowid,pid,parent_id\r\n1,1,1\r\n2,2,2\r\n3,3,3\r\n');
    // The toast opens what it wrote.
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'Exported 3 row(s) of pid_store' });
    await toast.getByRole('button', { name: 'Open', exact: true }).click({ timeout: 20000 });
    await page.locator('.tab', { hasText: 'pid_store.csv' }).waitFor({ timeout: 20000 });
    await page.locator('.editor-container', { hasText: 'rowid,pid,parent_id' }).first().waitFor();
    await screenshot(page, '09-export-opened');
  });
});

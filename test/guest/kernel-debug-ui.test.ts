/*
 * The kernel debugger as a person starts it, in a real code-server in a real Chromium: a function
 * breakpoint on mem_lock, Start Debugging (F5) on the default `sqliteos-kernel` launch configuration (which boots the QEMU
 * guest with its gdbstub and the DWARF kernel, then attaches gdb), the stop in our vfs.c with its line in
 * the editor, the SQLiteOS scope read from the halted kernel's memory, and the four views showing that
 * memory ("halted at vfs.c:N, mem_lock"); then breakpoints cleared, continue, stop. The screenshots are
 * the README's (media/screenshots/).
 */
import { after, before, describe, it } from 'node:test';
import * as fs from 'fs';
import * as path from 'path';
import { Browser, Page } from 'playwright-core';
import { Server, launchChromium, openWorkbench, palette, row, screenshot, startCodeServer } from '../e2e/harness';
import { guest } from './util';

describe('F5 on the companion kernel in code-server', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  before(async () => {
    try {
      guest('stop');
    } catch {
      // none running
    }
    server = await startCodeServer();
    fs.mkdirSync(path.join(server.workspace, '.vscode'), { recursive: true });
    // the configuration the debug type offers first (its initialConfigurations)
    // no "application running on port 2222" toast over the screenshots (the guest's SSH port)
    fs.writeFileSync(path.join(server.workspace, '.vscode', 'settings.json'), JSON.stringify({ 'remote.autoForwardPorts': false }));
    fs.writeFileSync(path.join(server.workspace, '.vscode', 'launch.json'), JSON.stringify({ version: '0.2.0', configurations: [{ type: 'sqliteos-kernel', request: 'launch', name: 'Debug the companion kernel (QEMU guest)' }] }, null, 2));
    browser = await launchChromium();
    page = await openWorkbench(browser, server);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    try {
      guest('stop');
    } catch {
      // stopped with the session
    }
  });

  it('stops in mem_lock in our vfs.c, with SQLiteOS read from the halted kernel in the variables and the views', { timeout: 900000 }, async () => {
    try {
      await f5AndLook();
    } catch (e) {
      await screenshot(page, 'kernel-debug-failed');
      throw e;
    }
  });

  async function f5AndLook(): Promise<void> {
    // the Run and Debug view first (its Breakpoints view takes the new one), again if the workbench was
    // still settling and the command opened nothing
    const input = page.locator('input[aria-label="Type function breakpoint."]');
    for (let attempt = 1; ; attempt++) {
      try {
        await palette(page, 'View: Show Run and Debug');
        await page.locator('.part.sidebar .codicon-debug-start').first().waitFor({ timeout: 20000 });
        await palette(page, 'Add Function Breakpoint');
        await input.waitFor({ timeout: 10000 });
        break;
      } catch (e) {
        if (attempt === 3) throw e;
        await page.keyboard.press('Escape');
      }
    }
    await input.fill('mem_lock');
    await page.keyboard.press('Enter');
    // the breakpoint, with its checkbox, in the Breakpoints view
    await page.locator('.monaco-list-row', { has: page.locator('input[type=checkbox]'), hasText: 'mem_lock' }).first().waitFor();
    // F5 (the view's Start Debugging (F5) button: a key press can land before the workbench takes keys):
    // the guest boots (TCG) with the demo's processes, gdb attaches, the demo's next lock stops it
    await page.locator('.part.sidebar .codicon-debug-start').first().click();
    await page.locator('.debug-toolbar').waitFor({ timeout: 60000 });
    const stopped = page.locator('.debug-toolbar .codicon-debug-continue');
    await stopped.waitFor({ timeout: 600000 });
    await page.locator('.tab.active', { hasText: 'vfs.c' }).waitFor({ timeout: 60000 });
    await page.locator('.editor-container .debug-top-stack-frame-line').first().waitFor();
    await row(page, /mem_lock.*vfs\.c/).waitFor();
    await row(page, 'SQLiteOS (from memory)').click();
    await row(page, /current_max_lock/).waitFor();
    await row(page, /write mutex/).waitFor();
    await screenshot(page, 'kernel-debug-01-stopped');

    await page.locator('.activitybar [aria-label^="SQLiteOS"]').first().click();
    await row(page, /the companion kernel under gdb.*halted at vfs\.c:\d+, mem_lock/).waitFor({ timeout: 30000 });
    await row(page, /reader/).waitFor();
    await row(page, /global write mutex/).waitFor();
    await screenshot(page, 'kernel-debug-02-views');

    // no more stops; the kernel runs on, and the views say it is running
    await palette(page, 'Remove All Breakpoints');
    // the debug toolbar's own buttons (the palette's "Debug: Stop" can match Start Debugging first)
    await stopped.click();
    await row(page, /running under the debugger/).waitFor({ timeout: 30000 });
    await page.locator('.debug-toolbar .codicon-debug-stop').click();
    // the session ends (the toolbar goes) and, launched, takes the guest it started down with it
    await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 60000 });
    await row(page, /the companion kernel under gdb/).waitFor({ state: 'detached', timeout: 30000 });
  }
});

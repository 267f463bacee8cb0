/*
 * Runs the in-host mocha suites (test/host) inside a real code-server's extension host, opened in a real
 * Chromium: the workbench reads extensionTestsPath from the URL payload and reports the exit code through
 * window.codeAutomationExit.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { Browser } from 'playwright-core';
import { ROOT, Server, launchChromium, startCodeServer, workbenchUrl } from './harness';

/** An extension with nothing in it, to carry extensionTestsPath without shadowing the installed package. */
function standIn(dir: string): string {
  const d = path.join(dir, 'test-runner');
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'package.json'), JSON.stringify({ name: 'test-runner', publisher: 'sqliteos-tests', version: '0.0.0', engines: { vscode: '^1.100.0' } }));
  return d;
}

/** The in-host tests the suites' source declares: `it(` calls in the files test/host/suites.ts imports. */
function hostTestsInSource(): number {
  const dir = path.join(ROOT, 'test', 'host');
  const files = [...fs.readFileSync(path.join(dir, 'suites.ts'), 'utf8').matchAll(/^import '\.\/(.+)';$/gm)].map((m) => `${m[1]}.ts`);
  return files.reduce((n, f) => n + (fs.readFileSync(path.join(dir, f), 'utf8').match(/^\s*it\(/gm)?.length ?? 0), 0);
}

describe('in-host tests in code-server', () => {
  let server: Server;
  let browser: Browser;
  const reportFile = path.join(ROOT, 'test-results', 'host-report.txt');
  before(async () => {
    fs.mkdirSync(path.dirname(reportFile), { recursive: true });
    fs.rmSync(reportFile, { force: true });
    server = await startCodeServer({ env: { SQLITEOS_TEST_REPORT: reportFile } });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('pass inside the real extension host', { timeout: 240000 }, async () => {
    const page = await browser.newPage();
    const lines: string[] = [];
    page.on('console', (m) => lines.push(m.text()));
    const exit = new Promise<number>((resolve) => {
      void page.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
    });
    const testsPath = path.join(ROOT, 'dist-test', 'host.js');
    const remote = (p: string) => `vscode-remote://${new URL(server.url).host}${p}`;
    // VS Code runs extensionTestsPath beside a development extension, which wins over an installed copy
    // of itself: with a .vsix under test, the development extension is an empty stand-in instead.
    const dev = process.env.SQLITEOS_VSIX ? standIn(server.dir) : ROOT;
    await page.goto(workbenchUrl(server, [['extensionDevelopmentPath', remote(dev)], ['extensionTestsPath', remote(testsPath)]]));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<number>((_, rej) => {
      timer = setTimeout(() => rej(new Error(`no exit code in 200 s\n${lines.join('\n')}\n${server.log()}`)), 200000);
    });
    const code = await Promise.race([exit, timeout]).finally(() => clearTimeout(timer));
    const report = fs.existsSync(reportFile) ? fs.readFileSync(reportFile, 'utf8') : `(no report)\n${lines.join('\n')}`;
    console.log(report);
    assert.equal(code, 0, report);
    // The plan comes from the suites' source, so a suite that failed to register cannot go unnoticed; the
    // one test that skips by design is activation's .vsix check, outside a .vsix run.
    const m = /^(\d+) planned: (\d+) passed, 0 failed, (\d+) skipped$/m.exec(report);
    assert.ok(m, report);
    assert.equal(Number(m[1]), hostTestsInSource(), `the in-host runner registered ${m[1]} tests; the suites' source has ${hostTestsInSource()}`);
    assert.equal(Number(m[3]), process.env.SQLITEOS_VSIX ? 0 : 1, `skipped: ${m[3]}\n${report}`);
    assert.equal(Number(m[2]) + Number(m[3]), Number(m[1]));
  });
});

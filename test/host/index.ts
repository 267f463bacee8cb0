/*
 * The in-host test entry (extensionTestsPath): runs the mocha suites inside the real extension host, in
 * VS Code or code-server, and resolves or rejects with the outcome, which the host turns into an exit code.
 * The extension host's stdout goes nowhere a test runner can see in code-server, so the report is also
 * written to $SQLITEOS_TEST_REPORT when that is set.
 */
import * as fs from 'fs';
import { format } from 'util';
import Mocha from 'mocha';
import { notes } from './report';

export async function run(): Promise<void> {
  const report = process.env.SQLITEOS_TEST_REPORT;
  const chunks: string[] = [];
  const base = Mocha.reporters.Base as unknown as { consoleLog: (...a: unknown[]) => void };
  const original = base.consoleLog;
  const log = (...a: unknown[]) => {
    chunks.push(`${format(...a)}\n`);
    original(...a);
  };
  base.consoleLog = log;
  try {
    const mocha = new Mocha({ ui: 'bdd', timeout: 30000, color: false, reporter: 'spec' });
    mocha.suite.emit('pre-require', globalThis, 'host-suites', mocha);
    // The suites register with the globals just installed; esbuild bundles them here.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('./suites');
    const failures = await new Promise<number>((resolve) => mocha.run(resolve));
    log(`${mocha.suite.total() - failures} passed, ${failures} failed`);
    if (failures > 0) throw new Error(`${failures} in-host test(s) failed`);
  } finally {
    base.consoleLog = original;
    if (report) fs.writeFileSync(report, chunks.join('') + (notes.length ? `\nmeasured:\n${notes.join('\n')}\n` : ''));
  }
}

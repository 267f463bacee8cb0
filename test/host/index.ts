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
    const planned = mocha.suite.total();
    const stats = await new Promise<Mocha.Stats>((resolve) => {
      const runner = mocha.run(() => resolve(runner.stats ?? { passes: 0, failures: 1, pending: 0 } as Mocha.Stats));
    });
    // Skips are reported as skips, never as passes; the caller compares the plan with the suites' source.
    log(`${planned} planned: ${stats.passes} passed, ${stats.failures} failed, ${stats.pending} skipped`);
    if (stats.failures > 0) throw new Error(`${stats.failures} in-host test(s) failed`);
    if (stats.passes + stats.pending !== planned) throw new Error(`${planned} in-host tests planned, ${stats.passes + stats.pending} ran`);
  } finally {
    base.consoleLog = original;
    if (report) fs.writeFileSync(report, chunks.join('') + (notes.length ? `\nmeasured:\n${notes.join('\n')}\n` : ''));
  }
}

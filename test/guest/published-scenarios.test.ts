/*
 * Scenarios on the published SQLiteOS kernel itself (issue 28 item 4): sqliteos-run --upstream on the
 * `guest start --published` guest (sleeps read from /proc/PID/wchan, the run's own rows through 549),
 * held against the simulator's upstream profile: the upstream examples, the companion examples that
 * show a published defect (run with the upstream profile), and a generated upstream corpus.
 *
 * The published kernel keeps every row and leaks a connection per read and per query (about 1 GiB over
 * 600 generated scenarios: the guest ran out of memory), and a process asleep on one of its locks never
 * leaves: the corpus reboots the guest every 100 scenarios and after any such sleeper. Example 14 is left
 * out: its 3 MiB write oopses the kernel (published/checks.c's backlog boot shows that, and the NOMEM).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseScenario } from '../../extension/core/scenario/parser';
import { formatDifferences } from '../../extension/core/scenario/compare';
import type { SimOptions } from '../../extension/core/sim/types';
import { KernelHost } from '../../extension/machines/kernel-host';
import { compareWithKernel, describeExcusals, runCorpus } from '../../extension/machines/differential';
import { bundledHelper } from '../../extension/machines/sources';
import { NO_PROMPTS } from '../../extension/machines/ssh/auth';
import { Connection, connect } from '../../extension/machines/ssh/connection';
import { freePort } from '../ssh/harness';
import { ROOT, guest, guestDest } from './util';

const DIST = path.join(ROOT, 'dist');
const CLI = path.join(ROOT, 'bin', 'sqliteos.js');
const runner = () => fs.readFileSync(path.join(DIST, 'helpers', 'sqliteos-run-x86_64'));
const SEED = Number(process.env.SQLITEOS_SEED ?? Math.floor(Date.now() / 1000) % 1_000_000);
const CORPUS = Number(process.env.SQLITEOS_CORPUS ?? 300);

function scenario(name: string) {
  const file = path.join(ROOT, 'examples', name);
  const parsed = parseScenario(fs.readFileSync(file, 'utf8'), `examples/${name}`);
  assert.ok(parsed.ok, name);
  return parsed.scenario;
}

let conn: Connection | undefined;

/** A freshly booted published guest (no demo) and a host on it; the last one's connection closed. */
async function boot(): Promise<{ host: KernelHost; port: number }> {
  conn?.close();
  guest('stop');
  const port = await freePort();
  guest('start', '--published', '--port', String(port), '--no-demo', '--mem', '1024');
  conn = await connect(guestDest(port), { prompts: NO_PROMPTS, hostKeyPolicy: 'strict' });
  return { host: new KernelHost(conn, bundledHelper(DIST)), port };
}

describe("the simulator's upstream profile against the published kernel", () => {
  after(() => {
    conn?.close();
    guest('stop');
  });

  it('agrees on the upstream examples and on the companion examples run with the upstream profile', { timeout: 600000 }, async () => {
    const { host } = await boot();
    const upstream: Partial<SimOptions> = { profile: 'upstream' };
    // Every example but: 04 and 08 query whole tables (there: every row the machine ever had, on purpose);
    // 07 and 09 ask for a capacity and for memdb locks; 14 oopses the kernel; 15 is the paper's pseudocode.
    const runs: [string, Partial<SimOptions>][] = [
      ['11-upstream-thread-pipe.sqlos', {}],
      ['12-upstream-rows-kept.sqlos', {}],
      ...['01-fork-pipe', '02-threads', '03-several-readers', '05-eof', '06-epipe', '10-self-deadlock', '13-exit-in-transaction', '16-independent-pairs'].map(
        (n): [string, Partial<SimOptions>] => [`${n}.sqlos`, upstream],
      ),
    ];
    for (const [name, over] of runs) {
      const c = await compareWithKernel(host, scenario(name), runner(), over);
      assert.deepEqual(c.differences, [], `${name}\n${formatDifferences(c.differences, ['simulator', 'kernel'])}`);
      assert.equal(c.kernel.profile, 'upstream-kernel', name);
      assert.equal(c.kernel.lockState, null, name);
      console.log(`published: ${name}: ${c.kernel.ops.length} statements agree; ${c.kernel.anomalies.map((a) => `${a.kind}@${a.line}`).join(' ') || 'no anomaly'}`);
    }
    // What the differential found there, each now in the model: 553(4) holds no lock (10 and 13 run
    // through), readers woken together run last-asleep first (02's expectations fail), no EOF (05).
    const ran = async (name: string) => (await compareWithKernel(host, scenario(name), runner(), upstream)).kernel;
    assert.deepEqual((await ran('10-self-deadlock.sqlos')).anomalies, []);
    assert.deepEqual((await ran('02-threads.sqlos')).ops.filter((o) => o.op === 'read').map((o) => `${o.line} ${o.data}`).sort(), ['10 "9abc"', '11 "012345678"', '9 "defg"']);
    assert.deepEqual((await ran('05-eof.sqlos')).anomalies.map((a) => `${a.kind}@${a.line}`), ['deadlock@9']);
    // What a user sees: `sqliteos run --on guest` and `sqliteos diff` run it on the published kernel.
    const env = { ...process.env, HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-published-home-')) };
    const cli = (...args: string[]) => spawnSync('node', [CLI, ...args], { encoding: 'utf8', env, timeout: 120000 });
    const run = cli('run', path.join(ROOT, 'examples', '12-upstream-rows-kept.sqlos'), '--on', 'guest', '--json');
    assert.equal(run.status, 0, run.stderr);
    const res = JSON.parse(run.stdout);
    assert.equal(res.profile, 'upstream-kernel');
    assert.equal(res.lockState, null);
    assert.match(res.hidden, /shows only its tables/);
    // Rows never deleted: after both exits, the pipe's rows and its unread bytes are still there.
    assert.deepEqual(res.tables.pipe_data.map((r: { data: unknown }) => r.data), [{ blob: 11, hex: Buffer.from('left behind').toString('hex') }]);
    assert.equal(res.tables.pid_pipe.length, 2);
    const companion = cli('diff', path.join(ROOT, 'examples', '07-capacity.sqlos'));
    assert.equal(companion.status, 2);
    assert.match(companion.stderr, /runs the published SQLiteOS kernel; .*07-capacity\.sqlos is for the companion profile, which runs on the companion kernel \(`@profile upstream` runs here\)/);
    const d = cli('diff', path.join(ROOT, 'examples', '01-fork-pipe.sqlos'), '--profile', 'upstream');
    assert.equal(d.status, 0, d.stdout + d.stderr);
    assert.match(d.stdout, /agree \(7 statements, final tables; .*a kernel that shows no lock state or pipe ends \(the published one\): neither compared/);
    // 553(8) there: what runs agrees; what would keep the mutex for ever (its holder's own fork) is refused, not run.
    for (const f of ['write-transaction.sqlos', 'savepoints.sqlos']) {
      const txn = cli('diff', path.join(ROOT, 'test', 'fixtures', 'published', f));
      assert.equal(txn.status, 0, `${f}\n${txn.stdout}${txn.stderr}`);
    }
    const wedge = cli('diff', path.join(ROOT, 'examples', '18-write-transaction.sqlos'), '--profile', 'upstream');
    assert.equal(wedge.status, 2, wedge.stdout + wedge.stderr);
    assert.match(wedge.stderr, /18-write-transaction\.sqlos:7: P1's `begin write` keeps the published kernel's write mutex for ever .* every later fork there, the SSH server's too, would hang: not run/);
    assert.equal(cli('run', path.join(ROOT, 'examples', '12-upstream-rows-kept.sqlos'), '--on', 'guest').status, 0, 'the guest still answers');
  });

  it(`agrees on a generated upstream corpus (seed ${SEED}, ${CORPUS} scenarios)`, { timeout: 1200000 }, async () => {
    let reboots = 0;
    const { host } = await boot();
    console.log(`published corpus: seed ${SEED} (reproduce on a published guest: sqliteos diff --generated ${CORPUS} --seed ${SEED})`);
    const r = await runCorpus(host, runner(), {
      seed: SEED,
      count: CORPUS,
      freshEvery: 100,
      fresh: async () => {
        reboots++;
        return (await boot()).host;
      },
    });
    console.log(`published corpus: ${r.ran} scenarios in ${(r.ms / 1000).toFixed(1)} s (${reboots} reboots), ${r.deadlocks} ending in a deadlock, ${r.differing.length} with differences; ${describeExcusals(r.excused)}`);
    assert.equal(r.ran, CORPUS);
    const report = r.differing.map((x) => `seed ${x.seed}:\n${x.text}${formatDifferences(x.differences, ['simulator', 'kernel'])}`).join('\n\n');
    assert.deepEqual(r.differing.map((x) => x.seed), [], report);
  });
});

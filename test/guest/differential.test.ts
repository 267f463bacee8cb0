/*
 * One scenario, two kernels: every example and a generated corpus run on the simulator and on the
 * companion kernel in the QEMU guest (real processes, sqliteos-run), compared by compareRuns. Then the
 * same corpus on the checking kernel (lockdep, KASAN, kmemleak) as a fuzzer: a kernel report, a hang or
 * a difference fails with the seed that reproduces it (`sqliteos diff --generated N --seed S`).
 *
 * SQLITEOS_SEED fixes the corpus (default: a new seed per run, printed); SQLITEOS_CORPUS its size.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KERNEL_REPORT } from '../../extension/core/kernel-output/guest-checks';
import { formatDifferences } from '../../extension/core/scenario/compare';
import { parseScenario } from '../../extension/core/scenario/parser';
import { KernelHost } from '../../extension/machines/kernel-host';
import { compareWithKernel, describeExcusals, kernelCannotRun, runCorpus } from '../../extension/machines/differential';
import { optionsFor } from '../../extension/core/scenario/runner';
import { bundledHelper } from '../../extension/machines/sources';
import { NO_PROMPTS } from '../../extension/machines/ssh/auth';
import { Connection, connect } from '../../extension/machines/ssh/connection';
import { freePort } from '../ssh/harness';
import { ROOT, STATE, guest, guestDest } from './util';

const DIST = path.join(ROOT, 'dist');
const runner = () => fs.readFileSync(path.join(DIST, 'helpers', 'sqliteos-run-x86_64'));
const SEED = Number(process.env.SQLITEOS_SEED ?? Math.floor(Date.now() / 1000) % 1_000_000);
const CORPUS = Number(process.env.SQLITEOS_CORPUS ?? 300);
const CLI = path.join(ROOT, 'bin', 'sqliteos.js');

function scenario(file: string) {
  const parsed = parseScenario(fs.readFileSync(file, 'utf8'), file);
  assert.ok(parsed.ok, file);
  return parsed.scenario;
}

function report(r: Awaited<ReturnType<typeof runCorpus>>): string {
  return r.differing.map((d) => `seed ${d.seed}:\n${d.text}${formatDifferences(d.differences, ['simulator', 'kernel'])}`).join('\n\n');
}

async function boot(kernel?: string): Promise<{ conn: Connection; host: KernelHost; port: number }> {
  const port = await freePort();
  guest('start', '--port', String(port), '--no-demo', ...(kernel ? ['--kernel', kernel] : []));
  const conn = await connect(guestDest(port), { prompts: NO_PROMPTS, hostKeyPolicy: 'strict' });
  return { conn, host: new KernelHost(conn, bundledHelper(DIST)), port };
}

describe('the simulator against the companion kernel', () => {
  let g: Awaited<ReturnType<typeof boot>>;
  before(async () => {
    g = await boot();
  });
  after(() => {
    g?.conn.close();
    guest('stop');
  });

  it('agrees on every example that the kernel can run', { timeout: 300000 }, async () => {
    const dir = path.join(ROOT, 'examples');
    let ran = 0;
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.sqlos'))) {
      const s = scenario(path.join(dir, f));
      if (kernelCannotRun(s) || optionsFor(s).profile !== 'companion') continue; // another lock policy (the simulator's alone) or the published kernel's
      const c = await compareWithKernel(g.host, s, runner());
      ran++;
      assert.deepEqual(c.differences, [], `${f}\n${formatDifferences(c.differences, ['simulator', 'kernel'])}`);
      assert.equal(c.kernel.profile, 'companion-kernel');
      assert.equal(c.kernel.ops.length, c.simulator.ops.length, f);
    }
    assert.ok(ran >= 10, `only ${ran} examples ran on the kernel`);
  });

  it('gives each of two queries at once its own rows (read back from the kernel log by the task that logged them)', { timeout: 120000 }, async () => {
    const s = scenario(path.join(ROOT, 'test', 'fixtures', 'kernel', 'queries-at-once.sqlos'));
    const c = await compareWithKernel(g.host, s, runner());
    const q = (pid: number) => c.kernel.ops.find((o) => o.op === 'query' && o.pid === pid && o.line === (pid === 1 ? 22 : 25))!;
    assert.deepEqual([q(1).result, q(3).result], [[[3]], [[7], [8]]], 'before CONFIG_PRINTK_CALLER and the filter, P1 got P3\'s [[7],[8]]');
    assert.deepEqual(c.differences, [], formatDifferences(c.differences, ['simulator', 'kernel']));
  });

  it(`agrees on a generated corpus (seed ${SEED}, up to ${CORPUS} scenarios in 150 s)`, { timeout: 400000 }, async () => {
    console.log(`differential corpus: seed ${SEED} (reproduce: sqliteos diff --generated ${CORPUS} --seed ${SEED})`);
    const r = await runCorpus(g.host, runner(), { seed: SEED, count: CORPUS, budgetMs: 150000 });
    console.log(`differential corpus: ${r.ran} scenarios in ${(r.ms / 1000).toFixed(1)} s, ${r.deadlocks} ending in a deadlock, ${r.differing.length} with differences; ${describeExcusals(r.excused)}`);
    assert.ok(r.ran >= 100, `only ${r.ran} scenarios in the time budget`);
    assert.deepEqual(r.differing.map((d) => d.seed), [], report(r));
  });

  it('sqliteos run --on guest and sqliteos diff: the JSON contract, and exit 0 same / 1 different / 2 not for the kernel', { timeout: 120000 }, async () => {
    const env = { ...process.env, HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-diff-home-')) };
    const cli = (...args: string[]) => spawnSync('node', [CLI, ...args], { encoding: 'utf8', env, timeout: 60000 });
    const run = cli('run', path.join(ROOT, 'examples', '03-several-readers.sqlos'), '--on', 'guest', '--json');
    assert.equal(run.status, 0, run.stderr);
    const res = JSON.parse(run.stdout);
    assert.equal(res.profile, 'companion-kernel');
    assert.deepEqual(res.ops.map((o: { line: number }) => o.line).sort((a: number, b: number) => a - b), [3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.deepEqual(res.processes.map((p: { pid: number; state: string }) => `${p.pid} ${p.state}`), ['1 exited', '2 exited', '3 exited']);
    assert.equal(cli('diff', path.join(ROOT, 'examples', '01-fork-pipe.sqlos')).status, 0);
    // An intended difference: a query of pid_store counts every process of the machine (the guest's
    // init, shell and SSH server too); the simulator has only the scenario's.
    const machine = path.join(env.HOME, 'machine.sqlos');
    fs.writeFileSync(machine, 'P1 query "SELECT count(*) FROM pid_store"\nP1 exit\n');
    const d = cli('diff', machine);
    assert.equal(d.status, 1, d.stderr);
    assert.match(d.stdout, /1 difference between the simulator and root@\[127\.0\.0\.1\]:\d+\nline 1 P1 query: result\n {2}simulator {2}\[\[1\]\]\n {2}kernel {5}\[\[\d+\]\]/);
    const memdb = cli('diff', path.join(ROOT, 'examples', '09-memdb-busy.sqlos'));
    assert.equal(memdb.status, 2);
    assert.match(memdb.stderr, /09-memdb-busy\.sqlos: a kernel runs sqliteos locks \(the paper's MMemLock\); this scenario asks for companion\/memdb/);
    const published = cli('diff', path.join(ROOT, 'examples', '12-upstream-rows-kept.sqlos'));
    assert.equal(published.status, 2);
    assert.match(published.stderr, /runs the companion kernel; .*12-upstream-rows-kept\.sqlos is for the upstream profile, which runs on the published SQLiteOS kernel \(`@profile companion` runs here\)/);
    // The same guest as any SSH target, through ~/.ssh/config: its key and known host.
    fs.mkdirSync(path.join(env.HOME, '.ssh'), { mode: 0o700 });
    fs.writeFileSync(path.join(env.HOME, '.ssh', 'config'), `Host 127.0.0.1\n  IdentityFile ${path.join(STATE, 'id_ed25519')}\n  UserKnownHostsFile ${path.join(STATE, 'known_hosts')}\n`);
    const ssh = cli('diff', path.join(ROOT, 'examples', '05-eof.sqlos'), '--on', `ssh:root@127.0.0.1:${g.port}`);
    assert.equal(ssh.status, 0, ssh.stderr);
    assert.match(ssh.stdout, new RegExp(`05-eof\\.sqlos: the simulator and root@\\[127\\.0\\.0\\.1\\]:${g.port} agree \\(8 statements`));
    const gone = cli('run', path.join(ROOT, 'examples', '01-fork-pipe.sqlos'), '--on', 'ssh:root@127.0.0.1:1');
    assert.equal(gone.status, 2);
    assert.match(gone.stderr, /127\.0\.0\.1:1/);
  });
});

describe('the generated corpus as a fuzzer on the checking kernel (lockdep, KASAN, kmemleak)', () => {
  const image = path.join(ROOT, '.cache', 'kbuild-debug', 'arch', 'x86', 'boot', 'bzImage');
  let g: Awaited<ReturnType<typeof boot>>;
  before(async () => {
    if (!fs.existsSync(image)) throw new Error(`${image} is missing: \`npm run test:kernel\` builds the checking kernel`);
    g = await boot(image);
  });
  after(() => {
    g?.conn.close();
    guest('stop');
  });

  it(`runs the corpus (seed ${SEED}) with no kernel report, no hang, no difference, and no leak`, { timeout: 600000 }, async () => {
    // What boot itself left unreferenced is not the corpus's: forget it first.
    assert.equal((await g.conn.exec('echo clear > /sys/kernel/debug/kmemleak')).code, 0, 'kmemleak is in the checking kernel');
    const r = await runCorpus(g.host, runner(), { seed: SEED, count: CORPUS, budgetMs: 120000 });
    console.log(`fuzz on the checking kernel: seed ${SEED}, ${r.ran} scenarios in ${(r.ms / 1000).toFixed(1)} s, ${r.differing.length} with differences; ${describeExcusals(r.excused)}`);
    assert.ok(r.ran >= 30, `only ${r.ran} scenarios in the time budget`);
    assert.deepEqual(r.differing.map((d) => d.seed), [], report(r));
    // kmemleak reports an object only after two scans find it unreferenced, the first ~5 s after allocation.
    const scan = await g.conn.exec('echo scan > /sys/kernel/debug/kmemleak && sleep 6 && echo scan > /sys/kernel/debug/kmemleak && cat /sys/kernel/debug/kmemleak', { timeoutMs: 120000 });
    assert.equal(scan.code, 0, scan.stderr);
    assert.equal(scan.stdout.toString().trim(), '', `kmemleak after the corpus (seed ${SEED}):\n${scan.stdout}`);
    const log = (await g.conn.exec('dmesg')).stdout.toString();
    const bad = log.split('\n').filter((l) => KERNEL_REPORT.test(l));
    assert.deepEqual(bad, [], `kernel reports during the corpus (seed ${SEED}):\n${bad.join('\n')}`);
  });
});

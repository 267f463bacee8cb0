/*
 * The SSH target on the companion kernel itself: `sqliteos guest start` boots it under QEMU with an SSH
 * server (kernel-scripts/qemu/guest.sh) and the demo program, and the target reads its real tables,
 * processes, pipes, locks and wait queues over ssh2: a reader asleep on a pipe, a writer in PENDING behind
 * a read transaction, the published kernel's path through 549, queries and their refusals, and a guest
 * that goes away. Needs the kernel `npm run test:kernel` builds (it builds it if missing).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import { createHash } from 'crypto';
import { queueKey, queueName } from '../../extension/core/model/model';
import { RemoteTarget } from '../../extension/targets/remote';
import { bundledHelper, sshSource } from '../../extension/machines/sources';
import { NO_PROMPTS } from '../../extension/machines/ssh/auth';
import { ConnectionManager } from '../../extension/machines/ssh/connection';
import { NotShown } from '../../extension/targets/target';
import { freePort, waitFor } from '../ssh/harness';
import { ROOT, STATE, guest, guestDest } from './util';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import { qmpCommand } from '../../extension/machines/qmp';
import { protectBigIntegers } from '../../extension/core/model/kernel-json';
import type { Snapshot } from '../../extension/core/model/model';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';

/** `sqliteos inspect ARGS --json` from the CLI, as a Snapshot (and its warnings), checked as the SSH path's is. */
function inspectCli(...args: string[]): Snapshot & { host: string; release: string } {
  const r = spawnSync('node', [path.join(ROOT, 'bin', 'sqliteos.js'), 'inspect', ...args, '--json'], { encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) throw new Error(`sqliteos inspect ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return JSON.parse(protectBigIntegers(r.stdout)) as Snapshot & { host: string; release: string };
}

const running = async () => ((await qmpCommand(path.join(STATE, 'qmp.sock'), 'query-status', {})) as { running: boolean }).running;

function target(port: number, upstream = false) {
  const m = new ConnectionManager(() => ({ prompts: NO_PROMPTS, hostKeyPolicy: 'strict' }));
  const t = new RemoteTarget(sshSource(guestDest(port), m), bundledHelper(path.join(ROOT, 'dist')), { pollIntervalMs: () => 200, backoffMs: [200, 1000], upstream });
  return { t, close: () => (t.dispose(), m.closeAll()) };
}


describe('the companion kernel over SSH (QEMU guest)', () => {
  after(() => guest('stop'));

  it('shows the guest kernel\'s tables, processes and pipes, with the demo\'s reader asleep on its pipe', { timeout: 600000 }, async () => {
    const port = await freePort();
    const out = guest('start', '--port', String(port));
    assert.match(out, new RegExp(`destination: +root@127\\.0\\.0\\.1:${port}`));
    const { t, close } = target(port);
    try {
      const facts = await t.start();
      assert.deepEqual([facts.kernel, facts.privilege, facts.arch, facts.problem], ['companion', 'root', 'x86_64', undefined]);
      assert.match(t.info().state, /^connected: companion kernel 6\.1\./);
      const procs = await t.processes();
      const blocked = procs.filter((p) => p.state === 'blocked');
      assert.equal(blocked.length, 1, JSON.stringify(procs));
      const pipes = await t.pipes();
      assert.deepEqual(pipes.map((p) => p.buffered), [21, 0]);
      assert.equal(queueName(blocked[0].waitingOn!), `pipe ${pipes[1].dataId} read_wq`);
      const chunks = await t.tablePage('pipe_chunk', 0, 10);
      // Each blob with its bytes' SHA-256 (the first 16 hex digits), computed by the kernel's lib/crypto.
      const blob = (b: Buffer) => ({ blob: b.length, hex: b.toString('hex'), digest: createHash('sha256').update(b).digest('hex').slice(0, 16) });
      // The demo's two writes (16 and 5 bytes) share one chunk: a small write joins the unread tail chunk.
      const demo = Buffer.concat([Buffer.from('hello, SQLiteOS\n'), Buffer.from('62696e00ff', 'hex')]);
      assert.deepEqual(chunks.rows.map((r) => r[3]), [blob(demo)]);
      const ps = await t.tablePage('pid_store', 0, 1000);
      assert.deepEqual(ps.columns, ['#', 'pid', 'parent_id']);
      assert.ok(ps.rows.some((r) => r[1] === blocked[0].pid));
      const sharer = procs.find((p) => p.handler !== p.pid);
      assert.ok(sharer, 'the demo\'s CLONE_FILES child uses its parent\'s fd table');
      const q = await t.query('SELECT count(*) AS n FROM pid_pipe');
      assert.deepEqual(q, { columns: ['n'], rows: [[(await t.tablePage('pid_pipe', 0, 0)).total]] });
      await assert.rejects(t.query('DELETE FROM pid_store'), /the kernel refused 'DELETE FROM pid_store': syscall 549 runs only read-only statements/);
    } finally {
      close();
    }
    // The published kernel's path on the same kernel: tables through 549 and the kernel log, and why no locks.
    const up = target(port, true);
    try {
      await up.t.start();
      assert.equal(up.t.snapshot!.kernel, 'upstream');
      assert.deepEqual(await up.t.tableNames(), ['pid_store', 'pid_pipe', 'pipe_data']);
      await assert.rejects(up.t.locks(), (e: Error) => e instanceof NotShown && /only its tables/.test(e.message));
    } finally {
      up.close();
    }
  });

  it('shows a writer in PENDING behind a read transaction, and busy tables as busy', { timeout: 600000 }, async () => {
    guest('stop');
    const port = await freePort();
    const started = guest('start', '--port', String(port), '--pending', '--gdb');
    assert.match(started, /gdb: +unix:\S+gdb\.sock/);
    assert.match(started, /vmlinux: +\S+vmlinux/);
    const { t, close } = target(port);
    try {
      await t.start();
      const l = await t.locks();
      assert.equal(l.currentMaxLock, 'PENDING');
      assert.equal(l.numReaders, 2, 'the reader in its transaction and the writer itself');
      const writer = l.writeMutex.owner!;
      assert.ok(l.connections.some((c) => c.owner === writer && c.level === 'PENDING'));
      const reader = l.transactions.find((x) => x.kind === 'read')!.pid;
      assert.ok(l.connections.some((c) => c.owner === reader && c.level === 'SHARED'));
      const qs = await t.waitQueues();
      assert.deepEqual(qs.find((q) => queueKey(q.id) === 'store.write_q')!.sleepers, [writer]);
      await assert.rejects(t.tablePage('pid_store', 0, 10), (e: Error) => e instanceof NotShown && /a writer holds PENDING/.test(e.message));
      await assert.rejects(t.processes(), NotShown);

      // The same state read from the guest's memory, halted on its gdbstub, then from a saved core:
      // locks, queues and pipes agree with debugfs's, and the tables debugfs calls busy are read.
      const ssh = t.snapshot!;
      const core = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-core-')), 'guest.core');
      const fromGdb = inspectCli('--gdb', 'guest');
      assert.equal(await running(), true, 'the guest runs on after inspect --gdb');
      const dumped = spawnSync('node', [path.join(ROOT, 'bin', 'sqliteos.js'), 'guest', 'dump', core], { encoding: 'utf8', timeout: 300000 });
      assert.equal(dumped.status, 0, dumped.stderr);
      const fromCore = inspectCli('--core', core);
      // The debugger's post-mortem on that core: one stop, SQLiteOS in its scope, nothing runs.
      const dc = new DebugClient('node', path.join(ROOT, 'dist', 'kernel-debug-adapter.js'), 'sqliteos-kernel');
      await dc.start();
      try {
        const [, , stop] = await Promise.all([
          dc.waitForEvent('initialized').then(() => dc.configurationDoneRequest()),
          dc.launch({ core } as DebugProtocol.LaunchRequestArguments),
          dc.waitForEvent('stopped'),
        ]);
        assert.equal(stop.body.reason, 'entry');
        assert.match((stop.body as DebugProtocol.StoppedEvent['body']).text ?? '', /^post-mortem: core guest\.core \(6\.1\./);
        const frames = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
        const scopes = (await dc.scopesRequest({ frameId: frames[0].id })).body.scopes;
        assert.deepEqual(scopes.map((s) => s.name), ['SQLiteOS (from the core)']);
        const v = Object.fromEntries((await dc.variablesRequest({ variablesReference: scopes[0].variablesReference })).body.variables.map((x) => [x.name, x.value]));
        assert.equal(v.current_max_lock, 'PENDING');
        assert.equal(v['write mutex'], `held by ${writer}`);
        await assert.rejects(dc.continueRequest({ threadId: 1 }), /guest\.core .* is a saved core: nothing runs/);
        const bp = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'mem_lock' }] });
        assert.equal(bp.body.breakpoints[0].verified, false);
      } finally {
        await dc.stop();
      }
      fs.rmSync(path.dirname(core), { recursive: true });
      for (const m of [fromGdb, fromCore]) {
        assert.match(m.release, /^6\.1\./, m.host);
        assert.deepEqual(m.locks, ssh.locks, m.host);
        assert.deepEqual(m.queues, ssh.queues, m.host);
        assert.deepEqual(m.pipes, ssh.pipes, m.host);
        assert.equal(m.tables.pid_store.busy, undefined, `${m.host}: memory reads the table debugfs reports busy`);
        assert.ok(m.tables.pid_store.rows.some((r) => r[0] === reader), `${m.host}: the reader's row`);
        const sleeper = m.processes.find((p) => p.pid === writer) ?? m.processes.find((p) => p.state === 'blocked');
        assert.ok(sleeper, `${m.host}: a process asleep`);
        assert.equal((m.tables.pipe_chunk.rows[0][2] as { hex: string }).hex, Buffer.from('hello, SQLiteOS\n').toString('hex') + '62696e00ff', m.host);
        assert.equal(m.counters['syscall.553'], ssh.counters['syscall.553'], `${m.host}: the same kernel's counters`);
        assert.deepEqual(m.warnings ?? [], [], `${m.host}: halted between operations, nothing half done`);
      }
      assert.deepEqual(fromCore.tables, fromGdb.tables, 'the core holds what the gdbstub read');
      // --stay leaves it halted (the SSH poll would stall); the next read without it lets it run
      inspectCli('--gdb', 'guest', '--stay');
      assert.equal(await running(), false, 'halted after --stay');
      inspectCli('--gdb', 'guest');
      assert.equal(await running(), true, 'running again');
      // The guest goes away: the last state stays on show, marked stale, while reconnecting.
      t.setVisible(true);
      guest('stop');
      await waitFor(() => t.info().stale !== undefined, 'marked stale', 20000);
      assert.equal((await t.locks()).currentMaxLock, 'PENDING', 'the last snapshot is still shown');
    } finally {
      close();
    }
  });
});

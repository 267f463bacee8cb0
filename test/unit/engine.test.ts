/*
 * The engine the debug adapter and the explorer stand on: stopping between any two micro-steps, choosing
 * which process goes next, snapshots that restore exactly, the event stream, and readers that see only
 * committed data while a writer is mid-transaction.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimEvent } from '../../extension/core/sim/events';
import { simLocks, simProcesses, simTables } from '../../extension/core/model/from-sim';
import { queueName } from '../../extension/core/model/model';
import { ScenarioRun } from '../../extension/core/scenario/runner';
import * as fs from 'fs';
import * as path from 'path';
import { marksOf } from '../../extension/core/scenario/marks';
import { ROOT, run, start } from './helpers';

/** Steps `pid` until its current micro-step id is `step` (it stops before running that step). */
function stepUntil(r: ScenarioRun, pid: number, step: string): void {
  for (let i = 0; i < 200; i++) {
    const p = r.kernel.state.procs[pid];
    if (p.current?.step === step) return;
    const out = r.step(pid);
    if (out.kind === 'blocked') throw new Error(`P${pid} blocked before ${step}`);
  }
  throw new Error(`P${pid} never reached ${step}`);
}

const TWO_WRITERS = `
P1 pipe r w
P1 fork P2
P1 fork P3
P2 write w "ab"
P3 write w "cd"
P1 read r 4 == "abcd"
`;

describe('simulator engine', () => {
  it('stops between micro-steps and lets the caller pick who runs: a second writer waits on the mutex', async () => {
    const r = await start(TWO_WRITERS);
    for (let i = 0; i < 3; i++) r.runStatement(r.runnable()[0]);
    assert.deepEqual(r.runnable(), [2, 3, 1]);
    stepUntil(r, 2, 'insert_chunk'); // P2 holds the mutex and RESERVED
    assert.equal(r.kernel.state.mutex.owner, 2);
    const out = r.runStatement(3);
    assert.deepEqual(out, { kind: 'blocked', on: { kind: 'mutex' } });
    assert.deepEqual(simLocks(r.kernel).writeMutex.waiters, [3]);
    assert.equal(queueName(simProcesses(r.kernel).find((p) => p.pid === 3)!.waitingOn!), 'write mutex');
    r.runStatement(2); // commits, frees the mutex and wakes P3 (sql.c's wmutex: no hand-over)
    assert.equal(r.kernel.state.mutex.owner, null);
    assert.equal(r.kernel.state.procs[3].status, 'runnable');
    assert.deepEqual(simLocks(r.kernel).writeMutex.waiters, []);
    r.step(3); // tries again, and takes it
    assert.equal(r.kernel.state.mutex.owner, 3);
    r.runDefault();
    const res = r.result();
    assert.equal(res.ok, true, JSON.stringify(res.anomalies));
    r.kernel.close();
  });

  it('a woken mutex waiter that finds the mutex taken queues again at the tail; the published kernel hands it over', async () => {
    const r = await start('P1 pipe r w\nP1 fork P2\nP1 fork P3\nP1 fork P4\nP2 write w "ab"\nP3 write w "cd"\nP4 write w "ef"\nP1 read r 6\n');
    for (let i = 0; i < 4; i++) r.runStatement(1);
    stepUntil(r, 2, 'insert_chunk');
    assert.deepEqual(r.runStatement(3), { kind: 'blocked', on: { kind: 'mutex' } });
    assert.deepEqual(r.runStatement(1), { kind: 'blocked', on: { kind: 'mutex' } });
    assert.deepEqual(simLocks(r.kernel).writeMutex.waiters, [3, 1]);
    r.runStatement(2); // frees it and wakes P3 only
    assert.deepEqual(simLocks(r.kernel).writeMutex.waiters, [1]);
    stepUntil(r, 4, 'insert_chunk'); // P4, already running, takes the free mutex first
    assert.equal(r.kernel.state.mutex.owner, 4);
    assert.deepEqual(r.runStatement(3), { kind: 'blocked', on: { kind: 'mutex' } });
    assert.deepEqual(simLocks(r.kernel).writeMutex.waiters, [1, 3]);
    r.kernel.close();

    const up = await start(TWO_WRITERS, { profile: 'upstream' });
    for (let i = 0; i < 3; i++) up.runStatement(up.runnable()[0]);
    stepUntil(up, 2, 'update');
    assert.deepEqual(up.runStatement(3), { kind: 'blocked', on: { kind: 'mutex' } });
    up.runStatement(2);
    assert.equal(up.kernel.state.mutex.owner, 3, 'the published kernel hands the mutex to its first waiter');
    up.kernel.close();
  });

  it('companion writes of at most PIPE_BUF bytes go in whole; a writer that leaves room wakes the next', async () => {
    // P2's 10 bytes do not fit beside P1's 10 in 16: none go in until they all fit
    const whole = await run('P1 pipe r w\nP1 fork P2\nP1 write w "0123456789"\nP2 write w "abcdefghij"\nP1 read r 16 == "0123456789"\nP1 read r 16 == "abcdefghij"\nP1 write w 20\nP2 read r 20\n', { capacity: 16 });
    assert.equal(whole.ok, true, JSON.stringify(whole.anomalies));
    // a write above the capacity cannot go in whole: 16 bytes, the reader takes them, then the other 4
    assert.deepEqual(whole.ops.slice(-2).map((o) => [o.line, o.result]), [[8, 16], [7, 20]]);
    assert.equal(whole.pipes[0].buffered, 4);
    const next = await run('P1 pipe r w\nP1 fork P2\nP1 fork P3\nP1 write w 16\nP2 write w "a"\nP3 write w "b"\nP1 read r 16\nP1 read r 2 == "ab"\n', { capacity: 16 });
    assert.equal(next.ok, true, JSON.stringify(next.anomalies));
  });

  it('restores a snapshot taken mid-transaction exactly, however far the run went after it', async () => {
    const r = await start(TWO_WRITERS);
    for (let i = 0; i < 3; i++) r.runStatement(r.runnable()[0]);
    stepUntil(r, 2, 'commit_lock_exclusive'); // the chunk is inserted but not committed
    const snap = r.snapshot();
    r.runDefault();
    const first = JSON.stringify(r.result());
    r.restore(snap);
    assert.equal(r.kernel.state.procs[2].current!.step, 'commit_lock_exclusive');
    assert.equal(r.ops.length, 3);
    r.runDefault();
    assert.equal(JSON.stringify(r.result()), first);
    // and again, choosing a different schedule from the same point
    r.restore(snap);
    r.runStatement(3);
    r.runDefault();
    assert.equal(r.result().ok, true);
    r.kernel.close();
  });

  it('shows other connections only committed data while a writer is mid-transaction', async () => {
    const r = await start(`
P1 pipe r w
P1 fork P2
P2 write w "uncommitted"
P1 query "SELECT count(*) FROM pipe_chunk"
P1 query "SELECT count(*) FROM pipe_chunk"
`);
    r.runStatement(1);
    r.runStatement(1);
    stepUntil(r, 2, 'commit_lock_exclusive');
    assert.equal(simTables(r.kernel).find((t) => t.name === 'pipe_chunk')!.rows.length, 0);
    // P1's query gets SHARED (the writer only holds RESERVED) and must not see the chunk.
    const q = r.runStatement(1);
    assert.deepEqual(q, { kind: 'done', result: [[0]], error: undefined, data: undefined });
    r.runStatement(2);
    assert.deepEqual(r.runStatement(1), { kind: 'done', result: [[1]], error: undefined, data: undefined });
    r.kernel.close();
  });

  it('companion chunks, as pipe_rw.c lays them: 64 KiB at most, small writes joined, a part read noted in head_read', async () => {
    const r = await start(`
P1 pipe r w
P1 write w "ab"
P1 write w "cd"
P1 read r 3 == "abc"
P1 query "SELECT count(*), sum(length(data)) FROM pipe_chunk"
P1 query "SELECT head_read FROM pipe_data"
P1 write w 5000
P1 write w "e"
P1 read r 2
P1 query "SELECT length(data) FROM pipe_chunk ORDER BY seq"
P1 query "SELECT head_read FROM pipe_data"
`, { capacity: 200000 });
    r.runDefault();
    const res = r.result();
    assert.equal(res.ok, true, JSON.stringify(res.anomalies));
    const q = (line: number) => res.ops.find((o) => o.line === line)!.result;
    // "cd" joined "ab"'s chunk; reading 3 of its 4 bytes left it whole, noted as read to byte 3
    assert.deepEqual([q(6), q(7)], [[[1, 4]], [[3]]]);
    // 5000 bytes do not fit in 4 KiB with it: a chunk of their own, and "e" cannot join that one;
    // the read of 2 ended the first chunk (deleted) and read 1 byte into the next
    assert.deepEqual([q(11), q(12)], [[[5000], [1]], [[1]]]);
    r.kernel.close();
    const big = await start('P1 pipe r w\nP1 write w 200000\nP1 query "SELECT length(data) FROM pipe_chunk ORDER BY seq"\n', { capacity: 262144 });
    big.runDefault();
    assert.deepEqual(big.result().ops.find((o) => o.line === 3)!.result, [[65536], [65536], [65536], [3392]]);
    big.kernel.close();
  });

  it('streams every micro-step, lock change, sleep and wake-up with its process and line', async () => {
    const r = await start(`
P1 pipe r w
P1 fork P2
P1 read r 2 == "hi"
P2 write w "hi"
`);
    const events: SimEvent[] = [];
    r.kernel.on((e) => events.push(e));
    r.runDefault();
    assert.equal(r.result().ok, true);
    const sleep = events.find((e) => e.type === 'sleep');
    assert.deepEqual(sleep, { pid: 1, line: 4, type: 'sleep', on: { kind: 'pipe', dataId: 1, queue: 'read_wq' } });
    const wake = events.find((e) => e.type === 'wake' && e.target === 1);
    assert.deepEqual(wake, { pid: 2, line: 5, type: 'wake', target: 1, on: { kind: 'pipe', dataId: 1, queue: 'read_wq' } });
    const steps = events.filter((e) => e.type === 'step' && e.pid === 2).map((e) => (e.type === 'step' ? e.step : ''));
    assert.deepEqual(steps.slice(0, 6), ['lookup', 'mutex_lock', 'check_readers', 'check_room', 'begin', 'lock_shared']);
    assert.ok(events.some((e) => e.type === 'lock' && e.pid === 2 && e.to === 4), 'EXCLUSIVE at commit');
    assert.ok(events.some((e) => e.type === 'sql' && e.sql.startsWith('INSERT INTO pipe_chunk')));
    const done = events.filter((e) => e.type === 'op-done').map((e) => e.line);
    assert.deepEqual(done, [2, 3, 5, 4]);
    r.kernel.close();
  });

  it('tells a lost wake-up from a deadlock by whether the wait condition already holds', async () => {
    const r = await start(`
P1 pipe r w
P1 fork P2
P1 read r 1
P2 write w "x"
`);
    r.runStatement(1);
    r.runStatement(1);
    r.runStatement(1); // P1 sleeps on read_wq
    r.runStatement(2); // the write wakes it ...
    // ... but suppose the wake-up had been lost: put P1 back to sleep with the byte still there.
    const p1 = r.kernel.state.procs[1];
    p1.status = 'blocked';
    p1.waitingOn = { kind: 'pipe', dataId: 1, queue: 'read_wq' };
    const res = r.result();
    assert.equal(res.anomalies.length, 1);
    assert.equal(res.anomalies[0].kind, 'lost-wakeup');
    assert.match(res.anomalies[0].message, /already holds/);
    r.kernel.close();
  });

  it('fails a syscall on an fd that is not the right end with EBADF, without touching the pipe', async () => {
    const r = await start(`
P1 pipe r w
P1 write r "x"
P1 read w 1
P1 close r
P1 close r
`);
    r.runDefault();
    const res = r.result();
    assert.deepEqual(res.ops.map((o) => o.result), [[3, 4], -9, -9, 0, -9]);
    assert.match(res.ops[1].error!, /fd 3 is the read end/);
    assert.equal(res.ok, true);
    r.kernel.close();
  });

  it('reports bad SQL in a query as an error anomaly at its line, and refuses writes', async () => {
    const r = await start(`
P1 query "SELEC 1"
P1 query "DELETE FROM pid_store"
P1 query "SELECT 1; SELECT 2"
P1 query "ATTACH ':memory:' AS x"
P1 query "  PRAGMA user_version = 7"
P1 query "PRAGMA table_info(pid_store)"
`);
    r.runDefault();
    const res = r.result();
    assert.deepEqual(res.ops.map((o) => (Array.isArray(o.result) ? o.result.length : o.result)), [-22, -1, -22, -1, -1, 2]);
    assert.deepEqual(res.anomalies.map((a) => `${a.kind}@${a.line}`), ['error@2', 'error@3', 'error@4', 'error@5', 'error@6']);
    assert.match(res.anomalies[1].message, /read-only/);
    assert.equal(res.tables.pid_store.length, 1, 'nothing was deleted');
    r.kernel.close();
  });
});

describe('editor marks', () => {
  it('mark each live process\'s next statement: who runs next, who waits, who sleeps on what', async () => {
    const r = await start(fs.readFileSync(path.join(ROOT, 'examples', '08-pending-writer.sqlos'), 'utf8'));
    for (let i = 0; i < 6; i++) r.runStatement(r.nextRunnable()!);
    assert.deepEqual(
      marksOf(r).map((m) => `${m.line} ${m.text}`),
      ['9 ◀ P1 blocked on write_q', '10 ◀ P3 blocked on read_q', '11 ◀ P2 runs next'],
    );
    r.kernel.close();
  });
});

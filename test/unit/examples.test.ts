/*
 * Every example scenario, run as a newcomer would, with the outcome a reader of the paper and of the
 * upstream facts predicts: in the companion profile, in the upstream profile where the example applies,
 * and under the memdb policy where that changes the story.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { simLocks, simQueues } from '../../extension/core/model/from-sim';
import { sleepersOn } from '../../extension/core/model/model';
import { ROOT, kinds, opAt, runExample, start } from './helpers';

describe('example scenarios', () => {
  it('there are at least a dozen, and each one is covered below', () => {
    const files = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.sqlos'));
    assert.ok(files.length >= 12, `only ${files.length} examples`);
    const self = fs.readFileSync(__filename, 'utf8');
    for (const f of files) assert.ok(self.includes(`'${f}'`), `${f} has no test`);
  });

  it('01-fork-pipe.sqlos: companion reads the child\'s bytes, then EOF', async () => {
    const res = await runExample('01-fork-pipe.sqlos');
    assert.equal(res.ok, true, JSON.stringify(res.anomalies));
    assert.equal(opAt(res, 5).result, 6, 'companion write returns the byte count');
    assert.equal(opAt(res, 8).data, '"hello\\n"');
    assert.equal(opAt(res, 9).result, 0, 'EOF once every writer has gone');
    for (const t of ['pid_store', 'pid_pipe', 'pipe_data', 'pipe_chunk']) assert.deepEqual(res.tables[t], [], `${t} is emptied by close/exit`);
  });

  it('01-fork-pipe.sqlos: upstream cannot close fds, returns 0 from write, and never sees EOF', async () => {
    const res = await runExample('01-fork-pipe.sqlos', { profile: 'upstream' });
    assert.equal(opAt(res, 4).result, -9);
    assert.equal(opAt(res, 5).result, 0);
    assert.equal(opAt(res, 8).data, '"hello\\n"');
    assert.deepEqual(kinds(res), ['deadlock@9']);
    assert.match(res.anomalies[0].message, /P1 is asleep on pipe 1 read_wq/);
    assert.equal(res.tables.pid_store.length, 2, 'rows are never deleted upstream');
  });

  it('02-threads.sqlos (companion): three threads get 4, 4 and 9 bytes of one write, in order', async () => {
    const res = await runExample('02-threads.sqlos');
    assert.equal(res.ok, true, JSON.stringify(res.anomalies));
    assert.deepEqual([9, 10, 11].map((l) => opAt(res, l).data), ['"0123"', '"4567"', '"89abcdefg"']);
    const writeIndex = res.ops.findIndex((o) => o.line === 12);
    assert.ok(res.ops.findIndex((o) => o.line === 9) > writeIndex, 'the readers blocked until the write');
  });

  it('02-threads.sqlos (upstream): one write wakes all three readers, the last to sleep reads first (as on the published kernel)', async () => {
    const res = await runExample('02-threads.sqlos', { profile: 'upstream' });
    // prepare_to_wait queues a reader at the head of read_wq, and wake_up wakes from the head.
    assert.deepEqual([11, 10, 9].map((l) => opAt(res, l).data), ['"012345678"', '"9abc"', '"defg"']);
    assert.deepEqual(kinds(res), ['expectation@11', 'expectation@10', 'expectation@9']);
  });

  it('03-several-readers.sqlos: one 8-byte write feeds both sleeping readers (companion: in the order they slept; upstream: the reverse)', async () => {
    const res = await runExample('03-several-readers.sqlos');
    assert.equal(res.ok, true, JSON.stringify(res.anomalies));
    assert.deepEqual([opAt(res, 6).data, opAt(res, 7).data], ['"ABCD"', '"EFGH"']);
    const up = await runExample('03-several-readers.sqlos', { profile: 'upstream' });
    assert.deepEqual([opAt(up, 6).data, opAt(up, 7).data], ['"EFGH"', '"ABCD"']);
  });

  for (const profile of ['companion', 'upstream'] as const) {

    it(`04-fork-grandchild.sqlos (${profile}): the grandchild's write reaches the grandparent; fork copied the fd rows`, async () => {
      const res = await runExample('04-fork-grandchild.sqlos', { profile });
      assert.equal(res.ok, true, JSON.stringify(res.anomalies));
      assert.equal(opAt(res, 7).data, '"from P3"');
      assert.deepEqual(opAt(res, 8).result, [[1, 3, 1], [1, 4, 1], [2, 3, 1], [2, 4, 1], [3, 3, 1], [3, 4, 1]]);
    });
  }

  it('05-eof.sqlos: companion returns 0 at EOF; upstream sleeps for ever', async () => {
    const co = await runExample('05-eof.sqlos');
    assert.equal(co.ok, true, JSON.stringify(co.anomalies));
    assert.equal(opAt(co, 8).data, '"last words"');
    assert.equal(opAt(co, 9).result, 0);
    const up = await runExample('05-eof.sqlos', { profile: 'upstream' });
    assert.deepEqual(kinds(up), ['deadlock@9']);
  });

  it('06-epipe.sqlos: companion write fails with EPIPE; upstream write "succeeds" with 0', async () => {
    const co = await runExample('06-epipe.sqlos');
    assert.equal(opAt(co, 5).result, -32);
    assert.match(opAt(co, 5).error!, /EPIPE/);
    const up = await runExample('06-epipe.sqlos', { profile: 'upstream' });
    assert.equal(opAt(up, 4).result, -9);
    assert.equal(opAt(up, 5).result, 0);
    assert.equal(up.tables.pipe_data.length, 1);
    assert.deepEqual(up.tables.pipe_data[0].data, { blob: 14, text: 'nobody listens' });
  });

  it('07-capacity.sqlos: a 20-byte write into 8 bytes of room blocks until read, then returns 20', async () => {
    const res = await runExample('07-capacity.sqlos');
    assert.equal(res.ok, true, JSON.stringify(res.anomalies));
    assert.equal(res.capacity, 8);
    const order = res.ops.map((o) => o.line);
    assert.ok(order.indexOf(6) > order.indexOf(8), 'the write completed only after the reader made room twice');
    assert.equal(opAt(res, 6).result, 20);
  });

  it('08-pending-writer.sqlos: the writer waits PENDING on write_q, a new reader waits on read_q, then both finish', async () => {
    // Statement by statement up to the two sleeps, to see them as they are.
    const r = await start(fs.readFileSync(path.join(ROOT, 'examples', '08-pending-writer.sqlos'), 'utf8'), {}, '08-pending-writer.sqlos');
    for (const pid of [1, 1, 1, 2]) assert.equal(r.runStatement(pid).kind, 'done');
    assert.equal(r.runStatement(1).kind, 'blocked', 'the write waits');
    assert.equal(r.runStatement(3).kind, 'blocked', 'the new reader waits');
    assert.equal(simLocks(r.kernel).currentMaxLock, 'PENDING');
    assert.deepEqual(sleepersOn(simQueues(r.kernel), { kind: 'store', queue: 'write_q' }), [1]);
    assert.deepEqual(sleepersOn(simQueues(r.kernel), { kind: 'store', queue: 'read_q' }), [3]);
    r.kernel.close();
    const res = await runExample('08-pending-writer.sqlos');
    assert.equal(res.ok, true, JSON.stringify(res.anomalies));
    assert.deepEqual(res.ops.map((o) => o.line).slice(0, 7), [5, 6, 7, 8, 11, 9, 10], 'commit (11) let the write (9) and then the query (10) finish');
    assert.deepEqual(opAt(res, 10).result, [[3]]);
  });

  it('09-memdb-busy.sqlos: memdb refuses the write with SQLITE_BUSY (-5); the sqliteos policy makes it wait', async () => {
    const res = await runExample('09-memdb-busy.sqlos');
    assert.equal(res.locks, 'memdb');
    assert.equal(res.ok, true, JSON.stringify(res.anomalies));
    assert.equal(opAt(res, 7).result, -5);
    assert.equal(opAt(res, 10).data, '"kept"');
    const waits = await runExample('09-memdb-busy.sqlos', { locks: 'sqliteos' });
    assert.equal(opAt(waits, 7).result, 4);
    assert.equal(opAt(waits, 10).data, '"lostkept"');
  });

  it('10-self-deadlock.sqlos: a pipe write inside its own read transaction: EDEADLK (companion); upstream it goes through (553(4) holds no lock)', async () => {
    const res = await runExample('10-self-deadlock.sqlos');
    assert.equal(res.ok, true, JSON.stringify(res.anomalies));
    assert.equal(opAt(res, 7).result, -35);
    assert.equal(sleepersOn(res.queues, { kind: 'store', queue: 'write_q' }).length, 0);
    // The published 553(4) runs a deferred BEGIN on a connection nothing reads through: no SHARED lock.
    for (const locks of ['sqliteos', 'memdb'] as const) {
      const up = await runExample('10-self-deadlock.sqlos', { profile: 'upstream', locks });
      assert.equal(up.ok, true, `${locks}: ${JSON.stringify(up.anomalies)}`);
      assert.deepEqual([opAt(up, 6).result, opAt(up, 7).result, opAt(up, 8).result], [0, 0, 0], locks);
      assert.equal(up.lockState!.numReaders, 0, locks);
    }
  });

  it('11-upstream-thread-pipe.sqlos: upstream cannot find a pipe a thread made (-101); companion can', async () => {
    const up = await runExample('11-upstream-thread-pipe.sqlos');
    assert.equal(up.profile, 'upstream');
    assert.equal(opAt(up, 7).result, -101);
    assert.equal(opAt(up, 8).result, -101);
    assert.deepEqual(up.tables.pid_pipe.map((r) => r.pid), [2, 2], 'pid_pipe holds the thread pid, not its handler');
    const co = await runExample('11-upstream-thread-pipe.sqlos', { profile: 'companion' });
    assert.equal(opAt(co, 8).data, '"hi"');
  });

  it('12-upstream-rows-kept.sqlos: upstream keeps every row after everyone exits; companion deletes them', async () => {
    const up = await runExample('12-upstream-rows-kept.sqlos');
    assert.deepEqual(up.tables.pid_store, [{ pid: 1, parent_id: 1 }, { pid: 2, parent_id: 2 }]);
    assert.equal(up.tables.pid_pipe.length, 2);
    assert.deepEqual(up.tables.pipe_data[0].data, { blob: 11, text: 'left behind' });
    assert.ok((up.tables.pipe_data[0].read_wq as number) < 0, 'a kernel address, printed as a negative int64');
    const co = await runExample('12-upstream-rows-kept.sqlos', { profile: 'companion' });
    for (const t of Object.keys(co.tables)) assert.deepEqual(co.tables[t], [], t);
  });

  it('13-exit-in-transaction.sqlos: companion releases the lock on exit; upstream leaks the connection, which holds no lock', async () => {
    const co = await runExample('13-exit-in-transaction.sqlos');
    assert.equal(co.ok, true, JSON.stringify(co.anomalies));
    assert.equal(opAt(co, 8).data, '"after"');
    const up = await runExample('13-exit-in-transaction.sqlos', { profile: 'upstream' });
    assert.equal(up.ok, true, JSON.stringify(up.anomalies));
    assert.equal(opAt(up, 8).data, '"after"');
    assert.equal(up.lockState!.numReaders, 0);
    assert.ok(up.lockState!.connections.some((c) => c.owner === 2 && c.level === 'NONE'), "the exited P2's connection is still there, at NONE");
  });

  it('14-upstream-backlog.sqlos: past 2 MiB of backlog the upstream write fails with SQLITE_NOMEM; a write taking it past 4 MiB oopses holding the mutex', async () => {
    const up = await runExample('14-upstream-backlog.sqlos', { profile: 'upstream' });
    assert.deepEqual(kinds(up), ['error@14', 'deadlock@16']);
    assert.equal(opAt(up, 12).result, 0);
    assert.equal(opAt(up, 13).result, -7, 'the store would need 1289 pages: SQLITE_NOMEM, nothing written');
    assert.match(up.anomalies[0].message, /unchecked kmalloc\(5242880\)/);
    assert.equal(up.lockState!.writeMutex.owner, 2);
    assert.equal(up.processes.find((p) => p.pid === 2)!.state, 'exited');
    assert.equal(up.pipes[0].buffered, 2 * 1024 * 1024);
  });

  it('14-upstream-backlog.sqlos: companion bounds the pipe, so reads get 64 KiB and the writer gets EPIPE at the end', async () => {
    const co = await runExample('14-upstream-backlog.sqlos');
    assert.equal(co.ok, true, JSON.stringify(co.anomalies));
    assert.equal(opAt(co, 16).result, 65536);
    assert.equal(opAt(co, 17).result, 65536);
    assert.equal(opAt(co, 11).result, 3 * 65536, 'the write returns what got in before the reader left');
    assert.equal(opAt(co, 12).result, -32);
  });

  it("15-paper-lost-wakeup.sqlos: algorithm 5 as printed loses a wake-up that Explore finds (breadth-first: a shortest schedule); joining the queue under the mutex loses none", async () => {
    const { explore } = await import('../../extension/core/explore/explorer');
    const { parseScenario } = await import('../../extension/core/scenario/parser');
    const file = path.join(ROOT, 'examples', '15-paper-lost-wakeup.sqlos');
    const parsed = parseScenario(fs.readFileSync(file, 'utf8'), file);
    assert.ok(parsed.ok);
    const run = await runExample('15-paper-lost-wakeup.sqlos');
    assert.equal(run.ok, true, 'the default schedule never opens the gap');
    for (const profile of ['companion', 'upstream'] as const) {
      const printed = await explore(parsed.scenario, { profile });
      assert.equal(printed.locks, 'sqliteos-as-printed', 'the file says @locks sqliteos-as-printed');
      assert.equal(printed.violation?.kind, 'lost-wakeup', profile);
      assert.equal(printed.violation?.line, 9);
      const fixed = await explore(parsed.scenario, { profile, locks: 'sqliteos' });
      assert.deepEqual([fixed.violation, fixed.exhausted], [null, true], `${profile}: prepare_to_wait under the mutex`);
    }
  });

  it('16-independent-pairs.sqlos: each reader gets its writer\'s bytes, and Explore with reduction exhausts it clean, one pair at a time', async () => {
    const run = await runExample('16-independent-pairs.sqlos');
    assert.equal(run.ok, true, JSON.stringify(run.anomalies));
    for (const [line, data] of [[13, '"p1"'], [17, '"p2"'], [21, '"p3"'], [25, '"p4"']] as const) assert.equal(opAt(run, line).data, data, `line ${line}`);
    const { explore } = await import('../../extension/core/explore/explorer');
    const { parseScenario } = await import('../../extension/core/scenario/parser');
    const file = path.join(ROOT, 'examples', '16-independent-pairs.sqlos');
    const parsed = parseScenario(fs.readFileSync(file, 'utf8'), file);
    assert.ok(parsed.ok);
    const r = await explore(parsed.scenario);
    assert.deepEqual([r.violation, r.exhausted, r.reduction], [null, true, true]);
    assert.ok(r.pruned > 0 && r.states < 5000, `${r.states} states`);
  });

  it('17-nonblock.sqlos: EAGAIN instead of sleeping, a partial write above PIPE_BUF, every expectation checked', async () => {
    const res = await runExample('17-nonblock.sqlos');
    assert.equal(res.ok, true, JSON.stringify(res.anomalies));
    assert.deepEqual([7, 9, 10, 13].map((l) => opAt(res, l).result), [-11, -11, 2, -9]);
    assert.equal(opAt(res, 14).data, '"defab"');
    // The same file with one expectation changed, each kind: each is reported, at its line.
    const src = fs.readFileSync(path.join(ROOT, 'examples', '17-nonblock.sqlos'), 'utf8');
    const { run } = await import('./helpers');
    const wrong = await run(src.replace('"ghi" == EAGAIN', '"ghi" == EPIPE').replace('5000 == 2', '5000 == 3').replace('close w == 0', 'close w == EBADF'), {}, 'wrong.sqlos');
    assert.deepEqual(kinds(wrong), ['expectation@9', 'expectation@10', 'expectation@12']);
    assert.match(wrong.anomalies[0].message, /write expected EPIPE, got EAGAIN \(-11\)/);
    assert.match(wrong.anomalies[1].message, /write expected 3 bytes written, got result 2/);
    // Without O_NONBLOCK the first read waits for a writer that never writes.
    const blocking = await run(src.replace('pipe r w nonblock', 'pipe r w'), {}, 'blocking.sqlos');
    assert.deepEqual(kinds(blocking), ['deadlock@7']);
    // The published kernel has no 558: the pipe fails, and so does everything on its labels.
    const up = await runExample('17-nonblock.sqlos', { profile: 'upstream' });
    assert.equal(opAt(up, 6).result, -38);
    assert.match(opAt(up, 6).error ?? '', /ENOSYS \(-38\): the published kernel has no sql_pipe2 \(558\)/);
  });

  it('18-write-transaction.sqlos: 553(8) holds every other writer off until 554, its holder\'s own writes go and its sleep is EDEADLK; the published mutex deadlocks its holder', async () => {
    const res = await runExample('18-write-transaction.sqlos');
    assert.equal(res.ok, true, JSON.stringify(res.anomalies));
    const order = res.ops.map((o) => o.line);
    assert.ok(order.indexOf(9) > order.indexOf(13), `P2's write completes only after the rollback: ${order}`);
    assert.equal(opAt(res, 12).result, -35);
    assert.match(opAt(res, 12).error ?? '', /holds the write mutex \(553\(8\)\)/);
    const up = await runExample('18-write-transaction.sqlos', { profile: 'upstream' });
    assert.deepEqual(kinds(up), ['deadlock@8']);
    assert.match(up.anomalies[0].message, /P1 is asleep on write mutex in 'P1 fork P2'/);
    // Exit inside it: the companion rolls it back and lets the mutex go; the published kernel keeps it held.
    const { run } = await import('./helpers');
    const src = 'P1 pipe r w\nP1 fork P2\nP2 begin write\nP1 write w "x"\nP2 exit\nP1 read r 1 == "x"\nP1 exit\n';
    const exit = await run(src);
    assert.equal(exit.ok, true, JSON.stringify(exit.anomalies));
    assert.equal(opAt(exit, 4).result, 1);
    assert.deepEqual(kinds(await run(src, { profile: 'upstream' })), ['deadlock@4']);
    // A read transaction's pipe calls are refused; a write transaction's are not. A second begin, and an end without one, are EINVAL.
    const twice = await run('P1 pipe r w\nP1 begin write\nP1 begin\nP1 write w "x" == 1\nP1 commit\nP1 rollback\n');
    // The holder's write that would sleep on a full pipe: what it wrote, then EDEADLK.
    const full = await run('@capacity 8\nP1 pipe r w\nP1 begin write\nP1 write w 10 == 8\nP1 write w "x" == EDEADLK\nP1 commit\nP1 read r 100 == 8\n');
    assert.equal(full.ok, true, JSON.stringify(full.anomalies));
    assert.deepEqual([3, 4, 5, 6].map((l) => opAt(twice, l).result), [-22, 1, 0, -22]);
  });

  it('19-savepoints.sqlos: rollback to keeps the name, release drops it, names without case; EINVAL for a name not there or with no transaction; the published kernel\'s +1 and oops', async () => {
    const res = await runExample('19-savepoints.sqlos');
    assert.equal(res.ok, true, JSON.stringify(res.anomalies));
    assert.deepEqual([6, 7, 8, 9, 10, 11, 12, 13].map((l) => opAt(res, l).result), [0, 0, 0, 0, -22, 0, 0, -22]);
    assert.match(opAt(res, 10).error ?? '', /no such savepoint: b/);
    const up = await runExample('19-savepoints.sqlos', { profile: 'upstream' });
    assert.equal(opAt(up, 10).result, 1);
    assert.deepEqual(kinds(up), ['expectation@10', 'error@13', 'expectation@13']);
    assert.match(up.anomalies[1].message, /kernel oops in perform_on_savepoint/);
  });
});

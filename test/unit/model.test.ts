/*
 * The target model from a real kernel: sqliteos-inspect's output captured from the companion kernel
 * (test/fixtures/kernel) becomes the processes, pipes, locks and queues a user sees; damaged output of
 * every kind is refused with the place named. Also the simulator's mapping and snapshot diffs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { KernelFormatError, parseQueryJson, protectBigIntegers } from '../../extension/core/model/kernel-json';
import { InspectReader, parseInspectJson, splitSections } from '../../extension/core/model/inspect-reader';
import { preview, stringifyExact } from '../../extension/core/format';
import { queueKey, queueName } from '../../extension/core/model/model';
import { simLocks, simProcesses, simQueues } from '../../extension/core/model/from-sim';
import { diffSnapshots, holdBusyTables } from '../../extension/core/model/diff';
import { ROOT, start } from './helpers';

const fixture = (name: string) => fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'kernel', name), 'utf8');

function refuses(text: string, where: RegExp, what: RegExp): void {
  assert.throws(
    () => parseInspectJson(text, 'guest: sqliteos-inspect'),
    (e: Error) => {
      assert.ok(e instanceof KernelFormatError, e.message);
      assert.match(e.message, where);
      assert.match(e.message, what);
      return true;
    },
  );
}

describe('kernel snapshot (sqliteos-inspect format 1)', () => {
  it('shows the companion kernel as captured: the sleeping reader, the CLONE_FILES child, the bytes, the locks', () => {
    const s = parseInspectJson(fixture('companion-demo.json'), 'guest');
    assert.equal(s.kernel, 'companion');
    const reader = s.processes.find((p) => p.pid === 22)!;
    assert.equal(reader.state, 'blocked');
    assert.equal(queueName(reader.waitingOn!), 'pipe 2 read_wq');
    assert.equal(s.processes.find((p) => p.pid === 23)!.handler, 20, 'the CLONE_FILES child uses its parent\'s fd table');
    assert.deepEqual(s.pipes, [
      { dataId: 1, buffered: 21, readers: 1, writers: 1 },
      { dataId: 2, buffered: 0, readers: 1, writers: 1 },
    ]);
    assert.deepEqual(s.tables.pipe_chunk.rows[1], [1099511627777, 1, { blob: 5, hex: '62696e00ff' }]);
    assert.equal(s.locks!.currentMaxLock, 'NONE');
    assert.equal(s.locks!.writeMutex.owner, null);
    assert.equal(s.locks!.connections.length, 2);
    assert.deepEqual(s.queues!.map((q) => queueKey(q.id)), ['store.read_q', 'store.write_q', 'write_mutex', 'pipe.1.read_wq', 'pipe.1.write_wq', 'pipe.2.read_wq', 'pipe.2.write_wq']);
    assert.equal(s.counters.bytes_written, 21);
  });

  it("names the processes as /proc does and marks the companion's own, where the helper says so (an older helper: numbers only)", () => {
    const text = fixture('companion-demo.json').trim();
    const named = `${text.slice(0, -1)},"names":{"comm":[[20,"sqliteos-demo"],[22,"sqliteos-demo"],[24,"sqliteos-inspec"]],"own":[24,9]}}`;
    const s = parseInspectJson(named, 'guest');
    assert.deepEqual(
      s.processes.map((p) => [p.pid, p.comm ?? null, p.own ?? false]),
      [[1, null, false], [20, 'sqliteos-demo', false], [22, 'sqliteos-demo', false], [23, null, false], [24, 'sqliteos-inspec', true]],
    );
    assert.ok(parseInspectJson(text, 'guest').processes.every((p) => p.comm === undefined && !p.own));
    assert.throws(() => parseInspectJson(`${text.slice(0, -1)},"names":{"comm":[[20]],"own":[]}}`, 'guest'), /names\.comm\[0\]\[1\]/);
  });

  it('shows the published kernel\'s tables and says why there are no locks or queues', () => {
    const s = parseInspectJson(fixture('upstream-demo.json'), 'guest');
    assert.equal(s.kernel, 'upstream');
    assert.deepEqual(s.tables.pid_pipe.columns, ['pid', 'fd', 'dataId']);
    assert.equal(s.tables.pid_pipe.rows.length, 8);
    assert.equal(s.locks, null);
    assert.match(s.unavailable!, /only its tables/);
  });

  it("shows the published kernel's processes as /proc sees them: gone ones exited, a reader asleep in its read blocked", () => {
    const s = parseInspectJson(fixture('published-demo.json'), 'guest');
    assert.deepEqual(Object.keys(s.tables), ['pid_store', 'pid_pipe', 'pipe_data', 'inode', 'partitioned_data']);
    const p = (pid: number) => s.processes.find((x) => x.pid === pid)!;
    assert.equal(p(36).state, 'blocked');
    assert.match(p(36).activity!, /^sql_pipe_read: a pipe's read_wq .*\(wchan __x64_sys_sql_pipe_read\)$/);
    assert.equal(p(25).state, 'exited', 'a boot-script process that is gone keeps its row');
    assert.match(p(25).activity!, /never deletes its pid_store row/);
    assert.equal(p(33).state, 'runnable', 'asleep in pause(), not in SQLiteOS');
    // Without "procs" (an older helper) nothing is claimed: every row runnable, as before.
    const old = parseInspectJson(fixture('published-demo.json').replace(/,"procs":\[.*\]\}\s*$/, "}"), 'guest');
    assert.ok(old.processes.every((x) => x.state === 'runnable'));
  });

  it('refuses truncated output, naming its length and end', () => {
    const full = fixture('companion-demo.json');
    refuses(full.slice(0, 700), /^guest: sqliteos-inspect: not JSON/, /output of 700 bytes ending .*truncated\?/);
    refuses('', /not JSON/, /no output/);
  });

  it('refuses another format version and says what to update', () => {
    refuses(fixture('companion-demo.json').replace('"format":1', '"format":2'), /format/, /format 2; this version of the extension reads format 1/);
  });

  it('names the field that is wrong: a row of the wrong width, a bad lock level, a queue it does not know, bad hex', () => {
    const j = JSON.parse(fixture('companion-demo.json'));
    const variant = (f: (o: typeof j) => void) => {
      const o = structuredClone(j);
      f(o);
      return JSON.stringify(o);
    };
    refuses(variant((o) => o.tables.pid_store.rows[1].push(7)), /tables\.pid_store\.rows\[1\]/, /3 values for 2 columns/);
    refuses(variant((o) => (o.locks.store.current_max_lock = 'HALF')), /locks\.store\.current_max_lock/, /expected a lock level/);
    refuses(variant((o) => o.queues.push({ name: 'pipe.x.read_wq', pids: [] })), /queues\[7\]\.name/, /unknown wait queue/);
    refuses(variant((o) => (o.tables.pipe_chunk.rows[0][2].hex = 'zz')), /pipe_chunk\.rows\[0\]\[2\]\.hex/, /not hex/);
    refuses(variant((o) => (o.queues[5].pids = ['22'])), /queues\[5\]\.pids\[0\]/, /expected an integer/);
    refuses(variant((o) => (o.tables.pid_store.count = 1)), /pid_store\.count/, /1 rows counted but 5 listed/);
    refuses(variant((o) => (o.kernel = 'other')), /kernel/, /expected "companion" or "upstream"/);
  });

  it('keeps a busy table as busy rather than empty', () => {
    const j = JSON.parse(fixture('companion-demo.json'));
    j.tables.pid_pipe = { columns: ['pid', 'fd', 'dataId'], busy: 'database is locked' };
    const s = parseInspectJson(JSON.stringify(j), 'guest');
    assert.equal(s.tables.pid_pipe.busy, 'database is locked');
  });
});

describe('snapshot diffs', () => {
  it('name only what changed between two polls', () => {
    const a = parseInspectJson(fixture('companion-demo.json'), 'guest', 1);
    const j = JSON.parse(fixture('companion-demo.json'));
    j.queues[5].pids = [];
    j.tables.pipe_chunk.rows.pop();
    j.tables.pipe_chunk.count = 1;
    const b = parseInspectJson(JSON.stringify(j), 'guest', 2);
    assert.deepEqual(diffSnapshots(a, b), { tables: ['pipe_chunk'], waitQueues: true, processes: true });
    assert.deepEqual(diffSnapshots(b, parseInspectJson(JSON.stringify(j), 'guest', 3)), {});
  });
});

describe('the simulator in the model', () => {
  it('maps a PENDING writer and a reader held back on read_q', async () => {
    const r = await start(fs.readFileSync(path.join(ROOT, 'examples', '08-pending-writer.sqlos'), 'utf8'));
    for (let i = 0; i < 6; i++) r.runStatement(r.nextRunnable()!);
    const procs = simProcesses(r.kernel);
    const p1 = procs.find((p) => p.pid === 1)!;
    assert.deepEqual(p1.waitingOn, { kind: 'store', queue: 'write_q' });
    assert.equal(p1.activity, 'write (line 9): xLock(EXCLUSIVE)', 'the micro-step as the algorithm names it');
    assert.equal(simLocks(r.kernel).currentMaxLock, 'PENDING');
    assert.deepEqual(simQueues(r.kernel).find((q) => queueKey(q.id) === 'store.read_q')!.sleepers, [3]);
    r.kernel.close();
  });
});

describe('busy tables between polls', () => {
  it('keep the last good rows, marked with that snapshot\'s time, and the processes that come from them', () => {
    const a = parseInspectJson(fixture('companion-demo.json'), 'guest', 1000);
    const j = JSON.parse(fixture('companion-demo.json'));
    for (const t of Object.keys(j.tables)) j.tables[t] = { busy: 'database is locked' };
    const b = parseInspectJson(JSON.stringify(j), 'guest', 2000);
    assert.equal(b.processes.length, 0, 'on its own a busy snapshot has no processes');
    holdBusyTables(a, b);
    assert.equal(b.tables.pid_store.heldFrom, 1000);
    assert.equal(b.tables.pid_store.rows.length, 5);
    assert.equal(b.processes.find((p) => p.pid === 22)!.state, 'blocked');
    const c = parseInspectJson(JSON.stringify(j), 'guest', 3000);
    holdBusyTables(b, c);
    assert.equal(c.tables.pid_store.heldFrom, 1000, 'still the time of the copy, not of the last poll');
  });
});

describe('values past 2^53 and query output', () => {
  it('reads integers JSON.parse would round as exact bigints, in tables and queries, and writes them back exactly', () => {
    const j = fixture('companion-demo.json').replace('[1099511627776,1,', '[9223372036854775807,1,');
    const s = parseInspectJson(j, 'guest');
    assert.equal(s.tables.pipe_chunk.rows[0][0], 9223372036854775807n);
    assert.equal(protectBigIntegers('{"a":"12345678901234567890","b":12345678901234567890}'), '{"a":"12345678901234567890","b":{"$sqliteos.bigint":"12345678901234567890"}}');
    const q = parseQueryJson('{"format":1,"query":{"rows":[{"exact":9007199254740993,"t":"x"}]}}', 'guest');
    assert.deepEqual(q, { columns: ['exact', 't'], rows: [[9007199254740993n, 'x']] });
    assert.equal(stringifyExact(q.rows), '[[9007199254740993,"x"]]');
    assert.equal(preview(9007199254740993n), '9007199254740993');
    assert.throws(() => parseQueryJson('{"format":1,"query":', 'guest'), /guest: not JSON: .*truncated/);
  });
});

describe('reading successive snapshots', () => {
  it('splits the output into sections, strings with braces, commas and escaped quotes included', () => {
    const text = '{"format":1,"kernel":"companion","tables":{"t":{"columns":["a"],"rows":[["x\\"},{\\\\"]],"count":1},"u":{"busy":"no, {really}"}},"z":[1,{"k":[]}]}';
    const spans = splitSections(text)!;
    assert.deepEqual([...spans.keys()], ['format', 'kernel', 'tables.t', 'tables.u', 'tables', 'z']);
    const [s, e] = spans.get('tables.t')!;
    assert.deepEqual(JSON.parse(text.slice(s, e)).rows, [['x"},{\\']]);
    assert.equal(splitSections(text.slice(0, -1)), undefined, 'truncated');
    assert.equal(splitSections(`${text} trailing`), undefined);
  });

  it('keeps what did not change between polls (same objects) and parses only what did', () => {
    const r = new InspectReader();
    const a = r.read(fixture('companion-demo.json'), 'guest', 1);
    assert.deepEqual(r.last, { parsed: 10, reused: 0 });
    const j = JSON.parse(fixture('companion-demo.json'));
    j.tables.pid_store.rows.push([99, 99]);
    j.tables.pid_store.count++;
    const b = r.read(JSON.stringify(j), 'guest', 2);
    assert.deepEqual(r.last, { parsed: 1, reused: 9 });
    assert.equal(b.tables.pid_pipe, a.tables.pid_pipe, 'an unchanged table is the same object');
    assert.notEqual(b.tables.pid_store, a.tables.pid_store);
    assert.equal(b.processes.length, a.processes.length + 1);
    assert.deepEqual(diffSnapshots(a, b), { tables: ['pid_store'], processes: true });
    assert.throws(() => r.read(fixture('companion-demo.json').slice(0, 500), 'guest'), /not JSON.*truncated/);
  });
});

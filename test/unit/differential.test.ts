/*
 * The pieces of "one scenario, two kernels" that need no kernel: the plan sqliteos-run reads, the
 * runner's output read back (captured from the companion kernel in the QEMU guest), the comparison and
 * what it excuses, and the seeded generator.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { KernelRunError, kernelRunResult } from '../../extension/core/kernel-output/run-result';
import { compare, compareRuns, comparableTexts, excusals } from '../../extension/core/scenario/compare';
import { generateScenario } from '../../extension/core/scenario/generate';
import { parseScenario } from '../../extension/core/scenario/parser';
import { compilePlan } from '../../extension/core/scenario/plan';
import type { RunResult } from '../../extension/core/scenario/runner';
import { bytesDigest } from '../../extension/core/scenario/bytes';
import { simulate as simulateScenario } from '../../extension/machines/differential';

const ROOT = path.join(__dirname, '..', '..');
const fixture = (n: string) => fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'kernel', n), 'utf8');

function example(name: string) {
  const file = path.join(ROOT, 'examples', name);
  const p = parseScenario(fs.readFileSync(file, 'utf8'), `examples/${name}`);
  assert.ok(p.ok);
  return p.scenario;
}

const simulate = (name: string): Promise<RunResult> => simulateScenario(example(name));

const clone = (r: RunResult): RunResult => JSON.parse(JSON.stringify(r));

describe('scenarios on a real kernel', () => {
  it('compiles a scenario to the plan sqliteos-run reads: slots for labels, hex for bytes and SQL', () => {
    const p = parseScenario('@capacity 8\nP1 pipe r w\nP1 thread P2\nP2 write w "hi\\n"\nP1 read r 3\nP1 query "SELECT 1"\nP2 close w\nP1 exit\n', 't.sqlos');
    assert.ok(p.ok);
    const plan = compilePlan(p.scenario, 8);
    assert.deepEqual(plan.slots, ['r', 'w']);
    assert.equal(plan.text, ['sqliteos-plan 1', 'capacity 8', 's 2 1 pipe 0 1', 's 3 1 thread 2', 's 4 2 write 1 68690a', 's 5 1 read 0 3', 's 6 1 query 53454c4543542031', 's 7 2 close 1', 's 8 1 exit', 'end', ''].join('\n'));
  });

  it("reads the runner's output from the guest: scenario pids everywhere, the pipe's dataId, the bytes, rounds", () => {
    const k = kernelRunResult(example('03-several-readers.sqlos'), fixture('run-03-several-readers.txt'), 'guest', 65536);
    assert.equal(k.profile, 'companion-kernel');
    assert.equal(k.ok, true);
    assert.deepEqual(
      k.ops.map((o) => `${o.line} P${o.pid} ${o.op} ${JSON.stringify(o.result)}${o.data ? ` ${o.data}` : ''}`),
      ['3 P1 pipe [3,4]', '4 P1 fork 2', '5 P1 fork 3', '8 P1 write 8', '6 P2 read 4 "ABCD"', '7 P3 read 4 "EFGH"', '9 P2 exit 0', '10 P3 exit 0', '11 P1 exit 0'],
    );
    assert.equal(k.ops[0].dataId, 1);
    // The write and both reads completed in the round of the write: woken together.
    assert.deepEqual(k.ops.slice(3, 6).map((o) => o.round), [6, 6, 6]);
    // The guest's own processes (init, dropbear, the runner) are not the scenario's: not shown.
    assert.deepEqual(k.tables.pid_store, []);
    assert.deepEqual(k.processes.map((p) => `P${p.pid} ${p.state} handler ${p.handler} parent ${p.parent}`), ['P1 exited handler 1 parent 0', 'P2 exited handler 2 parent 1', 'P3 exited handler 3 parent 1']);
  });

  it("keeps a row of the scenario's pipe held by a process outside it (a leak), and drops the guest's own", () => {
    const text = fixture('run-03-several-readers.txt');
    // dataId 1 is the scenario's pipe (line 3); 77 is the guest's own process, 2 a pipe not of the scenario.
    const leaked = text.replace('"pid_pipe":{"columns":["pid","fd","dataId"],"rows":[],"count":0}', '"pid_pipe":{"columns":["pid","fd","dataId"],"rows":[[77,5,1],[77,6,2]],"count":2}');
    assert.notEqual(leaked, text, 'the fixture has the empty pid_pipe this test fills');
    const k = kernelRunResult(example('03-several-readers.sqlos'), leaked, 'guest', 65536);
    assert.deepEqual(k.tables.pid_pipe, [{ pid: -77, fd: 5, dataId: 1 }]);
    // What was left out is counted, and the comparison says so beside its differences.
    assert.deepEqual(k.outside, { pid_store: 6, pid_pipe: 1 }, "the guest's six processes and its own pipe's row");
    assert.equal(compare(k, k).excused.get("a real kernel's rows of processes and pipes outside the scenario: left out"), 14, 'seven on each side');
  });

  it("marks in Compare's texts the rows left out as the machine's own, where the tables are, and nothing on the simulator's side", async () => {
    const k = kernelRunResult(example('03-several-readers.sqlos'), fixture('run-03-several-readers.txt'), 'guest', 65536);
    const sim = await simulate('03-several-readers.sqlos');
    assert.deepEqual(compareRuns(sim, k), []);
    const [left, right] = comparableTexts(sim, k);
    assert.match(right, /## table pid_store\n(?:.*\n)*?\(not compared: \d+ row\(s\) of processes outside the scenario, the machine's own, left out\)\n\n## table/);
    assert.doesNotMatch(left, /not compared: \d+ row/);
    // The rest of the two texts is the same: the mark is the only difference Compare's diff shows.
    const unmarked = right.split('\n').filter((l) => !/^\(not compared: \d+ row/.test(l)).join('\n');
    assert.equal(unmarked, left);
  });

  it('names the machine and says what went wrong when the runner fails or is cut short', () => {
    const s = example('01-fork-pipe.sqlos');
    assert.throws(() => kernelRunResult(s, 'sqliteos-run 1\nerror plan line 2: unknown op frob\nend error\n', 'root@guest', 65536), (e: Error) => e instanceof KernelRunError && e.message === 'root@guest: sqliteos-run: plan line 2: unknown op frob');
    assert.throws(() => kernelRunResult(s, 'sqliteos-run 1\npid 1 40\ngive 0\n', 'root@guest', 65536), /root@guest: sqliteos-run stopped before its end line/);
    assert.throws(() => kernelRunResult(s, 'bash: sqliteos-run: not found\n', 'root@guest', 65536), /root@guest: sqliteos-run: unexpected output: "bash: sqliteos-run: not found/);
  });

  it("finds the simulator and the captured kernel runs the same; a query woken with other work over the guest's own processes is excused for that", async () => {
    const k03 = kernelRunResult(example('03-several-readers.sqlos'), fixture('run-03-several-readers.txt'), 'guest', 65536);
    assert.deepEqual(compareRuns(await simulate('03-several-readers.sqlos'), k03), []);
    const k08 = kernelRunResult(example('08-pending-writer.sqlos'), fixture('run-08-pending-writer.txt'), 'guest', 65536);
    const sim08 = await simulate('08-pending-writer.sqlos');
    // P3's count of pid_store sees the whole guest (8 processes), but it ran in the round of P2's commit,
    // woken with P1's write: its rows may be the tables before or after them, so they are not compared.
    assert.deepEqual(k08.ops.find((o) => o.line === 10)!.result, [[8]]);
    assert.equal(k08.ops.find((o) => o.line === 10)!.round, k08.ops.find((o) => o.line === 9)!.round);
    assert.deepEqual(compareRuns(sim08, k08), []);
    assert.equal(compare(sim08, k08).excused.get("a query among woken work over a real kernel's rows outside the scenario: rows not compared"), 1, 'the count sees the guest: excused for that, and said so');
    const alone = clone(k08);
    alone.ops.find((o) => o.line === 10)!.round = 1000;
    assert.deepEqual(compareRuns(sim08, alone), [{ what: 'line 10 P3 query: result', line: 10, left: '[[3]]', right: '[[8]]' }]);
  });

  it("runs a reader woken by a writer's unlock before the task its mutex release wakes, as the kernel did; either order passes", async () => {
    const file = path.join(ROOT, 'test', 'fixtures', 'kernel', 'begin-behind-writers.sqlos');
    const parsed = parseScenario(fs.readFileSync(file, 'utf8'), file);
    assert.ok(parsed.ok);
    const k = kernelRunResult(parsed.scenario, fixture('run-begin-behind-writers.txt'), 'guest', 65536);
    const sim = await simulateScenario(parsed.scenario);
    const at = (r: RunResult, line: number) => r.ops.find((o) => o.line === line)!;
    // P4's begin (line 12) completed in the round of P1's commit and P2's write, before P3's write:
    // its query (line 13) saw P2's byte only, on both sides.
    assert.equal(at(k, 12).round, at(k, 10).round);
    assert.deepEqual([at(sim, 13).result, at(k, 13).result], [[[1, 1]], [[1, 1]]]);
    assert.deepEqual(compareRuns(sim, k), []);
    // The scheduler may run P3 first: the transaction begun among work woken with it then sees P3's
    // bytes too (P3 was woken in that round and slept again in PENDING behind P4, so it is in flight),
    // joined to P2's unread chunk (a write that fits in its 4 KiB joins it).
    // The simulator recorded the tables as it went: its query's rows may be either, and no other.
    assert.deepEqual(sim.queryTimeline!['4:13'].rows.map((x) => x.rows), [[[0, null]], [[1, 1]], [[1, 9]], [[0, null]]]);
    const other = clone(k);
    at(other, 13).result = [[1, 9]];
    const c = compare(sim, other);
    assert.deepEqual(c.differences, []);
    assert.equal(c.excused.get('a query among woken work: rows those of the tables before or after that work'), 1);
    const [left, right] = comparableTexts(sim, other);
    assert.match(right, /P4 line 13 query: \(rows: the tables before or after work woken with it, as the other side had them\)/);
    assert.equal(left.split('\n').filter((l) => l.startsWith('P')).join('\n'), right.split('\n').filter((l) => l.startsWith('P')).join('\n'));
    // Rows the tables never held around that work are a difference (they were accepted unseen before).
    const wrong = clone(k);
    at(wrong, 13).result = [[2, 8]];
    assert.deepEqual(compareRuns(sim, wrong), [{ what: 'line 13 P4 query: result', line: 13, left: 'one of [[0,null]] [[1,1]] [[1,9]] (the tables before, during or after the work it was woken with)', right: '[[2,8]]' }]);
    assert.match(comparableTexts(sim, wrong)[1], /P4 line 13 query: \[\[2,8\]\]/);
    // Begun alone (in a round of its own), the rows its transaction saw are compared.
    const alone = clone(other);
    at(alone, 12).round = 1000;
    assert.deepEqual(compareRuns(sim, alone), [{ what: 'line 13 P4 query: result', line: 13, left: '[[1,1]]', right: '[[1,9]]' }]);
  });

  it('reports a read that got other bytes, a different errno, and a statement one side never finished', async () => {
    const sim = await simulate('03-several-readers.sqlos');
    const k = clone(sim);
    k.ops.find((o) => o.line === 8)!.result = -32;
    k.ops.find((o) => o.line === 8)!.error = 'EPIPE (-32)';
    k.ops = k.ops.filter((o) => o.line !== 11);
    const read = k.ops.find((o) => o.op === 'read' && o.line === 6)!;
    read.data = `"${'z'.repeat(JSON.parse(read.data!).length)}"`;
    const d = compareRuns(sim, k);
    const what = d.map((x) => x.what);
    assert.deepEqual(what.slice(0, 4), ['line 8 P1 write: errno', 'line 8 P1 write: result', 'line 6 P2 read: bytes read', 'line 11 P1 exit: completed on one side only']);
    assert.match(d[2].right, /zz/);
    assert.ok(what.includes('P1: order of its completed statements (lines)'));
  });

  it('lets reads woken together take the bytes in either order, but not different bytes, nor across rounds', async () => {
    const sim = await simulate('03-several-readers.sqlos');
    const swapped = clone(sim);
    const [a, b] = [swapped.ops.find((o) => o.line === 6)!, swapped.ops.find((o) => o.line === 7)!];
    [a.data, b.data] = [b.data, a.data];
    for (const o of swapped.ops) o.round = o.line === 6 || o.line === 7 || o.line === 8 ? 6 : o.line;
    assert.deepEqual(compareRuns(sim, swapped), []);
    assert.deepEqual([...excusals(sim, swapped)], [['reads woken together: their bytes compared as a group', 2]], 'what "0 differences" did not compare one by one is counted');
    assert.deepEqual([...excusals(sim, sim)], []);
    const [left, right] = comparableTexts(sim, swapped);
    assert.equal(left, right, 'the side-by-side shows no difference either');
    const apart = clone(swapped);
    apart.ops.find((o) => o.line === 7)!.round = 99;
    assert.deepEqual(compareRuns(sim, apart).map((d) => d.what), ['line 6 P2 read: bytes read', 'line 7 P3 read: bytes read']);
    const other = clone(swapped);
    other.ops.find((o) => o.line === 7)!.data = '"WXYZ"';
    assert.equal(compareRuns(sim, other).length, 2);
  });

  it('names pipes by the line that made them, whatever dataId each kernel gave', async () => {
    const sim = await simulate('01-fork-pipe.sqlos');
    const k = clone(sim);
    const renumber = (v: unknown) => (v === 1 ? 41 : v);
    k.ops.find((o) => o.op === 'pipe')!.dataId = 41;
    for (const rows of Object.values(k.tables)) for (const r of rows) if ('dataId' in r) r.dataId = renumber(r.dataId);
    for (const p of k.pipes) p.dataId = renumber(p.dataId) as number;
    assert.deepEqual(compareRuns(sim, k), []);
  });

  // Processes left alive at the end: P2 inside a read transaction, P1's write waiting behind it.
  const OPEN_END = 'P1 pipe r w\nP1 fork P2\nP2 begin\nP1 write w "x"\n';
  const simulateText = (src: string): Promise<RunResult> => {
    const p = parseScenario(src, 't.sqlos');
    assert.ok(p.ok);
    return simulateScenario(p.scenario);
  };

  it('sees a duplicated row, which a comparison of row sets would not', async () => {
    const sim = await simulateText(OPEN_END);
    assert.ok(sim.tables.pid_pipe.length > 0, 'rows left to duplicate');
    const k = clone(sim);
    k.tables.pid_pipe.push({ ...k.tables.pid_pipe[0] });
    const d = compareRuns(sim, k);
    assert.deepEqual(d.map((x) => x.what), ['table pid_pipe: rows on one side only']);
    assert.equal(d[0].left, '—');
    assert.match(d[0].right, /"pid":/);
  });

  it("compares the connections holding a lock as (process, level) pairs: a level, a holder or one too many differs", async () => {
    // P2's read transaction is open at the end (its commit is cut), P1's write asleep in PENDING behind it
    const sim = await simulateText('P1 pipe r w\nP1 fork P2\nP2 begin\nP2 query "SELECT count(*) FROM pipe_data"\nP1 write w "x"\n');
    const held = sim.lockState!.connections.filter((c) => c.level !== 'NONE').map((c) => `P${c.owner} ${c.level}`).sort();
    assert.deepEqual(held, ['P1 PENDING', 'P2 SHARED']);
    assert.deepEqual(compareRuns(sim, clone(sim)), []);
    const level = clone(sim);
    level.lockState!.connections.find((c) => c.owner === 2)!.level = 'RESERVED';
    const holder = clone(sim);
    holder.lockState!.connections.find((c) => c.owner === 2)!.owner = 1;
    const more = clone(sim);
    more.lockState!.connections.push({ ...more.lockState!.connections.find((c) => c.owner === 2)!, id: 99 });
    const none = clone(sim);
    none.lockState!.connections.push({ id: 98, owner: 0, level: 'NONE', purpose: 'kernel' });
    for (const [k, shows] of [[level, 'P2 RESERVED'], [holder, '"P1 SHARED"'], [more, '"P2 SHARED","P2 SHARED"']] as const) {
      const d = compareRuns(sim, k);
      assert.deepEqual(d.map((x) => x.what), ['lock state at the end']);
      assert.ok(d[0].right.includes(shows), d[0].right);
    }
    assert.deepEqual(compareRuns(sim, none), [], 'a connection holding no lock names no task on the kernel: not compared');
  });

  it('compares every byte of a blob where both sides have them or their digest (the simulator keeps 64 and a digest; a kernel sends 32 and a digest), the first 32 against a kernel that sends no digest', async () => {
    const text = 'a'.repeat(100);
    const sim = await simulateText(`P1 pipe r w\nP1 write w "${text}"\n`);
    const chunk = sim.tables.pipe_chunk[0].data as { blob: number; truncated?: boolean; digest?: string };
    assert.equal(chunk.blob, 100);
    assert.ok(chunk.truncated && chunk.digest, JSON.stringify(chunk));
    const kernelSide = (bytes: string) => {
      const k = clone(sim);
      k.tables.pipe_chunk[0].data = { blob: bytes.length, hex: Buffer.from(bytes, 'latin1').toString('hex') };
      return k;
    };
    assert.deepEqual(compareRuns(sim, kernelSide(text)), [], 'the same 100 bytes, written two ways');
    const other = `${text.slice(0, 80)}b${text.slice(81)}`;
    assert.deepEqual(compareRuns(sim, kernelSide(other)).map((d) => d.what), ['table pipe_chunk: rows on one side only'], 'byte 80 differs');
    // A kernel's inspection shows a blob's first 32 bytes: against it, those and the length are compared.
    const shown = (bytes: string) => {
      const k = clone(sim);
      k.tables.pipe_chunk[0].data = { blob: bytes.length, hex: Buffer.from(bytes.slice(0, 32), 'latin1').toString('hex') };
      return k;
    };
    assert.deepEqual(compareRuns(sim, shown(other)), [], 'past the 32nd byte a kernel shows nothing to compare');
    assert.equal(compareRuns(sim, shown(`${text.slice(0, 10)}b${text.slice(11)}`)).length, 1, 'byte 10 differs');
    // The companion kernel's inspection adds the SHA-256 of every byte (its first 16 hex digits).
    const digested = (bytes: string) => {
      const k = shown(bytes);
      (k.tables.pipe_chunk[0].data as { digest?: string }).digest = bytesDigest(new Uint8Array(Buffer.from(bytes, 'latin1')));
      return k;
    };
    assert.deepEqual(compareRuns(sim, digested(text)), [], 'the same 100 bytes, by their digest');
    assert.deepEqual(compareRuns(sim, digested(other)).map((d) => d.what), ['table pipe_chunk: rows on one side only'], 'byte 80 differs, seen through the digest');
  });

  it('generates the same scenario from the same seed, every one of them parses, and they vary', () => {
    assert.equal(generateScenario(123), generateScenario(123));
    assert.notEqual(generateScenario(123), generateScenario(124));
    const seen = new Set<string>();
    for (let seed = 0; seed < 300; seed++) {
      const text = generateScenario(seed);
      const p = parseScenario(text, `g${seed}.sqlos`);
      assert.ok(p.ok, `seed ${seed}: ${p.ok ? '' : p.errors.join('; ')}\n${text}`);
      const procs = new Set(p.scenario.statements.map((s) => s.pid)).size;
      assert.ok(procs >= 1 && procs <= 5, `seed ${seed}: ${procs} processes`);
      for (const s of p.scenario.statements) {
        seen.add(s.op === 'write' && s.data.bytes.length >= 4096 ? 'big write' : s.op);
        if (s.op === 'pipe' && s.nonblock) seen.add('nonblock pipe');
        if (s.op === 'begin' && s.write) seen.add('begin write');
      }
      if (p.scenario.capacity) seen.add('capacity');
    }
    assert.deepEqual([...seen].sort(), ['begin', 'begin write', 'big write', 'capacity', 'close', 'commit', 'exit', 'fork', 'nonblock pipe', 'pipe', 'query', 'read', 'release', 'rollback', 'rollback_to', 'savepoint', 'thread', 'write']);
  });

  it('generates upstream scenarios the published kernel can run one after another: small writes, no capacity, transactions closed', async () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 300; seed++) {
      const text = generateScenario(seed, 'upstream');
      const p = parseScenario(text, `u${seed}.sqlos`);
      assert.ok(p.ok, `seed ${seed}: ${p.ok ? '' : p.errors.join('; ')}\n${text}`);
      assert.equal(p.scenario.profile, 'upstream', text);
      assert.equal(p.scenario.capacity, undefined, text);
      const open = new Set<number>();
      for (const st of p.scenario.statements) {
        seen.add(st.op);
        if (st.op === 'write') assert.ok(st.data.bytes.length <= 100, `seed ${seed} line ${st.line}: a write of ${st.data.bytes.length} bytes`);
        // no write transaction (its holder's own calls would wedge that kernel), no O_NONBLOCK (no 558 there)
        assert.ok(!(st.op === 'begin' && st.write) && !(st.op === 'pipe' && st.nonblock), `seed ${seed} line ${st.line}: ${st.text}`);
        if (st.op === 'begin') open.add(st.pid);
        else if (st.op === 'commit') open.delete(st.pid);
        else if (open.has(st.pid)) assert.ok(st.op === 'query', `seed ${seed} line ${st.line}: ${st.op} inside a transaction`);
      }
      assert.deepEqual([...open], [], `seed ${seed}: a transaction left open\n${text}`);
      if (seed < 20) {
        // The simulator's upstream profile runs each; its queries' rows do not depend on earlier runs.
        const r = await simulateScenario(p.scenario);
        for (const o of r.ops.filter((x) => x.op === 'query')) assert.deepEqual([o.error, o.result], [null, [[1]]], `seed ${seed} line ${o.line}`);
      }
    }
    assert.deepEqual([...seen].sort(), ['begin', 'close', 'commit', 'exit', 'fork', 'pipe', 'query', 'read', 'thread', 'write']);
  });
});

/*
 * The debug adapter as VS Code drives it, over the real protocol: DebugClient starts dist/debug-adapter.js
 * and sends the requests an editor would. Breakpoints, stepping order, variables, evaluate, step back,
 * schedules from the explorer, and each exception breakpoint.
 */
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';

const ROOT = path.join(__dirname, '..', '..');
const ADAPTER = path.join(ROOT, 'dist', 'debug-adapter.js');
const TWO = path.join(ROOT, 'test', 'fixtures', 'two-writers.sqlos');
const PENDING = path.join(ROOT, 'test', 'fixtures', 'pending-writer.sqlos');
const ex = (name: string) => path.join(ROOT, 'examples', name);

let dc: DebugClient;

beforeEach(async () => {
  dc = new DebugClient('node', ADAPTER, 'sqliteos');
  await dc.start();
});
afterEach(async () => {
  await dc.stop();
});
after(() => undefined);

async function launch(program: string, extra: Record<string, unknown> = {}, filters: string[] = []): Promise<void> {
  await Promise.all([
    dc.waitForEvent('initialized').then(async () => {
      await dc.setExceptionBreakpointsRequest({ filters });
      await dc.configurationDoneRequest();
    }),
    dc.launch({ program, ...extra }),
  ]);
}

async function stopped(): Promise<DebugProtocol.StoppedEvent> {
  return (await dc.waitForEvent('stopped')) as DebugProtocol.StoppedEvent;
}

/** An example explored under algorithm 5 as printed: its path and the explorer's result. */
async function explorePrinted(name: string) {
  const { explore } = await import('../../extension/core/explore/explorer');
  const { parseScenario } = await import('../../extension/core/scenario/parser');
  const file = ex(name);
  const parsed = parseScenario(fs.readFileSync(file, 'utf8'), file);
  assert.ok(parsed.ok);
  return { file, res: await explore(parsed.scenario, { locks: 'sqliteos-as-printed' }) };
}

async function top(threadId: number): Promise<DebugProtocol.StackFrame[]> {
  return (await dc.stackTraceRequest({ threadId })).body.stackFrames;
}

async function scope(threadId: number, name: string): Promise<Record<string, string>> {
  const frame = (await top(threadId))[0];
  const scopes = (await dc.scopesRequest({ frameId: frame.id })).body.scopes;
  const s = scopes.find((x) => x.name.startsWith(name))!;
  const vars = (await dc.variablesRequest({ variablesReference: s.variablesReference })).body.variables;
  return Object.fromEntries(vars.map((v) => [v.name, v.value]));
}

describe('sqliteos debug adapter', () => {
  it('stops on entry, and steps over statements of the chosen process in order', async () => {
    const s = stopped();
    await launch(TWO, { stopOnEntry: true });
    assert.equal((await s).body.reason, 'entry');
    assert.equal((await top(1))[0].line, 2);
    for (const line of [3, 4, 7]) {
      const next = stopped();
      await dc.nextRequest({ threadId: 1 });
      await next;
      assert.equal((await top(1))[0].line, line);
    }
    const threads = (await dc.threadsRequest()).body.threads.map((t) => t.name);
    assert.deepEqual(threads, ['P1 (runnable)', 'P2 (runnable)', 'P3 (runnable)']);
  });

  it('verifies line breakpoints, moving them to the next statement, and stops there', async () => {
    await launch(TWO, { stopOnEntry: true });
    const res = await dc.setBreakpointsRequest({ source: { path: TWO }, breakpoints: [{ line: 1 }, { line: 6 }, { line: 40 }] });
    assert.deepEqual(res.body.breakpoints.map((b) => [b.verified, b.line]), [[true, 2], [true, 6], [false, 40]]);
    await dc.setBreakpointsRequest({ source: { path: TWO }, breakpoints: [{ line: 6 }] });
    const s = stopped();
    await dc.continueRequest({ threadId: 1 });
    const e = await s;
    assert.equal(e.body.reason, 'breakpoint');
    assert.equal(e.body.threadId, 3);
    assert.equal((await top(3))[0].line, 6);
  });

  it('keeps another file\'s breakpoints in that file', async () => {
    const other = ex('08-pending-writer.sqlos');
    // VS Code sends every file's breakpoints, before and after launch: only the session's own file counts.
    await dc.setBreakpointsRequest({ source: { path: other }, breakpoints: [{ line: 6 }] });
    await launch(TWO, { stopOnEntry: true });
    const later = await dc.setBreakpointsRequest({ source: { path: other }, breakpoints: [{ line: 6 }] });
    assert.deepEqual(later.body.breakpoints.map((b) => [b.verified, b.message]), [[false, 'this session runs two-writers.sqlos, not 08-pending-writer.sqlos']]);
    const ended = dc.waitForEvent('terminated', 30000);
    await dc.continueRequest({ threadId: 1 });
    await ended;
  });

  it('prints a summary when the run ends: each statement\'s result and the anomalies with their lines', async () => {
    const lines: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => lines.push(e.body.output));
    await launch(ex('09-memdb-busy.sqlos'), { stopOnEntry: false });
    await dc.waitForEvent('terminated', 30000);
    const text = lines.join('');
    assert.match(text, /09-memdb-busy\.sqlos: profile companion, locks memdb/);
    assert.match(text, /^ +\d+ +P\d .* -> /m, 'one line per statement with its result');
    assert.match(text, /^ok: no anomaly$/m);
    // And a run with an anomaly: the anomaly with its file and line, and the count.
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sqlos-dap-')), 'expect.sqlos');
    fs.writeFileSync(file, 'P1 pipe r w\nP1 write w "abc"\nP1 read r 3 == "xyz"\nP1 exit\n');
    lines.length = 0;
    await launch(file, { stopOnEntry: false });
    await dc.waitForEvent('terminated', 30000);
    const failed = lines.join('');
    assert.match(failed, /expect\.sqlos:3: expectation: read expected "xyz" \(3 bytes\), got "abc" \(3 bytes\)/);
    assert.match(failed, /^FAILED: 1 anomaly$/m);
  });

  it('resolves its options as every command does: launch arguments, then overrides, then the file, then settings', async () => {
    const first = () =>
      new Promise<string>((resolve) => {
        const l = (e: DebugProtocol.OutputEvent) => {
          dc.removeListener('output', l);
          resolve(e.body.output);
        };
        dc.on('output', l);
      });
    let out = first();
    await launch(TWO, { stopOnEntry: true, settings: { profile: 'upstream', locks: 'memdb' } });
    assert.match(await out, /upstream profile, memdb locks/, 'no @ lines in the file: the settings decide, not the defaults');
    await dc.stop();
    dc = new DebugClient('node', ADAPTER, 'sqliteos');
    await dc.start();
    out = first();
    await launch(ex('09-memdb-busy.sqlos'), { stopOnEntry: true, overrides: { locks: 'sqliteos' }, settings: { locks: 'memdb', profile: 'upstream' } });
    assert.match(await out, /upstream profile, sqliteos locks/, 'the override beats the file\'s @locks; settings fill the profile');
  });

  it('stops on a function breakpoint by syscall name, and on a conditional breakpoint only when it holds', async () => {
    await launch(ex('08-pending-writer.sqlos'), { stopOnEntry: true });
    const fb = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'sql_pipe_write' }, { name: 'frobnicate' }] });
    assert.deepEqual(fb.body.breakpoints.map((b) => b.verified), [true, false]);
    let s = stopped();
    await dc.continueRequest({ threadId: 1 });
    assert.equal((await s).body.reason, 'function breakpoint');
    assert.equal((await top(1))[0].line, 9);
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    // line 10 (P3's query) runs once P1 waits PENDING: numReaders is 2 then, never 3.
    await dc.setBreakpointsRequest({ source: { path: ex('08-pending-writer.sqlos') }, breakpoints: [{ line: 10, condition: 'numReaders > 2' }, { line: 11, condition: 'currentMaxLock == PENDING && writeQ == 1' }] });
    s = stopped();
    await dc.continueRequest({ threadId: 1 });
    const e = await s;
    assert.equal(e.body.reason, 'breakpoint');
    assert.equal((await top(e.body.threadId!))[0].line, 11);
  });

  it('steps into a syscall: frames show the micro-step in the rendered algorithm', async () => {
    await launch(TWO, { stopOnEntry: true });
    for (let i = 0; i < 2; i++) {
      const s = stopped();
      await dc.stepInRequest({ threadId: 1 });
      await s;
    }
    const frames = await top(1);
    assert.equal(frames.length, 2);
    assert.match(frames[0].name, /^pipe: /);
    assert.equal(frames[1].line, 2);
    const src = await dc.sourceRequest({ sourceReference: frames[0].source!.sourceReference!, source: frames[0].source });
    const line = src.body.content.split('\n')[frames[0].line - 1];
    assert.match(line, /Lock write mutex|BEGIN/);
    assert.match(src.body.content, /^# pipe — companion profile, sqliteos lock policy/);
    const s = stopped();
    await dc.stepOutRequest({ threadId: 1 });
    await s;
    assert.equal((await top(1)).length, 1, 'back between statements');
  });

  it('shows the process, the locks and the wait queues, and evaluates read-only SQL and conditions', async () => {
    await launch(PENDING, {}, ['block']);
    const e = await stopped();
    assert.equal(e.body.reason, 'exception');
    assert.match(e.body.text!, /P1 blocks on write_q/);
    const proc = await scope(1, 'Process');
    assert.equal(proc.state, 'blocked');
    assert.equal(proc.waitingOn, 'write_q');
    const locks = await scope(1, 'Locks');
    assert.equal(locks.currentMaxLock, 'PENDING');
    assert.equal(locks.numReaders, '2');
    const queues = await scope(1, 'Wait queues');
    assert.equal(queues.write_q, 'P1');
    const frame = (await top(1))[0];
    const sql = await dc.evaluateRequest({ expression: 'SELECT count(*) AS n FROM pid_pipe', context: 'repl', frameId: frame.id });
    assert.match(sql.body.result, /^n\n-\n4\n\n1 row\(s\)$/);
    const cond = await dc.evaluateRequest({ expression: 'numReaders == 2 && blocked == 1', context: 'watch', frameId: frame.id });
    assert.equal(cond.body.result, '1');
    await assert.rejects(dc.evaluateRequest({ expression: 'DELETE FROM pid_store', context: 'repl' }), /DELETE would change the kernel: the debug console runs read-only SQL \(SELECT, WITH, PRAGMA, VALUES, EXPLAIN\) or a condition/);
    await assert.rejects(dc.evaluateRequest({ expression: 'numReaders >', context: 'repl' }), /\(read as a condition: the debug console runs read-only SQL or a condition over the kernel's state\)/);
  });

  it('steps back to the state of the previous stop', async () => {
    await launch(TWO, { stopOnEntry: true });
    for (let i = 0; i < 3; i++) {
      const s = stopped();
      await dc.nextRequest({ threadId: 1 });
      await s;
    }
    assert.equal((await scope(1, 'Locks')).numReaders, '0');
    const threadsBefore = (await dc.threadsRequest()).body.threads.length;
    let s = stopped();
    await dc.stepBackRequest({ threadId: 1 });
    await s;
    assert.equal((await top(1))[0].line, 4, 'before the second fork');
    assert.equal((await dc.threadsRequest()).body.threads.length, threadsBefore - 1, 'P3 is not forked yet');
    s = stopped();
    await dc.nextRequest({ threadId: 1 });
    await s;
    assert.equal((await dc.threadsRequest()).body.threads.length, threadsBefore);
  });

  it('reverse-continues to the previous breakpoint', async () => {
    await launch(TWO, { stopOnEntry: true });
    await dc.setBreakpointsRequest({ source: { path: TWO }, breakpoints: [{ line: 5 }, { line: 8 }] });
    let s = stopped();
    await dc.continueRequest({ threadId: 1 });
    assert.equal((await s).body.threadId, 2, 'line 5 is P2\'s write');
    s = stopped();
    await dc.continueRequest({ threadId: 1 });
    assert.equal((await top((await s).body.threadId!))[0].line, 8);
    s = stopped();
    await dc.customRequest('reverseContinue', { threadId: 1 });
    const e = await s;
    assert.equal(e.body.threadId, 2);
    assert.equal((await top(2))[0].line, 5, 'back at the first breakpoint, P2 not yet written');
    assert.equal((await scope(2, 'Wait queues'))['pipe 1'], '0 B buffered, 3 reader(s), 3 writer(s)');
  });

  it("replays the explorer's shortest schedule of the paper's lost wake-up (algorithm 5 as printed) and stops on it", async () => {
    const { file, res } = await explorePrinted('15-paper-lost-wakeup.sqlos');
    assert.equal(res.violation?.kind, 'lost-wakeup');
    await launch(file, { schedule: res.violation!.schedule }, ['lost-wakeup']);
    const e = await stopped();
    assert.equal(e.body.reason, 'exception');
    assert.match(e.body.text!, /lost-wakeup|asleep on pipe 1 read_wq/);
    assert.equal((await scope(2, 'Wait queues'))['pipe 1'], '5 B buffered, 1 reader(s), 1 writer(s)', 'asleep with the bytes there');
  });

  it("replays a reduced search's shortened schedule (four pairs, algorithm 5 as printed) to the same lost wake-up", async () => {
    const { file, res } = await explorePrinted('16-independent-pairs.sqlos');
    assert.ok(res.pruned > 0, 'the reduction left choices out');
    assert.deepEqual([res.violation?.kind, res.violation?.shortest], ['lost-wakeup', false]);
    await launch(file, { schedule: res.violation!.schedule, locks: 'sqliteos-as-printed' }, ['lost-wakeup']);
    const e = await stopped();
    assert.equal(e.body.reason, 'exception');
    assert.match(e.body.text!, new RegExp(`asleep on pipe \\d+ read_wq in 'P9 read r4 2 == "p4"' \\(line ${res.violation!.line}\\)`), e.body.text);
  });

  it('stops on each exception breakpoint: deadlock, lost-wakeup-free runs end, expectation, invariant filters', async () => {
    await launch(ex('05-eof.sqlos'), { profile: 'upstream' }, ['deadlock']);
    let e = await stopped();
    assert.equal(e.body.reason, 'exception');
    assert.match(e.body.text!, /deadlock|asleep on pipe 1 read_wq/);
    await dc.stop();
    dc = new DebugClient('node', ADAPTER, 'sqliteos');
    await dc.start();
    await launch(ex('03-several-readers.sqlos'), { schedule: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3] }, ['expectation']);
    e = await stopped();
    assert.equal(e.body.reason, 'exception');
    assert.match(e.body.text!, /read expected "EFGH" \(4 bytes\), got "ABCD"/);
    // The editor marks the statement whose expectation failed, the line the stop names, not the next one.
    const line = Number(/at line (\d+)/.exec(e.body.description!)![1]);
    const f = (await top(e.body.threadId!))[0];
    assert.equal(f.line, line, `${f.name} marks line ${f.line}, the stop names line ${line}`);
    assert.match(f.name, /^expectation at line \d+: P\d read /);
    await dc.stop();
    dc = new DebugClient('node', ADAPTER, 'sqliteos');
    await dc.start();
    const end = dc.waitForEvent('terminated', 30000);
    await launch(ex('01-fork-pipe.sqlos'), {}, ['deadlock', 'lost-wakeup', 'invariant', 'expectation']);
    await end;
  });

  it('refuses a missing or malformed scenario with the reason and its location', async () => {
    await dc.initializeRequest();
    await assert.rejects(dc.launch({ program: path.join(ROOT, 'test', 'fixtures', 'nope.sqlos') }), /Cannot launch .*nope\.sqlos: ENOENT/);
    const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sqlos-dap-')), 'bad.sqlos');
    fs.writeFileSync(bad, 'P1 pipe r w\nP1 wirte w "x"\n');
    await assert.rejects(dc.launch({ program: bad }), (e: Error) => e.message.includes(`${bad}:2:4: unknown operation 'wirte'`));
  });
});

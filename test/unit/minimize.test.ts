/*
 * minimize (core/explore/minimize.ts): a scenario shrunk while it shows the same violation at the same
 * statement. Each result is parsed and explored (or run) again here, independently of the minimizer's
 * own test of it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { explore } from '../../extension/core/explore/explorer';
import { MinimizeError, MinimizeOptions, minimize } from '../../extension/core/explore/minimize';
import { parseScenario } from '../../extension/core/scenario/parser';
import { ScenarioRun } from '../../extension/core/scenario/runner';
import { ROOT } from './helpers';

function parse(src: string, file = 'x.sqlos') {
  const p = parseScenario(src, file);
  if (!p.ok) throw new Error(p.errors.join('\n'));
  return p.scenario;
}

async function shrink(file: string, opts: MinimizeOptions = {}) {
  const src = fs.readFileSync(path.join(ROOT, file), 'utf8');
  return { src, res: await minimize(parse(src, file), src, opts) };
}

/** The result's violations as explore reports them, searched on past each. */
async function violationsOf(source: string, opts = {}) {
  const res = await explore(parse(source), { ...opts, everyViolation: true });
  return (res.violations ?? []).map((v) => `${v.kind} at line ${v.line}`);
}

const statementsOf = (source: string) => source.split('\n').filter((l) => /^P\d/.test(l));

describe('minimize', () => {
  it("shrinks the paper's lost wake-up inside a 40-statement program to at most 8 statements, the same violation at the same statement", async () => {
    const { src, res } = await shrink('test/fixtures/minimize/alg5-in-40.sqlos', { kind: 'lost-wakeup' });
    const line = src.split('\n').findIndex((l) => l === 'P2 read r 5 == "hello"') + 1;
    assert.equal(res.original.statements, 40);
    assert.deepEqual([res.original.line, res.original.text], [line, 'P2 read r 5 == "hello"']);
    assert.ok(res.statements <= 8, res.source);
    assert.equal(statementsOf(res.source).length, res.statements);
    assert.match(res.source.split('\n')[res.line - 1], /^P2 read r \d+/, 'the kept line is the same statement, cut down');
    assert.ok((await violationsOf(res.source)).includes(`lost-wakeup at line ${res.line}`), res.source);
    assert.match(res.source, /^@locks sqliteos-as-printed$/m, 'the lock policy that shows it comes along');
    assert.ok(res.bytes < res.original.bytes, `${res.bytes} bytes written, from ${res.original.bytes}`);
    assert.ok(res.schedule && res.schedule.length > 0, 'a schedule to replay the result');
  });

  it('keeps the statements a violation depends on and drops what does not matter to it', async () => {
    // P3 and its pipe have nothing to do with P2's read: they go; the fork of P2 and the pipe it reads stay.
    const src = '@locks sqliteos-as-printed\nP1 pipe r w\nP1 fork P3\nP3 pipe a b\nP3 write b "zz"\nP3 read a 2 == "zz"\nP3 exit\nP1 fork P2\nP2 read r 5 == "hello"\nP1 write w "hello"\nP2 exit\nP1 exit\n';
    const res = await minimize(parse(src), src);
    const kept = statementsOf(res.source);
    assert.ok(!kept.some((l) => l.startsWith('P3') || l.includes('fork P3')), res.source);
    assert.ok(kept.includes('P1 pipe r w') && kept.includes('P1 fork P2'), res.source);
    assert.equal(res.kind, 'lost-wakeup');
  });

  it('halves counts as counts and text as text, and cuts an expectation with its read', async () => {
    // The expectation fails whatever the data: only its first byte is needed to show it.
    const src = 'P1 pipe r w\nP1 fork P2\nP1 write w 4096\nP2 read r 4096 == "not this"\nP2 exit\nP1 exit\n';
    const res = await minimize(parse(src), src, { by: 'run' });
    assert.equal(res.kind, 'expectation');
    assert.match(res.source, /^P1 write w \d+$/m, 'a count stays a count');
    assert.match(res.source, /^P2 read r 1 == "n"$/m, res.source);
    const run = await ScenarioRun.create(parse(res.source));
    run.runDefault();
    assert.deepEqual(run.result().anomalies.map((a) => [a.kind, a.line]), [['expectation', res.line]]);
    run.kernel.close();
  });

  it('keeps a write\'s and a close\'s expectation in the text it writes, and a write expected to write N bytes whole', async () => {
    // The close's EBADF is what fails; the short write's `== 2` is not needed.
    const src = '@capacity 8\nP1 pipe r w nonblock\nP1 write w "abcdef"\nP1 write w 5000 == 2\nP1 query "SELECT 1"\nP1 close w == EBADF\nP1 exit\n';
    const res = await minimize(parse(src), src, { by: 'run' });
    assert.equal(res.kind, 'expectation');
    assert.deepEqual(statementsOf(res.source), ['P1 pipe r w nonblock', 'P1 close w == EBADF'], res.source);
    const short = 'P1 pipe r w nonblock\nP1 write w 5000 == 7\nP1 exit\n';
    const kept = await minimize(parse(short), short, { by: 'run' });
    assert.deepEqual(statementsOf(kept.source), ['P1 pipe r w nonblock', 'P1 write w 5000 == 7'], kept.source);
    // A transaction statement's expectation not needed goes too.
    const txn = 'P1 pipe r w\nP1 begin == 0\nP1 read r 1 == "x"\n';
    const cut = await minimize(parse(txn), txn, { by: 'run' });
    assert.deepEqual(statementsOf(cut.source), ['P1 pipe r w', 'P1 begin', 'P1 read r 1 == "x"'], cut.source);
  });

  it('--run keeps an anomaly of the default schedule (the published kernel has no EOF)', async () => {
    const { res } = await shrink('examples/05-eof.sqlos', { by: 'run', profile: 'upstream' });
    assert.equal(res.kind, 'deadlock');
    assert.deepEqual(statementsOf(res.source), ['P1 pipe r w', 'P1 read r 1']);
    assert.match(res.source, /^@profile upstream$/m, 'an option given to minimize is written into the result');
  });

  it('says why there is nothing to keep: no violation, or not of the kind asked for', async () => {
    await assert.rejects(shrink('examples/06-epipe.sqlos'), (e: unknown) => e instanceof MinimizeError && /no violation in any interleaving/.test(e.message));
    await assert.rejects(
      shrink('examples/03-several-readers.sqlos', { kind: 'deadlock' }),
      (e: unknown) => e instanceof MinimizeError && /no deadlock in any interleaving \(it shows expectation at line \d+/.test(e.message),
    );
    await assert.rejects(shrink('examples/15-paper-lost-wakeup.sqlos', { by: 'run' }), /no violation in the default schedule; without --run every interleaving is searched/);
  });

  it('stops when cancelled, with a result that still shows the violation', async () => {
    let tests = 0;
    const { res } = await shrink('test/fixtures/minimize/alg5-in-40.sqlos', { kind: 'lost-wakeup', cancelled: () => tests >= 3, progress: (p) => (tests = p.tests) });
    assert.equal(res.stopped, 'cancelled');
    assert.equal(res.tests, 3);
    assert.ok((await violationsOf(res.source)).includes(`lost-wakeup at line ${res.line}`));
  });
});

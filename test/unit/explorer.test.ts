/*
 * The explorer on real scenarios: it finds what the default schedule hides, reports the shortest
 * schedule, that schedule replays to the same violation, and a correct scenario is exhausted clean.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { explore, replay } from '../../extension/core/explore/explorer';
import { evaluate } from '../../extension/core/explore/condition';
import { parseScenario } from '../../extension/core/scenario/parser';
import { ROOT } from './helpers';

function scenario(src: string) {
  const p = parseScenario(src, 'x.sqlos');
  if (!p.ok) throw new Error(p.errors.join('\n'));
  return p.scenario;
}

function example(name: string) {
  return scenario(fs.readFileSync(path.join(ROOT, 'examples', name), 'utf8'));
}

describe('interleaving explorer', () => {
  it('exhausts a scenario with no violation', async () => {
    const r = await explore(scenario('P1 pipe r w\nP1 fork P2\nP2 write w "x"\nP1 read r 1 == "x"\nP2 exit\nP1 exit\n'));
    assert.equal(r.ok, true);
    assert.equal(r.exhausted, true);
    assert.ok(r.states > 10 && r.complete >= 1, JSON.stringify(r));
  });

  it('finds a reader order the default schedule hides, with a schedule that replays to it', async () => {
    const s = example('03-several-readers.sqlos');
    const r = await explore(s);
    assert.equal(r.violation?.kind, 'expectation');
    const run = await replay(s, r.violation!.schedule);
    assert.equal(run.anomalies[0]?.kind, 'expectation');
    assert.equal(run.anomalies[0].message, r.violation!.message);
    run.kernel.close();
  });

  it('finds the published kernel\'s missing EOF as a deadlock', async () => {
    const r = await explore(example('05-eof.sqlos'), { profile: 'upstream' });
    assert.equal(r.violation?.kind, 'deadlock');
    assert.match(r.violation!.message, /read_wq/);
  });

  it('stops at --max-states and says the search was not exhausted', async () => {
    const r = await explore(example('08-pending-writer.sqlos'), { maxStates: 50 });
    assert.equal(r.states, 50);
    assert.equal(r.exhausted, false);
    assert.equal(r.violation, null);
  });
});

describe('breakpoint conditions', () => {
  const env = { numReaders: 2, currentMaxLock: 3, PENDING: 3, writeQ: 1 };
  it('evaluates comparisons, && || ! and parentheses', () => {
    assert.equal(evaluate('numReaders > 1', env), 1);
    assert.equal(evaluate('currentMaxLock == PENDING && writeQ == 1', env), 1);
    assert.equal(evaluate('!(numReaders >= 2) || writeQ != 1', env), 0);
  });
  it('names what is wrong', () => {
    assert.throws(() => evaluate('numreaders > 1', env), /unknown name 'numreaders' \(known: numReaders, currentMaxLock, PENDING, writeQ\)/);
    assert.throws(() => evaluate('numReaders >', env), /ends too early/);
    assert.throws(() => evaluate('numReaders $ 1', env), /unexpected '\$' at column 12/);
  });
});

describe('exploration report', () => {
  it('says what was searched, the violation, its schedule, and what an order-dependent expectation is', async () => {
    const { exploreReport } = await import('../../extension/core/explore/report');
    const res = { ok: false, profile: 'companion', locks: 'sqliteos', states: 40, transitions: 60, complete: 3, exhausted: false, ms: 20, reduction: false, pruned: 0, slept: 0, violation: { kind: 'expectation' as const, line: 7, message: 'read expected "EFGH"', schedule: [1, 1, 3] } };
    const text = exploreReport('s.sqlos', res, (l) => (l === 7 ? 'P3 read r 4 == "EFGH"' : ''));
    assert.match(text, /^s\.sqlos: every interleaving, profile companion, locks sqliteos$/m);
    assert.match(text, /^EXPECTATION at line 7: P3 read r 4 == "EFGH"$/m);
    assert.match(text, /order-dependent expectation/);
    assert.match(text, /shortest schedule found \(3 micro-steps/);
    assert.match(exploreReport('s.sqlos', { ...res, ok: true, violation: null, exhausted: true }), /No violation in any interleaving\./);
  });

  it('shows a lost wake-up\'s schedule as steps (process, line, statement) and says plainly what went wrong', async () => {
    const { exploreReport } = await import('../../extension/core/explore/report');
    const { explore, scheduleSteps } = await import('../../extension/core/explore/explorer');
    const { parseScenario } = await import('../../extension/core/scenario/parser');
    const fs = await import('fs');
    const path = await import('path');
    const source = fs.readFileSync(path.join(__dirname, '..', '..', 'examples', '15-paper-lost-wakeup.sqlos'), 'utf8');
    const parsed = parseScenario(source, '15.sqlos');
    assert.ok(parsed.ok);
    const res = await explore(parsed.scenario, {});
    const v = res.violation!;
    assert.equal(v.kind, 'lost-wakeup');
    const steps = await scheduleSteps(parsed.scenario, v.schedule, {});
    assert.equal(steps.reduce((n, s) => n + s.microSteps, 0), v.schedule.length, 'every micro-step accounted for');
    assert.ok(steps.length < v.schedule.length, 'gathered by process and statement');
    const lines = source.split('\n');
    const text = exploreReport('15.sqlos', res, (l) => lines[l - 1] ?? '', steps);
    assert.match(text, /the wake-up that should have woken it came before it slept/);
    assert.match(text, /^ {2} 1\. P1 {2}line \d+: P1 pipe r w/m);
    assert.match(text, /^ {2}\s?\d+\. P2 {2}line 9: P2 read r 5 == "hello"/m);
    assert.match(text, /^ {2}as pids: \[/m);
  });

  it('reports each sleeper at a dead end: a lost wake-up is not hidden behind the deadlock it causes', async () => {
    // P2 can lose the wake-up of "hello" (algorithm 5 as printed); P1 then waits for P2's "x" for ever.
    const src = '@locks sqliteos-as-printed\nP1 pipe r w\nP1 pipe l lw\nP1 fork P2\nP2 read r 5 == "hello"\nP2 write lw "x"\nP1 write w "hello"\nP1 read l 1 == "x"\n';
    const r = await explore(scenario(src), { everyViolation: true });
    const found = (r.violations ?? []).map((v) => `${v.kind} at line ${v.line}`);
    assert.ok(found.includes('lost-wakeup at line 5'), found.join(', '));
    assert.ok(found.includes('deadlock at line 8'), found.join(', '));
  });
});

/*
 * The debug runtime in-process (no DAP): the exception breakpoints a scenario cannot reach on a sound
 * simulator. A lock invariant broken under the runtime (as a bug in a profile would break it) stops on
 * the "invariant" filter with the invariant named; a kernel error (the published kernel's oops) stops
 * there too.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { ScenarioRuntime, Stop } from '../../debug-adapter/runtime';

const ROOT = path.join(__dirname, '..', '..');
const example = (name: string) => path.join(ROOT, 'examples', name);

async function launched(file: string, profile?: 'upstream'): Promise<ScenarioRuntime> {
  const rt = new ScenarioRuntime();
  await rt.launch({ program: file, source: fs.readFileSync(file, 'utf8'), profile });
  rt.setExceptionFilters(['invariant']);
  return rt;
}

function nextStop(rt: ScenarioRuntime, go: () => void): Promise<Stop | 'end'> {
  return new Promise((resolve) => {
    rt.once('stopped', resolve);
    rt.once('end', () => resolve('end'));
    go();
  });
}

describe('debug runtime: the invariant exception breakpoint', () => {
  it('stops where a lock invariant breaks, naming it, and not before', async () => {
    const rt = await launched(example('08-pending-writer.sqlos'));
    assert.equal((await nextStop(rt, () => rt.start(true))) !== 'end', true);
    // A profile bug planted under the runtime: the store counts a reader nobody holds.
    rt.run.kernel.state.store.numReaders += 1;
    const s = await nextStop(rt, () => rt.next(1));
    assert.notEqual(s, 'end');
    const stop = s as Stop;
    assert.equal(stop.reason, 'exception');
    assert.equal(stop.exception?.filter, 'invariant');
    assert.match(stop.exception!.text, /num_readers is 1 but 0 connection\(s\) hold SHARED or more/);
    rt.close();
  });

  it('runs a sound scenario to its end without an invariant stop', async () => {
    const rt = await launched(example('08-pending-writer.sqlos'));
    assert.equal(await nextStop(rt, () => rt.start(false)), 'end');
    rt.close();
  });

  it("stops on the published kernel's oops (a kernel error) under the same filter", async () => {
    const rt = await launched(example('14-upstream-backlog.sqlos'), 'upstream');
    const s = (await nextStop(rt, () => rt.start(false))) as Stop;
    assert.equal(s.reason, 'exception');
    assert.equal(s.exception?.filter, 'invariant');
    assert.match(s.exception!.text, /kernel oops in sql_pipe_write: unchecked kmalloc\(5242880\)/);
    rt.close();
  });
});

describe('debug runtime: function breakpoints by kernel name', () => {
  it('stops on 554 by its kernel name whether it commits or rolls back', async () => {
    const rt = await launched(example('18-write-transaction.sqlos'));
    assert.deepEqual(rt.setFunctionBreakpoints(['sql_rollback_transaction']), [true]);
    const s = (await nextStop(rt, () => rt.start(false))) as Stop;
    assert.equal(s.reason, 'function breakpoint');
    assert.equal(s.description, 'Breakpoint on rollback');
    rt.close();
    const c = await launched(example('19-savepoints.sqlos'));
    c.setFunctionBreakpoints(['sql_rollback_transaction']);
    const at = (await nextStop(c, () => c.start(false))) as Stop;
    assert.equal(at.description, 'Breakpoint on commit');
    c.close();
  });
});

/*
 * The kernel halted under the debugger as the views see it (targets/halted.ts): nothing before the first
 * stop, the snapshot read at a stop with where it stopped, kept and marked stale while the kernel runs,
 * changes announced, queries refused with why.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { parseInspectJson } from '../../extension/core/model/inspect-reader';
import { HaltedKernelTarget } from '../../extension/targets/halted';
import type { Change } from '../../extension/targets/target';
import { ROOT } from './helpers';

const demo = () => parseInspectJson(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'kernel', 'companion-demo.json'), 'utf8'), 'gdb');

describe('a kernel halted under the debugger, as a target', () => {
  it('shows each stop\'s snapshot, keeps it marked stale while the kernel runs, and refuses queries', async () => {
    const t = new HaltedKernelTarget('the companion kernel');
    const changes: Change[] = [];
    t.onDidChange((c) => changes.push(c));
    await assert.rejects(t.processes(), /the kernel has not stopped yet/);
    const s = demo();
    s.warnings = ['sqlos_db_lock is held by 36: the kernel was halted inside SQLiteOS, lock state and tables may be mid-change'];
    t.stopped(s, 'halted at vfs.c:240, mem_lock');
    assert.equal(t.info().state, 'halted at vfs.c:240, mem_lock');
    assert.equal(t.info().stale, undefined);
    assert.deepEqual(t.info().warnings, s.warnings);
    assert.deepEqual(await t.processes(), s.processes);
    assert.deepEqual((await t.locks()).writeMutex, s.locks!.writeMutex);
    assert.equal((await t.tablePage('pid_store', 0, 2)).columns[0], '#');
    assert.ok(changes.at(-1)?.target && changes.at(-1)?.locks, 'the first stop announces everything');
    t.resumed();
    assert.equal(t.info().state, 'running under the debugger');
    assert.match(t.info().stale?.reason ?? '', /running: the views show it as it was halted at vfs\.c:240, mem_lock/);
    assert.deepEqual(await t.processes(), s.processes, 'the last snapshot stays on show');
    t.stopped(undefined, 'halted at pipe.c:10, sqlos_flush', 'the list pipes (0x1) loops back');
    assert.match(t.info().warnings?.[0] ?? '', /SQLiteOS could not be read from memory: the list pipes/);
    await assert.rejects(t.query(), /a query runs through syscall 549, in a kernel that runs/);
  });
});

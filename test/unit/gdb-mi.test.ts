/*
 * GDB/MI output as gdb 13 writes it (records copied from a session on the guest's kernel), parsed; a
 * line that is not MI is an error naming the column; our files and the built tree's copies map both ways.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import { MiParseError, miQuote, parseMiLine } from '../../extension/core/gdb/mi';
import { toOurs, toTree } from '../../debug-adapter/kernel-session';
import { ROOT } from './helpers';

describe('GDB/MI records', () => {
  it('reads result, async and stream records, tuples, lists of values and lists of results', () => {
    assert.deepEqual(parseMiLine('12^done,stack=[frame={level="0",addr="0xffffffff8123",func="mem_lock",file="../trees/x/sqliteos/vfs.c",line="240"},frame={level="1",func="sqlite3PagerBegin"}]'), {
      kind: 'result',
      token: 12,
      class: 'done',
      results: { stack: [{ level: '0', addr: '0xffffffff8123', func: 'mem_lock', file: '../trees/x/sqliteos/vfs.c', line: '240' }, { level: '1', func: 'sqlite3PagerBegin' }] },
    });
    assert.deepEqual(parseMiLine('*stopped,reason="breakpoint-hit",bkptno="1",frame={func="mem_lock",args=[{name="level",value="4"}]},thread-id="1",stopped-threads="all"'), {
      kind: 'exec',
      token: undefined,
      class: 'stopped',
      results: { reason: 'breakpoint-hit', bkptno: '1', frame: { func: 'mem_lock', args: [{ name: 'level', value: '4' }] }, 'thread-id': '1', 'stopped-threads': 'all' },
    });
    assert.deepEqual(parseMiLine('=thread-group-added,id="i1"'), { kind: 'notify', token: undefined, class: 'thread-group-added', results: { id: 'i1' } });
    assert.deepEqual(parseMiLine('3^error,msg="No symbol \\"foo\\" in current context."'), { kind: 'result', token: 3, class: 'error', results: { msg: 'No symbol "foo" in current context.' } });
    assert.deepEqual(parseMiLine('~"Remote debugging using /x/gdb.sock\\n"'), { kind: 'console', text: 'Remote debugging using /x/gdb.sock\n' });
    assert.deepEqual(parseMiLine('&"\\303\\251t\\t\\\\"'), { kind: 'log', text: '\xc3\xa9t\t\\' });
    assert.deepEqual(parseMiLine('(gdb) '), { kind: 'prompt' });
    assert.deepEqual(parseMiLine('5^done,a=[],b={}'), { kind: 'result', token: 5, class: 'done', results: { a: [], b: {} } });
  });

  it('names where a line stops being MI', () => {
    assert.throws(() => parseMiLine('12^done,stack=[frame={level="0"'), (e: Error) => e instanceof MiParseError && /expected more at column 32/.test(e.message));
    assert.throws(() => parseMiLine('Reading symbols from vmlinux...'), MiParseError);
    assert.equal(miQuote('a "b"\\c\n'), '"a \\"b\\"\\\\c\\n"');
  });
});

describe('our sources and the built tree\'s copies', () => {
  const ours = path.join(ROOT, 'kernel-scripts', 'sqliteos');
  it('shows a frame in the tree\'s sqliteos/vfs.c as ours, and leaves the kernel\'s own files alone', () => {
    assert.equal(toOurs('/root/.cache/sqliteos-companion/trees/debian-6.1/linux-source-6.1/sqliteos/vfs.c', ours), path.join(ours, 'vfs.c'));
    assert.equal(toOurs('../trees/x/sqliteos/vfs.c', ours), path.join(ours, 'vfs.c'));
    assert.equal(toOurs('/t/fs/pipe.c', ours), '/t/fs/pipe.c');
    assert.equal(toOurs('/t/sqliteos/sqlite3.c', ours), '/t/sqliteos/sqlite3.c', 'made by apply.sh, not one of ours');
  });
  it('sets a breakpoint on our pipe.c in the tree\'s sqliteos/pipe.c, not fs/pipe.c', () => {
    assert.equal(toTree(path.join(ours, 'pipe.c'), ours), 'sqliteos/pipe.c');
    assert.equal(toTree('/elsewhere/clone/kernel-scripts/sqliteos/vfs.c', ours), 'sqliteos/vfs.c');
    assert.equal(toTree('/t/fs/pipe.c', ours), '/t/fs/pipe.c');
  });
});

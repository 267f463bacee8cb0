/*
 * GDB/MI output as gdb 13 writes it (records copied from a session on the guest's kernel), parsed; a
 * line that is not MI is an error naming the column; our files and the built tree's copies map both ways.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import { MiParseError, miQuote, parseMiLine } from '../../extension/core/gdb/mi';
import { toOurs, toTree } from '../../debug-adapter/kernel-session';
import { disassemble } from '../../debug-adapter/kernel-disassembly';
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

describe('disassembly around a frame', () => {
  // Two functions as gdb's -data-disassemble mode 5 gives them (f with lines, g without), then padding
  // where no function is. The answers are gdb 13's record shapes; the addresses are made up.
  const f = '^done,asm_insns=[src_and_asm_line={line="12",file="sqliteos/vfs.c",fullname="/t/sqliteos/vfs.c",line_asm_insn=[{address="0x1004",func-name="f",offset="4",opcodes="48 89 e5 90",inst="mov %rsp,%rbp"}]},src_and_asm_line={line="11",file="sqliteos/vfs.c",fullname="/t/sqliteos/vfs.c",line_asm_insn=[{address="0x1000",func-name="f",offset="0",opcodes="f3 0f 1e fa",inst="endbr64"},{address="0x1008",func-name="f",offset="8",opcodes="c3 90 90 90",inst="ret"}]}]';
  const g = '^done,asm_insns=[{address="0x100c",func-name="g",offset="0",opcodes="31 c0",inst="xor %eax,%eax"},{address="0x100e",func-name="g",offset="2",opcodes="0f 1f 00",inst="nopl (%rax)"}]';
  const asked: string[] = [];
  const gdb = async (cmd: string) => {
    asked.push(cmd);
    const at = BigInt(/-a (0x[0-9a-f]+)/.exec(cmd)![1]);
    const r = parseMiLine(at >= 0x1000n && at < 0x100cn ? f : at >= 0x100cn && at < 0x1011n ? g : '^error,msg="No function contains specified address."');
    if (r.kind !== 'result' || r.class !== 'done') throw new Error('No function contains specified address.');
    return r.results;
  };
  const source = (file: string) => ({ name: path.basename(file), path: file });

  it('gives exactly the count asked, on instruction boundaries across functions, in address order, with our lines', async () => {
    const around = await disassemble(gdb, 0x1008n, -3, 6, source);
    assert.deepEqual(
      around.map((i) => [i.address, i.instruction, i.symbol, i.presentationHint, i.line]),
      [
        ['0xfff', '(no function here)', undefined, 'invalid', undefined],
        ['0x1000', 'endbr64', 'f+0', undefined, 11],
        ['0x1004', 'mov %rsp,%rbp', 'f+4', undefined, 12],
        ['0x1008', 'ret', 'f+8', undefined, 11],
        ['0x100c', 'xor %eax,%eax', 'g+0', undefined, undefined],
        ['0x100e', 'nopl (%rax)', 'g+2', undefined, undefined],
      ],
    );
    assert.equal(around[1].location?.path, '/t/sqliteos/vfs.c');
    assert.equal(around[1].instructionBytes, 'f3 0f 1e fa');
  });

  it('marks what lies past the last function invalid, each placeholder at an address of its own', async () => {
    const after = await disassemble(gdb, 0x100cn, 1, 4, source);
    assert.deepEqual(after.map((i) => [i.address, i.presentationHint ?? 'ok']), [['0x100e', 'ok'], ['0x1011', 'invalid'], ['0x1012', 'invalid'], ['0x1013', 'invalid']]);
    asked.length = 0;
    const nowhere = await disassemble(gdb, 0x2000n, -1, 3, source);
    assert.deepEqual(nowhere.map((i) => [i.address, i.presentationHint]), [['0x1fff', 'invalid'], ['0x2000', 'invalid'], ['0x2001', 'invalid']]);
    assert.equal(asked.length, 1, 'no function there: one question, not a walk');
  });
});

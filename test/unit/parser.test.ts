/* The scenario language: what parses, and that every malformed line gets FILE:LINE:COL and a reason. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario } from '../../extension/core/scenario/parser';
import { firstComment } from '../../extension/core/scenario/summary';

function errors(src: string): string[] {
  const r = parseScenario(src, 'f.sqlos');
  assert.equal(r.ok, false, 'expected parse errors');
  return r.ok ? [] : r.errors.map(String);
}

describe('scenario parser', () => {
  it('parses every statement form and directive', () => {
    const r = parseScenario(
      [
        '@profile upstream',
        '@locks memdb',
        '# a comment',
        '',
        'P1 pipe r w   # trailing comment',
        'P1 fork P2',
        'P1 thread P3',
        'P2 write w "hi\\n\\x00"',
        'P2 write w x"00ff10"',
        'P2 write w 30',
        'P1 read r 5 == "hello"',
        'P1 read r 3 == x"00ff10"',
        'P1 query "SELECT \'#\' FROM pid_store"',
        'P3 begin',
        'P3 commit',
        'P2 close w',
        'P2 exit',
      ].join('\n'),
      'f.sqlos',
    );
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    const s = r.scenario;
    assert.equal(s.profile, 'upstream');
    assert.equal(s.locks, 'memdb');
    assert.deepEqual(s.pids, [1, 2, 3]);
    assert.equal(s.statements.length, 13);
    const w = s.statements[3];
    assert.equal(w.op, 'write');
    if (w.op === 'write') assert.deepEqual([...w.data.bytes], [104, 105, 10, 0]);
    const count = s.statements[5];
    if (count.op === 'write') assert.equal(Buffer.from(count.data.bytes).toString(), 'abcdefghijklmnopqrstuvwxyzabcd');
    const q = s.statements[8];
    assert.equal(q.op, 'query');
    if (q.op === 'query') assert.equal(q.sql, "SELECT '#' FROM pid_store");
    assert.equal(s.statements[0].text, 'P1 pipe r w');
    assert.equal(s.statements[0].line, 5);
  });

  it('reports each malformed line with its line and column, and all of them at once', () => {
    const errs = errors(['P1 pipe r w', 'P1 frobnicate', 'P1 read r', 'P1 write w "unterminated', 'P1 read r 5 == ', 'Q1 exit', 'P1 write w x"0g"'].join('\n'));
    assert.deepEqual(errs, [
      "f.sqlos:2:4: unknown operation 'frobnicate' (pipe, fork, thread, write, read, close, exit, query, begin, commit, rollback, savepoint, release, rollback to)",
      'f.sqlos:3:10: expected a byte count',
      'f.sqlos:4:12: unterminated string: expected a closing "',
      'f.sqlos:5:15: expected the bytes it reads ("text", x"00ff" or a count) or an errno (EAGAIN, ...)',
      "f.sqlos:6:1: expected a process (P1, P2, ...), got 'Q1'",
      "f.sqlos:7:15: not a hex digit: 'g'",
    ]);
  });

  it('reports references to unknown processes and fd labels', () => {
    assert.deepEqual(errors('P1 pipe r w\nP2 read r 1\nP1 close x'), [
      'f.sqlos:2:1: unknown process P2: no fork or thread creates it',
      "f.sqlos:3:10: unknown fd label 'x': no earlier pipe names it",
    ]);
    assert.deepEqual(errors('P2 exit\nP1 fork P2'), ['f.sqlos:1:1: P2 does not exist yet: it is created at line 2']);
    assert.deepEqual(errors('P1 read r 1\nP1 pipe r w'), ["f.sqlos:1:9: unknown fd label 'r': no earlier pipe names it"]);
  });

  it('rejects double creation, use after exit, reused labels and misplaced ==', () => {
    assert.deepEqual(errors('P1 fork P2\nP1 thread P2\nP1 fork P1'), [
      'f.sqlos:2:1: P2 already exists (created at line 1)',
      'f.sqlos:3:1: P1 already exists',
    ]);
    assert.deepEqual(errors('P1 exit\nP1 begin'), ['f.sqlos:2:1: P1 has exited at line 1']);
    assert.deepEqual(errors('P1 pipe r w\nP1 pipe r x\nP1 pipe a a'), [
      "f.sqlos:2:9: fd label 'r' is already named by the pipe at line 1",
      'f.sqlos:3:11: the two ends need different labels',
    ]);
    assert.deepEqual(errors('P1 pipe r w\nP1 write w "x" == "x"\nP1 exit == 0'), [
      'f.sqlos:2:19: expected the bytes it writes (a number) or an errno (EAGAIN, ...), got string',
      "f.sqlos:3:9: '==' does not follow exit: it follows read, write, close and the transaction's statements",
    ]);
  });

  it('parses O_NONBLOCK pipes, write transactions and rollback, and expected results: an errno by name, a write\'s count, a close\'s 0', () => {
    const r = parseScenario('P1 pipe r w nonblock\nP1 read r 4 == EAGAIN\nP1 write w 5000 == 2\nP1 write w "x" == EPIPE\nP1 close w == 0\nP1 close w == EBADF\n', 'f.sqlos');
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    const [pipe, read, write, epipe, close, ebadf] = r.scenario.statements;
    assert.equal(pipe.op === 'pipe' && pipe.nonblock, true);
    assert.deepEqual(read.op === 'read' && read.expect, { kind: 'errno', name: 'EAGAIN', code: -11, source: 'EAGAIN', line: 2, col: 16 });
    assert.deepEqual(write.op === 'write' && write.expect, { kind: 'result', n: 2, source: '2', line: 3, col: 20 });
    assert.equal(epipe.op === 'write' && epipe.expect?.kind === 'errno' && epipe.expect.code, -32);
    assert.deepEqual(close.op === 'close' && close.expect, { kind: 'result', n: 0, source: '0', line: 5, col: 15 });
    assert.equal(ebadf.op === 'close' && ebadf.expect?.kind === 'errno' && ebadf.expect.code, -9);
    assert.deepEqual(errors('P1 pipe r w fast\nP1 read r 1 == EWHAT\nP1 close r == 3'), [
      "f.sqlos:1:13: unknown pipe flag 'fast' (nonblock)",
      "f.sqlos:2:16: unknown errno 'EWHAT' (EPERM, EINTR, EBADF, EAGAIN, ENOMEM, EFAULT, EINVAL, EMFILE, EFBIG, EPIPE, EDEADLK, ENOSYS, ETIMEDOUT)",
      'f.sqlos:3:15: expected 0 or an errno (EBADF, ...), got number 3',
    ]);
    const t = parseScenario('P1 begin write\nP1 rollback\nP1 begin read\nP1 commit\n', 'f.sqlos');
    assert.ok(t.ok);
    assert.deepEqual(t.scenario.statements.map((x) => [x.op, x.op === 'begin' && x.write === true]), [['begin', true], ['rollback', false], ['begin', false], ['commit', false]]);
    assert.deepEqual(errors('P1 begin now'), ["f.sqlos:1:10: unknown transaction kind 'now' (read, write)"]);
    // The published kernel has no 558: said where the flag is, not at run time.
    assert.deepEqual(errors('@profile upstream\nP1 pipe r w  nonblock'), ['f.sqlos:2:14: nonblock: the published kernel has no sql_pipe2 (558), so no O_NONBLOCK pipe (the companion profile has one)']);
  });

  it('checks directives', () => {
    assert.deepEqual(errors('@profile fancy\n@locks none\n@capacity 0\n@frob 1'), [
      "f.sqlos:1:10: unknown profile 'fancy' (upstream | companion)",
      "f.sqlos:2:8: unknown lock policy 'none' (sqliteos | memdb | sqliteos-as-printed)",
      'f.sqlos:3:11: expected a capacity in bytes (a positive number)',
      "f.sqlos:4:1: unknown directive '@frob' (@profile, @locks, @capacity)",
    ]);
    assert.deepEqual(errors('@profile upstream\n@capacity 10\n@profile companion'), [
      'f.sqlos:2:1: @capacity applies to the companion profile only: the published kernel has no bound',
      'f.sqlos:3:1: @profile is already set at line 1',
    ]);
  });

  it('rejects unknown escapes, stray characters and trailing tokens', () => {
    assert.deepEqual(errors('P1 pipe r w\nP1 write w "a\\q"\nP1 exit now\nP1 ; exit'), [
      "f.sqlos:2:14: unknown escape '\\q' (use \\n \\t \\r \\0 \\\\ \\\" or \\xHH)",
      "f.sqlos:3:9: unexpected 'now' after the end of the statement",
      "f.sqlos:4:4: unexpected character ';'",
    ]);
    // A hyphen joins words (sqliteos-as-printed), never a word and a number.
    assert.deepEqual(errors('P1 pipe r w\nP1 read r -1'), ["f.sqlos:2:11: unexpected character '-'"]);
  });
});

describe('example picker', () => {
  it('shows each example\'s first comment line', async () => {
    assert.equal(firstComment('# Two readers, one write.\n# more\nP1 pipe r w\n'), 'Two readers, one write.');
    assert.equal(firstComment('P1 pipe r w\n'), '');
  });
});

/*
 * The recorder's text made a scenario (core/record): processes named in fork order, pipe ends labelled,
 * reads with the bytes they got, a count where the bytes are the language's pattern; refusals named by
 * record; bad text by line. The kernel side is test/guest/record.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RecordingError, fnv1a64, parseRecording } from '../../extension/core/record/recording';
import { recordingProblems, recordingToScenario } from '../../extension/core/record/to-scenario';
import { parseScenario } from '../../extension/core/scenario/parser';
import { simulate } from '../../extension/machines/differential';

const PROG = { command: ['./demo', '-x'], host: 'root@127.0.0.1:2222', release: '6.1.192', date: '2026-12-07' };
const hex = (s: string) => Buffer.from(s).toString('hex');
const pattern = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => 97 + (i % 26))).toString('hex');

/** Records as the kernel prints them, from 'SEQ START PID OP A0 A1 = RESULT BYTES HEX': the digest added (of HEX's bytes, or as given after BYTES). */
function text(records: string[], head = 'following 0\nlost 0'): string {
  const withDigest = records.map((r) => {
    const m = /^(.* = -?\d+ \d+) (#\S+ )?([0-9a-f]*)$/.exec(r);
    if (!m) return r;
    return `${m[1]} ${m[2] ? m[2].trim().slice(1) : fnv1a64(Buffer.from(m[3], 'hex'))}${m[3] ? ` ${m[3]}` : ' '}`;
  });
  return `sqliteos-record 1\n${head}\nrecords ${records.length}\n${withDigest.join('\n')}\n`;
}

describe('a recording as a scenario', () => {
  it('names processes in fork order and pipe ends by pipe, orders calls as the tables saw them (a read that began first but got its bytes after the write comes after it), keeps read bytes, writes a pattern as a count, and replays', async () => {
    const rec = parseRecording(
      text([
        '1 1 40 pipe 1 0 = 0 0 ',
        '2 2 40 pipe 2 524288 = 0 0 ',
        '3 3 40 fork 41 0 = 0 0 ',
        '5 5 41 fork 42 1 = 0 0 ',
        `6 6 42 write 1 3 = 3 3 ${hex('abc')}`,
        `7 4 40 read 1 8 = 3 3 ${hex('abc')}`,
        `8 8 41 write 2 26 = 26 26 ${pattern(26)}`,
        `9 9 40 read 2 100 = 26 26 ${pattern(26)}`,
        '10 10 42 exit 0 0 = 0 0 ',
        '11 11 41 close 1 1 = 0 0 ',
        '12 12 41 exit 0 0 = 0 0 ',
        // With its C string's NUL, as sqliteos-run and the published ABI pass it: not part of the SQL.
        `13 13 40 query 0 0 = 0 14 ${hex('SELECT "x", 1\0')}`,
        `14 14 40 query 0 0 = 0 8 ${hex('SELECT 2')}`,
        '15 15 40 exit 0 0 = 0 0 ',
      ]),
    );
    const s = recordingToScenario(rec, PROG);
    assert.deepEqual(s.refusals, []);
    const body = s.source.split('\n').filter((l) => l && !l.startsWith('#'));
    assert.deepEqual(body, [
      'P1 pipe r1 w1',
      'P1 pipe r2 w2',
      'P1 fork P2',
      'P2 thread P3',
      'P3 write w1 "abc"',
      'P1 read r1 8 == "abc"',
      'P2 write w2 26',
      'P1 read r2 100 == 26',
      'P3 exit',
      'P2 close w1',
      'P2 exit',
      'P1 query "SELECT \\"x\\", 1"',
      'P1 query "SELECT 2"',
      'P1 exit',
    ]);
    assert.match(s.source, /^# Recorded by `sqliteos record` on root@127\.0\.0\.1:2222 \(kernel 6\.1\.192\), 2026-12-07:\n# {3}\.\/demo -x\n# 3 processes, 14 calls/);
    assert.match(s.source, /# Note: a pipe was made with O_CLOEXEC/);
    const parsed = parseScenario(s.source, 'rec.sqlos');
    assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.errors));
    const run = await simulate(parsed.scenario);
    assert.equal(run.ok, true, JSON.stringify(run.anomalies));
  });

  it('refuses, by record, what the language cannot say; never drops it; O_NONBLOCK, EAGAIN, 553(8) and rollback it says', () => {
    const rec = parseRecording(
      text([
        '1 1 40 pipe 1 2048 = 0 0 ',
        '2 2 40 pipe 2 0 = 0 0 ',
        `3 3 40 write 2 10 = 10 4 ${hex('abcd')}`,
        '4 4 40 read 2 1 = -11 0 ',
        '5 5 40 begin 8 0 = 0 0 ',
        '6 6 40 commit 0 0 = 0 0 ',
        `7 7 40 savepoint 0 0 = 0 3 ${hex('a b')}`,
        '8 8 40 close 9 0 = 0 0 ',
        '9 9 40 read 1 1 = -11 0 ',
        '10 10 40 write 1 1 = -11 1 61',
        '11 11 40 begin 4 0 = 0 0 ',
        `12 12 40 savepoint 0 0 = 0 2 ${hex('sp')}`,
        `13 13 40 rollback_to 0 0 = 0 2 ${hex('sp')}`,
        `14 14 40 release 0 0 = -22 2 ${hex('no')}`,
        '15 15 40 commit 1 0 = 0 0 ',
      ]),
    );
    const s = recordingToScenario(rec, PROG);
    const why = s.refusals.map((r) => `${r.record.line} ${r.why}`);
    assert.deepEqual(why, [
      '7 a write of 10 bytes, 4 kept (raise sqliteos.record_bytes)',
      '8 a read that returned EAGAIN on a pipe made without O_NONBLOCK (a signal, or F_SETFL, which is not recorded): not in the scenario language yet',
      '11 a savepoint name the language cannot write (letters, digits and _, at most 64): "a b"',
      '12 pipe 9 was made before the recording began (its ends have no label)',
    ]);
    // A pipe made with O_NONBLOCK is one, and its EAGAIN is expected by name.
    assert.deepEqual(s.source.split('\n').filter((l) => /r1|w1/.test(l) && !l.startsWith('#')), ['P1 pipe r1 w1 nonblock', 'P1 read r1 1 == EAGAIN', 'P1 write w1 "a" == EAGAIN']);
    // 553(8) and 554(0): a write transaction and its rollback; savepoints, an unknown one's EINVAL kept as it fails again.
    assert.deepEqual(s.source.split('\n').filter((l) => /begin|commit|rollback|savepoint|release/.test(l) && !l.startsWith('#')), [
      'P1 begin write',
      'P1 rollback',
      'P1 begin',
      'P1 savepoint sp',
      'P1 rollback to sp',
      'P1 release no == EINVAL',
      'P1 commit',
    ]);
  });

  it('keeps bytes past the bound by their digest: a pattern as its count; other read bytes without an expectation, noted', () => {
    const big = Buffer.from(pattern(100000), 'hex');
    const rec = parseRecording(
      text([
        '1 1 40 pipe 1 0 = 0 0 ',
        `2 2 40 write 1 100000 = 100000 100000 #${fnv1a64(big)} ${pattern(64)}`,
        `3 3 40 read 1 100000 = 70000 70000 #${fnv1a64(big.subarray(0, 70000))} ${pattern(64)}`,
        `4 4 40 read 1 100000 = 30000 30000 #${fnv1a64(big.subarray(70000))} ${big.subarray(70000, 70064).toString('hex')}`,
        `5 5 40 write 1 8 = 3 8 ${hex('xyzxyzxy')}`,
      ]),
    );
    const s = recordingToScenario(rec, PROG);
    assert.deepEqual(s.refusals, []);
    assert.deepEqual(s.source.split('\n').filter((l) => l && !l.startsWith('#')), [
      'P1 pipe r w',
      'P1 write w 100000',
      'P1 read r 100000 == 70000',
      'P1 read r 100000',
      'P1 write w "xyzxyzxy"  # the kernel wrote 3 of them',
    ]);
    assert.match(s.source, new RegExp(`# Note: statement 4: a read of 30000 bytes, 64 kept \\(sqliteos\\.record_bytes\\): it has no expectation \\(their digest: ${fnv1a64(big.subarray(70000))}\\)`));
  });

  it('labels a pipe whose dataId the kernel gave again (the first pipe closed and gone) as the new pipe', () => {
    const rec = parseRecording(
      text([
        '1 1 40 pipe 1 0 = 0 0 ',
        `2 2 40 write 1 2 = 2 2 ${hex('hi')}`,
        `3 3 40 read 1 2 = 2 2 ${hex('hi')}`,
        '4 4 40 close 1 0 = 0 0 ',
        '5 5 40 close 1 1 = 0 0 ',
        '6 6 40 pipe 1 0 = 0 0 ',
        `7 7 40 write 1 3 = 3 3 ${hex('two')}`,
        '8 8 40 exit 0 0 = 0 0 ',
      ]),
    );
    const s = recordingToScenario(rec, PROG);
    assert.deepEqual(s.refusals, []);
    assert.deepEqual(s.source.split('\n').filter((l) => l && !l.startsWith('#')), ['P1 pipe r1 w1', 'P1 write w1 "hi"', 'P1 read r1 2 == "hi"', 'P1 close r1', 'P1 close w1', 'P1 pipe r2 w2', 'P1 write w2 "two"', 'P1 exit']);
    assert.ok(parseScenario(s.source, 'reuse.sqlos').ok);
  });

  it('leaves out a call a signal cut and the kernel made again (with a note); refuses a program that never ran', () => {
    const rec = parseRecording(
      text([
        '1 1 40 pipe 1 0 = 0 0 ',
        '2 2 40 fork 41 0 = 0 0 ',
        '3 3 40 read 1 4 = -512 0 ',
        `4 4 41 write 1 2 = 2 2 ${hex('ok')}`,
        `5 5 40 read 1 4 = 2 2 ${hex('ok')}`,
      ]),
    );
    const s = recordingToScenario(rec, PROG);
    assert.deepEqual(s.refusals, []);
    assert.ok(!s.source.includes('-512') && s.source.split('\n').filter((l) => /^P1 read /.test(l)).length === 1, s.source);
    assert.match(s.source, /# Note: record 3: P1 read was cut by a signal and made again/);
    const never = parseRecording(text(['1 1 40 exit 0 0 = 0 0 ']));
    assert.deepEqual(recordingProblems(never, recordingToScenario(never, PROG), 127), ['the program did not run (exit 127: not found, not executable, or no loader for it there)']);
    assert.deepEqual(recordingProblems(never, recordingToScenario(never, PROG), 0), []);
  });

  it('says where a recording cannot be read', () => {
    assert.throws(() => parseRecording('hello\n', 'g:/rec'), (e: Error) => e instanceof RecordingError && /^g:\/rec:1: not a recording/.test(e.message));
    assert.throws(() => parseRecording(text(['1 1 40 pipe x 0 = 0 0 ']), 'g:/rec'), (e: Error) => e.message.startsWith("g:/rec:5: cannot read this record: '1 1 40 pipe x"));
    assert.throws(() => parseRecording(text(['1 1 40 fly 1 0 = 0 0 ']), 'g:/rec'), /g:\/rec:5: cannot read/);
    assert.throws(() => parseRecording('sqliteos-record 1\nfollowing 0\nlost 0\nrecords 2\n1 1 40 exit 0 0 = 0 0 cbf29ce484222325 \n'), /the header says 2 records, 1 follow/);
  });
});

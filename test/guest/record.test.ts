/*
 * `sqliteos record` on the companion kernel in the QEMU guest: real programs (test/fixtures/record/*.c,
 * static) run under the kernel's recorder; each recording, as a scenario, runs on the simulator with every
 * expectation met and `sqliteos diff FILE --on guest` finds no difference. Calls the language cannot say
 * are refused by name, and a recorder that lost records makes `record` exit 2.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseScenario } from '../../extension/core/scenario/parser';
import type { Scenario, Statement } from '../../extension/core/scenario/ast';
import { compilePlan } from '../../extension/core/scenario/plan';
import { optionsFor } from '../../extension/core/scenario/runner';
import { recordingToScenario } from '../../extension/core/record/to-scenario';
import { kernelCannotRun } from '../../extension/machines/differential';
import { KernelHost } from '../../extension/machines/kernel-host';
import { recordOnKernel } from '../../extension/machines/record-kernel';
import { Cancelled } from '../../extension/machines/session-run';
import { bundledHelper } from '../../extension/machines/sources';
import { simulate as simulateScenario } from '../../extension/machines/differential';
import { NO_PROMPTS } from '../../extension/machines/ssh/auth';
import { type Connection, connect } from '../../extension/machines/ssh/connection';
import { ROOT, guest, guestDest, startGuestConnected } from './util';

const CLI = path.join(ROOT, 'bin', 'sqliteos.js');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-record-'));
const cli = (...args: string[]) => spawnSync('node', [CLI, ...args], { encoding: 'utf8', timeout: 180000 });

function program(name: string, source = path.join(ROOT, 'test', 'fixtures', 'record', `${name}.c`)): string {
  const out = path.join(work, name);
  const cc = spawnSync('gcc', ['-static', '-O2', '-Wall', '-o', out, source], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
  return out;
}

/** Records the program, checks the scenario by itself and against the kernel; its text. */
async function recordAndReplay(name: string, exe: string, args: string[] = []): Promise<string> {
  const file = path.join(work, `${name}.sqlos`);
  const r = cli('record', '--on', 'guest', '--out', file, '--', exe, ...args);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, new RegExp(`${path.basename(exe)} exited with 0`));
  const text = fs.readFileSync(file, 'utf8');
  const parsed = parseScenario(text, file);
  assert.ok(parsed.ok, `${text}\n${JSON.stringify(!parsed.ok && parsed.errors)}`);
  const sim = await simulateScenario(parsed.scenario);
  assert.equal(sim.ok, true, `${text}\n${JSON.stringify(sim.anomalies)}`);
  const d = cli('diff', file, '--on', 'guest');
  assert.equal(d.status, 0, `${text}\n${d.stdout}\n${d.stderr}`);
  return text;
}

/**
 * Each process's statements (P1 first, then in order of creation) in a form that leaves labels and lines
 * aside: a pipe end by the pipe's place and the end, a write by its bytes, a fork by the child's place.
 * Expectations aside too: a recording writes what the kernel returned, an example what it expects.
 */
function shape(s: Scenario, pids: number[]): string[][] {
  const ends = new Map<string, string>();
  let pipes = 0;
  for (const st of s.statements) {
    if (st.op !== 'pipe') continue;
    pipes++;
    ends.set(st.read.name, `pipe${pipes}.r`);
    ends.set(st.write.name, `pipe${pipes}.w`);
  }
  const place = (pid: number) => `P#${pids.indexOf(pid) + 1}`;
  const one = (st: Statement): string | undefined => {
    switch (st.op) {
      case 'pipe': return st.nonblock ? 'pipe nonblock' : 'pipe';
      case 'begin': return st.write ? 'begin write' : 'begin';
      case 'savepoint': case 'release': case 'rollback_to': return `${st.op} ${st.name.name}`;
      case 'fork': case 'thread': return `${st.op} ${place(st.child)}`;
      case 'write': return `write ${ends.get(st.fd.name)} ${Buffer.from(st.data.bytes).toString('hex')}`;
      case 'read': return `read ${ends.get(st.fd.name)} ${st.n}`;
      // a close of an fd not open reaches no file, so nothing records it
      case 'close': return st.expect?.kind === 'errno' && st.expect.name === 'EBADF' ? undefined : `close ${ends.get(st.fd.name)}`;
      case 'query': return `query ${st.sql}`;
      case 'exit': return undefined; // a recording has every process's exit; a scenario writes those it needs
      default: return st.op;
    }
  };
  return pids.map((p) => s.statements.filter((st) => st.pid === p).map(one).filter((x): x is string => x !== undefined));
}

describe('sqliteos record on the companion kernel', () => {
  let conn: Connection;
  let port: number;
  before(async () => {
    ({ conn, port } = await startGuestConnected());
  });
  after(() => {
    conn?.close();
    guest('stop');
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('records a parent and a child on an SQL pipe through read(2), write(2), 550 and 551; the scenario replays and matches the kernel', { timeout: 300000 }, async () => {
    const text = await recordAndReplay('fork-pipe', program('fork-pipe'));
    const body = text.split('\n').filter((l) => l && !l.startsWith('#'));
    assert.deepEqual(body.filter((l) => l.startsWith('P1')), ['P1 pipe r w', 'P1 fork P2', 'P1 close w', 'P1 read r 5 == "hello"', 'P1 read r 64 == ", world!"', 'P1 read r 64 == ""', 'P1 close r', 'P1 exit']);
    assert.deepEqual(body.filter((l) => l.startsWith('P2')), ['P2 close r', 'P2 write w "hello, world"', 'P2 write w "!"', 'P2 exit']);
    assert.match(text, /^# Recorded by `sqliteos record` on .* \(kernel 6\.1\.\d+\)/);
  });

  it("records the published tree's own test programs as their authors wrote them; each replays and matches the kernel", { timeout: 600000 }, async () => {
    // The published tree, unpacked once into the kernel cache (npm run test:kernel:trees has done it in CI).
    const find = spawnSync('bash', ['-c', [
      'set -e; source kernel-scripts/qemu/guest-lib.sh',
      'kcache="${SQLITEOS_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sqliteos-companion}"',
      'SQLITEOS_PUBLISHED_TARBALL="$(published_tarball "$PWD")" bash kernel-scripts/kernel.sh source published "$kcache/trees" | grep "^@@sqliteos tree " | cut -d" " -f3-',
    ].join('\n')], { cwd: ROOT, encoding: 'utf8', timeout: 1800000 });
    const tree = find.stdout.trim();
    assert.ok(find.status === 0 && fs.existsSync(path.join(tree, 'test_fork_mult_read.c')), `the published tree: ${find.stderr}`);
    const built = (name: string) => {
      const out = path.join(work, name);
      const cc = spawnSync('gcc', ['-static', '-O0', '-w', '-pthread', '-o', out, path.join(tree, `${name}.c`)], { encoding: 'utf8' });
      assert.equal(cc.status, 0, cc.stderr);
      return out;
    };
    // Two readers (a child and its child) each get the 8 bytes one writer sends (550 / 551 / 552).
    const mult = (await recordAndReplay('test_fork_mult_read', built('test_fork_mult_read'))).split('\n').filter((l) => l && !l.startsWith('#'));
    assert.deepEqual(mult.filter((l) => / read | write /.test(l)).sort(), ['P1 write w "HELLBROK"', 'P2 read r 8 == "HELLBROK"', 'P2 write w "HELLBROK"', 'P3 read r 8 == "HELLBROK"']);
    // Stock pipes and plain forks: only the processes come back.
    for (const t of ['test_pipe', 'test_fork']) {
      const body = (await recordAndReplay(t, built(t))).split('\n').filter((l) => l && !l.startsWith('#'));
      assert.deepEqual([...body].sort(), ['P1 exit', 'P1 fork P2', 'P2 exit'], t);
    }
  });

  it('cancelled, ends the program and what it forked there, and the recorder follows nothing', { timeout: 120000 }, async (t) => {
    // A connection of its own, as the command has its target's.
    const own = await connect(guestDest(port), { prompts: NO_PROMPTS, hostKeyPolicy: 'strict' });
    t.after(() => own.close());
    const host = new KernelHost(own, bundledHelper(path.join(ROOT, 'dist')));
    const exe = program('waits');
    const abort = new AbortController();
    const running = recordOnKernel(host, { local: exe, data: fs.readFileSync(exe) }, [], 120000, '', abort.signal);
    // Both processes asleep on the pipe, followed, before the cancel.
    const followed = async () => (await conn.exec('sed -n 2p /sys/kernel/debug/sqliteos/record')).stdout.toString().trim();
    for (let i = 0; i < 100 && (await followed()) !== 'following 2'; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await followed(), 'following 2');
    const t0 = Date.now();
    abort.abort();
    await assert.rejects(running, (e: Error) => e instanceof Cancelled && e.leftBehind.length === 0);
    // Ended by the cancel, not by the time limit the recording gives the program (60 s here): before
    // the kill worked without pkill and outside an SSH session of its own, this took 91 s.
    assert.ok(Date.now() - t0 < 15000, `the cancel took ${Date.now() - t0} ms`);
    assert.equal(await followed(), 'following 0', 'the recorder follows nothing');
    // (What it kept of the cancelled run stays until the next recording clears it: a child killed as it
    // left its sleep may be recorded after the script's trap cleared the rest.)
    // (from /proc: the guest's busybox has no pgrep)
    const left = await conn.exec('for d in /proc/[0-9]*; do cat $d/comm 2>/dev/null; done | grep -c "^waits$" || true');
    assert.equal(left.stdout.toString().trim(), '0', 'nothing of the program is left');
  });

  it("records our guest checks' paper tests (sqliteos-tests --group paper: the paper's example and the published tree's three) alone; each replays and matches the kernel", { timeout: 300000 }, async () => {
    const exe = path.join(work, 'sqliteos-tests');
    const cc = spawnSync('bash', ['-c', `gcc -static -O2 -Wall -pthread -o ${exe} kernel-scripts/tests/*.c`], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    const body = (await recordAndReplay('paper', exe, ['--group', 'paper'])).split('\n').filter((l) => l && !l.startsWith('#'));
    const reads = body.filter((l) => / read /.test(l)).map((l) => l.replace(/^P\d+ read r\d+ /, ''));
    // The three threads' reads of one 17-byte write: 4, 4 and 9 bytes, which thread first is the
    // kernel's; in the order the tables saw them they are the write's bytes in order.
    const threads = reads.filter((r) => /^(4|9) == /.test(r));
    assert.deepEqual(threads.map((r) => Number(r.split(' ')[0])).sort(), [4, 4, 9], body.join('\n'));
    assert.equal(threads.map((r) => JSON.parse(r.split(' == ')[1])).join(''), '0123456789abcdefg');
    // fork + pipe; two readers, one gets EOF; a grandchild's write, then EOF.
    assert.deepEqual(reads.filter((r) => !threads.includes(r)).sort(), ['1 == ""', '11 == "hello child"', '15 == "from grandchild"', '8 == ""', '8 == "8 bytes!"'].sort(), body.join('\n'));
    assert.equal(body.filter((l) => / thread /.test(l)).length, 3, 'pthreads share the fd table: thread');
  });

  it('records a thread (CLONE_FILES), a read transaction with a query, and a count pattern as a count', { timeout: 300000 }, async () => {
    const text = await recordAndReplay('threads-txn', program('threads-txn'));
    const body = text.split('\n').filter((l) => l && !l.startsWith('#'));
    assert.deepEqual(body, ['P1 pipe r w', 'P1 thread P2', 'P2 write w 4096', 'P2 exit', 'P1 begin', 'P1 query "SELECT count(*) FROM pipe_data"', 'P1 commit', 'P1 read r 4096 == 4096', 'P1 exit']);
  });

  it('gives back every example sqliteos-run plays to its end: the same statements per process, bytes and fork tree', { timeout: 600000 }, async () => {
    const host = new KernelHost(conn, bundledHelper(path.join(ROOT, 'dist')));
    await host.probe();
    const runner = await host.place('sqliteos-run', fs.readFileSync(path.join(ROOT, 'dist', 'helpers', 'sqliteos-run-x86_64')));
    const dir = path.join(ROOT, 'examples');
    let compared = 0;
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.sqlos'))) {
      const parsed = parseScenario(fs.readFileSync(path.join(dir, f), 'utf8'), f);
      assert.ok(parsed.ok, f);
      const ex = parsed.scenario;
      if (kernelCannotRun(ex, {}) || optionsFor(ex).profile !== 'companion') continue;
      const run = await recordOnKernel(host, { remote: runner }, ['--inspect', host.helperOnHost!, '--settle-ms', '20000'], 120000, compilePlan(ex, ex.capacity ?? 65536).text);
      if (!/\nend ok\n/.test(run.output)) continue; // a run that ends asleep: its last calls never return
      const rec = recordingToScenario(run.recording, { command: ['sqliteos-run'], host: 'guest', release: run.release, date: '' });
      assert.deepEqual(rec.refusals.map((r) => r.why), [], f);
      const back = parseScenario(rec.source, `${f} recorded`);
      assert.ok(back.ok, `${f}\n${rec.source}`);
      // The recording's P1 is sqliteos-run itself: the scenario's processes are the next ones, in order.
      const recorded = back.scenario.pids.slice(1, 1 + ex.pids.length);
      assert.deepEqual(shape(back.scenario, recorded), shape(ex, ex.pids), `${f}\n${rec.source}`);
      compared++;
    }
    console.log(`round trip: ${compared} examples recorded and given back`);
    assert.ok(compared >= 8, `only ${compared} examples ran to their end under the recorder`);
  });

  it('records an O_NONBLOCK program with its EAGAIN, a short write and a write transaction rolled back; refuses what the language cannot say, naming the record, and a recording that lost records', { timeout: 300000 }, async () => {
    const nb = path.join(work, 'nonblock.c');
    // 65,000 bytes, then 4,097 (more than PIPE_BUF) into the 536 left of 64 KiB: a short write; inside 553(8).
    const fill = 'static char big[65000];for(int i=0;i<65000;i++)big[i]=97+i%26;';
    fs.writeFileSync(nb, `#include <fcntl.h>\n#include <sys/syscall.h>\n#include <unistd.h>\nint main(void){int fd[2];char b[8];${fill}if(syscall(558,fd,O_NONBLOCK))return 1;if(read(fd[0],b,1)!=-1)return 2;if(syscall(553,8))return 6;if(write(fd[1],big,65000)!=65000||write(fd[1],big,4097)!=536)return 3;if(write(fd[1],"x",1)!=-1)return 4;if(syscall(554,0))return 7;return read(fd[0],b,8)==8?0:5;}\n`);
    const text = await recordAndReplay('nonblock', program('nonblock', nb));
    assert.deepEqual(text.split('\n').filter((l) => l && !l.startsWith('#')), [
      'P1 pipe r w nonblock',
      'P1 read r 1 == EAGAIN',
      'P1 begin write',
      'P1 write w 65000',
      'P1 write w 4097 == 536',
      'P1 write w "x" == EAGAIN',
      'P1 rollback',
      'P1 read r 8 == 8',
      'P1 exit',
    ]);
    const sp = path.join(work, 'savepoint.c');
    // a savepoint the kernel takes (any name but a NUL) that the language cannot write
    fs.writeFileSync(sp, '#include <sys/syscall.h>\n#include <unistd.h>\nint main(void){syscall(553,4);syscall(555,"a b",3);syscall(554,1);return 0;}\n');
    const refused = cli('record', '--on', 'guest', '--', program('savepoint', sp));
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, /no scenario written:\n {2}record \d+ \(line \d+: pid \d+ savepoint\): a savepoint name the language cannot write \(letters, digits and _, at most 64\): "a b"/);
    assert.equal(refused.stdout, '');
    const max = '/sys/module/sqliteos/parameters/record_max';
    assert.equal((await conn.exec(`echo 3 > ${max}`)).code, 0);
    try {
      const lost = cli('record', '--on', 'guest', '--', program('fork-pipe'));
      assert.equal(lost.status, 2, lost.stderr);
      assert.match(lost.stderr, /no scenario written:\n {2}the recorder lost \d+ records \(past sqliteos\.record_max/);
    } finally {
      await conn.exec(`echo 16384 > ${max}`);
    }
  });
});

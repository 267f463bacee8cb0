/* The `sqliteos` command as a user runs it: output, JSON shape and exit statuses 0 / 1 / 2. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from './helpers';

function sqliteos(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'sqliteos.js'), ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('sqliteos CLI', () => {
  it('answers --help, -h, help and run --help with the usage (exit 0), --version with the version', () => {
    for (const args of [['--help'], ['-h'], ['help'], ['run', '--help'], ['kernel', 'build', '-h']]) {
      const r = sqliteos(...args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
      assert.match(r.out, /^usage:\n  sqliteos run FILE/, args.join(' '));
    }
    const v = sqliteos('--version');
    assert.equal(v.code, 0);
    assert.equal(v.out.trim(), `sqliteos ${JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version}`);
  });

  it('inspect from memory: one source at a time, and a source that is not there named (exit 1)', () => {
    const both = sqliteos('inspect', '--gdb', '1234', '--core', 'x.core');
    assert.equal(both.code, 2);
    assert.match(both.err, /^sqliteos inspect: one source: --ssh, --gdb or --core\n/);
    const stay = sqliteos('inspect', '--stay');
    assert.equal(stay.code, 2);
    assert.match(stay.err, /--stay goes with --gdb/);
    const noCore = sqliteos('inspect', '--core', 'no/such.core');
    assert.equal(noCore.code, 1);
    assert.match(noCore.err, /^sqliteos inspect: no\/such\.core: ENOENT/);
    const notCore = sqliteos('inspect', '--core', 'package.json');
    assert.equal(notCore.code, 1);
    assert.equal(notCore.err, 'sqliteos inspect: package.json: not an ELF file\n');
    const noVmlinux = sqliteos('inspect', '--gdb', '127.0.0.1:1');
    assert.equal(noVmlinux.code, 1);
    assert.match(noVmlinux.err, /127\.0\.0\.1:1: which kernel\? --vmlinux PATH/);
    const nobody = sqliteos('inspect', '--gdb', 'unix:/nonexistent/gdb.sock', '--vmlinux', process.execPath);
    assert.equal(nobody.code, 1);
    assert.match(nobody.err, /no symbol sqlos_layout|nothing listens there/);
  });

  it('says plainly that a scenario file is missing (exit 2), naming the command and the path', () => {
    const r = sqliteos('run', 'no/such/file.sqlos');
    assert.equal(r.code, 2);
    assert.equal(r.err, 'sqliteos run: no such file: no/such/file.sqlos\n');
  });

  it('run --json prints the DESIGN.md object and exits 0 when nothing went wrong', () => {
    const r = sqliteos('run', 'examples/01-fork-pipe.sqlos', '--json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    for (const k of ['profile', 'locks', 'ok', 'ops', 'tables', 'pipes', 'processes', 'lockState', 'anomalies']) assert.ok(k in j, k);
    assert.equal(j.profile, 'companion');
    assert.equal(j.locks, 'sqliteos');
    assert.deepEqual(Object.keys(j.ops[0]).slice(0, 5), ['line', 'pid', 'op', 'result', 'error']);
    assert.deepEqual(Object.keys(j.lockState).slice(0, 5), ['currentMaxLock', 'numReaders', 'writeMutexOwner', 'writeMutexWaiters', 'readQ']);
    assert.ok('writeQ' in j.lockState);
    assert.deepEqual(Object.keys(j.processes[0]).slice(0, 4), ['pid', 'handler', 'parent', 'state']);
  });

  it('run exits 1 with the anomaly when the run deadlocks, and flags override the file', () => {
    const r = sqliteos('run', 'examples/05-eof.sqlos', '--profile', 'upstream');
    assert.equal(r.code, 1);
    assert.match(r.out, /profile upstream, locks sqliteos/);
    assert.match(r.out, /examples\/05-eof\.sqlos:9: deadlock: P1 is asleep on pipe 1 read_wq/);
    assert.match(r.out, /FAILED: 1 anomaly/);
  });

  it('run prints a readable summary by default', () => {
    const r = sqliteos('run', 'examples/07-capacity.sqlos');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /capacity 8/);
    assert.match(r.out, / {4}6 {2}P2 write w "abcdefghijklmnopqrst" +-> 20/);
    assert.match(r.out, /ok: no anomaly/);
  });

  it('a malformed scenario gets FILE:LINE:COL errors, exit 2, and nothing runs', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlos-'));
    const f = path.join(dir, 'bad.sqlos');
    fs.writeFileSync(f, 'P1 pipe r w\nP1 write w "ok"\nP1 wirte w "x"\nP9 exit\n');
    const r = sqliteos('run', f, '--json');
    assert.equal(r.code, 2);
    assert.equal(r.out, '');
    assert.equal(r.err, `${f}:3:4: unknown operation 'wirte' (pipe, fork, thread, write, read, close, exit, query, begin, commit, rollback, savepoint, release, rollback to)\n${f}:4:1: unknown process P9: no fork or thread creates it\n`);
  });

  it('bad arguments and unreadable files exit 2 with a message', () => {
    const a = sqliteos('run', 'examples/01-fork-pipe.sqlos', '--profile', 'linux');
    assert.equal(a.code, 2);
    assert.match(a.err, /--profile: unknown profile 'linux'/);
    const b = sqliteos('run', 'no/such/file.sqlos');
    assert.equal(b.code, 2);
    assert.match(b.err, /^sqliteos run: no such file: no\/such\/file\.sqlos$/m);
    const c = sqliteos();
    assert.equal(c.code, 2);
    assert.match(c.err, /usage:/);
  });

  it('reads options by one table per command: a missing value, a bad number, a missing required option and an unknown option are named with the command (exit 2)', () => {
    const cases: [string[], string][] = [
      [['bench', 'pipes', '--ssh', '--json'], 'sqliteos bench pipes: --ssh needs a value'],
      [['bench', 'pipes', '--runs', '0'], 'sqliteos bench pipes: --runs: expected a whole number from 1 to 101'],
      [['kernel', 'build', '--jobs', '2'], 'sqliteos kernel build: --tree PATH is required'],
      [['guest', 'start', '--port', '99999'], 'sqliteos guest start: --port: expected a whole number from 1 to 65535'],
      [['explore', 'examples/06-epipe.sqlos', '--max-states'], 'sqliteos explore: --max-states needs a value'],
      [['inspect', '--json=yes'], 'sqliteos inspect: --json takes no value'],
      [['run', 'examples/06-epipe.sqlos', '--bogus'], 'sqliteos run: unknown option --bogus'],
      [['record', '--on', 'guest'], 'sqliteos record: which program? (after --)'],
      [['record', './prog', '--', 'x'], "sqliteos record: './prog': the program goes after --"],
      [['record', '--', 'no/such/program'], 'sqliteos record: no/such/program: no such file here (--remote: a path on the target)'],
      [['record', '--out', 'README.md', '--', 'bin/sqliteos.js'], 'sqliteos record: --out README.md exists: the recording is never written over a file'],
    ];
    for (const [args, first] of cases) {
      const r = sqliteos(...args);
      assert.equal(r.code, 2, args.join(' '));
      const [line, usage, form] = r.err.split('\n');
      assert.equal(line, first);
      assert.equal(usage, 'usage:');
      assert.ok(form.startsWith(`  sqliteos ${first.split(':')[0].slice('sqliteos '.length)}`), `${args.join(' ')}: the command's own usage, got ${form}`);
    }
  });

  it('explore exits 1 with the violation and its schedule, 0 when every interleaving is clean', () => {
    const bad = sqliteos('explore', 'examples/05-eof.sqlos', '--profile', 'upstream', '--json');
    assert.equal(bad.code, 1, bad.err);
    const j = JSON.parse(bad.out);
    assert.equal(j.violation.kind, 'deadlock');
    assert.ok(Array.isArray(j.violation.schedule) && j.violation.schedule.length > 0);
    const good = sqliteos('explore', 'examples/06-epipe.sqlos');
    assert.equal(good.code, 0, good.err);
    assert.match(good.out, /states, \d+ transitions, \d+ complete runs in [0-9.]+ s \(\d+ states\/s\), exhausted\nreduction on: \d+ choices left out by persistent sets, \d+ asleep \(--no-reduction tries every process at every state\)\nno violation in any interleaving/);
  });

  it('minimize prints the smaller scenario (or writes --out, never over its input) and says what it kept; exit 2 with nothing to keep', () => {
    const printed = sqliteos('minimize', 'examples/15-paper-lost-wakeup.sqlos');
    assert.equal(printed.code, 0, printed.err);
    assert.match(printed.out, /^# Minimized by sqliteos minimize from examples\/15-paper-lost-wakeup\.sqlos \(6 statements, 5 bytes written\):\n# its lost-wakeup at line 9, P2 read r 5 == "hello"\n@locks sqliteos-as-printed\nP1 pipe r w\n/);
    assert.match(printed.err, /^examples\/15-paper-lost-wakeup\.sqlos:9: lost-wakeup kept: the result:\d+: P2 is asleep .*\n6 statements -> 4, 5 bytes written -> 1; \d+ candidates tested in [0-9.]+ s\n$/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-min-'));
    const out = path.join(dir, 'small.sqlos');
    const written = sqliteos('minimize', 'examples/15-paper-lost-wakeup.sqlos', '--out', out, '--json');
    assert.equal(written.code, 0, written.err);
    assert.equal(fs.readFileSync(out, 'utf8'), JSON.parse(written.out).source);
    const again = sqliteos('explore', out);
    assert.equal(again.code, 1);
    assert.match(again.out, new RegExp(`${out.replace(/[.]/g, '\\.')}:${JSON.parse(written.out).line}: lost-wakeup`));
    const self = sqliteos('minimize', 'examples/15-paper-lost-wakeup.sqlos', '--out', './examples/15-paper-lost-wakeup.sqlos');
    assert.equal(self.code, 2);
    assert.match(self.err, /^sqliteos minimize: --out \.\/examples\/15-paper-lost-wakeup\.sqlos is the scenario being minimized/);
    const clean = sqliteos('minimize', 'examples/06-epipe.sqlos');
    assert.equal(clean.code, 2);
    assert.equal(clean.err, 'sqliteos minimize: examples/06-epipe.sqlos: no violation in any interleaving: nothing to keep\n');
    assert.equal(clean.out, '');
    fs.rmSync(dir, { recursive: true });
  });

  it('explore --every-violation searches on past the first and prints each kind and line with its schedule', () => {
    const first = sqliteos('explore', 'examples/08-pending-writer.sqlos', '--locks', 'memdb');
    assert.equal(first.code, 1, first.err);
    assert.equal(first.out.match(/^examples\/08-pending-writer.sqlos:\d+: /gm)?.length, 1, first.out);
    const every = sqliteos('explore', 'examples/08-pending-writer.sqlos', '--locks', 'memdb', '--every-violation');
    assert.equal(every.code, 1, every.err);
    assert.match(every.out, /^examples\/08-pending-writer.sqlos:12: deadlock: /m);
    assert.match(every.out, /^examples\/08-pending-writer.sqlos:12: expectation: /m);
    assert.equal(every.out.match(/^schedule, shortened \(\d+ micro-steps\): \[/gm)?.length, every.out.match(/^examples\/08-pending-writer.sqlos:\d+: /gm)?.length, every.out);
    const j = JSON.parse(sqliteos('explore', 'examples/08-pending-writer.sqlos', '--locks', 'memdb', '--every-violation', '--json').out);
    assert.ok(j.exhausted && j.violations.length >= 2 && j.violations.every((v: { schedule: number[] }) => v.schedule.length > 0), JSON.stringify(j.violations));
  });

  it('explore --json says whether the search was reduced and how many choices it left out; --no-reduction tries them all', () => {
    const on = sqliteos('explore', 'examples/16-independent-pairs.sqlos', '--json');
    assert.equal(on.code, 0, on.err);
    const r = JSON.parse(on.out);
    assert.equal(r.reduction, true);
    assert.ok(r.pruned > 0 && r.exhausted && r.transitions > r.states - 1, on.out);
    const off = sqliteos('explore', 'examples/16-independent-pairs.sqlos', '--no-reduction', '--max-states', String(r.states), '--json');
    const f = JSON.parse(off.out);
    assert.deepEqual([f.reduction, f.pruned, f.exhausted], [false, 0, false], 'the full search is not done where the reduced one was');
  });
});


describe('sqliteos kernel patch on a tree that carries the published SQLiteOS', () => {
  /*
   * kernel-scripts stood in for by a kernel.sh that answers as the real one does on the published tree
   * and records what it was asked (the real unpublish runs on the real tree in npm run test:kernel:trees).
   */
  function fakeScripts(): { dir: string; calls: () => string[]; tree: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-fake-scripts-'));
    const tree = path.join(dir, 'tree');
    fs.mkdirSync(tree);
    const log = path.join(dir, 'calls');
    fs.writeFileSync(
      path.join(dir, 'kernel.sh'),
      `echo "$*" >> '${log}'
state=published; [ -f '${dir}/unpublished' ] && state=none; [ -f '${dir}/patched' ] && state=companion
case "$1" in
  status) printf '@@sqliteos tree %s\\n@@sqliteos version 5.15.146.1\\n@@sqliteos kind wsl\\n@@sqliteos patch %s\\n@@sqliteos tested yes\\n' "$2" "$state" ;;
  unpublish) if [ "$3" = --list ]; then echo 'would remove: kernel/fork.c: ksqlite_insert_into_pid() and ksqlite_dup_fd() in kernel_clone()'; echo 'would remove: ksqlite/ (added by the authors)'
             else touch '${dir}/unpublished'; echo 'removed: ksqlite/ (added by the authors)'; fi ;;
  patch) [ "$state" = none ] || { echo "apply.sh: $2 carries the published SQLiteOS" >&2; exit 1; }; touch '${dir}/patched'
         printf '@@sqliteos tree %s\\n@@sqliteos version 5.15.146.1\\n@@sqliteos kind wsl\\n@@sqliteos patch companion\\n@@sqliteos tested yes\\n' "$2" ;;
esac
`,
    );
    return { dir, tree, calls: () => fs.readFileSync(log, 'utf8').trim().split('\n') };
  }

  it('lists what taking it out removes and changes nothing without --yes (exit 1)', () => {
    const f = fakeScripts();
    const r = sqliteos('kernel', 'patch', '--tree', f.tree, '--scripts', f.dir);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /carries the published SQLiteOS; the companion patch replaces it\. Taking it out removes:\n {2}kernel\/fork\.c: ksqlite_insert_into_pid\(\) and ksqlite_dup_fd\(\) in kernel_clone\(\)\n {2}ksqlite\/ \(added by the authors\)\nRun again with --yes/);
    assert.deepEqual(f.calls().map((c) => c.split(' ')[0]), ['status', 'unpublish']);
    assert.ok(f.calls()[1].endsWith('--list'));
  });

  it('with --yes takes it out, then applies the companion patch', () => {
    const f = fakeScripts();
    const r = sqliteos('kernel', 'patch', '--tree', f.tree, '--scripts', f.dir, '--yes');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(f.calls().map((c) => c.split(' ').filter((w) => !w.startsWith('/')).join(' ')), ['status', 'unpublish --list', 'unpublish', 'status', 'patch']);
    assert.match(r.out, /: Linux 5\.15\.146\.1 \(Microsoft's WSL2 tree, tested here\), the companion patch applied\n$/);
  });
});

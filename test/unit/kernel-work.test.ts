/*
 * The Kernel commands' pure parts and their runner on this machine: make's and gcc's output read as
 * progress and Problems (on real gcc output), the guest checks' console read as test results, .wslconfig
 * edited without touching anything else, the scripts' archive unpacked by the real tar, and a cancelled
 * run leaving no process behind.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BuildLog, LineSplitter, mapBuildPath } from '../../extension/core/kernel-output/build-log';
import { GuestChecks } from '../../extension/core/kernel-output/guest-checks';
import { tarGz } from '../../extension/core/files/tar';
import { setWslKernel, wslConfigPath } from '../../extension/core/files/wslconfig';
import { Cancelled, KernelWork, KernelWorkError, describeTree } from '../../extension/machines/kernel-work';
import { LocalShell } from '../../extension/machines/sources';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-kw-'));

describe('build output', () => {
  it('counts the objects make compiles and reads the driver lines', () => {
    const log = new BuildLog('/out');
    const events = ['@@sqliteos total 855', '  CC      kernel/fork.o', '  AS      arch/x86/entry/entry_64.o', '  LD      vmlinux', '  CC [M]  fs/x.o', '  CC      kernel/bounds.s'].map((l) => log.line(l));
    assert.deepEqual(events[0], { kind: 'driver', key: 'total', value: '855' });
    assert.deepEqual(events[1], { kind: 'object', path: 'kernel/fork.o', done: 1 });
    assert.equal(events[3], undefined, 'a link is not an object compiled');
    assert.deepEqual(events[4], { kind: 'object', path: 'fs/x.o', done: 3 });
    assert.equal(events[5], undefined, 'asm-offsets style .s files are not counted against the .o total');
    assert.equal(log.done, 3);
  });

  it('reads real gcc diagnostics, relative paths against the directory make entered', () => {
    const dir = tmp();
    fs.mkdirSync(path.join(dir, 'sqliteos'));
    fs.writeFileSync(path.join(dir, 'sqliteos', 'pipe.c'), 'int f(void)\n{\n\tint unused;\n\treturn undeclared_thing;\n}\n');
    const r = spawnSync('gcc', ['-Wall', '-c', '-o', '/dev/null', 'sqliteos/pipe.c'], { cwd: dir, encoding: 'utf8' });
    const log = new BuildLog('/');
    log.line(`make[1]: Entering directory '${dir}'`);
    const diags = r.stderr.split('\n').map((l) => log.line(l)).filter((e) => e?.kind === 'diagnostic');
    const err = diags.find((e) => e?.kind === 'diagnostic' && e.diagnostic.severity === 'error');
    assert.ok(err && err.kind === 'diagnostic', r.stderr);
    assert.equal(err.diagnostic.file, path.join(dir, 'sqliteos', 'pipe.c'));
    assert.equal(err.diagnostic.line, 4);
    assert.equal(err.diagnostic.column, 16);
    assert.match(err.diagnostic.message, /undeclared_thing/);
    assert.ok(diags.some((e) => e?.kind === 'diagnostic' && e.diagnostic.severity === 'warning' && e.diagnostic.line === 3), 'the unused variable warning');
    assert.equal(log.line("make[2]: *** [scripts/Makefile.build:250: sqliteos/pipe.o] Error 1"), undefined);
  });

  it("maps the tree's copy of the patch back to the patch the user edits", () => {
    const j = path.posix.join;
    assert.deepEqual(mapBuildPath('/home/u/linux/sqliteos/pipe.c', '/home/u/linux/', '/ws/kernel-scripts', false, j), { local: '/ws/kernel-scripts/sqliteos/pipe.c', remote: '/home/u/linux/sqliteos/pipe.c' });
    assert.equal(mapBuildPath('/home/u/linux/include/linux/sqliteos.h', '/home/u/linux', '/ws/ks', false, j).local, '/ws/ks/include/linux/sqliteos.h');
    assert.equal(mapBuildPath('/home/u/linux/sqliteos/sqlite3.c', '/home/u/linux', '/ws/ks', false, j).local, undefined, 'the edited amalgamation is not the patch text');
    assert.equal(mapBuildPath('/home/u/linux/kernel/fork.c', '/home/u/linux', '/ws/ks', false, j).local, undefined, 'a remote file of the tree has no local copy');
    assert.equal(mapBuildPath('/src/linux/kernel/fork.c', '/src/linux', '/ws/ks', true, j).local, '/src/linux/kernel/fork.c', 'a local build keeps the path');
  });

  it('splits chunks into lines wherever the chunks break', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    s.push('  CC   a');
    s.push('.o\r\nx\ny');
    s.end();
    assert.deepEqual(lines, ['  CC   a.o', 'x', 'y']);
  });
});

describe('guest checks', () => {
  const console = ['Linux version 6.1.192', '1..3', 'ok 1 - 548 copies HELLOWO', 'not ok 2 - pipe_data holds small ids (got 140737 (a kernel address?))', 'ok 3 - exit deletes the row', '2 passed, 1 failed', 'guest: tests exited with 1'];

  it('reads each check with its reason, and the closing line', () => {
    const g = new GuestChecks();
    const got = console.map((l) => g.line(l)).filter(Boolean);
    assert.equal(got.length, 3);
    assert.deepEqual(got[1], { n: 2, name: 'pipe_data holds small ids', ok: false, why: 'got 140737 (a kernel address?)' });
    assert.deepEqual(got[2], { n: 3, name: 'exit deletes the row', ok: true, why: undefined });
    assert.deepEqual(g.verdict(), { ok: false, message: '2 passed, 1 failed' });
  });

  it('fails a run with all checks passed when the kernel logged a report, or when no closing line came', () => {
    const g = new GuestChecks();
    for (const l of ['ok 1 - a', 'WARNING: CPU: 0 PID: 1 at sqliteos/pipe.c:40 sqliteos_read+0x1/0x2', 'Call Trace:', '1 passed, 0 failed']) g.line(l);
    const v = g.verdict();
    assert.equal(v.ok, false);
    assert.match(v.message, /1 report\(s\): WARNING: CPU: 0 PID: 1 at sqliteos\/pipe.c:40/);
    assert.match(g.run.reports[0], /Call Trace/);
    const cut = new GuestChecks();
    cut.line('1..2');
    cut.line('ok 1 - a');
    assert.match(cut.verdict().message, /no result line after 1 of 2 checks/);
  });

  it('fails a run in which a planned check never ran, or that has no plan, though every check seen passed', () => {
    const run = (...lines: string[]) => {
      const g = new GuestChecks();
      for (const l of lines) g.line(l);
      return g.verdict();
    };
    assert.deepEqual(run('1..3', 'ok 1 - a', 'ok 2 - b', '2 passed, 0 failed'), { ok: false, message: '2 checks ran, 3 were planned' });
    assert.deepEqual(run('ok 1 - a', '1 passed, 0 failed'), { ok: false, message: 'the guest printed no plan line (1..N) before its 1 checks' });
    assert.deepEqual(run('1..2', 'ok 1 - a', 'ok 2 - b', '3 passed, 0 failed'), { ok: false, message: 'the result line counts 3 checks, 2 were printed' });
    assert.deepEqual(run('1..2', 'ok 1 - a', 'ok 2 - b', '2 passed, 0 failed'), { ok: true, message: '2 passed, 0 failed' });
  });

  it('reads the console of a real boot (captured from `npm run test:kernel`)', () => {
    const g = new GuestChecks();
    for (const l of fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'kernel', 'guest-console.log'), 'utf8').split('\n')) g.line(l);
    assert.equal(g.run.plan, 163);
    assert.equal(g.run.checks.length, 163);
    assert.deepEqual(g.run.checks[0], { n: 1, name: 'hello_world (548) copies "HELLOWO\\0"', ok: true, why: undefined });
    assert.equal(g.verdict().ok, true, g.verdict().message);
  });
});

describe('.wslconfig', () => {
  const img = 'C:\\Users\\me\\sqliteos-kernel\\bzImage-5.15.146.1';
  const want = 'kernel=C:\\\\Users\\\\me\\\\sqliteos-kernel\\\\bzImage-5.15.146.1';

  it('writes a new file when there is none (or it is empty)', () => {
    assert.deepEqual(setWslKernel(undefined, img), { text: `[wsl2]\r\n${want}\r\n`, changed: true, after: want });
    assert.equal(setWslKernel('\r\n', img).text, `[wsl2]\r\n${want}\r\n`);
  });

  it('adds [wsl2] after the other sections, keeping them and their comments', () => {
    const r = setWslKernel('# mine\n[experimental]\nautoMemoryReclaim=gradual\n', img);
    assert.equal(r.text, `# mine\n[experimental]\nautoMemoryReclaim=gradual\n\n[wsl2]\n${want}\n`);
    assert.equal(r.before, undefined);
  });

  it('adds kernel= at the end of an existing [wsl2], before the next section and its blank line', () => {
    const r = setWslKernel('[wsl2]\r\nmemory=8GB\r\n; a comment\r\nprocessors=4\r\n\r\n[experimental]\r\nsparseVhd=true\r\n', img);
    assert.equal(r.text, `[wsl2]\r\nmemory=8GB\r\n; a comment\r\nprocessors=4\r\n${want}\r\n\r\n[experimental]\r\nsparseVhd=true\r\n`);
  });

  it('replaces an existing kernel= in place, keeping its spelling, spacing, the BOM and CRLF', () => {
    const r = setWslKernel('\uFEFF[WSL2]\r\n# kernel=C:\\\\old\\\\commented\r\nKernel = C:\\\\old\\\\bzImage\r\nswap=0\r\n', img);
    assert.equal(r.text, `\uFEFF[WSL2]\r\n# kernel=C:\\\\old\\\\commented\r\nKernel = ${want.slice('kernel='.length)}\r\nswap=0\r\n`);
    assert.equal(r.before, 'Kernel = C:\\\\old\\\\bzImage');
    assert.equal(r.changed, true);
  });

  it('leaves a file that already names the image untouched, and keeps a missing last newline', () => {
    const same = `[wsl2]\n${want}`;
    assert.deepEqual(setWslKernel(same, img), { text: same, changed: false, before: want, after: want });
    assert.equal(setWslKernel('[wsl2]\nmemory=4GB', img).text, `[wsl2]\nmemory=4GB\n${want}\n`);
  });

  it('doubles backslashes once', () => {
    assert.equal(wslConfigPath('C:\\a\\b'), 'C:\\\\a\\\\b');
    assert.equal(wslConfigPath('C:\\\\a\\\\b'), 'C:\\\\a\\\\b');
  });
});

describe('the scripts archive', () => {
  it('unpacks with the real tar to the same bytes and modes, long names included', () => {
    const long = `kernel-scripts/${'d'.repeat(80)}/${'e'.repeat(60)}/file.c`;
    const entries = [
      { name: 'kernel-scripts/kernel.sh', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
      { name: 'kernel-scripts/empty', data: Buffer.alloc(0), mode: 0o644 },
      { name: long, data: Buffer.alloc(1500, 7), mode: 0o600 },
    ];
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'a.tar.gz'), tarGz(entries));
    const r = spawnSync('tar', ['xzf', 'a.tar.gz'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const e of entries) {
      const f = path.join(dir, e.name);
      assert.deepEqual(fs.readFileSync(f), e.data, e.name);
      assert.equal(fs.statSync(f).mode & 0o777, e.mode, e.name);
    }
  });
});

describe('KernelWork on this machine', () => {
  /** A kernel-scripts with a kernel.sh of the test's own. */
  function scripts(body: string): string {
    const dir = path.join(tmp(), 'kernel-scripts');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'kernel.sh'), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
    return dir;
  }

  it('names the missing packages and the failing step', async () => {
    const w = new KernelWork(new LocalShell(), { dir: scripts('echo "@@sqliteos missing flex bison"; echo "kernel.sh: missing packages: flex bison" >&2; exit 1') }, true);
    await assert.rejects(
      w.run(['build', 'x'], () => undefined),
      (e: unknown) => e instanceof KernelWorkError && /kernel.sh build failed: missing packages: flex bison/.test(e.message) && e.missingPackages.join() === 'flex,bison',
    );
  });

  it('cancelling kills the whole session there, children and grandchildren, and says nothing is left', async () => {
    const marker = `sqliteos-kw-${process.pid}-${Date.now()}`;
    const w = new KernelWork(new LocalShell(), { dir: scripts(`echo started; (sleep 300; echo ${marker}) & bash -c "sleep 301 # ${marker}" & trap '' TERM; wait`) }, true);
    const abort = new AbortController();
    const lines: string[] = [];
    const p = w.run(['build'], (l) => {
      lines.push(l);
      if (l === 'started') setTimeout(() => abort.abort(), 300);
    }, abort.signal);
    await assert.rejects(p, (e: unknown) => e instanceof Cancelled && e.leftBehind.length === 0);
    const left = spawnSync('pgrep', ['-f', marker], { encoding: 'utf8' });
    assert.equal(left.stdout.trim(), '', 'no process of the run is left');
  });

  it('uploads the scripts once to the cache there and runs them from it', async () => {
    const cache = tmp();
    const dir = scripts('echo "@@sqliteos tree /t"; echo "@@sqliteos version 6.1.0"; echo "@@sqliteos kind debian"; echo "@@sqliteos patch none"; echo "@@sqliteos tested yes"; echo "from $0"');
    const shell = new LocalShell();
    const runs: string[] = [];
    const remoteLike = new KernelWork({ label: 'fake remote', exec: (c, o) => (runs.push(c), shell.exec(c.replace(/\$\{XDG_CACHE_HOME:-\$HOME\/\.cache\}/, cache), o)), upload: (f, d, m) => shell.upload(f, d, m), stream: (c, on) => shell.stream(c, on) }, { dir }, false);
    const lines: string[] = [];
    const info = await remoteLike.status('/t', (e) => e.kind === 'line' && lines.push(e.text));
    assert.deepEqual(info, { tree: '/t', version: '6.1.0', kind: 'debian', patch: 'none', tested: true });
    const from = lines.find((l) => l.startsWith('from '))!;
    assert.ok(from.startsWith(`from ${cache}/sqliteos-companion/scripts-`), from);
    const again = new KernelWork({ label: 'fake remote', exec: (c, o) => (runs.push(c), shell.exec(c.replace(/\$\{XDG_CACHE_HOME:-\$HOME\/\.cache\}/, cache), o)), upload: () => Promise.reject(new Error('uploaded twice')), stream: (c, on) => shell.stream(c, on) }, { dir }, false);
    await again.status('/t');
  });

  it('says whether a published tree has its sqlite3.c (kernel.sh status of the real published files, made up here)', async () => {
    const tree = tmp();
    fs.mkdirSync(path.join(tree, 'ksqlite'));
    fs.writeFileSync(path.join(tree, 'ksqlite', 'ksqlite.c'), '');
    fs.writeFileSync(path.join(tree, 'Makefile'), 'VERSION = 5\nPATCHLEVEL = 15\nSUBLEVEL = 146\nEXTRAVERSION = .1\nNAME = x\n');
    fs.writeFileSync(path.join(tree, 'Kconfig'), '');
    const w = new KernelWork(new LocalShell(), { dir: path.join(__dirname, '..', '..', 'kernel-scripts') }, true);
    const missing = await w.status(tree);
    assert.equal(missing.sqlite3, 'missing');
    assert.match(describeTree(missing), /the published SQLiteOS kernel \(its sqlite3\.c missing: kernel\.sh reconstruct makes it\)$/);
    fs.writeFileSync(path.join(tree, 'ksqlite', 'sqlite3.c'), '/*\n * ksqlite/sqlite3.c -- RECONSTRUCTED by SQLiteOS Companion\n */\n');
    assert.match(describeTree(await w.status(tree)), /the published SQLiteOS kernel \(its sqlite3\.c reconstructed\)$/);
    fs.writeFileSync(path.join(tree, 'ksqlite', 'sqlite3.c'), '/* the authors\' own */\n');
    assert.match(describeTree(await w.status(tree)), /, the published SQLiteOS kernel$/);
  });
});

describe('kernel.sh build', () => {
  it('asks for pahole before compiling a kernel with BTF (config-wsl), not at the link an hour later', () => {
    const tree = tmp();
    fs.writeFileSync(path.join(tree, 'Makefile'), 'VERSION = 5\nPATCHLEVEL = 15\nSUBLEVEL = 146\nEXTRAVERSION = .1\nNAME = fake\nolddefconfig:\n\t@true\nall:\n\t@echo compiled\n');
    fs.mkdirSync(path.join(tree, 'Microsoft'));
    fs.writeFileSync(path.join(tree, 'Microsoft', 'config-wsl'), 'CONFIG_DEBUG_INFO_BTF=y\nCONFIG_SQLITEOS=y\nCONFIG_DEBUG_FS=y\n');
    fs.mkdirSync(path.join(tree, 'scripts', 'kconfig'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'scripts', 'kconfig', 'merge_config.sh'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    // This machine's commands but pahole.
    const bin = tmp();
    for (const dir of ['/usr/local/bin', '/usr/bin', '/bin']) {
      for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) if (f !== 'pahole' && !fs.existsSync(path.join(bin, f))) fs.symlinkSync(path.join(dir, f), path.join(bin, f));
    }
    const script = path.join(__dirname, '..', '..', 'kernel-scripts', 'kernel.sh');
    const r = spawnSync('bash', [script, 'build', tree, path.join(tree, 'out'), 'wsl'], { encoding: 'utf8', env: { ...process.env, PATH: bin } });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^@@sqliteos missing dwarves$/m);
    assert.match(r.stderr, /missing packages: dwarves -- install them with: sudo apt-get install --no-install-recommends dwarves/);
    assert.doesNotMatch(r.stdout, /step prepare|compiled/, 'nothing compiled');
  });
});

/*
 * The Kernel commands' work over SSH, with a real sshd on 127.0.0.1 as the "remote" build machine and the
 * Debian tree `npm run test:kernel` leaves in .cache as its tree: a scratch copy of the patch with a
 * deliberate error is uploaded, applied and built there, and the error comes back at its line in the
 * scratch copy; the real patch is then applied and built again (progress seen); a cold build cancelled
 * part-way leaves no make or compiler running; and a WSL2 install (cmd.exe and wslpath faked on the
 * server's PATH) copies the image and edits .wslconfig after a backup.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Cancelled, KernelWork, KernelWorkError, WorkEvent } from '../../extension/machines/kernel-work';
import { LocalShell } from '../../extension/machines/sources';
import { Connection, connect } from '../../extension/machines/ssh/connection';
import { NO_PROMPTS } from '../../extension/machines/ssh/auth';
import { Sshd, canRun, keygen } from '../ssh/harness';
import { ROOT } from './util';
import { skipUnlessRunnable } from '../skip';

const TREE = path.join(ROOT, '.cache', 'linux-source-6.1');
const OUT = path.join(ROOT, '.cache', 'kbuild');
const SCRIPTS = path.join(ROOT, 'kernel-scripts');
const AMALGAMATION = path.join(ROOT, '.cache', 'sqlite');
const BROKEN_LINE = 40;

/**
 * Nothing of a build running on this machine (the "remote" is this machine). A zombie is not running:
 * what the kill ended is reaped by init, and this container's init reaps when it gets to it.
 */
function builders(): string[] {
  const r = spawnSync('ps', ['-eo', 'pid=,stat=,comm='], { encoding: 'utf8' });
  return r.stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => /^(make|cc1|gcc|as|ld)$/.test(f[2] ?? '') && !f[1].startsWith('Z')).map((f) => f.join(' '));
}

const SUITE = 'Kernel work over SSH (a real sshd as the build machine)';
describe(SUITE, { skip: skipUnlessRunnable(SUITE, canRun()) }, () => {
  let dir: string;
  let sshd: Sshd;
  let conn: Connection;
  let fakeWin: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-kernel-ssh-'));
    fs.chmodSync(dir, 0o755);
    if (!fs.existsSync(path.join(TREE, 'Makefile'))) {
      await new KernelWork(new LocalShell(), { dir: SCRIPTS }, true).source('debian', path.dirname(TREE), () => undefined);
    }
    // WSL2's interop, faked: cmd.exe answers %UserProfile%, wslpath maps it into this test's directory.
    fakeWin = path.join(dir, 'c', 'Users', 'tester');
    fs.mkdirSync(fakeWin, { recursive: true });
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'cmd.exe'), "#!/bin/sh\nprintf '%s\\r\\n' 'C:\\Users\\tester'\n", { mode: 0o755 });
    fs.writeFileSync(path.join(bin, 'wslpath'), `#!/bin/sh\n[ "$1" = -u ] && shift\ncase "$1" in 'C:\\Users\\tester') echo ${fakeWin} ;; *) echo "wslpath: $1" >&2; exit 1 ;; esac\n`, { mode: 0o755 });
    const key = keygen(path.join(dir, 'id'));
    sshd = await Sshd.start([key.pub], [`SetEnv PATH=${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`]);
    const known = path.join(dir, 'known_hosts');
    fs.writeFileSync(known, `${sshd.knownHostsLine()}\n`);
    conn = await connect(
      { name: 'build-host', host: '127.0.0.1', port: sshd.port, user: 'root', identityFiles: [key.priv], jumps: [], source: 'test' },
      { prompts: NO_PROMPTS, hostKeyPolicy: 'strict', knownHosts: [known], home: dir },
    );
  });

  after(async () => {
    conn?.close();
    await sshd?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('maps a compiler error in a scratch copy of the patch to its file and line, then builds the real patch with progress', async () => {
    const scratch = path.join(dir, 'scratch', 'kernel-scripts');
    fs.cpSync(SCRIPTS, scratch, { recursive: true });
    const pipe = path.join(scratch, 'sqliteos', 'pipe.c');
    const lines = fs.readFileSync(pipe, 'utf8').split('\n');
    lines.splice(BROKEN_LINE - 1, 0, 'int sqliteos_broken_on_purpose = undeclared_on_purpose;');
    fs.writeFileSync(pipe, lines.join('\n'));

    const broken = new KernelWork(conn, { dir: scratch, amalgamation: AMALGAMATION }, false);
    const patched = await broken.patch(TREE, () => undefined);
    assert.equal(patched.patch, 'companion');
    const events: WorkEvent[] = [];
    await assert.rejects(broken.build({ tree: TREE, out: OUT, config: 'qemu' }, (e) => events.push(e)), (e: unknown) => {
      assert.ok(e instanceof KernelWorkError, String(e));
      assert.ok(e.message.includes(`${pipe}:${BROKEN_LINE}:`), e.message);
      return true;
    });
    const errors = events.flatMap((e) => (e.kind === 'diagnostic' && e.diagnostic.severity === 'error' ? [e] : []));
    assert.ok(errors.length >= 1, 'an error came back');
    assert.equal(errors[0].file.local, pipe, 'mapped to the scratch copy on this side');
    assert.equal(errors[0].file.remote, path.join(TREE, 'sqliteos', 'pipe.c'), 'printed with the tree path over there');
    assert.equal(errors[0].diagnostic.line, BROKEN_LINE);
    assert.match(errors[0].diagnostic.message, /undeclared_on_purpose/);
    assert.ok(events.some((e) => e.kind === 'progress' && e.object === 'sqliteos/pipe.o'), 'the object was reported as it was compiled');

    // The real patch again, through the same remote path: the tree and the build are as the suites want.
    const real = new KernelWork(conn, { dir: SCRIPTS, amalgamation: AMALGAMATION }, false);
    await real.patch(TREE, () => undefined);
    const steps: string[] = [];
    const progress: number[] = [];
    const r = await real.build({ tree: TREE, out: OUT, config: 'qemu' }, (e) => {
      if (e.kind === 'step') steps.push(e.step);
      if (e.kind === 'progress') progress.push(e.done);
    });
    assert.deepEqual(steps, ['configure', 'prepare', 'compile']);
    assert.ok(progress.length >= 1 && progress[progress.length - 1] === r.objects, 'progress counted each object');
    assert.ok(r.total !== undefined && r.total >= r.objects, `make -n's total (${r.total}) covers what was compiled (${r.objects})`);
    assert.equal(r.image, path.join(OUT, 'arch', 'x86', 'boot', 'bzImage'));
    assert.ok(fs.statSync(r.image).mtimeMs > Date.now() - 600000, 'the image was relinked');
  });

  it('cancel in the middle of a cold build leaves no make or compiler running there', async () => {
    assert.deepEqual(builders(), [], 'nothing was building before');
    const out = path.join(dir, 'cold-build');
    const work = new KernelWork(conn, { dir: SCRIPTS, amalgamation: AMALGAMATION }, false);
    const abort = new AbortController();
    let seen = 0;
    const p = work.build({ tree: TREE, out, config: 'qemu' }, (e) => {
      if (e.kind === 'progress' && ++seen === 3) abort.abort();
    }, abort.signal);
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof Cancelled, String(e));
      assert.deepEqual(e.leftBehind, []);
      return true;
    });
    assert.ok(seen >= 3);
    assert.deepEqual(builders(), [], 'no make, cc1, gcc, as or ld is left');
  });

  it('installs for WSL2: the image beside the Windows profile, kernel= set in .wslconfig after a backup', async () => {
    const wslconfig = path.join(fakeWin, '.wslconfig');
    const before = '\uFEFF# my settings\r\n[wsl2]\r\nmemory=8GB\r\nkernel=C:\\\\old\\\\bzImage\r\n';
    fs.writeFileSync(wslconfig, before);
    const work = new KernelWork(conn, { dir: SCRIPTS }, false);
    const image = path.join(OUT, 'arch', 'x86', 'boot', 'bzImage');
    let shown = '';
    const r = await work.installWsl(image, '6.1.192', async (edit, file) => {
      shown = `${file}: ${edit.before} -> ${edit.after}`;
      return true;
    });
    assert.ok(r);
    assert.equal(shown, `${wslconfig}: kernel=C:\\\\old\\\\bzImage -> kernel=C:\\\\Users\\\\tester\\\\sqliteos-kernel\\\\bzImage-6.1.192`);
    assert.deepEqual(fs.readFileSync(path.join(fakeWin, 'sqliteos-kernel', 'bzImage-6.1.192')), fs.readFileSync(image));
    assert.equal(fs.readFileSync(wslconfig, 'utf8'), '\uFEFF# my settings\r\n[wsl2]\r\nmemory=8GB\r\nkernel=C:\\\\Users\\\\tester\\\\sqliteos-kernel\\\\bzImage-6.1.192\r\n');
    assert.equal(fs.readFileSync(r.backup!, 'utf8'), before, 'the backup is the old file, byte for byte');
    // Refused: nothing is written.
    fs.writeFileSync(wslconfig, before);
    assert.equal(await work.installWsl(image, '6.1.192', async () => false), undefined);
    assert.equal(fs.readFileSync(wslconfig, 'utf8'), before);
  });
});

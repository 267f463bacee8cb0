/*
 * The local QEMU guest found from its state directory, as guest.sh leaves it: running or not, its
 * kernel's release read from the image's setup header, and the names that reach it (`guest`, the
 * address guest.sh prints) with its own key and known_hosts, never the user's ~/.ssh.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { builtImages, bzImageRelease, describeGuest, guestFor, localGuest, resolveWithGuest } from '../../extension/machines/guest';
import { DestinationError } from '../../extension/machines/ssh/config';

/** A bzImage's first bytes as the boot protocol lays them out, with a version string. */
function fakeImage(version: string): Buffer {
  const b = Buffer.alloc(0x3000);
  b.write('HdrS', 0x202, 'latin1');
  b.writeUInt16LE(0x1000, 0x20e);
  b.write(`${version}\0`, 0x1200, 'latin1');
  return b;
}

describe('the local QEMU guest', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-guest-unit-'));
  const state = path.join(root, '.cache', 'guest-ssh');
  const home = path.join(root, 'home');
  fs.mkdirSync(state, { recursive: true });
  fs.mkdirSync(path.join(home, '.ssh'), { recursive: true });
  const src = { file: path.join(home, '.ssh', 'config'), home, localUser: 'me' };
  const sleeper = spawn('sleep', ['60']);
  after(() => {
    sleeper.kill();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('reads a kernel release from a bzImage setup header, and nothing from other files', () => {
    assert.equal(bzImageRelease(fakeImage('6.1.192 (root@ci) #1 SMP')), '6.1.192');
    assert.equal(bzImageRelease(Buffer.from('not a kernel')), undefined);
    const noMagic = fakeImage('6.1.192');
    noMagic.write('XXXX', 0x202, 'latin1');
    assert.equal(bzImageRelease(noMagic), undefined);
  });

  it('knows no guest before one was started, then one that runs, with its own key and known_hosts', () => {
    assert.equal(localGuest(root), undefined);
    assert.throws(() => resolveWithGuest('guest', root, src), (e: Error) => e instanceof DestinationError && /no QEMU guest is running here .*sqliteos guest start/.test(e.message));
    fs.writeFileSync(path.join(state, 'port'), '2299\n');
    fs.writeFileSync(path.join(state, 'qemu.pid'), `${sleeper.pid}\n`);
    fs.writeFileSync(path.join(root, 'bzImage'), fakeImage('6.1.192 (root@ci) #1'));
    fs.writeFileSync(path.join(state, 'kernel'), path.join(root, 'bzImage'));
    const g = localGuest(root)!;
    assert.equal(g.running, true);
    assert.equal(describeGuest(g), 'running, companion kernel 6.1.192');
    // guest.sh --published writes the kind beside the port: the published kernel is named as such.
    fs.writeFileSync(path.join(state, 'kind'), 'published\n');
    fs.writeFileSync(path.join(root, 'bzImage'), fakeImage('5.15.146.1-microsoft-standard-WSL2 (root@ci) #1'));
    assert.equal(describeGuest(localGuest(root)!), 'running, published SQLiteOS kernel 5.15.146.1-microsoft-standard-WSL2');
    fs.rmSync(path.join(state, 'kind'));
    const d = resolveWithGuest('guest', root, src);
    assert.deepEqual([d.host, d.port, d.user, d.identityFiles, d.knownHostsFile], ['127.0.0.1', 2299, 'root', [path.join(state, 'id_ed25519')], path.join(state, 'known_hosts')]);
  });

  it('takes the address guest.sh prints for the guest, and leaves every other address to ~/.ssh/config', () => {
    for (const typed of ['root@127.0.0.1:2299', '127.0.0.1:2299', 'root@localhost:2299', 'ssh://root@127.0.0.1:2299']) {
      assert.equal(guestFor(typed, root)?.knownHostsFile, path.join(state, 'known_hosts'), typed);
    }
    for (const other of ['root@127.0.0.1:2298', 'alice@127.0.0.1:2299', 'root@10.0.0.5:2299', 'sqliteos-guest']) {
      assert.equal(guestFor(other, root), undefined, other);
    }
    assert.equal(resolveWithGuest('root@127.0.0.1:2298', root, src).knownHostsFile, undefined);
  });

  it('says a stopped guest is not running, and then no address is taken for it', () => {
    fs.writeFileSync(path.join(state, 'qemu.pid'), '999999999\n');
    const g = localGuest(root)!;
    assert.equal(g.running, false);
    assert.match(describeGuest(g), /^not running/);
    assert.equal(guestFor('root@127.0.0.1:2299', root), undefined);
    fs.writeFileSync(src.file, 'Host guest\n  HostName example.org\n');
    assert.equal(resolveWithGuest('guest', root, src).host, 'example.org', 'a Host named guest in ~/.ssh/config wins while no guest runs');
  });

  it('finds the kernel images this checkout built, newest first, with their releases', () => {
    const cache = path.join(root, '.cache');
    assert.deepEqual(builtImages(cache), []);
    const at = (b: string) => path.join(root, '.cache', b, 'arch', 'x86', 'boot');
    for (const [b, v, t] of [['kbuild', '6.1.192', 1000], ['kbuild-debug', '6.1.192-dbg', 2000]] as const) {
      fs.mkdirSync(at(b), { recursive: true });
      fs.writeFileSync(path.join(at(b), 'bzImage'), fakeImage(`${v} (root@ci) #1`));
      fs.utimesSync(path.join(at(b), 'bzImage'), t, t);
    }
    fs.mkdirSync(path.join(root, '.cache', 'kbuild-empty'));
    assert.deepEqual(builtImages(cache).map((b) => [b.build, b.release]), [['kbuild-debug', '6.1.192-dbg'], ['kbuild', '6.1.192']]);
    // and the trees' builds beside them, in another folder (test:kernel:trees'), in one list by age
    const trees = path.join(root, 'home-cache');
    fs.mkdirSync(path.join(trees, 'kbuild-6.12', 'arch', 'x86', 'boot'), { recursive: true });
    fs.writeFileSync(path.join(trees, 'kbuild-6.12', 'arch', 'x86', 'boot', 'bzImage'), fakeImage('6.12.118 (root@ci) #1'));
    fs.utimesSync(path.join(trees, 'kbuild-6.12', 'arch', 'x86', 'boot', 'bzImage'), 1500, 1500);
    assert.deepEqual(builtImages(cache, trees, path.join(root, 'absent')).map((b) => b.build), ['kbuild-debug', 'kbuild-6.12', 'kbuild']);
  });
});

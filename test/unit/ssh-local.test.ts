/*
 * The SSH pieces that need no server: destinations as the user types them, ~/.ssh/config with Include
 * and ProxyJump, and known_hosts as OpenSSH reads it (plain, patterns, negation, hashed, [host]:port,
 * changed and revoked keys). The same code is exercised against a real sshd in test/ssh.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DestinationError, configuredHosts, parseDestination, resolveDestination } from '../../extension/machines/ssh/config';
import { addHostKey, checkHostKey, fingerprint, hostFieldMatches } from '../../extension/machines/ssh/known-hosts';

/** A fake public key blob of a given type (the checks only compare bytes and read the type). */
function blob(type: string, fill: number): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, Buffer.alloc(32, fill)]);
}

describe('destinations', () => {
  it('reads user@host:port, [v6]:port and ssh:// forms, and refuses junk with the reason', () => {
    assert.deepEqual(parseDestination('root@127.0.0.1:2222'), { user: 'root', host: '127.0.0.1', port: 2222 });
    assert.deepEqual(parseDestination('ssh://me@[::1]:22'), { user: 'me', host: '::1', port: 22 });
    assert.deepEqual(parseDestination('wsl'), { user: undefined, host: 'wsl', port: undefined });
    assert.throws(() => parseDestination('a b'), DestinationError);
    assert.throws(() => parseDestination('h:70000'), /port 70000 is out of range/);
  });

  it('resolves Host entries through Include globs, with the first value winning and ProxyJump chains', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-cfg-'));
    fs.mkdirSync(path.join(home, '.ssh', 'd'), { recursive: true });
    fs.writeFileSync(path.join(home, '.ssh', 'config'), 'Host guest\n  Port 2201\nInclude d/*.conf\nHost *\n  User fallback\n');
    fs.writeFileSync(path.join(home, '.ssh', 'd', 'a.conf'), 'Host guest\n  HostName 10.0.0.5\n  Port 9999\n  IdentityFile ~/.ssh/k\n  ProxyJump hop\nHost hop\n  HostName 127.0.0.9\n  User jumper\n');
    const src = { file: path.join(home, '.ssh', 'config'), home, localUser: 'me' };
    const d = resolveDestination('guest', src);
    assert.deepEqual([d.host, d.port, d.user, d.identityFiles], ['10.0.0.5', 2201, 'fallback', [path.join(home, '.ssh', 'k')]]);
    assert.deepEqual(d.jumps.map((j) => [j.user, j.host, j.port]), [['jumper', '127.0.0.9', 22]]);
    assert.deepEqual(resolveDestination('other@guest:7', src).port, 7, 'what the user typed wins');
    assert.deepEqual(configuredHosts(src), ['guest', 'hop']);
    const none = resolveDestination('x@y', { file: path.join(home, 'missing'), home, localUser: 'me' });
    assert.deepEqual([none.user, none.host, none.port, none.source], ['x', 'y', 22, 'as typed']);
    fs.rmSync(home, { recursive: true });
  });
});

describe('known_hosts', () => {
  const ed = blob('ssh-ed25519', 1);
  const ed2 = blob('ssh-ed25519', 2);
  const rsa = blob('ssh-rsa', 3);

  it('matches plain names, patterns, negations and [host]:port the way OpenSSH does', () => {
    assert.ok(hostFieldMatches('a.example,b.example', 'b.example'));
    assert.ok(hostFieldMatches('*.example', 'x.example'));
    assert.ok(!hostFieldMatches('*.example,!bad.example', 'bad.example'));
    assert.ok(hostFieldMatches('[127.0.0.1]:2222', '[127.0.0.1]:2222'));
    assert.ok(!hostFieldMatches('127.0.0.1', '[127.0.0.1]:2222'), 'port 22 entries do not cover other ports');
    const salt = Buffer.alloc(20, 7);
    const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('[h]:2200').digest('base64')}`;
    assert.ok(hostFieldMatches(hashed, '[h]:2200'));
    assert.ok(!hostFieldMatches(hashed, 'h'));
  });

  it('gives known, unknown, changed (file and line) and revoked verdicts; another key type is not a change', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-kh-'));
    const f = path.join(dir, 'known_hosts');
    fs.writeFileSync(f, `# comment\nother ssh-ed25519 ${ed2.toString('base64')}\n[h]:2200 ssh-ed25519 ${ed.toString('base64')}\n`);
    assert.deepEqual(checkHostKey([f], 'h', 2200, ed), { kind: 'known', file: f, line: 3 });
    assert.deepEqual(checkHostKey([f], 'h', 2201, ed), { kind: 'unknown' });
    assert.deepEqual(checkHostKey([f], 'h', 2200, ed2), { kind: 'changed', file: f, line: 3, knownType: 'ssh-ed25519' });
    assert.deepEqual(checkHostKey([f], 'h', 2200, rsa), { kind: 'unknown' });
    fs.appendFileSync(f, `@revoked * ssh-rsa ${rsa.toString('base64')}\n`);
    assert.equal(checkHostKey([f], 'h', 2200, rsa).kind, 'revoked');
    addHostKey(f, 'new', 22, ed2, true);
    assert.deepEqual(checkHostKey([f], 'new', 22, ed2).kind, 'known', 'an appended hashed entry is found again');
    assert.match(fs.readFileSync(f, 'utf8').trim().split('\n').pop()!, /^\|1\|[^|]+\|[^ ]+ ssh-ed25519 /);
    fs.rmSync(dir, { recursive: true });
  });

  it('prints fingerprints as OpenSSH does (SHA256, unpadded base64)', () => {
    assert.match(fingerprint(ed), /^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});

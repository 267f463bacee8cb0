/*
 * The SSH target against real OpenSSH servers (test/ssh/harness.ts): host keys as OpenSSH checks them,
 * every way to authenticate, ~/.ssh/config with Include and ProxyJump through a second sshd, a dropped
 * connection that comes back, remote failures as clear errors, and what the target says about a host that
 * runs no SQLiteOS kernel (this one). No mocked ssh2, no mocked server.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Prompts, NO_PROMPTS } from '../../extension/machines/ssh/auth';
import { Destination, resolveDestination } from '../../extension/machines/ssh/config';
import { ConnectionManager, SshError, connect } from '../../extension/machines/ssh/connection';
import { RemoteTarget } from '../../extension/targets/remote';
import { bundledHelper, sshSource } from '../../extension/machines/sources';
import { NotShown } from '../../extension/targets/target';
import { Agent, Sshd, waitFor, TEST_PASSWORD, TEST_USER, canRun, ensureTestUser, keygen, sshKeygenFingerprint, startAgent } from './harness';
import { skipUnlessRunnable } from '../skip';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'sqliteos.js');
const SUITE = 'SSH target against a real sshd';
const skip = skipUnlessRunnable(SUITE, canRun());

function dest(port: number, user = 'root', extra: Partial<Destination> = {}): Destination {
  return { name: `${user}@127.0.0.1:${port}`, host: '127.0.0.1', port, user, identityFiles: [], jumps: [], source: 'test', ...extra };
}

/** Prompts that record what was asked and answer from the given table. */
function scripted(answers: { trust?: boolean; password?: string; passphrases?: string[] }) {
  const asked: string[] = [];
  const passes = [...(answers.passphrases ?? [])];
  const prompts: Prompts = {
    trustHostKey: async (q) => (asked.push(`hostkey ${q.hostName} ${q.type} ${q.fingerprint}`), answers.trust ?? false),
    password: async (q) => (asked.push(`password ${q.dest}`), answers.password),
    passphrase: async (q) => (asked.push(`passphrase ${path.basename(q.file)}${q.retry ? ' retry' : ''}`), passes.shift()),
    keyboardInteractive: async () => (asked.push('kbd'), undefined),
  };
  return { prompts, asked };
}

describe(SUITE, { skip }, () => {
  let dir: string;
  let key: { priv: string; pub: string };
  let locked: { priv: string; pub: string };
  let sshd: Sshd;
  let known: string;
  const savedAgent = process.env.SSH_AUTH_SOCK;

  before(async () => {
    delete process.env.SSH_AUTH_SOCK;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-ssh-test-'));
    key = keygen(path.join(dir, 'id_plain'));
    locked = keygen(path.join(dir, 'id_locked'), 'open sesame');
    ensureTestUser();
    sshd = await Sshd.start([key.pub, locked.pub]);
    known = path.join(dir, 'known_hosts');
    fs.writeFileSync(known, `${sshd.knownHostsLine()}\n`);
  });
  after(async () => {
    await sshd?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
    if (savedAgent) process.env.SSH_AUTH_SOCK = savedAgent;
  });

  const opts = (prompts: Prompts = NO_PROMPTS, knownHosts = [known]) => ({ prompts, hostKeyPolicy: 'ask' as const, knownHosts, home: dir });

  it('refuses an unknown host key until the user trusts it, showing the SHA256 fingerprint ssh-keygen shows', async () => {
    const kh = path.join(dir, 'kh-unknown');
    const no = scripted({ trust: false });
    await assert.rejects(connect(dest(sshd.port, 'root', { identityFiles: [key.priv] }), opts(no.prompts, [kh])), (e: SshError) => {
      assert.equal(e.kind, 'host-key');
      assert.match(e.message, /unknown host key ssh-ed25519 SHA256:/);
      return true;
    });
    const fp = sshKeygenFingerprint(`${sshd.hostKey}.pub`);
    assert.deepEqual(no.asked, [`hostkey [127.0.0.1]:${sshd.port} ssh-ed25519 ${fp}`]);
    assert.equal(fs.existsSync(kh), false, 'nothing written when the user says no');
    const yes = scripted({ trust: true });
    const c = await connect(dest(sshd.port, 'root', { identityFiles: [key.priv] }), opts(yes.prompts, [kh]));
    c.close();
    assert.equal(fs.readFileSync(kh, 'utf8').trim(), sshd.knownHostsLine().trim());
    const again = scripted({ trust: false });
    (await connect(dest(sshd.port, 'root', { identityFiles: [key.priv] }), opts(again.prompts, [kh]))).close();
    assert.deepEqual(again.asked, [], 'a trusted key is not asked about again');
  });

  it('refuses a changed host key, naming the known_hosts file and line, without asking', async () => {
    const kh = path.join(dir, 'kh-changed');
    const other = keygen(path.join(dir, 'other_host'));
    const [type, b64] = other.pub.split(' ');
    fs.writeFileSync(kh, `# first line\nexample.org ${type} ${b64}\n[127.0.0.1]:${sshd.port} ${type} ${b64}\n`);
    const s = scripted({ trust: true });
    await assert.rejects(connect(dest(sshd.port, 'root', { identityFiles: [key.priv] }), opts(s.prompts, [kh])), (e: SshError) => {
      assert.equal(e.kind, 'host-key');
      assert.match(e.message, new RegExp(`HOST KEY CHANGED.*${kh.replace(/[/.]/g, '\\$&')}:3`));
      return true;
    });
    assert.deepEqual(s.asked, [], 'a changed key is never offered for trust');
  });

  it('accepts a hashed known_hosts entry (ssh-keygen -H)', async () => {
    const kh = path.join(dir, 'kh-hashed');
    fs.writeFileSync(kh, `${sshd.knownHostsLine()}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', kh], { stdio: 'ignore' });
    assert.match(fs.readFileSync(kh, 'utf8'), /^\|1\|/);
    (await connect(dest(sshd.port, 'root', { identityFiles: [key.priv] }), opts(NO_PROMPTS, [kh]))).close();
  });

  it('authenticates with a key, with an encrypted key (passphrase asked again when wrong), with the agent and with a password', async () => {
    (await connect(dest(sshd.port, 'root', { identityFiles: [key.priv] }), opts())).close();

    const p = scripted({ passphrases: ['wrong', 'open sesame'] });
    (await connect(dest(sshd.port, 'root', { identityFiles: [locked.priv] }), opts(p.prompts))).close();
    assert.deepEqual(p.asked, ['passphrase id_locked', 'passphrase id_locked retry']);

    let agent: Agent | undefined;
    try {
      agent = startAgent([key.priv]);
      process.env.SSH_AUTH_SOCK = agent.sock;
      const a = scripted({});
      (await connect(dest(sshd.port, 'root', { identityFiles: [path.join(dir, 'no-such-key')] }), opts(a.prompts))).close();
      assert.deepEqual(a.asked, [], 'the agent answered: no passphrase or password asked');
    } finally {
      delete process.env.SSH_AUTH_SOCK;
      agent?.stop();
    }

    const pw = scripted({ password: TEST_PASSWORD });
    const c = await connect(dest(sshd.port, TEST_USER, { identityFiles: [path.join(dir, 'no-such-key')] }), opts(pw.prompts));
    assert.equal((await c.run('id -un')).toString().trim(), TEST_USER);
    c.close();
    assert.deepEqual(pw.asked, [`password ${TEST_USER}@127.0.0.1:${sshd.port}`]);

    const bad = scripted({ password: 'not it' });
    await assert.rejects(connect(dest(sshd.port, TEST_USER, { identityFiles: [] }), opts(bad.prompts)), (e: SshError) => {
      assert.equal(e.kind, 'auth');
      assert.match(e.message, /authentication failed: no key to offer \(none of ~\/\.ssh\/id_ed25519, id_ecdsa, id_rsa in .* and no IdentityFile for this host\); also tried .*password/);
      return true;
    });

    const stranger = keygen(path.join(dir, 'id_stranger'));
    await assert.rejects(connect(dest(sshd.port, 'root', { identityFiles: [stranger.priv] }), opts(scripted({}).prompts)), (e: SshError) => {
      assert.equal(e.kind, 'auth');
      assert.ok(e.message.includes(`the server refused the key ${stranger.priv}`), e.message);
      return true;
    });
  });

  it('turns a failing remote command into an error with host, command, exit status and stderr', async () => {
    const c = await connect(dest(sshd.port, 'root', { identityFiles: [key.priv] }), opts());
    try {
      await assert.rejects(c.run('ls /no/such/dir'), (e: SshError) => {
        assert.match(e.message, new RegExp(`^root@\\[127\\.0\\.0\\.1\\]:${sshd.port}: 'ls /no/such/dir' failed \\(exit 2\\): ls: cannot access '/no/such/dir'`));
        return true;
      });
    } finally {
      c.close();
    }
  });

  it('shares one pending connection between two requests for the same host', async () => {
    const m = new ConnectionManager(() => opts());
    const d = dest(sshd.port, 'root', { identityFiles: [key.priv] });
    const [a, b] = await Promise.all([m.get(d), m.get(d)]);
    assert.equal(a, b);
    m.closeAll();
  });

  it('runs no timer while the user compares a host key, and connects once it is trusted', async () => {
    const kh = path.join(dir, 'kh-slow');
    const slow: Prompts = { ...NO_PROMPTS, trustHostKey: () => new Promise((r) => setTimeout(() => r(true), 2500)) };
    const c = await connect(dest(sshd.port, 'root', { identityFiles: [key.priv] }), { ...opts(slow, [kh]), timeoutMs: 1000 });
    assert.equal((await c.run('echo up')).toString().trim(), 'up');
    c.close();
  });

  it('connects after Trust even when the server gave up while the user was reading (LoginGraceTime)', async () => {
    const graceful = await Sshd.start([key.pub], ['LoginGraceTime 2']);
    try {
      const kh = path.join(dir, 'kh-grace');
      let asked = 0;
      const slow: Prompts = { ...NO_PROMPTS, trustHostKey: () => (asked++, new Promise((r) => setTimeout(() => r(true), 3500))) };
      const t0 = Date.now();
      const c = await connect(dest(graceful.port, 'root', { identityFiles: [key.priv] }), opts(slow, [kh]));
      assert.equal((await c.run('echo up')).toString().trim(), 'up');
      c.close();
      assert.equal(asked, 1, 'asked once: the second attempt finds the key it trusted');
      assert.ok(Date.now() - t0 < 15000, `the hang-up is noticed at once, not at the attempt's time limit (${Date.now() - t0} ms)`);
    } finally {
      await graceful.dispose();
    }
  });

  it('ends an attempt that gets no answer within its time, names the stage, and never makes a later request wait on it', async () => {
    // It takes connections and never answers; they are destroyed at the end (a paused socket never
    // reads the client's FIN, and would keep the server, and this test process, alive).
    const held: net.Socket[] = [];
    const silent = net.createServer((s) => void held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const m = new ConnectionManager(() => ({ ...opts(), timeoutMs: 1000 }));
      const d = dest(port, 'root', { identityFiles: [key.priv] });
      const t0 = Date.now();
      await assert.rejects(m.get(d), (e: SshError) => {
        assert.equal(e.kind, 'connect');
        assert.match(e.message, /no answer within 1 s during the SSH handshake$/);
        return true;
      });
      assert.ok(Date.now() - t0 < 3000, `${Date.now() - t0} ms`);
      const second = m.get(d);
      m.cancel(d);
      await assert.rejects(second, /cancelled$/);
      m.closeAll();
    } finally {
      for (const s of held) s.destroy();
      silent.close();
    }
  });

  it('resolves ~/.ssh/config with Include and ProxyJump through a second sshd', async () => {
    const jump = await Sshd.start([key.pub]);
    try {
      const home = path.join(dir, 'home');
      fs.mkdirSync(path.join(home, '.ssh', 'conf.d'), { recursive: true });
      fs.writeFileSync(path.join(home, '.ssh', 'known_hosts'), `${sshd.knownHostsLine()}\n${jump.knownHostsLine()}\n`);
      fs.writeFileSync(path.join(home, '.ssh', 'config'), `Include conf.d/*.conf\n\nHost *\n  User nobody-by-default\n`);
      fs.writeFileSync(path.join(home, '.ssh', 'conf.d', '10-hosts.conf'), [
        'Host bastion',
        '  HostName 127.0.0.1',
        `  Port ${jump.port}`,
        '  User root',
        `  IdentityFile ${key.priv}`,
        'Host guest',
        '  HostName 127.0.0.1',
        `  Port ${sshd.port}`,
        `  User ${TEST_USER}`,
        `  IdentityFile ${key.priv}`,
        '  ProxyJump bastion',
        '',
      ].join('\n'));
      const d = resolveDestination('guest', { file: path.join(home, '.ssh', 'config'), home, localUser: 'me' });
      assert.deepEqual([d.host, d.port, d.user, d.jumps.map((j) => `${j.user}@${j.host}:${j.port}`)], ['127.0.0.1', sshd.port, TEST_USER, [`root@127.0.0.1:${jump.port}`]]);
      const c = await connect(d, { prompts: NO_PROMPTS, hostKeyPolicy: 'strict', home });
      assert.equal((await c.run('id -un')).toString().trim(), TEST_USER);
      c.close();
      assert.match(jump.log, /Accepted publickey for root/, 'the jump host carried the connection');
    } finally {
      await jump.dispose();
    }
  });

  it('says exactly that this host runs no SQLiteOS kernel (CLI: exit 1; strict host keys: exit 2)', () => {
    const home = path.join(dir, 'cli-home');
    fs.mkdirSync(path.join(home, '.ssh'), { recursive: true });
    fs.writeFileSync(path.join(home, '.ssh', 'config'), `Host target\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n  IdentityFile ${key.priv}\n`);
    const env = { ...process.env, HOME: home, SSH_AUTH_SOCK: '' };
    const strict = spawnSync('node', [CLI, 'inspect', '--ssh', 'target'], { env, encoding: 'utf8' });
    assert.equal(strict.status, 2, strict.stderr);
    assert.match(strict.stderr, /unknown host key ssh-ed25519 SHA256:\S+: not in .*known_hosts/);
    const r = spawnSync('node', [CLI, 'inspect', '--ssh', 'target', '--accept-new'], { env, encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /root@\[127\.0\.0\.1\]:\d+: No SQLiteOS kernel on this host: Linux \S+ here is not a SQLiteOS kernel \(syscall 548 is not implemented\)/);
    assert.match(fs.readFileSync(path.join(home, '.ssh', 'known_hosts'), 'utf8'), new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 `));
    const q = spawnSync('node', [CLI, 'query', '--ssh', 'target', 'SELECT 1'], { env, encoding: 'utf8' });
    assert.equal(q.status, 1, q.stderr);
  });

  it('marks the target stale while the server is down and reconnects when it is back (a host without SQLiteOS: no kernel state to keep)', async () => {
    const m = new ConnectionManager(() => opts());
    const t = new RemoteTarget(sshSource(dest(sshd.port, 'root', { identityFiles: [key.priv] }), m), bundledHelper(path.join(ROOT, 'dist')), {
      pollIntervalMs: () => 100,
      backoffMs: [100, 400],
    });
    try {
      const facts = await t.start();
      assert.equal(facts.kernel, 'none');
      assert.match(t.info().state, /^connected/);
      assert.deepEqual(t.info().warnings?.length, 1);
      await assert.rejects(t.tableNames(), NotShown);
      const changes: string[] = [];
      t.onDidChange(() => changes.push(t.info().state));
      await sshd.stop();
      await waitFor(() => /^disconnected, reconnecting/.test(t.info().state), 'the drop is noticed');
      assert.ok(t.info().stale, 'marked stale');
      await sshd.launch();
      await waitFor(() => /^connected/.test(t.info().state), 'reconnected after the restart');
      assert.equal(t.info().stale, undefined);
      assert.ok(changes.some((s) => /^disconnected/.test(s)) && /^connected/.test(changes[changes.length - 1]), changes.join('\n'));
    } finally {
      t.dispose();
      m.closeAll();
    }
  });
});

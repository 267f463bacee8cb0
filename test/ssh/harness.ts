/*
 * Real OpenSSH servers for the SSH tests: Debian's /usr/sbin/sshd on 127.0.0.1, a free high port, a
 * throwaway host key and config in a temp dir, its own PidFile; keys made with ssh-keygen, an ssh-agent
 * started for the test, and a test user with a password. Needs root (sshd's privilege separation, the
 * test user); scripts/setup.sh installs openssh-server.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import { freePort } from '../../scripts/code-server';

export { freePort };
import * as os from 'os';
import * as path from 'path';

export const SSHD = '/usr/sbin/sshd';
export const TEST_USER = 'sqliteos-sshtest';
export const TEST_PASSWORD = 'pw-sqliteos-test-1';

export function canRun(): string | undefined {
  if (process.getuid?.() !== 0) return 'the SSH tests start sshd and a test user: run them as root';
  if (!fs.existsSync(SSHD)) return `no ${SSHD}: run scripts/setup.sh ssh as root (Debian's openssh-server)`;
  return undefined;
}

export function keygen(file: string, passphrase = '', type = 'ed25519'): { priv: string; pub: string } {
  fs.rmSync(file, { force: true });
  fs.rmSync(`${file}.pub`, { force: true });
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', 'sqliteos-test', '-f', file]);
  return { priv: file, pub: fs.readFileSync(`${file}.pub`, 'utf8').trim() };
}

/** ssh-keygen's own SHA256 fingerprint of a public key file, to compare with what we show. */
export function sshKeygenFingerprint(pubFile: string): string {
  return execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubFile], { encoding: 'utf8' }).split(' ')[1];
}

export function ensureTestUser(): void {
  try {
    execFileSync('id', [TEST_USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['-m', '-s', '/bin/sh', TEST_USER]);
  }
  execFileSync('chpasswd', { input: `${TEST_USER}:${TEST_PASSWORD}\n` });
}

export class Sshd {
  private proc: ChildProcess | undefined;
  log = '';
  readonly hostKey: string;
  readonly authorized: string;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    this.hostKey = path.join(dir, 'host_ed25519');
    this.authorized = path.join(dir, 'authorized');
  }

  /** A server trusting `pubKeys` for every user (root and the test user). */
  static async start(pubKeys: string[], extra: string[] = []): Promise<Sshd> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-sshd-'));
    fs.chmodSync(dir, 0o755);
    const s = new Sshd(dir, await freePort());
    keygen(s.hostKey);
    fs.mkdirSync(s.authorized, { mode: 0o755 });
    s.authorize(pubKeys);
    fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    fs.writeFileSync(
      path.join(dir, 'sshd_config'),
      [
        `Port ${s.port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${s.hostKey}`,
        `PidFile ${path.join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${s.authorized}/%u`,
        'PasswordAuthentication yes',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'PermitRootLogin yes',
        'StrictModes no',
        'AllowTcpForwarding yes',
        'Subsystem sftp internal-sftp',
        'LogLevel VERBOSE',
        ...extra,
      ].join('\n') + '\n',
    );
    await s.launch();
    return s;
  }

  authorize(pubKeys: string[]): void {
    for (const u of ['root', TEST_USER]) fs.writeFileSync(path.join(this.authorized, u), pubKeys.join('\n') + '\n', { mode: 0o644 });
  }

  /** The host key line for a known_hosts file. */
  knownHostsLine(): string {
    const [type, key] = fs.readFileSync(`${this.hostKey}.pub`, 'utf8').split(' ');
    return `[127.0.0.1]:${this.port} ${type} ${key}`;
  }

  async launch(): Promise<void> {
    this.proc = spawn(SSHD, ['-D', '-e', '-f', path.join(this.dir, 'sshd_config')], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stderr!.on('data', (d) => (this.log += d));
    this.proc.stdout!.on('data', (d) => (this.log += d));
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`sshd exited (${this.proc.exitCode}):\n${this.log}`);
      const up = await new Promise<boolean>((resolve) => {
        const c = net.connect(this.port, '127.0.0.1', () => (c.end(), resolve(true)));
        c.on('error', () => resolve(false));
      });
      if (up) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`sshd did not listen on 127.0.0.1:${this.port} within 10 s:\n${this.log}`);
  }

  /** Stops this server and the sessions it forked (its children: nobody else's sshd is touched). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    try {
      execFileSync('pkill', ['-TERM', '-P', String(p.pid)], { stdio: 'ignore' });
    } catch {
      // no session open
    }
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await gone;
  }

  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface Agent {
  sock: string;
  pid: number;
  stop(): void;
}

export function startAgent(keys: string[]): Agent {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-agent-'));
  const sock = path.join(dir, 'agent.sock');
  const out = execFileSync('ssh-agent', ['-a', sock, '-s'], { encoding: 'utf8' });
  const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(out)![1]);
  for (const k of keys) execFileSync('ssh-add', ['-q', k], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
  return {
    sock,
    pid,
    stop: () => {
      try {
        process.kill(pid);
      } catch {
        // gone
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until `cond` holds (checked every 50 ms), failing after `ms` with `what`. */
export async function waitFor(cond: () => boolean, what: string, ms = 15000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

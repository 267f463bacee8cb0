/*
 * SSH connections, managed in one place (after vscode-sshfs's connection.ts): one per destination, a second
 * request while one is being made shares its promise, keepalive, an event when a connection drops, jump
 * hosts through ProxyJump, remote commands whose failure becomes an error carrying the host, the command,
 * the exit status and stderr, and uploads through SFTP. ssh2 only: nothing shells out to `ssh`.
 */
import * as os from 'os';
import * as path from 'path';
import { Duplex } from 'stream';
import { Client, ConnectConfig, SFTPWrapper } from 'ssh2';
import { AttemptClock, timedPrompts } from './attempt-clock';
import { AuthLog, Prompts, authHandler } from './auth';
import { Destination } from './config';
import { addHostKey, checkHostKey, fingerprint, hostKeyName, keyType } from './known-hosts';

export type HostKeyPolicy = 'ask' | 'accept-new' | 'strict';

export interface ConnectOptions {
  prompts: Prompts;
  /** ask: the user decides on an unknown key; accept-new: added as OpenSSH's accept-new; strict: refused. */
  hostKeyPolicy: HostKeyPolicy;
  /** known_hosts files, the user's (written to) first. */
  knownHosts?: string[];
  home?: string;
  /**
   * How long one attempt may take (TCP connect, handshake, authentication), not counting the time the
   * user spends answering a question (host key, passphrase, password): no timer runs while one is open.
   */
  timeoutMs?: number;
  keepaliveMs?: number;
  /** Ends the attempt (the user's Cancel): the socket is closed and the attempt rejects. */
  signal?: AbortSignal;
  /** A passphrase the UI kept (SecretStorage) for a key file, if any. */
  cachedPassphrase?: (file: string) => Promise<string | undefined>;
}

export class SshError extends Error {
  constructor(
    readonly dest: string,
    message: string,
    readonly kind: 'connect' | 'auth' | 'host-key' | 'command' | 'closed' = 'connect',
  ) {
    super(`${dest}: ${message}`);
  }
}

export interface ExecResult {
  stdout: Buffer;
  stderr: string;
  code: number | null;
  signal?: string;
}

export class Connection {
  private closed = false;
  private readonly dropListeners: ((why: string) => void)[] = [];

  constructor(
    readonly dest: Destination,
    readonly client: Client,
    private readonly jumps: Connection[],
  ) {
    client.on('close', () => this.drop('the connection closed'));
    client.on('error', (e) => this.drop(e.message));
  }

  get label(): string {
    return `${this.dest.user}@${hostKeyName(this.dest.host, this.dest.port)}`;
  }

  onDrop(l: (why: string) => void): void {
    this.dropListeners.push(l);
  }

  private drop(why: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.dropListeners) l(why);
  }

  /** Runs a command; resolves with its output whatever its exit status. */
  exec(command: string, opts: { stdin?: Buffer | string; timeoutMs?: number } = {}): Promise<ExecResult> {
    if (this.closed) return Promise.reject(new SshError(this.label, 'not connected', 'closed'));
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, ch) => {
        if (err) return reject(new SshError(this.label, `cannot run '${command}': ${err.message}`, 'command'));
        const out: Buffer[] = [];
        const errs: Buffer[] = [];
        let timer: NodeJS.Timeout | undefined;
        if (opts.timeoutMs) {
          timer = setTimeout(() => {
            ch.close();
            reject(new SshError(this.label, `'${command}' did not finish within ${opts.timeoutMs} ms`, 'command'));
          }, opts.timeoutMs);
        }
        ch.on('data', (d: Buffer) => out.push(d));
        ch.stderr.on('data', (d: Buffer) => errs.push(d));
        ch.on('close', (code: number | null, signal?: string) => {
          if (timer) clearTimeout(timer);
          resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(errs).toString('utf8'), code, signal });
        });
        if (opts.stdin !== undefined) ch.end(opts.stdin);
        else ch.end();
      });
    });
  }

  /** Runs a command, handing its output (stdout and stderr as they come) to onData; resolves at its end. */
  stream(command: string, onData: (chunk: Buffer) => void, stdin?: Buffer | string): Promise<{ code: number | null; signal?: string }> {
    if (this.closed) return Promise.reject(new SshError(this.label, 'not connected', 'closed'));
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, ch) => {
        if (err) return reject(new SshError(this.label, `cannot run '${command}': ${err.message}`, 'command'));
        ch.on('data', onData);
        ch.stderr.on('data', onData);
        ch.on('close', (code: number | null, signal?: string) => resolve({ code, signal }));
        if (stdin !== undefined) ch.end(stdin);
        else ch.end();
      });
    });
  }

  /** Runs a command that must succeed: a non-zero exit is an error naming host, command, status and stderr. */
  async run(command: string, opts: { stdin?: Buffer | string; timeoutMs?: number } = {}): Promise<Buffer> {
    const r = await this.exec(command, opts);
    if (r.code !== 0) {
      const why = r.stderr.trim() || `no message on stderr`;
      throw new SshError(this.label, `'${command}' failed (${r.code === null ? `signal ${r.signal}` : `exit ${r.code}`}): ${why}`, 'command');
    }
    return r.stdout;
  }

  private sftp: Promise<SFTPWrapper> | undefined;

  /**
   * One SFTP session per connection, opened on first use and closed with the connection: ending it
   * early trips an assertion in dropbear (the guest's server), which then drops the whole connection.
   */
  private sftpSession(): Promise<SFTPWrapper> {
    this.sftp ??= new Promise((resolve, reject) =>
      this.client.sftp((err, sftp) => {
        if (err) {
          this.sftp = undefined;
          return reject(new SshError(this.label, `SFTP: ${err.message}`, 'command'));
        }
        resolve(sftp);
      }),
    );
    return this.sftp;
  }

  /** Writes a file through SFTP (mode applied), via a temporary name renamed into place. */
  async upload(remotePath: string, data: Buffer, mode = 0o755): Promise<void> {
    const sftp = await this.sftpSession();
    const tmp = `${remotePath}.part-${process.pid}`;
    const step = (what: string, f: (cb: (e?: Error | null) => void) => void) =>
      new Promise<void>((resolve, reject) => f((e) => (e ? reject(new SshError(this.label, `upload to ${remotePath}: ${what}: ${e.message}`, 'command')) : resolve())));
    await step('write', (cb) => sftp.writeFile(tmp, data, { mode }, cb));
    // SFTP's rename does not replace an existing file: remove it first (a missing file is fine).
    await step('remove the old file', (cb) => sftp.unlink(remotePath, () => cb()));
    await step('rename', (cb) => sftp.rename(tmp, remotePath, cb));
  }

  close(): void {
    this.drop('closed by the user');
    this.client.end();
    for (const j of this.jumps) j.close();
  }
}

export const DEFAULT_TIMEOUT_MS = 30000;

function forward(via: Connection, host: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) =>
    via.client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => (err ? reject(new SshError(via.label, `cannot reach ${host}:${port} through it: ${err.message}`)) : resolve(stream))),
  );
}

/**
 * Connects (jump hosts first), with the host key checked as OpenSSH does. A key the user trusts during
 * the attempt is stored at once; if the server gave up on us while the user read the fingerprint, the
 * attempt is made once more, now with a known key.
 */
export async function connect(d: Destination, o: ConnectOptions): Promise<Connection> {
  const trusted = { now: false };
  try {
    return await attempt(d, o, trusted);
  } catch (e) {
    if (!trusted.now || !(e instanceof SshError) || e.kind !== 'connect' || o.signal?.aborted) throw e;
    return attempt(d, o, { now: false });
  }
}

/** Where an attempt stands, for the message when it runs out of time. */
type Stage = 'reaching the host' | 'the SSH handshake' | 'authentication';

async function attempt(d: Destination, o: ConnectOptions, trusted: { now: boolean }): Promise<Connection> {
  const home = o.home ?? os.homedir();
  const knownHosts = o.knownHosts ?? [d.knownHostsFile ?? path.join(home, '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts'];
  const jumps: Connection[] = [];
  let sock: Duplex | undefined;
  for (const j of d.jumps) {
    const via = await connect(j, o);
    jumps.push(via);
  }
  if (jumps.length) sock = await forward(jumps[jumps.length - 1], d.host, d.port);
  const label = `${d.user}@${hostKeyName(d.host, d.port)}`;
  const client = new Client();
  const log: AuthLog = { tried: [] };
  let hostKeyError: SshError | undefined;
  let stage: Stage = 'reaching the host';
  let fail: (e: Error & { level?: string }) => void = () => undefined;
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const clock = new AttemptClock(timeoutMs, () => fail(new SshError(label, `no answer within ${Math.round(timeoutMs / 1000)} s during ${stage}`)));
  const prompts = timedPrompts(o.prompts, clock);
  const verify = (key: Buffer, done: (ok: boolean) => void) => {
    stage = 'the SSH handshake';
    const v = checkHostKey(knownHosts, d.host, d.port, key);
    const fp = fingerprint(key);
    if (v.kind === 'known') return done(true);
    if (v.kind === 'changed' || v.kind === 'revoked') {
      const what = v.kind === 'changed' ? `HOST KEY CHANGED: the ${keyType(key)} key offered (${fp}) is not the one in ${v.file}:${v.line}` : `the host key ${fp} is marked @revoked in ${v.file}:${v.line}`;
      hostKeyError = new SshError(label, `${what}. Someone may be intercepting the connection, or the host was reinstalled; if you know why, remove that line and connect again.`, 'host-key');
      return done(false);
    }
    const hostName = hostKeyName(d.host, d.port);
    if (o.hostKeyPolicy === 'accept-new') {
      addHostKey(knownHosts[0], d.host, d.port, key);
      return done(true);
    }
    const refuse = () => {
      hostKeyError = new SshError(label, `unknown host key ${keyType(key)} ${fp}: not in ${knownHosts.join(' or ')} and not trusted (the CLI's --accept-new trusts a new key, as OpenSSH's StrictHostKeyChecking=accept-new does)`, 'host-key');
      done(false);
    };
    if (o.hostKeyPolicy === 'strict') return refuse();
    prompts.trustHostKey({ dest: label, hostName, type: keyType(key), fingerprint: fp, file: knownHosts[0] }).then((yes) => {
      if (!yes) return refuse();
      addHostKey(knownHosts[0], d.host, d.port, key);
      trusted.now = true;
      done(true);
    }, refuse);
  };
  const auth = authHandler(d, home, prompts, log, o.cachedPassphrase ?? (async () => undefined));
  const config: ConnectConfig = {
    host: d.host,
    port: d.port,
    username: d.user,
    sock,
    // ssh2's own handshake timer cannot stop while a question is open: the attempt's clock replaces it.
    readyTimeout: 0,
    keepaliveInterval: o.keepaliveMs ?? 5000,
    keepaliveCountMax: 3,
    hostVerifier: verify as ConnectConfig['hostVerifier'],
    authHandler: (left, partial, next) => {
      stage = 'authentication';
      auth(left, partial, next);
    },
  };
  return new Promise((resolve, reject) => {
    const onAbort = () => fail(new SshError(label, 'cancelled', 'closed'));
    let settled = false;
    fail = (e) => {
      if (settled) return;
      settled = true;
      clock.stop();
      o.signal?.removeEventListener('abort', onAbort);
      client.removeAllListeners('ready');
      client.on('error', () => undefined);
      client.end();
      for (const j of jumps) j.close();
      if (hostKeyError) return reject(hostKeyError);
      if (e instanceof SshError) return reject(e);
      if (e.level === 'client-authentication') return reject(new SshError(label, authFailure(d, home, log), 'auth'));
      reject(new SshError(label, e.message, 'connect'));
    };
    if (o.signal?.aborted) return onAbort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    client.once('connect', () => (stage = 'the SSH handshake'));
    client.once('error', (e) => fail(e));
    // A server that hangs up before we are in (its LoginGraceTime ran out while the user read a host
    // key, say) may send no error at all. The user's answer is awaited first (a key trusted now makes
    // connect() try again), and an error in the same turn says more, so it goes first.
    client.once('close', () => void clock.idle().then(() => setImmediate(() => fail(new SshError(label, `the server closed the connection during ${stage}`)))));
    client.once('ready', () => {
      settled = true;
      clock.stop();
      o.signal?.removeEventListener('abort', onAbort);
      client.removeAllListeners('error');
      // Small requests and answers: without TCP_NODELAY each waits out a delayed ACK (measured on the
      // QEMU guest: a bare `true` 100 ms with Nagle, 18 ms without).
      client.setNoDelay(true);
      resolve(new Connection(d, client, jumps));
    });
    client.connect(config);
  });
}

/** Why no method worked, naming the keys offered (or where none was found). */
function authFailure(d: Destination, home: string, log: AuthLog): string {
  const keys = log.tried.filter((t) => t.startsWith('key ')).map((t) => t.slice(4));
  const others = log.tried.filter((t) => !t.startsWith('key '));
  const keyPart = keys.length
    ? `the server refused the key${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`
    : `no key to offer (${d.identityFiles.length ? `IdentityFile ${d.identityFiles.join(', ')} not found` : `none of ~/.ssh/id_ed25519, id_ecdsa, id_rsa in ${home} and no IdentityFile for this host`})`;
  return `authentication failed: ${keyPart}${others.length ? `; also tried ${others.join(', ')}` : ''}. Give the host an IdentityFile in ~/.ssh/config (Host ${d.name}), or add your public key to the server's authorized_keys`;
}

/** One connection per destination; a request while one is being made shares it. */
export class ConnectionManager {
  private readonly live = new Map<string, Promise<Connection>>();

  constructor(private readonly options: () => ConnectOptions) {}

  static key(d: Destination): string {
    return `${d.user}@${d.host}:${d.port}${d.jumps.map((j) => ` via ${ConnectionManager.key(j)}`).join('')}`;
  }

  private readonly attempts = new Map<string, AbortController>();

  /**
   * The destination's connection, or the attempt under way. Each attempt ends within its time (or when
   * cancelled), so a later request never waits on one that hangs.
   */
  get(d: Destination): Promise<Connection> {
    const key = ConnectionManager.key(d);
    const existing = this.live.get(key);
    if (existing) return existing;
    const abort = new AbortController();
    this.attempts.set(key, abort);
    const p = connect(d, { ...this.options(), signal: abort.signal }).then(
      (c) => {
        this.attempts.delete(key);
        c.onDrop(() => this.live.get(key) === p && this.live.delete(key));
        return c;
      },
      (e) => {
        this.attempts.delete(key);
        if (this.live.get(key) === p) this.live.delete(key);
        throw e;
      },
    );
    this.live.set(key, p);
    return p;
  }

  /** Ends the attempt to reach d, if one is under way (its promise rejects with 'cancelled'). */
  cancel(d: Destination): void {
    this.attempts.get(ConnectionManager.key(d))?.abort();
  }

  closeAll(): void {
    for (const a of this.attempts.values()) a.abort();
    for (const p of this.live.values()) p.then((c) => c.close(), () => undefined);
    this.live.clear();
  }
}

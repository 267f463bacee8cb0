/*
 * A client of GDB's remote serial protocol, as much of it as reading a halted kernel takes: QEMU's
 * gdbstub stops the guest when a client connects; `m` packets read its memory by virtual address
 * (through the CPU's page tables, as gdb does); `D` lets it run on. Used by `sqliteos inspect --gdb`,
 * which needs no gdb binary and no DWARF (the layout record says where everything is).
 */
import * as net from 'net';
import { MemoryError } from '../core/memory/layout';
import { PAGE, PageSource, hex } from '../core/memory/memory';

const REPLY_MS = 10_000;

/** "unix:/path", a socket's path, "host:port", "tcp:host:port" or a port on 127.0.0.1. */
export function gdbEndpoint(spec: string): net.NetConnectOpts {
  const s = spec.replace(/^tcp:/, '');
  if (s.startsWith('unix:')) return { path: s.slice(5) };
  if (s.startsWith('/') || s.startsWith('.')) return { path: s };
  const m = /^(?:(.*):)?(\d+)$/.exec(s);
  if (!m) throw new MemoryError(`gdb endpoint '${spec}': expected unix:PATH, HOST:PORT or PORT`);
  return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
}

function checksum(s: string): string {
  let c = 0;
  for (let i = 0; i < s.length; i++) c = (c + s.charCodeAt(i)) & 0xff;
  return c.toString(16).padStart(2, '0');
}

/** A packet's payload with its run-length encoding (X*n: X repeated n - 29 more times) undone. */
function unRle(s: string): string {
  return s.includes('*') ? s.replace(/(.)\*(.)/g, (_m, c: string, n: string) => c.repeat(n.charCodeAt(0) - 29 + 1)) : s;
}

export class GdbRemote implements PageSource {
  readonly name: string;
  private buf = '';
  /** Commands sent and not answered yet, in order: QEMU answers them one by one as they came. */
  private pending: { resolve: (s: string) => void; reject: (e: Error) => void; timer: NodeJS.Timeout; cmd: string }[] = [];
  private closed: Error | undefined;
  private chunk = 1024;

  private constructor(
    private readonly sock: net.Socket,
    spec: string,
  ) {
    this.name = `gdbstub ${spec}`;
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => this.receive(d));
    const end = (e?: Error) => this.fail(new MemoryError(`${this.name}: the connection ${e ? `failed: ${e.message}` : 'closed'}`));
    sock.on('error', end);
    sock.on('close', () => end());
  }

  static connect(spec: string, timeoutMs = REPLY_MS): Promise<GdbRemote> {
    const opts = gdbEndpoint(spec);
    return new Promise((resolve, reject) => {
      const sock = net.connect(opts);
      const timer = setTimeout(() => (sock.destroy(), reject(new MemoryError(`gdbstub ${spec}: no connection after ${timeoutMs} ms`))), timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(new GdbRemote(sock, spec));
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        const why = (e as NodeJS.ErrnoException).code === 'ECONNREFUSED' || (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'nothing listens there (is the guest started with --gdb?)' : e.message;
        reject(new MemoryError(`gdbstub ${spec}: ${why}`));
      });
    });
  }

  /** Every command waiting fails with e, and so does every later one. */
  private fail(e: Error): void {
    this.closed ??= e;
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(e);
    }
  }

  private receive(d: string): void {
    this.buf += d;
    for (;;) {
      const start = this.buf.indexOf('$');
      if (start < 0) {
        this.buf = '';
        return;
      }
      const end = this.buf.indexOf('#', start);
      if (end < 0 || this.buf.length < end + 3) {
        this.buf = this.buf.slice(start);
        return;
      }
      const body = this.buf.slice(start + 1, end);
      const sum = this.buf.slice(end + 1, end + 3);
      this.buf = this.buf.slice(end + 3);
      if (checksum(body) !== sum.toLowerCase()) {
        this.sock.write('-');
        continue;
      }
      this.sock.write('+');
      const p = this.pending[0];
      // QEMU tells a new client that the guest stopped before it is asked (the stop it made when the
      // client connected): a stop reply is the answer only to a command that waits for one.
      if (/^[ST][0-9a-f]{2}/i.test(body) && !(p && /^[?cs]/.test(p.cmd))) continue;
      if (p) {
        this.pending.shift();
        clearTimeout(p.timer);
        p.resolve(unRle(body));
      }
    }
  }

  /**
   * One command and its reply packet. Commands may be sent before the last is answered (the reads of a
   * page, the blocks of the store): replies come in order; a reply missing leaves the stream out of
   * step, so it ends the connection.
   */
  command(cmd: string): Promise<string> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new MemoryError(`${this.name}: no reply to '${cmd.slice(0, 20)}' after ${REPLY_MS} ms`));
        this.sock.destroy();
      }, REPLY_MS);
      this.pending.push({ resolve, reject, timer, cmd });
      this.sock.write(`$${cmd}#${checksum(cmd)}`);
    });
  }

  /** Asks why the target stopped (QEMU stopped it when we connected) and what packets it takes. */
  async halt(): Promise<string> {
    const features = await this.command('qSupported');
    const size = /PacketSize=([0-9a-f]+)/i.exec(features);
    if (size) this.chunk = Math.max(64, Math.min(4096, Math.floor((parseInt(size[1], 16) - 8) / 2)));
    return this.command('?');
  }

  /** len bytes at addr, in packets of what the stub takes, all sent at once. */
  async read(addr: bigint, len: number): Promise<Buffer> {
    const out = Buffer.alloc(len);
    const parts: Promise<void>[] = [];
    for (let done = 0; done < len; done += this.chunk) {
      const n = Math.min(this.chunk, len - done);
      const a = addr + BigInt(done);
      const at = done;
      parts.push(
        this.command(`m${a.toString(16)},${n.toString(16)}`).then((r) => {
          if (/^E[0-9a-f]{2}$/i.test(r) || r.length !== 2 * n) throw new MemoryError(`${this.name}: cannot read ${n} bytes at ${hex(a)} (${r.slice(0, 8) || 'empty reply'})`);
          out.write(r, at, 'hex');
        }),
      );
    }
    await Promise.all(parts);
    return out;
  }

  page(addr: bigint): Promise<Buffer> {
    return this.read(addr, Number(PAGE));
  }

  /** Lets the guest run on (detach), or leaves it halted; closes the connection. */
  async close(resume: boolean): Promise<void> {
    if (resume && !this.closed) await this.command('D').catch(() => undefined);
    this.sock.end();
    this.sock.destroy();
  }
}

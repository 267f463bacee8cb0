/*
 * QEMU's machine protocol (QMP) on the guest's control socket, for `sqliteos guest dump FILE`: the
 * guest's memory written as an ELF core (dump-guest-memory, guest-physical addresses; the layout
 * record lets `inspect --core` read it without paging information or a vmlinux).
 */
import * as net from 'net';

export class QmpError extends Error {}

/** Runs one QMP command on the socket at path and returns its "return" value. */
export function qmpCommand(socketPath: string, execute: string, args: Record<string, unknown>, timeoutMs = 300_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ path: socketPath });
    let buf = '';
    let step = 0;
    const done = (e: Error | undefined, v?: unknown) => {
      clearTimeout(timer);
      sock.destroy();
      if (e) reject(e);
      else resolve(v);
    };
    const timer = setTimeout(() => done(new QmpError(`QMP ${socketPath}: ${execute} did not finish in ${timeoutMs / 1000} s`)), timeoutMs);
    sock.on('error', (e) => done(new QmpError(`QMP ${socketPath}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'no control socket (is the guest running? it is started with one since 12-07)' : e.message}`)));
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const m = JSON.parse(line) as { QMP?: unknown; return?: unknown; error?: { desc: string }; event?: string };
        if (m.event) continue;
        if (m.error) return done(new QmpError(`QMP ${execute}: ${m.error.desc}`));
        if (step === 0 && m.QMP) {
          step = 1;
          sock.write(`${JSON.stringify({ execute: 'qmp_capabilities' })}\n`);
        } else if (step === 1 && 'return' in m) {
          step = 2;
          sock.write(`${JSON.stringify({ execute, arguments: args })}\n`);
        } else if (step === 2 && 'return' in m) return done(undefined, m.return);
      }
    });
  });
}

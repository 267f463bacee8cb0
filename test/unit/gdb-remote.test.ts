/*
 * The GDB remote-protocol client against a small stub that answers as QEMU's does: packets with
 * checksums and acks, a stop reply sent unasked to a new client (the stop QEMU made when it connected),
 * `m` reads from a buffer, E14 for an address outside it, OK to D. The real gdbstub is tested in
 * test/guest/guest.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'net';
import { GdbRemote, gdbEndpoint } from '../../extension/machines/gdb-remote';

const sum = (s: string) => (Array.from(s).reduce((a, c) => a + c.charCodeAt(0), 0) & 0xff).toString(16).padStart(2, '0');
const packet = (s: string) => `$${s}#${sum(s)}`;

/** A stub holding `mem` at address 0x1000; the commands it saw. */
function stub(mem: Buffer): Promise<{ port: number; seen: string[]; close: () => void }> {
  const seen: string[] = [];
  const server = net.createServer((c) => {
    c.setEncoding('latin1');
    c.write(packet('T05thread:01;')); // unasked, as QEMU's is to a client that connects after another left
    let buf = '';
    c.on('data', (d: string) => {
      buf += d;
      for (let m; (m = /\$([^#]*)#(..)/.exec(buf)); ) {
        buf = buf.slice(m.index + m[0].length);
        const cmd = m[1];
        seen.push(cmd);
        c.write('+');
        let reply = '';
        if (cmd.startsWith('qSupported')) reply = 'PacketSize=40';
        else if (cmd === '?') reply = 'T05thread:01;';
        else if (cmd === 'D') reply = 'OK';
        else if (cmd.startsWith('m')) {
          const [a, n] = cmd.slice(1).split(',').map((x) => parseInt(x, 16));
          reply = a >= 0x1000 && a + n <= 0x1000 + mem.length ? mem.subarray(a - 0x1000, a - 0x1000 + n).toString('hex') : 'E14';
        }
        c.write(packet(reply));
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as net.AddressInfo).port, seen, close: () => server.close() })));
}

describe('the GDB remote-protocol client', () => {
  it('reads memory in packets of the size the stub takes, sent together, answers in order', async () => {
    const mem = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
    const s = await stub(mem);
    const g = await GdbRemote.connect(String(s.port));
    try {
      assert.equal(await g.halt(), 'T05thread:01;', 'the unasked stop reply is not taken for an answer');
      const b = await g.read(0x1005n, 50);
      assert.deepEqual(b, mem.subarray(5, 55));
      // PacketSize 0x40 = 64: (64 - 8) / 2 = 28, but never below 64 bytes a packet
      assert.deepEqual(s.seen.filter((c) => c.startsWith('m')), ['m1005,32']);
      await assert.rejects(g.read(0x2000n, 8), /gdbstub \d+: cannot read 8 bytes at 0x2000 \(E14\)/);
    } finally {
      await g.close(true);
      s.close();
    }
    assert.equal(s.seen.at(-1), 'D', 'let run on');
  });

  it('names the endpoint when nothing listens, and takes the forms a user writes', async () => {
    await assert.rejects(GdbRemote.connect('unix:/nonexistent/gdb.sock'), /gdbstub unix:\/nonexistent\/gdb\.sock: nothing listens there \(is the guest started with --gdb\?\)/);
    assert.deepEqual(gdbEndpoint('1234'), { host: '127.0.0.1', port: 1234 });
    assert.deepEqual(gdbEndpoint('tcp:localhost:1234'), { host: 'localhost', port: 1234 });
    assert.deepEqual(gdbEndpoint('/run/gdb.sock'), { path: '/run/gdb.sock' });
    assert.throws(() => gdbEndpoint('somewhere'), /gdb endpoint 'somewhere': expected unix:PATH, HOST:PORT or PORT/);
  });
});

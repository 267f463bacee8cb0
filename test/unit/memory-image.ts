/*
 * A synthetic kernel memory for the memory reader's tests: pages by virtual address, a bump allocator in
 * a fake direct map, and a layout record written from this file's own struct layouts (not the real
 * kernel's: the reader must go by the record alone).
 */
import { MemoryError } from '../../extension/core/memory/layout';
import type { PageSource } from '../../extension/core/memory/memory';

type Fields = Record<string, [number, number]>;

/** Offsets and sizes of this fake kernel's structs ("struct.field": [offset, size]). */
export const STRUCTS: Record<string, { size: number; fields: Fields }> = {
  list_head: { size: 16, fields: { next: [0, 8] } },
  wait_queue_head: { size: 24, fields: { head: [8, 16] } },
  wait_queue_entry: { size: 40, fields: { private: [8, 8], func: [16, 8], entry: [24, 16] } },
  task_struct: { size: 96, fields: { pid: [0, 4], tgid: [4, 4], comm: [8, 16], tasks: [24, 16], thread_node: [40, 16], signal: [56, 8] } },
  signal_struct: { size: 16, fields: { thread_head: [0, 16] } },
  mutex: { size: 8, fields: { owner: [0, 8] } },
  xarray: { size: 16, fields: { xa_head: [8, 8] } },
  xa_node: { size: 168, fields: { shift: [0, 1], slots: [40, 128] } },
  mem_store: {
    size: 176,
    fields: { name: [0, 64], blocks: [64, 16], size: [80, 8], nblocks: [88, 8], used: [100, 1], current_max_lock: [104, 4], num_readers: [108, 4], read_q: [112, 24], write_q: [136, 24], files: [160, 16] },
  },
  mem_file: { size: 32, fields: { node: [0, 16], id: [16, 4], level: [20, 4], owner: [24, 4] } },
  sqlos_wmutex: { size: 40, fields: { owner: [0, 8], depth: [8, 4], wq: [16, 24] } },
  sqlos_txn: { size: 32, fields: { node: [0, 16], task: [16, 8], flag: [24, 4] } },
  sqlos_pipe: { size: 88, fields: { node: [0, 16], id: [16, 8], buffered: [24, 8], reader: [32, 1], writer: [33, 1], read_wq: [40, 24], write_wq: [64, 24] } },
};

export const COUNTERS = ['sleeps', 'wakeups', 'interrupted', 'bytes_written', 'bytes_read', 'writes', 'reads', 'jobs', 'jobs_deferred', 'ns_write_sql', 'ns_read_sql', 'txns_aborted', 'window_commits', 'window_replays', 'window_replays_failed'];
export const AUTOREMOVE = 0xffffffff810a0000n;
export const POLLWAKE = 0xffffffff810b0000n;
const DIRECT = 0xffff888000000000n;

export const off = (s: string, f: string) => BigInt(STRUCTS[s].fields[f][0]);

export class Image implements PageSource {
  readonly name = 'synthetic memory';
  readonly pages = new Map<bigint, Buffer>();
  private next = DIRECT + 0x100000n;
  readonly symbols = new Map<string, bigint>();
  readonly numbers = new Map<string, bigint>();

  async page(addr: bigint): Promise<Buffer> {
    const p = this.pages.get(addr);
    if (!p) throw new MemoryError(`${this.name}: ${addr.toString(16)} not mapped`);
    return Buffer.from(p);
  }

  /** size bytes, 16-aligned, zeroed. */
  alloc(size: number, align = 16): bigint {
    this.next = (this.next + BigInt(align - 1)) & ~BigInt(align - 1);
    const a = this.next;
    this.next += BigInt(size);
    for (let p = a & ~4095n; p < a + BigInt(size); p += 4096n) if (!this.pages.has(p)) this.pages.set(p, Buffer.alloc(4096));
    return a;
  }

  write(addr: bigint, b: Buffer): void {
    for (let done = 0; done < b.length; ) {
      const a = addr + BigInt(done);
      const base = a & ~4095n;
      let p = this.pages.get(base);
      if (!p) this.pages.set(base, (p = Buffer.alloc(4096)));
      const o = Number(a - base);
      const k = Math.min(b.length - done, 4096 - o);
      b.copy(p, o, done, done + k);
      done += k;
    }
  }

  int(addr: bigint, size: number, v: bigint | number): void {
    const b = Buffer.alloc(size);
    const x = BigInt.asUintN(size * 8, BigInt(v));
    for (let i = 0; i < size; i++) b[i] = Number((x >> BigInt(8 * i)) & 0xffn);
    this.write(addr, b);
  }

  /** Sets a field of the struct at base. */
  set(base: bigint, s: string, f: string, v: bigint | number | string): void {
    const [o, size] = STRUCTS[s].fields[f];
    if (typeof v === 'string') {
      const b = Buffer.alloc(size);
      b.write(v, 'latin1');
      this.write(base + BigInt(o), b);
    } else this.int(base + BigInt(o), size, v);
  }

  /** An empty list at head. */
  listInit(head: bigint): void {
    this.int(head, 8, head);
    this.int(head + 8n, 8, head);
  }

  /** Links the list_heads nodes after head, in order, and back to head. */
  list(head: bigint, nodes: bigint[]): void {
    const all = [head, ...nodes];
    all.forEach((n, i) => {
      this.int(n, 8, all[(i + 1) % all.length]);
      this.int(n + 8n, 8, all[(i + all.length - 1) % all.length]);
    });
  }

  /** The layout record text for this image's structs, symbols and numbers. */
  layout(end = true): string {
    const lines = ['SQLITEOS_LAYOUT 1'];
    for (const [k, v] of this.symbols) lines.push(`SYMBOL(${k})=${v.toString(16)}`);
    for (const [k, v] of this.numbers) lines.push(`NUMBER(${k})=${v}`);
    for (const [s, d] of Object.entries(STRUCTS)) {
      lines.push(`SIZE(${s})=${d.size}`);
      for (const [f, [o, n]] of Object.entries(d.fields)) lines.push(`OFFSET(${s}.${f})=${o}`, `SIZE(${s}.${f})=${n}`);
    }
    if (end) lines.push('END');
    return `${lines.join('\n')}\n`;
  }
}

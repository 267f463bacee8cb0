/*
 * SQLiteOS's state read from a halted companion kernel's memory, by its layout record alone: the
 * stores' lock state and connections, the write mutex, open transactions, kept jobs, every wait queue
 * (the pids asleep in sqlos_sleep, as inspect.c filters them), the pipes, the counters, the command
 * names of pid_store's processes, and the four tables, read with sql.js from the database image put
 * back together from the store's blocks. The result is sqliteos-inspect's JSON (format 1), so the
 * memory path and the SSH path give one Snapshot through one parser (model/inspect-reader.ts).
 *
 * A halted kernel can be in the middle of anything: every list walk is capped and checked for cycles
 * (an error naming the list, never a hang), and what a reader cannot trust is said in warnings: the db
 * lock held, a connection in EXCLUSIVE (pages half written), an open commit window (its operations are
 * not in the tables yet; debugfs would commit them before reading).
 */
import { createHash } from 'crypto';
import type { SqlJsStatic } from 'sql.js';
import { Field, Layout, MemoryError } from './layout';
import { KernelMemory, cString, hex, leUnsigned } from './memory';

const LEVELS = ['NONE', 'SHARED', 'RESERVED', 'PENDING', 'EXCLUSIVE'] as const;
const TABLES = ['pid_store', 'pid_pipe', 'pipe_data', 'pipe_chunk'];
const DB_NAME = '/sqliteos';
/** Entries a list may have before the walk gives up (a process list of a big machine fits). */
export const LIST_CAP = 4_000_000;

export interface MemoryState {
  /** sqliteos-inspect's JSON object (format 1), integers past 2^53 as bigints. */
  json: Record<string, unknown>;
  warnings: string[];
}

interface Store {
  base: bigint;
  name: string;
  size: bigint;
  nblocks: bigint;
  currentMaxLock: number;
  numReaders: number;
  files: bigint;
}

export class KernelReader {
  constructor(
    private readonly mem: KernelMemory,
    private readonly l: Layout,
    private readonly listCap = LIST_CAP,
  ) {}

  /**
   * The entries of a kernel list (list_head at head), as addresses of their list_heads, in order.
   * `step` reads an entry's next (a walk that reads more of each entry on the way passes its own).
   */
  async list(head: bigint, name: string, step?: (at: bigint) => Promise<bigint>): Promise<bigint[]> {
    const next = this.l.field('list_head.next');
    step ??= (a: bigint) => this.mem.field(a, next);
    const out: bigint[] = [];
    const seen = new Set<bigint>();
    for (let at = await step(head); at !== head; at = await step(at)) {
      if (at === 0n) throw new MemoryError(`${this.mem.source.name}: the list ${name} (${hex(head)}) is broken: entry ${out.length + 1} has no next`);
      if (seen.has(at)) throw new MemoryError(`${this.mem.source.name}: the list ${name} (${hex(head)}) loops back to ${hex(at)} after ${out.length} entries without coming back to its head`);
      if (out.length >= this.listCap) throw new MemoryError(`${this.mem.source.name}: the list ${name} (${hex(head)}) has more than ${this.listCap} entries`);
      seen.add(at);
      out.push(at);
    }
    return out;
  }

  /** Entries of a list as the addresses of the structs that hold the list_head at field. */
  async entries(head: bigint, field: string, name: string): Promise<bigint[]> {
    const off = BigInt(this.l.field(field).offset);
    return (await this.list(head, name)).map((a) => a - off);
  }

  async pidOf(task: bigint): Promise<number> {
    return task === 0n ? 0 : Number(await this.mem.field(task, this.l.field('task_struct.pid'), true));
  }

  /** The pids asleep on a wait queue in sqlos_sleep (DEFINE_WAIT: autoremove_wake_function), in queue order. */
  async sleepers(q: bigint, name: string): Promise<number[]> {
    const wake = this.l.symbol('autoremove_wake_function');
    const out: number[] = [];
    for (const w of await this.entries(q + BigInt(this.l.field('wait_queue_head.head').offset), 'wait_queue_entry.entry', name)) {
      const task = await this.mem.field(w, this.l.field('wait_queue_entry.private'));
      if ((await this.mem.field(w, this.l.field('wait_queue_entry.func'))) === wake && task) out.push(await this.pidOf(task));
    }
    return out;
  }

  /** The blocks of an xarray as index -> block address, walked through its nodes (holes skipped). */
  async xarray(xa: bigint, name: string, maxIndex: bigint): Promise<Map<bigint, bigint>> {
    const chunkShift = this.l.int('XA_CHUNK_SHIFT');
    const slots = this.l.field('xa_node.slots');
    const shiftF = this.l.field('xa_node.shift');
    const out = new Map<bigint, bigint>();
    const seen = new Set<bigint>();
    const isNode = (e: bigint) => (e & 3n) === 2n && e > 4096n;
    const visit = async (entry: bigint, index: bigint, depth: number): Promise<void> => {
      if (entry === 0n) return;
      if (isNode(entry)) {
        const node = entry - 2n;
        if (seen.has(node)) throw new MemoryError(`${this.mem.source.name}: the xarray ${name} reaches node ${hex(node)} twice`);
        if (depth > 12) throw new MemoryError(`${this.mem.source.name}: the xarray ${name} is deeper than 12 levels at node ${hex(node)}`);
        seen.add(node);
        const shift = await this.mem.field(node, shiftF);
        const n = 1 << chunkShift;
        const raw = await this.mem.read(node + BigInt(slots.offset), n * 8);
        for (let i = 0; i < n; i++) {
          const e = raw.readBigUInt64LE(i * 8);
          const at = index + (BigInt(i) << shift);
          if (at <= maxIndex) await visit(e, at, depth + 1);
        }
        return;
      }
      // internal entries other than nodes (retry, zero, sibling) hold no block; value entries are not ours
      if ((entry & 3n) === 2n) return;
      if (entry & 1n) throw new MemoryError(`${this.mem.source.name}: the xarray ${name} holds a value entry at index ${index}, not a block`);
      out.set(index, entry);
    };
    await visit(await this.mem.pointer(xa + BigInt(this.l.field('xarray.xa_head').offset)), 0n, 0);
    return out;
  }

  private async stores(): Promise<Store[]> {
    const l = this.l;
    const out: Store[] = [];
    for (let i = 0; i < l.int('stores.count'); i++) {
      const base = l.symbol('stores') + BigInt(i * l.size('mem_store'));
      if (!(await this.mem.field(base, l.field('mem_store.used')))) continue;
      out.push({
        base,
        name: await this.mem.chars(base, l.field('mem_store.name')),
        size: await this.mem.field(base, l.field('mem_store.size')),
        nblocks: await this.mem.field(base, l.field('mem_store.nblocks')),
        currentMaxLock: Number(await this.mem.field(base, l.field('mem_store.current_max_lock'), true)),
        numReaders: Number(await this.mem.field(base, l.field('mem_store.num_readers'), true)),
        files: base + BigInt(l.field('mem_store.files').offset),
      });
    }
    return out;
  }

  private level(v: number, where: string): string {
    for (const name of LEVELS) if (this.l.int(`SQLITE_LOCK_${name}`) === v) return name;
    throw new MemoryError(`${this.mem.source.name}: ${where} holds lock level ${v}, not one of SQLite's`);
  }

  /** The database file put back together from its blocks (blocks never written read as zeros, as mem_read does). */
  async image(s: Store): Promise<Buffer> {
    const bs = BigInt(this.l.int('block_size'));
    if (s.size > 1n << 32n) throw new MemoryError(`${this.mem.source.name}: the store ${s.name} says it is ${s.size} bytes: not believed`);
    const out = Buffer.alloc(Number(s.size));
    const blocks = await this.xarray(s.base + BigInt(this.l.field('mem_store.blocks').offset), `${s.name}.blocks`, (s.size + bs - 1n) / bs);
    // asked for all at once: a source that can pipeline (the gdbstub) answers them back to back
    await Promise.all(
      [...blocks].map(async ([i, addr]) => {
        const at = i * bs;
        if (at >= s.size) return;
        const n = Number(s.size - at < bs ? s.size - at : bs);
        (await this.mem.read(addr, n)).copy(out, Number(at));
      }),
    );
    return out;
  }

  async read(SQL: SqlJsStatic): Promise<MemoryState> {
    const l = this.l;
    const mem = this.mem;
    const warnings: string[] = [];
    const stores = await this.stores();
    const db = stores.find((s) => s.name === DB_NAME);
    if (!db) throw new MemoryError(`${mem.source.name}: no store named ${DB_NAME}: SQLiteOS did not start in this kernel`);
    const conns: unknown[] = [];
    for (const s of stores) {
      for (const f of await this.entries(s.files, 'mem_file.node', `${s.name}.files`)) {
        const level = this.level(Number(await mem.field(f, l.field('mem_file.level'), true)), `a connection of ${s.name}`);
        const id = Number(await mem.field(f, l.field('mem_file.id')));
        conns.push({ store: s.name, id, level, owner: Number(await mem.field(f, l.field('mem_file.owner'), true)) });
        if (level === 'EXCLUSIVE') warnings.push(`connection ${id} holds EXCLUSIVE on ${s.name}: it may be writing pages, the tables read may be half written`);
      }
    }
    const txns: unknown[] = [];
    for (const x of await this.entries(l.symbol('txns'), 'sqlos_txn.node', 'txns')) {
      const flag = Number(await mem.field(x, l.field('sqlos_txn.flag'), true));
      txns.push({ pid: await this.pidOf(await mem.field(x, l.field('sqlos_txn.task'))), kind: flag === l.int('TXN_READ') ? 'read' : 'write' });
    }
    const wm = l.symbol('wmutex');
    const dbLock = (await mem.field(l.symbol('sqlos_db_lock'), l.field('mutex.owner'))) & ~BigInt(l.int('mutex_flags'));
    if (dbLock) warnings.push(`sqlos_db_lock is held by ${await this.pidOf(dbLock)}: the kernel was halted inside SQLiteOS, lock state and tables may be mid-change`);
    const held = await mem.unsigned(l.symbol('window.held'), l.int('window.held.size'));
    if (held) {
      const ops = await mem.unsigned(l.symbol('window.ops'), l.int('window.ops.size'));
      warnings.push(`the commit window holds ${ops} operation${ops === 1n ? '' : 's'} not committed: the tables show the state before ${ops === 1n ? 'it' : 'them'}`);
    }
    const locks = {
      conns,
      txns,
      store: { name: db.name, current_max_lock: this.level(db.currentMaxLock, `the store ${db.name}`), num_readers: db.numReaders },
      write_mutex: { owner: await this.pidOf(await mem.field(wm, l.field('sqlos_wmutex.owner'))), depth: Number(await mem.field(wm, l.field('sqlos_wmutex.depth'))) },
      deferred_jobs: Number(await mem.unsigned(l.symbol('deferred_jobs'), l.int('deferred_jobs.size'))),
    };
    const storeQ = (f: string) => db.base + BigInt(l.field(f).offset);
    const queues = [
      { name: 'store.read_q', pids: await this.sleepers(storeQ('mem_store.read_q'), 'store.read_q') },
      { name: 'store.write_q', pids: await this.sleepers(storeQ('mem_store.write_q'), 'store.write_q') },
      { name: 'write_mutex', pids: await this.sleepers(wm + BigInt(l.field('sqlos_wmutex.wq').offset), 'write_mutex') },
    ];
    const pipes: unknown[] = [];
    for (const p of await this.entries(l.symbol('pipes'), 'sqlos_pipe.node', 'pipes')) {
      const id = await mem.field(p, l.field('sqlos_pipe.id'), true);
      pipes.push({ dataId: Number(id), buffered: Number(await mem.field(p, l.field('sqlos_pipe.buffered'))), reader: !!(await mem.field(p, l.field('sqlos_pipe.reader'))), writer: !!(await mem.field(p, l.field('sqlos_pipe.writer'))) });
      for (const q of ['read_wq', 'write_wq']) {
        const name = `pipe.${id}.${q}`;
        queues.push({ name, pids: await this.sleepers(p + BigInt(l.field(`sqlos_pipe.${q}`).offset), name) });
      }
    }
    const counters: Record<string, number | bigint> = {};
    const first = l.int('syscalls.first');
    for (let i = 0; i < l.int('syscalls.count'); i++) counters[`syscall.${first + i}`] = exact(await mem.unsigned(l.symbol('syscalls') + BigInt(8 * i), 8));
    const counterNames = l.counterNames();
    const raw = await mem.read(l.symbol('counters'), 8 * counterNames.length);
    counterNames.forEach((name, i) => (counters[name] = exact(raw.readBigUInt64LE(8 * i))));
    counters.store_bytes = exact(stores.reduce((n, s) => n + s.nblocks, 0n) * BigInt(l.int('block_size')));
    const tables = this.tables(SQL, await this.image(db), warnings);
    let names;
    try {
      names = await this.names(tables.pid_store);
    } catch (e) {
      // names are extra (processes show as numbers without them): a task list caught mid-change costs only them
      warnings.push(`process names not read: ${(e as Error).message}`);
    }
    return { json: { format: 1, kernel: 'companion', tables, locks, queues, pipes, counters, ...(names ? { names } : {}) }, warnings };
  }

  /** The four tables from the database image, as sqliteos-inspect prints them; an image SQLite refuses is every table busy, with why. */
  private tables(SQL: SqlJsStatic, image: Buffer, warnings: string[]): Record<string, { columns?: string[]; rows?: unknown[][]; count?: number; busy?: string }> {
    const out: Record<string, { columns?: string[]; rows?: unknown[][]; count?: number; busy?: string }> = {};
    let d;
    try {
      d = new SQL.Database(image);
      for (const t of TABLES) {
        const st = d.prepare(`SELECT rowid, * FROM "${t}" ORDER BY rowid`);
        try {
          const columns = st.getColumnNames().slice(1);
          const rows: unknown[][] = [];
          while (st.step()) rows.push((st.get as (p: null, c: { useBigInt: boolean }) => unknown[])(null, { useBigInt: true }).slice(1).map(cell));
          out[t] = { columns, rows, count: rows.length };
        } finally {
          st.free();
        }
      }
    } catch (e) {
      const why = `the database image read from memory (${image.length} bytes) is not one SQLite can read: ${(e as Error).message}`;
      warnings.push(why);
      for (const t of TABLES) out[t] = { busy: why };
    } finally {
      d?.close();
    }
    return out;
  }

  /** What each process of pid_store is called (task_struct.comm), from the task list and each one's threads. */
  private async names(pidStore: { columns?: string[]; rows?: unknown[][] }): Promise<{ comm: [number, string][]; own: number[] }> {
    const l = this.l;
    const want = new Set<number>();
    const col = pidStore.columns?.indexOf('pid') ?? -1;
    for (const r of pidStore.rows ?? []) if (col >= 0) want.add(Number(r[col]));
    // Each leader's fields in one span read on the way along the task list.
    const f = Object.fromEntries(['pid', 'comm', 'tasks', 'thread_node', 'signal'].map((k) => [k, l.field(`task_struct.${k}`)]));
    const lo = Math.min(...Object.values(f).map((x) => x.offset));
    const hi = Math.max(...Object.values(f).map((x) => x.offset + x.size));
    const spans = new Map<bigint, Buffer>();
    const next = l.field('list_head.next').offset;
    const step = async (at: bigint) => {
      const task = at - BigInt(f.tasks.offset);
      const b = await this.mem.span(task + BigInt(lo), hi - lo);
      spans.set(task, b);
      return b.readBigUInt64LE(f.tasks.offset - lo + next);
    };
    await this.list(l.symbol('init_task') + BigInt(f.tasks.offset), 'the task list', step);
    const get = (b: Buffer, x: Field) => leUnsigned(b, x.offset - lo, x.size);
    const comm: [number, string][] = [];
    const name = (b: Buffer) => cString(b.subarray(f.comm.offset - lo, f.comm.offset - lo + f.comm.size));
    for (const [leader, b] of spans) {
      const pid = Number(BigInt.asIntN(32, get(b, f.pid)));
      if (want.has(pid)) comm.push([pid, name(b)]);
      const signal = get(b, f.signal);
      const head = signal + BigInt(l.field('signal_struct.thread_head').offset);
      // one thread: its thread_node leads straight back to the head (the signal_struct not read)
      if (!signal || b.readBigUInt64LE(f.thread_node.offset - lo + next) === head) continue;
      for (const t of await this.entries(head, 'task_struct.thread_node', `the threads of ${hex(leader)}`)) {
        if (t === leader) continue;
        const p = await this.pidOf(t);
        if (want.has(p)) comm.push([p, await this.mem.chars(t, f.comm)]);
      }
    }
    comm.sort((a, b) => a[0] - b[0]);
    return { comm, own: [] };
  }
}

function exact(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
}

/** One value as sqliteos-inspect prints it: integers exact, blobs as length, first 32 bytes and digest. */
function cell(v: unknown): unknown {
  if (typeof v === 'bigint') return exact(v);
  if (v instanceof Uint8Array) {
    const b = Buffer.from(v);
    return { blob: b.length, hex: b.subarray(0, 32).toString('hex'), digest: createHash('sha256').update(b).digest('hex').slice(0, 16) };
  }
  return v;
}

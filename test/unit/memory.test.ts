/*
 * The memory reader (core/memory) on a synthetic kernel: a store of 40 blocks in a three-level xarray
 * with holes (free pages and a tail never written), connections at every level, a writer in PENDING
 * asleep on write_q, a reader and a poll entry on read_q, the write mutex owned with a waiter, a read
 * transaction, two pipes, tasks with their names. The snapshot is checked against what this kernel
 * holds, written out below; a list that loops is an error naming it, never a hang; what a halted kernel
 * may be in the middle of is warned about. The ELF core reader walks page tables built here.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadSqlJs } from '../../extension/core/sim/db';
import { Layout } from '../../extension/core/memory/layout';
import { KernelMemory } from '../../extension/core/memory/memory';
import { KernelReader } from '../../extension/core/memory/kernel-state';
import { parseInspectJson } from '../../extension/core/model/inspect-reader';
import { stringifyExact } from '../../extension/core/format';
import { ElfFile } from '../../extension/core/memory/elf';
import { CoreMemory } from '../../extension/core/memory/core-file';
import { AUTOREMOVE, COUNTERS, Image, POLLWAKE, STRUCTS, off } from './memory-image';

const BIG_SEQ = (8193n << 40n) + 7n; // past 2^53: must stay exact
const LEVEL = { NONE: 0, SHARED: 1, RESERVED: 2, PENDING: 3, EXCLUSIVE: 4 } as const;

/** The database the store holds: the kernel's schema, a few rows, and free pages left by a dropped blob. */
async function database(): Promise<{ image: Buffer; free: number[] }> {
  const SQL = await loadSqlJs();
  const d = new SQL.Database();
  d.exec(`PRAGMA page_size=4096; VACUUM;
    CREATE TABLE pid_store(pid INTEGER PRIMARY KEY, parent_id INT NOT NULL);
    CREATE TABLE pid_pipe(pid INT NOT NULL, fd INT NOT NULL, dataId INT NOT NULL, PRIMARY KEY(pid, fd));
    CREATE TABLE pipe_data(dataId INTEGER PRIMARY KEY NOT NULL, read_wq INT, write_wq INT, data BLOB);
    CREATE TABLE pipe_chunk(seq INTEGER PRIMARY KEY, dataId INT NOT NULL, data BLOB NOT NULL);
    INSERT INTO pid_store VALUES (1,1),(36,36),(38,38),(39,39),(40,40),(41,36);
    INSERT INTO pid_pipe VALUES (36,3,1),(36,4,1),(36,5,8193),(38,3,8193);
    INSERT INTO pipe_data VALUES (1,1,2,NULL),(8193,3,4,NULL);
    INSERT INTO pipe_chunk VALUES (${1n << 40n}, 1, CAST('hello, SQLiteOS' || char(10) AS BLOB));`);
  d.run('INSERT INTO pipe_chunk VALUES (?, 8193, ?)', [Number(BIG_SEQ - 7n), new Uint8Array(135_000).map((_, i) => i & 0xff)]);
  d.run('INSERT INTO pipe_chunk VALUES (1, 1, ?)', [new Uint8Array(40_000)]);
  d.exec('DELETE FROM pipe_chunk WHERE seq = 1');
  const image = Buffer.from(d.export());
  d.close();
  // the freelist's leaf pages (never read by SQLite): left out of the store as holes
  const first = image.readUInt32BE(32);
  const trunk = (first - 1) * 4096;
  const free = Array.from({ length: image.readUInt32BE(trunk + 4) }, (_, i) => image.readUInt32BE(trunk + 8 + 4 * i) - 1);
  return { image, free };
}

interface Kernel {
  img: Image;
  layout: Layout;
  pipes: bigint;
  store: bigint;
  db: Buffer;
  blocks: number;
}

async function kernel(o: { dbLockOwner?: boolean; exclusive?: boolean; window?: number } = {}): Promise<Kernel> {
  const img = new Image();
  const { image: db, free } = await database();
  const sym = (k: string, v: bigint) => img.symbols.set(k, v);
  const num = (k: string, v: number | bigint) => img.numbers.set(k, BigInt(v));
  sym('autoremove_wake_function', AUTOREMOVE);
  for (const [k, v] of Object.entries(LEVEL)) num(`SQLITE_LOCK_${k}`, v);
  num('XA_CHUNK_SHIFT', 4);
  num('block_size', 4096);
  num('mutex_flags', 7);
  num('TXN_READ', 4);

  // tasks: init_task, then 1, 36, 38, 39, 40 and 41 (a thread of 36)
  const task = (pid: number, comm: string) => {
    const t = img.alloc(STRUCTS.task_struct.size);
    img.set(t, 'task_struct', 'pid', pid);
    img.set(t, 'task_struct', 'comm', comm);
    return t;
  };
  const init = task(0, 'swapper/0');
  sym('init_task', init);
  const tasks = new Map<number, bigint>([[1, task(1, 'init')], [36, task(36, 'reader')], [38, task(38, 'txn-reader')], [39, task(39, 'writer')], [40, task(40, 'late-reader')], [41, task(41, 'reader-thread')], [77, task(77, 'sshd')]]);
  const leaders = [1, 36, 38, 39, 40, 77];
  img.list(init + off('task_struct', 'tasks'), leaders.map((p) => tasks.get(p)! + off('task_struct', 'tasks')));
  for (const t of [init, ...leaders.map((p) => tasks.get(p)!)]) {
    const sig = img.alloc(STRUCTS.signal_struct.size);
    img.set(t, 'task_struct', 'signal', sig);
    const members = t === tasks.get(36) ? [t, tasks.get(41)!] : [t];
    img.list(sig, members.map((m) => m + off('task_struct', 'thread_node')));
  }
  const pidTask = (p: number) => tasks.get(p)!;

  const queue = (head: bigint, sleepers: (number | 'poll')[]) => {
    const h = head + off('wait_queue_head', 'head');
    img.list(
      h,
      sleepers.map((s) => {
        const w = img.alloc(STRUCTS.wait_queue_entry.size);
        img.set(w, 'wait_queue_entry', 'func', s === 'poll' ? POLLWAKE : AUTOREMOVE);
        img.set(w, 'wait_queue_entry', 'private', s === 'poll' ? 0xffff888000abc000n : pidTask(s));
        return w + off('wait_queue_entry', 'entry');
      }),
    );
  };

  // the stores: /sqliteos with 3 connections and 40 blocks, a temp store with one
  const stores = img.alloc(8 * STRUCTS.mem_store.size);
  sym('stores', stores);
  num('stores.count', 8);
  const storeAt = (i: number) => stores + BigInt(i * STRUCTS.mem_store.size);
  const conns = (s: bigint, list: [number, number, number][]) =>
    img.list(
      s + off('mem_store', 'files'),
      list.map(([id, level, owner]) => {
        const f = img.alloc(STRUCTS.mem_file.size);
        img.set(f, 'mem_file', 'id', id);
        img.set(f, 'mem_file', 'level', level);
        img.set(f, 'mem_file', 'owner', owner);
        return f + off('mem_file', 'node');
      }),
    );
  for (let i = 0; i < 8; i++) for (const q of ['read_q', 'write_q'] as const) queue(storeAt(i) + off('mem_store', q), []);
  const store = storeAt(2); // not the first slot: stores are found by name
  img.set(store, 'mem_store', 'used', 1);
  img.set(store, 'mem_store', 'name', '/sqliteos');
  img.set(store, 'mem_store', 'current_max_lock', o.exclusive ? LEVEL.EXCLUSIVE : LEVEL.PENDING);
  img.set(store, 'mem_store', 'num_readers', 2);
  conns(store, [[1, o.exclusive ? LEVEL.EXCLUSIVE : LEVEL.PENDING, 39], [2, LEVEL.NONE, 0], [3, LEVEL.SHARED, 38]]);
  queue(store + off('mem_store', 'read_q'), [40, 'poll']);
  queue(store + off('mem_store', 'write_q'), [39]);
  const temp = storeAt(5);
  img.set(temp, 'mem_store', 'used', 1);
  img.set(temp, 'mem_store', 'name', 'temp-0');
  conns(temp, [[4, LEVEL.NONE, 0]]);
  img.listInit(storeAt(0) + off('mem_store', 'files'));

  // its blocks: the database, then 4 blocks of file never written; free pages left out
  const size = db.length + 4 * 4096;
  img.set(store, 'mem_store', 'size', size);
  const present: number[] = [];
  for (let i = 0; i < db.length / 4096; i++) if (!free.includes(i)) present.push(i);
  img.set(store, 'mem_store', 'nblocks', present.length);
  // a three-level xarray (root shift 8, then 4, then the blocks), as a tree grown and not shrunk would be
  const node = (shift: number) => {
    const n = img.alloc(STRUCTS.xa_node.size, 64);
    img.set(n, 'xa_node', 'shift', shift);
    return n;
  };
  const slot = (n: bigint, i: number, v: bigint) => img.int(n + off('xa_node', 'slots') + BigInt(8 * i), 8, v);
  const root = node(8);
  const mids = new Map<number, bigint>();
  const leaves = new Map<number, bigint>();
  for (const i of present) {
    const mid = mids.get(i >> 8) ?? node(4);
    if (!mids.has(i >> 8)) {
      mids.set(i >> 8, mid);
      slot(root, i >> 8, mid | 2n);
    }
    const leaf = leaves.get(i >> 4) ?? node(0);
    if (!leaves.has(i >> 4)) {
      leaves.set(i >> 4, leaf);
      slot(mid, (i >> 4) & 15, leaf | 2n);
    }
    const b = img.alloc(4096, 4096);
    img.write(b, db.subarray(i * 4096, (i + 1) * 4096));
    slot(leaf, i & 15, b);
  }
  slot(leaves.get(free[0] >> 4)!, free[0] & 15, (256n << 2n) | 2n); // a retry entry where a block was
  img.set(store, 'mem_store', 'blocks', 0); // the xarray's lock and flags
  img.int(store + off('mem_store', 'blocks') + off('xarray', 'xa_head'), 8, root | 2n);

  // the write mutex, owned by 39 with 41 waiting; a read transaction of 38; jobs kept; the db lock
  const wm = img.alloc(STRUCTS.sqlos_wmutex.size);
  sym('wmutex', wm);
  img.set(wm, 'sqlos_wmutex', 'owner', pidTask(39));
  img.set(wm, 'sqlos_wmutex', 'depth', 1);
  queue(wm + off('sqlos_wmutex', 'wq'), [41]);
  const txns = img.alloc(16);
  sym('txns', txns);
  const x = img.alloc(STRUCTS.sqlos_txn.size);
  img.set(x, 'sqlos_txn', 'task', pidTask(38));
  img.set(x, 'sqlos_txn', 'flag', 4);
  img.list(txns, [x]);
  const jobs = img.alloc(4);
  img.int(jobs, 4, 2);
  sym('deferred_jobs', jobs);
  num('deferred_jobs.size', 4);
  const dbLock = img.alloc(8);
  sym('sqlos_db_lock', dbLock);
  if (o.dbLockOwner) img.int(dbLock, 8, pidTask(39) | 1n);
  const held = img.alloc(1);
  const ops = img.alloc(4);
  img.int(held, 1, o.window ? 1 : 0);
  img.int(ops, 4, o.window ?? 0);
  sym('window.held', held);
  num('window.held.size', 1);
  sym('window.ops', ops);
  num('window.ops.size', 4);

  // two pipes: 1 with 21 bytes, both ends open; 8193 with 36 asleep reading
  const pipes = img.alloc(16);
  sym('pipes', pipes);
  const pipe = (id: number, buffered: number, sleepers: number[]) => {
    const p = img.alloc(STRUCTS.sqlos_pipe.size);
    img.set(p, 'sqlos_pipe', 'id', id);
    img.set(p, 'sqlos_pipe', 'buffered', buffered);
    img.set(p, 'sqlos_pipe', 'reader', 1);
    img.set(p, 'sqlos_pipe', 'writer', id === 1 ? 1 : 0);
    queue(p + off('sqlos_pipe', 'read_wq'), sleepers);
    queue(p + off('sqlos_pipe', 'write_wq'), []);
    return p + off('sqlos_pipe', 'node');
  };
  img.list(pipes, [pipe(1, 21, []), pipe(8193, 0, [36])]);

  const counters = img.alloc(8 * COUNTERS.length);
  sym('counters', counters);
  COUNTERS.forEach((c, i) => (num(`counter.${c}`, i), img.int(counters + BigInt(8 * i), 8, 100 + i)));
  const syscalls = img.alloc(8 * 11);
  sym('syscalls', syscalls);
  num('syscalls.first', 548);
  num('syscalls.count', 11);
  for (let i = 0; i < 11; i++) img.int(syscalls + BigInt(8 * i), 8, i);
  return { img, layout: Layout.parse(img.layout(), 'test'), pipes, store, db, blocks: present.length };
}

async function snapshot(k: Kernel) {
  const { json, warnings } = await new KernelReader(new KernelMemory(k.img), k.layout).read(await loadSqlJs());
  return { s: parseInspectJson(stringifyExact(json), 'memory'), warnings, json };
}

describe('reading SQLiteOS from a halted kernel\'s memory (synthetic kernel)', () => {
  it('gives the snapshot of what the kernel holds: locks, queues, pipes, names and the tables from the store\'s blocks', async () => {
    const k = await kernel();
    assert.ok(k.blocks >= 36 && k.blocks <= 44, `a store of about 40 blocks (${k.blocks})`);
    const { s, warnings } = await snapshot(k);
    assert.deepEqual(warnings, []);
    assert.deepEqual(s.locks, {
      currentMaxLock: 'PENDING',
      numReaders: 2,
      writeMutex: { owner: 39, waiters: [41] },
      connections: [
        { id: 1, owner: 39, level: 'PENDING', purpose: '/sqliteos' },
        { id: 2, owner: 0, level: 'NONE', purpose: '/sqliteos' },
        { id: 3, owner: 38, level: 'SHARED', purpose: '/sqliteos' },
        { id: 4, owner: 0, level: 'NONE', purpose: 'temp-0' },
      ],
      transactions: [{ pid: 38, kind: 'read' }],
    });
    assert.deepEqual(
      s.queues!.map((q) => [q.id, q.sleepers]),
      [
        [{ kind: 'store', queue: 'read_q' }, [40]], // the poll entry is not a task
        [{ kind: 'store', queue: 'write_q' }, [39]],
        [{ kind: 'mutex' }, [41]],
        [{ kind: 'pipe', dataId: 1, queue: 'read_wq' }, []],
        [{ kind: 'pipe', dataId: 1, queue: 'write_wq' }, []],
        [{ kind: 'pipe', dataId: 8193, queue: 'read_wq' }, [36]],
        [{ kind: 'pipe', dataId: 8193, queue: 'write_wq' }, []],
      ],
    );
    assert.deepEqual(s.pipes, [
      { dataId: 1, buffered: 21, readers: 1, writers: 1 },
      { dataId: 8193, buffered: 0, readers: 1, writers: 0 },
    ]);
    assert.deepEqual(
      s.processes.map((p) => [p.pid, p.handler, p.comm, p.state]),
      [
        [1, 1, 'init', 'runnable'],
        [36, 36, 'reader', 'blocked'],
        [38, 38, 'txn-reader', 'runnable'],
        [39, 39, 'writer', 'blocked'],
        [40, 40, 'late-reader', 'blocked'],
        [41, 36, 'reader-thread', 'blocked'],
      ],
    );
    assert.deepEqual(s.tables.pid_pipe.rows, [[36, 3, 1], [36, 4, 1], [36, 5, 8193], [38, 3, 8193]]);
    const chunks = s.tables.pipe_chunk.rows;
    assert.deepEqual(chunks.map((r) => r[0]), [2 ** 40, BIG_SEQ - 7n], 'seq past 2^53 exact');
    assert.deepEqual(chunks[0][2], { blob: 16, hex: Buffer.from('hello, SQLiteOS\n').toString('hex'), digest: '0c52751e8a6f95b1' });
    assert.equal((chunks[1][2] as { blob: number }).blob, 135_000);
    assert.equal(s.counters['syscall.553'], 5);
    assert.equal(s.counters.window_replays_failed, 114);
    assert.equal(s.counters.store_bytes, k.blocks * 4096);
  });

  it('puts the image back together with zeros where the store has no block', async () => {
    const k = await kernel();
    const reader = new KernelReader(new KernelMemory(k.img), k.layout);
    const size = BigInt(k.db.length + 4 * 4096);
    const image = await reader.image({ base: k.store, name: '/sqliteos', size, nblocks: 0n, currentMaxLock: 0, numReaders: 0, files: 0n });
    assert.equal(image.length, Number(size));
    assert.ok(image.subarray(k.db.length).every((b) => b === 0), 'the tail never written reads as zeros');
    assert.deepEqual(image.subarray(0, 4096), k.db.subarray(0, 4096));
  });

  it('names a list that loops and never hangs on it', async () => {
    const k = await kernel();
    // the second pipe's next points back at the first pipe, not at the list head
    const first = await new KernelMemory(k.img).pointer(k.pipes);
    const second = await new KernelMemory(k.img).pointer(first);
    k.img.int(second, 8, first);
    await assert.rejects(snapshot(k), /the list pipes \(0x[0-9a-f]+\) loops back to 0x[0-9a-f]+ after 2 entries without coming back to its head/);
  });

  it('caps a list that is too long, and a broken one is named too', async () => {
    const k = await kernel();
    const r = new KernelReader(new KernelMemory(k.img), k.layout, 1);
    await assert.rejects(r.list(k.pipes, 'pipes'), /the list pipes \(0x[0-9a-f]+\) has more than 1 entries/);
    const first = await new KernelMemory(k.img).pointer(k.pipes);
    k.img.int(first, 8, 0);
    await assert.rejects(new KernelReader(new KernelMemory(k.img), k.layout).list(k.pipes, 'pipes'), /the list pipes .* is broken: entry 2 has no next/);
  });

  it('warns where the halted kernel was in the middle of something', async () => {
    const { warnings, s } = await snapshot(await kernel({ dbLockOwner: true, exclusive: true, window: 3 }));
    assert.deepEqual(warnings, [
      'connection 1 holds EXCLUSIVE on /sqliteos: it may be writing pages, the tables read may be half written',
      'sqlos_db_lock is held by 39: the kernel was halted inside SQLiteOS, lock state and tables may be mid-change',
      'the commit window holds 3 operations not committed: the tables show the state before them',
    ]);
    assert.equal(s.locks!.currentMaxLock, 'EXCLUSIVE');
  });

  it('shows an image SQLite cannot read as busy tables with the reason, not a crash', async () => {
    const k = await kernel();
    // the first block (the database header) overwritten
    const blocks = await new KernelReader(new KernelMemory(k.img), k.layout).xarray(k.store + 64n, 'blocks', 100n);
    k.img.write(blocks.get(0n)!, Buffer.alloc(4096, 0x5a));
    const { s, warnings } = await snapshot(k);
    assert.match(s.tables.pid_store.busy ?? '', /the database image read from memory \(\d+ bytes\) is not one SQLite can read: file is not a database/);
    assert.equal(warnings.length, 1);
  });

  it('refuses a layout record it cannot trust, naming what is wrong', async () => {
    const k = await kernel();
    assert.throws(() => Layout.parse(k.img.layout(false), 'rec'), /rec: the layout record has no END line/);
    assert.throws(() => Layout.parse('SQLITEOS_LAYOUT 2\nEND\n', 'rec'), /layout record version 2; this version of the companion reads version 1/);
    assert.throws(() => Layout.parse('SQLITEOS_LAYOUT 1\nOFFSET(a.b)=x\nEND\n', 'rec'), /line 2 of the layout record is not KIND\(name\)=value/);
    const l = Layout.parse(k.img.layout().replace(/^SYMBOL\(txns\)=.*\n/m, ''), 'rec');
    await assert.rejects(new KernelReader(new KernelMemory(k.img), l).read(await loadSqlJs()), /rec: the layout record has no SYMBOL\(txns\)/);
  });
});

describe('a saved core (ELF, guest-physical segments)', () => {
  /** A core of 8 MiB: page tables mapping a 2 MiB page and a 4 KiB page, and the layout record in the "kernel image". */
  function core(levels: 4 | 5): string {
    const mem = Buffer.alloc(8 << 20);
    const KMAP = 0xffffffff80000000n;
    const phys = { pgd: 0x1000, p4d: 0x6000, pud: 0x2000, pmd: 0x3000, pt: 0x4000, layout: 0x5000, data: 0x200000, small: 0x7000 };
    const va = { layout: KMAP + BigInt(phys.layout), data: 0xffff888000200000n, small: 0xffffc90000001000n };
    const idx = (a: bigint, level: number) => Number((a >> BigInt(12 + 9 * (level - 1))) & 511n);
    const put = (table: number, i: number, v: bigint) => mem.writeBigUInt64LE(v, table + 8 * i);
    const map = (a: bigint, leaf: (pmd: number) => void) => {
      let top = phys.pgd;
      if (levels === 5) {
        put(phys.pgd, idx(a, 5), BigInt(phys.p4d) | 3n);
        top = phys.p4d;
      }
      put(top, idx(a, 4), BigInt(phys.pud) | 3n);
      put(phys.pud, idx(a, 3), BigInt(phys.pmd) | 3n);
      leaf(phys.pmd);
    };
    map(va.data, (pmd) => put(pmd, idx(va.data, 2), BigInt(phys.data) | 0x83n)); // 2 MiB page
    map(va.small, (pmd) => (put(pmd, idx(va.small, 2), BigInt(phys.pt) | 3n), put(phys.pt, idx(va.small, 1), BigInt(phys.small) | 3n)));
    mem.write('hello from the 2M page', phys.data + 0x1234);
    mem.write('hello from a 4K page', phys.small + 8);
    const rec = `SQLITEOS_LAYOUT 1\nSYMBOL(sqlos_layout)=${va.layout.toString(16)}\nSYMBOL(pgd)=${(KMAP + BigInt(phys.pgd)).toString(16)}\nNUMBER(start_kernel_map)=${-(1n << 31n)}\nNUMBER(phys_base)=0\nNUMBER(pgtable_levels)=${levels}\nEND\n`;
    mem.write(`SQLITEOS_LAYOUT 1\nnot this one\n`, 0x100); // a copy that is not where it says it is
    mem.write(rec, phys.layout);
    // ELF header + one PT_NOTE-less PT_LOAD at physical 0
    const h = Buffer.alloc(64 + 56);
    h.writeUInt32BE(0x7f454c46, 0);
    h[4] = 2;
    h[5] = 1;
    h[6] = 1;
    h.writeUInt16LE(4, 16); // ET_CORE
    h.writeUInt16LE(62, 18);
    h.writeBigUInt64LE(64n, 32);
    h.writeUInt16LE(64, 52);
    h.writeUInt16LE(56, 54);
    h.writeUInt16LE(1, 56);
    h.writeUInt32LE(1, 64); // PT_LOAD
    h.writeBigUInt64LE(BigInt(h.length), 64 + 8);
    h.writeBigUInt64LE(0n, 64 + 24);
    h.writeBigUInt64LE(BigInt(mem.length), 64 + 32);
    h.writeBigUInt64LE(BigInt(mem.length), 64 + 40);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'core-')), 'test.core');
    fs.writeFileSync(file, Buffer.concat([h, mem]));
    return file;
  }

  for (const levels of [4, 5] as const) {
    it(`finds the layout record and reads through ${levels}-level page tables (2 MiB and 4 KiB pages)`, async () => {
      const c = new CoreMemory(new ElfFile(core(levels)));
      try {
        const l = c.findLayout();
        assert.equal(l.int('pgtable_levels'), levels);
        const m = new KernelMemory(c);
        assert.equal((await m.read(0xffff888000201234n, 22)).toString(), 'hello from the 2M page');
        assert.equal((await m.read(0xffffc90000001008n, 20)).toString(), 'hello from a 4K page');
        await assert.rejects(m.read(0xffffc90000005000n, 8), /virtual address 0xffffc90000005000 is not mapped \(level 1 entry 5 not present\)/);
      } finally {
        c.close();
      }
    });
  }

  it('refuses a file that is not a core, and a core without the record, by name', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-'));
    fs.writeFileSync(path.join(dir, 'text'), 'not an elf file at all, not at all, not at all, not at all, not at all');
    assert.throws(() => new ElfFile(path.join(dir, 'text')), /text: not an ELF file/);
    const file = core(4);
    const b = fs.readFileSync(file);
    b.fill(0, 64 + 56 + 0x5000, 64 + 56 + 0x6000);
    fs.writeFileSync(file, b);
    const c = new CoreMemory(new ElfFile(file));
    try {
      assert.throws(() => c.findLayout(), /no SQLiteOS layout record in the dump \(1 copies of its first line, none where it says it is\)/);
    } finally {
      c.close();
    }
  });
});

/*
 * What one poll of a big kernel costs the extension once the bytes have arrived: a format-1 snapshot of
 * N processes each holding an SQL pipe (the shape captured from the companion kernel, test/fixtures/kernel)
 * parsed and checked into the model, diffed against the previous poll, and read the way the views read it
 * (processes, queues, the first page of every table). The baseline, measured in the same run, is a bare
 * JSON.parse of the same text: what any reader of this output has to pay.
 */
import { diffSnapshots, holdBusyTables } from '../model/diff';
import { InspectReader } from '../model/inspect-reader';
import type { Snapshot } from '../model/model';
import { queueKey } from '../model/model';
import { median } from './stats';

/**
 * A companion snapshot with n processes, each holding one pipe with one 16-byte chunk; one reader asleep;
 * and `poller`, the pid of the process that took it (each real poll's own SSH session is a new one).
 */
export function syntheticSnapshot(n: number, sleeper = 2, poller = 99): string {
  const pid = (i: number) => 100 + i;
  const rows = (f: (i: number) => unknown[]) => Array.from({ length: n }, (_, i) => f(i));
  const hex = Buffer.from('hello, SQLiteOS\n').toString('hex');
  const doc = {
    format: 1,
    kernel: 'companion',
    tables: {
      pid_store: { columns: ['pid', 'parent_id'], rows: [...rows((i) => [pid(i), pid(i)]), [poller, poller]], count: n + 1 },
      pid_pipe: { columns: ['pid', 'fd', 'dataId'], rows: [...rows((i) => [pid(i), 3, i + 1]), ...rows((i) => [pid(i), 4, i + 1])], count: 2 * n },
      pipe_data: { columns: ['dataId', 'read_wq', 'write_wq', 'data'], rows: rows((i) => [i + 1, 2 * i + 1, 2 * i + 2, null]), count: n },
      pipe_chunk: { columns: ['seq', 'dataId', 'data'], rows: rows((i) => [(i + 1) * 2 ** 40, i + 1, { blob: 16, hex }]), count: n },
    },
    locks: {
      conns: [{ store: '/sqliteos', id: 1, level: 'NONE', owner: 0 }],
      txns: [],
      store: { name: '/sqliteos', current_max_lock: 'NONE', num_readers: 0 },
      write_mutex: { owner: 0, depth: 0 },
      deferred_jobs: 0,
    },
    queues: [
      { name: 'store.read_q', pids: [] },
      { name: 'store.write_q', pids: [] },
      { name: 'write_mutex', pids: [] },
      ...Array.from({ length: n }, (_, i) => [
        { name: `pipe.${i + 1}.read_wq`, pids: i === sleeper ? [pid(i)] : [] },
        { name: `pipe.${i + 1}.write_wq`, pids: [] },
      ]).flat(),
    ],
    pipes: Array.from({ length: n }, (_, i) => ({ dataId: i + 1, buffered: 16, reader: true, writer: true })),
    counters: { writes: n, reads: 0 },
  };
  return JSON.stringify(doc);
}

/** What the views read of a snapshot: every process, every queue with a sleeper, 200 rows of each table. */
function viewReads(s: Snapshot): number {
  let n = s.processes.filter((p) => p.state === 'blocked').length;
  n += (s.queues ?? []).filter((q) => q.sleepers.length > 0).map((q) => queueKey(q.id)).length;
  for (const t of Object.values(s.tables)) n += t.rows.slice(0, 200).length;
  return n;
}

export interface SnapshotFigures {
  processes: number;
  bytes: number;
  jsonParseMs: number;
  parseMs: number;
  diffMs: number;
  viewReadsMs: number;
  /** parse + diff + view reads, over the bare JSON.parse. */
  ratio: number;
}

export function snapshotBench(n: number, runs: number): SnapshotFigures {
  const a = syntheticSnapshot(n, 2, 98);
  const b = syntheticSnapshot(n, 3, 99);
  const jp: number[] = [];
  const parse: number[] = [];
  const d: number[] = [];
  const views: number[] = [];
  for (let r = 0; r <= runs; r++) {
    let t0 = performance.now();
    JSON.parse(b);
    const t1 = performance.now() - t0;
    // As between two polls: the reader has seen the previous snapshot (its unchanged sections are kept).
    const reader = new InspectReader();
    const prev = reader.read(a, 'bench', 1);
    t0 = performance.now();
    const next = reader.read(b, 'bench', 2);
    const t2 = performance.now() - t0;
    t0 = performance.now();
    holdBusyTables(prev, next);
    diffSnapshots(prev, next);
    const t3 = performance.now() - t0;
    t0 = performance.now();
    viewReads(next);
    const t4 = performance.now() - t0;
    if (r === 0) continue; // warm-up
    jp.push(t1);
    parse.push(t2);
    d.push(t3);
    views.push(t4);
  }
  const f = { processes: n, bytes: b.length, jsonParseMs: median(jp), parseMs: median(parse), diffMs: median(d), viewReadsMs: median(views) };
  return { ...f, ratio: (f.parseMs + f.diffMs + f.viewReadsMs) / f.jsonParseMs };
}

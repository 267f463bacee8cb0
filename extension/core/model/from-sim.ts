/*
 * The simulator in the target model's terms: processes, pipes, locks, wait queues and tables of a
 * SimEngine, for the views and for a run's result alike. The scenario's own vocabulary (the line a
 * process is at, the micro-step) becomes the `activity` text. Tables are read as committed data (what a
 * reader on its own connection would see).
 */
import type { SimEngine } from '../sim/engine';
import type { QueryResult } from '../sim/db';
import type { OpName } from '../sim/program';
import { LOCK_NAMES } from '../sim/types';
import type { Locks, Pipe, Process, WaitQueue } from './model';
import { LockLevel } from './model';
import type { WakeView } from './stuck';

const STATE = { runnable: 'runnable', blocked: 'blocked', exited: 'exited' } as const;

export function simProcesses(k: SimEngine): Process[] {
  return Object.values(k.state.procs).map((p) => ({
    pid: p.pid,
    handler: p.handler,
    parent: p.parent,
    state: STATE[p.status],
    waitingOn: p.waitingOn,
    // The micro-step as the algorithm says it ("Lock write mutex"), not its internal id.
    activity: p.current ? `${p.current.op} (line ${p.current.line}): ${k.program(p.current.op as OpName).at(p.current.step).text}` : null,
  }));
}

/**
 * Each pipe's bytes and open ends. The published kernel keeps no counts: what it has is length(data)
 * and the pid_pipe rows, so that profile's pipes are read from the tables. The companion profile's
 * reads and writes in progress hold their end open (readRefs / writeRefs).
 */
export function simPipes(k: SimEngine): Pipe[] {
  const upstream = k.opts.profile === 'upstream';
  return Object.values(k.state.pipes).map((p) => {
    let { buffered, readers, writers } = p;
    if (upstream) {
      const row = k.db.readCommitted(() =>
        k.db.get(
          'SELECT length(data), (SELECT count(*) FROM pid_pipe WHERE dataId = ?1 AND fd = ?2), (SELECT count(*) FROM pid_pipe WHERE dataId = ?1 AND fd = ?3) FROM pipe_data WHERE dataId = ?1',
          [p.dataId, p.readFd, p.writeFd],
        ),
      );
      [buffered, readers, writers] = (row ?? [0, 0, 0]) as number[];
    }
    const refs = p.readRefs || p.writeRefs ? { readRefs: p.readRefs ?? 0, writeRefs: p.writeRefs ?? 0 } : {};
    return { dataId: p.dataId, buffered, readers, writers, ...refs };
  });
}

export function simLocks(k: SimEngine): Locks {
  const s = k.state.store;
  const level = (n: number) => LOCK_NAMES[n] as LockLevel;
  return {
    currentMaxLock: level(s.currentMaxLock),
    numReaders: s.numReaders,
    writeMutex: { owner: k.state.mutex.owner, waiters: [...k.state.mutex.waiters] },
    connections: s.conns.map((c) => ({ id: c.id, owner: c.pid, level: level(c.level), purpose: c.purpose })),
    transactions: Object.values(k.state.procs)
      .filter((p) => p.txnConn !== null)
      .map((p) => ({ pid: p.pid, kind: p.txnWrite ? ('write' as const) : ('read' as const) })),
  };
}

export function simQueues(k: SimEngine): WaitQueue[] {
  const s = k.state.store;
  const out: WaitQueue[] = [
    { id: { kind: 'store', queue: 'read_q' }, sleepers: s.readQ.map((w) => w.pid) },
    { id: { kind: 'store', queue: 'write_q' }, sleepers: s.writeQ.map((w) => w.pid) },
    { id: { kind: 'mutex' }, sleepers: [...k.state.mutex.waiters] },
  ];
  for (const p of Object.values(k.state.pipes)) {
    out.push({ id: { kind: 'pipe', dataId: p.dataId, queue: 'read_wq' }, sleepers: p.readWq.map((w) => w.pid) });
    out.push({ id: { kind: 'pipe', dataId: p.dataId, queue: 'write_wq' }, sleepers: p.writeWq.map((w) => w.pid) });
  }
  return out;
}

/** What core/model/stuck.ts reads of a simulated kernel. */
export function simWakeView(k: SimEngine): WakeView {
  return { pipes: simPipes(k), locks: simLocks(k), capacity: k.opts.capacity, eofWakesReaders: k.opts.profile === 'companion' };
}

export interface TableDump extends QueryResult {
  name: string;
}

/** Every table's committed rows, in rowid order. */
export function simTables(k: SimEngine): TableDump[] {
  return k.db.tableNames().map((name) => ({ name, ...k.db.dumpTable(name) }));
}

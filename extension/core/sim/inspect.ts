/*
 * Read-only views of a simulated kernel: the shapes the CLI prints and the extension's views will show.
 * Tables are read as committed data (what a reader on its own connection would see).
 */
import type { QueryResult } from './db';
import type { KernelCore } from './kernel';
import { LOCK_NAMES, readEnds, writeEnds } from './types';
import { QueueId, queueName } from '../model/model';

export interface PipeInfo {
  dataId: number;
  buffered: number;
  readers: number;
  writers: number;
  /** Companion: reads / writes in progress holding an end open (a real kernel counts them in "open"). */
  readRefs?: number;
  writeRefs?: number;
  readWq: number[];
  writeWq: number[];
}

export interface ProcInfo {
  pid: number;
  handler: number;
  parent: number;
  state: 'runnable' | 'blocked' | 'exited';
  waitingOn: string | null;
  /** The syscall a process is inside, with its scenario line and current micro-step. */
  inside: { op: string; line: number; step: string } | null;
}

export interface ConnInfo {
  id: number;
  pid: number;
  level: string;
  purpose: string;
}

export interface LockInfo {
  currentMaxLock: string;
  numReaders: number;
  writeMutexOwner: number | null;
  writeMutexWaiters: number[];
  readQ: number[];
  writeQ: number[];
  connections: ConnInfo[];
}

export interface TableDump extends QueryResult {
  name: string;
}

export function tables(k: KernelCore): TableDump[] {
  return k.db.tableNames().map((name) => ({ name, ...k.db.dumpTable(name) }));
}

export function pipes(k: KernelCore): PipeInfo[] {
  const upstream = k.opts.profile === 'upstream';
  return Object.values(k.state.pipes).map((p) => {
    let { buffered, readers, writers } = p;
    if (upstream) {
      // The published kernel keeps no counts: what it has is length(data) and the pid_pipe rows.
      const row = k.db.readCommitted(() =>
        k.db.get(
          'SELECT length(data), (SELECT count(*) FROM pid_pipe WHERE dataId = ?1 AND fd = ?2), (SELECT count(*) FROM pid_pipe WHERE dataId = ?1 AND fd = ?3) FROM pipe_data WHERE dataId = ?1',
          [p.dataId, p.readFd, p.writeFd],
        ),
      );
      [buffered, readers, writers] = (row ?? [0, 0, 0]) as number[];
    }
    const refs = p.readRefs || p.writeRefs ? { readRefs: p.readRefs ?? 0, writeRefs: p.writeRefs ?? 0 } : {};
    return { dataId: p.dataId, buffered, readers, writers, ...refs, readWq: p.readWq.map((w) => w.pid), writeWq: p.writeWq.map((w) => w.pid) };
  });
}

export function processes(k: KernelCore): ProcInfo[] {
  return Object.values(k.state.procs).map((p) => ({
    pid: p.pid,
    handler: p.handler,
    parent: p.parent,
    state: p.status,
    waitingOn: p.waitingOn ? queueName(p.waitingOn) : null,
    inside: p.current ? { op: p.current.op, line: p.current.line, step: p.current.step } : null,
  }));
}

export function lockState(k: KernelCore): LockInfo {
  const s = k.state.store;
  return {
    currentMaxLock: LOCK_NAMES[s.currentMaxLock],
    numReaders: s.numReaders,
    writeMutexOwner: k.state.mutex.owner,
    writeMutexWaiters: [...k.state.mutex.waiters],
    readQ: s.readQ.map((w) => w.pid),
    writeQ: s.writeQ.map((w) => w.pid),
    connections: s.conns.map((c) => ({ id: c.id, pid: c.pid, level: LOCK_NAMES[c.level], purpose: c.purpose })),
  };
}

/**
 * Whether what a blocked process waits for already holds: if so, and nothing is left to run, the wake-up
 * it needed was lost (rather than never due, which is a deadlock).
 */
export function wakeConditionHolds(k: KernelCore, on: QueueId): boolean {
  const s = k.state.store;
  switch (on.kind) {
    case 'pipe': {
      const info = pipes(k).find((p) => p.dataId === on.dataId);
      const pipe = k.state.pipes[on.dataId];
      if (!info) return false;
      // Companion: ends held open by a read or write in progress count (the kernel's file references).
      const [readers, writers] = k.opts.profile === 'companion' && pipe ? [readEnds(pipe), writeEnds(pipe)] : [info.readers, info.writers];
      if (on.queue === 'read_wq') return info.buffered > 0 || (k.opts.profile === 'companion' && writers === 0);
      return info.buffered < k.opts.capacity || readers === 0;
    }
    case 'store':
      return on.queue === 'read_q' ? s.currentMaxLock <= 2 : s.numReaders === 1;
    case 'mutex':
      return k.state.mutex.owner === null;
  }
}

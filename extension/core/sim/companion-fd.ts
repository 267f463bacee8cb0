/*
 * What the companion's syscalls share: finding the pipe an fd names (its struct file, in the kernel), and
 * joining byte chunks.
 */
import type { Exec } from './program';
import { Err, FdEntry, PipeState } from './types';

export function pipeOf(x: Exec): PipeState {
  return x.k.state.pipes[x.l.dataId!];
}

/**
 * A lookup is unseen (program.ts) while nobody shares the caller's fd table: it reads only that table, and
 * the reference it takes to the end adds to a count the caller's own fd already keeps above zero.
 */
export const ownTable = (k: Exec['k'], p: Exec['p']): boolean => k.state.handlers[p.handler].users.length === 1;

/** Looks the fd up in the caller's table; fails the syscall with EBADF unless it is the wanted end. */
export function lookup(x: Exec, fd: number, end: 'r' | 'w' | null): FdEntry | undefined {
  const e = x.k.fdEntry(x.p, fd);
  if (!e || (end !== null && e.end !== end)) {
    const why = !e ? 'not an open fd' : `the ${e.end === 'r' ? 'read' : 'write'} end`;
    x.k.finish(x, Err.EBADF, `EBADF (-9): fd ${fd} is ${why}`);
    return undefined;
  }
  x.l.dataId = e.dataId;
  x.l.end = e.end;
  const pipe = x.k.state.pipes[e.dataId];
  if (end !== null && pipe) {
    // fdget(): the call holds the end open until it returns, even if another task closes the fd meanwhile.
    if (end === 'r') pipe.readRefs = (pipe.readRefs ?? 0) + 1;
    else pipe.writeRefs = (pipe.writeRefs ?? 0) + 1;
    x.l.holds = true;
  }
  return e;
}

/**
 * The companion kernel's answer to a pipe call made inside the caller's own read transaction: the
 * write would wait for the caller's own SHARED lock, so the call fails at once with EDEADLK
 * (kernel-scripts/sqliteos/pipe.c) instead of deadlocking as the paper's algorithm does.
 */
export function refuseInsideTxn(x: Exec): boolean {
  // 553(8)'s holder is not refused: its calls take the write mutex again (sqlos_lock_pipes).
  if (x.p.txnConn === null || x.p.txnWrite) return false;
  x.k.finish(x, Err.EDEADLK, 'EDEADLK (-35): inside its own read transaction the caller would wait for its own SHARED lock');
  return true;
}

/** Joins chunks into one buffer (no copy for a single chunk). */
export function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

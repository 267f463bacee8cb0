/*
 * Syscalls as programs of named micro-steps.
 *
 * A program is a list of steps; a process's place in it is just the step id, and its variables are plain
 * data (Locals), so the whole in-flight state snapshots with structuredClone. A step returns the id of the
 * step to go to, or nothing to fall through; it ends the syscall with x.finish() or puts the process to
 * sleep with x.block(). The steps shared by every syscall (the global write mutex, BEGIN, lock level
 * changes, COMMIT/ROLLBACK) live here; the syscalls themselves are in upstream.ts and companion.ts.
 */
import type { StepKind } from './events';
import type { ProcState, Waiter } from './types';
import { Err, Lock } from './types';
import type { SimEngine } from './engine';

/** A syscall as its caller issued it. */
export type OpCall =
  | { op: 'pipe'; nonblock?: boolean }
  | { op: 'fork'; child: number }
  | { op: 'thread'; child: number }
  | { op: 'write'; fd: number; bytes: Uint8Array }
  | { op: 'read'; fd: number; n: number }
  | { op: 'close'; fd: number }
  | { op: 'exit' }
  | { op: 'query'; sql: string }
  | { op: 'begin'; write?: boolean }
  | { op: 'commit' }
  | { op: 'rollback' }
  | { op: 'savepoint' | 'release' | 'rollback_to'; name: string };

export type OpName = OpCall['op'];

/** The scenario language's operations, in the order its help lists them. */
export const OP_NAMES: readonly OpName[] = ['pipe', 'fork', 'thread', 'write', 'read', 'close', 'exit', 'query', 'begin', 'commit', 'rollback', 'savepoint', 'release', 'rollback_to'];

/** The operations on a process's own transaction (553-557): none takes the write mutex but 553(8). */
export const TXN_OPS: ReadonlySet<string> = new Set(['begin', 'commit', 'rollback', 'savepoint', 'release', 'rollback_to']);

/** The published kernel's functions behind the operations that have one (function breakpoints take either name). */
export const KERNEL_FUNCTIONS: Readonly<Record<string, readonly OpName[]>> = {
  sql_pipe: ['pipe'],
  sql_pipe_write: ['write'],
  sql_pipe_read: ['read'],
  ksqlite_query: ['query'],
  sql_start_transaction: ['begin'],
  sql_rollback_transaction: ['commit', 'rollback'],
  sql_start_savepoint: ['savepoint'],
  sql_release_savepoint: ['release'],
  sql_rollback_savepoint: ['rollback_to'],
};

/**
 * What a profile gives the engine: its syscalls as programs, and what runs when one of them ends
 * (before its result is reported), e.g. the companion kernel's fdput of an end a read or write held.
 */
export interface SimProfile {
  programs: Record<OpName, Program>;
  onFinish?(x: Exec): void;
}

/** Every variable a program keeps between steps; plain data only. */
export interface Locals {
  call: OpCall;
  conn?: number;
  lockResumed?: boolean;
  dataId?: number;
  fds?: number[];
  length?: number;
  data?: Uint8Array;
  readQueue?: number;
  wakeNext?: boolean;
  /** A write under O_NONBLOCK found no room: it returns what it wrote, or -EAGAIN. */
  eagain?: boolean;
  done?: number;
  chunk?: number;
  /** A read's chunks: [seq, how far it is read after this read, its length]. */
  chunks?: number[][];
  /** A write's pipe_chunk tail and newest chunk's length, until it is accounted. */
  tail?: number;
  tailLen?: number;
  toClose?: number[];
  busy?: boolean;
  end?: 'r' | 'w';
  /** A companion read or write holds a reference to its end (fdget) until it returns. */
  holds?: boolean;
  rows?: unknown[][];
  error?: string;
}

export interface Exec {
  k: SimEngine;
  p: ProcState;
  l: Locals;
  /** Set by finish() / block(): the engine stops stepping this process. */
  halted: 'done' | 'blocked' | null;
}

export interface Step {
  id: string;
  kind: StepKind;
  /** The line of the algorithm this step is, as the debugger shows it. */
  text: string;
  /** A step whose guard is false is passed over without being a micro-step of its own. */
  when?: (x: Exec) => boolean;
  /**
   * Changes nothing another process can see (its effects are the process's own until a later step
   * publishes them): the explorer does not try other processes right after it (it commutes with theirs).
   */
  local?: true;
  /**
   * True where the step, run now, changes only the process's own state (or a count no other step tells
   * from zero while the process holds what it counts) and reads nothing another process can change: it
   * commutes with every step of every other process. The explorer's reduced search then runs it on into
   * the process's next step, unswitched; the full search (the oracle) does not take its word for it.
   */
  unseen?: (k: SimEngine, p: ProcState) => boolean;
  run: (x: Exec) => string | void;
}

export class Program {
  private readonly index = new Map<string, number>();
  constructor(
    readonly name: OpName,
    readonly steps: readonly Step[],
  ) {
    steps.forEach((s, i) => {
      if (this.index.has(s.id)) throw new Error(`${name}: duplicate step id ${s.id}`);
      this.index.set(s.id, i);
    });
  }
  at(id: string): Step {
    const i = this.index.get(id);
    if (i === undefined) throw new Error(`${this.name}: no step ${id}`);
    return this.steps[i];
  }
  after(id: string): string | undefined {
    return this.steps[this.index.get(id)! + 1]?.id;
  }
  get first(): string {
    return this.steps[0].id;
  }
}

// ---- steps shared by the syscalls -------------------------------------------------------------------

export const mutexLock = (id = 'mutex_lock'): Step => ({
  id,
  kind: 'mutex',
  text: 'Lock write mutex',
  run: (x) => {
    // Handed over: it owns the mutex when it wakes. Freed and woken: it tries again.
    if (!x.k.mutexLock(x.p)) x.k.block(x, { kind: 'mutex' }, x.k.mutexHandoff ? x.k.programOf(x.p).after(id)! : id);
  },
});

export const mutexUnlock = (id = 'mutex_unlock'): Step => ({
  id,
  kind: 'mutex',
  text: 'Unlock write mutex',
  run: (x) => x.k.mutexUnlock(x.p),
});

/** BEGIN: a new connection (the kernel opens one per operation); locks come with the first statement. */
export const begin = (id = 'begin', write = true): Step => ({
  id,
  kind: 'txn',
  // A new connection at NONE and an empty write transaction: invisible until it locks or commits.
  local: true,
  text: 'BEGIN TRANSACTION',
  run: (x) => {
    x.l.conn = x.k.openConn(x.p, x.l.call.op);
    if (write) x.k.db.beginWrite(x.p.pid);
  },
});

/** A lock level change, as SQLite's pager asks the VFS for it before a statement needs it. */
export const lockTo = (level: Lock, id: string, onBusy = 'busy'): Step => ({
  id,
  kind: 'lock',
  text: `xLock(${Lock[level]})`,
  when: (x) => x.k.connLevel(x.l.conn!) < level || (x.l.lockResumed ?? false),
  run: (x) => {
    const out = x.k.lock(x, level);
    if (out === 'busy') return onBusy;
    if (out === 'wait') return; // x.block() was called
    x.l.lockResumed = false;
  },
});

/** COMMIT: EXCLUSIVE (may wait for readers to leave), write, then unlock to SHARED and to NONE. */
export function commit(prefix = 'commit'): Step[] {
  return [
    {
      // A transaction that wrote asks for EXCLUSIVE; a read-only one commits without it.
      ...lockTo(Lock.EXCLUSIVE, `${prefix}_lock_exclusive`),
      when: (x) => {
        const level = x.k.connLevel(x.l.conn!);
        return (level >= Lock.RESERVED && level < Lock.EXCLUSIVE) || (x.l.lockResumed ?? false);
      },
    },
    {
      id: prefix,
      kind: 'txn',
      text: 'COMMIT',
      run: (x) => {
        if (x.k.db.writer === x.p.pid) x.k.db.commitWrite();
      },
    },
    {
      id: `${prefix}_unlock_shared`,
      kind: 'lock',
      text: 'xUnlock(SHARED)',
      when: (x) => x.k.connLevel(x.l.conn!) > Lock.SHARED,
      run: (x) => x.k.unlock(x, Lock.SHARED),
    },
    {
      id: `${prefix}_unlock_none`,
      kind: 'lock',
      text: 'xUnlock(NONE)',
      run: (x) => x.k.unlock(x, Lock.NONE, true),
    },
  ];
}

/**
 * The tail every locking syscall shares for SQLITE_BUSY (memdb policy): roll back, drop the lock,
 * release the mutex if held, and return -5 as the published kernel does.
 */
/** A failed statement's transaction given up: this process's writes rolled back, its lock let go. */
export function rollbackStep(id: string, text: string): Step {
  return {
    id,
    kind: 'txn',
    text,
    run: (x) => {
      if (x.k.db.writer === x.p.pid) x.k.db.rollbackWrite();
      x.k.unlock(x, Lock.NONE, true);
    },
  };
}

export function busyTail(holdsMutex: boolean): Step[] {
  const steps: Step[] = [rollbackStep('busy', 'ROLLBACK (SQLITE_BUSY)')];
  if (holdsMutex) steps.push(mutexUnlock('busy_mutex_unlock'));
  steps.push({
    id: 'busy_return',
    kind: 'return',
    text: 'return SQLITE_BUSY',
    run: (x) => x.k.finish(x, -5, 'SQLITE_BUSY (-5): the memdb VFS refused the lock'),
  });
  return steps;
}

export const ret = (id: string, text: string, value: (x: Exec) => number): Step => ({
  id,
  kind: 'return',
  text,
  run: (x) => x.k.finish(x, value(x)),
});

/** Runs a write statement of the syscall's transaction, telling listeners which SQL ran. */
export function execSql(x: Exec, text: string, params: (number | Uint8Array | null)[] = []): number {
  if (x.k.listening) x.k.emit({ pid: x.p.pid, line: x.p.current!.line, type: 'sql', sql: text });
  return x.k.db.write(text, params);
}

/** Runs a read statement of the syscall's transaction. */
export function querySql(x: Exec, text: string, params: (number | Uint8Array)[] = []): unknown[][] {
  if (x.k.listening) x.k.emit({ pid: x.p.pid, line: x.p.current!.line, type: 'sql', sql: text });
  return x.k.db.all(text, params);
}

/** SHARED then RESERVED: what a transaction's first write asks the VFS for. */
export const lockWrite = (): Step[] => [lockTo(Lock.SHARED, 'lock_shared'), lockTo(Lock.RESERVED, 'lock_reserved')];

export interface WaitSpec {
  /** The queue to join (a pipe's read_wq or write_wq). */
  queue: (x: Exec) => Waiter[] | undefined;
  name: 'read_wq' | 'write_wq';
  /** Exclusive waiters are woken one at a time. */
  exclusive: boolean;
  prepareText: string;
  /** Where to go once the mutex is held again. */
  retry: string;
}

/**
 * Sleeping on a pipe queue: join it while holding the mutex (so no wake-up is lost), drop the mutex,
 * schedule, leave the queue, take the mutex again and go back to `retry`.
 */
export function sleepOn(w: WaitSpec): Step[] {
  // Lock policy sqliteos-as-printed: a reader drops the mutex before it joins read_wq, as algorithm 5 is
  // printed ("Unlock write mutex; sleep on read_waitqueue"); a writer in that gap wakes nobody.
  const asPrinted = (x: Exec) => w.name === 'read_wq' && x.k.opts.locks === 'sqliteos-as-printed';
  return [
    {
      // Companion: asleep, 553(8)'s holder would hold every pipe (sqlos_pipe_sleep); a write returns what it wrote.
      id: 'prepare_wait',
      // a sleep step, as prepare_to_wait was: the searches' switch point before joining the queue stays
      kind: 'sleep',
      text: 'holding the write mutex from user space (553(8))? -EDEADLK instead of sleeping',
      when: (x) => x.k.state.mutex.owner === x.p.pid && x.k.state.mutex.nested !== undefined,
      run: (x) => {
        x.k.mutexUnlock(x.p);
        if (x.l.done) return x.k.finish(x, x.l.done);
        x.k.finish(x, Err.EDEADLK, `EDEADLK (-35): it holds the write mutex (553(8)) and would sleep on ${w.name} holding every pipe`);
      },
    },
    { id: 'prepare_to_wait', kind: 'sleep', text: w.prepareText, when: (x) => !asPrinted(x), run: (x) => x.k.prepareToWait(x.p, w.queue(x)!, w.exclusive) },
    mutexUnlock('wait_mutex_unlock'),
    {
      id: 'late_prepare',
      kind: 'sleep',
      text: `sleep on ${w.name}: joined only now, after the mutex was dropped (algorithm 5 as printed)`,
      when: asPrinted,
      run: (x) => x.k.prepareToWait(x.p, w.queue(x)!, w.exclusive),
    },
    {
      id: 'sleep',
      kind: 'sleep',
      text: `schedule() on ${w.name}`,
      run: (x) => void x.k.sleep(x, { kind: 'pipe', dataId: x.l.dataId!, queue: w.name }, 'finish_wait'),
    },
    {
      id: 'finish_wait',
      kind: 'sleep',
      text: 'finish_wait',
      run: (x) => {
        const q = w.queue(x);
        if (q) x.k.finishWait(x.p, q);
      },
    },
    { ...mutexLock('relock'), run: (x) => (x.k.mutexLock(x.p) ? w.retry : x.k.block(x, { kind: 'mutex' }, x.k.mutexHandoff ? 'relocked' : 'relock')) },
    { id: 'relocked', kind: 'mutex', text: 'mutex handed over', run: () => w.retry },
  ];
}

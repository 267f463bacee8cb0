/*
 * What a SQLiteOS kernel looks like to the views, whichever kernel it is: the simulator, the companion
 * kernel (debugfs through sqliteos-inspect) or the published one (tables through 549 and its log). Each
 * source maps into these types (model/from-sim.ts, model/kernel-json.ts); nothing here knows the scenario
 * language or a transport. Wait queues are named by structured ids, never by strings parsed back.
 */

export type LockLevel = 'NONE' | 'SHARED' | 'RESERVED' | 'PENDING' | 'EXCLUSIVE';
export const LOCK_LEVELS: readonly LockLevel[] = ['NONE', 'SHARED', 'RESERVED', 'PENDING', 'EXCLUSIVE'];

export function isLockLevel(s: unknown): s is LockLevel {
  return typeof s === 'string' && (LOCK_LEVELS as readonly string[]).includes(s);
}

/** A wait queue: the VFS store's read_q / write_q, the global write mutex's, or one end of a pipe. */
export type QueueId =
  | { kind: 'store'; queue: 'read_q' | 'write_q' }
  | { kind: 'mutex' }
  | { kind: 'pipe'; dataId: number; queue: 'read_wq' | 'write_wq' };

/** A stable string for a queue (tree item ids, map keys); never parsed back. */
export function queueKey(q: QueueId): string {
  switch (q.kind) {
    case 'store':
      return `store.${q.queue}`;
    case 'mutex':
      return 'write_mutex';
    case 'pipe':
      return `pipe.${q.dataId}.${q.queue}`;
  }
}

/**
 * A queue's name in one line, as `sqliteos run --json` reports `waitingOn` and the views print it:
 * "read_q", "write_q", "write mutex", "pipe 3 read_wq".
 */
export function queueName(q: QueueId): string {
  switch (q.kind) {
    case 'store':
      return q.queue;
    case 'mutex':
      return 'write mutex';
    case 'pipe':
      return `pipe ${q.dataId} ${q.queue}`;
  }
}

/** Who owns a queue and its name, as a person reads them: ["VFS store", "read_q"], ["pipe 3", "read_wq"]. */
export function queueLabel(q: QueueId): { owner: string; name: string } {
  switch (q.kind) {
    case 'store':
      return { owner: 'VFS store', name: q.queue };
    case 'mutex':
      return { owner: 'kernel', name: 'global write mutex' };
    case 'pipe':
      return { owner: `pipe ${q.dataId}`, name: q.queue };
  }
}

export interface Process {
  pid: number;
  /** pid_store.parent_id: the process whose fd table this one uses (the paper's handler_id). */
  handler: number;
  /** The parent pid, where the source knows it (the kernel's tables do not). */
  parent: number | null;
  /** runnable: not asleep on a SQLiteOS queue (it may be asleep elsewhere, or running). */
  state: 'runnable' | 'blocked' | 'exited';
  waitingOn: QueueId | null;
  /** What it is doing, in the source's words ("write (line 7, sleep)"), or null. */
  activity: string | null;
  /** A real kernel's: its command name (/proc/PID/comm), where it is still running. */
  comm?: string;
  /** A real kernel's: one of the companion's own (the SSH session and helper reading the kernel). */
  own?: true;
}

export interface Pipe {
  dataId: number;
  buffered: number;
  /** Open read / write ends (the kernel reports 0 or 1 for each end: whether any is open). */
  readers: number;
  writers: number;
  /**
   * The simulator's companion profile: reads / writes in progress holding an end open, counted apart
   * from `readers` / `writers` (a real kernel counts them among its open ends).
   */
  readRefs?: number;
  writeRefs?: number;
}

/** Ends held open, by a file or by a read or write in progress. */
export function openEnds(p: Pipe): { read: number; write: number } {
  return { read: p.readers + (p.readRefs ?? 0), write: p.writers + (p.writeRefs ?? 0) };
}

export interface Connection {
  id: number;
  /** The pid holding it (0: none). */
  owner: number;
  level: LockLevel;
  /** What it is for ("read", "write", "kernel"), where the source says. */
  purpose: string;
}

export interface Locks {
  currentMaxLock: LockLevel;
  numReaders: number;
  writeMutex: { owner: number | null; waiters: number[] };
  connections: Connection[];
  /** Open 553 transactions (companion kernel only). */
  transactions: { pid: number; kind: 'read' | 'write' }[];
}

export interface WaitQueue {
  id: QueueId;
  /** pids asleep on it, in the order they will be woken. */
  sleepers: number[];
}

/**
 * A table value. Integers past 2^53 (pipe_chunk.seq is dataId << 40) are bigints, so none is rounded; a
 * kernel blob is its length, the hex of its first bytes and, from kernels that send it, the first 16 hex
 * digits of the SHA-256 of every byte.
 */
export type Value = number | bigint | string | Uint8Array | { blob: number; hex: string; digest?: string } | null;

export interface Table {
  columns: string[];
  rows: Value[][];
  /** Rows the kernel has; may exceed rows.length where the source sends a page. */
  count: number;
  /** Why the table could not be read just now (a writer held PENDING), if so. */
  busy?: string;
  /** Set when the rows are an earlier snapshot's, kept because this one could not read them: its time. */
  heldFrom?: number;
}

export type KernelKind = 'simulator' | 'companion' | 'upstream';

/** Everything one poll of a kernel shows: the views all read one snapshot, so they agree. */
export interface Snapshot {
  kernel: KernelKind;
  /** When it was taken (ms since the epoch). */
  takenAt: number;
  tables: Record<string, Table>;
  processes: Process[];
  pipes: Pipe[];
  /** null where the kernel does not show them (the published kernel), with the reason. */
  locks: Locks | null;
  queues: WaitQueue[] | null;
  unavailable?: string;
  counters: Record<string, number>;
  /** Read from a halted kernel's memory: what it may have been in the middle of (core/memory). */
  warnings?: string[];
}

/** The pids asleep on one queue, in wake-up order ([] for a queue not listed). */
export function sleepersOn(queues: WaitQueue[], id: QueueId): number[] {
  const key = queueKey(id);
  return queues.find((q) => queueKey(q.id) === key)?.sleepers ?? [];
}

/** The queues the Wait Queues view lists, store first, then the mutex, then each pipe's two. */
export function orderQueues(queues: WaitQueue[]): WaitQueue[] {
  const rank = (q: QueueId) => (q.kind === 'store' ? 0 : q.kind === 'mutex' ? 1 : 2);
  return [...queues].sort((a, b) => {
    const r = rank(a.id) - rank(b.id);
    if (r) return r;
    if (a.id.kind === 'pipe' && b.id.kind === 'pipe') return a.id.dataId - b.id.dataId || a.id.queue.localeCompare(b.id.queue);
    return queueKey(a.id).localeCompare(queueKey(b.id));
  });
}

/*
 * The simulator's vocabulary: lock levels, errno values, and the plain-data shapes of the kernel state.
 * Everything in KernelState is plain data (no class instances, no closures) so a snapshot is one
 * structuredClone and a restore is an assignment.
 */
import type { QueueId } from '../model/model';

export type Profile = 'upstream' | 'companion';
/**
 * sqliteos: the paper's MMemLock / MMemUnlock (waits); memdb: stock SQLite (SQLITE_BUSY);
 * sqliteos-as-printed: sqliteos, with pipe reads that drop the write mutex before joining read_wq, as the
 * paper's algorithm 5 is printed (a wake-up can be lost).
 */
export type LockPolicy = 'sqliteos' | 'memdb' | 'sqliteos-as-printed';

export const PROFILES: readonly Profile[] = ['upstream', 'companion'];
export const LOCK_POLICIES: readonly LockPolicy[] = ['sqliteos', 'memdb', 'sqliteos-as-printed'];

/** SQLite's lock levels (sqlite3.h SQLITE_LOCK_*), in order of exclusivity. */
export enum Lock {
  NONE = 0,
  SHARED = 1,
  RESERVED = 2,
  PENDING = 3,
  EXCLUSIVE = 4,
}

export const LOCK_NAMES = ['NONE', 'SHARED', 'RESERVED', 'PENDING', 'EXCLUSIVE'] as const;

/** Negative results a syscall can return: Linux errno values and the SQLite codes upstream returns. */
export const Err = {
  EPERM: -1,
  EINTR: -4,
  EBADF: -9,
  EAGAIN: -11,
  ENOMEM: -12,
  EFAULT: -14,
  EINVAL: -22,
  EMFILE: -24,
  EFBIG: -27,
  EPIPE: -32,
  EDEADLK: -35,
  ENOSYS: -38,
  ETIMEDOUT: -110,
  SQLITE_BUSY: -5,
  SQLITE_NOMEM: -7,
  SQLITE_DONE: -101,
} as const;

const ERR_NAMES = new Map<number, string>(Object.entries(Err).map(([name, code]) => [code, name]));

/** Linux errno values by name, as a scenario's `== ENAME` names them (SQLite's codes are not errnos). */
export const ERRNOS: ReadonlyMap<string, number> = new Map(Object.entries(Err).filter(([name]) => name.startsWith('E')));

/** An errno's name alone (EAGAIN), undefined for one not in the table. */
export function errnoName(code: number): string | undefined {
  const name = ERR_NAMES.get(code);
  return name?.startsWith('E') ? name : undefined;
}

export function errName(code: number): string {
  return `${ERR_NAMES.get(code) ?? 'error'} (${code})`;
}

/** A process sleeping on a wait queue. Exclusive waiters are woken one at a time (wake-one). */
export interface Waiter {
  pid: number;
  exclusive: boolean;
}

/** One end of a pipe as an fd table entry sees it. */
export interface FdEntry {
  dataId: number;
  /** Which end the fd was created as; upstream fds are bare numbers and ignore it. */
  end: 'r' | 'w';
}

/** A file-descriptor table, shared by the threads of one handler (CLONE_FILES). */
export interface Handler {
  id: number;
  fds: Record<number, FdEntry>;
  /** pids of the live tasks using this table. */
  users: number[];
  /** fds taken by get_unused_fd_flags and not yet installed (a pipe call in progress): no one else gets them. */
  reserved?: number[];
}

export interface PipeState {
  dataId: number;
  /** Bytes buffered, kept by the kernel beside the table (companion); upstream reads length(data). */
  buffered: number;
  /** fd table entries naming each end, across every live handler (companion: EOF and EPIPE). */
  readers: number;
  writers: number;
  /** Companion: reads and writes in progress, each holding its end open (fdget) until it returns. */
  readRefs?: number;
  writeRefs?: number;
  /** The fd numbers the pipe was created with (upstream counts pid_pipe rows naming them). */
  readFd: number;
  writeFd: number;
  readWq: Waiter[];
  writeWq: Waiter[];
  /** Queue ids stored in pipe_data.read_wq / write_wq (companion) or the fake kernel addresses (upstream). */
  readWqId: number;
  writeWqId: number;
  /** Companion: pipe_chunk.seq of the next chunk written: dataId << 40, plus one per chunk (pipe.c's tail). */
  tail?: number;
  /** Companion: pipe_data.head_read, the bytes of the oldest chunk already read (pipe.c's head_read). */
  headRead?: number;
  /** Companion: the bytes in the newest chunk while one is unread (pipe.c's tail_len), for merging small writes. */
  tailLen?: number;
  /** Companion: made by sql_pipe2 with O_NONBLOCK (both ends): -EAGAIN instead of sleeping for bytes or room. */
  nonblock?: true;
}

/** A database connection opened by a syscall or by a `begin` transaction. */
export interface Conn {
  id: number;
  pid: number;
  level: Lock;
  /** What opened it: the syscall name, or 'begin'. */
  purpose: string;
}

export interface LockStore {
  /** sqliteos policy: the paper's current_max_lock; memdb: derived from the connections. */
  currentMaxLock: Lock;
  numReaders: number;
  readQ: Waiter[];
  writeQ: Waiter[];
  /** memdb's nWrLock (stock memdb counts a writer apart from the readers). */
  nWrLock: number;
  conns: Conn[];
}

export interface MutexState {
  owner: number | null;
  waiters: number[];
  /** Companion: holds beyond the first, by a 553(8) holder's own calls (the kernel's wmutex.depth - 1). */
  nested?: number;
}

export type ProcStatus = 'runnable' | 'blocked' | 'exited';

/** Where a process is inside the syscall it is running. */
export interface InFlight {
  /** Index of the statement in the process's own statement list (scenario) or -1 for direct calls. */
  index: number;
  line: number;
  op: string;
  step: string;
  /** Local variables of the syscall's program: plain data only. */
  locals: Record<string, unknown>;
}

export interface ProcState {
  pid: number;
  handler: number;
  parent: number;
  status: ProcStatus;
  /** The queue a blocked process sleeps on; its name (`waitingOn` in results) comes from simQueueName. */
  waitingOn: QueueId | null;
  /** Set by a waker between prepare_to_wait and schedule(), so the sleep falls through. */
  woken: boolean;
  /** When it was last woken (the wake-up count then): tasks woken in turn run in turn, as CFS runs them. */
  wokenAt: number;
  /** The connection of an open `begin` transaction. */
  txnConn: number | null;
  /** That transaction is 553(8)'s: the process holds the global write mutex in user space. */
  txnWrite?: true;
  /** Its savepoints (555), oldest first, as named. */
  savepoints?: string[];
  current: InFlight | null;
  /** Index of the next statement this process will start. */
  next: number;
}

export interface Counters {
  syscalls: number;
  steps: number;
  sleeps: number;
  wakeups: number;
  bytesWritten: number;
  bytesRead: number;
  /** upstream: connections never closed (a leak on every successful read). */
  leakedConnections: number;
}

/**
 * Companion bookkeeping (fork, exit, close) as kernel-scripts/sqliteos/sql.c runs it: statements run in
 * one transaction on the kernel connection, now if they can be without waiting, else kept in order.
 */
export interface Job {
  what: string;
  sql: [string, (number | null)[]][];
}

export interface KernelState {
  procs: Record<number, ProcState>;
  handlers: Record<number, Handler>;
  pipes: Record<number, PipeState>;
  store: LockStore;
  mutex: MutexState;
  nextConn: number;
  nextQueueId: number;
  counters: Counters;
  /** Companion: jobs kept for the next holder of the write mutex or the end of a read transaction. */
  deferred: Job[];
}

export interface SimOptions {
  profile: Profile;
  locks: LockPolicy;
  /** companion only: bytes a pipe buffers before writers block. */
  capacity: number;
}

export const DEFAULT_CAPACITY = 65536;
/** Largest kmalloc on x86_64 with 4 KiB pages: the published write path cannot buffer more. */
export const KMALLOC_MAX = 4 * 1024 * 1024;
/**
 * The published kernel's database is memdb's one buffer, grown to twice the size a write needs and
 * rounded to a power of two by its kmalloc allocator: from 2,088,960 bytes it grows to 4,186,112 (1022
 * pages of 4096) and no further (the next step asks for 8 MiB). 7 pages hold its schema and six table
 * roots. Measured on the published kernel (kernel-scripts/published/checks.c, part backlog): writes of
 * 64 KiB, 16 KiB and 1000 bytes fail exactly where these figures say.
 */
export const STORE_MAX_PAGES = 1022;
export const STORE_BASE_PAGES = 7;
/** The first fd a pipe gets: 0, 1 and 2 are the standard streams. */
export const FIRST_FD = 3;

/** References to a pipe's read end: fd table entries and the reads in progress (file refcount). */
export function readEnds(p: PipeState): number {
  return p.readers + (p.readRefs ?? 0);
}

export function writeEnds(p: PipeState): number {
  return p.writers + (p.writeRefs ?? 0);
}

/**
 * A deep copy of plain state (objects, arrays, numbers, strings), 3-4x faster than structuredClone on
 * the kernel state. Byte arrays are shared, not copied: the simulator never writes into one it has
 * stored (it builds new ones), so sharing them is safe.
 */
export function cloneState<T>(v: T): T {
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) {
    const a = new Array(v.length);
    for (let i = 0; i < v.length; i++) a[i] = cloneState(v[i]);
    return a as T;
  }
  const o: Record<string, unknown> = {};
  for (const k in v) o[k] = cloneState((v as Record<string, unknown>)[k]);
  return o as T;
}

/*
 * The two lock policies of the VFS store, as pure functions over LockStore.
 *
 * sqliteos: the paper's MMemLock / MMemUnlock (algorithms 3 and 4) literally. Where the pseudocode is
 * ambiguous we follow the text as written and say so:
 *  - "currentLock <- eLock" on exit is applied for every grant, so a SHARED grant made while a writer holds
 *    RESERVED lowers current_max_lock to SHARED (the writer is still tracked by its own connection);
 *  - a reader woken from read_q re-runs the SHARED check and counts itself only when admitted;
 *  - a writer woken from write_q does not re-check num_readers: it goes straight to exit (EXCLUSIVE).
 * memdb: stock SQLite memdb (memdbLock / memdbUnlock): never waits, refuses with SQLITE_BUSY.
 */
import { Conn, Lock, LOCK_NAMES, LockPolicy, LockStore } from './types';

export type LockOutcome =
  | { kind: 'granted'; violation?: string }
  | { kind: 'wait'; queue: 'read_q' | 'write_q' }
  | { kind: 'busy' };

export interface UnlockOutcome {
  /** Wake one waiter on write_q. */
  wakeWriter: boolean;
  /** Wake every waiter on read_q. */
  wakeReaders: boolean;
}

export function newStore(): LockStore {
  return { currentMaxLock: Lock.NONE, numReaders: 0, readQ: [], writeQ: [], nWrLock: 0, conns: [] };
}

function pendingHolder(store: LockStore, except: Conn): Conn | undefined {
  return store.conns.find((c) => c !== except && c.level === Lock.PENDING);
}

/**
 * Asks for `level` on `conn`. `resumed` is true when the caller was woken from a queue this lock step put
 * it on: the paper's writer then takes EXCLUSIVE without checking again.
 */
export function lock(policy: LockPolicy, store: LockStore, conn: Conn, level: Lock, resumed: boolean): LockOutcome {
  if (level <= conn.level && !(resumed && level === Lock.EXCLUSIVE)) return { kind: 'granted' };
  return policy !== 'memdb' ? mmemLock(store, conn, level, resumed) : memdbLock(store, conn, level);
}

function mmemLock(store: LockStore, conn: Conn, level: Lock, resumed: boolean): LockOutcome {
  let violation: string | undefined;
  if (level === Lock.SHARED) {
    if (store.currentMaxLock > Lock.RESERVED) return { kind: 'wait', queue: 'read_q' };
    const pending = pendingHolder(store, conn);
    if (pending) violation = `P${conn.pid} admitted to SHARED while P${pending.pid} holds PENDING`;
    store.numReaders++;
  } else if (level === Lock.EXCLUSIVE && !resumed) {
    if (store.numReaders !== 1) {
      store.currentMaxLock = Lock.PENDING;
      conn.level = Lock.PENDING;
      return { kind: 'wait', queue: 'write_q' };
    }
  }
  // RESERVED is always granted: the global write mutex is what keeps writers apart.
  // exit: currentLock <- eLock (literally, even when that lowers it).
  store.currentMaxLock = level;
  conn.level = level;
  return violation ? { kind: 'granted', violation } : { kind: 'granted' };
}

function mmemUnlock(store: LockStore, conn: Conn, level: Lock): UnlockOutcome {
  let wokeWriter = false;
  if (level === Lock.NONE && conn.level >= Lock.SHARED) {
    store.numReaders--;
    if (store.numReaders === 0) {
      store.currentMaxLock = Lock.NONE;
    } else if (store.numReaders === 1 && store.currentMaxLock === Lock.PENDING) {
      wokeWriter = true;
    }
  }
  // eLock = SHARED: "currently treated as a no-op" for the store; the connection still records it.
  conn.level = level;
  return { wakeWriter: wokeWriter, wakeReaders: !wokeWriter };
}

function memdbLock(store: LockStore, conn: Conn, level: Lock): LockOutcome {
  switch (level) {
    case Lock.SHARED:
      if (store.nWrLock > 0) return { kind: 'busy' };
      store.numReaders++;
      break;
    case Lock.RESERVED:
    case Lock.PENDING:
      if (conn.level === Lock.SHARED) {
        if (store.nWrLock > 0) return { kind: 'busy' };
        store.nWrLock = 1;
      }
      break;
    default:
      if (store.numReaders > 1) return { kind: 'busy' };
      if (conn.level === Lock.SHARED) store.nWrLock = 1;
  }
  conn.level = level;
  store.currentMaxLock = maxLevel(store);
  return { kind: 'granted' };
}

function memdbUnlock(store: LockStore, conn: Conn, level: Lock): UnlockOutcome {
  if (level < conn.level) {
    if (conn.level > Lock.SHARED) store.nWrLock--;
    if (level === Lock.NONE) store.numReaders--;
    conn.level = level;
  }
  store.currentMaxLock = maxLevel(store);
  return { wakeWriter: false, wakeReaders: false };
}

export function unlock(policy: LockPolicy, store: LockStore, conn: Conn, level: Lock): UnlockOutcome {
  if (level >= conn.level) return { wakeWriter: false, wakeReaders: false };
  return policy !== 'memdb' ? mmemUnlock(store, conn, level) : memdbUnlock(store, conn, level);
}

function maxLevel(store: LockStore): Lock {
  return store.conns.reduce((m, c) => Math.max(m, c.level), Lock.NONE);
}

/** The lock invariants a correct VFS keeps; each broken one is returned as a sentence. */
export function checkInvariants(policy: LockPolicy, store: LockStore): string[] {
  const out: string[] = [];
  const holders = store.conns.filter((c) => c.level >= Lock.SHARED);
  const writers = store.conns.filter((c) => c.level >= Lock.RESERVED && c.level !== Lock.PENDING);
  const pending = store.conns.filter((c) => c.level === Lock.PENDING);
  const excl = store.conns.find((c) => c.level === Lock.EXCLUSIVE);
  if (excl) {
    const other = holders.find((c) => c !== excl);
    if (other) out.push(`EXCLUSIVE held by P${excl.pid} while P${other.pid} holds ${LOCK_NAMES[other.level]}`);
  }
  if (writers.length + pending.length > 1) {
    out.push(`two writers: ${[...writers, ...pending].map((c) => `P${c.pid} ${LOCK_NAMES[c.level]}`).join(', ')}`);
  }
  if (store.numReaders < 0) out.push(`num_readers is ${store.numReaders}`);
  if (policy !== 'memdb' && store.numReaders !== holders.length) {
    out.push(`num_readers is ${store.numReaders} but ${holders.length} connection(s) hold SHARED or more`);
  }
  return out;
}

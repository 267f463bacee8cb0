/* The VFS lock policies on their own: the paper's algorithms 3 and 4 step by step, and stock memdb. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkInvariants, lock, newStore, unlock } from '../../extension/core/sim/locks';
import { Conn, Lock } from '../../extension/core/sim/types';

function conn(id: number, level = Lock.NONE): Conn {
  return { id, pid: id, level, purpose: 'test' };
}

describe('sqliteos lock policy (MMemLock / MMemUnlock, literally)', () => {
  it('grants SHARED while current_max_lock <= RESERVED, counting the reader, and lowers current_max_lock to SHARED', () => {
    const s = newStore();
    const w = conn(1);
    const r = conn(2);
    s.conns.push(w, r);
    assert.deepEqual(lock('sqliteos', s, w, Lock.SHARED, false), { kind: 'granted' });
    assert.deepEqual(lock('sqliteos', s, w, Lock.RESERVED, false), { kind: 'granted' });
    assert.equal(s.currentMaxLock, Lock.RESERVED);
    assert.deepEqual(lock('sqliteos', s, r, Lock.SHARED, false), { kind: 'granted' });
    assert.equal(s.numReaders, 2);
    assert.equal(s.currentMaxLock, Lock.SHARED, 'currentLock <- eLock on exit, as the pseudocode says');
    assert.deepEqual(checkInvariants('sqliteos', s), []);
  });

  it('makes EXCLUSIVE wait PENDING on write_q while another reader is in, and blocks new readers on read_q', () => {
    const s = newStore();
    const w = conn(1);
    const r = conn(2);
    const late = conn(3);
    s.conns.push(w, r, late);
    lock('sqliteos', s, w, Lock.SHARED, false);
    lock('sqliteos', s, r, Lock.SHARED, false);
    lock('sqliteos', s, w, Lock.RESERVED, false);
    assert.deepEqual(lock('sqliteos', s, w, Lock.EXCLUSIVE, false), { kind: 'wait', queue: 'write_q' });
    assert.equal(s.currentMaxLock, Lock.PENDING);
    assert.equal(w.level, Lock.PENDING);
    assert.deepEqual(lock('sqliteos', s, late, Lock.SHARED, false), { kind: 'wait', queue: 'read_q' });
    assert.equal(s.numReaders, 2, 'a waiting reader is not counted');
    // The other reader leaves: one reader left (the writer) and PENDING -> wake the writer, not the readers.
    assert.deepEqual(unlock('sqliteos', s, r, Lock.NONE), { wakeWriter: true, wakeReaders: false });
    assert.deepEqual(lock('sqliteos', s, w, Lock.EXCLUSIVE, true), { kind: 'granted' }, 'woken writer goes straight to exit');
    assert.equal(s.currentMaxLock, Lock.EXCLUSIVE);
    // Commit: SHARED is a no-op for the store; NONE drops the last reader, clears the lock, wakes readers.
    assert.deepEqual(unlock('sqliteos', s, w, Lock.SHARED), { wakeWriter: false, wakeReaders: true });
    assert.equal(s.currentMaxLock, Lock.EXCLUSIVE);
    assert.deepEqual(unlock('sqliteos', s, w, Lock.NONE), { wakeWriter: false, wakeReaders: true });
    assert.equal(s.currentMaxLock, Lock.NONE);
    assert.equal(s.numReaders, 0);
    assert.deepEqual(lock('sqliteos', s, late, Lock.SHARED, false), { kind: 'granted' }, 'the woken reader re-checks and gets in');
  });

  it('grants EXCLUSIVE at once to the only reader, and RESERVED always', () => {
    const s = newStore();
    const w = conn(1);
    s.conns.push(w);
    lock('sqliteos', s, w, Lock.SHARED, false);
    assert.deepEqual(lock('sqliteos', s, w, Lock.RESERVED, false), { kind: 'granted' });
    assert.deepEqual(lock('sqliteos', s, w, Lock.EXCLUSIVE, false), { kind: 'granted' });
  });
});

describe('memdb lock policy (stock SQLite memdb)', () => {
  it('refuses SHARED while a writer holds RESERVED, and EXCLUSIVE while another reader is in: SQLITE_BUSY', () => {
    const s = newStore();
    const w = conn(1);
    const r = conn(2);
    s.conns.push(w, r);
    lock('memdb', s, w, Lock.SHARED, false);
    lock('memdb', s, w, Lock.RESERVED, false);
    assert.deepEqual(lock('memdb', s, r, Lock.SHARED, false), { kind: 'busy' });
    unlock('memdb', s, w, Lock.NONE);
    assert.deepEqual(lock('memdb', s, r, Lock.SHARED, false), { kind: 'granted' });
    lock('memdb', s, w, Lock.SHARED, false);
    lock('memdb', s, w, Lock.RESERVED, false);
    assert.deepEqual(lock('memdb', s, w, Lock.EXCLUSIVE, false), { kind: 'busy' });
    unlock('memdb', s, r, Lock.NONE);
    assert.deepEqual(lock('memdb', s, w, Lock.EXCLUSIVE, false), { kind: 'granted' });
    assert.equal(s.currentMaxLock, Lock.EXCLUSIVE);
  });
});

describe('lock invariants', () => {
  it('names each broken invariant', () => {
    const s = newStore();
    s.conns.push(conn(1, Lock.EXCLUSIVE), conn(2, Lock.SHARED), conn(3, Lock.RESERVED));
    s.numReaders = -1;
    assert.deepEqual(checkInvariants('sqliteos', s), [
      'EXCLUSIVE held by P1 while P2 holds SHARED',
      'two writers: P1 EXCLUSIVE, P3 RESERVED',
      'num_readers is -1',
      'num_readers is -1 but 3 connection(s) hold SHARED or more',
    ]);
  });

  it('reports a reader admitted past PENDING at the grant', () => {
    const s = newStore();
    const w = conn(1, Lock.PENDING);
    const r = conn(2);
    s.conns.push(w, r);
    s.numReaders = 1;
    s.currentMaxLock = Lock.SHARED; // as if a SHARED grant had lowered it
    const out = lock('sqliteos', s, r, Lock.SHARED, false);
    assert.deepEqual(out, { kind: 'granted', violation: 'P2 admitted to SHARED while P1 holds PENDING' });
  });
});

/*
 * The syscalls both profiles share: a read-only query (syscall 549 restricted as the companion kernel
 * restricts it) and an explicit read transaction (begin / commit, syscalls 553 / 554 with the read flag).
 * None of them takes the global write mutex: readers meet writers only in the VFS lock.
 */
import { SqlError } from './db';
import { Exec, Program, Step, begin, busyTail, lockTo, mutexLock } from './program';
import { Err, Lock } from './types';

function runQuery(x: Exec): string | void {
  const call = x.l.call;
  if (call.op !== 'query') throw new Error('not a query');
  if (x.k.listening) x.k.emit({ pid: x.p.pid, line: x.p.current!.line, type: 'sql', sql: call.sql });
  try {
    x.l.rows = x.k.db.queryReadOnly(call.sql).rows;
  } catch (e) {
    if (!(e instanceof SqlError)) throw e;
    x.l.error = e.message;
  }
}

function queryResult(x: Exec): void {
  if (x.l.error === undefined) return x.k.finish(x, x.l.rows ?? []);
  const readonly = /readonly|read-only/i.test(x.l.error);
  // upstream's 549 returns 0 and only logs "SQL Error"; the companion kernel returns an errno.
  const code = x.k.opts.profile === 'upstream' ? 0 : readonly ? Err.EPERM : Err.EINVAL;
  const msg = readonly ? `query must be read-only: ${x.l.error}` : `SQL error: ${x.l.error}`;
  x.k.anomaly(x.p, 'error', msg);
  x.k.finish(x, code, msg);
}

/**
 * 549. `inTxn`: a query inside the caller's open read transaction runs on its connection (the
 * companion kernel); the published 549 always opens a connection of its own (and never closes it: a leak this
 * model does not count, as it counts a read's).
 */
export function queryProgram(inTxn = true): Program {
  const steps: Step[] = [
    ...(inTxn
      ? [
          {
            id: 'in_txn',
            kind: 'check',
            text: 'inside an open transaction? run on its connection',
            // Outside one (or in 553(8)'s, whose connection 549 does not use) it reads only the caller's own state.
            unseen: (_k, p) => p.txnConn === null || p.txnWrite === true,
            run: (x) => {
              if (x.p.txnConn === null || x.p.txnWrite) return;
              x.l.conn = x.p.txnConn;
              runQuery(x);
              queryResult(x);
            },
          } satisfies Step,
        ]
      : []),
    begin('begin', false),
    lockTo(Lock.SHARED, 'lock_shared'),
    { id: 'run_sql', kind: 'sql', text: 'sqlite3_step(user statement), PRAGMA query_only', run: runQuery },
    { id: 'unlock_none', kind: 'lock', text: 'xUnlock(NONE)', run: (x) => x.k.unlock(x, Lock.NONE, true) },
    { id: 'return', kind: 'return', text: 'return rows', run: (x) => queryResult(x) },
    ...busyTail(false),
  ];
  return new Program('query', steps);
}

const SHARED_NOW = lockTo(Lock.SHARED, 'lock_shared');
/** The call is 553(8). */
export const isWrite = (x: Exec) => x.l.call.op === 'begin' && x.l.call.write === true;

/**
 * 553: 4 opens a read transaction (its connection takes SHARED now and holds it); 8 takes the global
 * write mutex and returns to user space holding it (its connection holds no lock: 549 does not use
 * it), so every other task's pipe calls wait until 554, while the holder's own go through (the mutex
 * is recursive for it).
 */
export function beginProgram(): Program {
  return new Program('begin', [
    {
      id: 'check',
      kind: 'check',
      text: 'already inside a transaction?',
      unseen: () => true,
      run: (x) => {
        if (x.p.txnConn !== null) x.k.finish(x, Err.EINVAL, 'EINVAL (-22): a transaction is already open');
      },
    },
    { ...mutexLock('write_lock'), text: '553(8): lock the write mutex (kept in user space)', when: isWrite },
    begin('begin', false),
    { ...SHARED_NOW, when: (x) => !isWrite(x) && SHARED_NOW.when!(x) },
    {
      id: 'hold',
      kind: 'txn',
      text: 'return to user space holding SHARED (553(4)) or the write mutex (553(8))',
      run: (x) => {
        x.p.txnConn = x.l.conn!;
        if (isWrite(x)) x.p.txnWrite = true;
        x.k.finish(x, 0);
      },
    },
    ...busyTail(false),
  ]);
}

/**
 * 554-557's first step: is a transaction open? Without one the companion kernel returns -EINVAL; the
 * published one dereferences current->sql_ref (NULL) and oopses (`oops` says where).
 */
export function needsTxn(oops: string, text = 'is a transaction open?'): Step {
  return {
    id: 'check',
    kind: 'check',
    text,
    unseen: () => true,
    run: (x) => {
      if (x.p.txnConn !== null) return;
      if (x.k.opts.profile === 'companion') return x.k.finish(x, Err.EINVAL, 'EINVAL (-22): no transaction is open');
      x.k.anomaly(x.p, 'error', oops);
      x.k.finish(x, Err.EFAULT, oops);
      x.p.status = 'exited';
    },
  };
}

/** The published 554's oops with no transaction open. */
export const COMMIT_OOPS = 'kernel oops in ksqlite_close_for_write: 554 with no transaction open dereferences current->sql_ref (NULL)';

/** 554: 1 commits, anything else (`rollback`) rolls back; the write mutex of a 553(8) goes with it. */
export function commitProgram(op: 'commit' | 'rollback' = 'commit'): Program {
  return new Program(op, [
    needsTxn(COMMIT_OOPS),
    {
      id: 'unlock_none',
      kind: 'lock',
      text: `${op === 'commit' ? 'COMMIT' : 'ROLLBACK'}; xUnlock(NONE); run the jobs kept while it was open; let the write mutex go (553(8))`,
      run: (x) => {
        x.l.conn = x.p.txnConn!;
        x.k.unlock(x, Lock.NONE, true);
        endTxn(x);
        x.k.finish(x, 0);
      },
    },
  ]);
}

/** The caller's transaction is over (its connection already at NONE): the jobs it kept run, its write mutex goes. */
export function endTxn(x: Exec): void {
  x.p.txnConn = null;
  delete x.p.savepoints;
  // Companion jobs (fork, exit, close) kept for this transaction's end.
  x.k.runDeferred(x.p);
  if (x.p.txnWrite) {
    delete x.p.txnWrite;
    x.k.mutexUnlock(x.p);
  }
}

/**
 * Where RELEASE or ROLLBACK TO of `name` leaves the caller's savepoints, or undefined if it has none
 * by that name (SQLite's "no such savepoint"; names compare without case, as SQLite's do).
 */
function savepointsAfter(x: Exec, op: 'savepoint' | 'release' | 'rollback_to', name: string): string[] | undefined {
  const list = x.p.savepoints ?? [];
  if (op === 'savepoint') return [...list, name];
  const at = list.map((n) => n.toLowerCase()).lastIndexOf(name.toLowerCase());
  if (at < 0) return undefined;
  // RELEASE drops it and every one after it; ROLLBACK TO keeps it
  return list.slice(0, op === 'release' ? at : at + 1);
}

const SAVEPOINT_SQL = { savepoint: 'SAVEPOINT', release: 'RELEASE', rollback_to: 'ROLLBACK TO' } as const;

/**
 * 555-557 on the caller's open transaction: SAVEPOINT / RELEASE / ROLLBACK TO "name". Nothing is
 * written through a transaction's connection (pipe calls commit on their own), so a savepoint changes
 * no row; what is seen is which names exist. The companion kernel: -EINVAL without a transaction or
 * for a name it has not got. The published one: no transaction oopses (current->sql_ref is NULL),
 * and an unknown name returns SQLITE_ERROR as a positive 1.
 */
export function savepointProgram(op: 'savepoint' | 'release' | 'rollback_to'): Program {
  return new Program(op, [
    needsTxn('kernel oops in perform_on_savepoint: current->sql_ref is NULL with no transaction open'),
    {
      id: 'exec',
      kind: 'txn',
      text: `${SAVEPOINT_SQL[op]} "name" on the transaction's connection`,
      run: (x) => {
        const call = x.l.call;
        if (call.op !== op) return;
        const after = savepointsAfter(x, op, call.name);
        if (!after) {
          if (x.k.opts.profile === 'companion') return x.k.finish(x, Err.EINVAL, `EINVAL (-22): no such savepoint: ${call.name}`);
          return x.k.finish(x, 1);
        }
        if (after.length) x.p.savepoints = after;
        else delete x.p.savepoints;
        x.k.finish(x, 0);
      },
    },
  ]);
}

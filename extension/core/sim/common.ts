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
const isWrite = (x: Exec) => x.l.call.op === 'begin' && x.l.call.write === true;

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

/** 554: 1 commits, anything else (`rollback`) rolls back; the write mutex of a 553(8) goes with it. */
export function commitProgram(op: 'commit' | 'rollback' = 'commit'): Program {
  return new Program(op, [
    {
      id: 'check',
      kind: 'check',
      text: 'is a transaction open?',
      unseen: () => true,
      run: (x) => {
        if (x.p.txnConn === null) x.k.finish(x, Err.EINVAL, 'EINVAL (-22): no transaction is open');
      },
    },
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
  // Companion jobs (fork, exit, close) kept for this transaction's end.
  x.k.runDeferred(x.p);
  if (x.p.txnWrite) {
    delete x.p.txnWrite;
    x.k.mutexUnlock(x.p);
  }
}

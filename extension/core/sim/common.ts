/*
 * The syscalls both profiles share: a read-only query (syscall 549 restricted as the companion kernel
 * restricts it) and an explicit read transaction (begin / commit, syscalls 553 / 554 with the read flag).
 * None of them takes the global write mutex: readers meet writers only in the VFS lock.
 */
import { SqlError } from './db';
import { Exec, Program, Step, begin, busyTail, lockTo } from './program';
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
 * 549. `inTxn`: a query inside the caller's open transaction runs on its connection (the companion
 * kernel); the published 549 always opens a connection of its own (and never closes it: a leak this
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
            // Outside one it reads only the caller's own txnConn.
            unseen: (_k, p) => p.txnConn === null,
            run: (x) => {
              if (x.p.txnConn === null) return;
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
    begin('begin', false),
    lockTo(Lock.SHARED, 'lock_shared'),
    {
      id: 'hold',
      kind: 'txn',
      text: 'return to user space holding SHARED',
      run: (x) => {
        x.p.txnConn = x.l.conn!;
        x.k.finish(x, 0);
      },
    },
    ...busyTail(false),
  ]);
}

export function commitProgram(): Program {
  return new Program('commit', [
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
      text: 'COMMIT; xUnlock(NONE); run the jobs kept while it read',
      run: (x) => {
        x.l.conn = x.p.txnConn!;
        x.k.unlock(x, Lock.NONE, true);
        x.p.txnConn = null;
        // Companion jobs (fork, exit, close) kept for this transaction's end.
        x.k.runDeferred(x.p);
        x.k.finish(x, 0);
      },
    },
  ]);
}

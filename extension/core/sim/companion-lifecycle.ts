/*
 * The companion profile's lifecycle syscalls: close, exit, fork and thread, as the companion kernel runs
 * them. Their table work is bookkeeping that must not fail or wait for user space: a job (kernel.job(),
 * sql.c's sqlos_job) that runs at once when the write mutex is free and no reader holds the store, and is
 * otherwise kept, in order, for the next holder of the mutex or the end of a read transaction. So none of
 * them ever sleeps: a close or a fork inside the caller's own read transaction returns at once, its rows
 * written when the transaction ends. Ends going away wake the readers (EOF) or writers (EPIPE) they
 * concern, and the last end of a pipe drops its rows (another job).
 */
import { endTxn } from './common';
import { lookup, ownTable } from './companion-fd';
import { Exec, Program } from './program';
import { Q } from './schema';
import { FdEntry, Lock, readEnds, writeEnds } from './types';

/** The pipe's rows, when its last end goes (pipe.c's sqlos_pipe_release). */
function dropPipe(x: Exec, dataId: number): void {
  x.k.job(x.p, { what: `drop pipe ${dataId}`, sql: [[Q.jobDropChunks, [dataId]], [Q.jobDropFds, [dataId]], [Q.jobDropPipe, [dataId]]] });
}

/**
 * One reference to an end goes away (an fd table entry, or a read or write returning): update the
 * counts; with the last, wake whoever the change concerns, and drop a dead pipe.
 */
export function releaseEnd(x: Exec, e: FdEntry, inFlight = false): void {
  const pipe = x.k.state.pipes[e.dataId];
  if (!pipe) return;
  if (!inFlight) x.k.adjustEnds(e, -1);
  else if (e.end === 'r') pipe.readRefs! -= 1;
  else pipe.writeRefs! -= 1;
  if (e.end === 'w' && writeEnds(pipe) === 0) x.k.wakeUp(x.p, pipe.readWq, 0, { kind: 'pipe', dataId: e.dataId, queue: 'read_wq' });
  if (e.end === 'r' && readEnds(pipe) === 0) x.k.wakeUp(x.p, pipe.writeWq, 0, { kind: 'pipe', dataId: e.dataId, queue: 'write_wq' });
  if (readEnds(pipe) + writeEnds(pipe) === 0) {
    delete x.k.state.pipes[e.dataId];
    dropPipe(x, e.dataId);
  }
}

export function closeProgram(): Program {
  return new Program('close', [
    {
      id: 'lookup',
      kind: 'kernel',
      text: 'pick_file(fd): the fd leaves the table',
      unseen: ownTable,
      run: (x) => {
        const c = x.l.call;
        if (c.op !== 'close' || !lookup(x, c.fd, null)) return;
        delete x.k.state.handlers[x.p.handler].fds[c.fd];
      },
    },
    {
      id: 'flush',
      kind: 'sql',
      text: "->flush(): job DELETE FROM pid_pipe the caller's rows of the pipe but for fds still naming it",
      run: (x) => {
        const left = Object.entries(x.k.state.handlers[x.p.handler].fds)
          .filter(([, e]) => e.dataId === x.l.dataId)
          .map(([fd]) => Number(fd));
        if (left.length > 2) return;
        x.k.job(x.p, { what: `close: stale rows of pipe ${x.l.dataId}`, sql: [[Q.jobDelStale, [x.l.dataId!, x.p.pid, left[0] ?? -1, left[1] ?? -1]]] });
      },
    },
    {
      id: 'release',
      kind: 'kernel',
      text: 'fput() -> ->release(): drop the end; wake readers at EOF, writers when no reader is left',
      run: (x) => releaseEnd(x, { dataId: x.l.dataId!, end: x.l.end! }),
    },
    { id: 'return', kind: 'return', text: 'return 0', run: (x) => x.k.finish(x, 0) },
  ]);
}

export function exitProgram(): Program {
  return new Program('exit', [
    {
      // First, so the task's own SHARED lock cannot keep its exit's rows from being written.
      id: 'end_txn',
      kind: 'lock',
      text: 'an open transaction? roll it back: xUnlock(NONE); run the jobs it kept waiting; let the write mutex go (553(8))',
      when: (x) => x.p.txnConn !== null,
      run: (x) => {
        x.k.unlock({ ...x, l: { ...x.l, conn: x.p.txnConn! } }, Lock.NONE, true);
        endTxn(x);
      },
    },
    {
      id: 'exit_job',
      kind: 'sql',
      text: 'sqliteos_exit(): job DELETE FROM pid_pipe (if no other task has its handler), DELETE FROM pid_store',
      run: (x) => {
        const sql: [string, number[]][] = [
          [Q.jobExitFds, [x.p.pid]],
          [Q.jobExitProc, [x.p.pid]],
        ];
        x.k.job(x.p, { what: `exit of P${x.p.pid}`, sql });
      },
    },
    {
      id: 'release',
      kind: 'kernel',
      text: 'exit_files(): drop every end',
      run: (x) => {
        const h = x.k.state.handlers[x.p.handler];
        h.users = h.users.filter((u) => u !== x.p.pid);
        if (h.users.length === 0) {
          for (const e of Object.values(h.fds)) releaseEnd(x, e);
          delete x.k.state.handlers[h.id];
        }
      },
    },
    {
      id: 'exited',
      kind: 'return',
      text: 'do_exit()',
      run: (x) => {
        x.k.finish(x, 0);
        x.p.status = 'exited';
      },
    },
  ]);
}

export function companionSpawn(kind: 'fork' | 'thread'): Program {
  const child = (x: Exec): number => {
    const c = x.l.call;
    if (c.op !== 'fork' && c.op !== 'thread') throw new Error(`${c.op} is not fork or thread`);
    return c.child;
  };
  return new Program(kind, [
    {
      id: 'fork_job',
      kind: 'sql',
      text: kind === 'fork' ? 'sqliteos_fork(): job INSERT INTO pid_store (child, child); copy the parent\'s pid_pipe rows' : 'sqliteos_fork(CLONE_FILES): job INSERT INTO pid_store (child, handler)',
      run: (x) => {
        const args = [child(x), x.p.pid, kind === 'thread' ? 1 : 0];
        x.k.job(x.p, { what: `${kind} of P${child(x)}`, sql: [[Q.jobForkProc, args], [Q.jobForkFds, args]] });
      },
    },
    {
      id: 'copy_process',
      kind: 'kernel',
      text: kind === 'fork' ? 'copy_process(): dup the fd table' : 'copy_process(CLONE_FILES): share the fd table',
      run: (x) => x.k.spawn(x.p, child(x), kind === 'thread', true),
    },
    { id: 'return', kind: 'return', text: 'return child pid', run: (x) => x.k.finish(x, child(x)) },
  ]);
}

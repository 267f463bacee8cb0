/*
 * The companion profile's lifecycle syscalls: close, exit, fork and thread. They keep pid_store and
 * pid_pipe true to the live processes and fds, delete a pipe's rows when its last end goes, and wake the
 * readers (EOF) or writers (EPIPE) that an end going away concerns. An exit inside a read transaction
 * releases its lock first, so the task's own SHARED cannot keep its exit from committing.
 */
import { lookup, pipeOf } from './companion-fd';
import { Exec, Program, busyTail, begin, commit, execSql, lockWrite, mutexLock, mutexUnlock, ret } from './program';
import { spawnProgram } from './spawn';
import { Q } from './schema';
import { FdEntry, Lock } from './types';

export function closeProgram(): Program {
  return new Program('close', [
    {
      id: 'lookup',
      kind: 'kernel',
      text: 'fdget(fd)',
      run: (x) => {
        const c = x.l.call;
        if (c.op === 'close') lookup(x, c.fd, null);
      },
    },
    mutexLock(),
    begin(),
    ...lockWrite(),
    {
      id: 'delete_fd',
      kind: 'sql',
      text: 'DELETE FROM pid_pipe WHERE pid = handler AND fd = ?',
      run: (x) => {
        const c = x.l.call;
        if (c.op === 'close') execSql(x, Q.coCloseFd, [x.p.handler, c.fd]);
      },
    },
    {
      id: 'drop_pipe',
      kind: 'sql',
      text: 'last end closed: DELETE FROM pipe_chunk, pipe_data',
      when: (x) => pipeOf(x).readers + pipeOf(x).writers === 1,
      run: (x) => dropPipeRows(x, x.l.dataId!),
    },
    ...commit(),
    {
      id: 'release',
      kind: 'kernel',
      text: 'fput(): drop the end; wake readers at EOF, writers when no reader is left',
      run: (x) => {
        const c = x.l.call;
        if (c.op !== 'close') return;
        const fds = x.k.state.handlers[x.p.handler].fds;
        releaseEnd(x, fds[c.fd]);
        delete fds[c.fd];
      },
    },
    mutexUnlock(),
    ret('return', 'return 0', () => 0),
    ...busyTail(true),
  ]);
}

function dropPipeRows(x: Exec, dataId: number): void {
  execSql(x, Q.coDropPipeChunks, [dataId]);
  execSql(x, Q.coDropPipe, [dataId]);
}

/** One fd table entry goes away: update the counts and wake whoever the change concerns. */
function releaseEnd(x: Exec, e: FdEntry): void {
  const pipe = x.k.state.pipes[e.dataId];
  if (!pipe) return;
  x.k.adjustEnds(e, -1);
  if (pipe.readers + pipe.writers === 0) {
    delete x.k.state.pipes[e.dataId];
    return;
  }
  if (e.end === 'w' && pipe.writers === 0) x.k.wakeUp(x.p, pipe.readWq, 0, `pipe ${e.dataId} read_wq`);
  if (e.end === 'r' && pipe.readers === 0) x.k.wakeUp(x.p, pipe.writeWq, 0, `pipe ${e.dataId} write_wq`);
}

function lastUser(x: Exec): boolean {
  return x.k.state.handlers[x.p.handler].users.length === 1;
}

export function exitProgram(): Program {
  return new Program('exit', [
    {
      // First, so the task's own SHARED lock cannot keep its exit from committing.
      id: 'end_txn',
      kind: 'lock',
      text: 'an open transaction? roll it back: xUnlock(NONE)',
      when: (x) => x.p.txnConn !== null,
      run: (x) => {
        x.k.unlock({ ...x, l: { ...x.l, conn: x.p.txnConn! } }, Lock.NONE, true);
        x.p.txnConn = null;
      },
    },
    mutexLock(),
    begin(),
    ...lockWrite(),
    { id: 'delete_proc', kind: 'sql', text: 'DELETE FROM pid_store WHERE pid = ?', run: (x) => void execSql(x, Q.coExitProc, [x.p.pid]) },
    {
      id: 'delete_fds',
      kind: 'sql',
      text: 'last task of the fd table: DELETE FROM pid_pipe WHERE pid = handler',
      when: lastUser,
      run: (x) => void execSql(x, Q.coExitFds, [x.p.handler]),
    },
    {
      id: 'drop_pipes',
      kind: 'sql',
      text: 'pipes left with no end: DELETE FROM pipe_chunk, pipe_data',
      when: lastUser,
      run: (x) => {
        const mine = new Map<number, number>();
        for (const e of Object.values(x.k.state.handlers[x.p.handler].fds)) mine.set(e.dataId, (mine.get(e.dataId) ?? 0) + 1);
        for (const [id, n] of mine) {
          const pipe = x.k.state.pipes[id];
          if (pipe && pipe.readers + pipe.writers === n) dropPipeRows(x, id);
        }
      },
    },
    ...commit(),
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
    mutexUnlock(),
    {
      id: 'exited',
      kind: 'return',
      text: 'do_exit()',
      run: (x) => {
        x.k.finish(x, 0);
        x.p.status = 'exited';
      },
    },
    ...busyTail(true),
  ]);
}

export function companionSpawn(kind: 'fork' | 'thread'): Program {
  return spawnProgram(kind, {
    insertText: kind === 'fork' ? 'INSERT INTO pid_store VALUES (child, child)' : 'INSERT INTO pid_store VALUES (child, handler)',
    insert: (x, child) => void execSql(x, Q.insertProc, [child, kind === 'fork' ? child : x.p.handler]),
    copyText: 'INSERT INTO pid_pipe SELECT child, fd, dataId FROM pid_pipe WHERE pid = handler',
    copyFrom: (x) => x.p.handler,
    copyFdTable: true,
    copyProcessText: kind === 'fork' ? 'copy_process(): dup the fd table' : 'copy_process(CLONE_FILES): share the fd table',
  });
}


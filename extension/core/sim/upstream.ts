/*
 * The upstream profile: the published kernel (realVinayak/SQLiteOS) as reference/upstream-sqliteos.md
 * describes it, statement for statement. Its defects are kept on purpose, because this is what a user of
 * that kernel sees: fds are bare reserved numbers (close gives EBADF, fork does not copy them), pid_pipe is
 * keyed by the calling pid, write returns 0 and rewrites the whole backlog, nothing is ever deleted, there is
 * no EOF, EPIPE or capacity, readers wait non-exclusively (every one is woken), and a successful read leaks
 * its connection.
 */
import { COMMIT_OOPS, isWrite, needsTxn, queryProgram, savepointProgram } from './common';
import { concat } from './companion-fd';
import { Exec, OpName, Program, SimProfile, Step, begin, busyTail, commit, execSql, lockTo, lockWrite, mutexLock, mutexUnlock, querySql, ret, rollbackStep, sleepOn } from './program';
import { Q } from './schema';
import { spawnProgram } from './spawn';
import { Err, KMALLOC_MAX, Lock, STORE_BASE_PAGES, STORE_MAX_PAGES } from './types';

/** sqlite3_step returned SQLITE_DONE: no row for (fd, pid). The kernel gives up with -101. */
function notFound(): Step[] {
  return [
    {
      id: 'not_found',
      kind: 'txn',
      text: 'no row: ROLLBACK',
      run: (x) => {
        x.k.db.rollbackWrite();
        x.k.unlock(x, Lock.NONE, true);
      },
    },
    mutexUnlock('nf_mutex_unlock'),
    {
      id: 'return_not_found',
      kind: 'return',
      text: 'return -SQLITE_DONE',
      run: (x) => {
        const c = x.l.call as { fd: number };
        x.k.finish(x, Err.SQLITE_DONE, `SQLITE_DONE (-101): no pid_pipe row for fd ${c.fd} through P${x.p.pid}'s parent_id`);
      },
    },
  ];
}

/** Overflow pages of an n-byte blob in a table leaf of 4096-byte pages (SQLite's local-payload rule). */
export function overflowPages(n: number): number {
  const usable = 4096, maxLocal = usable - 35, minLocal = Math.floor(((usable - 12) * 32) / 255) - 23;
  if (n <= maxLocal) return 0;
  const surplus = minLocal + ((n - minLocal) % (usable - 4));
  const local = surplus <= maxLocal ? surplus : minLocal;
  return Math.ceil((n - local) / (usable - 4));
}

/**
 * Whether the UPDATE that gives pipe dataId a blob of newLength bytes needs more of the store than it can
 * have: SQLite writes the new blob's pages before it frees the old one's, so during the statement the
 * store holds every pipe's blob and the new one (pages freed earlier are reused first).
 */
function storeFull(x: Exec, newLength: number): boolean {
  const lengths = x.k.db.all('SELECT length(data) FROM pipe_data', []);
  const held = lengths.reduce((n, r) => n + overflowPages(Number(r[0] ?? 0)), 0);
  return STORE_BASE_PAGES + held + overflowPages(newLength) > STORE_MAX_PAGES;
}

/**
 * The store cannot grow (SQLITE_NOMEM from the UPDATE): the error path gives the code back negated; the
 * connection's close rolls the transaction back, so nothing of this call is kept.
 */
function noMemory(what: 'the read' | 'the write'): Step[] {
  const steps: Step[] = [rollbackStep('nomem', 'the store cannot grow: SQLITE_NOMEM, rolled back')];
  // The read's error path wakes the next reader, as any failed read does.
  if (what === 'the read') {
    steps.push({
      id: 'nomem_wake',
      kind: 'wake',
      text: 'wake up read_waitqueue (the error path)',
      run: (x) => void x.k.wakeUp(x.p, x.k.state.pipes[x.l.dataId!].readWq, 1, { kind: 'pipe', dataId: x.l.dataId!, queue: 'read_wq' }),
    });
  }
  return [
    ...steps,
    mutexUnlock('nomem_mutex_unlock'),
    {
      id: 'nomem_return',
      kind: 'return',
      text: 'return -SQLITE_NOMEM',
      run: (x) => x.k.finish(x, Err.SQLITE_NOMEM, `SQLITE_NOMEM (-7): ${what} would need more than the store's ${STORE_MAX_PAGES} pages (memdb's buffer stops at 4,186,112 bytes); nothing was ${what === 'the write' ? 'written' : 'read'}`),
    },
  ];
}

function pipeProgram(): Program {
  return new Program('pipe', [
    {
      id: 'alloc_fds',
      kind: 'kernel',
      text: 'get_unused_fd_flags() x2 (numbers only, no struct file); 558 (O_NONBLOCK) is not there: ENOSYS',
      run: (x) => {
        if (x.l.call.op === 'pipe' && x.l.call.nonblock) return x.k.finish(x, Err.ENOSYS, 'ENOSYS (-38): the published kernel has no sql_pipe2 (558), so no O_NONBLOCK pipe');
        const r = x.k.allocFd(x.p);
        x.l.fds = [r, x.k.allocFd(x.p, [r])];
      },
    },
    mutexLock(),
    begin(),
    ...lockWrite(),
    {
      id: 'insert_pipe',
      kind: 'sql',
      text: 'INSERT INTO pipe_data(read_wq, write_wq) (kmalloc\'d wait queue addresses; data NULL)',
      run: (x) => {
        const q = x.k.state.nextQueueId;
        x.k.state.nextQueueId += 1;
        execSql(x, Q.upPipe, [q, q]);
        x.l.dataId = x.k.db.lastInsertRowid();
      },
    },
    { id: 'insert_read_fd', kind: 'sql', text: 'INSERT INTO pid_pipe VALUES (current->pid, fd[0], dataId)', run: (x) => void execSql(x, Q.insertFd, [x.p.pid, x.l.fds![0], x.l.dataId!]) },
    { id: 'insert_write_fd', kind: 'sql', text: 'INSERT INTO pid_pipe VALUES (current->pid, fd[1], dataId)', run: (x) => void execSql(x, Q.insertFd, [x.p.pid, x.l.fds![1], x.l.dataId!]) },
    ...commit(),
    mutexUnlock(),
    {
      id: 'reserve',
      kind: 'kernel',
      text: 'copy fd[2] to user space (the numbers stay reserved)',
      run: (x) => {
        const [r, w] = x.l.fds!;
        const id = x.l.dataId!;
        const q = x.k.state.nextQueueId - 1;
        x.k.state.pipes[id] = { dataId: id, buffered: 0, readers: 1, writers: 1, readFd: r, writeFd: w, readWq: [], writeWq: [], readWqId: q, writeWqId: q };
        const fds = x.k.state.handlers[x.p.handler].fds;
        fds[r] = { dataId: id, end: 'r' };
        fds[w] = { dataId: id, end: 'w' };
        x.k.finish(x, x.l.fds!);
      },
    },
    ...busyTail(true),
  ]);
}

function readProgram(): Program {
  return new Program('read', [
    mutexLock(),
    begin(),
    lockTo(Lock.SHARED, 'lock_shared'),
    {
      id: 'select',
      kind: 'sql',
      text: 'SELECT read_wq, write_wq, substr(data, 1, size), length(data), dataId FROM pid_pipe JOIN pipe_data JOIN pid_store',
      run: (x) => {
        const c = x.l.call;
        if (c.op !== 'read') return;
        const row = querySql(x, Q.upReadSelect, [c.n, c.fd, x.p.pid])[0];
        if (!row) return 'not_found';
        x.l.readQueue = row[0] as number;
        // A pipe never written holds NULL: no bytes (sqlite3_column_int of NULL is 0 there).
        x.l.data = (row[2] as Uint8Array | null) ?? new Uint8Array(0);
        x.l.length = (row[3] as number | null) ?? 0;
        x.l.dataId = row[4] as number;
      },
    },
    {
      id: 'check_empty',
      kind: 'check',
      text: 'if length = 0: wake_up_next_reader <- True; empty COMMIT; sleep',
      run: (x) => {
        if (x.l.length! > 0) return;
        x.l.wakeNext = true;
        return 'empty_commit_lock_exclusive';
      },
    },
    lockTo(Lock.RESERVED, 'lock_reserved'),
    {
      id: 'update',
      kind: 'sql',
      text: 'UPDATE pipe_data SET data = SUBSTR(data, bytes_read + 1)',
      run: (x) => {
        if (storeFull(x, x.l.length! - x.l.data!.length)) return 'nomem';
        execSql(x, Q.upReadUpdate, [x.l.data!.length + 1, x.l.dataId!]);
      },
    },
    {
      id: 'copy_to_user',
      kind: 'kernel',
      text: 'copy read_data to user space (and printk it)',
      run: (x) => {
        x.k.state.counters.bytesRead += x.l.data!.length;
      },
    },
    {
      id: 'wake_next',
      kind: 'wake',
      text: 'if wake_up_next_reader: wake up read_waitqueue (non-exclusive: every reader)',
      when: (x) => x.l.wakeNext === true,
      run: (x) => void x.k.wakeUp(x.p, x.k.state.pipes[x.l.dataId!].readWq, 1, { kind: 'pipe', dataId: x.l.dataId!, queue: 'read_wq' }),
    },
    ...commit(),
    {
      id: 'leak',
      kind: 'kernel',
      text: 'the statement is never finalized: the connection leaks',
      run: (x) => {
        x.k.state.counters.leakedConnections++;
      },
    },
    mutexUnlock(),
    { id: 'return', kind: 'return', text: 'return bytes_read', run: (x) => x.k.finish(x, x.l.data!.length, undefined, x.l.data) },
    ...commit('empty_commit'),
    ...sleepOn({
      queue: (x) => x.k.state.pipes[x.l.dataId!]?.readWq,
      name: 'read_wq',
      exclusive: false,
      prepareText: 'prepare_to_wait(read_waitqueue) while holding the mutex',
      retry: 'begin',
    }),
    ...notFound(),
    ...noMemory('the read'),
    ...busyTail(true),
  ]);
}

function writeProgram(): Program {
  return new Program('write', [
    mutexLock(),
    begin(),
    lockTo(Lock.SHARED, 'lock_shared'),
    {
      id: 'select',
      kind: 'sql',
      text: 'SELECT data, length(data), dataId, read_wq FROM pid_pipe JOIN pipe_data JOIN pid_store',
      run: (x) => {
        const c = x.l.call;
        if (c.op !== 'write') return;
        const row = querySql(x, Q.upWriteSelect, [c.fd, x.p.pid])[0];
        if (!row) return 'not_found';
        x.l.data = (row[0] as Uint8Array | null) ?? new Uint8Array(0);
        x.l.length = (row[1] as number | null) ?? 0;
        x.l.dataId = row[2] as number;
      },
    },
    {
      id: 'concat',
      kind: 'kernel',
      text: 'new_data <- kmalloc(length + size); concat(existing_data, buff)',
      run: (x) => {
        const c = x.l.call;
        if (c.op !== 'write') return;
        const size = x.l.length! + c.bytes.length;
        if (size > KMALLOC_MAX) return oops(x, size);
        x.l.data = concat([x.l.data!, c.bytes]);
      },
    },
    lockTo(Lock.RESERVED, 'lock_reserved'),
    {
      id: 'update',
      kind: 'sql',
      text: 'UPDATE pipe_data SET data = new_data',
      run: (x) => {
        if (storeFull(x, x.l.data!.length)) return 'nomem';
        execSql(x, Q.upWriteUpdate, [x.l.data!, x.l.dataId!]);
      },
    },
    ...commit(),
    mutexUnlock(),
    {
      id: 'wake_reader',
      kind: 'wake',
      text: 'wake up read_waitqueue (non-exclusive: every reader)',
      run: (x) => {
        const c = x.l.call;
        if (c.op === 'write') x.k.state.counters.bytesWritten += c.bytes.length;
        x.k.wakeUp(x.p, x.k.state.pipes[x.l.dataId!].readWq, 1, { kind: 'pipe', dataId: x.l.dataId!, queue: 'read_wq' });
      },
    },
    ret('return', 'return 0 (not the byte count)', () => 0),
    ...notFound(),
    ...noMemory('the write'),
    ...busyTail(true),
  ]);
}

/**
 * The published write does not check kmalloc: past KMALLOC_MAX_SIZE it dereferences NULL. The task dies
 * in the oops still holding the write mutex and its connection's lock, so later syscalls wait forever.
 */
function oops(x: Exec, size: number): void {
  x.k.db.rollbackWrite();
  const msg = `kernel oops in sql_pipe_write: unchecked kmalloc(${size}) returned NULL; P${x.p.pid} killed holding the write mutex`;
  x.k.anomaly(x.p, 'error', msg);
  x.k.finish(x, Err.EFAULT, msg);
  x.p.status = 'exited';
}

function closeProgram(): Program {
  return new Program('close', [
    ret('ebadf', 'close(): EBADF — the fd number was never installed', () => Err.EBADF),
  ]);
}

function exitProgram(): Program {
  return new Program('exit', [
    {
      id: 'exit_hook',
      kind: 'kernel',
      text: 'exit hook returns at once: no row is deleted',
      run: (x) => {
        const h = x.k.state.handlers[x.p.handler];
        h.users = h.users.filter((u) => u !== x.p.pid);
        if (h.users.length === 0) delete x.k.state.handlers[h.id];
        // An open transaction's connection is never closed (it holds no lock: see beginProgram).
        x.k.finish(x, 0);
        x.p.status = 'exited';
      },
    },
  ]);
}

/**
 * 553 as published (ksqlite_setup_for_write): a connection of the task's own and BEGIN TRANSACTION on
 * it — deferred, so no lock until it reads, and nothing ever reads through it (549 and the pipe calls
 * open their own). A read transaction (4) holds nothing: a write inside it does not wait for it (seen
 * on the published kernel: examples 10 and 13 run through). 8 first takes the global write mutex, a
 * plain mutex: the holder's own pipe calls and forks then sleep on it for ever, and an exit keeps it
 * held. A second 553 finds the first: 0 if it asked for no more than that one's mode, else EINVAL as a
 * positive 22 (`return EINVAL`).
 */
function beginProgram(): Program {
  return new Program('begin', [
    {
      id: 'check',
      kind: 'check',
      text: 'current->sql_ref set? a mode below the one asked: return EINVAL (+22); else "utilizing a previous lock": return 0',
      unseen: () => true,
      run: (x) => {
        if (x.p.txnConn === null) return;
        // "Invalid lock requested!": `return EINVAL`, a positive 22 that user space takes for success
        if (isWrite(x) && !x.p.txnWrite) return x.k.finish(x, -Err.EINVAL);
        x.k.finish(x, 0);
      },
    },
    { ...mutexLock('write_lock'), text: 'lock_flag >= SQL_LOCKED_FOR_WRITE: mutex_lock(&ksqlite_write_mutex)', when: isWrite },
    begin('begin', false),
    {
      id: 'hold',
      kind: 'txn',
      text: 'current->sql_ref <- the connection and its mode; return 0',
      run: (x) => {
        x.p.txnConn = x.l.conn!;
        if (isWrite(x)) x.p.txnWrite = true;
        x.k.finish(x, 0);
      },
    },
  ]);
}

/** 554: the write mutex let go first if 8 took it; COMMIT (1) or nothing (anything else: no ROLLBACK runs); close the connection. */
function commitProgram(op: 'commit' | 'rollback'): Program {
  return new Program(op, [
    needsTxn(COMMIT_OOPS, 'current->sql_ref->mode read with sql_ref NULL: the published kernel oopses'),
    {
      id: op,
      kind: 'txn',
      text: `mode SQL_LOCKED_FOR_WRITE? mutex_unlock; ${op === 'commit' ? 'COMMIT' : 'no COMMIT (nothing was written through it)'}; sqlite3_close; kfree(current->sql_ref)`,
      run: (x) => {
        if (x.p.txnWrite) {
          delete x.p.txnWrite;
          x.k.mutexUnlock(x.p);
        }
        x.k.closeConn(x.p.txnConn!);
        x.p.txnConn = null;
        delete x.p.savepoints;
        x.k.finish(x, 0);
      },
    },
  ]);
}

function upstreamSpawn(kind: 'fork' | 'thread'): Program {
  return spawnProgram(kind, {
    insertText: kind === 'fork' ? 'INSERT INTO pid_store VALUES (child, child)' : 'INSERT INTO pid_store SELECT child, parent_id WHERE pid = current',
    insert: (x, child) => void (kind === 'fork' ? execSql(x, Q.insertProc, [child, child]) : execSql(x, Q.insertThread, [child, x.p.pid])),
    copyText: 'INSERT INTO pid_pipe SELECT child, fd, dataId FROM pid_pipe WHERE pid = current->pid',
    copyFrom: (x) => x.p.pid,
    copyFdTable: false,
    copyProcessText: kind === 'fork' ? 'copy_process(): reserved fd numbers are not copied' : 'copy_process(CLONE_FILES)',
  });
}

export function upstreamPrograms(): Record<OpName, Program> {
  return {
    pipe: pipeProgram(),
    read: readProgram(),
    write: writeProgram(),
    close: closeProgram(),
    exit: exitProgram(),
    fork: upstreamSpawn('fork'),
    thread: upstreamSpawn('thread'),
    query: queryProgram(false),
    begin: beginProgram(),
    commit: commitProgram('commit'),
    rollback: commitProgram('rollback'),
    savepoint: savepointProgram('savepoint'),
    release: savepointProgram('release'),
    rollback_to: savepointProgram('rollback_to'),
  };
}

export function upstreamProfile(): SimProfile {
  return { programs: upstreamPrograms() };
}

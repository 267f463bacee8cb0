/*
 * The companion profile: the design our kernel patch implements (DESIGN.md); pipe, read and write here,
 * close, exit, fork and thread in companion-lifecycle.ts. fds are real files that name
 * their pipe and end, so no lookup join is needed; the kernel keeps each pipe's byte count and reader /
 * writer counts under the global write mutex; bytes live in pipe_chunk, in chunks of at most 64 KiB (a
 * write that fits in the newest unread chunk's 4 KiB joins it), so a write costs its own size; a read
 * deletes the chunks it read to their end and notes how far it read into one (pipe_data.head_read). read returns 0 at EOF, write without a reader fails with EPIPE, a full pipe blocks writers
 * on write_wq, a write of at most PIPE_BUF bytes waits until it fits whole, close and exit delete rows.
 * Readers and writers wait exclusively and are woken one at a time (a reader that leaves bytes behind
 * wakes the next, as the paper's algorithm 5 does; a writer that leaves room behind, likewise).
 */
import { beginProgram, commitProgram, queryProgram, savepointProgram } from './common';
import { closeProgram, companionSpawn, exitProgram, releaseEnd } from './companion-lifecycle';
import { concat, lookup, ownTable, pipeOf, refuseInsideTxn } from './companion-fd';
import { Exec, OpName, Program, SimProfile, Step, begin, busyTail, commit, execSql, lockTo, lockWrite, mutexLock, mutexUnlock, querySql, sleepOn } from './program';
import { Q } from './schema';
import { Err, Lock, readEnds, writeEnds } from './types';

function waitSteps(queue: 'readWq' | 'writeWq', name: 'read_wq' | 'write_wq', retry: string): Step[] {
  return sleepOn({ queue: (x) => pipeOf(x)?.[queue], name, exclusive: true, prepareText: `prepare_to_wait_exclusive(${name})`, retry });
}

function unreserve(x: Exec): void {
  const h = x.k.state.handlers[x.p.handler];
  h.reserved = h.reserved?.filter((fd) => !x.l.fds!.includes(fd));
  if (!h.reserved?.length) delete h.reserved;
}

function pipeProgram(): Program {
  return new Program('pipe', [
    {
      id: 'alloc_fds',
      kind: 'kernel',
      text: 'inside its own read transaction? EDEADLK; get_unused_fd_flags() x2 (anon inode files)',
      run: (x) => {
        if (refuseInsideTxn(x)) return;
        const r = x.k.allocFd(x.p);
        x.l.fds = [r, x.k.allocFd(x.p, [r])];
        // Taken until fd_install (or put_unused_fd): a thread sharing the table cannot get them meanwhile.
        const h = x.k.state.handlers[x.p.handler];
        h.reserved = [...(h.reserved ?? []), ...x.l.fds];
      },
    },
    mutexLock(),
    begin(),
    ...lockWrite(),
    {
      id: 'insert_pipe',
      kind: 'sql',
      text: 'INSERT INTO pipe_data(read_wq, write_wq, data)',
      run: (x) => {
        const q = x.k.state.nextQueueId;
        x.k.state.nextQueueId += 2;
        execSql(x, Q.coPipe, [q, q + 1]);
        x.l.dataId = x.k.db.lastInsertRowid();
      },
    },
    { id: 'insert_read_fd', kind: 'sql', text: 'INSERT INTO pid_pipe (read end)', run: (x) => void execSql(x, Q.coAddFd, [x.p.pid, x.l.fds![0], x.l.dataId!]) },
    { id: 'insert_write_fd', kind: 'sql', text: 'INSERT INTO pid_pipe (write end)', run: (x) => void execSql(x, Q.coAddFd, [x.p.pid, x.l.fds![1], x.l.dataId!]) },
    ...commit(),
    {
      id: 'fd_install',
      kind: 'kernel',
      text: 'fd_install() both ends',
      run: (x) => {
        const [r, w] = x.l.fds!;
        const id = x.l.dataId!;
        const q = x.k.state.nextQueueId - 2;
        x.k.state.pipes[id] = { dataId: id, buffered: 0, readers: 1, writers: 1, readFd: r, writeFd: w, readWq: [], writeWq: [], readWqId: q, writeWqId: q + 1, tail: id * SEQ_BASE };
        if (x.l.call.op === 'pipe' && x.l.call.nonblock) x.k.state.pipes[id].nonblock = true;
        const h = x.k.state.handlers[x.p.handler];
        h.fds[r] = { dataId: id, end: 'r' };
        h.fds[w] = { dataId: id, end: 'w' };
        unreserve(x);
      },
    },
    mutexUnlock(),
    { id: 'return', kind: 'return', text: 'return 0 (fds in fd[2])', run: (x) => x.k.finish(x, x.l.fds!) },
    ...busyTail(true).flatMap((s) => (s.id === 'busy' ? [s, { id: 'put_unused_fds', kind: 'kernel' as const, text: 'put_unused_fd() x2', run: unreserve }] : [s])),
  ]);
}

/** pipe_chunk.seq of a pipe's first chunk is dataId << 40 (pipe.c's SEQ_SHIFT): its chunks are one rowid range. */
export const SEQ_BASE = 2 ** 40;

/** Up to 16 chunks per read, as Linux reads across at most 16 pipe buffers. */
const CHUNKS_PER_READ = 16;
/** A chunk holds at most this many bytes (pipe_rw.c's CHUNK_MAX): a longer write is several chunks. */
const CHUNK_MAX = 65536;
/** A write that fits with the newest unread chunk's bytes in this many joins it (pipe_rw.c's MERGE_MAX). */
const MERGE_MAX = 4096;
/** Writes of at most this many bytes are atomic (Linux's PIPE_BUF). */
const PIPE_BUF = 4096;

/** How far this read leaves the chunk it read in part (0 if it read every chunk it touched to its end). */
function partRead(x: Exec): number {
  const part = x.l.chunks!.find(([, upTo, len]) => upTo < len);
  return part ? part[1] : 0;
}

function readProgram(): Program {
  return new Program('read', [
    {
      id: 'lookup',
      kind: 'kernel',
      unseen: ownTable,
      text: 'fdget(fd): the read end of a sql pipe? 0 bytes? EDEADLK inside its own read transaction',
      run: (x) => {
        const c = x.l.call;
        if (c.op !== 'read' || !lookup(x, c.fd, 'r')) return;
        if (c.n === 0) return x.k.finish(x, 0, undefined, new Uint8Array(0));
        refuseInsideTxn(x);
      },
    },
    mutexLock(),
    {
      id: 'check_empty',
      kind: 'check',
      text: 'if buffered = 0: EOF when no writer is left, else -EAGAIN under O_NONBLOCK, else sleep on read_wq',
      run: (x) => {
        const pipe = pipeOf(x);
        if (pipe.buffered > 0) return;
        if (writeEnds(pipe) > 0 && pipe.nonblock) return 'eagain';
        x.l.wakeNext = true;
        return writeEnds(pipe) === 0 ? 'eof' : 'prepare_wait';
      },
    },
    begin(),
    lockTo(Lock.SHARED, 'lock_shared'),
    {
      id: 'select_data',
      kind: 'sql',
      text: 'SELECT seq, length(data), substr(data, head_read + 1, k) FROM pipe_chunk (oldest chunks first)',
      run: (x) => {
        const c = x.l.call;
        if (c.op !== 'read') return;
        // One chunk at a time, so a read costs the chunks it consumes, not the backlog behind them.
        const parts: Uint8Array[] = [];
        let want = Math.min(c.n, pipeOf(x).buffered);
        let after = -1;
        let skip = pipeOf(x).headRead ?? 0;
        x.l.chunks = [];
        while (want > 0 && x.l.chunks.length < CHUNKS_PER_READ) {
          const row = querySql(x, Q.coNextChunk, [skip + 1, want, x.l.dataId!, after])[0] as [number, number, Uint8Array] | undefined;
          if (!row) break;
          const [seq, len, bytes] = row;
          parts.push(bytes);
          x.l.chunks.push([seq, skip + bytes.length, len]);
          want -= bytes.length;
          after = seq;
          skip = 0;
        }
        x.l.data = concat(parts);
      },
    },
    lockTo(Lock.RESERVED, 'lock_reserved'),
    {
      id: 'delete_chunks',
      kind: 'sql',
      text: 'DELETE FROM pipe_chunk (chunks read to their end)',
      when: (x) => x.l.chunks!.some(([, upTo, len]) => upTo === len),
      run: (x) => {
        const last = x.l.chunks!.filter(([, upTo, len]) => upTo === len).pop()!;
        execSql(x, Q.coChunkDeleteUpTo, [x.l.dataId!, last[0]]);
      },
    },
    {
      id: 'head_read',
      kind: 'sql',
      text: 'UPDATE pipe_data SET head_read = k (how far the oldest chunk is read; no chunk is rewritten)',
      when: (x) => partRead(x) !== (pipeOf(x).headRead ?? 0),
      run: (x) => void execSql(x, Q.coHeadRead, [partRead(x), x.l.dataId!]),
    },
    ...commit(),
    {
      id: 'copy_to_user',
      kind: 'kernel',
      text: 'copy_to_user; buffered -= bytes_read; head_read',
      run: (x) => {
        const n = x.l.data!.length;
        pipeOf(x).buffered -= n;
        pipeOf(x).headRead = partRead(x);
        x.k.state.counters.bytesRead += n;
      },
    },
    {
      id: 'wake_next_reader',
      kind: 'wake',
      text: 'if bytes are left: wake up the next reader on read_wq',
      when: (x) => pipeOf(x).buffered > 0 && pipeOf(x).readWq.length > 0,
      run: (x) => void x.k.wakeUp(x.p, pipeOf(x).readWq, 1, { kind: 'pipe', dataId: x.l.dataId!, queue: 'read_wq' }),
    },
    {
      id: 'wake_writer',
      kind: 'wake',
      text: 'wake up a writer on write_wq (room was made)',
      when: (x) => pipeOf(x).writeWq.length > 0,
      run: (x) => void x.k.wakeUp(x.p, pipeOf(x).writeWq, 1, { kind: 'pipe', dataId: x.l.dataId!, queue: 'write_wq' }),
    },
    mutexUnlock(),
    { id: 'return', kind: 'return', text: 'return bytes_read', run: (x) => x.k.finish(x, x.l.data!.length, undefined, x.l.data) },
    mutexUnlock('eof'),
    { id: 'return_eof', kind: 'return', text: 'return 0 (EOF: no writer left)', run: (x) => x.k.finish(x, 0, undefined, new Uint8Array(0)) },
    mutexUnlock('eagain'),
    { id: 'return_eagain', kind: 'return', text: 'return -EAGAIN (O_NONBLOCK: nothing to read yet)', run: (x) => x.k.finish(x, Err.EAGAIN, 'EAGAIN (-11): the pipe is empty and O_NONBLOCK') },
    ...waitSteps('readWq', 'read_wq', 'check_empty'),
    ...busyTail(true),
  ]);
}

function writeProgram(): Program {
  return new Program('write', [
    {
      id: 'lookup',
      kind: 'kernel',
      unseen: ownTable,
      text: 'fdget(fd): the write end of a sql pipe? 0 bytes? EDEADLK inside its own read transaction',
      run: (x) => {
        const c = x.l.call;
        if (c.op !== 'write' || !lookup(x, c.fd, 'w')) return;
        x.l.done = 0;
        if (c.bytes.length === 0) return x.k.finish(x, 0);
        refuseInsideTxn(x);
      },
    },
    mutexLock(),
    {
      id: 'check_readers',
      kind: 'check',
      text: 'no read end left? EPIPE',
      run: (x) => (readEnds(pipeOf(x)) === 0 ? 'epipe' : undefined),
    },
    {
      id: 'check_room',
      kind: 'check',
      text: 'room = capacity - buffered; full, or a write of at most PIPE_BUF bytes that does not fit whole? -EAGAIN under O_NONBLOCK (what was written so far returned), else sleep on write_wq',
      run: (x) => {
        const c = x.l.call;
        if (c.op !== 'write') return;
        const cap = x.k.opts.capacity;
        const room = Math.max(0, cap - pipeOf(x).buffered);
        const whole = c.bytes.length <= PIPE_BUF ? Math.min(c.bytes.length - x.l.done!, cap) : 1;
        if (room >= whole) return;
        if (!pipeOf(x).nonblock) return 'prepare_wait';
        x.l.eagain = true;
        return 'wake_next_writer';
      },
    },
    begin(),
    ...lockWrite(),
    {
      id: 'insert_chunk',
      kind: 'sql',
      text: 'INSERT INTO pipe_chunk(seq = tail, dataId, data), 64 KiB a chunk (or UPDATE the newest unread chunk: a write that fits in its 4 KiB joins it)',
      run: (x) => {
        const c = x.l.call;
        if (c.op !== 'write') return;
        const pipe = pipeOf(x);
        const room = x.k.opts.capacity - pipe.buffered;
        const n = Math.min(room, c.bytes.length - x.l.done!);
        x.l.chunk = n;
        const part = n === c.bytes.length ? c.bytes : c.bytes.subarray(x.l.done!, x.l.done! + n);
        x.l.tail = pipe.tail!;
        x.l.tailLen = pipe.tailLen ?? 0;
        if (pipe.buffered > 0 && x.l.tailLen + n <= MERGE_MAX) {
          execSql(x, Q.coChunkMerge, [x.l.tail - 1, x.l.dataId!, part]);
          x.l.tailLen += n;
          return;
        }
        for (let off = 0; off < n; off += CHUNK_MAX) {
          const piece = part.subarray(off, Math.min(n, off + CHUNK_MAX));
          execSql(x, Q.coChunkAppend, [x.l.tail++, x.l.dataId!, piece]);
          x.l.tailLen = piece.length;
        }
      },
    },
    ...commit(),
    {
      id: 'account',
      kind: 'kernel',
      text: 'buffered += n; tail, tail_len',
      run: (x) => {
        pipeOf(x).buffered += x.l.chunk!;
        pipeOf(x).tail = x.l.tail!;
        pipeOf(x).tailLen = x.l.tailLen!;
        x.l.done! += x.l.chunk!;
        x.k.state.counters.bytesWritten += x.l.chunk!;
      },
    },
    {
      id: 'wake_reader',
      kind: 'wake',
      text: 'wake up a reader on read_wq',
      when: (x) => pipeOf(x).readWq.length > 0,
      run: (x) => void x.k.wakeUp(x.p, pipeOf(x).readWq, 1, { kind: 'pipe', dataId: x.l.dataId!, queue: 'read_wq' }),
    },
    {
      id: 'more',
      kind: 'check',
      text: 'bytes left to write? go round again',
      run: (x) => {
        const c = x.l.call;
        if (c.op === 'write' && x.l.done! < c.bytes.length) return 'check_readers';
      },
    },
    {
      id: 'wake_next_writer',
      kind: 'wake',
      text: 'if room is left: wake up the next writer on write_wq',
      when: (x) => pipeOf(x).buffered < x.k.opts.capacity && readEnds(pipeOf(x)) > 0 && pipeOf(x).writeWq.length > 0,
      run: (x) => void x.k.wakeUp(x.p, pipeOf(x).writeWq, 1, { kind: 'pipe', dataId: x.l.dataId!, queue: 'write_wq' }),
    },
    mutexUnlock(),
    {
      id: 'return',
      kind: 'return',
      text: 'return bytes written (-EAGAIN if none, under O_NONBLOCK)',
      run: (x) => (x.l.eagain && !x.l.done ? x.k.finish(x, Err.EAGAIN, 'EAGAIN (-11): the pipe is full and O_NONBLOCK') : x.k.finish(x, x.l.done!)),
    },
    mutexUnlock('epipe'),
    {
      id: 'return_epipe',
      kind: 'return',
      text: 'return -EPIPE (SIGPIPE)',
      run: (x) => {
        if (x.l.done! > 0) return x.k.finish(x, x.l.done!);
        x.k.finish(x, Err.EPIPE, 'EPIPE (-32): no read end is open (the simulator does not deliver SIGPIPE)');
      },
    },
    ...waitSteps('writeWq', 'write_wq', 'check_readers'),
    ...busyTail(true),
  ]);
}

export function companionPrograms(): Record<OpName, Program> {
  return {
    pipe: pipeProgram(),
    read: readProgram(),
    write: writeProgram(),
    close: closeProgram(),
    exit: exitProgram(),
    fork: companionSpawn('fork'),
    thread: companionSpawn('thread'),
    query: queryProgram(),
    begin: beginProgram(),
    commit: commitProgram(),
    rollback: commitProgram('rollback'),
    savepoint: savepointProgram('savepoint'),
    release: savepointProgram('release'),
    rollback_to: savepointProgram('rollback_to'),
  };
}

export function companionProfile(): SimProfile {
  return {
    programs: companionPrograms(),
    // fdput(): a read or write held its end open while it ran; letting go may be the last reference.
    onFinish: (x) => {
      if (!x.l.holds) return;
      x.l.holds = false;
      releaseEnd(x, { dataId: x.l.dataId!, end: x.l.end! }, true);
    },
  };
}

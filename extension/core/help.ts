/*
 * What the words mean, said once: each scenario statement (hover help in .sqlos files), each lock level
 * (tooltips in the Locks view) and each column of the kernel's tables (the schema node of each table).
 * Plain text, so the CLI and the views can use it alike.
 */
import type { LockLevel } from './model/model';

export const STATEMENT_HELP: Record<string, string> = {
  pipe: 'P pipe r w — sql_pipe (552): a new SQL pipe; r and w name its read and write fds (global to the file). Adds a pipe_data row and a pid_pipe row per fd.',
  fork: 'P fork Q — fork(2): Q gets its own fd table, a copy of P\'s (pid_store row (Q, Q), P\'s pid_pipe rows copied to Q).',
  thread: 'P thread Q — clone(CLONE_FILES): Q shares P\'s fd table (pid_store row (Q, P\'s handler)), so P\'s pipes are Q\'s.',
  write: 'P write w DATA — sql_pipe_write (551): appends DATA ("text", x"hex" or a byte count). Takes the global write mutex, then RESERVED and EXCLUSIVE (algorithm 3; PENDING while readers hold SHARED). Companion: blocks on write_wq at capacity, EPIPE with no reader.',
  read: 'P read r N [== DATA] — sql_pipe_read (550): up to N bytes; sleeps on read_wq while the pipe is empty (algorithm 5). Companion: 0 at EOF. == checks the bytes read.',
  close: 'P close fd — close(2): the caller\'s pid_pipe row for that fd goes; the pipe goes with its last end (companion).',
  exit: 'P exit — the process ends: its pid_store row goes, and its fd table\'s pid_pipe rows with the last task using it (companion; the published kernel keeps every row).',
  query: 'P query "SQL" — ksqlite_query (549): one read-only statement in a transaction of its own; takes SHARED, so it waits while a writer holds PENDING.',
  begin: 'P begin — sql_start_transaction(4) (553): opens a read transaction that holds SHARED until commit, so writers wait in PENDING behind it.',
  commit: 'P commit — sql_rollback_transaction(1) (554): ends the read transaction and gives SHARED back; a writer in PENDING may then go on (algorithm 4).',
};

export const LEVEL_HELP: Record<LockLevel, string> = {
  NONE: 'NONE: no lock held.',
  SHARED: 'SHARED: reading. Many may hold it; refused (the reader waits on read_q) while a writer holds PENDING or more.',
  RESERVED: 'RESERVED: about to write. One writer at a time (the global write mutex keeps writers apart); readers still come in.',
  PENDING: 'PENDING: a writer asked for EXCLUSIVE while others still read. No new reader gets SHARED; the writer sleeps on write_q until the last reader leaves (the paper\'s algorithm 3).',
  EXCLUSIVE: 'EXCLUSIVE: writing, the only connection with a lock; granted when the writer is the sole reader left.',
};

export const COLUMN_HELP: Record<string, string> = {
  'pid_store.pid': 'the process id',
  'pid_store.parent_id': 'the handler: the process whose fd table this one uses (the paper\'s handler_id), not the parent pid',
  'pid_pipe.pid': 'the handler (the fd table\'s owner) holding the fd; the published kernel stores the calling pid',
  'pid_pipe.fd': 'the file descriptor number in that fd table',
  'pid_pipe.dataId': 'the pipe it names (pipe_data.dataId)',
  'pipe_data.dataId': 'the pipe\'s id',
  'pipe_data.read_wq': 'the readers\' wait queue: a queue id (companion) or a raw kernel address (published kernel)',
  'pipe_data.write_wq': 'the writers\' wait queue: a queue id (companion) or a raw kernel address (published kernel)',
  'pipe_data.head_read': 'how many bytes of the pipe\'s oldest chunk are read already (companion kernel): a read of part of a chunk notes this instead of rewriting the chunk',
  'pipe_data.data': 'the buffered bytes (published kernel); NULL on the companion kernel, which keeps them in pipe_chunk',
  'pipe_chunk.seq': 'the chunk\'s place: dataId << 40 plus the pipe\'s write count (the rowid)',
  'pipe_chunk.dataId': 'the pipe the bytes belong to',
  'pipe_chunk.data': 'bytes written and not yet read, up to 64 KiB a chunk (a write of a few bytes joins the newest chunk while it holds under 4 KiB); the oldest chunk\'s first pipe_data.head_read bytes are read already',
};

/** A table's columns with what each means, for the schema node ("no description" for unknown ones). */
export function schemaOf(table: string, columns: string[]): { column: string; meaning: string }[] {
  return columns.map((c) => ({ column: c, meaning: COLUMN_HELP[`${table}.${c}`] ?? 'no description' }));
}

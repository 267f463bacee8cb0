/*
 * The tables and the fixed statements of each profile, in one place so the syscall programs read like the
 * paper's pseudocode and a reader can compare the two profiles side by side.
 *
 * upstream: the published tree's schema and statements (reference/upstream-sqliteos.md): no keys on
 * pid_pipe, pipe_data.data holding the whole backlog, wait-queue kernel addresses in read_wq/write_wq.
 * companion: the same three tables and column names, plus keys and indexes, and pipe_chunk holding the
 * bytes in chunks of at most 64 KiB (small writes joined), so a write costs its own size rather than the
 * backlog's; pipe_data.head_read says how much of the oldest chunk is read. pipe_data.data stays NULL
 * there and read_wq/write_wq hold small queue ids, never a kernel address.
 */
import type { Profile } from './types';

export const UPSTREAM_SCHEMA = `
CREATE TABLE pid_store(pid INT PRIMARY KEY NOT NULL, parent_id INT NOT NULL);
CREATE TABLE pid_pipe(pid INT NOT NULL, fd INT NOT NULL, dataId INT NOT NULL);
CREATE TABLE pipe_data(dataId INTEGER PRIMARY KEY NOT NULL, read_wq BLOB, write_wq BLOB, data BLOB);
`;

export const COMPANION_SCHEMA = `
CREATE TABLE pid_store(pid INTEGER PRIMARY KEY NOT NULL, parent_id INT NOT NULL);
CREATE INDEX pid_store_parent ON pid_store(parent_id);
CREATE TABLE pid_pipe(pid INT NOT NULL, fd INT NOT NULL, dataId INT NOT NULL, PRIMARY KEY(pid, fd));
CREATE INDEX pid_pipe_data ON pid_pipe(dataId);
CREATE TABLE pipe_data(dataId INTEGER PRIMARY KEY NOT NULL, read_wq INT, write_wq INT, data BLOB, head_read INT NOT NULL DEFAULT 0);
CREATE TABLE pipe_chunk(seq INTEGER PRIMARY KEY, dataId INT NOT NULL, data BLOB NOT NULL);
CREATE INDEX pipe_chunk_pipe ON pipe_chunk(dataId, seq);
`;

/** What names a row to a person (its primary key, and a chunk's pipe); other tables: their first column. */
export const ROW_KEYS: Record<string, string[]> = { pid_store: ['pid'], pid_pipe: ['pid', 'fd'], pipe_data: ['dataId'], pipe_chunk: ['dataId', 'seq'] };

/** A row named by its key: "pid 36 fd 3". */
export function rowKey(table: string, columns: string[], row: unknown[]): string {
  const named = (ROW_KEYS[table] ?? [columns.find((c) => c !== 'rowid') ?? 'rowid']).filter((c) => columns.includes(c));
  return named.map((c) => `${c} ${String(row[columns.indexOf(c)])}`).join(' ');
}

export function schemaFor(profile: Profile): string {
  return profile === 'upstream' ? UPSTREAM_SCHEMA : COMPANION_SCHEMA;
}

/** A fake kernel address for a kmalloc'd wait queue, as the published tree stores it (signed int64). */
export const UPSTREAM_WQ_BASE = -131941329305600; // 0xffff888004000000 as a signed 64-bit value

/** sql.c's HANDLER(n): the fd table owner of the pid in parameter n (itself when it has no row). */
function handler(n: number): string {
  return `coalesce((SELECT parent_id FROM pid_store WHERE pid = ?${n}), ?${n})`;
}

export const Q = {
  // Shared by both profiles: process bookkeeping.
  insertProc: 'INSERT INTO pid_store(pid, parent_id) VALUES (?, ?)',
  insertThread: 'INSERT INTO pid_store(pid, parent_id) SELECT ?, parent_id FROM pid_store WHERE pid = ?',
  copyFds: 'INSERT INTO pid_pipe(pid, fd, dataId) SELECT ?, fd, dataId FROM pid_pipe WHERE pid = ?',
  insertFd: 'INSERT INTO pid_pipe(pid, fd, dataId) VALUES (?, ?, ?)',

  // upstream: one statement finds the pipe by (fd, calling pid) through the handler join.
  // data is left NULL (its default) until the first write, as the published INSERT leaves it.
  upPipe: `INSERT INTO pipe_data(read_wq, write_wq) VALUES (${UPSTREAM_WQ_BASE} + ? * 64, ${UPSTREAM_WQ_BASE} + ? * 64 + 32)`,
  upReadSelect:
    'SELECT read_wq, write_wq, substr(data, 1, ?), length(data), pipe_data.dataId FROM pid_pipe ' +
    'JOIN pipe_data ON pipe_data.dataId = pid_pipe.dataId JOIN pid_store ON pid_store.parent_id = pid_pipe.pid ' +
    'WHERE fd = ? AND pid_store.pid = ?',
  upReadUpdate: 'UPDATE pipe_data SET data = SUBSTR(data, ?) WHERE dataId = ?',
  upWriteSelect:
    'SELECT data, length(data), pipe_data.dataId, read_wq FROM pid_pipe ' +
    'JOIN pipe_data ON pipe_data.dataId = pid_pipe.dataId JOIN pid_store ON pid_store.parent_id = pid_pipe.pid ' +
    'WHERE fd = ? AND pid_store.pid = ?',
  upWriteUpdate: 'UPDATE pipe_data SET data = ? WHERE dataId = ?',

  // companion: the fd's struct file names the pipe; the tables are the pipe's state, not its index.
  // The lowest free dataId, as the kernel's IDA gives it (a closed pipe's id is used again once its rows are gone).
  coPipe:
    'INSERT INTO pipe_data(dataId, read_wq, write_wq, data) VALUES ((SELECT min(d) FROM (SELECT 1 AS d UNION ALL SELECT dataId + 1 FROM pipe_data) ' +
    'WHERE d NOT IN (SELECT dataId FROM pipe_data)), ?, ?, NULL)',
  coNextChunk: 'SELECT seq, length(data), substr(data, ?, ?) FROM pipe_chunk WHERE dataId = ? AND seq > ? ORDER BY seq LIMIT 1',
  coChunkAppend: 'INSERT INTO pipe_chunk(seq, dataId, data) VALUES (?, ?, ?)',
  coChunkMerge: 'UPDATE pipe_chunk SET data = CAST(data || ?3 AS BLOB) WHERE seq = ?1 AND dataId = ?2',
  coChunkDeleteUpTo: 'DELETE FROM pipe_chunk WHERE dataId = ? AND seq <= ?',
  coHeadRead: 'UPDATE pipe_data SET head_read = ?1 WHERE dataId = ?2',
  coCloseFd: 'DELETE FROM pid_pipe WHERE pid = ? AND fd = ?',
  coDropPipeChunks: 'DELETE FROM pipe_chunk WHERE dataId = ?',
  coDropPipe: 'DELETE FROM pipe_data WHERE dataId = ?',
  coExitProc: 'DELETE FROM pid_store WHERE pid = ?',
  coExitFds: 'DELETE FROM pid_pipe WHERE pid = ?',
  // The companion's bookkeeping jobs, as kernel-scripts/sqliteos/sql.c words them: a job may run later
  // than it was made, so a process's handler is looked up when it runs (HANDLER(n)).
  coAddFd: `INSERT OR REPLACE INTO pid_pipe(pid, fd, dataId) VALUES (${handler(1)}, ?2, ?3)`,
  jobForkProc: `INSERT OR REPLACE INTO pid_store(pid, parent_id) VALUES (?1, CASE WHEN ?3 THEN ${handler(2)} ELSE ?1 END)`,
  jobForkFds: `INSERT OR REPLACE INTO pid_pipe(pid, fd, dataId) SELECT ?1, fd, dataId FROM pid_pipe WHERE NOT ?3 AND pid = ${handler(2)}`,
  // The fd table's rows, if no other task has the same handler (sql.c decides it so, in job order).
  jobExitFds: `DELETE FROM pid_pipe WHERE pid = ${handler(1)} AND NOT EXISTS (SELECT 1 FROM pid_store WHERE parent_id = ${handler(1)} AND pid != ?1)`,
  jobExitProc: 'DELETE FROM pid_store WHERE pid = ?1',
  jobDelStale: `DELETE FROM pid_pipe WHERE dataId = ?1 AND fd NOT IN (?3, ?4) AND pid = ${handler(2)}`,
  jobDropChunks: 'DELETE FROM pipe_chunk WHERE dataId = ?1',
  jobDropFds: 'DELETE FROM pid_pipe WHERE dataId = ?1',
  jobDropPipe: 'DELETE FROM pipe_data WHERE dataId = ?1',
} as const;

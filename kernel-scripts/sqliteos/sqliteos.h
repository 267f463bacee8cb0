/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared between the SQLiteOS glue files.
 *
 * Two locks, as in the paper:
 *  - sqlos_db_lock, a kernel mutex, is held whenever SQLite code runs (SQLite is built
 *    THREADSAFE=0): it protects SQLite, the VFS store and its lock state, the pipes' counters and
 *    the transaction list. It is dropped only to sleep, after prepare_to_wait, so no wake-up is
 *    lost.
 *  - the global write mutex (sqlos_write_lock) serialises every writer, and with it every use of
 *    the kernel connection sqlos_db, across those sleeps. A task may hold it in user space (553
 *    with flag 8), so it is not a struct mutex: it records its owner, and exit releases it.
 * Syscalls wait for both (signals end the waits). The bookkeeping of fork, exit and close cannot
 * fail and must not wait for user space: it runs as a job (sqlos_job) that is kept and run later
 * when the write mutex or the store's lock is not to be had at once, or memory runs out.
 */
#ifndef _SQLITEOS_H
#define _SQLITEOS_H

#include <asm/barrier.h>
#include <asm/unistd.h>
#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/wait.h>

/*
 * A chunk's seq (pipe_chunk's rowid) is dataId << SEQ_SHIFT plus a count of the pipe's writes, so a
 * pipe's chunks are one rowid range: found by rowid, dropped by range, no index to keep up to date.
 * pipe.c computes it, sql.c's statements use it (stringified), 22 bits of dataId fit below bit 62.
 * dataIds come from an IDA (the lowest free one), so a closed pipe's id is used again once its rows
 * are gone, and no one can use the ids up by making and closing pipes.
 */
#define SEQ_SHIFT	40
#define MAX_PIPE_ID	BIT_ULL(22)

struct sqlite3;
struct sqlite3_stmt;
struct sqlite3_vfs;
struct task_struct;

/* The kernel connection: hooks and pipe syscalls, always under the global write mutex. */
extern struct sqlite3 *sqlos_db;
extern struct mutex sqlos_db_lock;

/*
 * Set once the schema, the statements and the pipe filesystem exist; until then nothing uses
 * them.
 */
extern bool sqlos_up;

static inline bool sqlos_ready(void)
{
	/* pairs with the smp_store_release() in sqliteos_init: true means all of it is visible */
	return smp_load_acquire(&sqlos_up);
}

/* pipefs.c: the pipes' own pseudo filesystem, mounted at boot. */
int sqlos_pipe_fs_init(void);

struct sqlite3_vfs *sqlos_memvfs(void);
/* db.c: fault injection (fail_sqlite) for SQLite's allocations and the store's blocks. */
bool sqlos_alloc_fails(size_t n);
/* Whether a connection refuses a lock it would have to wait for (bookkeeping, inspection). */
void sqlos_vfs_nowait(struct sqlite3 *db, bool nowait);

/* ---- the inspection interface (inspect.c) and what it asks the others ---- */

struct seq_file;
typedef void (*sqlos_queue_show)(struct seq_file *sf, const char *name, wait_queue_head_t *q);

void sqlos_vfs_show(struct seq_file *sf);
/* The bytes the database's files hold in memory (their blocks). */
size_t sqlos_vfs_bytes(void);
void sqlos_vfs_queues(struct seq_file *sf, sqlos_queue_show show);
void sqlos_pipes_show(struct seq_file *sf, sqlos_queue_show show);
void sqlos_wmutex_show(struct seq_file *sf, sqlos_queue_show show);
void sqlos_txn_show(struct seq_file *sf);
void sqlos_inspect_init(void);

/* layout.c: the layout record a reader of the kernel's memory goes by (format in layout.c). */
extern char sqlos_layout[];
__printf(1, 2) void sqlos_layout_add(const char *fmt, ...);
#define LAYOUT_SYMBOL(name, addr) \
	sqlos_layout_add("SYMBOL(%s)=%lx\n", name, (unsigned long)(addr))
#define LAYOUT_NUMBER(name, v)	sqlos_layout_add("NUMBER(%s)=%lld\n", name, (long long)(v))
#define LAYOUT_SIZE(s)	sqlos_layout_add("SIZE(%s)=%zu\n", #s, sizeof(struct s))
#define LAYOUT_FIELD(s, f) \
	sqlos_layout_add("OFFSET(%s.%s)=%zu\nSIZE(%s.%s)=%zu\n", #s, #f, \
			 offsetof(struct s, f), #s, #f, sizeof_field(struct s, f))
void sqlos_layout_init(void);
void sqlos_vfs_layout(void);
void sqlos_sql_layout(void);
void sqlos_txn_layout(void);
void sqlos_pipes_layout(void);
void sqlos_window_layout(void);
void sqlos_inspect_layout(void);

/* Counters; updated under sqlos_db_lock, except the syscall counts. */
enum sqlos_counter {
	C_SLEEPS, C_WAKEUPS, C_INTERRUPTED, C_BYTES_WRITTEN, C_BYTES_READ, C_WRITES, C_READS,
	C_JOBS, C_JOBS_DEFERRED, C_NS_WRITE_SQL, C_NS_READ_SQL, C_TXNS_ABORTED,
	C_COMMITS, C_REPLAYS, C_REPLAYS_FAILED, C_NR
};

extern u64 sqlos_counters[C_NR];
/*
 * The SQLiteOS syscalls, numbered by the table apply.sh extends (asm/unistd_64.h): 548
 * (hello_world) to 558 (sql_pipe2), each counted for the inspection interface.
 */
#define SQLOS_NR_FIRST	__NR_hello_world
#define SQLOS_NR_LAST	__NR_sql_pipe2
extern atomic64_t sqlos_syscalls[SQLOS_NR_LAST - SQLOS_NR_FIRST + 1];

static inline void sqlos_count_syscall(int nr)
{
	atomic64_inc(&sqlos_syscalls[nr - SQLOS_NR_FIRST]);
}

/* ---- record.c: the recorder (debugfs record) ---- */

enum sqlos_rec {
	REC_PIPE, REC_READ, REC_WRITE, REC_CLOSE, REC_FORK, REC_EXIT, REC_BEGIN, REC_COMMIT,
	REC_QUERY, REC_SAVEPOINT, REC_RELEASE, REC_ROLLBACK_TO, REC_NR
};

struct dentry;
struct iov_iter;

/*
 * What a followed read or write moved, taken where the bytes are (the chunk, the write buffer)
 * under sqlos_db_lock: the order the tables saw (seq), the bytes up to room, and the digest of all.
 */
struct sqlos_rec_io {
	u64 seq, digest;
	size_t room, kept, moved;
	u8 *buf;
};

/* A call's start number if current is followed, else 0 (and nothing is recorded for it). */
u64 sqlos_record_start(void);
void sqlos_record(u64 start, enum sqlos_rec op, s64 a0, s64 a1, s64 result, const void *buf,
		  size_t bytes);
/* A capture for a followed read or write of up to n bytes; NULL: not followed or no memory */
struct sqlos_rec_io *sqlos_rec_io_new(u64 start, size_t n);
void sqlos_rec_io_take(struct sqlos_rec_io *rio, const void *data, size_t n);
void sqlos_rec_io_reset(struct sqlos_rec_io *rio);
void sqlos_rec_io_stamp(struct sqlos_rec_io *rio);
void sqlos_record_io(u64 start, enum sqlos_rec op, s64 id, struct sqlos_rec_io *rio,
		     struct iov_iter *rest, size_t asked, ssize_t ret);
void sqlos_record_fork(struct task_struct *child, bool files);
void sqlos_record_exit(struct task_struct *t);
void sqlos_record_init(struct dentry *dir);

/* ---- sql.c ---- */

/* The kernel connection's statements, prepared once at boot. */
enum sqlos_st {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_FORK_PROC, ST_FORK_FDS, ST_EXIT_PROC, ST_EXIT_FDS,
	ST_UNSHARE_COPY, ST_UNSHARE_REHOME, ST_UNSHARE_SELF,
	ST_NEW_PIPE, ST_ADD_FD, ST_DEL_STALE, ST_COUNT_FDS,
	ST_APPEND, ST_MERGE_CHUNK, ST_CHUNK, ST_DEL_CHUNKS, ST_HEAD_READ,
	ST_DROP_CHUNKS, ST_DROP_PIPE, ST_DROP_FDS, ST_VACUUM,
	ST_NR
};

int sqlos_prepare_all(void);
struct sqlite3_stmt *sqlos_st(enum sqlos_st id, int n, const s64 *args);
int sqlos_run(enum sqlos_st id, int n, const s64 *args);
void sqlos_done(struct sqlite3_stmt *st);
int sqlos_end_txn(int rc);
int sqlos_errno(int rc, bool intr);
int sqlos_sleep(wait_queue_head_t *q, bool exclusive, bool intr);

/*
 * Up to four statements sharing their first nargs arguments, run in one transaction by
 * sqlos_job(); then, if they were written, done(args) (under sqlos_db_lock; the arguments past
 * nargs are done's own).
 */
struct sqlos_job {
	struct list_head node;	/* in the deferred list while it waits */
	bool for_lock;		/* kept for a lock (counts towards max_deferred_jobs), not memory */
	int n, nargs;
	enum sqlos_st st[4];
	s64 args[4];
	void (*done)(const s64 *args);
};

/*
 * A job's own copy, made before sqlos_db_lock is taken; it cannot fail, so no job is ever lost
 * for want of memory. sqlos_job() takes it over (runs and frees it, or keeps it until it runs).
 */
struct sqlos_job *sqlos_job_new(const struct sqlos_job *job);
void sqlos_job(struct sqlos_job *job);
void sqlos_run_deferred(void);

/* The global write mutex; sqlos_db_lock is held around the calls. */
int sqlos_write_lock(void);
void sqlos_write_unlock(void);
bool sqlos_write_nested(void);
bool sqlos_write_release(struct task_struct *t);

/* ---- window.c: pipe reads and writes committed together ---- */
struct sqlos_wbuf;	/* a write's kernel buffer, kept while the window's log needs it */
struct sqlos_wbuf *sqlos_wbuf_alloc(size_t size);
char *sqlos_wbuf_data(struct sqlos_wbuf *b);
struct sqlos_wbuf *sqlos_wbuf_reuse(struct sqlos_wbuf *b, size_t size);
void sqlos_wbuf_put(struct sqlos_wbuf *b);
int sqlos_window_begin(void);
int sqlos_window_run(enum sqlos_st id, const s64 *args, struct sqlos_wbuf *buf, const void *data,
		     size_t len);
int sqlos_window_end(int rc);
int sqlos_flush(void);
bool sqlos_window_held(void);

/* ---- txn.c / pipe.c ---- */
bool sqlos_txn_open(void);

void sqlos_txn_exit(struct task_struct *t);
struct sqlite3 *sqlos_txn_reader(struct task_struct *t);
void sqlos_txn_abort_all(void);

#endif /* _SQLITEOS_H */

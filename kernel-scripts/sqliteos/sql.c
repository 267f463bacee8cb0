// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel connection's prepared statements, the global write mutex and the one way SQLiteOS
 * sleeps: prepare_to_wait first, then drop sqlos_db_lock, so a waker (who must hold the lock to
 * change what the sleeper checked) cannot slip in between the check and the sleep.
 */
#include <linux/errno.h>
#include <linux/init.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/stringify.h>
#include <linux/workqueue.h>
#include "sqlite3.h"
#include "sqliteos.h"

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "sqliteos."

/* The handler (pid_store.parent_id, the paper's handler_id) of the pid in parameter n, or it. */
#define HANDLER(n) "coalesce((SELECT parent_id FROM pid_store WHERE pid = ?" #n "), ?" #n ")"
/* The lowest other task whose handler is the pid in parameter n, or NULL. */
#define OTHERS(n) "(SELECT min(pid) FROM pid_store WHERE parent_id = ?" #n " AND pid != ?" #n ")"

static const char *const st_sql[ST_NR] = {
	[ST_BEGIN] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	/* (child, parent, whether the fd table is shared); a handler is pid_store.parent_id */
	[ST_FORK_PROC] = "INSERT OR REPLACE INTO pid_store(pid, parent_id)"
			 " VALUES (?1, CASE WHEN ?3 THEN " HANDLER(2) " ELSE ?1 END)",
	[ST_FORK_FDS] = "INSERT OR REPLACE INTO pid_pipe(pid, fd, dataId) SELECT ?1, fd, dataId"
			" FROM pid_pipe WHERE NOT ?3 AND pid = " HANDLER(2),
	/*
	 * (pid): the fd table's rows go first, while the pid still names its handler, if no other
	 * task has the same handler (decided here, in job order, not from the files_struct's count,
	 * which two threads exiting together both see above 1)
	 */
	[ST_EXIT_FDS] = "DELETE FROM pid_pipe WHERE pid = " HANDLER(1) " AND NOT EXISTS (SELECT 1"
			" FROM pid_store WHERE parent_id = " HANDLER(1) " AND pid != ?1)",
	/*
	 * (pid): the task got an fd table of its own (unshare(CLONE_FILES), or exec in a thread). A
	 * sharer takes a copy of its handler's rows; a handler others still share with gives them a
	 * new handler (the lowest of their pids) with a copy of the rows; then the task is its own.
	 */
	[ST_UNSHARE_COPY] = "INSERT OR REPLACE INTO pid_pipe(pid, fd, dataId)"
			    " SELECT coalesce(" OTHERS(1) ", ?1), fd, dataId"
			    " FROM pid_pipe WHERE pid = " HANDLER(1)
			    " AND (" HANDLER(1) " != ?1 OR " OTHERS(1) " IS NOT NULL)",
	[ST_UNSHARE_REHOME] = "UPDATE pid_store SET parent_id = " OTHERS(1)
			      " WHERE parent_id = ?1 AND pid != ?1",
	[ST_UNSHARE_SELF] = "UPDATE pid_store SET parent_id = ?1 WHERE pid = ?1",
	[ST_EXIT_PROC] = "DELETE FROM pid_store WHERE pid = ?1",
	/* (read_wq, write_wq, dataId) */
	[ST_NEW_PIPE] = "INSERT INTO pipe_data(dataId, read_wq, write_wq, data)"
			" VALUES (?3, ?1, ?2, NULL)",
	/* (pid, fd, dataId): the row goes under the pid's handler */
	[ST_ADD_FD] = "INSERT OR REPLACE INTO pid_pipe(pid, fd, dataId)"
		      " VALUES (" HANDLER(1) ", ?2, ?3)",
	/* (dataId, pid, fd, fd): the caller's rows of the pipe but for the fds still naming it */
	[ST_DEL_STALE] = "DELETE FROM pid_pipe WHERE dataId = ?1 AND fd NOT IN (?3, ?4)"
			 " AND pid = " HANDLER(2),
	/* (pid): the rows of the pid's fd table, which its forks copy */
	[ST_COUNT_FDS] = "SELECT count(*) FROM pid_pipe WHERE pid = " HANDLER(1),
	[ST_APPEND] = "INSERT INTO pipe_chunk(seq, dataId, data) VALUES (?1, ?2, ?3)",
	/* (seq, dataId, bytes): a small write joins the newest chunk ('||' makes TEXT) */
	[ST_MERGE_CHUNK] = "UPDATE pipe_chunk SET data = CAST(data || ?3 AS BLOB)"
			   " WHERE seq = ?1 AND dataId = ?2",
	[ST_CHUNK] = "SELECT data FROM pipe_chunk WHERE seq = ?1",
	[ST_DEL_CHUNKS] = "DELETE FROM pipe_chunk WHERE seq BETWEEN ?1 AND ?2",
	/* (bytes, dataId): how far the oldest chunk is read (a read never rewrites a chunk) */
	[ST_HEAD_READ] = "UPDATE pipe_data SET head_read = ?1 WHERE dataId = ?2",
	/* (dataId): its rowid range, see pipe.c */
	[ST_DROP_CHUNKS] = "DELETE FROM pipe_chunk"
			   " WHERE seq >= (?1 << " __stringify(SEQ_SHIFT) ")"
			   " AND seq < ((?1 + 1) << " __stringify(SEQ_SHIFT) ")",
	[ST_DROP_PIPE] = "DELETE FROM pipe_data WHERE dataId = ?1",
	[ST_DROP_FDS] = "DELETE FROM pid_pipe WHERE dataId = ?1",
	/* the pages the rows left go back: the file shrinks and the VFS frees its blocks */
	[ST_VACUUM] = "PRAGMA incremental_vacuum",
};

static sqlite3_stmt *stmts[ST_NR];

int sqlos_prepare_all(void)
{
	int i, rc;

	for (i = 0; i < ST_NR; i++) {
		rc = sqlite3_prepare_v3(sqlos_db, st_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&stmts[i], NULL);
		if (rc != SQLITE_OK) {
			pr_err("sqliteos: %s: %s\n", st_sql[i], sqlite3_errmsg(sqlos_db));
			return rc;
		}
	}
	return SQLITE_OK;
}

/*
 * The statement with its integer parameters bound; the caller steps it and hands it to sqlos_done.
 */
struct sqlite3_stmt *sqlos_st(enum sqlos_st id, int n, const s64 *args)
{
	int i;

	for (i = 0; i < n; i++)
		sqlite3_bind_int64(stmts[id], i + 1, args[i]);
	return stmts[id];
}

void sqlos_done(struct sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Runs a statement that returns no rows; SQLITE_OK or the failing code. */
int sqlos_run(enum sqlos_st id, int n, const s64 *args)
{
	sqlite3_stmt *st = sqlos_st(id, n, args);
	int rc;

	/* to the end: incremental_vacuum frees one page per row it returns */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlos_done(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * An SQLite failure as an errno. The VFS refuses a lock (SQLITE_BUSY) only when a signal cut a wait
 * short or when the caller would wait for its own transaction's SHARED lock.
 */
int sqlos_errno(int rc, bool intr)
{
	if (rc == SQLITE_IOERR_NOMEM)	/* the journal's or the store's allocation */
		return -ENOMEM;
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return intr && signal_pending(current) ? -ERESTARTSYS : -EDEADLK;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
	case SQLITE_TOOBIG:
		return -ENOSPC;
	default:
		return -EIO;
	}
}

/*
 * Sleeps on q with sqlos_db_lock held on entry and on return. Returns -ERESTARTSYS when an
 * interruptible sleep ends by a signal; a woken exclusive waiter that leaves for a signal passes
 * the wake-up on, so the next waiter re-checks instead.
 */
int sqlos_sleep(wait_queue_head_t *q, bool exclusive, bool intr)
{
	int state = intr ? TASK_INTERRUPTIBLE : TASK_UNINTERRUPTIBLE;
	DEFINE_WAIT(wait);

	if (exclusive)
		prepare_to_wait_exclusive(q, &wait, state);
	else
		prepare_to_wait(q, &wait, state);
	mutex_unlock(&sqlos_db_lock);
	if (!intr || !signal_pending(current))
		schedule();
	finish_wait(q, &wait);
	mutex_lock(&sqlos_db_lock);
	sqlos_counters[C_SLEEPS]++;
	if (intr && signal_pending(current)) {
		sqlos_counters[C_INTERRUPTED]++;
		if (exclusive)
			wake_up(q);
		return -ERESTARTSYS;
	}
	sqlos_counters[C_WAKEUPS]++;
	return 0;
}

/* ---- jobs: a few statements in one transaction, run now or as soon as they can be ---- */

static LIST_HEAD(deferred);	/* jobs kept, in order; protected by sqlos_db_lock */
static unsigned int nkept;	/* its length */
static unsigned int ndeferred;	/* those of them kept for a lock */

/*
 * sqliteos.max_deferred_jobs=: how many jobs may wait for an open transaction (553) before every
 * open transaction is rolled back so that they can run (txn.c); each is a fork, exit or close's
 * bookkeeping, kept in kernel memory.
 */
static unsigned int max_deferred_jobs = 1024;
module_param(max_deferred_jobs, uint, 0644);

/*
 * A job that failed for memory is kept and tried again by the next holder of the write mutex, and
 * from a worker after JOB_RETRY_DELAY in case none comes (a worker's allocations are charged to no
 * task's memcg).
 */
static void retry_jobs(struct work_struct *work);
static DECLARE_DELAYED_WORK(job_retry, retry_jobs);
#define JOB_RETRY_DELAY	(HZ / 10)

struct sqlos_job *sqlos_job_new(const struct sqlos_job *job)
{
	/*
	 * A few dozen bytes of the system's bookkeeping, charged to no memcg: a task at its
	 * memcg's limit, or exiting after an OOM kill, must not lose its exit's or its close's
	 * rows, and the hooks cannot report a failure.
	 */
	return kmemdup(job, sizeof(*job), GFP_KERNEL | __GFP_NOFAIL);
}

/*
 * The global write mutex: serialises writers and every use of sqlos_db across their sleeps.
 * Its fields are protected by sqlos_db_lock.
 */
static struct sqlos_wmutex {
	struct task_struct *owner;
	unsigned int depth;
	wait_queue_head_t wq;
} wmutex = { .wq = __WAIT_QUEUE_HEAD_INITIALIZER(wmutex.wq) };

/* COMMITs the kernel connection's transaction if rc is SQLITE_OK, else (or on failure) ROLLBACK. */
int sqlos_end_txn(int rc)
{
	if (rc == SQLITE_OK)
		rc = sqlos_run(ST_COMMIT, 0, NULL);
	if (rc != SQLITE_OK)
		sqlos_run(ST_ROLLBACK, 0, NULL);
	return rc;
}

/* Takes the write mutex if it is free or already the caller's; never sleeps. */
static bool wmutex_trylock(void)
{
	if (wmutex.owner && wmutex.owner != current)
		return false;
	wmutex.owner = current;
	wmutex.depth++;
	return true;
}

/* Runs a job on the kernel connection, which refuses to wait; the write mutex is held. */
static int job_run(const struct sqlos_job *job)
{
	int i, rc;

	/* the commit window first; if its log cannot be written now, the job waits for memory */
	if (sqlos_flush() != SQLITE_OK)
		return SQLITE_NOMEM;
	sqlos_vfs_nowait(sqlos_db, true);
	rc = sqlos_run(ST_BEGIN, 0, NULL);
	for (i = 0; i < job->n && rc == SQLITE_OK; i++)
		rc = sqlos_run(job->st[i], job->nargs, job->args);
	rc = sqlos_end_txn(rc);
	sqlos_vfs_nowait(sqlos_db, false);
	if (rc == SQLITE_OK && job->done)
		job->done(job->args);
	return rc;
}

/*
 * Tries a job: true once it is done with, false if it must wait, in order, for a lock (a read
 * transaction holds the store) or for memory (SQLite's or the store's allocation failed, and
 * SQLite rolled the job back whole; the VFS reports nothing else for memory). Any other failure
 * is a bug: reported, and the job dropped.
 */
enum job_outcome { JOB_DONE, JOB_WAIT_LOCK, JOB_WAIT_MEMORY };

static enum job_outcome job_try(const struct sqlos_job *job)
{
	int rc = job_run(job);

	if (rc == SQLITE_IOERR_NOMEM)	/* the journal's or the store's allocation */
		rc = SQLITE_NOMEM;
	switch (rc & 0xff) {
	case SQLITE_OK:
		return JOB_DONE;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return JOB_WAIT_LOCK;
	case SQLITE_NOMEM:
		schedule_delayed_work(&job_retry, JOB_RETRY_DELAY);
		return JOB_WAIT_MEMORY;
	}
	pr_err_ratelimited("sqliteos: %s: %s: job dropped\n", st_sql[job->st[0]],
			   sqlite3_errstr(rc));
	return JOB_DONE;
}

/* Runs what waited, in order, while it can run; the write mutex is held. */
static void apply_deferred(void)
{
	struct sqlos_job *j, *n;

	list_for_each_entry_safe(j, n, &deferred, node) {
		if (job_try(j) != JOB_DONE)
			return;
		list_del(&j->node);
		nkept--;
		ndeferred -= j->for_lock;
		kfree(j);
	}
}

/*
 * Keeps a job, in order. Only jobs kept for a lock count towards max_deferred_jobs: rolling back
 * the open transactions frees no memory, so jobs kept for memory never end one.
 */
static void defer(struct sqlos_job *job, bool for_lock)
{
	sqlos_counters[C_JOBS_DEFERRED]++;
	list_add_tail(&job->node, &deferred);
	nkept++;
	if (!for_lock)
		return;
	ndeferred++;
	job->for_lock = true;
	if (ndeferred >= max(READ_ONCE(max_deferred_jobs), 1U))
		sqlos_txn_abort_all();
}

/*
 * Bookkeeping that must not fail (fork, exit, close): runs now if the write mutex is free (or the
 * caller's) and the store's lock can be had without waiting. Otherwise the mutex's holder is asleep
 * (waiting for a read transaction, or in user space after 553(8)) or a read transaction holds
 * SHARED (maybe the caller's own), or SQLite ran out of memory, and the job is kept, in order, for
 * the next holder of the mutex: it runs the kept jobs when it takes the mutex and again when it
 * lets go, 554 runs them too, and a worker (job_retry) after a failure for memory.
 */
void sqlos_job(struct sqlos_job *job)
{
	enum job_outcome outcome;

	lockdep_assert_held(&sqlos_db_lock);
	sqlos_counters[C_JOBS]++;
	if (!wmutex_trylock()) {
		defer(job, true);
		sqlos_run_deferred();	/* if defer() ended the transaction that held the mutex */
		return;
	}
	apply_deferred();
	if (!list_empty(&deferred)) {
		/* behind a kept job, for what that one waits for */
		defer(job, list_first_entry(&deferred, struct sqlos_job, node)->for_lock);
	} else {
		outcome = job_try(job);
		if (outcome == JOB_DONE)
			kfree(job);
		else
			defer(job, outcome == JOB_WAIT_LOCK);
	}
	sqlos_write_unlock();
}

/* After a read transaction ends: its task can write again, so run what waited for it. */
void sqlos_run_deferred(void)
{
	if (list_empty(&deferred) || !wmutex_trylock())
		return;
	apply_deferred();
	sqlos_write_unlock();
}

static void retry_jobs(struct work_struct *work)
{
	mutex_lock(&sqlos_db_lock);
	sqlos_run_deferred();
	mutex_unlock(&sqlos_db_lock);
}

/* ---- the global write mutex ---- */

/* Taken in FIFO order (exclusive wake-ups); its owner may take it again (553(8), then writes). */
int sqlos_write_lock(void)
{
	int ret;

	lockdep_assert_held(&sqlos_db_lock);
	while (!wmutex_trylock()) {
		ret = sqlos_sleep(&wmutex.wq, true, true);
		if (ret)
			return ret;
	}
	if (wmutex.depth == 1)
		apply_deferred();
	return 0;
}

/*
 * Lets go of the write mutex for t, which keeps it in user space after 553(8); false if t is inside
 * a call that holds it again right now (it lets go when that call ends).
 */
bool sqlos_write_release(struct task_struct *t)
{
	lockdep_assert_held(&sqlos_db_lock);
	if (wmutex.owner != t || wmutex.depth != 1)
		return false;
	wmutex.depth = 0;
	wmutex.owner = NULL;
	wake_up(&wmutex.wq);
	return true;
}

/* Is the caller's hold on the write mutex nested in one it kept in user space (553(8))? */
bool sqlos_write_nested(void)
{
	lockdep_assert_held(&sqlos_db_lock);
	return wmutex.owner == current && wmutex.depth > 1;
}

void sqlos_write_unlock(void)
{
	lockdep_assert_held(&sqlos_db_lock);
	if (WARN_ON_ONCE(wmutex.owner != current))
		return;
	if (wmutex.depth == 1)
		apply_deferred();
	if (--wmutex.depth)
		return;
	wmutex.owner = NULL;
	wake_up(&wmutex.wq);
}

void sqlos_wmutex_show(struct seq_file *sf, sqlos_queue_show show)
{
	if (show) {
		show(sf, "write_mutex", &wmutex.wq);
		return;
	}
	seq_printf(sf, "write_mutex\t%d\tdepth\t%u\n",
		   wmutex.owner ? task_pid_nr(wmutex.owner) : 0, wmutex.depth);
	seq_printf(sf, "deferred_jobs\t%u\n", nkept);
}

void __init sqlos_sql_layout(void)
{
	LAYOUT_SYMBOL("wmutex", &wmutex);
	LAYOUT_FIELD(sqlos_wmutex, owner);
	LAYOUT_FIELD(sqlos_wmutex, depth);
	LAYOUT_FIELD(sqlos_wmutex, wq);
	LAYOUT_SYMBOL("deferred_jobs", &nkept);
	LAYOUT_NUMBER("deferred_jobs.size", sizeof(nkept));
}

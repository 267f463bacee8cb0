// SPDX-License-Identifier: GPL-2.0-only
/*
 * The commit window: pipe reads and writes on the kernel connection share one transaction, which
 * is committed after sqliteos.commit_window operations or WINDOW_BYTES of write buffers kept, and
 * before anything else looks at the database or uses the kernel connection (sqlos_flush(): a 553
 * transaction, 549, the inspection files, a job, a new pipe). Nothing sees the tables between two
 * commits but the operations themselves, so the window changes no outcome, only what a commit
 * costs: a chunk written and read in one window never reaches the store, and page 1, the b-tree
 * leaf, the freelist trunk and the pointer-map pages go into the journal once a window, not once an
 * operation. While a 553 transaction is open every operation commits at once, so readers and
 * writers wait for each other exactly as they did before.
 *
 * SQLite rolls the whole transaction back when a statement fails for memory (SQLITE_NOMEM, FULL,
 * or an IOERR from the journal or the store): the operations before it in the window, which their
 * callers were told are done, would be undone. So each write statement an operation runs is kept
 * in a log (a write's kernel buffer stays until the commit) and the log is replayed, in order, in a
 * new transaction when that happens. If the replay fails too, the log is kept and every operation
 * and every flush first tries it again (failing with SQLITE_NOMEM until it works): nothing a
 * caller was told is written or read is lost or read twice.
 */
#include <linux/init.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/refcount.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include "sqlite3.h"
#include "sqliteos.h"

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "sqliteos."

/*
 * sqliteos.commit_window=: pipe operations a commit may cover (1: each commits, as before the
 * window). 16 took the SQL pipe's 64 KiB bandwidth from 0.25 to 0.34 of a stock pipe's under TCG,
 * 8 to 0.33 (README, Benchmarks).
 */
static unsigned int commit_window = 16;

/*
 * At most WINDOW_OPS_MAX (anything else is refused with -EINVAL): reads keep no buffer, so the
 * log's length is bounded by the operation count (a write logs up to 17 statements: its 64 KiB
 * chunks of at most 1 MiB, WRITE_BUF_MAX, and a merge).
 */
#define WINDOW_OPS_MAX	256

static int commit_window_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, WINDOW_OPS_MAX);
}

static const struct kernel_param_ops commit_window_ops = {
	.set = commit_window_set,
	.get = param_get_uint,
};
module_param_cb(commit_window, &commit_window_ops, &commit_window, 0644);

/* Write buffers a window may keep for its log before it commits. */
#define WINDOW_BYTES	SZ_1M

struct sqlos_wbuf {
	refcount_t ref;
	bool logged;		/* counted in wbytes */
	size_t size;
	char *data;		/* apart, so that 64 KiB stays a 64 KiB allocation */
};

/* One write statement an operation ran: replayed with the same arguments if SQLite undoes it. */
struct wlog_entry {
	struct list_head node;
	enum sqlos_st st;
	s64 args[2];
	struct sqlos_wbuf *buf;	/* ST_APPEND, ST_MERGE_CHUNK: holds data */
	const void *data;
	size_t len;
};

/* All protected by sqlos_db_lock; pipe operations run one at a time (the write mutex). */
static LIST_HEAD(wlog);
static unsigned int nlog, wops, op_mark;
static size_t wbytes;
static bool op_joined;	/* the running operation found the window open */
static bool held;	/* the window is open between two operations */
static bool lost;	/* SQLite undid the window and no replay has worked yet */

struct sqlos_wbuf *sqlos_wbuf_alloc(size_t size)
{
	struct sqlos_wbuf *b = kmalloc(sizeof(*b), GFP_KERNEL_ACCOUNT);

	if (!b)
		return NULL;
	b->data = kvmalloc(size, GFP_KERNEL_ACCOUNT);
	if (!b->data) {
		kfree(b);
		return NULL;
	}
	refcount_set(&b->ref, 1);
	b->logged = false;
	b->size = size;
	return b;
}

char *sqlos_wbuf_data(struct sqlos_wbuf *b)
{
	return b->data;
}

/*
 * b, if it can take size bytes and no log entry still points into it; else NULL, and b put. A
 * buffer the log holds keeps the bytes a replay writes again, so it is never filled anew.
 */
struct sqlos_wbuf *sqlos_wbuf_reuse(struct sqlos_wbuf *b, size_t size)
{
	if (b && refcount_read(&b->ref) == 1 && b->size >= size)
		return b;
	sqlos_wbuf_put(b);
	return NULL;
}

void sqlos_wbuf_put(struct sqlos_wbuf *b)
{
	if (b && refcount_dec_and_test(&b->ref)) {
		kvfree(b->data);
		kfree(b);
	}
}

static void drop_log_from(unsigned int keep)
{
	struct wlog_entry *e;

	while (nlog > keep) {
		e = list_last_entry(&wlog, struct wlog_entry, node);
		list_del(&e->node);
		if (e->buf)
			e->buf->logged = false;	/* counted again if the write logs it again */
		sqlos_wbuf_put(e->buf);
		kfree(e);
		nlog--;
	}
	if (!nlog) {	/* every operation done logs a statement: none is in the window */
		wbytes = 0;
		wops = 0;
	}
}

static int step_entry(enum sqlos_st id, const s64 *args, const void *data, size_t len)
{
	sqlite3_stmt *st = sqlos_st(id, 2, args);
	int rc;

	if (data)
		sqlite3_bind_blob(st, 3, data, len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlos_done(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * The log again in a new transaction, left open; on failure nothing of it, and lost is set. Every
 * caller gets here with no transaction open (SQLite rolled it back, or the caller did).
 */
static int replay(void)
{
	struct wlog_entry *e;
	int rc;

	held = false;
	rc = sqlos_run(ST_BEGIN, 0, NULL);
	list_for_each_entry(e, &wlog, node) {
		if (rc != SQLITE_OK)
			break;
		rc = step_entry(e->st, e->args, e->data, e->len);
	}
	lost = rc != SQLITE_OK;
	if (lost) {
		if (!sqlite3_get_autocommit(sqlos_db))
			sqlos_run(ST_ROLLBACK, 0, NULL);
		sqlos_counters[C_REPLAYS_FAILED]++;
		return rc;
	}
	sqlos_counters[C_REPLAYS]++;
	return SQLITE_OK;
}

/*
 * COMMITs the window; if SQLite rolled it back instead, replays the log and tries once more. On
 * failure the transaction is either still open (the commit waited for a lock and was cut short) or
 * lost is set and the log kept.
 */
static int commit(void)
{
	int rc = SQLITE_OK, tries;

	held = false;
	for (tries = 0; tries < 2; tries++) {
		if (lost) {
			rc = replay();
			if (rc != SQLITE_OK)
				return rc;
		}
		if (sqlite3_get_autocommit(sqlos_db))
			break;
		rc = sqlos_run(ST_COMMIT, 0, NULL);
		if (rc == SQLITE_OK) {
			sqlos_counters[C_COMMITS]++;
			break;
		}
		if (!sqlite3_get_autocommit(sqlos_db))
			return rc;
		lost = true;
	}
	if (lost)
		return rc;
	drop_log_from(0);
	return SQLITE_OK;
}

/*
 * Commits the window, if one is open between operations (never a pipe operation's transaction in
 * progress): SQLITE_OK, or why not (the log is kept and tried again).
 */
int sqlos_flush(void)
{
	int rc;

	lockdep_assert_held(&sqlos_db_lock);
	if (!held && !lost)
		return SQLITE_OK;
	rc = commit();
	/* Still open: only another connection's lock could refuse it; none is taken under it. */
	if (WARN_ON_ONCE(rc != SQLITE_OK && !lost))
		held = true;
	return rc;
}

/* Whether the window is open between operations (the VFS checks no other connection locks then). */
bool sqlos_window_held(void)
{
	return held;
}

/* Before a pipe operation's statements: the window's transaction, begun if none is open. */
int sqlos_window_begin(void)
{
	int rc;

	lockdep_assert_held(&sqlos_db_lock);
	held = false;
	op_mark = nlog;
	op_joined = false;
	if (lost) {
		rc = replay();
		if (rc != SQLITE_OK)
			return rc;
	}
	op_joined = !sqlite3_get_autocommit(sqlos_db);
	return op_joined ? SQLITE_OK : sqlos_run(ST_BEGIN, 0, NULL);
}

/*
 * Runs one of the operation's write statements (two s64 arguments, and for ST_APPEND and
 * ST_MERGE_CHUNK data, from buf, as its third) and logs it.
 */
int sqlos_window_run(enum sqlos_st id, const s64 *args, struct sqlos_wbuf *buf, const void *data,
		     size_t len)
{
	struct wlog_entry *e = kmalloc(sizeof(*e), GFP_KERNEL_ACCOUNT);
	int rc;

	if (!e)
		return SQLITE_NOMEM;
	rc = step_entry(id, args, data, len);
	if (rc != SQLITE_OK) {
		kfree(e);
		return rc;
	}
	e->st = id;
	e->args[0] = args[0];
	e->args[1] = args[1];
	e->buf = buf;
	e->data = data;
	e->len = len;
	if (buf) {
		refcount_inc(&buf->ref);
		if (!buf->logged)
			wbytes += buf->size;
		buf->logged = true;
	}
	list_add_tail(&e->node, &wlog);
	nlog++;
	return SQLITE_OK;
}

/*
 * After a pipe operation: rc is SQLITE_OK if it is done, and the window is committed if it is full
 * or a 553 transaction is open. Otherwise the operation is undone: its statements leave the log,
 * and if it had changed the tables, or SQLite undid the whole window, the rest is replayed.
 */
int sqlos_window_end(int rc)
{
	bool changed = nlog > op_mark;

	lockdep_assert_held(&sqlos_db_lock);
	if (rc == SQLITE_OK) {
		if (wops + 1 < max(READ_ONCE(commit_window), 1U) && wbytes < WINDOW_BYTES &&
		    !sqlos_txn_open()) {
			wops++;
			held = true;
			return SQLITE_OK;
		}
		rc = commit();
		if (rc == SQLITE_OK || lost)
			return SQLITE_OK;	/* committed, or in the log to be replayed */
		changed = true;	/* the commit's wait was cut short (a signal): undo the operation */
	}
	drop_log_from(op_mark);
	if (!sqlite3_get_autocommit(sqlos_db)) {
		if (op_joined && !changed) {
			held = true;	/* a read that took nothing: the window is as it was */
			return rc;
		}
		sqlos_run(ST_ROLLBACK, 0, NULL);
	}
	if (nlog && !lost)
		replay();
	held = nlog && !lost;
	return rc;
}

/* The open window: a reader of memory says how many operations it holds uncommitted. */
void __init sqlos_window_layout(void)
{
	LAYOUT_SYMBOL("window.held", &held);
	LAYOUT_NUMBER("window.held.size", sizeof(held));
	LAYOUT_SYMBOL("window.ops", &wops);
	LAYOUT_NUMBER("window.ops.size", sizeof(wops));
}

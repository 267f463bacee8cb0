// SPDX-License-Identifier: GPL-2.0-only
/*
 * 553-557: transactions and savepoints, with the published ABI.
 *
 * 553(4) opens a read transaction: the task's own connection holds SHARED until 554, so the 549
 * queries it makes see one snapshot. 553(8) takes the global write mutex and returns to user space
 * holding it, as published: no other writer runs until 554. Either stalls every pipe in the system
 * for as long as user space likes (and keeps the fork/exit bookkeeping waiting in a list), so only
 * CAP_SYS_ADMIN may open one. A task that exits or is killed inside a transaction rolls it back and
 * releases what it holds. Pipe calls inside a transaction commit on their own, as on the published
 * kernel, whose pipes run on connections of their own. When sqliteos.max_deferred_jobs jobs wait
 * (sql.c), every open transaction is rolled back and its task's next call on it gets -ETIMEDOUT
 * (554 ends it), so holding one costs the rest of the system a bounded amount of memory.
 */
#include <linux/capability.h>
#include <linux/init.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/syscalls.h>
#include <linux/uaccess.h>
#include "sqlite3.h"
#include "sqliteos.h"

#define TXN_READ	4
#define TXN_WRITE	8
#define SAVEPOINT_NAME_MAX	64

struct sqlos_txn {
	struct list_head node;
	struct task_struct *task;
	struct sqlite3 *db;
	int flag;
	bool ready;		/* begun: db is open and, for a read, holds SHARED */
	bool aborted;		/* rolled back by sqlos_txn_abort_all(): db closed, mutex let go */
};

static LIST_HEAD(txns);		/* protected by sqlos_db_lock */

/* Is a transaction open? Then pipe operations commit one by one (window.c). */
bool sqlos_txn_open(void)
{
	return !list_empty(&txns);
}

static struct sqlos_txn *txn_of(struct task_struct *t)
{
	struct sqlos_txn *x;

	list_for_each_entry(x, &txns, node)
		if (x->task == t)
			return x;
	return NULL;
}

/*
 * The connection a 549 query of t should use: its read transaction's, NULL for a new one, or
 * ERR_PTR(-ETIMEDOUT) if its read transaction was rolled back under it.
 */
struct sqlite3 *sqlos_txn_reader(struct task_struct *t)
{
	struct sqlos_txn *x = txn_of(t);

	if (!x || x->flag != TXN_READ)
		return NULL;
	return x->aborted ? ERR_PTR(-ETIMEDOUT) : x->db;
}

static void txn_close(struct sqlos_txn *x, bool commit)
{
	if (!x->db)
		return;	/* never opened: the flush or the open failed */
	if (sqlite3_exec(x->db, commit ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
		sqlite3_exec(x->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(x->db);
	x->db = NULL;
}

/* Ends x: 0, or -ETIMEDOUT if it had been rolled back already (nothing of it is left to end). */
static long txn_end(struct sqlos_txn *x, bool commit)
{
	long ret = x->aborted ? -ETIMEDOUT : 0;

	if (!x->aborted)
		txn_close(x, commit);
	list_del(&x->node);
	sqlos_run_deferred();
	if (!x->aborted && x->flag == TXN_WRITE)
		sqlos_write_unlock();
	kfree(x);
	return ret;
}

/*
 * Too many jobs wait (sql.c's defer()): every open transaction is rolled back, and the write
 * mutex a 553(8) holder keeps in user space let go, so that they can run. A holder inside a pipe
 * call right now keeps its transaction: that call ends without waiting (pipe.c), and the next job
 * kept tries again.
 */
void sqlos_txn_abort_all(void)
{
	struct sqlos_txn *x;

	lockdep_assert_held(&sqlos_db_lock);
	list_for_each_entry(x, &txns, node) {
		/*
		 * one still beginning may be asleep inside SQLite on its db: closing that db would
		 * free it under the sleeper; the next abort after it has begun ends it
		 */
		if (!x->ready || x->aborted ||
		    (x->flag == TXN_WRITE && !sqlos_write_release(x->task)))
			continue;
		txn_close(x, false);
		x->aborted = true;
		sqlos_counters[C_TXNS_ABORTED]++;
		pr_warn_ratelimited("sqliteos: pid %d's transaction rolled back: it held up sqliteos.max_deferred_jobs jobs\n",
				    task_pid_nr(x->task));
	}
}

static long txn_begin(int flag)
{
	struct sqlos_txn *x;
	int rc;
	long ret;

	if (txn_of(current))
		return -EINVAL;
	x = kzalloc(sizeof(*x), GFP_KERNEL);
	if (!x)
		return -ENOMEM;
	if (flag == TXN_WRITE) {
		ret = sqlos_write_lock();
		if (ret) {
			kfree(x);
			return ret;
		}
	}
	x->task = current;
	x->flag = flag;
	/*
	 * Joined first: from here pipe operations commit one by one, so no commit window opens
	 * while this one waits for SHARED below (with sqlos_db_lock dropped).
	 */
	list_add(&x->node, &txns);
	/* its snapshot starts after every pipe operation done so far (the commit window's too) */
	rc = sqlos_flush();
	if (rc == SQLITE_OK)
		rc = sqlite3_open_v2("/sqliteos", &x->db, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(x->db, "BEGIN", NULL, NULL, NULL);
	/* A read transaction takes its SHARED lock now, so its snapshot starts here. */
	if (rc == SQLITE_OK && flag == TXN_READ)
		rc = sqlite3_exec(x->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		ret = sqlos_errno(rc, true);
		txn_end(x, false);
		return ret;
	}
	x->ready = true;
	return 0;
}

/* 553: 4 = a read transaction, 8 = the global write mutex as well. */
SYSCALL_DEFINE1(sql_start_transaction, int, lock_flag)
{
	u64 start = sqlos_record_start();
	long ret;

	sqlos_count_syscall(__NR_sql_start_transaction);
	if (lock_flag != TXN_READ && lock_flag != TXN_WRITE) {
		ret = -EINVAL;
	} else if (!capable(CAP_SYS_ADMIN)) {
		ret = -EPERM;
	} else if (!sqlos_ready()) {
		ret = -ENODEV;
	} else {
		mutex_lock(&sqlos_db_lock);
		ret = txn_begin(lock_flag);
		mutex_unlock(&sqlos_db_lock);
	}
	sqlos_record(start, REC_BEGIN, lock_flag, 0, ret, NULL, 0);
	return ret;
}

/* 554: 1 commits, anything else rolls back; the write mutex goes with it. */
SYSCALL_DEFINE1(sql_rollback_transaction, int, should_commit)
{
	u64 start = sqlos_record_start();
	struct sqlos_txn *x;
	long ret = -EINVAL;

	sqlos_count_syscall(__NR_sql_rollback_transaction);
	mutex_lock(&sqlos_db_lock);
	x = txn_of(current);
	if (x)
		ret = txn_end(x, should_commit == 1);
	mutex_unlock(&sqlos_db_lock);
	sqlos_record(start, REC_COMMIT, should_commit, 0, ret, NULL, 0);
	return ret;
}

void sqlos_txn_show(struct seq_file *sf)
{
	struct sqlos_txn *x;

	list_for_each_entry(x, &txns, node)
		seq_printf(sf, "txn\t%d\t%s\n", task_pid_nr(x->task),
			   x->flag == TXN_READ ? "read" : "write");
}

void __init sqlos_txn_layout(void)
{
	LAYOUT_SYMBOL("txns", &txns);
	LAYOUT_FIELD(sqlos_txn, node);
	LAYOUT_FIELD(sqlos_txn, task);
	LAYOUT_FIELD(sqlos_txn, flag);
	LAYOUT_NUMBER("TXN_READ", TXN_READ);
}

/* Called from do_exit: a task that dies inside a transaction leaves nothing held. */
void sqlos_txn_exit(struct task_struct *t)
{
	struct sqlos_txn *x;

	mutex_lock(&sqlos_db_lock);
	x = txn_of(t);
	if (x)
		txn_end(x, false);
	mutex_unlock(&sqlos_db_lock);
}

/*
 * 555-557: "SAVEPOINT name" and friends on the caller's transaction; the name is quoted, never SQL.
 */
static long savepoint(const char *verb, enum sqlos_rec op, const char __user *uname, size_t len)
{
	u64 start = sqlos_record_start();
	struct sqlos_txn *x;
	char *name, *sql;
	long ret;
	int rc;

	if (!len || len > SAVEPOINT_NAME_MAX)
		return -EINVAL;
	name = memdup_user_nul(uname, len);
	if (IS_ERR(name))
		return PTR_ERR(name);
	if (strlen(name) != len) {
		kfree(name);
		return -EINVAL;
	}
	mutex_lock(&sqlos_db_lock);
	x = txn_of(current);
	ret = x ? -ETIMEDOUT : -EINVAL;
	if (x && !x->aborted) {
		sql = sqlite3_mprintf("%s \"%w\"", verb, name);
		rc = sql ? sqlite3_exec(x->db, sql, NULL, NULL, NULL) : SQLITE_NOMEM;
		sqlite3_free(sql);
		ret = rc == SQLITE_ERROR ? -EINVAL : sqlos_errno(rc, true);
	}
	mutex_unlock(&sqlos_db_lock);
	sqlos_record(start, op, 0, 0, ret, name, len);
	kfree(name);
	return ret;
}

SYSCALL_DEFINE2(sql_start_savepoint, const char __user *, name, size_t, len)
{
	sqlos_count_syscall(__NR_sql_start_savepoint);
	return savepoint("SAVEPOINT", REC_SAVEPOINT, name, len);
}

SYSCALL_DEFINE2(sql_release_savepoint, const char __user *, name, size_t, len)
{
	sqlos_count_syscall(__NR_sql_release_savepoint);
	return savepoint("RELEASE", REC_RELEASE, name, len);
}

SYSCALL_DEFINE2(sql_rollback_savepoint, const char __user *, name, size_t, len)
{
	sqlos_count_syscall(__NR_sql_rollback_savepoint);
	return savepoint("ROLLBACK TO", REC_ROLLBACK_TO, name, len);
}

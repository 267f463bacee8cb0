// SPDX-License-Identifier: GPL-2.0-only
/*
 * pid_store follows the tasks: a new process gets (pid, pid), a task sharing its parent's
 * files (CLONE_FILES) gets (pid, the parent's handler), and an exiting task's row goes.
 * Kernel threads are left out, and so is everything before the database exists at boot.
 */
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sqliteos.h>
#include "sqlite3.h"
#include "sqliteos.h"

static const char fork_sql[] =
	"INSERT OR REPLACE INTO pid_store(pid, parent_id) VALUES (?1, CASE WHEN ?2"
	" THEN coalesce((SELECT parent_id FROM pid_store WHERE pid = ?3), ?3) ELSE ?1 END)";
static const char exit_sql[] = "DELETE FROM pid_store WHERE pid = ?1";

/* Runs one statement with integer parameters; the caller holds sqliteos_db_lock. */
static void run(const char *sql, const sqlite3_int64 *args, int n)
{
	sqlite3_stmt *st;
	int i;

	if (sqlite3_prepare_v2(sqliteos_db, sql, -1, &st, NULL) != SQLITE_OK) {
		pr_warn_ratelimited("sqliteos: %s\n", sqlite3_errmsg(sqliteos_db));
		return;
	}
	for (i = 0; i < n; i++)
		sqlite3_bind_int64(st, i + 1, args[i]);
	if (sqlite3_step(st) != SQLITE_DONE)
		pr_warn_ratelimited("sqliteos: %s\n", sqlite3_errmsg(sqliteos_db));
	sqlite3_finalize(st);
}

static bool tracked(struct task_struct *p)
{
	return READ_ONCE(sqliteos_db) && !(p->flags & PF_KTHREAD);
}

void sqliteos_fork(struct task_struct *p, unsigned long clone_flags)
{
	sqlite3_int64 args[3] = {
		task_pid_nr(p), !!(clone_flags & CLONE_FILES), task_pid_nr(current)
	};

	if (!tracked(p))
		return;
	mutex_lock(&sqliteos_db_lock);
	run(fork_sql, args, 3);
	mutex_unlock(&sqliteos_db_lock);
}

void sqliteos_exit(struct task_struct *tsk)
{
	sqlite3_int64 pid = task_pid_nr(tsk);

	if (!tracked(tsk))
		return;
	mutex_lock(&sqliteos_db_lock);
	run(exit_sql, &pid, 1);
	mutex_unlock(&sqliteos_db_lock);
}

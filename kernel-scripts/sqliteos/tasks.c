// SPDX-License-Identifier: GPL-2.0-only
/*
 * The tables follow the tasks. A new process gets (pid, pid) in pid_store and a copy of its
 * parent's pid_pipe rows (its fd table is a copy); a task sharing its parent's files (CLONE_FILES)
 * gets (pid, the parent's handler). An exiting task first gives back a transaction it holds, then
 * its row goes, and with the last task of an fd table, that table's pid_pipe rows. Kernel threads
 * are left out, and so is everything before the database exists at boot. The hooks cannot fail a
 * fork or an exit, and must not wait for user space: they run as jobs (sqlos_job), which wait for
 * nothing but sqlos_db_lock and, when the tables cannot be written at once (a read transaction
 * or a 553(8) holder in the way, or no memory), are kept in order and written as soon as they can
 * be.
 */
#include <linux/fdtable.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sqliteos.h>
#include "sqlite3.h"
#include "sqliteos.h"

static bool tracked(struct task_struct *p)
{
	return sqlos_ready() && !(p->flags & PF_KTHREAD);
}

static void task_job(const struct sqlos_job *job)
{
	struct sqlos_job *j = sqlos_job_new(job);

	mutex_lock(&sqlos_db_lock);
	sqlos_job(j);
	mutex_unlock(&sqlos_db_lock);
}

void sqliteos_fork(struct task_struct *p, unsigned long clone_flags)
{
	struct sqlos_job job = {
		.n = 2, .nargs = 3, .st = { ST_FORK_PROC, ST_FORK_FDS },
		.args = { task_pid_nr(p), task_pid_nr(current), !!(clone_flags & CLONE_FILES) },
	};

	if (!tracked(p))
		return;
	sqlos_record_fork(p, clone_flags & CLONE_FILES);
	task_job(&job);
}

void sqliteos_exit(struct task_struct *tsk)
{
	struct sqlos_job job = {
		.n = 2, .nargs = 1, .st = { ST_EXIT_FDS, ST_EXIT_PROC },
		.args = { task_pid_nr(tsk) },
	};

	if (!tracked(tsk))
		return;
	sqlos_record_exit(tsk);
	sqlos_txn_exit(tsk);
	task_job(&job);
}

/*
 * The task's fd table is its own now (unshare(CLONE_FILES), or exec in a thread): so are its
 * rows.
 */
void sqliteos_unshare_files(struct task_struct *t)
{
	struct sqlos_job job = {
		.n = 3, .nargs = 1, .st = { ST_UNSHARE_COPY, ST_UNSHARE_REHOME, ST_UNSHARE_SELF },
		.args = { task_pid_nr(t) },
	};

	if (!tracked(t))
		return;
	task_job(&job);
}

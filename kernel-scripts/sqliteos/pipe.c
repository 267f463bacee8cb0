// SPDX-License-Identifier: GPL-2.0-only
/*
 * SQL pipes: 552 sql_pipe, 550 sql_pipe_read, 551 sql_pipe_write (the published numbers and
 * arguments), with the companion semantics, and 558 sql_pipe2 (552 with O_CLOEXEC / O_NONBLOCK).
 * Each end is a real file (pipefs.c: a FIFO inode of its own), so close(), dup(), fork, exec,
 * exit, poll, readv / writev and fcntl work on it, and 550 / 551 are read(2) / write(2) on it,
 * with the same checks (rw_verify_area, the LSM hook, fsnotify). The bytes live in pipe_chunk, in
 * chunks of at most 64 KiB (pipe_rw.c), so a write costs its own size and a read what it takes;
 * pipe_data keeps one row per pipe with queue ids (never kernel addresses) in read_wq / write_wq;
 * pid_pipe has a row per (fd-table owner, fd). read returns 0 at EOF; write with no reader left
 * fails with -EPIPE and SIGPIPE; a full pipe (its capacity in bytes) blocks writers on write_wq,
 * or fails with -EAGAIN under O_NONBLOCK; a write of at most PIPE_BUF bytes goes in whole, never
 * split around another writer's; write returns the byte count; sleeps end with -ERESTARTSYS on a
 * signal. Readers and writers wait exclusively and are woken one at a time; one that leaves bytes
 * (or room) behind, or fails after its wake-up, wakes the next (the paper's algorithm 5, and
 * fs/pipe.c's rule). Everything runs under the global write mutex, as the paper's pipes do
 * (sqlos_lock_pipes() here), and user memory is never waited for under it (read and write:
 * pipe_rw.c). This file makes a pipe and its rows, bounds what a user can make (capacity, pages,
 * ends), sizes it (fcntl) and forgets it on close.
 */
#include <linux/fdtable.h>
#include <linux/idr.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/kref.h>
#include <linux/moduleparam.h>
#include <linux/pipe_fs_i.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sqliteos.h>
#include <linux/syscalls.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include "sqlite3.h"
#include "compat.h"
#include "sqliteos.h"
#include "pipe.h"

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "sqliteos."

/* No capacity above this, whoever asks: buffered and the write buffer stay well inside size_t. */
#define CAPACITY_LIMIT	SZ_1G

/*
 * sqliteos.pipe_capacity=: bytes a new pipe holds before writers wait (Linux's default pipe size),
 * read once when a pipe is made. sqliteos.pipe_max_size=: the most an unprivileged F_SETPIPE_SZ may
 * ask (Linux's pipe-max-size). Both 1 .. 1 GiB; anything else is refused with -EINVAL.
 */
static unsigned int pipe_capacity = 65536;
/* Not "pipe_max_size": 5.15's pipe_fs_i.h declares fs/pipe.c's own by that name. */
static unsigned int max_pipe_size = 1048576;

/*
 * sqliteos.max_pipe_ends=: SQL pipe ends one fd table may hold (pid_pipe rows), so that a fork,
 * which copies them under the locks, costs a bounded amount; 552 / 558 past it: -EMFILE. The
 * default is the kernel's default hard RLIMIT_NOFILE.
 */
static unsigned int max_pipe_ends = INR_OPEN_MAX;
module_param(max_pipe_ends, uint, 0644);

static int capacity_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, CAPACITY_LIMIT);
}

static const struct kernel_param_ops capacity_ops = {
	.set = capacity_set,
	.get = param_get_uint,
};
module_param_cb(pipe_capacity, &capacity_ops, &pipe_capacity, 0644);
module_param_cb(pipe_max_size, &capacity_ops, &max_pipe_size, 0644);

/*
 * sqliteos.user_pipes_max=: SQL pipes one user may hold (each holds a dataId, 2^22 - 1 in the
 * system, from 552 until its rows are gone), so that no user can take every id from the others;
 * past it 552 / 558 fail with -ENFILE, as past pipe-user-pages-hard, unless the user has
 * CAP_SYS_RESOURCE or CAP_SYS_ADMIN. The default is an eighth of the ids.
 */
static unsigned int user_pipes_max = MAX_PIPE_ID / 8;
module_param(user_pipes_max, uint, 0644);
/* uid -> the user's pipes (xa_mk_value); protected by sqlos_db_lock */
static DEFINE_XARRAY(user_pipes);

static unsigned long pipe_uid(const struct sqlos_pipe *p)
{
	return __kuid_val(p->user->uid);
}

/* Counts a pipe id to a user's share: 0, or -ENFILE past user_pipes_max, or -ENOMEM. */
static int user_pipes_add(unsigned long uid, long delta)
{
	void *v = xa_load(&user_pipes, uid);
	long n = (v ? xa_to_value(v) : 0) + delta;

	if (delta > 0 && n > READ_ONCE(user_pipes_max) && pipe_is_unprivileged_user())
		return -ENFILE;
	if (n <= 0) {
		xa_erase(&user_pipes, uid);
		return 0;
	}
	return xa_err(xa_store(&user_pipes, uid, xa_mk_value(n), GFP_KERNEL));
}

static s64 next_queue_id = 1;	/* protected by sqlos_db_lock */
static LIST_HEAD(pipes);	/* protected by sqlos_db_lock */
static DEFINE_IDA(pipe_ids);	/* dataIds in use: from 552 until the pipe's rows are gone */

/*
 * A pipe's rows are gone (its drop job ran): its id is free, and no longer counts in its maker's
 * share (args: the id, the maker's uid), so a user whose drop jobs wait cannot hold more ids.
 */
static void pipe_id_free(const s64 *args)
{
	ida_free(&pipe_ids, args[0]);
	user_pipes_add(args[1], -1);
}

/*
 * A pipe's capacity counts in its maker's pipe pages (user_struct.pipe_bufs), the budget stock
 * pipes count in too, under the same limits (fs.pipe-user-pages-soft / -hard): past the soft limit
 * a new pipe gets two pages, past the hard limit none (-ENFILE), and F_SETPIPE_SZ cannot grow a
 * pipe past either (-EPERM), unless the user has CAP_SYS_RESOURCE or CAP_SYS_ADMIN.
 */
static unsigned long pages_of(unsigned int capacity)
{
	return DIV_ROUND_UP(capacity, PAGE_SIZE);
}

static void pipe_free(struct kref *ref)
{
	struct sqlos_pipe *p = container_of(ref, struct sqlos_pipe, ref);

	if (p->user) {
		account_pipe_buffers(p->user, pages_of(p->capacity), 0);
		free_uid(p->user);
	}
	kfree(p);
}

/* Counts a new pipe's capacity against its maker's budget, smaller past the soft limit. */
static int pipe_account(struct sqlos_pipe *p)
{
	unsigned int small = min_t(unsigned int, p->capacity, 2 * PAGE_SIZE);
	unsigned long bufs;

	p->user = get_current_user();
	bufs = account_pipe_buffers(p->user, 0, pages_of(p->capacity));
	if (too_many_pipe_buffers_soft(bufs) && pipe_is_unprivileged_user()) {
		bufs = account_pipe_buffers(p->user, pages_of(p->capacity), pages_of(small));
		p->capacity = small;
	}
	if (too_many_pipe_buffers_hard(bufs) && pipe_is_unprivileged_user())
		return -ENFILE;
	return 0;
}

void sqlos_pipe_put(struct sqlos_pipe *p)
{
	kref_put(&p->ref, pipe_free);
}

/*
 * Takes the locks every pipe operation runs under. Inside its own read transaction a task cannot
 * write (it would wait for its own SHARED lock): -EDEADLK at once instead.
 */
int sqlos_lock_pipes(void)
{
	int ret = -EDEADLK;

	mutex_lock(&sqlos_db_lock);
	if (IS_ERR_OR_NULL(sqlos_txn_reader(current)))
		ret = sqlos_write_lock();
	if (ret)
		mutex_unlock(&sqlos_db_lock);
	return ret;
}

void sqlos_unlock_pipes(void)
{
	sqlos_write_unlock();
	mutex_unlock(&sqlos_db_lock);
}

/*
 * Sleeps on q, with neither lock held while asleep; both are held again on success, neither on
 * failure. A task holding the write mutex from user space (553(8)) would hold every pipe while it
 * slept: -EDEADLK instead. Woken, but the write mutex not to be had (a signal): the wake-up goes
 * to the next sleeper, so none is lost.
 */
int sqlos_pipe_sleep(wait_queue_head_t *q)
{
	int ret;

	if (sqlos_write_nested()) {
		sqlos_unlock_pipes();
		return -EDEADLK;
	}
	sqlos_write_unlock();
	ret = sqlos_sleep(q, true, true);
	if (!ret) {
		ret = sqlos_write_lock();
		if (ret)
			wake_up(q);
	}
	if (ret)
		mutex_unlock(&sqlos_db_lock);
	return ret;
}

/* ---- 552 / 558 ---- */

/* The SQL pipe ends in t's fd table (its handler's pid_pipe rows); the locks are held. */
static s64 ends_of(struct task_struct *t)
{
	s64 pid = task_pid_nr(t), n = 0;
	sqlite3_stmt *st = sqlos_st(ST_COUNT_FDS, 1, &pid);

	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlos_done(st);
	return n;
}

static int pipe_rows(struct sqlos_pipe *p, const int *fds)
{
	int id = ida_alloc_range(&pipe_ids, 1, MAX_PIPE_ID - 1, GFP_KERNEL);
	s64 args[3] = { p->queue_id, p->queue_id + 1, id };
	int rc, ret;

	if (id < 0)
		return id == -ENOSPC ? -ENFILE : id;	/* 2^22 - 1 pipes in the system */
	ret = user_pipes_add(pipe_uid(p), 1);
	if (ret)
		goto err_id;
	rc = sqlos_flush();
	if (rc == SQLITE_OK)
		rc = sqlos_run(ST_BEGIN, 0, NULL);
	if (rc == SQLITE_OK && ends_of(current) + 2 > READ_ONCE(max_pipe_ends)) {
		sqlos_run(ST_ROLLBACK, 0, NULL);
		ret = -EMFILE;
		goto err_user;
	}
	if (rc == SQLITE_OK)
		rc = sqlos_run(ST_NEW_PIPE, 3, args);
	if (rc == SQLITE_OK) {
		p->id = id;
		p->head = p->id << SEQ_SHIFT;
		p->tail = p->head;
		args[0] = task_pid_nr(current);
		args[1] = fds[0];
		args[2] = p->id;
		rc = sqlos_run(ST_ADD_FD, 3, args);
	}
	if (rc == SQLITE_OK) {
		args[1] = fds[1];
		rc = sqlos_run(ST_ADD_FD, 3, args);
	}
	rc = sqlos_end_txn(rc);
	if (rc != SQLITE_OK) {
		p->id = 0;
		ret = sqlos_errno(rc, true);
		goto err_user;
	}
	list_add_tail(&p->node, &pipes);
	return 0;

err_user:
	user_pipes_add(pipe_uid(p), -1);
err_id:
	ida_free(&pipe_ids, id);
	return ret;
}

static long make_pipe(int __user *ufds, int flags)
{
	struct file *files[2] = { NULL, NULL };
	u64 start = sqlos_record_start();
	int fds[2] = { -1, -1 };
	struct sqlos_pipe *p;
	long ret;
	int i;

	if (flags & ~(O_CLOEXEC | O_NONBLOCK))
		return -EINVAL;
	if (!sqlos_ready())
		return -ENODEV;
	p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p)
		return -ENOMEM;
	kref_init(&p->ref);
	init_waitqueue_head(&p->read_wq);
	init_waitqueue_head(&p->write_wq);
	p->reader = true;
	p->writer = true;
	p->capacity = clamp_t(unsigned int, READ_ONCE(pipe_capacity), 1, CAPACITY_LIMIT);
	ret = pipe_account(p);
	if (ret)
		goto err;
	ret = sqlos_pipe_files(p, files, flags);
	if (ret)
		goto err;
	for (i = 0; i < 2; i++) {
		fds[i] = get_unused_fd_flags(flags & O_CLOEXEC);
		if (fds[i] < 0) {
			ret = fds[i];
			goto err;
		}
	}
	ret = sqlos_lock_pipes();
	if (ret)
		goto err;
	p->queue_id = next_queue_id;
	next_queue_id += 2;
	ret = pipe_rows(p, fds);
	sqlos_unlock_pipes();
	if (ret)
		goto err;
	if (copy_to_user(ufds, fds, sizeof(fds))) {
		ret = -EFAULT;
		goto err;
	}
	/* recorded before a thread sharing the fds can use them: before its reads and writes */
	sqlos_record(start, REC_PIPE, p->id, flags, 0, NULL, 0);
	fd_install(fds[0], files[0]);
	fd_install(fds[1], files[1]);
	sqlos_pipe_put(p);
	return 0;

err:
	for (i = 0; i < 2; i++) {
		if (files[i])
			fput(files[i]);	/* release() deletes the rows */
		if (fds[i] >= 0)
			put_unused_fd(fds[i]);
	}
	sqlos_pipe_put(p);
	sqlos_record(start, REC_PIPE, 0, flags, ret, NULL, 0);
	return ret;
}

SYSCALL_DEFINE1(sql_pipe, int __user *, ufds)
{
	sqlos_count_syscall(__NR_sql_pipe);
	return make_pipe(ufds, 0);
}

SYSCALL_DEFINE2(sql_pipe2, int __user *, ufds, int, flags)
{
	sqlos_count_syscall(__NR_sql_pipe2);
	return make_pipe(ufds, flags);
}

/* ---- 550 / 551: read(2) / write(2) on an SQL pipe's end, and nothing else ---- */

static bool is_end(struct file *f, fmode_t mode)
{
	return f && sqliteos_is_pipe(f) && (f->f_mode & mode);
}

SYSCALL_DEFINE3(sql_pipe_read, int, fd, char __user *, buf, size_t, n)
{
	struct fd f = fdget(fd);
	ssize_t ret = -EBADF;

	sqlos_count_syscall(__NR_sql_pipe_read);
	if (is_end(fd_file(f), FMODE_READ))
		ret = vfs_read(fd_file(f), buf, n, NULL);
	fdput(f);
	return ret;
}

SYSCALL_DEFINE3(sql_pipe_write, int, fd, const char __user *, buf, size_t, n)
{
	struct fd f = fdget(fd);
	ssize_t ret = -EBADF;

	sqlos_count_syscall(__NR_sql_pipe_write);
	if (is_end(fd_file(f), FMODE_WRITE))
		ret = vfs_write(fd_file(f), buf, n, NULL);
	fdput(f);
	return ret;
}

/* ---- fcntl(F_GETPIPE_SZ / F_SETPIPE_SZ), from fs/pipe.c's pipe_fcntl ---- */

bool sqliteos_is_pipe(struct file *f)
{
	return f->f_op == &sqlos_pipe_fops;
}

/*
 * As a stock pipe: sizes round up to a power of two pages; above pipe_max_size needs
 * CAP_SYS_RESOURCE.
 */
long sqliteos_pipe_fcntl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct sqlos_pipe *p = f->private_data;
	unsigned int size = 0;
	unsigned long bufs;
	long ret = -EINVAL;

	if (cmd == F_SETPIPE_SZ) {
		size = round_pipe_size(arg);
		if (!size || size > CAPACITY_LIMIT)
			return -EINVAL;
		if (size > READ_ONCE(max_pipe_size) && !capable(CAP_SYS_RESOURCE))
			return -EPERM;
	}
	mutex_lock(&sqlos_db_lock);
	if (cmd == F_GETPIPE_SZ) {
		ret = p->capacity;
	} else if (cmd == F_SETPIPE_SZ && size < p->buffered) {
		ret = -EBUSY;
	} else if (cmd == F_SETPIPE_SZ) {
		bufs = account_pipe_buffers(p->user, pages_of(p->capacity), pages_of(size));
		if (size > p->capacity && (too_many_pipe_buffers_hard(bufs) ||
					   too_many_pipe_buffers_soft(bufs)) &&
		    pipe_is_unprivileged_user()) {
			account_pipe_buffers(p->user, pages_of(size), pages_of(p->capacity));
			ret = -EPERM;
		} else {
			p->capacity = size;
			wake_up(&p->write_wq);
			ret = size;
		}
	}
	mutex_unlock(&sqlos_db_lock);
	return ret;
}

/* ---- close, dup2 over it, exec: forget the fds that no longer name this pipe ---- */

/*
 * After close (or dup2 over it, or exec): the caller's pid_pipe rows of this pipe go, but for the
 * fds of its table that still name the pipe (up to two, the common case: the other end, or a dup;
 * with more, the rows wait for the pipe or the fd table to go).
 */
int sqlos_pipe_flush(struct file *file, fl_owner_t id)
{
	struct sqlos_job job = { .n = 1, .nargs = 4, .st = { ST_DEL_STALE } }, *j;
	struct files_struct *files = current->files;
	struct sqlos_pipe *p = file->private_data;
	unsigned int fd, n = 0;
	struct file *f;

	/* At exit, current->files is already gone: the exit hook has deleted the rows. */
	if (id != files || !p->id)
		return 0;
	sqlos_record(sqlos_record_start(), REC_CLOSE, p->id, !(file->f_mode & FMODE_READ), 0, NULL,
		     0);
	job.args[0] = p->id;
	job.args[1] = task_pid_nr(current);
	job.args[2] = -1;
	job.args[3] = -1;
	/* files_lookup_fd_raw: under RCU (files_lookup_fd_rcu is gone in 6.12) */
	rcu_read_lock();
	for (fd = 0; fd < files_fdtable(files)->max_fds; fd++) {
		f = files_lookup_fd_raw(files, fd);
		if (f && sqliteos_is_pipe(f) && f->private_data == p && n++ < 2)
			job.args[1 + n] = fd;
	}
	rcu_read_unlock();
	if (n > 2)
		return 0;
	j = sqlos_job_new(&job);
	mutex_lock(&sqlos_db_lock);
	sqlos_job(j);
	mutex_unlock(&sqlos_db_lock);
	return 0;
}

/* The last reference to one end: EOF for readers, EPIPE for writers, rows gone with both ends. */
int sqlos_pipe_release(struct inode *inode, struct file *file)
{
	struct sqlos_job job = {
		.n = 4, .nargs = 1, .st = { ST_DROP_CHUNKS, ST_DROP_FDS, ST_DROP_PIPE, ST_VACUUM },
		.done = pipe_id_free,	/* the id is free once no row names it */
	};
	struct sqlos_pipe *p = file->private_data;
	/* taken before the lock: it cannot fail */
	struct sqlos_job *j = sqlos_job_new(&job);

	mutex_lock(&sqlos_db_lock);
	if (file->f_mode & FMODE_READ) {
		p->reader = false;
		wake_up_all(&p->write_wq);
	} else {
		p->writer = false;
		wake_up_all(&p->read_wq);
	}
	if (!p->reader && !p->writer && p->id) {
		list_del(&p->node);
		j->args[0] = p->id;
		j->args[1] = pipe_uid(p);	/* for pipe_id_free: the share goes with the id */
		sqlos_job(j);
		j = NULL;
	}
	mutex_unlock(&sqlos_db_lock);
	kfree(j);
	sqlos_pipe_put(p);
	return 0;
}

/* Every pipe with rows: its state, and its two queues through show(). */
void sqlos_pipes_show(struct seq_file *sf, sqlos_queue_show show)
{
	struct sqlos_pipe *p;
	char name[48];

	list_for_each_entry(p, &pipes, node) {
		if (!show) {
			seq_printf(sf, "pipe\t%lld\tbuffered\t%zu\treader\t%d\twriter\t%d\n",
				   p->id, p->buffered, p->reader, p->writer);
			continue;
		}
		snprintf(name, sizeof(name), "pipe.%lld.read_wq", p->id);
		show(sf, name, &p->read_wq);
		snprintf(name, sizeof(name), "pipe.%lld.write_wq", p->id);
		show(sf, name, &p->write_wq);
	}
}

void __init sqlos_pipes_layout(void)
{
	LAYOUT_SYMBOL("pipes", &pipes);
	LAYOUT_FIELD(sqlos_pipe, node);
	LAYOUT_FIELD(sqlos_pipe, id);
	LAYOUT_FIELD(sqlos_pipe, buffered);
	LAYOUT_FIELD(sqlos_pipe, reader);
	LAYOUT_FIELD(sqlos_pipe, writer);
	LAYOUT_FIELD(sqlos_pipe, read_wq);
	LAYOUT_FIELD(sqlos_pipe, write_wq);
}

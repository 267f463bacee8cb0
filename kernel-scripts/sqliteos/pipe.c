// SPDX-License-Identifier: GPL-2.0-only
/*
 * SQL pipes: 552 sql_pipe, 550 sql_pipe_read, 551 sql_pipe_write (the published numbers and
 * arguments), with the companion semantics. Each end is a real file (an anon inode), so close(),
 * dup(), fork, exec and exit work on it, and read(2) / write(2) do what 550 / 551 do. The bytes
 * live in pipe_chunk, one row per write, so a write costs its own size and a read the chunks it
 * takes; pipe_data keeps one row per pipe with queue ids (never kernel addresses) in read_wq /
 * write_wq; pid_pipe has a row per (fd-table owner, fd). read returns 0 at EOF; write with no
 * reader left fails with -EPIPE and SIGPIPE; a full pipe (pipe_capacity bytes) blocks writers on
 * write_wq; write returns the byte count; sleeps end with -ERESTARTSYS on a signal. Readers and
 * writers wait exclusively and are woken one at a time; a reader that leaves bytes behind wakes the
 * next (the paper's algorithm 5). Everything runs under the global write mutex, as the paper's
 * pipes do.
 */
#include <linux/anon_inodes.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/syscalls.h>
#include <linux/uaccess.h>
#include "sqlite3.h"
#include "sqliteos.h"

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "sqliteos."

/* Bytes a pipe holds before writers wait (Linux's default pipe size); sqliteos.pipe_capacity= */
static unsigned int pipe_capacity = 65536;
module_param(pipe_capacity, uint, 0644);

/* A read takes at most this many chunks, as Linux reads across at most 16 pipe buffers. */
#define CHUNKS_PER_READ	16

/* One SQL pipe, shared by its two files; all but ref are protected by sqliteos_db_lock. */
struct sqlpipe {
	struct kref ref;
	struct list_head node;	/* in pipes, while it has rows */
	s64 id;			/* pipe_data.dataId; 0 until the rows exist */
	s64 queue_id;		/* read_wq's id; write_wq's is queue_id + 1 */
	wait_queue_head_t read_wq;
	wait_queue_head_t write_wq;
	size_t buffered;
	s64 head, tail;		/* seq of the oldest chunk, and of the next one written */
	bool reader, writer;	/* is the end still open? */
};

static s64 next_queue_id = 1;	/* protected by sqliteos_db_lock */
static LIST_HEAD(pipes);	/* protected by sqliteos_db_lock */

static const struct file_operations sqlpipe_fops;

static void pipe_free(struct kref *ref)
{
	kfree(container_of(ref, struct sqlpipe, ref));
}

/*
 * Takes the locks every pipe operation runs under. Inside its own read transaction a task cannot
 * write (it would wait for its own SHARED lock): -EDEADLK at once instead.
 */
static int pipe_lock(void)
{
	int ret = -EDEADLK;

	mutex_lock(&sqliteos_db_lock);
	if (!sqlos_txn_reader(current))
		ret = sqlos_write_lock();
	if (ret)
		mutex_unlock(&sqliteos_db_lock);
	return ret;
}

static void pipe_unlock(void)
{
	sqlos_write_unlock();
	mutex_unlock(&sqliteos_db_lock);
}

/* Sleeps on q, with neither lock held while asleep. */
static int pipe_sleep(wait_queue_head_t *q)
{
	int ret;

	sqlos_write_unlock();
	ret = sqlos_sleep(q, true, true);
	if (!ret)
		ret = sqlos_write_lock();
	if (ret)
		mutex_unlock(&sqliteos_db_lock);
	return ret;
}

/* ---- 552 ---- */

static int pipe_rows(struct sqlpipe *p, const int *fds)
{
	s64 args[3] = { p->queue_id, p->queue_id + 1 };
	int rc = sqlos_run(ST_BEGIN, 0, NULL);

	if (rc == SQLITE_OK)
		rc = sqlos_run(ST_NEW_PIPE, 2, args);
	if (rc == SQLITE_OK) {
		p->id = sqlite3_last_insert_rowid(sqliteos_db);
		p->head = p->id << SEQ_SHIFT;
		p->tail = p->head;
		if (p->id >= MAX_PIPE_ID)
			rc = SQLITE_FULL;
	}
	if (rc == SQLITE_OK) {
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
	if (rc != SQLITE_OK)
		p->id = 0;
	else
		list_add_tail(&p->node, &pipes);
	return sqlos_errno(rc, true);
}

SYSCALL_DEFINE1(sql_pipe, int __user *, ufds)
{
	struct file *files[2] = { NULL, NULL };
	int fds[2] = { -1, -1 };
	struct sqlpipe *p;
	long ret;
	int i;

	sqlos_count_syscall(552);
	if (!READ_ONCE(sqliteos_db))
		return -ENODEV;
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	kref_init(&p->ref);
	init_waitqueue_head(&p->read_wq);
	init_waitqueue_head(&p->write_wq);
	p->reader = true;
	p->writer = true;
	for (i = 0; i < 2; i++) {
		fds[i] = get_unused_fd_flags(0);
		ret = fds[i];
		if (ret < 0)
			goto out;
		kref_get(&p->ref);
		files[i] = anon_inode_getfile("[sqlpipe]", &sqlpipe_fops, p,
					      i ? O_WRONLY : O_RDONLY);
		ret = PTR_ERR_OR_ZERO(files[i]);
		if (ret) {
			files[i] = NULL;
			kref_put(&p->ref, pipe_free);
			goto out;
		}
	}
	ret = pipe_lock();
	if (ret)
		goto out;
	p->queue_id = next_queue_id;
	next_queue_id += 2;
	ret = pipe_rows(p, fds);
	pipe_unlock();
	if (!ret && copy_to_user(ufds, fds, sizeof(fds)))
		ret = -EFAULT;
out:
	for (i = 0; i < 2; i++) {
		if (ret) {
			if (files[i])
				fput(files[i]);	/* release() deletes the rows */
			if (fds[i] >= 0)
				put_unused_fd(fds[i]);
		} else {
			fd_install(fds[i], files[i]);
		}
	}
	kref_put(&p->ref, pipe_free);
	return ret;
}

/* ---- read ---- */

/*
 * Copies up to n bytes from the oldest chunks to ubuf and deletes what was taken: each chunk is
 * found by its seq (a rowid lookup), the chunks taken whole go in one rowid range, a chunk taken in
 * part keeps its tail. Nothing is consumed if nothing could be copied.
 */
static ssize_t take_bytes(struct sqlpipe *p, char __user *ubuf, size_t n)
{
	u64 t0 = ktime_get_ns();
	s64 seq = p->head, args[2];
	size_t got = 0, take = 0, len = 0;
	bool fault = false;
	sqlite3_stmt *st;
	int k, rc;

	rc = sqlos_run(ST_BEGIN, 0, NULL);
	for (k = 0; rc == SQLITE_OK && got < n && k < CHUNKS_PER_READ && seq < p->tail; k++) {
		st = sqlos_st(ST_CHUNK, 1, &seq);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			len = sqlite3_column_bytes(st, 0);
			take = min(len, n - got);
			fault = copy_to_user(ubuf + got, sqlite3_column_blob(st, 0), take);
			rc = fault ? SQLITE_ABORT : SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			rc = SQLITE_CORRUPT;	/* buffered promised this chunk */
		}
		sqlos_done(st);
		if (rc != SQLITE_OK) {
			take = 0;	/* this chunk stays whole */
			len = 0;
			break;
		}
		got += take;
		if (take < len)
			break;
		seq++;
	}
	if (!got) {
		sqlos_run(ST_ROLLBACK, 0, NULL);
		return fault ? -EFAULT : rc == SQLITE_CORRUPT ? -EIO : sqlos_errno(rc, true);
	}
	rc = SQLITE_OK;
	args[0] = p->head;
	args[1] = seq - 1;
	if (seq > p->head)
		rc = sqlos_run(ST_DEL_CHUNKS, 2, args);
	if (rc == SQLITE_OK && take < len) {
		args[0] = take + 1;
		args[1] = seq;
		rc = sqlos_run(ST_TRIM_CHUNK, 2, args);
	}
	rc = sqlos_end_txn(rc);
	sqlos_counters[C_NS_READ_SQL] += ktime_get_ns() - t0;
	if (rc != SQLITE_OK)
		return sqlos_errno(rc, true);
	p->head = seq;
	p->buffered -= got;
	sqlos_counters[C_BYTES_READ] += got;
	sqlos_counters[C_READS]++;
	return got;
}

static ssize_t pipe_read(struct sqlpipe *p, char __user *ubuf, size_t n)
{
	ssize_t ret;

	if (!n)
		return 0;
	n = min_t(size_t, n, MAX_RW_COUNT);
	ret = pipe_lock();
	if (ret)
		return ret;
	while (!p->buffered) {
		if (!p->writer) {
			pipe_unlock();
			return 0;	/* EOF */
		}
		ret = pipe_sleep(&p->read_wq);
		if (ret)
			return ret;
	}
	ret = take_bytes(p, ubuf, n);
	if (ret > 0 && p->buffered)
		wake_up(&p->read_wq);
	if (ret > 0)
		wake_up(&p->write_wq);
	pipe_unlock();
	return ret;
}

/* ---- write ---- */

static ssize_t pipe_write(struct sqlpipe *p, const char __user *ubuf, size_t n)
{
	size_t done = 0, k;
	s64 args[2];
	u64 t0;
	sqlite3_stmt *st;
	ssize_t ret;
	void *buf;
	int rc;

	if (!n)
		return 0;
	n = min_t(size_t, n, MAX_RW_COUNT);
	buf = kvmalloc(min_t(size_t, n, pipe_capacity), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	ret = pipe_lock();
	if (ret)
		goto out;
	while (done < n) {
		if (!p->reader) {
			if (!done)
				send_sig(SIGPIPE, current, 0);
			ret = -EPIPE;
			break;
		}
		if (p->buffered >= pipe_capacity) {
			ret = pipe_sleep(&p->write_wq);
			if (ret)
				goto out;
			continue;
		}
		k = min3(n - done, (size_t)pipe_capacity - p->buffered, (size_t)pipe_capacity);
		if (copy_from_user(buf, ubuf + done, k)) {
			ret = -EFAULT;
			break;
		}
		t0 = ktime_get_ns();
		args[0] = p->tail;
		args[1] = p->id;
		st = sqlos_st(ST_APPEND, 2, args);
		sqlite3_bind_blob(st, 3, buf, k, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlos_done(st);
		sqlos_counters[C_NS_WRITE_SQL] += ktime_get_ns() - t0;
		if (rc != SQLITE_DONE) {
			ret = sqlos_errno(rc, true);
			break;
		}
		p->tail++;
		p->buffered += k;
		done += k;
		sqlos_counters[C_BYTES_WRITTEN] += k;
		sqlos_counters[C_WRITES]++;
		wake_up(&p->read_wq);
	}
	pipe_unlock();
out:
	kvfree(buf);
	return done ? done : ret;
}

/* ---- 550 / 551, and read(2) / write(2) on the same files ---- */

static struct sqlpipe *pipe_of(struct file *f, fmode_t mode)
{
	if (!f || f->f_op != &sqlpipe_fops || !(f->f_mode & mode))
		return NULL;
	return f->private_data;
}

SYSCALL_DEFINE3(sql_pipe_read, int, fd, char __user *, buf, size_t, n)
{
	struct fd f = fdget(fd);
	struct sqlpipe *p = pipe_of(f.file, FMODE_READ);
	ssize_t ret;

	sqlos_count_syscall(550);
	ret = p ? pipe_read(p, buf, n) : -EBADF;
	fdput(f);
	return ret;
}

SYSCALL_DEFINE3(sql_pipe_write, int, fd, const char __user *, buf, size_t, n)
{
	struct fd f = fdget(fd);
	struct sqlpipe *p = pipe_of(f.file, FMODE_WRITE);
	ssize_t ret;

	sqlos_count_syscall(551);
	ret = p ? pipe_write(p, buf, n) : -EBADF;
	fdput(f);
	return ret;
}

static ssize_t sqlpipe_fop_read(struct file *f, char __user *buf, size_t n, loff_t *pos)
{
	return pipe_read(f->private_data, buf, n);
}

static ssize_t sqlpipe_fop_write(struct file *f, const char __user *buf, size_t n, loff_t *pos)
{
	return pipe_write(f->private_data, buf, n);
}

/* ---- close, dup2 over it, exec: forget the fds that no longer name this pipe ---- */

/*
 * After close (or dup2 over it, or exec): the caller's pid_pipe rows of this pipe go, but for the
 * fds of its table that still name the pipe (up to two, the common case: the other end, or a dup;
 * with more, the rows wait for the pipe or the fd table to go).
 */
static int sqlpipe_flush(struct file *file, fl_owner_t id)
{
	struct sqlos_job job = { .n = 1, .nargs = 4, .st = { ST_DEL_STALE } };
	struct files_struct *files = current->files;
	struct sqlpipe *p = file->private_data;
	unsigned int fd, n = 0;
	struct file *f;

	/* At exit, current->files is already gone: the exit hook has deleted the rows. */
	if (id != files || !p->id)
		return 0;
	job.args[0] = p->id;
	job.args[1] = task_pid_nr(current);
	job.args[2] = -1;
	job.args[3] = -1;
	rcu_read_lock();
	for (fd = 0; fd < files_fdtable(files)->max_fds; fd++) {
		f = files_lookup_fd_rcu(files, fd);
		if (f && f->f_op == &sqlpipe_fops && f->private_data == p && n++ < 2)
			job.args[1 + n] = fd;
	}
	rcu_read_unlock();
	if (n > 2)
		return 0;
	mutex_lock(&sqliteos_db_lock);
	sqlos_job(&job);
	mutex_unlock(&sqliteos_db_lock);
	return 0;
}

/* The last reference to one end: EOF for readers, EPIPE for writers, rows gone with both ends. */
static int sqlpipe_release(struct inode *inode, struct file *file)
{
	struct sqlos_job job = {
		.n = 3, .nargs = 1, .st = { ST_DROP_CHUNKS, ST_DROP_FDS, ST_DROP_PIPE },
	};
	struct sqlpipe *p = file->private_data;

	mutex_lock(&sqliteos_db_lock);
	if (file->f_mode & FMODE_READ) {
		p->reader = false;
		wake_up_all(&p->write_wq);
	} else {
		p->writer = false;
		wake_up_all(&p->read_wq);
	}
	if (!p->reader && !p->writer && p->id) {
		list_del(&p->node);
		job.args[0] = p->id;
		sqlos_job(&job);
	}
	mutex_unlock(&sqliteos_db_lock);
	kref_put(&p->ref, pipe_free);
	return 0;
}

/* Every pipe with rows: its state, and its two queues through show(). */
void sqlos_pipes_show(struct seq_file *sf, sqlos_queue_show show)
{
	struct sqlpipe *p;
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

/*
 * /proc/PID/fdinfo/FD of an end: its pipe's dataId (the key of its rows) and which end it is, so a
 * tool can tie an fd to its rows without reading the tables. An id, never an address.
 */
static void sqlpipe_show_fdinfo(struct seq_file *sf, struct file *f)
{
	struct sqlpipe *p = f->private_data;

	seq_printf(sf, "sqliteos-pipe:\t%lld\nsqliteos-end:\t%s\n", READ_ONCE(p->id),
		   f->f_mode & FMODE_READ ? "read" : "write");
}

static const struct file_operations sqlpipe_fops = {
	.owner = THIS_MODULE,
	.show_fdinfo = sqlpipe_show_fdinfo,
	.read = sqlpipe_fop_read,
	.write = sqlpipe_fop_write,
	.flush = sqlpipe_flush,
	.release = sqlpipe_release,
	.llseek = no_llseek,
};

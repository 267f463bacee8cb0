// SPDX-License-Identifier: GPL-2.0-only
/*
 * SQL pipes: 552 sql_pipe, 550 sql_pipe_read, 551 sql_pipe_write (the published numbers and
 * arguments), with the companion semantics, and 558 sql_pipe2 (552 with O_CLOEXEC / O_NONBLOCK).
 * Each end is a real file (pipefs.c: a FIFO inode of its own), so close(), dup(), fork, exec, exit,
 * poll, readv / writev and fcntl work on it, and 550 / 551 are read(2) / write(2) on it, with the
 * same checks (rw_verify_area, the LSM hook, fsnotify). The bytes live in pipe_chunk, one row per
 * write, so a write costs its own size and a read the chunks it takes; pipe_data keeps one row per
 * pipe with queue ids (never kernel addresses) in read_wq / write_wq; pid_pipe has a row per
 * (fd-table owner, fd). read returns 0 at EOF; write with no reader left fails with -EPIPE and
 * SIGPIPE; a full pipe (its capacity in bytes) blocks writers on write_wq, or fails with -EAGAIN
 * under O_NONBLOCK; a write of at most PIPE_BUF bytes goes in whole, never split around another
 * writer's; write returns the byte count; sleeps end with -ERESTARTSYS on a signal. Readers and
 * writers wait exclusively and are woken one at a time; one that leaves bytes (or room) behind,
 * or fails after its wake-up, wakes the next (the paper's algorithm 5, and fs/pipe.c's rule).
 * Everything runs under the global write mutex, as the paper's pipes do, and user memory is never
 * waited for under it: copies run with page faults disabled, and a copy that would fault drops
 * the locks, faults the pages in and tries again.
 */
#include <linux/fdtable.h>
#include <linux/idr.h>
#include <linux/file.h>
#include <linux/fs.h>
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
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/version.h>
#include "sqlite3.h"
#include "sqliteos.h"
#include "pipe.h"

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "sqliteos."

/* No capacity above this, whoever asks: buffered and the write buffer stay well inside size_t. */
#define CAPACITY_LIMIT	SZ_1G
/* A write copies the caller's bytes through a kernel buffer of at most this many bytes at a time. */
#define WRITE_BUF_MAX	SZ_1M
/* A read takes at most this many chunks, as Linux reads across at most 16 pipe buffers. */
#define CHUNKS_PER_READ	16

/*
 * sqliteos.pipe_capacity=: bytes a new pipe holds before writers wait (Linux's default pipe size),
 * read once when a pipe is made. sqliteos.pipe_max_size=: the most an unprivileged F_SETPIPE_SZ may
 * ask (Linux's pipe-max-size). Both 1 .. 1 GiB; anything else is refused with -EINVAL.
 */
static unsigned int pipe_capacity = 65536;
static unsigned int pipe_max_size = 1048576;

static int capacity_set(const char *val, const struct kernel_param *kp)
{
	unsigned int v;
	int ret = kstrtouint(val, 0, &v);

	if (ret)
		return ret;
	if (!v || v > CAPACITY_LIMIT)
		return -EINVAL;
	WRITE_ONCE(*(unsigned int *)kp->arg, v);
	return 0;
}

static const struct kernel_param_ops capacity_ops = {
	.set = capacity_set,
	.get = param_get_uint,
};
module_param_cb(pipe_capacity, &capacity_ops, &pipe_capacity, 0644);
module_param_cb(pipe_max_size, &capacity_ops, &pipe_max_size, 0644);

static s64 next_queue_id = 1;	/* protected by sqliteos_db_lock */
static LIST_HEAD(pipes);	/* protected by sqliteos_db_lock */
static DEFINE_IDA(pipe_ids);	/* dataIds in use: from 552 until the pipe's rows are gone */

static void pipe_id_free(s64 id)
{
	ida_free(&pipe_ids, id);
}

/*
 * A pipe's capacity counts in its maker's pipe pages (user_struct.pipe_bufs), the budget stock pipes
 * count in too, under the same limits (fs.pipe-user-pages-soft / -hard): past the soft limit a new
 * pipe gets two pages, past the hard limit none (-ENFILE), and F_SETPIPE_SZ cannot grow a pipe past
 * either (-EPERM), unless the user has CAP_SYS_RESOURCE or CAP_SYS_ADMIN.
 */
static unsigned long pages_of(unsigned int capacity)
{
	return DIV_ROUND_UP(capacity, PAGE_SIZE);
}

static void pipe_free(struct kref *ref)
{
	struct sqlpipe *p = container_of(ref, struct sqlpipe, ref);

	if (p->user) {
		account_pipe_buffers(p->user, pages_of(p->capacity), 0);
		free_uid(p->user);
	}
	kfree(p);
}

/* Counts a new pipe's capacity against its maker's budget, smaller past the soft limit. */
static int pipe_account(struct sqlpipe *p)
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

void sqlpipe_put(struct sqlpipe *p)
{
	kref_put(&p->ref, pipe_free);
}

/*
 * Takes the locks every pipe operation runs under. Inside its own read transaction a task cannot
 * write (it would wait for its own SHARED lock): -EDEADLK at once instead.
 */
static int lock_pipes(void)
{
	int ret = -EDEADLK;

	mutex_lock(&sqliteos_db_lock);
	if (!sqlos_txn_reader(current))
		ret = sqlos_write_lock();
	if (ret)
		mutex_unlock(&sqliteos_db_lock);
	return ret;
}

static void unlock_pipes(void)
{
	sqlos_write_unlock();
	mutex_unlock(&sqliteos_db_lock);
}

/*
 * Sleeps on q, with neither lock held while asleep; both are held again on success, neither on
 * failure. A task holding the write mutex from user space (553(8)) would hold every pipe while it
 * slept: -EDEADLK instead. Woken, but the write mutex not to be had (a signal): the wake-up goes
 * to the next sleeper, so none is lost.
 */
static int pipe_sleep(wait_queue_head_t *q)
{
	int ret;

	if (sqlos_write_nested()) {
		unlock_pipes();
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
		mutex_unlock(&sqliteos_db_lock);
	return ret;
}

/* ---- 552 / 558 ---- */

static int pipe_rows(struct sqlpipe *p, const int *fds)
{
	int id = ida_alloc_range(&pipe_ids, 1, MAX_PIPE_ID - 1, GFP_KERNEL);
	s64 args[3] = { p->queue_id, p->queue_id + 1, id };
	int rc;

	if (id < 0)
		return id == -ENOSPC ? -ENFILE : id;	/* 2^22 - 1 pipes in the system */
	rc = sqlos_run(ST_BEGIN, 0, NULL);
	if (rc == SQLITE_OK)
		rc = sqlos_run(ST_NEW_PIPE, 3, args);
	if (rc == SQLITE_OK) {
		p->id = id;
		p->head = p->id << SEQ_SHIFT;
		p->tail = p->head;
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
	if (rc != SQLITE_OK) {
		p->id = 0;
		ida_free(&pipe_ids, id);
	} else {
		list_add_tail(&p->node, &pipes);
	}
	return sqlos_errno(rc, true);
}

static long make_pipe(int __user *ufds, int flags)
{
	struct file *files[2] = { NULL, NULL };
	int fds[2] = { -1, -1 };
	struct sqlpipe *p;
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
	if (!ret)
		ret = sqlpipe_files(p, files, flags);
	for (i = 0; !ret && i < 2; i++) {
		fds[i] = get_unused_fd_flags(flags & O_CLOEXEC);
		ret = min(fds[i], 0);
	}
	if (!ret)
		ret = lock_pipes();
	if (!ret) {
		p->queue_id = next_queue_id;
		next_queue_id += 2;
		ret = pipe_rows(p, fds);
		unlock_pipes();
	}
	if (!ret && copy_to_user(ufds, fds, sizeof(fds)))
		ret = -EFAULT;
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
	sqlpipe_put(p);
	return ret;
}

SYSCALL_DEFINE1(sql_pipe, int __user *, ufds)
{
	sqlos_count_syscall(552);
	return make_pipe(ufds, 0);
}

SYSCALL_DEFINE2(sql_pipe2, int __user *, ufds, int, flags)
{
	sqlos_count_syscall(558);
	return make_pipe(ufds, flags);
}

/* ---- read ---- */

#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 16, 0)
/*
 * WSL2's 5.15 has no fault_in_iov_iter_*(): the same for user iovecs, the bytes that could not be
 * faulted in (0 or all of them). Not built here (the tree cannot be fetched): untested.
 */
static size_t fault_in_iov_iter_writeable(const struct iov_iter *i, size_t bytes)
{
	const struct iovec *v = i->iov;
	size_t skip = i->iov_offset, left = bytes, n;

	for (; iter_is_iovec(i) && left && v < i->iov + i->nr_segs; v++, skip = 0) {
		n = min(left, v->iov_len - skip);
		if (n && fault_in_pages_writeable(v->iov_base + skip, n))
			return bytes;
		left -= n;
	}
	return 0;
}

static size_t fault_in_iov_iter_readable(const struct iov_iter *i, size_t bytes)
{
	return iov_iter_fault_in_readable((struct iov_iter *)i, bytes) ? bytes : 0;
}
#endif

/* Copies to the caller without waiting for a page fault (the locks are held): the bytes copied. */
static size_t copy_out_nofault(struct iov_iter *to, const void *from, size_t n)
{
	size_t got;

	pagefault_disable();
	got = copy_to_iter(from, n, to);
	pagefault_enable();
	return got;
}

static size_t copy_in_nofault(void *to, struct iov_iter *from, size_t n)
{
	size_t got;

	pagefault_disable();
	got = copy_from_iter(to, n, from);
	pagefault_enable();
	return got;
}

/*
 * Copies up to n bytes from the oldest chunks to the caller and deletes what was taken: each chunk
 * is found by its seq (a rowid lookup), the chunks taken whole go in one rowid range, a chunk taken
 * in part keeps its tail. If the caller's buffer cannot take a chunk now (not in memory, or not
 * there at all), nothing is consumed and *fault is the bytes the buffer must take, to be faulted in
 * without the locks before the read starts again (EFAULT if it cannot be, as read(2) does), so a
 * buffer out of memory never shortens a read.
 */
static ssize_t take_bytes(struct sqlpipe *p, struct iov_iter *to, size_t n, size_t *fault)
{
	u64 t0 = ktime_get_ns();
	s64 seq = p->head, args[2];
	size_t got = 0, take = 0, len = 0, want;
	sqlite3_stmt *st;
	int k, rc;

	*fault = 0;
	rc = sqlos_run(ST_BEGIN, 0, NULL);
	for (k = 0; rc == SQLITE_OK && got < n && k < CHUNKS_PER_READ && seq < p->tail; k++) {
		st = sqlos_st(ST_CHUNK, 1, &seq);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			len = sqlite3_column_bytes(st, 0);
			want = min(len, n - got);
			take = copy_out_nofault(to, sqlite3_column_blob(st, 0), want);
			rc = SQLITE_OK;
			if (take < want) {
				iov_iter_revert(to, got + take);
				*fault = got + want;
				got = 0;
				rc = SQLITE_ABORT;
			}
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
		if (*fault)
			return 0;
		return rc == SQLITE_CORRUPT ? -EIO : sqlos_errno(rc, true);
	}
	*fault = 0;
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
	if (rc != SQLITE_OK) {
		iov_iter_revert(to, got);
		return sqlos_errno(rc, true);
	}
	p->head = seq;
	p->buffered -= got;
	sqlos_counters[C_BYTES_READ] += got;
	sqlos_counters[C_READS]++;
	return got;
}

ssize_t sqlpipe_read(struct sqlpipe *p, struct iov_iter *to, bool nonblock)
{
	size_t n = min_t(size_t, iov_iter_count(to), MAX_RW_COUNT), fault;
	ssize_t ret;

	if (!n)
		return 0;
	ret = lock_pipes();
	if (ret)
		return ret;
	for (;;) {
		while (!p->buffered) {
			if (!p->writer) {
				unlock_pipes();
				return 0;	/* EOF */
			}
			if (nonblock) {
				unlock_pipes();
				return -EAGAIN;
			}
			ret = pipe_sleep(&p->read_wq);
			if (ret)
				return ret;
		}
		ret = take_bytes(p, to, n, &fault);
		if (!fault)
			break;
		/* The buffer is not in memory: fault it in with no lock held, then try again. */
		unlock_pipes();
		ret = fault_in_iov_iter_writeable(to, fault) ? -EFAULT : lock_pipes();
		if (ret) {
			wake_up(&p->read_wq);	/* whatever woke this reader goes to the next */
			return ret;
		}
	}
	if (p->buffered)
		wake_up(&p->read_wq);	/* bytes left, or this read failed: the next reader */
	if (ret > 0)
		wake_up(&p->write_wq);
	unlock_pipes();
	return ret;
}

/* ---- write ---- */

/* One chunk of k bytes from buf; the locks are held. A pipe takes 2^40 - 1 writes (-EFBIG after). */
static int append(struct sqlpipe *p, const void *buf, size_t k)
{
	u64 t0 = ktime_get_ns();
	s64 args[2] = { p->tail, p->id };
	sqlite3_stmt *st;
	int rc;

	if ((p->tail + 1) >> SEQ_SHIFT != p->id)
		return -EFBIG;	/* the next seq would be the next dataId's */
	st = sqlos_st(ST_APPEND, 2, args);
	sqlite3_bind_blob(st, 3, buf, k, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlos_done(st);
	sqlos_counters[C_NS_WRITE_SQL] += ktime_get_ns() - t0;
	if (rc != SQLITE_DONE)
		return sqlos_errno(rc, true);
	p->tail++;
	p->buffered += k;
	sqlos_counters[C_BYTES_WRITTEN] += k;
	sqlos_counters[C_WRITES]++;
	wake_up(&p->read_wq);
	return 0;
}

/*
 * Writes as much as fits, sleeping on write_wq while the pipe is full; a write of at most PIPE_BUF
 * bytes waits until all of it fits (or the pipe's whole capacity, if that is less). The caller's
 * bytes go through buf: copied with page faults off while the locks are held, and when that copies
 * nothing, faulted in with the locks dropped.
 */
ssize_t sqlpipe_write(struct sqlpipe *p, struct iov_iter *from, bool nonblock)
{
	size_t n = min_t(size_t, iov_iter_count(from), MAX_RW_COUNT);
	size_t size = min_t(size_t, n, WRITE_BUF_MAX), done = 0, have = 0, off = 0, room, k = 0;
	bool atomic = n <= PIPE_BUF;
	ssize_t ret = 0;
	char *buf;

	if (!n)
		return 0;
	buf = kvmalloc(size, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;
	ret = lock_pipes();
	if (ret)
		goto out;
	while (done < n) {
		if (!p->reader) {
			if (!done)
				send_sig(SIGPIPE, current, 0);
			ret = -EPIPE;
			break;
		}
		room = p->buffered < p->capacity ? p->capacity - p->buffered : 0;
		if (!room || (atomic && room < min_t(size_t, n - done, p->capacity))) {
			ret = -EAGAIN;
			if (nonblock)
				break;
			ret = pipe_sleep(&p->write_wq);
			if (ret)
				goto out;
			continue;
		}
		if (!have) {
			k = min(n - done, size);
			have = copy_in_nofault(buf, from, k);
			off = 0;
		}
		if (have < k && !off) {
			/* Not all in memory: none of it goes in; fault it in with no lock held. */
			iov_iter_revert(from, have);
			have = 0;
			unlock_pipes();
			ret = fault_in_iov_iter_readable(from, k) ? -EFAULT : lock_pipes();
			if (ret) {
				wake_up(&p->write_wq);	/* whatever woke this writer goes to the next */
				goto out;
			}
			continue;
		}
		k = min(have, room);
		ret = append(p, buf + off, k);
		if (ret)
			break;
		off += k;
		have -= k;
		done += k;
	}
	if (p->reader && p->buffered < p->capacity)
		wake_up(&p->write_wq);	/* room left, or this write failed: the next writer */
	unlock_pipes();
out:
	kvfree(buf);
	return done ? done : ret;
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

	sqlos_count_syscall(550);
	if (is_end(f.file, FMODE_READ))
		ret = vfs_read(f.file, buf, n, NULL);
	fdput(f);
	return ret;
}

SYSCALL_DEFINE3(sql_pipe_write, int, fd, const char __user *, buf, size_t, n)
{
	struct fd f = fdget(fd);
	ssize_t ret = -EBADF;

	sqlos_count_syscall(551);
	if (is_end(f.file, FMODE_WRITE))
		ret = vfs_write(f.file, buf, n, NULL);
	fdput(f);
	return ret;
}

/* ---- fcntl(F_GETPIPE_SZ / F_SETPIPE_SZ), from fs/pipe.c's pipe_fcntl ---- */

bool sqliteos_is_pipe(struct file *f)
{
	return f->f_op == &sqlpipe_fops;
}

/* As a stock pipe: sizes round up to a power of two pages; above pipe_max_size needs CAP_SYS_RESOURCE. */
long sqliteos_pipe_fcntl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct sqlpipe *p = f->private_data;
	unsigned int size = 0;
	unsigned long bufs;
	long ret = -EINVAL;

	if (cmd == F_SETPIPE_SZ) {
		size = round_pipe_size(arg);
		if (!size || size > CAPACITY_LIMIT)
			return -EINVAL;
		if (size > READ_ONCE(pipe_max_size) && !capable(CAP_SYS_RESOURCE))
			return -EPERM;
	}
	mutex_lock(&sqliteos_db_lock);
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
	mutex_unlock(&sqliteos_db_lock);
	return ret;
}

/* ---- close, dup2 over it, exec: forget the fds that no longer name this pipe ---- */

/*
 * After close (or dup2 over it, or exec): the caller's pid_pipe rows of this pipe go, but for the
 * fds of its table that still name the pipe (up to two, the common case: the other end, or a dup;
 * with more, the rows wait for the pipe or the fd table to go).
 */
int sqlpipe_flush(struct file *file, fl_owner_t id)
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
		if (f && sqliteos_is_pipe(f) && f->private_data == p && n++ < 2)
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
int sqlpipe_release(struct inode *inode, struct file *file)
{
	struct sqlos_job job = {
		.n = 4, .nargs = 1, .st = { ST_DROP_CHUNKS, ST_DROP_FDS, ST_DROP_PIPE, ST_VACUUM },
		.done = pipe_id_free,	/* the id is free once no row names it */
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
	sqlpipe_put(p);
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

// SPDX-License-Identifier: GPL-2.0-only
/*
 * The files of an SQL pipe. Like a stock pipe's, the two ends of a pipe share an inode of their own
 * (a FIFO on a pseudo filesystem, so fstat tells pipes apart and reports S_IFIFO; readlink of
 * /proc/PID/fd/N reads "sqlpipe:[INO]"), opened as streams (no seek, no pread / pwrite). Besides
 * read / write (readv / writev through the iterators) they answer poll, select and epoll, FIONREAD,
 * fcntl's O_NONBLOCK (F_SETFL) and F_GETPIPE_SZ / F_SETPIPE_SZ (pipe.c), and fdinfo.
 */
#include <asm/ioctls.h>
#include <linux/compat.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/mount.h>
#include <linux/poll.h>
#include <linux/pseudo_fs.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>
#include "compat.h"
#include "sqliteos.h"
#include "pipe.h"

#define SQLPIPEFS_MAGIC	0x53514c50	/* "SQLP" */

static struct vfsmount *sqlos_pipe_mnt __ro_after_init;

static char *sqlpipefs_dname(struct dentry *dentry, char *buffer, int buflen)
{
	return sqlos_dynamic_dname(dentry, buffer, buflen, "sqlpipe:[%lu]", d_inode(dentry)->i_ino);
}

static const struct dentry_operations sqlpipefs_dentry_operations = {
	.d_dname = sqlpipefs_dname,
};

static int sqlpipefs_init_fs_context(struct fs_context *fc)
{
	struct pseudo_fs_context *ctx = init_pseudo(fc, SQLPIPEFS_MAGIC);

	if (!ctx)
		return -ENOMEM;
	ctx->dops = &sqlpipefs_dentry_operations;
	return 0;
}

static struct file_system_type sqlos_pipe_fs_type = {
	.name = "sqlpipefs",
	.init_fs_context = sqlpipefs_init_fs_context,
	.kill_sb = kill_anon_super,
};

int __init sqlos_pipe_fs_init(void)
{
	sqlos_pipe_mnt = kern_mount(&sqlos_pipe_fs_type);
	return PTR_ERR_OR_ZERO(sqlos_pipe_mnt);
}

/* Opening /proc/PID/fd/N of an end again would make a file with no pipe behind it: refused. */
static int sqlos_pipe_reopen(struct inode *inode, struct file *file)
{
	return -ENXIO;
}

static const struct file_operations sqlos_pipe_inode_fops = {
	.open = sqlos_pipe_reopen,
	.llseek = noop_llseek,
};

int sqlos_pipe_files(struct sqlos_pipe *p, struct file **files, int flags)
{
	struct inode *inode = alloc_anon_inode(sqlos_pipe_mnt->mnt_sb);
	struct file *f;

	if (IS_ERR(inode))
		return PTR_ERR(inode);
	inode->i_mode = S_IFIFO | 0600;
	inode->i_fop = &sqlos_pipe_inode_fops;
	f = alloc_file_pseudo(inode, sqlos_pipe_mnt, "", O_WRONLY | (flags & O_NONBLOCK),
			      &sqlos_pipe_fops);
	if (IS_ERR(f)) {
		iput(inode);
		return PTR_ERR(f);
	}
	kref_get(&p->ref);
	f->private_data = p;
	files[1] = f;
	f = alloc_file_clone(files[1], O_RDONLY | (flags & O_NONBLOCK), &sqlos_pipe_fops);
	if (IS_ERR(f)) {
		fput(files[1]);
		files[1] = NULL;
		return PTR_ERR(f);
	}
	/* the clone shares the first file's dentry, and through it the inode */
	kref_get(&p->ref);
	f->private_data = p;
	files[0] = f;
	stream_open(inode, files[0]);
	stream_open(inode, files[1]);
	return 0;
}

static bool nonblocking(struct kiocb *iocb)
{
	return (iocb->ki_filp->f_flags & O_NONBLOCK) || (iocb->ki_flags & IOCB_NOWAIT);
}

/*
 * read(2), readv(2) and 550 alike. A followed task's bytes are taken for the recorder where they
 * are copied out, and a write's that did not go in from its buffer afterwards.
 */
static ssize_t sqlos_pipe_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct sqlos_pipe *p = iocb->ki_filp->private_data;
	u64 start = sqlos_record_start();
	size_t asked = iov_iter_count(to);
	struct sqlos_rec_io *rio = sqlos_rec_io_new(start, asked);
	ssize_t ret = sqlos_pipe_read(p, to, nonblocking(iocb), rio);

	sqlos_record_io(start, REC_READ, p->id, rio, NULL, asked, ret);
	return ret;
}

static ssize_t sqlos_pipe_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct sqlos_pipe *p = iocb->ki_filp->private_data;
	u64 start = sqlos_record_start();
	size_t asked = iov_iter_count(from);
	struct sqlos_rec_io *rio = sqlos_rec_io_new(start, asked);
	ssize_t ret = sqlos_pipe_write(p, from, nonblocking(iocb), rio);

	/* from: what was not written is next in it (a source: readable again on every kernel) */
	sqlos_record_io(start, REC_WRITE, p->id, rio, from, asked, ret);
	return ret;
}

/*
 * As a stock pipe answers: the read end is readable with bytes buffered and hung up with no writer
 * left; the write end is writable when a write of PIPE_BUF bytes (or the whole capacity, if less)
 * would not wait, and in error with no reader left.
 */
static __poll_t sqlos_pipe_poll(struct file *f, poll_table *wait)
{
	struct sqlos_pipe *p = f->private_data;
	unsigned int capacity;
	size_t buffered;
	__poll_t mask = 0;

	if (f->f_mode & FMODE_READ)
		poll_wait(f, &p->read_wq, wait);
	if (f->f_mode & FMODE_WRITE)
		poll_wait(f, &p->write_wq, wait);
	buffered = READ_ONCE(p->buffered);
	capacity = READ_ONCE(p->capacity);
	if (f->f_mode & FMODE_READ) {
		if (buffered)
			mask |= EPOLLIN | EPOLLRDNORM;
		if (!READ_ONCE(p->writer))
			mask |= EPOLLHUP;
	}
	if (f->f_mode & FMODE_WRITE) {
		if (buffered + min_t(unsigned int, PIPE_BUF, capacity) <= capacity)
			mask |= EPOLLOUT | EPOLLWRNORM;
		if (!READ_ONCE(p->reader))
			mask |= EPOLLERR;
	}
	return mask;
}

/* FIONREAD: the bytes buffered, on either end. */
static long sqlos_pipe_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct sqlos_pipe *p = f->private_data;

	if (cmd != FIONREAD)
		return -ENOIOCTLCMD;
	return put_user((int)min_t(size_t, READ_ONCE(p->buffered), INT_MAX), (int __user *)arg);
}

/*
 * /proc/PID/fdinfo/FD of an end: its pipe's dataId (the key of its rows) and which end it is, so a
 * tool can tie an fd to its rows without reading the tables. An id, never an address.
 */
static void sqlos_pipe_show_fdinfo(struct seq_file *sf, struct file *f)
{
	struct sqlos_pipe *p = f->private_data;

	seq_printf(sf, "sqliteos-pipe:\t%lld\nsqliteos-end:\t%s\n", READ_ONCE(p->id),
		   f->f_mode & FMODE_READ ? "read" : "write");
}

const struct file_operations sqlos_pipe_fops = {
	.owner = THIS_MODULE,
	.show_fdinfo = sqlos_pipe_show_fdinfo,
	.read_iter = sqlos_pipe_read_iter,
	.write_iter = sqlos_pipe_write_iter,
	.poll = sqlos_pipe_poll,
	.unlocked_ioctl = sqlos_pipe_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.flush = sqlos_pipe_flush,
	.release = sqlos_pipe_release,
	.llseek = no_llseek,
};

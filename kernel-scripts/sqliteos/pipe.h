/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An SQL pipe, shared by pipe.c (its rows, limits and close), pipe_rw.c (read and write) and
 * pipefs.c (its two files).
 */
#ifndef _SQLITEOS_PIPE_H
#define _SQLITEOS_PIPE_H

#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/wait.h>

struct sqlos_rec_io;

/*
 * One SQL pipe; all but ref are protected by sqlos_db_lock (poll and FIONREAD peek with
 * READ_ONCE).
 */
struct sqlos_pipe {
	struct kref ref;
	struct list_head node;	/* in pipes, while it has rows */
	s64 id;			/* pipe_data.dataId; 0 until the rows exist */
	s64 queue_id;		/* read_wq's id; write_wq's is queue_id + 1 */
	wait_queue_head_t read_wq;
	wait_queue_head_t write_wq;
	size_t buffered;
	/* bytes it holds before writers wait: pipe_capacity when made, F_SETPIPE_SZ */
	unsigned int capacity;
	/* who made it: its capacity counts in their pipe-user-pages */
	struct user_struct *user;
	s64 head, tail;		/* seq of the oldest chunk, and of the next one written */
	size_t head_read;	/* pipe_data.head_read: bytes of the oldest chunk already read */
	size_t tail_len;	/* bytes in the newest chunk, while there is one (tail > head) */
	bool reader, writer;	/* is the end still open? */
};

extern const struct file_operations sqlos_pipe_fops;

/* pipe.c: the locks every pipe operation runs under (sqlos_db_lock, then the write mutex) */
int sqlos_lock_pipes(void);
void sqlos_unlock_pipes(void);
int sqlos_pipe_sleep(wait_queue_head_t *q);
int sqlos_pipe_flush(struct file *file, fl_owner_t id);
int sqlos_pipe_release(struct inode *inode, struct file *file);
void sqlos_pipe_put(struct sqlos_pipe *p);

/* pipe_rw.c; rio: the recorder's capture of the bytes moved, or NULL */
ssize_t sqlos_pipe_read(struct sqlos_pipe *p, struct iov_iter *to, bool nonblock,
			struct sqlos_rec_io *rio);
ssize_t sqlos_pipe_write(struct sqlos_pipe *p, struct iov_iter *from, bool nonblock,
			 struct sqlos_rec_io *rio);

/* pipefs.c: the two ends, write end in files[1], each holding a reference to p. */
int sqlos_pipe_files(struct sqlos_pipe *p, struct file **files, int flags);

#endif /* _SQLITEOS_PIPE_H */

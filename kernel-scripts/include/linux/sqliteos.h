/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SQLiteOS hooks in the core kernel: pid_store follows fork, clone, exit and an fd table unshared
 * (unshare(CLONE_FILES), exec in a thread), and fs/pipe.c's
 * pipe_fcntl() passes F_GETPIPE_SZ / F_SETPIPE_SZ on an SQL pipe's end to it.
 */
#ifndef _LINUX_SQLITEOS_H
#define _LINUX_SQLITEOS_H

#include <linux/errno.h>
#include <linux/types.h>

struct file;
struct task_struct;

#ifdef CONFIG_SQLITEOS
void sqliteos_fork(struct task_struct *p, unsigned long clone_flags);
void sqliteos_exit(struct task_struct *tsk);
void sqliteos_unshare_files(struct task_struct *t);
bool sqliteos_is_pipe(struct file *f);
long sqliteos_pipe_fcntl(struct file *f, unsigned int cmd, unsigned long arg);
#else
static inline void sqliteos_fork(struct task_struct *p, unsigned long clone_flags) { }
static inline void sqliteos_exit(struct task_struct *tsk) { }
static inline void sqliteos_unshare_files(struct task_struct *t) { }
static inline bool sqliteos_is_pipe(struct file *f) { return false; }
static inline long sqliteos_pipe_fcntl(struct file *f, unsigned int cmd, unsigned long arg)
{
	return -EBADF;
}
#endif

#endif /* _LINUX_SQLITEOS_H */

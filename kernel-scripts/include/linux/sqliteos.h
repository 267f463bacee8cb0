/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SQLiteOS hooks in the core kernel: pid_store follows fork, clone and exit.
 */
#ifndef _LINUX_SQLITEOS_H
#define _LINUX_SQLITEOS_H

struct task_struct;

#ifdef CONFIG_SQLITEOS
void sqliteos_fork(struct task_struct *p, unsigned long clone_flags);
void sqliteos_exit(struct task_struct *tsk);
#else
static inline void sqliteos_fork(struct task_struct *p, unsigned long clone_flags) { }
static inline void sqliteos_exit(struct task_struct *tsk) { }
#endif

#endif /* _LINUX_SQLITEOS_H */

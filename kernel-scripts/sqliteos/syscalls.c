// SPDX-License-Identifier: GPL-2.0-only
/*
 * SQLiteOS syscalls 548-557, with the published ABI's numbers and arguments.
 *
 * The first step of the companion patch: the table entries, the Kconfig option and the build
 * wiring are real and tested under QEMU, and 548 behaves as published. The SQL-backed calls are
 * declared conditional (they fall back to sys_ni_syscall, -ENOSYS) until the database, the VFS
 * and the pipes land; the table never has to change again.
 */
#include <linux/syscalls.h>
#include <linux/uaccess.h>

static const char hello[8] = "HELLOWO";

/* 548: copies "HELLOWO\0"; fails with -EPERM (-1, as published) below 8 bytes. */
SYSCALL_DEFINE2(hello_world, char __user *, buf, unsigned long, size)
{
	if (size < sizeof(hello))
		return -EPERM;
	if (copy_to_user(buf, hello, sizeof(hello)))
		return -EFAULT;
	return 0;
}

/* As kernel/sys_ni.c declares it for its own COND_SYSCALLs. */
asmlinkage long sys_ni_syscall(void);

COND_SYSCALL(sql_pipe_read);
COND_SYSCALL(sql_pipe_write);
COND_SYSCALL(sql_pipe);
COND_SYSCALL(sql_start_transaction);
COND_SYSCALL(sql_rollback_transaction);
COND_SYSCALL(sql_start_savepoint);
COND_SYSCALL(sql_release_savepoint);
COND_SYSCALL(sql_rollback_savepoint);

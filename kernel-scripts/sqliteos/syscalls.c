// SPDX-License-Identifier: GPL-2.0-only
/*
 * SQLiteOS syscalls 548-557, with the published ABI's numbers and arguments.
 *
 * 548 behaves as published; 549 is in db.c. The others are declared conditional in kernel/sys_ni.c
 * (apply.sh adds them there), so they answer -ENOSYS until they are written, a kernel built
 * without CONFIG_SQLITEOS still links, and the syscall table never has to change again.
 */
#include <linux/syscalls.h>
#include <linux/uaccess.h>
#include "sqliteos.h"

static const char hello[8] = "HELLOWO";

/* 548: copies "HELLOWO\0"; fails with -EPERM (-1, as published) below 8 bytes. */
SYSCALL_DEFINE2(hello_world, char __user *, buf, unsigned long, size)
{
	sqlos_count_syscall(__NR_hello_world);
	if (size < sizeof(hello))
		return -EPERM;
	if (copy_to_user(buf, hello, sizeof(hello)))
		return -EFAULT;
	return 0;
}

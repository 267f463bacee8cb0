/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every kernel-version test of the SQLiteOS glue, each with the release and the commit (by
 * its subject) that moved the API. The patch is built and booted on Microsoft's WSL2
 * 5.15.146.1, Debian's 6.1 and Debian's 6.12 (npm run test:kernel and test:kernel:trees); what
 * is written here for one of them is the same thing the newer kernels do.
 */
#ifndef _SQLITEOS_COMPAT_H
#define _SQLITEOS_COMPAT_H

#include <linux/dcache.h>
#include <linux/file.h>
#include <linux/version.h>

/*
 * Not needed: fault_in_iov_iter_readable() / _writeable() (5.16, "iov_iter: Turn
 * iov_iter_fault_in_readable into fault_in_iov_iter_readable" and "iov_iter: Introduce
 * fault_in_iov_iter_writeable") were backported to 5.15.y and are in WSL2's 5.15.146.1, so a
 * version test would be wrong there (one was: it redeclared them).
 */

/* dynamic_dname() lost its dentry in 6.0 ("dynamic_dname(): drop unused dentry argument"). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 0, 0)
#define sqlos_dynamic_dname(dentry, buf, len, fmt, ...) \
	dynamic_dname(dentry, buf, len, fmt, __VA_ARGS__)
#else
#define sqlos_dynamic_dname(dentry, buf, len, fmt, ...) \
	dynamic_dname(buf, len, fmt, __VA_ARGS__)
#endif

/* kvrealloc() lost its old size in 6.11 ("mm: kvmalloc: align kvrealloc() with krealloc()"). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
#define sqlos_kvrealloc(p, old_size, new_size, gfp)	kvrealloc(p, old_size, new_size, gfp)
#else
#define sqlos_kvrealloc(p, old_size, new_size, gfp)	kvrealloc(p, new_size, gfp)
#endif

/* no_llseek went in 6.12 ("fs: remove no_llseek"): a file without .llseek cannot seek. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#define no_llseek	NULL
#endif

/*
 * struct fd's file became fd_file(f) in 6.12 ("introduce fd_file(), convert all accessors to
 * it").
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
#define fd_file(f)	((f).file)
#endif

#endif /* _SQLITEOS_COMPAT_H */

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every kernel-version test of the SQLiteOS glue, each with the release (and commit) that moved the
 * API. The patch is built and booted on Microsoft's WSL2 5.15.146.1, Debian's 6.1 and Debian's 6.12
 * (npm run test:kernel and test:kernel:trees); what is written here for one of them is the same
 * thing the newer kernels do.
 */
#ifndef _SQLITEOS_COMPAT_H
#define _SQLITEOS_COMPAT_H

#include <linux/dcache.h>
#include <linux/file.h>
#include <linux/pagemap.h>
#include <linux/uio.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 16, 0)
/*
 * fault_in_iov_iter_readable() / _writeable() came in 5.16 (commits a6294593e8a1 and cdd591fc86e3)
 * and return the bytes that could not be faulted in. Before: the same for user iovecs, 0 or all.
 */
static inline size_t fault_in_iov_iter_writeable(const struct iov_iter *i, size_t bytes)
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

static inline size_t fault_in_iov_iter_readable(const struct iov_iter *i, size_t bytes)
{
	return iov_iter_fault_in_readable((struct iov_iter *)i, bytes) ? bytes : 0;
}
#endif

/* dynamic_dname() lost its dentry argument in 6.0 (commit 0f60d2889cd6). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 0, 0)
#define sqlos_dynamic_dname(dentry, buf, len, fmt, ...) \
	dynamic_dname(dentry, buf, len, fmt, __VA_ARGS__)
#else
#define sqlos_dynamic_dname(dentry, buf, len, fmt, ...) \
	dynamic_dname(buf, len, fmt, __VA_ARGS__)
#endif

/* struct fd's file became fd_file(f) in 6.12 (commit 1da91ea87aef). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
#define fd_file(f)	((f).file)
#endif

#endif /* _SQLITEOS_COMPAT_H */

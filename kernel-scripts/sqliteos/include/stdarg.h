/* SPDX-License-Identifier: GPL-2.0-only */
/* libc header shims for sqlite3.c (built with the kernel's -nostdinc): kernel equivalents. */
#include <linux/stdarg.h>

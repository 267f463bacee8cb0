/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Included before sqlite3.c. The kernel headers the libc shims need are pulled in first, so that
 * the kernel macros that clash with SQLite's own names can be undefined after them: three of
 * compiler_types.h's (the switch-case attribute, noinline and GCC_VERSION) and asm/current.h's
 * `current` (a variable name in SQLite).
 */
#include <linux/kernel.h>
#include <linux/ctype.h>
#include <linux/stdarg.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/time.h>
#include <linux/types.h>
#undef fallthrough
#undef noinline
#undef GCC_VERSION
#undef current

/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _SQLITEOS_SHIM_TIME_H
#define _SQLITEOS_SHIM_TIME_H
#include <linux/time.h>
/* The kernel has no time_t any more; SQLite only passes one to gmtime_r. */
typedef time64_t time_t;
struct tm *gmtime_r(const time_t *t, struct tm *out);
size_t strftime(char *s, size_t max, const char *fmt, const struct tm *tm);
#endif

// SPDX-License-Identifier: GPL-2.0-only
/*
 * The database's memory follows what it holds: 32 pipes of 64 KiB each grow the store by about
 * 2 MiB, and closing them gives it back (incremental auto-vacuum on the VFS's page-sized blocks),
 * as debugfs counters' store_bytes shows.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include "lib.h"

#define PIPES	32
#define FILL	65536

void memory_tests(void)
{
	static char fill[FILL];
	static int fd[PIPES][2];
	long before = debugfs_value("counters", "store_bytes"), full, after;
	int i, ok = 1;
	char why[128];

	for (i = 0; i < PIPES; i++)
		ok &= !sql_pipe(fd[i]) && swrite(fd[i][1], fill, FILL) == FILL;
	full = debugfs_value("counters", "store_bytes");
	for (i = 0; i < PIPES; i++) {
		close(fd[i][0]);
		close(fd[i][1]);
	}
	after = debugfs_value("counters", "store_bytes");
	snprintf(why, sizeof(why), "store %ld bytes before, %ld full, %ld after", before, full, after);
	check(ok && before > 0 && full - before >= PIPES * FILL && after - before < PIPES * FILL / 8,
	      "2 MiB through 32 pipes grows the store by as much, and closing them gives it back", why);
}

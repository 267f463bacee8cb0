// SPDX-License-Identifier: GPL-2.0-only
/*
 * The database's memory follows what it holds: 32 pipes of 64 KiB each grow the store by about
 * 2 MiB, and closing them gives it back (incremental auto-vacuum on the VFS's page-sized blocks),
 * as debugfs counters' store_bytes shows. Writers asleep on a full pipe hold no kernel buffer.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include "lib.h"

#define PIPES	32
#define FILL	65536

static void store_follows(void)
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

#define BLOCKED	128
#define MIB	(1 << 20)

static char big[MIB];
static int blocked_fd[2];
static int started;

static void *blocked_writer(void *arg)
{
	long n;

	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	n = swrite(blocked_fd[1], big, MIB);
	return (void *)(n < 0 ? -(long)errno : n);
}

/* MemAvailable in KiB, from /proc/meminfo, or -1. */
static long mem_available(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

/*
 * 128 threads each writing 1 MiB into a full 64 KiB pipe sleep without a kernel buffer (one is
 * taken once there is room, sized to it), as writers to a stock pipe do: MemAvailable drops by far
 * less than the 128 MiB the writes would hold otherwise.
 */
static void blocked_writers(void)
{
	static char fill[CAPACITY];
	pthread_t t[BLOCKED];
	long before, asleep, done = 0;
	int i, made = 0, ok;
	char why[160];
	void *ret;

	signal(SIGPIPE, SIG_IGN);
	ok = !sql_pipe(blocked_fd) && swrite(blocked_fd[1], fill, CAPACITY) == CAPACITY;
	before = mem_available();
	for (i = 0; ok && i < BLOCKED; i++)
		made += !pthread_create(&t[i], NULL, blocked_writer, NULL);
	while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < made)
		usleep(10 * 1000);
	usleep(1000 * 1000);
	asleep = mem_available();
	close(blocked_fd[0]);	/* each writer wakes to EPIPE */
	for (i = 0; i < made; i++) {
		pthread_join(t[i], &ret);
		done += (long)ret == -EPIPE;
	}
	close(blocked_fd[1]);
	signal(SIGPIPE, SIG_DFL);
	snprintf(why, sizeof(why), "%d writers asleep: MemAvailable %ld KiB before, %ld KiB while they "
		 "slept; %ld ended with EPIPE", made, before, asleep, done);
	printf("# %s\n", why);
	check(ok && made == BLOCKED && done == made && before > 0 && asleep > 0 &&
	      before - asleep < 32 * 1024,
	      "128 writers of 1 MiB asleep on a full pipe hold no 1 MiB buffer each", why);
}

void memory_tests(void)
{
	store_follows();
	blocked_writers();
}

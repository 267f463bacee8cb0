// SPDX-License-Identifier: GPL-2.0-only
/*
 * How a pipe's bytes lie in pipe_chunk, and what that costs a user: a chunk holds at most 64 KiB (a
 * longer write is several), a write of a few bytes joins the newest unread chunk while it holds at
 * most 4 KiB (as fs/pipe.c merges into its last page), and a read of part of a chunk notes how far
 * it read in pipe_data.head_read instead of rewriting the chunk. So 1-byte writes do not make the
 * store many times what they hold, and 1-byte reads of a 1 MiB write cost about what they do of a
 * 4 KiB one; every byte still comes out once and in order.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "lib.h"

#define MIB		(1 << 20)
#define SMALL_READS	1000

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + (i >> 8));
}

static long rows_of(long id)
{
	return scalar("SELECT count(*) AS v FROM pipe_chunk WHERE dataId = %ld", id);
}

static long head_read_of(long id)
{
	return scalar("SELECT head_read AS v FROM pipe_data WHERE dataId = %ld", id);
}

/* 65,536 writes of one byte into a 64 KiB pipe: 16 chunks, the store grows by < 2x what they hold. */
static void one_byte_writes(void)
{
	static unsigned char got[CAPACITY];
	long before, full, id, rows;
	int fd[2], i, ok = 1, bad = -1;
	char why[192];

	if (SETUP(sql_pipe(fd)))
		return;
	id = data_id_of(fd[0]);
	before = debugfs_value("counters", "store_bytes");
	for (i = 0; i < CAPACITY && ok; i++) {
		unsigned char b = pattern(i);

		ok = swrite(fd[1], &b, 1) == 1;
	}
	full = debugfs_value("counters", "store_bytes");
	rows = rows_of(id);
	snprintf(why, sizeof(why), "%d writes went in; store %ld bytes before, %ld after; %ld rows",
		 i, before, full, rows);
	printf("# one-byte writes: %s\n", why);
	check(ok && rows == CAPACITY / 4096 && full - before <= 2 * CAPACITY,
	      "65,536 one-byte writes fill 16 chunks of 4 KiB and grow the store by at most 2x what they hold",
	      why);
	ok = sread_all(fd[0], got, CAPACITY) == CAPACITY;
	for (i = 0; i < CAPACITY && bad < 0; i++)
		if (got[i] != pattern(i))
			bad = i;
	snprintf(why, sizeof(why), "read %s; first wrong byte at %d; %ld rows left",
		 ok ? "all" : "short", bad, rows_of(id));
	check(ok && bad < 0 && rows_of(id) == 0, "and a reader gets each of them once, in order", why);
	close2(fd);
}

/*
 * A 200 KiB write is four chunks (64 + 64 + 64 + 8 KiB); reads of odd sizes across them note how far
 * they read into one (head_read, buffered as the tables add it up) and get every byte in order.
 */
static void long_write_chunks(void)
{
	static unsigned char data[200 * 1024], got[sizeof(data)];
	size_t n = sizeof(data), at = 0, sizes[] = { 1, 4095, 65536, 3, 70000, 12345 };
	long id, rows, head = -1, buf = -1;
	int fd[2], i, bad = -1, ok;
	char why[160];

	if (SETUP(sql_pipe(fd)) || SETUP(fcntl(fd[1], F_SETPIPE_SZ, 256 * 1024) < 0))
		return;
	for (i = 0; i < (int)n; i++)
		data[i] = pattern(i);
	id = data_id_of(fd[0]);
	ok = swrite(fd[1], data, n) == (long)n;
	rows = rows_of(id);
	for (i = 0; ok && i < (int)(sizeof(sizes) / sizeof(sizes[0])); i++) {
		ok = sread(fd[0], got + at, sizes[i]) == (long)sizes[i];
		at += sizes[i];
		if (i == 1) {
			head = head_read_of(id);
			buf = buffered_of(fd[0]);
		}
	}
	ok = ok && sread_all(fd[0], got + at, n - at) == (long)(n - at);
	for (i = 0; i < (int)n && bad < 0; i++)
		if (got[i] != data[i])
			bad = i;
	snprintf(why, sizeof(why), "%ld rows; after 4 KiB read: head_read %ld, buffered %ld; first wrong byte %d",
		 rows, head, buf, bad);
	check(ok && rows == 4 && head == 4096 && buf == (long)n - 4096 && bad < 0,
	      "a 200 KiB write is 4 chunks; reads across them note head_read and get every byte once",
	      why);
	close2(fd);
}

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* ns per 1-byte read, SMALL_READS of them, after skipping `skip` bytes of a write of `size`. */
static long long small_reads(size_t size, size_t skip)
{
	static unsigned char data[MIB];
	long long t0, ns = -1;
	unsigned char b;
	int fd[2], i, ok;

	if (SETUP(sql_pipe(fd)) || SETUP(fcntl(fd[1], F_SETPIPE_SZ, MIB) < 0))
		return -1;
	ok = swrite(fd[1], data, size) == (long)size &&
	     (!skip || sread_all(fd[0], data, skip) == (long)skip);
	t0 = now_ns();
	for (i = 0; ok && i < SMALL_READS; i++)
		ok = sread(fd[0], &b, 1) == 1;
	if (ok)
		ns = (now_ns() - t0) / SMALL_READS;
	close2(fd);
	return ns;
}

/*
 * A 1-byte read of a big write costs about what it does of a small one: the reads from 62,000
 * bytes into a 1 MiB write (deep in its first 64 KiB chunk) against those of a 4 KiB write. Before
 * head_read, each read selected and rewrote the whole 1 MiB chunk.
 */
static void small_reads_cost(void)
{
	long long small = small_reads(4096, 0), big = small_reads(MIB, 62000);
	char why[128];

	snprintf(why, sizeof(why), "%lld ns a read of a 1 MiB write, %lld ns of a 4 KiB write", big,
		 small);
	printf("# small reads: %s\n", why);
	check(small > 0 && big > 0 && big <= 4 * small,
	      "1-byte reads of a 1 MiB write cost at most 4x those of a 4 KiB write", why);
}

void chunk_tests(void)
{
	one_byte_writes();
	long_write_chunks();
	small_reads_cost();
}

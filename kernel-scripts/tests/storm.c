// SPDX-License-Identifier: GPL-2.0-only
/*
 * A storm: 64 processes on 16 SQL pipes (3 writers and 1 reader each), writers sending records of
 * 1 byte .. PIPE_BUF (a header, then bytes that depend on writer, record number and place), while
 * writers are killed at random. The reader of each pipe parses its stream: every record must be
 * whole and in order (a write of at most PIPE_BUF bytes is never split or interleaved), every
 * record a writer saw written must arrive (at most one more, the one in flight when it was killed),
 * and when all are gone no row of the 16 pipes may be left. The guest checks run a short storm;
 * `sqliteos-tests --storm N` runs one of about N operations (reads and writes) on its own.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include "lib.h"

#define PIPES		16
#define WRITERS		3	/* per pipe */
#define MAGIC		0x5351	/* "SQ" */
#define HEADER		8
#define RECORD_MAX	4096	/* PIPE_BUF */

struct header {
	unsigned short magic, len;	/* len: the whole record */
	unsigned short writer, seq;
};

/* What the processes tell the parent, in shared memory. */
struct board {
	long written[PIPES * WRITERS];	/* records whose write returned, per writer */
	long got[PIPES * WRITERS];	/* records read, per writer */
	long bad[PIPES];		/* records broken, out of order or foreign, per reader */
	long reads[PIPES];
};

static unsigned char pattern(int w, int seq, int i)
{
	return (unsigned char)(w * 31 + seq * 7 + i);
}

static unsigned int rnd(unsigned int *s)
{
	*s = *s * 1103515245 + 12345;
	return *s >> 8;
}

static void writer(struct board *b, int fd, int w, long records)
{
	unsigned char rec[RECORD_MAX];
	struct header *h = (struct header *)rec;
	unsigned int s = w * 7919 + 1;
	long seq;
	int i;

	for (seq = 0; seq < records; seq++) {
		h->magic = MAGIC;
		h->len = HEADER + rnd(&s) % (RECORD_MAX - HEADER + 1);
		h->writer = w;
		h->seq = (unsigned short)seq;
		for (i = HEADER; i < h->len; i++)
			rec[i] = pattern(w, seq, i);
		if (swrite(fd, rec, h->len) != h->len)
			_exit(1);
		__atomic_store_n(&b->written[w], seq + 1, __ATOMIC_SEQ_CST);
	}
	_exit(0);
}

/* Parses the pipe's stream record by record, reading in odd-sized pieces. */
static void reader(struct board *b, int fd, int p)
{
	static unsigned char buf[4 * RECORD_MAX];
	long have = 0, n, seq;
	struct header h;
	int w, i;

	while ((n = sread(fd, buf + have, 1 + (have * 7 + 333) % (sizeof(buf) - have))) > 0) {
		b->reads[p]++;
		have += n;
		while (have >= HEADER) {
			memcpy(&h, buf, sizeof(h));
			w = h.writer - p * WRITERS;
			if (h.magic != MAGIC || h.len < HEADER || h.len > RECORD_MAX || w < 0 || w >= WRITERS) {
				b->bad[p]++;
				_exit(2);	/* the stream is lost from here */
			}
			if (have < h.len)
				break;
			seq = b->got[h.writer];
			for (i = HEADER; i < h.len && buf[i] == pattern(h.writer, seq, i); i++)
				;
			if (h.seq != (unsigned short)seq || i < h.len)
				b->bad[p]++;
			b->got[h.writer]++;
			memmove(buf, buf + h.len, have - h.len);
			have -= h.len;
		}
	}
	_exit(n < 0 || have ? 3 : 0);
}

/* In a child: closes every end but pipe p's end e, so EOF and EPIPE come when they should. */
static void keep_only(int fd[PIPES][2], int p, int e)
{
	int q;

	for (q = 0; q < PIPES; q++) {
		if (q != p || e != 0)
			close(fd[q][0]);
		if (q != p || e != 1)
			close(fd[q][1]);
	}
}

/*
 * Runs the storm: records per writer, kills (writers SIGKILLed at random while it runs). The number
 * of operations (writes and reads) it made; *why says what went wrong, if anything did.
 */
static long storm(long records, int kills, char *why, size_t len)
{
	struct board *b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t writers[PIPES * WRITERS], readers[PIPES];
	int fd[PIPES][2], p, w, status, killed = 0, stuck = 0;
	long ids[PIPES], ops = 0, bad = 0, lost = 0, rows;
	unsigned int s = 12345;

	*why = 0;
	if (b == MAP_FAILED)
		return snprintf(why, len, "no shared memory"), -1;
	memset(b, 0, sizeof(*b));
	for (p = 0; p < PIPES; p++) {
		if (sql_pipe(fd[p]))
			return snprintf(why, len, "sql_pipe: %s", strerror(errno)), -1;
		ids[p] = data_id_of(fd[p][0]);
	}
	for (p = 0; p < PIPES; p++) {
		readers[p] = fork();
		if (readers[p] == 0) {
			keep_only(fd, p, 0);
			reader(b, fd[p][0], p);
		}
		for (w = p * WRITERS; w < (p + 1) * WRITERS; w++) {
			writers[w] = fork();
			if (writers[w] == 0) {
				keep_only(fd, p, 1);
				writer(b, fd[p][1], w, records);
			}
		}
	}
	for (p = 0; p < PIPES; p++) {
		close(fd[p][0]);
		close(fd[p][1]);
	}
	for (; killed < kills; killed++) {
		usleep(10000 + rnd(&s) % 40000);
		kill(writers[rnd(&s) % (PIPES * WRITERS)], SIGKILL);
	}
	for (w = 0; w < PIPES * WRITERS; w++)
		waitpid(writers[w], &status, 0);
	for (p = 0; p < PIPES; p++) {
		if (!finished_within(readers[p], 60000, &status)) {
			kill(readers[p], SIGKILL);
			waitpid(readers[p], &status, 0);
			stuck++;
		} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			bad++;
		}
		bad += b->bad[p];
		ops += b->reads[p];
	}
	for (w = 0; w < PIPES * WRITERS; w++) {
		ops += b->written[w];
		lost += b->got[w] < b->written[w] || b->got[w] > b->written[w] + 1;
	}
	rows = 0;
	for (p = 0; p < PIPES; p++)
		rows += scalar("SELECT (SELECT count(*) FROM pipe_chunk WHERE dataId = %ld) + (SELECT count(*) "
			       "FROM pipe_data WHERE dataId = %ld) AS v", ids[p], ids[p]) +
			scalar("SELECT count(*) AS v FROM pid_pipe WHERE dataId = %ld", ids[p]);
	if (bad || lost || stuck || rows)
		snprintf(why, len, "%ld broken readers or records, %ld writers with records lost, "
			 "%d readers stuck, %ld rows left", bad, lost, stuck, rows);
	munmap(b, sizeof(*b));
	return ops;
}

void storm_tests(void)
{
	char why[256], what[160];
	long ops = storm(40, 8, why, sizeof(why));

	snprintf(what, sizeof(what), "a storm of 64 processes on 16 pipes, 8 writers killed: %ld "
		 "operations, records whole and in order, none lost, no row left", ops);
	check(ops > 0 && !*why, what, why);
}

/* sqliteos-tests --storm N [KILLS]: one storm of about N operations, with figures. */
int storm_main(long ops, int kills)
{
	struct timespec t0, t1;
	char why[256];
	long done, records = ops / (2 * PIPES * WRITERS) + 1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	done = storm(records, kills, why, sizeof(why));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("storm: %ld operations (%ld records per writer, %d writers killed) in %.1f s: %s\n",
	       done, records, kills, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       *why ? why : "every record whole and in order, none lost, no row left");
	return done > 0 && !*why ? 0 : 1;
}

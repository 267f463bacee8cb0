// SPDX-License-Identifier: GPL-2.0-only
/*
 * The commit window (sqliteos/window.c): pipe reads and writes share one transaction, committed
 * every sqliteos.commit_window operations and before anything else looks at the tables. Then, on
 * a kernel with fault injection (the checking kernel's fail_sqlite), SQLite's allocations and the
 * store's blocks fail every Nth time inside the window (a COMMIT among them): a write or read that
 * fails undoes only itself, and the window SQLite rolled back is replayed, so every byte written is
 * read once and in order.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "lib.h"

#define FAULTS	"/sys/kernel/debug/fail_sqlite"

static int fault(const char *name, long value)
{
	char path[96], v[24];

	snprintf(path, sizeof(path), FAULTS "/%s", name);
	snprintf(v, sizeof(v), "%ld", value);
	return write_file(path, v);
}

/* Only this process's allocations fail (task-filter). */
static void make_it_fail(int on)
{
	write_file("/proc/self/make-it-fail", on ? "1" : "0");
}

/* This process's SQLite allocations and store blocks fail every interval-th time from now on. */
static int fail_every(int interval)
{
	int ret = write_file(FAULTS "/task-filter", "Y") || fault("probability", 100) ||
		  fault("times", -1) || fault("verbose", 0) || fault("interval", interval);

	make_it_fail(!ret);
	return ret;
}

static void fail_off(void)
{
	make_it_fail(0);
	fault("probability", 0);
}

static unsigned char stream_byte(long i)
{
	return (unsigned char)(i * 131 + (i >> 9));
}

/* 8 writes and 8 reads of 100 bytes: the number of commits they made. */
static long commits_of_16(const int *fd)
{
	char buf[100] = "";
	long before = debugfs_value("counters", "window_commits");
	int i;

	for (i = 0; i < 8; i++)
		if (swrite(fd[1], buf, 100) != 100 || sread(fd[0], buf, 100) != 100)
			return -1;
	return debugfs_value("counters", "window_commits") - before;
}

static void batching(void)
{
	long window, each, rows, id;
	char why[160];
	int fd[2], ok;

	ok = !sql_pipe(fd);
	id = data_id_of(fd[0]);
	window = commits_of_16(fd);
	ok &= !set_param("commit_window", "1");
	each = commits_of_16(fd);
	ok &= !set_param("commit_window", "16");
	snprintf(why, sizeof(why), "%ld commits with the window, %ld with commit_window=1", window,
		 each);
	check(ok && window >= 1 && window <= 2 && each >= 16,
	      "16 pipe operations commit once (sqliteos.commit_window=16), 16 times with 1", why);
	ok &= swrite(fd[1], "abc", 3) == 3 && swrite(fd[1], "de", 2) == 2 &&
	      swrite(fd[1], "f", 1) == 1;
	rows = scalar("SELECT length(data) AS v FROM pipe_chunk WHERE dataId = %ld", id);
	snprintf(why, sizeof(why), "a chunk of %ld bytes", rows);
	check(ok && rows == 6, "549 right after 3 writes inside a window sees their bytes (one chunk)",
	      why);
	close2(fd);
}

/* One write of n stream bytes from *w, retried while it fails for memory; -1 on another error. */
static int write_stream(int fd, long *w, long n, long *nomem)
{
	static unsigned char buf[4096];
	long done = 0, got, i;
	int tries = 0;

	for (i = 0; i < n; i++)
		buf[i] = stream_byte(*w + i);
	while (done < n) {
		got = swrite(fd, buf + done, n - done);
		if (got > 0) {
			done += got;
		} else if (got < 0 && errno == ENOMEM) {
			(*nomem)++;
			if (++tries % 50 == 0) {	/* every allocation of a long replay can fail */
				make_it_fail(0);
				got = swrite(fd, buf + done, n - done);
				make_it_fail(1);
				done += got > 0 ? got : 0;
			}
		} else {
			return -1;
		}
	}
	*w += done;
	return 0;
}

/* One read of up to n bytes, checked against the stream from *r; -1 on a wrong byte or error. */
static int read_stream(int fd, long *r, long n, long *nomem, char *why, size_t len)
{
	static unsigned char buf[4096];
	long got, i;
	int tries = 0;

	while ((got = sread(fd, buf, n)) < 0 && errno == ENOMEM) {
		(*nomem)++;
		if (++tries % 50 == 0) {	/* as in write_stream */
			make_it_fail(0);
			got = sread(fd, buf, n);
			make_it_fail(1);
			if (got >= 0 || errno != ENOMEM)
				break;
		}
	}
	if (got <= 0) {
		snprintf(why, len, "read at byte %ld: %ld (%s)", *r, got, strerror(errno));
		return -1;
	}
	for (i = 0; i < got; i++) {
		if (buf[i] != stream_byte(*r + i)) {
			snprintf(why, len, "byte %ld is %d, not %d", *r + i, buf[i], stream_byte(*r + i));
			return -1;
		}
	}
	*r += got;
	return 0;
}

static void faults(void)
{
	long w = 0, r = 0, nomem = 0, replays, failed, id, rows;
	int fd[2], interval, k, ok;
	char why[256] = "";

	if (access(FAULTS, F_OK)) {
		printf("# no %s in this kernel: the checking kernel runs the commit window's fault checks\n",
		       FAULTS);
		return;
	}
	ok = !sql_pipe(fd);
	id = data_id_of(fd[0]);
	replays = debugfs_value("counters", "window_replays");
	failed = debugfs_value("counters", "window_replays_failed");
	srand(7);
	for (interval = 3; interval <= 48 && ok; interval++) {
		ok = !fail_every(interval);
		for (k = 0; k < 40 && ok; k++) {
			if (w - r < 40000 && rand() % 3) {
				ok = !write_stream(fd[1], &w, 1 + rand() % 2000, &nomem);
				if (!ok)
					snprintf(why, sizeof(why), "write at byte %ld: %s", w, strerror(errno));
			} else if (w > r) {
				ok = !read_stream(fd[0], &r, 1 + rand() % 3000, &nomem, why, sizeof(why));
			}
		}
		make_it_fail(0);
	}
	fail_off();
	while (ok && r < w)
		ok = !read_stream(fd[0], &r, 4096, &nomem, why, sizeof(why));
	replays = debugfs_value("counters", "window_replays") - replays;
	failed = debugfs_value("counters", "window_replays_failed") - failed;
	if (ok)
		snprintf(why, sizeof(why), "%ld bytes written, %ld read, %ld calls failed with ENOMEM, "
			 "%ld replays, %ld of them failed", w, r, nomem, replays, failed);
	printf("# commit window under failing allocations: %s\n", why);
	check(ok && r == w && nomem > 0 && replays > 0,
	      "SQLite's allocations failing every Nth time (N = 3..48): each failed write or read "
	      "undoes only itself, the window is replayed, every byte is read once and in order", why);
	close2(fd);
	rows = scalar("SELECT count(*) AS v FROM pipe_chunk WHERE dataId = %ld", id);
	snprintf(why, sizeof(why), "%ld rows", rows);
	check(rows == 0, "and the pipe's rows are gone once it is closed", why);
}

/*
 * A close whose bookkeeping cannot run for memory (every SQLite allocation of this process fails):
 * the job is kept and run later, so the pipe's rows go and its id is free again.
 */
static void kept_jobs(void)
{
	long id, again, chunks, ends;
	char why[160];
	int fd[2], ok;

	ok = !set_param("commit_window", "1") && !sql_pipe(fd) &&
	     swrite(fd[1], "0123456789", 10) == 10;
	id = data_id_of(fd[0]);
	ok &= !fail_every(1);
	close2(fd);
	fail_off();
	ok &= !sql_pipe(fd);	/* the kept jobs run before it takes an id */
	again = data_id_of(fd[0]);
	chunks = scalar("SELECT count(*) AS v FROM pipe_chunk WHERE dataId = %ld", id);
	ends = scalar("SELECT count(*) AS v FROM pid_pipe WHERE dataId = %ld", id);
	snprintf(why, sizeof(why), "dataId %ld, the next pipe's %ld; %ld chunks and %ld pid_pipe rows "
		 "of that id", id, again, chunks, ends);
	check(ok && again == id && chunks == 0 && ends == 2,
	      "a close whose bookkeeping fails for memory is kept and done later: the pipe's rows go "
	      "and its id is used again", why);
	close2(fd);
	set_param("commit_window", "16");
}

static unsigned char big_byte(long i)
{
	return (unsigned char)(i ^ (i >> 8) ^ (i >> 16) ^ (i >> 20));
}

/*
 * 2 MiB writes (two of the write's 1 MiB buffers, and one commit window's worth each) into a
 * 4 MiB pipe while this process's allocations fail every Nth time (N = 2, 10, .. 58: eight
 * writes, about 10 s each on the checking kernel under TCG); short writes are resumed, and a
 * reader whose allocations never fail checks every byte.
 */
#define BIG_WRITES	8
#define BIG		(2 << 20)

static int big_reader(int fd, long total, char *why, size_t len)
{
	static unsigned char buf[65536];
	long r = 0, got, i;

	while (r < total) {
		got = sread(fd, buf, sizeof(buf));
		if (got <= 0) {
			snprintf(why, len, "read at byte %ld: %ld (%s)", r, got, strerror(errno));
			return 1;
		}
		for (i = 0; i < got; i++) {
			if (buf[i] != big_byte((r + i) % BIG)) {
				snprintf(why, len, "byte %ld is %d, not %d", r + i, buf[i],
					 big_byte((r + i) % BIG));
				return 1;
			}
		}
		r += got;
	}
	snprintf(why, len, "%ld bytes read and checked", r);
	return 0;
}

static void big_writes(void)
{
	static unsigned char buf[BIG];
	long i, done, got, total = 0, nomem = 0;
	int fd[2], ok, interval, status = -1, tries;
	char why[200] = "", *shared;
	pid_t reader;

	for (i = 0; i < BIG; i++)
		buf[i] = big_byte(i);
	signal(SIGPIPE, SIG_IGN);	/* a reader that stops early is a failed check, not the end */
	ok = !sql_pipe(fd) && fcntl(fd[1], F_SETPIPE_SZ, 4 << 20) == 4 << 20;
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	reader = ok ? fork() : -1;
	if (reader == 0) {
		close(fd[1]);
		_exit(big_reader(fd[0], (long)BIG_WRITES * BIG, shared, 4096));
	}
	close(fd[0]);
	for (interval = 2; interval < 2 + 8 * BIG_WRITES && ok; interval += 8) {
		ok = !fail_every(interval);
		for (done = 0, tries = 0; done < BIG && ok;) {
			got = swrite(fd[1], buf + done, BIG - done);
			if (got < 0 && errno == ENOMEM && ++tries % 50 == 0) {
				nomem++;
				make_it_fail(0);	/* as in write_stream */
				got = swrite(fd[1], buf + done, BIG - done);
				make_it_fail(1);
			}
			if (got > 0) {
				done += got;
			} else if (errno == ENOMEM) {
				nomem++;
			} else {
				ok = 0;
				snprintf(why, sizeof(why), "write at byte %ld: %s", total + done,
					 strerror(errno));
			}
		}
		fail_off();
		total += done;
	}
	close(fd[1]);
	signal(SIGPIPE, SIG_DFL);
	if (reader > 0)
		waitpid(reader, &status, 0);
	snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s%ld bytes written, %ld calls "
		 "failed with ENOMEM; the reader: %s", *why ? "; " : "", total, nomem,
		 shared == MAP_FAILED ? "?" : shared);
	printf("# 2 MiB writes under failing allocations: %s\n", why);
	check(ok && total == (long)BIG_WRITES * BIG && nomem > 0 && WIFEXITED(status) &&
	      !WEXITSTATUS(status),
	      "2 MiB writes into a 4 MiB pipe while allocations fail every Nth time (N = 2, 10, .. 58): "
	      "every byte the writer was told is written is read once and in order", why);
}

void window_tests(void)
{
	batching();
	faults();
	if (fault_injection()) {
		kept_jobs();
		big_writes();
	}
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * SQL pipes: the rows they keep, their companion semantics (byte counts, EOF, EPIPE + SIGPIPE,
 * capacity, real files), and the scenarios of the paper and of the published tree's test programs.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include "lib.h"

static const char *rows_of = "SELECT count(*) AS v FROM pid_pipe WHERE dataId = %ld";
static const char *data_row = "SELECT count(*) AS v FROM pipe_data WHERE dataId = %ld";
static const char *chunk_rows = "SELECT count(*) AS v FROM pipe_chunk WHERE dataId = %ld";

static volatile sig_atomic_t sigpipes;

/* The dataId /proc/self/fdinfo/FD gives for an end, if it also says it is that end; else -1. */
static long fdinfo_pipe(int fd, const char *end)
{
	char path[64], line[128], want[32];
	long id = -1, got = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	snprintf(want, sizeof(want), "sqliteos-end:\t%s\n", end);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "sqliteos-pipe:\t%ld", &got);
		if (!strcmp(line, want))
			id = 0;
	}
	fclose(f);
	return id == 0 ? got : -1;
}

static void on_sigpipe(int sig)
{
	sigpipes++;
}

static void basics(void)
{
	char buf[64];
	int fd[2];
	long id;

	if (sql_pipe(fd)) {
		check(0, "sql_pipe (552) gives two fds", strerror(errno));
		return;
	}
	check(fd[0] >= 0 && fd[1] > fd[0], "sql_pipe (552) gives two fds", "bad fds");
	id = data_id_of(fd[0]);
	check(id > 0 && data_id_of(fd[1]) == id && scalar(rows_of, id) == 2,
	      "pid_pipe has (this process, fd, dataId) for both ends", "rows missing");
	check(fdinfo_pipe(fd[0], "read") == id && fdinfo_pipe(fd[1], "write") == id,
	      "/proc/self/fdinfo names each end's dataId and end", "no or wrong sqliteos-pipe line");
	check(scalar("SELECT read_wq AS v FROM pipe_data WHERE dataId = %ld", id) > 0 &&
	      scalar("SELECT write_wq - read_wq AS v FROM pipe_data WHERE dataId = %ld", id) == 1 &&
	      scalar("SELECT read_wq AS v FROM pipe_data WHERE dataId = %ld", id) < 1L << 32,
	      "pipe_data holds small queue ids, no kernel address", "odd read_wq / write_wq");
	CHECK(swrite(fd[1], "hello", 5) == 5, "sql_pipe_write (551) returns the byte count");
	check(buffered_of(fd[0]) == 5 && scalar(chunk_rows, id) == 1,
	      "the bytes wait in pipe_chunk, in one row", "no chunk row");
	CHECK(swrite(fd[1], " world", 6) == 6 && sread(fd[0], buf, 3) == 3 && !memcmp(buf, "hel", 3),
	      "sql_pipe_read (550) takes the oldest bytes first");
	CHECK(sread(fd[0], buf, sizeof(buf)) == 8 && !memcmp(buf, "lo world", 8),
	      "a small write joins the unread chunk, and a read goes on where the last stopped");
	check(scalar(chunk_rows, id) == 0, "read chunks are deleted", "chunk rows left");
	CHECK(write(fd[1], "abc", 3) == 3 && read(fd[0], buf, 10) == 3 && !memcmp(buf, "abc", 3),
	      "read(2) and write(2) work on the same fds");
	CHECK(sread(fd[1], buf, 1) == -1 && errno == EBADF, "550 on the write end gives EBADF");
	CHECK(swrite(fd[0], buf, 1) == -1 && errno == EBADF, "551 on the read end gives EBADF");
	CHECK(sread(fd[0], buf, 0) == 0 && swrite(fd[1], buf, 0) == 0, "zero-length calls return 0");
	close(fd[1]);
	CHECK(sread(fd[0], buf, 1) == 0, "read returns 0 (EOF) once the write end is closed");
	check(scalar(rows_of, id) == 1, "close deletes the closed fd's pid_pipe row", "row kept");
	close(fd[0]);
	check(scalar(rows_of, id) == 0 && scalar(data_row, id) == 0,
	      "closing the last end deletes the pipe's rows", "rows kept");
}

static void epipe(void)
{
	struct sigaction sa = { .sa_handler = on_sigpipe };
	int fd[2];

	sigaction(SIGPIPE, &sa, NULL);
	if (SETUP(sql_pipe(fd)))
		return;
	close(fd[0]);
	sigpipes = 0;
	CHECK(swrite(fd[1], "x", 1) == -1 && errno == EPIPE && sigpipes == 1,
	      "write with no read end gives EPIPE and SIGPIPE");
	close(fd[1]);
	signal(SIGPIPE, SIG_DFL);
}

static void capacity(void)
{
	size_t n = 3 * CAPACITY + 100, i;
	char *out = malloc(n), *in = malloc(n);
	int fd[2], status, ok;
	pid_t pid;

	if (SETUP(sql_pipe(fd)))
		return;
	for (i = 0; i < n; i++)
		out[i] = i * 7 + i / 251;
	pid = fork();
	if (pid == 0)
		_exit(swrite(fd[1], out, n) == (long)n ? 0 : 1);
	close(fd[1]);
	ok = !finished_within(pid, 300, &status);
	check(ok && buffered_of(fd[0]) == CAPACITY,
	      "a writer blocks once the pipe holds its capacity (64 KiB)", "not blocked at 64 KiB");
	check(sread_all(fd[0], in, n) == (long)n && !memcmp(in, out, n),
	      "the blocked writer goes on as the reader drains, every byte in order", "bytes lost");
	check(finished_within(pid, 2000, &status) && WIFEXITED(status) && !WEXITSTATUS(status),
	      "the write returns its whole byte count", "short write");
	close(fd[0]);
	free(out);
	free(in);
}

static void dup_and_fork_rows(void)
{
	char buf[8];
	int fd[2], d, status;
	long id;
	pid_t pid;

	if (SETUP(sql_pipe(fd)))
		return;
	id = data_id_of(fd[0]);
	d = dup(fd[0]);
	CHECK(d >= 0 && swrite(fd[1], "dup", 3) == 3 && sread(d, buf, 8) == 3,
	      "a dup of the read end reads the pipe");
	close(fd[0]);
	check(scalar(rows_of, id) == 1 && swrite(fd[1], "x", 1) == 1 && sread(d, buf, 8) == 1,
	      "closing the original fd drops its row; the dup still reads", "dup broken");
	pid = fork();
	if (pid == 0) {
		char c;

		_exit(sread(d, &c, 1) == 1 && c == 'k' ? 0 : 1);
	}
	check(scalar("SELECT count(*) AS v FROM pid_pipe WHERE pid = %d AND dataId = %ld", pid, id) == 1,
	      "fork copies the parent's pid_pipe rows to the child", "no copied row");
	swrite(fd[1], "k", 1);
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && !WEXITSTATUS(status) &&
	      scalar("SELECT count(*) AS v FROM pid_pipe WHERE pid = %d", pid) == 0,
	      "the child reads through its copy, and its rows go at exit", "child rows");
	close(d);
	close(fd[1]);
	check(scalar(rows_of, id) == 0 && scalar(data_row, id) == 0, "no rows left", "rows left");
}

static void exit_cleanup(void)
{
	int fd[2], status;
	long before = scalar("SELECT count(*) AS v FROM pipe_data");
	pid_t pid = fork();

	if (pid == 0) {
		if (sql_pipe(fd) || swrite(fd[1], "left behind", 11) != 11)
			_exit(1);
		_exit(0);	/* exits holding both ends and unread bytes */
	}
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && !WEXITSTATUS(status) &&
	      scalar("SELECT count(*) AS v FROM pipe_data") == before &&
	      scalar("SELECT count(*) AS v FROM pid_pipe WHERE pid = %d", pid) == 0,
	      "a process that exits with an open pipe leaves no rows", "rows left");
}

void pipe_tests(void)
{
	basics();
	epipe();
	capacity();
	dup_and_fork_rows();
	exit_cleanup();
}

/* ---- the paper's examples and the published tree's test programs ---- */

struct reader {
	int fd;
	size_t want;
	long got;
	char buf[32];
};

static void *read_some(void *arg)
{
	struct reader *r = arg;

	r->got = sread_all(r->fd, r->buf, r->want);
	return NULL;
}

/* Published: threads of one process reading 4, 4 and 9 bytes that one writer wrote. */
static void threads_4_4_9(void)
{
	struct reader r[3] = { { .want = 4 }, { .want = 4 }, { .want = 9 } };
	const char *msg = "0123456789abcdefg";
	pthread_t t[3];
	int fd[2], i, seen[256] = { 0 }, ok = 1;

	if (SETUP(sql_pipe(fd)))
		return;
	for (i = 0; i < 3; i++) {
		r[i].fd = fd[0];
		pthread_create(&t[i], NULL, read_some, &r[i]);
	}
	usleep(100 * 1000);
	swrite(fd[1], msg, 17);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 3; i++) {
		int j;

		ok &= r[i].got == (long)r[i].want;
		for (j = 0; j < r[i].got; j++)
			seen[(unsigned char)r[i].buf[j]]++;
	}
	for (i = 0; i < 17; i++)
		ok &= seen[(unsigned char)msg[i]] == 1;
	check(ok, "three threads read 4, 4 and 9 of one 17-byte write, each byte once", "bytes wrong");
	close(fd[0]);
	close(fd[1]);
}

/* Published: two reader processes, one 8-byte write; the other reader sees EOF. */
static void two_readers(void)
{
	int fd[2], i, status, got[2] = { -1, -1 };
	pid_t pid[2];

	if (SETUP(sql_pipe(fd)))
		return;
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			char buf[8];

			close(fd[1]);
			_exit(sread_all(fd[0], buf, 8));
		}
	}
	close(fd[0]);
	usleep(100 * 1000);
	swrite(fd[1], "8 bytes!", 8);
	usleep(100 * 1000);
	close(fd[1]);
	for (i = 0; i < 2; i++) {
		waitpid(pid[i], &status, 0);
		got[i] = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	}
	check(got[0] + got[1] == 8 && (got[0] == 0 || got[1] == 0),
	      "two readers of one 8-byte write: one gets all 8, the other EOF", "split wrong");
}

/* Published: fork with a grandchild writing to the pipe its grandparent made. */
static void grandchild(void)
{
	char buf[16] = "";
	int fd[2], status;
	pid_t pid;

	if (SETUP(sql_pipe(fd)))
		return;
	pid = fork();
	if (pid == 0) {
		pid_t g = fork();

		if (g == 0)
			_exit(swrite(fd[1], "from grandchild", 15) == 15 ? 0 : 1);
		waitpid(g, &status, 0);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
	}
	close(fd[1]);
	CHECK(sread_all(fd[0], buf, 15) == 15 && !memcmp(buf, "from grandchild", 15),
	      "a grandchild writes to its grandparent's pipe");
	waitpid(pid, &status, 0);
	CHECK(sread(fd[0], buf, 1) == 0, "EOF once the grandchild and child are gone");
	close(fd[0]);
}

/* The paper's example: fork, the parent writes, the child reads. */
static void paper_fork(void)
{
	int fd[2], status;
	pid_t pid;

	if (SETUP(sql_pipe(fd)))
		return;
	pid = fork();
	if (pid == 0) {
		char buf[32];

		close(fd[1]);
		_exit(sread_all(fd[0], buf, 11) == 11 && !memcmp(buf, "hello child", 11) ? 0 : 1);
	}
	close(fd[0]);
	swrite(fd[1], "hello child", 11);
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && !WEXITSTATUS(status), "the paper's fork + pipe example", "child read");
	close(fd[1]);
}

void paper_tests(void)
{
	paper_fork();
	threads_4_4_9();
	two_readers();
	grandchild();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * sqliteos-demo: gives a SQLiteOS kernel something to show. It makes SQL pipes and keeps them open:
 * one holds "hello, SQLiteOS\n" (and a second write with a NUL and 0xff), one is empty with a reader
 * asleep on its read_wq (a child process), and a child that shares the fd table (CLONE_FILES) holds
 * them too. Then it waits: for SECONDS (the first argument, default for ever), or until killed; its
 * children go with it. The views, the parser tests and the guest all use it.
 *
 * With --pending, a child also opens a read transaction (553(4), so it holds SHARED) and another
 * child writes to the first pipe: that writer takes the global write mutex, asks for EXCLUSIVE, gets
 * PENDING and sleeps on the store's write_q behind the reader (the paper's algorithm 3 in action).
 *
 * With --holders N, N more processes each make an SQL pipe, write a byte into it and wait (the
 * benchmarks' crowded kernel).
 *
 * Usage: sqliteos-demo [SECONDS] [--pending | --holders N]. Prints "sqliteos-demo: ready <pid>" once
 * everything is in place.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "sqliteos-nr.h"

#define TXN_READ		4

static long sql_pipe(int *fd)
{
	return syscall(NR_SQL_PIPE, fd);
}

static int sharer(void *arg)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	pause();
	return 0;
}

static char stack[16384];

/* n processes, each holding an SQL pipe with a byte in it, until the demo ends. */
static void holders(int n)
{
	int i, fd[2];

	for (i = 0; i < n; i++) {
		if (fork() == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (sql_pipe(fd) == 0)
				syscall(NR_SQL_PIPE_WRITE, fd[1], "x", 1);
			pause();
			_exit(0);
		}
	}
}

/* A child that holds SHARED in a read transaction, then one whose write waits in PENDING behind it. */
static void pending_writer(int wfd)
{
	if (fork() == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (syscall(NR_SQL_BEGIN, TXN_READ) < 0)
			perror("sqliteos-demo: sql_start_transaction");
		pause();
		_exit(0);
	}
	usleep(200000);
	if (fork() == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		syscall(NR_SQL_PIPE_WRITE, wfd, "late", 4);
		_exit(0);
	}
}

int main(int argc, char **argv)
{
	static const char bin[] = { 'b', 'i', 'n', 0, (char)0xff };
	int full[2], empty[2];
	char buf[16];
	pid_t reader;

	if (sql_pipe(full) < 0 || sql_pipe(empty) < 0) {
		perror("sqliteos-demo: sql_pipe");
		return 1;
	}
	if (syscall(NR_SQL_PIPE_WRITE, full[1], "hello, SQLiteOS\n", 16) < 0 ||
	    syscall(NR_SQL_PIPE_WRITE, full[1], bin, sizeof(bin)) < 0) {
		perror("sqliteos-demo: sql_pipe_write");
		return 1;
	}
	reader = fork();
	if (reader == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		syscall(NR_SQL_PIPE_READ, empty[0], buf, sizeof(buf));
		_exit(0);
	}
	if (clone(sharer, stack + sizeof(stack), CLONE_FILES | SIGCHLD, NULL) < 0) {
		perror("sqliteos-demo: clone");
		return 1;
	}
	if (argc > 2 && !strcmp(argv[2], "--pending"))
		pending_writer(full[1]);
	if (argc > 3 && !strcmp(argv[2], "--holders"))
		holders(atoi(argv[3]));
	usleep(200000);		/* the reader is asleep on read_wq by then */
	printf("sqliteos-demo: ready %d\n", getpid());
	fflush(stdout);
	if (argc > 1 && atoi(argv[1]) > 0)
		sleep(atoi(argv[1]));
	else
		for (;;)
			pause();
	kill(0, SIGTERM);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * fork_bystander [--stock] [--fds N] [--seconds S]: what one user's pipes cost another's forks (issue
 * 27 item 7). A holder process opens N/2 pipes (N fds: SQL pipes, or pipe(2) with --stock) and forks
 * and reaps children as fast as it can; meanwhile this process, which holds no pipe, forks and reaps
 * for S seconds (2) and prints its forks per second, the holder's, and its own alone first (the
 * baseline of the same boot). Each SQL fork copies the forker's pid_pipe rows under the mutex every
 * fork and exit takes; a stock fork copies an fd table.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../tools/sqliteos-nr.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Forks and reaps a child that exits at once, for `seconds`: forks per second. */
static double forks_for(double seconds)
{
	double t0 = now(), t;
	long n = 0;
	pid_t c;

	do {
		c = fork();
		if (c == 0)
			_exit(0);
		if (c < 0 || waitpid(c, NULL, 0) != c)
			return -1;
		n++;
		t = now();
	} while (t - t0 < seconds);
	return n / (t - t0);
}

int main(int argc, char **argv)
{
	int stock = 0, fds = 4096, i, report[2];
	double seconds = 2, alone, with, holder = -1;
	struct rlimit nofile = { 65536, 65536 };
	pid_t h;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--stock"))
			stock = 1;
		else if (!strcmp(argv[i], "--fds") && i + 1 < argc)
			fds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else {
			fprintf(stderr, "usage: fork_bystander [--stock] [--fds N] [--seconds S]\n");
			return 2;
		}
	}
	setrlimit(RLIMIT_NOFILE, &nofile);
	alone = forks_for(seconds);
	if (pipe(report))
		return 1;
	h = fork();
	if (h == 0) {
		int p[2];
		double r;

		for (i = 0; i < fds / 2; i++)
			if (stock ? pipe(p) : syscall(NR_SQL_PIPE, p)) {
				fprintf(stderr, "fork_bystander: pipe %d of %d failed\n", i, fds / 2);
				_exit(1);
			}
		if (write(report[1], "r", 1) != 1)
			_exit(1);
		r = forks_for(seconds * 1.5);
		if (write(report[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
		_exit(0);
	}
	if (read(report[0], &with, 1) != 1)
		return 1;
	with = forks_for(seconds);
	if (read(report[0], &holder, sizeof(holder)) != sizeof(holder))
		holder = -1;
	waitpid(h, NULL, 0);
	printf("fork bystander: %s pipes, holder with %d fds: bystander %.0f forks/s alone, %.0f beside the holder (%.3f); holder %.0f forks/s\n",
	       stock ? "stock" : "SQL", fds, alone, with, with / alone, holder);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Many writers and readers on one sql pipe: every byte written is read exactly once. Each writer
 * sends records of its own byte pattern; the readers count the bytes and their sum per value, and
 * the totals must match what was written.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include "lib.h"

#define WRITERS	4
#define READERS	4
#define RECORDS	200
#define RECORD	700	/* not a divisor of anything: reads split records */

struct tally {
	long bytes;
	long count[WRITERS];
};

void stress_tests(void)
{
	struct tally total = { 0 }, t;
	int fd[2], report[2], i, w, ok = 1, status;
	pid_t pid[WRITERS + READERS];

	if (SETUP(sql_pipe(fd) || pipe(report)))
		return;
	for (i = 0; i < READERS; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			unsigned char buf[1500];
			long n, j;

			close(fd[1]);
			memset(&t, 0, sizeof(t));
			while ((n = sread(fd[0], buf, sizeof(buf) - 97 * i)) > 0) {
				t.bytes += n;
				for (j = 0; j < n; j++)
					if (buf[j] >= 'A' && buf[j] < 'A' + WRITERS)
						t.count[buf[j] - 'A']++;
			}
			write(report[1], &t, sizeof(t));
			_exit(n == 0 ? 0 : 1);
		}
	}
	for (w = 0; w < WRITERS; w++) {
		pid[READERS + w] = fork();
		if (pid[READERS + w] == 0) {
			char rec[RECORD];

			close(fd[0]);
			memset(rec, 'A' + w, sizeof(rec));
			for (i = 0; i < RECORDS; i++)
				if (swrite(fd[1], rec, sizeof(rec)) != sizeof(rec))
					_exit(1);
			_exit(0);
		}
	}
	close(fd[0]);
	close(fd[1]);
	for (i = 0; i < WRITERS + READERS; i++) {
		waitpid(pid[i], &status, 0);
		ok &= WIFEXITED(status) && !WEXITSTATUS(status);
	}
	for (i = 0; i < READERS; i++) {
		if (read(report[0], &t, sizeof(t)) != sizeof(t))
			ok = 0;
		total.bytes += t.bytes;
		for (w = 0; w < WRITERS; w++)
			total.count[w] += t.count[w];
	}
	for (w = 0; w < WRITERS; w++)
		ok &= total.count[w] == RECORDS * RECORD;
	check(ok && total.bytes == (long)WRITERS * RECORDS * RECORD,
	      "4 writers x 200 writes of 700 bytes, 4 readers: every byte read exactly once",
	      "bytes lost or doubled");
	close(report[0]);
	close(report[1]);
}

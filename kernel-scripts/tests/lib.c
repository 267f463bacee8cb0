// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest tests' shared helpers. Each check prints "ok N - what" or "not ok N - what (why)"; main
 * prints "P passed, F failed" last.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/klog.h>
#include <sys/wait.h>
#include <time.h>
#include "lib.h"

int passed, failed;

void check(int ok, const char *what, const char *why)
{
	if (ok) {
		passed++;
		printf("ok %d - %s\n", passed + failed, what);
	} else {
		failed++;
		printf("not ok %d - %s (%s)\n", passed + failed, what, why);
	}
	fflush(stdout);
}

int setup_failed(int failed_, const char *step, const char *func)
{
	char what[160];

	if (!failed_)
		return 0;
	snprintf(what, sizeof(what), "%s: set-up failed: %s", func, step);
	check(0, what, strerror(errno));
	return 1;
}

int fault_injection(void)
{
	return !access("/sys/kernel/debug/fail_sqlite", F_OK);
}

static int planned(const struct test_group *g)
{
	return g->checks + (fault_injection() ? g->more_with_faults : 0);
}

int plan_of(const struct test_group *g, int n)
{
	int i, total = 0;

	for (i = 0; i < n; i++)
		total += planned(&g[i]);
	return total;
}

/* Runs a group; one that ran more or fewer checks than it planned is a failed check of its own. */
void run_group(const struct test_group *g)
{
	int before = passed + failed, ran, want = planned(g);
	char what[96], why[96];
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	g->run();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ran = passed + failed - before;
	printf("# %s: %d checks in %.1f s\n", g->name, ran,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (ran == want)
		return;
	snprintf(what, sizeof(what), "%s: every planned check ran", g->name);
	snprintf(why, sizeof(why), "%d planned, %d ran", want, ran);
	check(0, what, why);
}

static char klog[1 << 17];

/*
 * The kernel log written since the last call (549 logs its rows there in the published format): the
 * newest records that fit, read and cleared at once, so a flood of records (a 549 cut short after
 * a megabyte of rows) cannot shift what a later call returns.
 */
const char *klog_new(void)
{
	int n = klogctl(4, klog, sizeof(klog) - 1);	/* SYSLOG_ACTION_READ_CLEAR */

	klog[n < 0 ? 0 : n] = 0;
	return klog;
}

/* Closes both ends of a pipe. */
void close2(const int *fd)
{
	close(fd[0]);
	close(fd[1]);
}

/* Writes value to the file at path (sysfs, debugfs, proc): 0, or -1 with errno set. */
int write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY), ret;

	if (fd < 0)
		return -1;
	ret = write(fd, value, strlen(value)) < 0 ? -1 : 0;
	close(fd);
	return ret;
}

/* Writes a module parameter (/sys/module/sqliteos/parameters/NAME): 0, or -1 with errno set. */
int set_param(const char *name, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/sqliteos/parameters/%s", name);
	return write_file(path, value);
}

/* The number after "key\t" in /sys/kernel/debug/sqliteos/FILE, or -1. */
long debugfs_value(const char *file, const char *key)
{
	char path[128], line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/sqliteos/%s", file);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, n) && line[n] == '\t') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	}
	if (f)
		fclose(f);
	return v;
}

long query(const char *sql)
{
	return syscall(NR_KSQLITE_QUERY, sql, strlen(sql));
}

/* One integer through 549: the query names its column v; the value is read back from the log. */
long scalar(const char *fmt, ...)
{
	const char *log, *at;
	char sql[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	klog_new();
	if (query(sql))
		return -1000 - errno;
	log = klog_new();
	at = strstr(log, "v = ");
	if (!at)
		return -2000;
	if (!strncmp(at + 4, "NULL", 4))
		return -3000;
	return strtol(at + 4, NULL, 10);
}

/* Runs fn as user nobody in a child; the errno it reports (0 if the call succeeded). */
int run_as_nobody(long (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (setuid(65534))
			_exit(200);
		_exit(fn() == -1 ? errno : 0);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

long sread_all(int fd, void *buf, size_t n)
{
	size_t got = 0;
	long r;

	while (got < n) {
		r = sread(fd, (char *)buf + got, n - got);
		if (r <= 0)
			return got ? (long)got : r;
		got += r;
	}
	return got;
}

int finished_within(pid_t pid, int ms, int *status)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int i;

	for (i = 0; i <= ms / 10; i++) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 1;
		nanosleep(&tick, NULL);
	}
	return 0;
}

long data_id_of(int fd)
{
	return scalar("SELECT dataId AS v FROM pid_pipe WHERE pid = %d AND fd = %d", getpid(), fd);
}

long buffered_of(int fd)
{
	long id = data_id_of(fd);

	return scalar("SELECT coalesce(sum(length(data)), 0) - (SELECT head_read FROM pipe_data"
		      " WHERE dataId = %ld) AS v FROM pipe_chunk WHERE dataId = %ld", id, id);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest tests, run by /init in the QEMU guest. Each check prints "ok N - what" or
 * "not ok N - what (why)"; the last line is "P passed, F failed".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NR_HELLO_WORLD		548
#define NR_KSQLITE_QUERY	549
#define NR_SQL_PIPE		552

static int passed, failed;

static void check(int ok, const char *what, const char *why)
{
	if (ok) {
		passed++;
		printf("ok %d - %s\n", passed + failed, what);
	} else {
		failed++;
		printf("not ok %d - %s (%s)\n", passed + failed, what, why);
	}
}

/* Evaluates the condition before reading errno, so a failure names the call's own error. */
#define CHECK(cond, what) do {				\
		int ok_;				\
		errno = 0;				\
		ok_ = (cond);				\
		check(ok_, what, strerror(errno));	\
	} while (0)

static char klog[1 << 17];

/* The kernel log written since the last call: 549 logs its rows there in the published format. */
static const char *klog_new(void)
{
	static int seen;
	int n = klogctl(3, klog, sizeof(klog) - 1);	/* SYSLOG_ACTION_READ_ALL */
	const char *from;

	if (n < 0)
		return "";
	klog[n] = 0;
	from = klog + (seen <= n ? seen : 0);
	seen = n;
	return from;
}

static long query(const char *sql)
{
	return syscall(NR_KSQLITE_QUERY, sql, strlen(sql));
}

/* 549 as an unprivileged user: fork, drop to nobody, report the errno through the exit status. */
static int query_as_nobody(const char *sql)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (setuid(65534))
			_exit(200);
		_exit(query(sql) == -1 ? errno : 0);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void nested(char *out, const char *open, int depth)
{
	int i;

	strcpy(out, "SELECT ");
	for (i = 0; i < depth; i++)
		strcat(out, open);
	strcat(out, "1");
	for (i = 0; i < depth; i++)
		strcat(out, ")");
}

static void hello_tests(void)
{
	char buf[16];

	memset(buf, 'x', sizeof(buf));
	CHECK(syscall(NR_HELLO_WORLD, buf, 8UL) == 0 && !memcmp(buf, "HELLOWO", 8),
	      "hello_world (548) copies \"HELLOWO\\0\"");
	CHECK(syscall(NR_HELLO_WORLD, buf, 4UL) == -1 && errno == EPERM,
	      "hello_world refuses a buffer shorter than 8 bytes");
	CHECK(syscall(NR_HELLO_WORLD, (char *)8, 8UL) == -1 && errno == EFAULT,
	      "hello_world with a bad pointer gives EFAULT");
	CHECK(syscall(NR_SQL_PIPE, buf) == -1 && errno == ENOSYS,
	      "sql_pipe (552) is wired but not implemented yet");
	CHECK(syscall(558, 0) == -1 && errno == ENOSYS, "558 is past the SQLiteOS range");
}

static void query_tests(void)
{
	char deep[1024];
	const char *log;
	char *huge;

	klog_new();
	CHECK(query("SELECT count(*) AS n FROM pid_store WHERE pid = 1") == 0 &&
	      strstr(klog_new(), "n = 1"),
	      "ksqlite_query (549) logs rows in the published format");
	CHECK(query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") == 0 &&
	      (log = klog_new(), strstr(log, "name = pid_pipe") && strstr(log, "name = pipe_data")),
	      "the tables exist at boot");
	CHECK(query("DELETE FROM pid_store") == -1 && errno == EPERM,
	      "549 refuses a statement that writes");
	CHECK(query("SELEC 1") == -1 && errno == EINVAL && strstr(klog_new(), "SQL Error"),
	      "549 reports bad SQL as SQL Error and EINVAL");
	CHECK(query("SELECT 1; DELETE FROM pid_store") == -1 && errno == EPERM,
	      "549 refuses a second statement");
	CHECK(query("SELECT 1;  \n") == 0, "549 takes one statement with trailing blanks");
	check(query_as_nobody("SELECT 1") == EPERM, "549 is for CAP_SYS_ADMIN only", "not EPERM");
	CHECK(syscall(NR_KSQLITE_QUERY, (char *)8, 10UL) == -1 && errno == EFAULT,
	      "549 with a bad pointer gives EFAULT");
	huge = malloc(1 << 20);
	memset(huge, ' ', 1 << 20);
	CHECK(syscall(NR_KSQLITE_QUERY, huge, 1UL << 20) == -1 && errno == EINVAL,
	      "549 refuses a 1 MiB statement");
	free(huge);
	nested(deep, "1+(", 100);
	CHECK(query(deep) == -1 && errno == EINVAL,
	      "549 refuses an expression tree 100 deep (SQLITE_MAX_EXPR_DEPTH, no stack overflow)");
	nested(deep, "(", 100);
	CHECK(query(deep) == 0, "549 takes 100 nested parentheses (they add no depth)");
	CHECK(query("SELECT count(*) AS n FROM pid_store WHERE pid = 1") == 0 &&
	      strstr(klog_new(), "n = 1"),
	      "549 still answers after the bad inputs");
}

/* One integer through 549: the query names its column v; the value is read back from the log. */
static long scalar(const char *fmt, long arg)
{
	char sql[256];
	const char *log, *at;

	snprintf(sql, sizeof(sql), fmt, arg);
	klog_new();
	if (query(sql))
		return -1000;
	log = klog_new();
	at = strstr(log, "v = ");
	if (!at)
		return -2000;
	if (!strncmp(at + 4, "NULL", 4))
		return -3000;
	return strtol(at + 4, NULL, 10);
}

static int wait_on(int fd)
{
	char c;

	return read(fd, &c, 1) < 0;
}

static int sharer(void *arg)
{
	_exit(wait_on(*(int *)arg));
}

static void task_tests(void)
{
	static char stack[64 * 1024];
	const char *count = "SELECT count(*) AS v FROM pid_store WHERE pid = %ld";
	const char *handler = "SELECT parent_id AS v FROM pid_store WHERE pid = %ld";
	long me = getpid();
	int gate[2], status;
	pid_t child;

	check(scalar(handler, me) == me, "pid_store has this process, its own handler", "no row");
	if (pipe(gate))
		return;
	child = fork();
	if (child == 0) {
		close(gate[1]);
		_exit(wait_on(gate[0]));
	}
	check(scalar(handler, child) == child, "fork inserts (child, child) into pid_store",
	      "no row");
	close(gate[1]);
	waitpid(child, &status, 0);
	check(scalar(count, child) == 0, "exit deletes the row", "row left behind");
	if (pipe(gate))
		return;
	child = clone(sharer, stack + sizeof(stack), CLONE_FILES | SIGCHLD, &gate[0]);
	check(child > 0 && scalar(handler, child) == me,
	      "clone(CLONE_FILES) inserts (child, the parent's handler)", "wrong handler");
	close(gate[1]);
	waitpid(child, &status, 0);
	check(scalar(count, child) == 0, "the clone's row goes when it exits", "row left behind");
}

int main(void)
{
	printf("\n");	/* the firmware leaves the console mid-line */
	hello_tests();
	query_tests();
	task_tests();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}

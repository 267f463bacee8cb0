// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest tests, run by /init in the QEMU guest. Each check prints "ok N - what" or
 * "not ok N - what (why)"; the last line is "P passed, F failed".
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include "lib.h"

extern int passed, failed;

static long select_one(void)
{
	return query("SELECT 1");
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

void hello_tests(void)
{
	char buf[16];

	memset(buf, 'x', sizeof(buf));
	CHECK(syscall(NR_HELLO_WORLD, buf, 8UL) == 0 && !memcmp(buf, "HELLOWO", 8),
	      "hello_world (548) copies \"HELLOWO\\0\"");
	CHECK(syscall(NR_HELLO_WORLD, buf, 4UL) == -1 && errno == EPERM,
	      "hello_world refuses a buffer shorter than 8 bytes");
	CHECK(syscall(NR_HELLO_WORLD, (char *)8, 8UL) == -1 && errno == EFAULT,
	      "hello_world with a bad pointer gives EFAULT");
	CHECK(syscall(559, 0) == -1 && errno == ENOSYS, "559 is past the SQLiteOS range");
}

#define ENDLESS "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"

static long endless(void)
{
	return query(ENDLESS);
}

/* 549's bounds: it holds the lock fork and exit wait for, so it cannot run or log without end. */
static void query_bounds(void)
{
	char sql[512], pad[301];
	const char *log;
	int status;
	pid_t pid;

	CHECK(query(ENDLESS) == -1 && errno == ETIMEDOUT && strstr(klog_new(), "SQL Error: ran too long"),
	      "549 ends a query that runs past its time (2 s) with ETIMEDOUT");
	pid = fork();
	if (pid == 0)
		_exit(endless() == -1 ? errno : 0);
	usleep(200 * 1000);
	kill(pid, SIGKILL);
	check(finished_within(pid, 1000, &status) && WIFSIGNALED(status),
	      "a query is over at once when its caller is killed", "still running");
	memset(pad, 'p', 300);
	pad[300] = 0;
	snprintf(sql, sizeof(sql), "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
		 "LIMIT 100000) SELECT x, '%s' AS pad FROM c", pad);
	CHECK(query(sql) == -1 && errno == E2BIG && (log = klog_new()) &&
	      strstr(log, "SQL Error: the result is larger") && !strstr(log, "Query from user space"),
	      "549 refuses a result above 1 MiB of log with E2BIG, logging no rows");
	still_serving("after 549 ran out of time and of room");
}

void query_tests(void)
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
	CHECK(query("SELECT 'a' || char(10) || 'v = forged\\' AS \"n\nx\"") == 0 &&
	      (log = klog_new(), strstr(log, "n\\x0ax = a\\x0av = forged\\x5c\n") &&
	       !strstr(log, "\nv = forged")),
	      "549 escapes control bytes and backslashes in names and values (\\xHH): a value "
	      "cannot forge a log line");
	CHECK(query("DELETE FROM pid_store") == -1 && errno == EPERM,
	      "549 refuses a statement that writes");
	CHECK(query("SELEC 1") == -1 && errno == EINVAL && strstr(klog_new(), "SQL Error"),
	      "549 reports bad SQL as SQL Error and EINVAL");
	CHECK(query("SELECT 1; DELETE FROM pid_store") == -1 && errno == EPERM,
	      "549 refuses a second statement");
	CHECK(query("SELECT 1;  \n") == 0, "549 takes one statement with trailing blanks");
	check(run_as_nobody(select_one) == EPERM, "549 is for CAP_SYS_ADMIN only", "not EPERM");
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
	query_bounds();
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

struct unsharer {
	int ack, gate;	/* writes a byte to ack once unshared, then waits for gate */
};

static int unsharer(void *arg)
{
	struct unsharer *u = arg;

	if (unshare(CLONE_FILES) || write(u->ack, "u", 1) != 1)
		_exit(1);
	_exit(wait_on(u->gate));
}

static int execer(void *arg)
{
	execl("/bin/sleep", "sleep", "5", (char *)NULL);
	_exit(1);
}

/* An fd table that stops being shared (unshare(CLONE_FILES), exec in a thread) gets rows of its own. */
static void unshare_tests(void)
{
	static char stack[64 * 1024];
	const char *handler = "SELECT parent_id AS v FROM pid_store WHERE pid = %ld";
	const char *rows = "SELECT count(*) AS v FROM pid_pipe WHERE pid = %ld AND dataId = %ld";
	int ack[2], gate[2], fd[2], status;
	struct unsharer u;
	long me = getpid(), id;
	pid_t child;
	char c;

	if (SETUP(pipe(ack) || pipe(gate) || sql_pipe(fd)))
		return;
	id = data_id_of(fd[0]);
	u.ack = ack[1];
	u.gate = gate[0];
	child = clone(unsharer, stack + sizeof(stack), CLONE_FILES | SIGCHLD, &u);
	check(child > 0 && read(ack[0], &c, 1) == 1 && scalar(handler, child) == child &&
	      scalar(rows, child, id) == 2 && scalar(rows, me, id) == 2,
	      "a CLONE_FILES child that unshares its fds is its own handler, with a copy of the rows",
	      "still named after its parent, or rows missing");
	write(gate[1], "g", 1);
	waitpid(child, &status, 0);

	child = clone(sharer, stack + sizeof(stack), CLONE_FILES | SIGCHLD, &gate[0]);
	check(child > 0 && unshare(CLONE_FILES) == 0 && scalar(handler, child) == child &&
	      scalar(rows, child, id) == 2 && scalar(handler, me) == me && scalar(rows, me, id) == 2,
	      "when the handler itself unshares, the task still sharing the old table gets it, "
	      "rows and all", "rows or handler wrong");
	write(gate[1], "g", 1);
	waitpid(child, &status, 0);

	child = clone(execer, stack + sizeof(stack), CLONE_FILES | SIGCHLD, NULL);
	usleep(300 * 1000);
	check(child > 0 && scalar(handler, child) == child && scalar(rows, child, id) == 2,
	      "exec in a CLONE_FILES child unshares its fds: its own handler, with a copy of the rows",
	      "still named after its parent, or rows missing");
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	close(ack[0]);
	close(ack[1]);
	close(gate[0]);
	close(gate[1]);
	close(fd[0]);
	close(fd[1]);
}

void task_tests(void)
{
	static char stack[64 * 1024];
	const char *count = "SELECT count(*) AS v FROM pid_store WHERE pid = %ld";
	const char *handler = "SELECT parent_id AS v FROM pid_store WHERE pid = %ld";
	long me = getpid();
	int gate[2], status;
	pid_t child;

	check(scalar(handler, me) == me, "pid_store has this process, its own handler", "no row");
	unshare_tests();
	if (SETUP(pipe(gate)))
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
	if (SETUP(pipe(gate)))
		return;
	child = clone(sharer, stack + sizeof(stack), CLONE_FILES | SIGCHLD, &gate[0]);
	check(child > 0 && scalar(handler, child) == me,
	      "clone(CLONE_FILES) inserts (child, the parent's handler)", "wrong handler");
	close(gate[1]);
	waitpid(child, &status, 0);
	check(scalar(count, child) == 0, "the clone's row goes when it exits", "row left behind");
}

static void last_tests(void)
{
	still_serving("after all of the above");
}

/* Every group and the checks it plans: a check added or removed changes its number here. */
static const struct test_group groups[] = {
	{ "hello", hello_tests, 4 },
	{ "query", query_tests, 17 },
	{ "tasks", task_tests, 8 },
	{ "pipes", pipe_tests, 26 },
	{ "paper", paper_tests, 5 },
	{ "txn", txn_tests, 30 },
	{ "inspect", inspect_tests, 12 },
	{ "robust", robust_tests, 19 },
	{ "posix", posix_tests, 16 },
	{ "wakeups", wakeup_tests, 13 },
	{ "memory", memory_tests, 2 },
	{ "chunks", chunk_tests, 4 },
	{ "record", record_tests, 3 },
	{ "window", window_tests, 2, 4 },
	{ "limits", limit_tests, 6 },
	{ "stress", stress_tests, 1 },
	{ "storm", storm_tests, 1 },
	{ "last", last_tests, 1 },
};

int main(int argc, char **argv)
{
	int i, n = sizeof(groups) / sizeof(groups[0]);

	printf("\n");	/* the firmware leaves the console mid-line */
	if (argc >= 3 && !strcmp(argv[1], "--storm"))
		return storm_main(atol(argv[2]), argc > 3 ? atoi(argv[3]) : 0);
	/* --group NAME: that group alone (as `sqliteos record` records the paper's tests) */
	if (argc == 3 && !strcmp(argv[1], "--group")) {
		for (i = 0; i < n && strcmp(groups[i].name, argv[2]); i++)
			;
		if (i == n) {
			fprintf(stderr, "sqliteos-tests: no group %s\n", argv[2]);
			return 2;
		}
		printf("1..%d\n", plan_of(&groups[i], 1));
		fflush(stdout);
		run_group(&groups[i]);
		printf("%d passed, %d failed\n", passed, failed);
		return failed != 0;
	}
	printf("1..%d\n", plan_of(groups, n));
	fflush(stdout);
	for (i = 0; i < n; i++)
		run_group(&groups[i]);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}

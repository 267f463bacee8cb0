// SPDX-License-Identifier: GPL-2.0-only
/*
 * The published SQLiteOS kernel as it behaves: its ABI and its known defects
 * (shared/reference/upstream-sqliteos.md), each shown on the real kernel. TAP: the plan first, one line
 * per check, a failed set-up is a failed check. Four parts, one boot each, since three of them leave
 * the kernel broken (memory freed twice; the global write mutex held for ever by a dead task):
 *
 *   published-checks main      the ABI and the defects that leave the kernel usable
 *   published-checks signal    a signal to a reader asleep: its connection is closed twice
 *   published-checks txn-exit  553(8), then exit: every later fork sleeps on the mutex for ever
 *   published-checks backlog   64 KiB writes nobody reads fail at 2 MiB; then a 3 MiB write oopses
 * With --reboot after the part (as /init, when forks sleep for ever), it reboots the guest at the end.
 *   published-checks demo      (guest.sh --published) a pipe holding bytes and a reader asleep on
 *                              another, for ever: something for the views to show
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../tools/kmsg.h"
#include "../tools/sqliteos-nr.h"

static int failed, seen;

static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	seen++;
	failed += !ok;
	printf("%s %d - ", ok ? "ok" : "not ok", seen);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static long sq_read(int fd, void *buf, size_t n) { return syscall(NR_SQL_PIPE_READ, fd, buf, n); }
static long sq_write(int fd, const void *buf, size_t n) { return syscall(NR_SQL_PIPE_WRITE, fd, buf, n); }

static void sleep_ms(int ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

/* /proc/PID's state letter and wchan, once the task has slept there for 300 ms in a row (3 s at most). */
static char asleep(pid_t pid, char *wchan, size_t size)
{
	char path[64], buf[512], state = '?';
	int steady = 0;

	for (int i = 0; i < 60 && steady < 3; i++) {
		FILE *f;
		char *p;

		sleep_ms(100);
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "r");
		if (!f || !fgets(buf, sizeof(buf), f)) {
			if (f)
				fclose(f);
			return '?';
		}
		fclose(f);
		p = strrchr(buf, ')');
		state = p && p[1] ? p[2] : '?';
		steady = (state == 'S' || state == 'D') ? steady + 1 : 0;
	}
	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	FILE *f = fopen(path, "r");

	wchan[0] = 0;
	if (f) {
		if (!fgets(wchan, (int)size, f))
			wchan[0] = 0;
		fclose(f);
	}
	return steady >= 3 ? state : 'R';
}

/* Runs SQL through 549 and returns the first logged "col = value" line's value for col, or NULL. */
static const char *query_value(const char *sql, const char *col, long *rc)
{
	static char line[4096];
	char want[128];
	int k = kmsg_open();
	long n;

	*rc = syscall(NR_KSQLITE_QUERY, sql, strlen(sql) + 1);
	if (k < 0)
		return NULL;
	snprintf(want, sizeof(want), "%s = ", col);
	while ((n = kmsg_next(k, line, sizeof(line))) != KMSG_END) {
		if (n >= 0 && strncmp(line, want, strlen(want)) == 0) {
			close(k);
			line[strcspn(line, "\n")] = 0;
			return line + strlen(want);
		}
	}
	close(k);
	return NULL;
}

/*
 * The kernel's reports logged since k was opened, as "# kernel: " lines (from each BUG, WARNING, Oops or
 * general protection line on, 12 lines of it); the first report's line into first. How many.
 */
static int kernel_reports_matching(int k, char *first, size_t size, const char *want, int *wanted)
{
	static char line[4096];
	int found = 0, more = 0, shown = 0;
	long n;

	while (k >= 0 && (n = kmsg_next(k, line, sizeof(line))) != KMSG_END) {
		if (n <= 0)
			continue;
		if (strstr(line, "BUG:") || strstr(line, "WARNING:") || strstr(line, "general protection") ||
		    strstr(line, "Oops")) {
			if (!found++ && first)
				snprintf(first, size, "%.200s", line);
			if (want && strstr(line, want))
				*wanted = 1;
			more = 12;
		}
		if (more > 0 && shown < 60) {
			more--;
			shown++;
			printf("# kernel: %s\n", line);
		}
	}
	return found;
}

static int kernel_reports(int k, char *first, size_t size)
{
	return kernel_reports_matching(k, first, size, NULL, NULL);
}

/* MemAvailable of /proc/meminfo, in KiB. */
static long mem_available(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static void part_main(void)
{
	char buf[256], wchan[128];
	int fd[2] = { -1, -1 };
	long r, rc;
	const char *v;
	pid_t pid;
	int status;

	printf("1..14\n");
	r = syscall(NR_HELLO_WORLD, buf, sizeof(buf));
	check(r == 0 && strcmp(buf, "HELLOWO") == 0, "548 hello_world copies \"HELLOWO\" (returned %ld)", r);

	r = syscall(NR_SQL_PIPE, fd);
	check(r == 0 && fd[0] >= 0 && fd[1] > fd[0], "552 sql_pipe gives two descriptors (returned %ld: %d, %d)", r, fd[0], fd[1]);
	errno = 0;
	r = write(fd[1], "x", 1);
	check(r == -1 && errno == EBADF, "its descriptors are numbers only: write(2) on one is EBADF (%ld, %s)", r, strerror(errno));

	r = sq_write(fd[1], "abc", 3);
	check(r == 0, "551 returns 0 for a 3-byte write, not the count (returned %ld)", r);
	memset(buf, 0, sizeof(buf));
	r = sq_read(fd[0], buf, sizeof(buf));
	check(r == 3 && memcmp(buf, "abc", 3) == 0, "550 reads the 3 bytes back (returned %ld, \"%.3s\")", r, buf);

	r = sq_write(fd[0], "rev", 3);
	memset(buf, 0, sizeof(buf));
	rc = sq_read(fd[1], buf, sizeof(buf));
	check(r == 0 && rc == 3 && memcmp(buf, "rev", 3) == 0,
	      "either end reads and writes: written on the read end, read on the write end (%ld, %ld)", r, rc);

	/* fork copies the parent's pid_pipe rows: the child writes into the parent's pipe. */
	pid = fork();
	if (pid == 0)
		_exit(sq_write(fd[1], "kid", 3) == 0 ? 0 : 1);
	waitpid(pid, &status, 0);
	memset(buf, 0, sizeof(buf));
	r = sq_read(fd[0], buf, sizeof(buf));
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0 && r == 3 && memcmp(buf, "kid", 3) == 0,
	      "a forked child writes into its parent's pipe, the parent reads it (%ld)", r);

	/* No EOF: the writer is gone (the child exited), yet a read of the empty pipe sleeps for ever. */
	pid = fork();
	if (pid == 0)
		_exit(sq_read(fd[0], buf, sizeof(buf)) < 0 ? 2 : 3);
	char st = asleep(pid, wchan, sizeof(wchan));

	check(st == 'S', "no EOF: a read of an empty pipe whose only other user has exited sleeps (state %c, wchan %s)",
	      st, wchan);
	/* A byte lets it go (a signal would take the defective path the part `signal` shows). */
	sq_write(fd[1], "z", 1);
	waitpid(pid, &status, 0);

	/* Rows are never deleted: the exited child's pid_store row is still there. */
	pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, &status, 0);
	snprintf(buf, sizeof(buf), "SELECT count(*) AS n FROM pid_store WHERE pid = %d", pid);
	v = query_value(buf, "n", &rc);
	check(rc == 0 && v && strcmp(v, "1") == 0, "rows are never deleted: the exited P%d still has its pid_store row (n = %s)",
	      pid, v ? v : "(nothing logged)");
	snprintf(buf, sizeof(buf), "SELECT count(*) AS n FROM pid_pipe WHERE pid = %d", pid);
	v = query_value(buf, "n", &rc);
	check(rc == 0 && v && strcmp(v, "2") == 0, "... and its two pid_pipe rows (n = %s)", v ? v : "(nothing logged)");

	/* 549 for anyone: an unprivileged process runs SQL, a write included. */
	pid = fork();
	if (pid == 0) {
		if (setuid(65534))
			_exit(9);
		v = query_value("SELECT count(*) AS n FROM pipe_data", "n", &rc);
		if (rc != 0 || !v)
			_exit(1);
		/* One call, two statements (sqlite3_exec runs both): a row really changed, counted. */
		v = query_value("UPDATE pipe_data SET write_wq = write_wq WHERE dataId = (SELECT max(dataId) FROM pipe_data); "
				"SELECT changes() AS n", "n", &rc);
		_exit(rc == 0 && v && strcmp(v, "1") == 0 ? 0 : 2);
	}
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "549 serves an unprivileged user, an UPDATE of a row included (child status %d)", WEXITSTATUS(status));

	/* A successful read never finalizes its UPDATE, so sqlite3_close() fails and the connection stays. */
	long before, after, n = 300;

	for (long i = 0; i < n; i++)
		sq_write(fd[1], "l", 1);
	before = mem_available();
	for (long i = 0; i < n; i++)
		sq_read(fd[0], buf, 1);
	after = mem_available();
	check(before > 0 && (before - after) / n >= 64,
	      "every successful read leaks its connection: %ld reads took %ld KiB for good (%ld KiB a read)",
	      n, before - after, (before - after) / n);

	/* SQLite's current_timestamp through the reconstruction's strftime: "YYYY-MM-DD HH:MM:SS". */
	v = query_value("SELECT current_timestamp AS t", "t", &rc);
	check(rc == 0 && v && strlen(v) == 19 && v[4] == '-' && v[10] == ' ' && v[16] == ':',
	      "current_timestamp is whole: %s", v ? v : "(nothing logged)");

	/* A wait queue's kernel address, for anyone to read. */
	v = query_value("SELECT read_wq AS q FROM pipe_data LIMIT 1", "q", &rc);
	check(rc == 0 && v && strtoll(v, NULL, 10) != 0, "pipe_data.read_wq holds a kernel address (%s)", v ? v : "(nothing logged)");
}

/*
 * A signal to a reader asleep on an empty pipe: its error path finalizes the statement and closes the
 * connection it had already finalized and closed before sleeping. The kernel reports it (the connection's
 * lookaside, a page-allocator block, is freed twice) once that memory is handed out again.
 */
static void part_signal(void)
{
	char buf[16], wchan[128], first[256] = "";
	int fd[2], k, found;
	long rc;
	pid_t pid;

	printf("1..2\n");
	if (syscall(NR_SQL_PIPE, fd)) {
		check(0, "set-up: sql_pipe");
		return;
	}
	pid = fork();
	if (pid == 0)
		_exit(sq_read(fd[0], buf, sizeof(buf)) < 0 ? 2 : 3);
	char st = asleep(pid, wchan, sizeof(wchan));

	check(st == 'S', "a reader sleeps on the empty pipe (state %c, wchan %s)", st, wchan);
	k = kmsg_open();
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* New connections take the memory again. */
	for (int i = 0; i < 20; i++) {
		sq_write(fd[1], "x", 1);
		query_value("SELECT 1 AS one", "one", &rc);
	}
	/* The allocator's own complaint (a freed object's size asked for, a bad page), not a ksqlite WARN_ON. */
	kernel_reports(k, first, sizeof(first));
	found = strstr(first, "BUG:") || strstr(first, "Oops") || strstr(first, "general protection") ||
		strstr(first, "Bad page") || (strstr(first, "WARNING:") && strstr(first, "/mm/"));
	check(found > 0, "the killed reader's connection was freed twice: the kernel reports \"%s\"",
	      found ? first : "(nothing)");
}

/*
 * 553(8) in a child that then exits: the write mutex is never given back; a later fork sleeps on it.
 * (The forker is made first, waiting on a stock pipe: this process's own fork would sleep there too.)
 */
static void part_txn_exit(void)
{
	char wchan[128], go = 'g';
	pid_t pid, forker;
	int status, ready[2];

	printf("1..2\n");
	if (pipe(ready)) {
		check(0, "set-up: a stock pipe for the forker");
		return;
	}
	forker = fork();
	if (forker == 0) {
		if (read(ready[0], &go, 1) != 1)
			_exit(2);
		_exit(fork() < 0 ? 1 : 0);
	}
	pid = fork();
	if (pid == 0)
		_exit(syscall(NR_SQL_BEGIN, 8) == 0 ? 0 : 1);
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "553(8) returns 0 and the child exits holding the write mutex");
	if (write(ready[1], &go, 1) != 1)
		perror("write");
	char st = asleep(forker, wchan, sizeof(wchan));

	check(st == 'D' && (strstr(wchan, "ksqlite_insert_into_pid") || strstr(wchan, "mutex")),
	      "a later fork sleeps for ever on the mutex (state %c, wchan %s)", st, wchan);
}

/*
 * 64 KiB writes that nobody reads. Each write rewrites the whole backlog as one blob; during the UPDATE the
 * store holds the old blob and the new one, and the store is memdb's one buffer, kmalloc'd at twice the
 * size it must grow to (rounded to a power of two by ksqlite's xRoundup): it reaches 4,186,112 bytes
 * (1022 pages of 4096) and no further, 7 of them the schema's. So the write that would take the
 * backlog from 2 MiB to 2 MiB + 64 KiB fails with SQLITE_NOMEM (7) and nothing is written. Then one
 * 3 MiB write: the write path's kmalloc(backlog + 3 MiB) is past the 4 MiB kmalloc limit, unchecked, and
 * the memcpy into NULL kills the writer in an oops, holding the write mutex.
 */
static void part_backlog(void)
{
	static char chunk[65536], big[3 << 20];
	int fd[2], report[2], k, warned = 0;
	long r, last = 0, backlog;
	char first[256] = "";
	pid_t pid;
	int status;

	printf("1..3\n");
	if (syscall(NR_SQL_PIPE, fd) || pipe(report)) {
		check(0, "set-up: sql_pipe and a stock pipe for the progress");
		return;
	}
	memset(chunk, 'b', sizeof(chunk));
	k = kmsg_open();
	pid = fork();
	if (pid == 0) {
		close(report[0]);
		for (backlog = 0; backlog < 16L << 20; backlog += sizeof(chunk)) {
			r = sq_write(fd[1], chunk, sizeof(chunk));
			if (r != 0)	/* the negated SQLite code, as errno through syscall(2) */
				_exit(r == -1 && errno > 0 && errno < 255 ? errno : 255);
			if (write(report[1], &backlog, sizeof(backlog)) != sizeof(backlog))
				_exit(254);
		}
		_exit(0);
	}
	close(report[1]);
	while (read(report[0], &backlog, sizeof(backlog)) == sizeof(backlog))
		last = backlog + sizeof(chunk);
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 7 && last == 2 << 20,
	      "64 KiB writes nobody reads fail with SQLite code 7 (NOMEM) once the backlog is 2 MiB: "
	      "%s %d at a backlog of %ld bytes", WIFSIGNALED(status) ? "killed by signal" : "code",
	      WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), last);
	/*
	 * The store's 8 MiB krealloc warns in the page allocator (order past MAX_ORDER), then the failed
	 * step's WARN_ON(1) in ksqlite.c: both silent on a kernel without BUG() support (tinyconfig's).
	 */
	kernel_reports_matching(k, first, sizeof(first), "ksqlite.c", &warned);
	close(k);
	check(strstr(first, "WARNING:") && strstr(first, "page_alloc.c") && warned,
	      "the store's failed growth warns in the page allocator (%s), and the failed step's WARN_ON in ksqlite.c %s",
	      first[0] ? first : "nothing in the log", warned ? "shows" : "does not show");
	first[0] = 0;

	memset(big, 'B', sizeof(big));
	k = kmsg_open();
	pid = fork();
	if (pid == 0)
		_exit(sq_write(fd[1], big, sizeof(big)) == 0 ? 0 : 1);
	waitpid(pid, &status, 0);
	kernel_reports(k, first, sizeof(first));
	check(WIFSIGNALED(status) && strstr(first, "NULL pointer"),
	      "a 3 MiB write onto it oopses (kmalloc of 5 MiB, unchecked): %s; the kernel: %s",
	      WIFSIGNALED(status) ? "the writer was killed" : "the writer returned", first[0] ? first : "(nothing)");
}

static void part_demo(void)
{
	static const char text[] = "hello from the published kernel";
	char buf[16];
	int full[2], empty[2];

	if (syscall(NR_SQL_PIPE, full) || syscall(NR_SQL_PIPE, empty) || sq_write(full[1], text, sizeof(text) - 1)) {
		perror("published demo: sql_pipe / sql_pipe_write");
		exit(1);
	}
	printf("published demo: pipe %d/%d holds \"%s\"; a reader sleeps on pipe %d/%d\n", full[0], full[1], text,
	       empty[0], empty[1]);
	if (fork() == 0)
		exit(sq_read(empty[0], buf, sizeof(buf)) < 0);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	const char *part = argc > 1 ? argv[1] : "main";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(part, "main") == 0)
		part_main();
	else if (strcmp(part, "signal") == 0)
		part_signal();
	else if (strcmp(part, "txn-exit") == 0)
		part_txn_exit();
	else if (strcmp(part, "backlog") == 0)
		part_backlog();
	else if (strcmp(part, "demo") == 0)
		part_demo();
	else {
		fprintf(stderr, "usage: published-checks main|signal|txn-exit|backlog|demo\n");
		return 2;
	}
	printf("# %s: %d passed, %d failed\n", part, seen - failed, failed);
	/* As /init after a part that leaves every fork asleep: nothing else can run, so reboot from here. */
	if (argc > 2 && strcmp(argv[2], "--reboot") == 0) {
		sync();
		reboot(RB_AUTOBOOT);
	}
	return failed != 0;
}

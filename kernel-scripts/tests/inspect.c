// SPDX-License-Identifier: GPL-2.0-only
/*
 * The inspection interface (debugfs sqliteos/ and the sqliteos-inspect JSON helper) shows exactly
 * what the tests create: rows, pipes, sleepers on the right queue with the right pid, and a writer
 * waiting in PENDING behind a read transaction.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include "lib.h"

#define DFS "/sys/kernel/debug/sqliteos/"

static char *slurp(const char *path)
{
	static char buf[1 << 18];
	int fd = open(path, O_RDONLY);
	ssize_t n, got = 0;

	buf[0] = 0;
	if (fd < 0)
		return buf;
	while ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	buf[got] = 0;
	close(fd);
	return buf;
}

static char *run(const char *cmd)
{
	static char out[1 << 18];
	FILE *p = popen(cmd, "r");
	size_t n = p ? fread(out, 1, sizeof(out) - 1, p) : 0;

	out[n] = 0;
	if (p)
		pclose(p);
	return out;
}

static int has(const char *text, const char *fmt, ...)
{
	char want[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	return strstr(text, want) != NULL;
}

static long open_as_nobody(void)
{
	return open(DFS "pid_store", O_RDONLY);
}

/* Reading every file while another process creates, fills and closes pipes as fast as it can. */
static void read_while_churning(void)
{
	static const char *const files[] = {
		"pid_store", "pid_pipe", "pipe_data", "pipe_chunk", "locks", "queues", "pipes", "counters"
	};
	int i, ok = 1, status;
	pid_t churn = fork();

	if (churn == 0) {
		for (;;) {
			int fd[2];

			if (sql_pipe(fd))
				_exit(1);
			swrite(fd[1], "churn", 5);
			close(fd[0]);
			close(fd[1]);
		}
	}
	for (i = 0; i < 200; i++) {
		char path[96], head[64];
		const char *t;

		snprintf(path, sizeof(path), DFS "%s", files[i % 8]);
		snprintf(head, sizeof(head), "sqliteos-debugfs 1 %s\n", files[i % 8]);
		t = slurp(path);
		ok &= !strncmp(t, head, strlen(head)) &&
		      (i % 8 >= 4 || strstr(t, "\nrows\t") || strstr(t, "\nbusy\t"));
	}
	kill(churn, SIGKILL);
	waitpid(churn, &status, 0);
	check(ok && WIFSIGNALED(status),
	      "200 reads of the debugfs files while another process makes and closes pipes: all whole",
	      "a file was cut short or the churn failed");
}

void inspect_tests(void)
{
	int fd[2], status, me = getpid();
	pid_t reader, writer, waiter;
	const char *t;
	long id;

	t = slurp(DFS "pid_store");
	check(has(t, "sqliteos-debugfs 1 pid_store\ncolumns\tpid\tparent_id\n") &&
	      has(t, "\nrow\t%d\t%d\n", me, me) && has(t, "\nrow\t1\t1\n"),
	      "debugfs pid_store: version line, columns, this process's row", t);
	check(run_as_nobody(open_as_nobody) == EACCES, "debugfs sqliteos/ is root only", "opened");
	if (SETUP(sql_pipe(fd)))
		return;
	id = data_id_of(fd[0]);
	swrite(fd[1], "abc", 3);
	check(has(slurp(DFS "pipe_chunk"), "\t%ld\tx3:616263/ba7816bf8f01cfea\n", id) &&
	      has(slurp(DFS "pipes"), "pipe\t%ld\tbuffered\t3\treader\t1\twriter\t1\n", id) &&
	      has(slurp(DFS "pid_pipe"), "row\t%d\t%d\t%ld\n", me, fd[1], id),
	      "the pipe, its rows and its bytes (blob as length, hex and its SHA-256)", "not shown");
	sread(fd[0], (char[4]){ 0 }, 3);
	reader = fork();
	if (reader == 0)
		_exit(sread(fd[0], (char[4]){ 0 }, 1) == 1 ? 0 : 1);
	usleep(200 * 1000);
	check(has(slurp(DFS "queues"), "queue\tpipe.%ld.read_wq\t%d\n", id, reader),
	      "a blocked reader is on its pipe's read_wq, with its pid", slurp(DFS "queues"));
	check(has(run("/bin/sqliteos-inspect"), "{\"name\":\"pipe.%ld.read_wq\",\"pids\":[%d]}",
		  id, reader),
	      "sqliteos-inspect prints the same as JSON", "not in the JSON");
	swrite(fd[1], "r", 1);
	waitpid(reader, &status, 0);

	/* A writer in PENDING behind this process's read transaction, another on the mutex. */
	syscall(NR_SQL_BEGIN, TXN_READ);
	writer = fork();
	if (writer == 0)
		_exit(swrite(fd[1], "w", 1) == 1 ? 0 : 1);
	usleep(200 * 1000);
	waiter = fork();
	if (waiter == 0)
		_exit(swrite(fd[1], "v", 1) == 1 ? 0 : 1);
	usleep(200 * 1000);
	t = slurp(DFS "locks");
	check(has(t, "store\t/sqliteos\tcurrent_max_lock\tPENDING\tnum_readers\t2\n") &&
	      has(t, "\tPENDING\t%d\n", writer) && has(t, "\tSHARED\t%d\n", me) &&
	      has(t, "write_mutex\t%d\tdepth\t1\n", writer) && has(t, "txn\t%d\tread\n", me),
	      "a writer waiting in PENDING shows as such, with the reader it waits for", t);
	t = slurp(DFS "queues");
	check(has(t, "queue\tstore.write_q\t%d\n", writer) && has(t, "queue\twrite_mutex\t%d\n", waiter),
	      "it sleeps on store.write_q; the next writer on write_mutex", t);
	check(has(slurp(DFS "pid_pipe"), "busy\t"), "a table behind PENDING reads busy, never waits",
	      "no busy line");
	syscall(NR_SQL_END, 0);
	waitpid(writer, &status, 0);
	waitpid(waiter, &status, 0);
	t = slurp(DFS "counters");
	check(has(t, "syscall.552\t") && !has(t, "syscall.552\t0\n") && has(t, "sleeps\t") &&
	      has(slurp(DFS "locks"), "current_max_lock\tNONE\tnum_readers\t0\n"),
	      "counters count; the locks are free again", t);
	read_while_churning();
	check(has(run("/bin/sqliteos-inspect --upstream"), "\"kernel\":\"upstream\"") &&
	      has(run("/bin/sqliteos-inspect --upstream"), "{\"pid\":%d,\"parent_id\":%d}", me, me),
	      "sqliteos-inspect --upstream reads the tables through 549 and the log", "not parsed");
	t = run("/bin/sqliteos-inspect --query \"SELECT 'a' || char(10) || 'b\\\\' AS \\\"x\\\\y\\\"\"");
	check(has(t, "{\"rows\":[{\"x\\\\y\":\"a\\u000ab\\\\\"}]"),
	      "sqliteos-inspect --query gives back names and values 549 escaped as they were", t);
	close(fd[0]);
	close(fd[1]);
}

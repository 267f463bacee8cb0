// SPDX-License-Identifier: GPL-2.0-only
/*
 * 553-557 and the paper's lock algorithm: a read transaction holds SHARED across syscalls, so a
 * writer waits in PENDING on write_q, and a new reader waits behind it on read_q, until 554.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include "lib.h"

static long begin(int flag)
{
	return syscall(NR_SQL_BEGIN, flag);
}

static long end(int commit)
{
	return syscall(NR_SQL_END, commit);
}

static long savepoint(int nr, const char *name)
{
	return syscall(nr, name, strlen(name));
}

static long begin_read(void)
{
	return begin(TXN_READ);
}

static void abi(void)
{
	CHECK(begin(3) == -1 && errno == EINVAL, "553 with a flag other than 4 or 8 gives EINVAL");
	CHECK(end(1) == -1 && errno == EINVAL, "554 without a transaction gives EINVAL");
	CHECK(savepoint(NR_SQL_SAVEPOINT, "a") == -1 && errno == EINVAL,
	      "a savepoint without a transaction gives EINVAL");
	check(run_as_nobody(begin_read) == EPERM, "553 is for CAP_SYS_ADMIN only", "not EPERM");
	CHECK(begin(TXN_READ) == 0, "553(4) opens a read transaction");
	CHECK(begin(TXN_READ) == -1 && errno == EINVAL, "a second 553 gives EINVAL");
	CHECK(savepoint(NR_SQL_SAVEPOINT, "a") == 0 && savepoint(NR_SQL_SAVEPOINT, "b\"; DROP") == 0 &&
	      savepoint(NR_SQL_ROLLBACK_TO, "a") == 0 && savepoint(NR_SQL_RELEASE, "a") == 0,
	      "555-557: SAVEPOINT, ROLLBACK TO, RELEASE (names quoted, never SQL)");
	CHECK(savepoint(NR_SQL_RELEASE, "nosuch") == -1 && errno == EINVAL,
	      "releasing an unknown savepoint gives EINVAL");
	CHECK(syscall(NR_SQL_SAVEPOINT, "x", 0UL) == -1 && errno == EINVAL,
	      "an empty savepoint name gives EINVAL");
	CHECK(syscall(NR_SQL_SAVEPOINT, (char *)8, 4UL) == -1 && errno == EFAULT,
	      "a savepoint name at a bad pointer gives EFAULT");
	CHECK(query("SELECT count(*) AS v FROM pid_store") == 0, "549 runs inside the transaction");
	CHECK(end(1) == 0 && end(1) == -1, "554 commits and ends it");
}

/* A read transaction blocks writers at commit (PENDING) and, behind them, new readers. */
static void pending(void)
{
	int fd[2], status, ok1, ok2;
	pid_t writer, reader;
	char buf[8];

	if (SETUP(sql_pipe(fd) || begin(TXN_READ)))
		return;
	CHECK(swrite(fd[1], "x", 1) == -1 && errno == EDEADLK,
	      "a write inside one's own read transaction gives EDEADLK, not a hang");
	writer = fork();
	if (writer == 0)
		_exit(swrite(fd[1], "late", 4) == 4 ? 0 : 1);
	usleep(200 * 1000);
	reader = fork();
	if (reader == 0)
		_exit(query("SELECT 1") == 0 ? 0 : 1);
	ok1 = !finished_within(writer, 200, &status);
	ok2 = !finished_within(reader, 0, &status);
	check(ok1, "a writer waits (PENDING, on write_q) while a read transaction holds SHARED",
	      "writer finished");
	check(ok2, "a new reader waits behind the PENDING writer (read_q)", "reader got in");
	end(0);
	check(finished_within(writer, 2000, &status) && WIFEXITED(status) && !WEXITSTATUS(status),
	      "554 lets the writer commit", "writer still waiting");
	check(finished_within(reader, 2000, &status) && WIFEXITED(status) && !WEXITSTATUS(status),
	      "and then the reader", "reader still waiting");
	CHECK(sread(fd[0], buf, 8) == 4, "the write arrived");
	close(fd[0]);
	close(fd[1]);
}

/* A writer killed while it waits in PENDING (holding the write mutex) leaves both behind it. */
static void killed_pending(void)
{
	int fd[2], status;
	pid_t writer;
	char buf[8];

	if (SETUP(sql_pipe(fd) || begin(TXN_READ)))
		return;
	writer = fork();
	if (writer == 0)
		_exit(swrite(fd[1], "dead", 4) == 4 ? 0 : 1);
	usleep(200 * 1000);
	kill(writer, SIGKILL);
	check(finished_within(writer, 2000, &status) && WIFSIGNALED(status),
	      "SIGKILL ends a writer waiting in PENDING", "still waiting");
	writer = fork();
	if (writer == 0)
		_exit(query("SELECT 1") == 0 ? 0 : 1);
	check(finished_within(writer, 2000, &status) && WIFEXITED(status) && !WEXITSTATUS(status),
	      "a new reader is let in at once", "reader still waiting");
	end(1);
	CHECK(buffered_of(fd[0]) == 0 && swrite(fd[1], "next", 4) == 4 && sread(fd[0], buf, 8) == 4 &&
	      !memcmp(buf, "next", 4),
	      "its write left nothing, and the next writer gets the mutex");
	close(fd[0]);
	close(fd[1]);
}

/* A fork inside a read transaction cannot write its rows yet: they are written when it ends. */
static void fork_inside(void)
{
	int gate[2], status;
	pid_t child;

	if (SETUP(pipe(gate) || begin(TXN_READ)))
		return;
	child = fork();
	if (child == 0) {
		char c;

		close(gate[1]);
		_exit(read(gate[0], &c, 1));
	}
	end(1);
	check(scalar("SELECT parent_id AS v FROM pid_store WHERE pid = %d", child) == child,
	      "a fork made inside a read transaction is recorded when the transaction ends",
	      "no row");
	close(gate[1]);
	waitpid(child, &status, 0);
	check(scalar("SELECT count(*) AS v FROM pid_store WHERE pid = %d", child) == 0,
	      "and its row goes at exit", "row left");
	close(gate[0]);
}

static double ms_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/*
 * A read transaction still waiting for SHARED (behind a writer in PENDING) already counts as open:
 * a pipe operation meanwhile commits at once instead of leaving the commit window open for the
 * reader to take SHARED under (the VFS would WARN), and a fork after it is not held up by it.
 */
static void joining_reader(void)
{
	int fd[2], other[2], status, ok;
	pid_t writer, reader, child;
	double t0, fork_ms;
	char why[160];

	if (sql_pipe(fd) || sql_pipe(other) || begin(TXN_READ)) {
		check(0, "a reader joining behind a PENDING writer: set-up", strerror(errno));
		return;
	}
	writer = fork();
	if (writer == 0)
		_exit(swrite(fd[1], "late", 4) == 4 ? 0 : 1);
	usleep(200 * 1000);
	reader = fork();
	if (reader == 0) {
		if (begin(TXN_READ))
			_exit(1);
		usleep(1000 * 1000);
		_exit(end(1) ? 2 : 0);
	}
	usleep(200 * 1000);
	end(1);
	ok = swrite(other[1], "d", 1) == 1;
	t0 = ms_now();
	child = fork();
	if (child == 0)
		_exit(0);
	fork_ms = ms_now() - t0;
	waitpid(child, &status, 0);
	ok &= finished_within(writer, 2000, &status) && WIFEXITED(status) && !WEXITSTATUS(status);
	ok &= finished_within(reader, 3000, &status) && WIFEXITED(status) && !WEXITSTATUS(status);
	snprintf(why, sizeof(why), "the fork took %.0f ms while the reader held SHARED", fork_ms);
	check(ok && fork_ms < 500, "a read transaction waiting for SHARED counts as open: a pipe "
	      "operation meanwhile commits at once, and a fork after it does not wait for it", why);
	close2(fd);
	close2(other);
}

/* 553(8) holds the global write mutex in user space: other writers wait; the holder writes. */
static void write_txn(void)
{
	int fd[2], status;
	pid_t other;
	char buf[8];

	if (SETUP(sql_pipe(fd)))
		return;
	CHECK(begin(TXN_WRITE) == 0 && swrite(fd[1], "mine", 4) == 4,
	      "553(8) takes the write mutex; its holder can still write");
	other = fork();
	if (other == 0)
		_exit(swrite(fd[1], "them", 4) == 4 ? 0 : 1);
	check(!finished_within(other, 200, &status), "another writer waits for the mutex", "it ran");
	end(1);
	check(finished_within(other, 2000, &status) && WIFEXITED(status) && !WEXITSTATUS(status),
	      "554 releases it", "writer still waiting");
	CHECK(sread_all(fd[0], buf, 8) == 8 && !memcmp(buf, "minethem", 8), "in that order");
	close(fd[0]);
	close(fd[1]);
}

/* A task killed inside a transaction gives back what it held. */
static void killed_in_txn(int flag, const char *what)
{
	int gate[2], fd[2], status;
	pid_t holder, writer;
	char c;

	if (SETUP(pipe(gate) || sql_pipe(fd)))
		return;
	holder = fork();
	if (holder == 0) {
		if (begin(flag))
			_exit(1);
		write(gate[1], "r", 1);
		pause();
		_exit(0);
	}
	read(gate[0], &c, 1);
	kill(holder, SIGKILL);
	waitpid(holder, &status, 0);
	writer = fork();
	if (writer == 0)
		_exit(swrite(fd[1], "ok", 2) == 2 ? 0 : 1);
	check(finished_within(writer, 2000, &status) && WIFEXITED(status) && !WEXITSTATUS(status) &&
	      scalar("SELECT count(*) AS v FROM pid_store WHERE pid = %d", holder) == 0, what,
	      "writers still blocked");
	if (!WIFEXITED(status))
		kill(writer, SIGKILL);
	close(gate[0]);
	close(gate[1]);
	close(fd[0]);
	close(fd[1]);
}

void txn_tests(void)
{
	abi();
	pending();
	killed_pending();
	fork_inside();
	joining_reader();
	write_txn();
	killed_in_txn(TXN_READ, "SIGKILL inside a read transaction releases its SHARED lock");
	killed_in_txn(TXN_WRITE, "SIGKILL while holding the write mutex (553(8)) releases it");
}

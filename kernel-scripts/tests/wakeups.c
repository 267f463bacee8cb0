// SPDX-License-Identifier: GPL-2.0-only
/*
 * Wake-ups that must not be lost, as fs/pipe.c passes them on: a reader woken that then fails (a
 * bad buffer; a signal while it waits for the write mutex) hands its wake-up to the next reader; a
 * writer that leaves room behind wakes the next writer. A task holding the write mutex from user
 * space (553(8)) gets -EDEADLK rather than sleeping with it. pipe_capacity refuses 0 and huge
 * values, and is read once, when a pipe is made. Each case fails (never hangs) on a kernel that
 * loses the wake-up.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include "lib.h"


/* Is pid asleep: state S twice, 20 ms apart, within 2 s? */
static int asleep(pid_t pid)
{
	char path[64], buf[256], *s;
	int i, streak = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (i = 0; i < 100 && streak < 2; i++) {
		f = fopen(path, "r");
		if (!f)
			return 0;
		s = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		streak = s && s[1] == ' ' && s[2] == 'S' ? streak + 1 : 0;
		usleep(20 * 1000);
	}
	return streak == 2;
}

/* Did pid exit with status 0 within 2 s? Killed and reaped if it did not. */
static int exited_ok(pid_t pid)
{
	int status;

	if (finished_within(pid, 2000, &status))
		return WIFEXITED(status) && !WEXITSTATUS(status);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return 0;
}

static void on_usr1(int sig)
{
}

/* A reader that expects one byte, 'x'. */
static pid_t reader(int fd)
{
	pid_t pid = fork();
	char c = 0;

	if (pid == 0)
		_exit(sread(fd, &c, 1) == 1 && c == 'x' ? 0 : 1);
	asleep(pid);
	return pid;
}

static void faulting_reader(void)
{
	int fd[2];
	pid_t a, b;

	if (SETUP(sql_pipe(fd)))
		return;
	a = fork();
	if (a == 0)
		_exit(sread(fd[0], (void *)8, 1) == -1 && errno == EFAULT ? 0 : 1);
	asleep(a);
	b = reader(fd[0]);
	swrite(fd[1], "x", 1);
	check(exited_ok(a), "a reader woken with a bad buffer fails with EFAULT", "no EFAULT");
	check(exited_ok(b), "... and passes its wake-up on: the next reader gets the byte",
	      "the next reader still sleeps");
	close(fd[0]);
	close(fd[1]);
}

static void interrupted_reader(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	int fd[2];
	pid_t a, b;

	if (SETUP(sql_pipe(fd)))
		return;
	a = fork();
	if (a == 0) {
		char c;

		sigaction(SIGUSR1, &sa, NULL);
		_exit(sread(fd[0], &c, 1) == -1 && errno == EINTR ? 0 : 1);
	}
	asleep(a);
	b = reader(fd[0]);
	/* This task holds the write mutex: a, woken by the byte, waits for it; a signal ends that. */
	CHECK(syscall(NR_SQL_BEGIN, TXN_WRITE) == 0 && swrite(fd[1], "x", 1) == 1,
	      "553(8), then a write that wakes a reader");
	asleep(a);
	kill(a, SIGUSR1);
	check(exited_ok(a), "a woken reader interrupted while it waits for the write mutex: EINTR",
	      "no EINTR");
	usleep(100 * 1000);
	syscall(NR_SQL_END, 1);
	check(exited_ok(b), "... and the next reader is woken in its place and gets the byte",
	      "the next reader still sleeps");
	close(fd[0]);
	close(fd[1]);
}

static pid_t writer(int fd)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(swrite(fd, "0123456789", 10) == 10 ? 0 : 1);
	asleep(pid);
	return pid;
}

static void writers_pass_on(void)
{
	static char full[4096];
	int fd[2];
	pid_t a, b;

	CHECK(sql_pipe(fd) == 0 && fcntl(fd[1], F_SETPIPE_SZ, sizeof(full)) == sizeof(full),
	      "a pipe of 4096 bytes (F_SETPIPE_SZ)");
	swrite(fd[1], full, sizeof(full));
	a = writer(fd[1]);
	b = writer(fd[1]);
	CHECK(sread_all(fd[0], full, sizeof(full)) == sizeof(full), "a read empties a full pipe");
	check(exited_ok(a), "the first writer asleep on the full pipe writes", "still asleep");
	check(exited_ok(b), "... and, leaving room, wakes the next writer, which writes too",
	      "the next writer still sleeps");
	close(fd[0]);
	close(fd[1]);
}

/* In a child, so a kernel that sleeps with the write mutex fails the check instead of hanging. */
static void no_sleep_with_the_mutex(void)
{
	static char full[CAPACITY];
	int fd[2];
	pid_t pid;
	char c;

	if (SETUP(sql_pipe(fd)))
		return;
	pid = fork();
	if (pid == 0) {
		if (syscall(NR_SQL_BEGIN, TXN_WRITE))
			_exit(2);
		if (sread(fd[0], &c, 1) != -1 || errno != EDEADLK)
			_exit(3);
		if (swrite(fd[1], full, sizeof(full)) != sizeof(full))
			_exit(4);
		if (swrite(fd[1], "x", 1) != -1 || errno != EDEADLK)
			_exit(5);
		_exit(syscall(NR_SQL_END, 1) ? 6 : 0);
	}
	check(exited_ok(pid), "with the write mutex held (553(8)), a read of an empty pipe and a "
	      "write to a full one fail with EDEADLK instead of sleeping", "slept, or another error");
	close(fd[0]);
	close(fd[1]);
}

static void capacity_param(void)
{
	int before[2], after[2];

	CHECK(set_param("pipe_capacity", "0") == -1 && errno == EINVAL, "pipe_capacity refuses 0");
	CHECK(set_param("pipe_capacity", "2000000000") == -1 && errno == EINVAL,
	      "pipe_capacity refuses 2 GB");
	if (SETUP(sql_pipe(before)))
		return;
	CHECK(set_param("pipe_capacity", "4096") == 0 && sql_pipe(after) == 0 &&
	      fcntl(after[0], F_GETPIPE_SZ) == 4096 && fcntl(before[0], F_GETPIPE_SZ) == CAPACITY,
	      "pipe_capacity is read when a pipe is made: later pipes get the new value, older "
	      "ones keep theirs");
	set_param("pipe_capacity", "65536");
	close(before[0]);
	close(before[1]);
	close(after[0]);
	close(after[1]);
}

void wakeup_tests(void)
{
	faulting_reader();
	interrupted_reader();
	writers_pass_on();
	no_sleep_with_the_mutex();
	capacity_param();
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * What user space can throw at the pipes: bad fds, bad pointers, zero and huge lengths, signals
 * during a sleep, SIGKILL while asleep. Afterwards the kernel must still serve pipes; the harness
 * checks the log for BUG, WARNING and lockdep reports.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "lib.h"

static void on_usr1(int sig)
{
}

static void bad_fds(void)
{
	char buf[4];
	int fd[2], closed;

	CHECK(sread(-1, buf, 1) == -1 && errno == EBADF, "550 on fd -1 gives EBADF");
	CHECK(swrite(9999, buf, 1) == -1 && errno == EBADF, "551 on an fd never opened gives EBADF");
	CHECK(sread(1, buf, 1) == -1 && errno == EBADF, "550 on a file that is not an sql pipe: EBADF");
	if (SETUP(sql_pipe(fd)))
		return;
	closed = fd[0];
	close(fd[0]);
	close(fd[1]);
	CHECK(sread(closed, buf, 1) == -1 && errno == EBADF, "550 on a closed sql pipe gives EBADF");
}

/* A buffer whose end runs into an unmapped page. */
static char *edge(size_t *room)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	munmap(p + pg, pg);
	memset(p, 'e', pg);
	*room = pg;
	return p;
}

static void bad_pointers(void)
{
	long pipes = scalar("SELECT count(*) AS v FROM pipe_data");
	int fd[2], probe, before = open("/", O_RDONLY);
	size_t room;
	char *e = edge(&room), buf[8];

	close(before);
	CHECK(sql_pipe(NULL) == -1 && errno == EFAULT, "552 with a NULL array gives EFAULT");
	probe = open("/", O_RDONLY);
	check(scalar("SELECT count(*) AS v FROM pipe_data") == pipes && probe == before,
	      "and leaves no rows and no fds behind", "leak");
	close(probe);
	if (SETUP(sql_pipe(fd)))
		return;
	CHECK(swrite(fd[1], (char *)8, 4) == -1 && errno == EFAULT, "551 from a bad pointer: EFAULT");
	swrite(fd[1], "keep", 4);
	CHECK(sread(fd[0], (char *)8, 4) == -1 && errno == EFAULT, "550 into a bad pointer: EFAULT");
	CHECK(sread(fd[0], buf, 8) == 4 && !memcmp(buf, "keep", 4),
	      "and the bytes are still there for the next read");
	CHECK(swrite(fd[1], e, SIZE_MAX) == -1 && errno == EFAULT,
	      "551 of SIZE_MAX bytes from a one-page buffer: EFAULT, nothing written");
	CHECK(buffered_of(fd[0]) == 0, "the pipe is still empty");
	swrite(fd[1], "tiny", 4);
	CHECK(sread(fd[0], e, SIZE_MAX) == -1 && errno == EFAULT && sread(fd[0], buf, 8) == 4,
	      "550 of SIZE_MAX bytes: EFAULT, as read(2) gives, and the bytes stay");
	swrite(fd[1], e, room);
	CHECK(sread(fd[0], e + room - 100, room) == -1 && errno == EFAULT &&
	      sread(fd[0], buf, 8) == 8,
	      "a read into a buffer that ends too early: EFAULT, and nothing is lost");
	close(fd[0]);
	close(fd[1]);
	munmap(e, room);
}

/* A child sleeps in a read (or a write on a full pipe); a signal ends the sleep. */
static void signals(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	static char full[CAPACITY];
	int fd[2], status;
	pid_t pid;

	if (SETUP(sql_pipe(fd)))
		return;
	pid = fork();
	if (pid == 0) {
		char c;

		sigaction(SIGUSR1, &sa, NULL);
		_exit(sread(fd[0], &c, 1) == -1 && errno == EINTR ? 0 : 1);
	}
	usleep(100 * 1000);
	kill(pid, SIGUSR1);
	check(finished_within(pid, 2000, &status) && WIFEXITED(status) && !WEXITSTATUS(status),
	      "a signal ends a read sleeping on an empty pipe with EINTR", "still asleep or no EINTR");
	pid = fork();
	if (pid == 0) {
		char c = 0;

		sa.sa_flags = SA_RESTART;
		sigaction(SIGUSR1, &sa, NULL);
		_exit(sread(fd[0], &c, 1) == 1 && c == 'r' ? 0 : 1);
	}
	usleep(100 * 1000);
	kill(pid, SIGUSR1);
	usleep(100 * 1000);
	swrite(fd[1], "r", 1);
	check(finished_within(pid, 2000, &status) && WIFEXITED(status) && !WEXITSTATUS(status),
	      "with SA_RESTART the read restarts and gets the byte", "no restart");
	swrite(fd[1], full, sizeof(full));
	pid = fork();
	if (pid == 0) {
		sigaction(SIGUSR1, &sa, NULL);
		_exit(swrite(fd[1], "w", 1) == -1 && errno == EINTR ? 0 : 1);
	}
	usleep(100 * 1000);
	kill(pid, SIGUSR1);
	check(finished_within(pid, 2000, &status) && WIFEXITED(status) && !WEXITSTATUS(status),
	      "a signal ends a write sleeping on a full pipe with EINTR", "still asleep");
	pid = fork();
	if (pid == 0) {
		swrite(fd[1], "w", 1);
		_exit(0);
	}
	usleep(100 * 1000);
	kill(pid, SIGKILL);
	check(finished_within(pid, 2000, &status) && WIFSIGNALED(status) &&
	      scalar("SELECT count(*) AS v FROM pid_store WHERE pid = %d", pid) == 0,
	      "SIGKILL ends a sleeping writer, and its row goes", "not killed");
	CHECK(buffered_of(fd[0]) == CAPACITY, "nothing was written by the interrupted writers");
	close(fd[0]);
	close(fd[1]);
}

/*
 * Pipe ids are used again: making a pipe and closing the one before, 50 times, while another stays
 * open, must not walk the ids up (with max(dataId) + 1 a user could use all 2^22 up so).
 */
static void ids_reused(void)
{
	int keep[2], fd[2], prev[2] = { -1, -1 }, i;
	long kept, last;

	if (SETUP(sql_pipe(keep)))
		return;
	for (i = 0; i < 50 && !sql_pipe(fd); i++) {
		if (prev[0] >= 0) {
			close(prev[0]);
			close(prev[1]);
		}
		prev[0] = fd[0];
		prev[1] = fd[1];
	}
	kept = data_id_of(keep[0]);
	last = data_id_of(prev[0]);
	check(i == 50 && last > 0 && last <= kept + 2,
	      "50 pipes made and closed one after another reuse their ids", "ids walked up");
	close(prev[0]);
	close(prev[1]);
	close(keep[0]);
	close(keep[1]);
}

void robust_tests(void)
{
	ids_reused();
	bad_fds();
	bad_pointers();
	signals();
}

void still_serving(const char *when)
{
	char buf[8], what[128];
	int fd[2];

	snprintf(what, sizeof(what), "pipes and 549 still work %s", when);
	CHECK(sql_pipe(fd) == 0 && swrite(fd[1], "alive", 5) == 5 && sread(fd[0], buf, 8) == 5 &&
	      query("SELECT 1") == 0, what);
	close(fd[0]);
	close(fd[1]);
}

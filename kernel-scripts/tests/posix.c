// SPDX-License-Identifier: GPL-2.0-only
/*
 * SQL pipes against stock pipes in the same boot: each probe runs on pipe2(2) and on sql_pipe2
 * (558), and both must give the same answer, the one POSIX and Linux give: poll, select, epoll,
 * O_NONBLOCK, FIONREAD, fstat, F_GETPIPE_SZ / F_SETPIPE_SZ, O_CLOEXEC, readv / writev, lseek, and
 * writes of at most PIPE_BUF bytes from 4 writers never split. A probe answers with a number (a
 * bit per observation), so a failure names what each kind of pipe did.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include "lib.h"

typedef int (*make_fn)(int *fd, int flags);

static int stock(int *fd, int flags)
{
	return pipe2(fd, flags);
}

static int sql(int *fd, int flags)
{
	return sql_pipe2(fd, flags) ? -1 : 0;
}

/* Runs probe on a stock pipe and on an SQL pipe: both must give want. */
static void same(const char *what, long (*probe)(make_fn make), long want)
{
	long got[2] = { probe(stock), probe(sql) };
	char why[128];

	snprintf(why, sizeof(why), "stock pipe %ld, SQL pipe %ld, expected %ld", got[0], got[1], want);
	check(got[0] == want && got[1] == want, what, why);
}

static short revents(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

	return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}

static long poll_probe(make_fn make)
{
	int fd[2];
	long bits = 0;
	char c;

	if (make(fd, 0))
		return -1;
	bits |= !(revents(fd[0]) & POLLIN);
	bits |= !!(revents(fd[1]) & POLLOUT) << 1;
	write(fd[1], "x", 1);
	bits |= !!(revents(fd[0]) & POLLIN) << 2;
	read(fd[0], &c, 1);
	close(fd[1]);
	bits |= (revents(fd[0]) & (POLLHUP | POLLIN)) == POLLHUP ? 8 : 0;
	close(fd[0]);
	if (make(fd, 0))
		return -1;
	close(fd[0]);
	bits |= !!(revents(fd[1]) & POLLERR) << 4;
	close(fd[1]);
	return bits;
}

static long select_probe(make_fn make)
{
	struct timeval zero = { 0, 0 };
	fd_set r, w;
	long bits = 0;
	int fd[2];

	if (make(fd, 0))
		return -1;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(fd[0], &r);
	FD_SET(fd[1], &w);
	if (select(fd[1] + 1, &r, &w, NULL, &zero) >= 0)
		bits |= (!FD_ISSET(fd[0], &r)) | FD_ISSET(fd[1], &w) << 1;
	write(fd[1], "x", 1);
	FD_ZERO(&r);
	FD_SET(fd[0], &r);
	zero.tv_usec = 0;
	if (select(fd[0] + 1, &r, NULL, NULL, &zero) == 1)
		bits |= FD_ISSET(fd[0], &r) << 2;
	close2(fd);
	return bits;
}

/* epoll: nothing ready on an empty pipe; a write by another process wakes an epoll_wait. */
static long epoll_probe(make_fn make)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	int fd[2], ep = epoll_create1(0), status;
	long bits = 0;
	pid_t pid;

	if (ep < 0 || make(fd, 0))
		return -1;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd[0], &ev))
		return -2;
	bits |= epoll_wait(ep, &out, 1, 0) == 0;
	pid = fork();
	if (pid == 0) {
		usleep(100 * 1000);
		_exit(write(fd[1], "x", 1) == 1 ? 0 : 1);
	}
	bits |= (epoll_wait(ep, &out, 1, 3000) == 1 && (out.events & EPOLLIN)) << 1;
	waitpid(pid, &status, 0);
	close2(fd);
	close(ep);
	return bits;
}

static long nonblock_probe(make_fn make)
{
	static char big[17 * 4096];
	long bits = 0, total = 0, n;
	int fd[2];
	char c;

	if (make(fd, O_NONBLOCK))
		return -1;
	bits |= read(fd[0], &c, 1) == -1 && errno == EAGAIN;
	while ((n = write(fd[1], big, 4096)) > 0)
		total += n;
	bits |= (total == 65536 && errno == EAGAIN) << 1;
	bits |= !(revents(fd[1]) & POLLOUT) << 2;
	read(fd[0], big, 4096);
	bits |= !!(revents(fd[1]) & POLLOUT) << 3;
	close2(fd);
	if (make(fd, 0))
		return -1;
	fcntl(fd[0], F_SETFL, O_NONBLOCK);
	fcntl(fd[1], F_SETFL, O_NONBLOCK);
	bits |= (read(fd[0], &c, 1) == -1 && errno == EAGAIN) << 4;
	bits |= (write(fd[1], big, sizeof(big)) == 65536) << 5;
	close2(fd);
	return bits;
}

static long fionread_probe(make_fn make)
{
	int fd[2], n = -1;

	if (make(fd, 0))
		return -1;
	write(fd[1], "0123456789", 10);
	ioctl(fd[0], FIONREAD, &n);
	close2(fd);
	return n;
}

static long fstat_probe(make_fn make)
{
	struct stat a, b, c;
	int fd[2], fd2[2];
	long bits = 0;

	if (make(fd, 0) || make(fd2, 0))
		return -1;
	if (!fstat(fd[0], &a) && !fstat(fd[1], &b) && !fstat(fd2[0], &c))
		bits = S_ISFIFO(a.st_mode) | (a.st_ino == b.st_ino) << 1 | (a.st_ino != c.st_ino) << 2;
	close2(fd);
	close2(fd2);
	return bits;
}

static int size_fd = -1;

static long set_2m(void)
{
	return fcntl(size_fd, F_SETPIPE_SZ, 2 << 20);
}

static long size_probe(make_fn make)
{
	static char big[8192 + 100];
	int fd[2];
	long bits = 0;

	if (make(fd, O_NONBLOCK))
		return -1;
	bits |= fcntl(fd[0], F_GETPIPE_SZ) == 65536;
	bits |= (fcntl(fd[1], F_SETPIPE_SZ, 5000) == 8192) << 1;
	bits |= (fcntl(fd[0], F_GETPIPE_SZ) == 8192) << 2;
	bits |= (write(fd[1], big, sizeof(big)) == 8192) << 3;
	bits |= (fcntl(fd[1], F_SETPIPE_SZ, 4096) == -1 && errno == EBUSY) << 4;
	size_fd = fd[1];
	bits |= (run_as_nobody(set_2m) == EPERM) << 5;
	bits |= (fcntl(fd[1], F_SETPIPE_SZ, 2 << 20) == 2 << 20) << 6;
	close2(fd);
	return bits;
}

static long cloexec_probe(make_fn make)
{
	int fd[2], fd2[2];
	long bits;

	if (make(fd, O_CLOEXEC) || make(fd2, 0))
		return -1;
	bits = (!!(fcntl(fd[0], F_GETFD) & FD_CLOEXEC)) | (!!(fcntl(fd[1], F_GETFD) & FD_CLOEXEC)) << 1 |
	       (!(fcntl(fd2[0], F_GETFD) & FD_CLOEXEC)) << 2;
	close2(fd);
	close2(fd2);
	return bits;
}

static long iov_probe(make_fn make)
{
	struct iovec w[3] = { { "ab", 2 }, { "cde", 3 }, { "f", 1 } };
	char buf[16] = "", a[2], b[10];
	struct iovec r[2] = { { a, 2 }, { b, 10 } };
	int fd[2];
	long bits = 0;

	if (make(fd, 0))
		return -1;
	bits |= writev(fd[1], w, 3) == 6 && read(fd[0], buf, sizeof(buf)) == 6 && !memcmp(buf, "abcdef", 6);
	write(fd[1], "123456", 6);
	bits |= (readv(fd[0], r, 2) == 6 && !memcmp(a, "12", 2) && !memcmp(b, "3456", 4)) << 1;
	close2(fd);
	return bits;
}

static long seek_probe(make_fn make)
{
	int fd[2];
	long bits;
	char c;

	if (make(fd, 0))
		return -1;
	write(fd[1], "x", 1);
	bits = (lseek(fd[0], 0, SEEK_CUR) == -1 && errno == ESPIPE) |
	       (pread(fd[0], &c, 1, 0) == -1 && errno == ESPIPE) << 1;
	close2(fd);
	return bits;
}

#define BIG_PIPES	64

/*
 * The user's pipe budget (fs.pipe-user-pages-soft, 16384 pages by default), as user nobody in a
 * child: 64 pipes grown to 1 MiB fill it; the next pipe gets two pages and cannot grow (EPERM);
 * with the pipes closed, a new one has 64 KiB again. Answers a bit per observation.
 */
static long budget_probe(make_fn make)
{
	static int fds[BIG_PIPES + 1][2];
	int i, status, bits = 0, fd[2];
	pid_t pid = fork();

	if (pid == 0) {
		if (setuid(65534))
			_exit(255);
		for (i = 0; i < BIG_PIPES; i++)
			if (make(fds[i], 0) || fcntl(fds[i][1], F_SETPIPE_SZ, 1 << 20) != 1 << 20)
				break;
		bits |= i == BIG_PIPES;
		if (!make(fds[i], 0)) {
			bits |= (fcntl(fds[i][0], F_GETPIPE_SZ) == 8192) << 1;
			bits |= (fcntl(fds[i][1], F_SETPIPE_SZ, 65536) == -1 && errno == EPERM) << 2;
			i++;
		}
		while (i--)
			close2(fds[i]);
		bits |= (!make(fd, 0) && fcntl(fd[0], F_GETPIPE_SZ) == 65536) << 3;
		_exit(bits);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define WRITERS	4
#define RECORDS	150
#define RECORD	1000

/*
 * 4 writers write 150 records of 1000 bytes (<= PIPE_BUF), each record one byte value; the stream
 * must be whole records, 150 of each writer. 65536 is no multiple of 1000, so a pipe that split a
 * write at the edge of its capacity would show it. Answers bad records * 1000 + missing ones.
 */
static long atomic_probe(make_fn make)
{
	static char buf[WRITERS * RECORDS * RECORD];
	int fd[2], seen[WRITERS] = { 0 }, i, w, status;
	long bad = 0, missing = 0;
	size_t got = 0;
	ssize_t n;

	if (make(fd, 0))
		return -1;
	for (w = 0; w < WRITERS; w++) {
		if (fork() == 0) {
			char rec[RECORD];

			close(fd[0]);
			memset(rec, 'a' + w, sizeof(rec));
			for (i = 0; i < RECORDS; i++)
				if (write(fd[1], rec, sizeof(rec)) != sizeof(rec))
					_exit(1);
			_exit(0);
		}
	}
	close(fd[1]);
	while (got < sizeof(buf) && (n = read(fd[0], buf + got, sizeof(buf) - got)) > 0)
		got += n;
	close(fd[0]);
	for (w = 0; w < WRITERS; w++)
		wait(&status);
	for (i = 0; i + RECORD <= (int)got; i += RECORD) {
		w = buf[i] - 'a';
		if (w < 0 || w >= WRITERS || memcmp(buf + i, buf + i + 1, RECORD - 1))
			bad++;
		else
			seen[w]++;
	}
	for (w = 0; w < WRITERS; w++)
		missing += RECORDS - seen[w] > 0 ? RECORDS - seen[w] : 0;
	return bad * 1000 + missing;
}

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
	sigpipes++;
}

/*
 * A 128 KiB write into a 64 KiB pipe whose reader goes once the pipe is full: the write returns the
 * 64 KiB it wrote, and SIGPIPE comes all the same (fs/pipe.c sends it after a partial write too).
 * Answers 1 for the partial count, 2 for the signal.
 */
static long partial_sigpipe_probe(make_fn make)
{
	static char buf[2 * CAPACITY];
	int fd[2], status, i;
	pid_t pid;

	if (make(fd, 0))
		return -1;
	pid = fork();
	if (pid == 0) {
		long n;

		signal(SIGPIPE, on_sigpipe);
		close(fd[0]);
		n = write(fd[1], buf, sizeof(buf));
		_exit((n == CAPACITY) | (sigpipes == 1) << 1);
	}
	close(fd[1]);
	/* the writer is asleep on the full pipe once FIONREAD says 64 KiB (at most 5 s) */
	for (i = 0; i < 500 && (ioctl(fd[0], FIONREAD, &status) || status < CAPACITY); i++)
		usleep(10 * 1000);
	usleep(100 * 1000);
	close(fd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void posix_tests(void)
{
	char link[64] = "", path[64];
	int fd[2];

	same("poll: an empty pipe is writable, not readable; bytes make it readable; EOF hangs up; "
	     "no reader is an error", poll_probe, 31);
	same("select: an empty pipe is writable and not readable; a byte makes it readable",
	     select_probe, 7);
	same("epoll: nothing on an empty pipe; a write by another process wakes epoll_wait",
	     epoll_probe, 3);
	same("O_NONBLOCK (pipe2 flag and F_SETFL): EAGAIN when empty or full, full at 64 KiB, "
	     "a partial write, POLLOUT only with room", nonblock_probe, 63);
	same("FIONREAD counts the bytes buffered", fionread_probe, 10);
	same("fstat: a FIFO, one inode for both ends, another for another pipe", fstat_probe, 7);
	same("F_GETPIPE_SZ / F_SETPIPE_SZ: 64 KiB, rounded up to pages, holds that much, EBUSY below "
	     "its content, EPERM above pipe-max-size for a user, allowed for root", size_probe, 127);
	same("a user's pipe pages (pipe-user-pages-soft): full at 64 pipes of 1 MiB, then a pipe of "
	     "two pages that cannot grow (EPERM); closed, the pages come back", budget_probe, 15);
	same("pipe2 O_CLOEXEC sets FD_CLOEXEC on both ends, and only when asked", cloexec_probe, 7);
	same("writev is one write; readv fills its buffers in order", iov_probe, 3);
	same("lseek and pread fail with ESPIPE", seek_probe, 3);
	same("4 writers of 1000-byte records: every record whole, none lost", atomic_probe, 0);
	same("a write cut short by the reader's close returns what it wrote, and SIGPIPE comes too",
	     partial_sigpipe_probe, 3);
	if (SETUP(sql_pipe2(fd, 0)))
		return;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd[0]);
	readlink(path, link, sizeof(link) - 1);
	check(!strncmp(link, "sqlpipe:[", 9), "an SQL pipe's fd links to sqlpipe:[INODE]", link);
	CHECK(open(path, O_RDONLY) == -1 && errno == ENXIO,
	      "opening an SQL pipe's /proc/self/fd link again is refused (ENXIO)");
	CHECK(sql_pipe2(fd, O_APPEND) == -1 && errno == EINVAL, "sql_pipe2 refuses unknown flags");
	close2(fd);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest tests, run as /init's child in the QEMU guest. Each check prints "ok N - what" or
 * "not ok N - what (why)"; the last line is "P passed, F failed".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NR_HELLO_WORLD	548
#define NR_KSQLITE_QUERY	549
#define NR_SQL_PIPE	552

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

int main(void)
{
	char buf[16];
	long r;

	printf("\n");	/* the firmware leaves the console mid-line */
	memset(buf, 'x', sizeof(buf));
	r = syscall(NR_HELLO_WORLD, buf, 8UL);
	check(r == 0 && !memcmp(buf, "HELLOWO", 8),
	      "hello_world (548) copies \"HELLOWO\\0\"", strerror(errno));
	r = syscall(NR_HELLO_WORLD, buf, 4UL);
	check(r == -1 && errno == EPERM,
	      "hello_world refuses a buffer shorter than 8 bytes", strerror(errno));
	r = syscall(NR_HELLO_WORLD, (char *)8, 8UL);
	check(r == -1 && errno == EFAULT,
	      "hello_world with a bad pointer gives EFAULT", strerror(errno));
	r = syscall(NR_SQL_PIPE, buf);
	check(r == -1 && errno == ENOSYS,
	      "sql_pipe (552) is wired but not implemented yet", strerror(errno));
	r = syscall(558, 0);
	check(r == -1 && errno == ENOSYS,
	      "558 is past the SQLiteOS range", strerror(errno));
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}

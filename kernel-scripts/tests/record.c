// SPDX-License-Identifier: GPL-2.0-only
/*
 * The recorder (debugfs sqliteos/record): a child followed from its first call records its pipe,
 * its write and a readv into two iovecs at one address with the bytes the pipe gave (taken where
 * they were copied out, not read back from the buffer it overwrote), each with its digest, and its
 * exit; following a pid with no task is refused. On every kernel tree (6.12 warns on a read back
 * from a read's destination).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include "lib.h"

#define RECORD	"/sys/kernel/debug/sqliteos/record"

static char *slurp(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

/* The recording on the console, each line a TAP comment. */
static void show(const char *text)
{
	const char *nl;

	for (; *text; text = nl + 1) {
		nl = strchrnul(text, '\n');
		printf("# %.*s\n", (int)(nl - text), text);
		if (!*nl)
			break;
	}
}

static void followed_child(void)
{
	char follow[32], line[160], *text, buf[8];
	int go[2], fd[2], status, ok;
	struct iovec two[2] = { { buf, 4 }, { buf, 4 } };
	pid_t child;

	if (SETUP(pipe(go)) || SETUP(write_file(RECORD, "clear")))
		return;
	child = fork();
	if (child == 0) {
		if (read(go[0], buf, 1) != 1 || sql_pipe(fd) || swrite(fd[1], "ABCDEFGH", 8) != 8 ||
		    readv(fd[0], two, 2) != 8)
			_exit(1);
		_exit(memcmp(buf, "EFGH", 4) ? 2 : 0);
	}
	snprintf(follow, sizeof(follow), "follow %d", child);
	ok = !write_file(RECORD, follow) && write(go[1], "g", 1) == 1;
	waitpid(child, &status, 0);
	text = slurp(RECORD);
	write_file(RECORD, "stop");
	show(text);
	snprintf(line, sizeof(line), " %d write ", child);
	ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0 && strstr(text, line) &&
	      strstr(text, " = 8 8 ") && strstr(text, "4142434445464748\n");
	snprintf(line, sizeof(line), " %d read ", child);
	ok &= strstr(text, line) && strstr(text, "following 0\n") && strstr(text, "lost 0\n");
	snprintf(line, sizeof(line), " %d exit ", child);
	ok &= strstr(text, line) != NULL;
	check(ok, "a followed child's pipe, write and readv (the bytes the pipe gave) and exit are recorded",
	      "records missing or wrong (above)");
	/* the write's line and the read's both end in the same 8 bytes: the read's are not EFGHEFGH */
	check(!strstr(text, "4546474845464748"), "a readv into overlapping iovecs records what the pipe gave",
	      "it recorded the buffer as left (EFGHEFGH)");
	close(go[0]);
	close(go[1]);
	write_file(RECORD, "clear");
}

static void follow_refused(void)
{
	check(write_file(RECORD, "follow 4194303") != 0 && write_file(RECORD, "follow x") != 0,
	      "following a pid with no task, or no pid, is refused", "accepted");
}

void record_tests(void)
{
	followed_child();
	follow_refused();
}

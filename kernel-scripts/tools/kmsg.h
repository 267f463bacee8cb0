/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading back what a syscall logged (549's rows), shared by sqliteos-inspect and sqliteos-run:
 * /dev/kmsg opened at its end before the call, then its records one by one, each message unescaped
 * (/dev/kmsg writes a byte below ' ', above '~' or a backslash as \xNN). A record overwritten
 * before it was read (the ring buffer wrapped) is reported, never skipped: the rows would be wrong.
 */
#ifndef SQLITEOS_KMSG_H
#define SQLITEOS_KMSG_H

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* /dev/kmsg positioned after its last record; -1 (errno set) if it cannot be opened. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

static int kmsg_hex(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

#define KMSG_LOST	(-1)	/* records were overwritten before they were read */
#define KMSG_END	(-2)	/* no record left now */

/*
 * The next record's message, unescaped, into buf (NUL-terminated; embedded NULs are kept and
 * counted): its length (an empty record is 0), or KMSG_END, or KMSG_LOST.
 */
static long kmsg_next(int fd, char *buf, size_t size)
{
	char rec[8192];
	const unsigned char *m;
	size_t n = 0;
	ssize_t r;

	for (;;) {
		r = read(fd, rec, sizeof(rec) - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EPIPE)
			return KMSG_LOST;
		if (r <= 0)
			return KMSG_END;
		rec[r] = 0;
		m = (const unsigned char *)strchr(rec, ';');
		if (m)
			break;
	}
	for (m++; *m && *m != '\n' && n + 1 < size; m++) {
		if (m[0] == '\\' && m[1] == 'x' && isxdigit(m[2]) && isxdigit(m[3])) {
			buf[n++] = (char)(kmsg_hex(m[2]) << 4 | kmsg_hex(m[3]));
			m += 3;
		} else {
			buf[n++] = (char)*m;
		}
	}
	buf[n] = 0;
	return n;
}

/*
 * Decodes, in place, the \\xHH escapes 549 writes for control bytes and backslashes in a column's
 * name or value (a layer under /dev/kmsg's own, which kmsg_next has taken off); the new length.
 */
static size_t kmsg_unescape(char *s)
{
	char *o = s, *start = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == 'x' && isxdigit((unsigned char)s[2]) &&
		    isxdigit((unsigned char)s[3])) {
			*o++ = (char)(kmsg_hex(s[2]) << 4 | kmsg_hex(s[3]));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
	return o - start;
}

#endif

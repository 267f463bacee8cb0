/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading back what a syscall logged (549's rows), shared by sqliteos-inspect and sqliteos-run:
 * /dev/kmsg opened at its end before the call, then its records one by one, each message unescaped
 * (/dev/kmsg writes a byte below ' ', above '~' or a backslash as \xNN). A record overwritten
 * before it was read (the ring buffer wrapped) is reported, never skipped: the rows would be wrong.
 * Where the kernel says who logged each record (CONFIG_PRINTK_CALLER), records of other tasks are
 * passed over; without it two 549 calls at once read each other's rows (CONFIG_SQLITEOS selects it;
 * the published kernel lacks it).
 */
#ifndef SQLITEOS_KMSG_H
#define SQLITEOS_KMSG_H

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/*
 * How the kernel names this task in a record's header (",caller=T123"), learnt by kmsg_open; empty
 * where records name nobody. Not gettid(): the kernel's number, whatever pid namespace this runs in.
 */
static char kmsg_self[32];

/* The ",caller=..." field of a record's header (up to the ';' at end), its length in *n; NULL if none. */
static inline const char *kmsg_caller(const char *rec, const char *end, size_t *n)
{
	const char *c = memmem(rec, end - rec, ",caller=", 8);

	if (!c)
		return NULL;
	*n = strcspn(c + 1, ",;") + 1;
	return c;
}

/*
 * /dev/kmsg positioned after its last record; -1 (errno set) if it cannot be opened. It writes one
 * record of its own (debug level: no console shows it) and reads it back, to learn kmsg_self.
 */
static inline int kmsg_open(void)
{
	static const char probe[] = "<7>sqliteos: kmsg caller probe\n";
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC), w;
	char rec[8192];
	const char *m, *c;
	ssize_t r;
	size_t n;

	kmsg_self[0] = 0;
	if (fd < 0)
		return fd;
	lseek(fd, 0, SEEK_END);
	w = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (w < 0)
		return fd;
	r = write(w, probe, sizeof(probe) - 1);
	close(w);
	while (r > 0 && (r = read(fd, rec, sizeof(rec) - 1)) > 0) {
		rec[r] = 0;
		m = strchr(rec, ';');
		if (!m || strncmp(m + 1, probe + 3, sizeof(probe) - 5))
			continue;	/* another task's, logged before the probe */
		c = kmsg_caller(rec, m, &n);
		if (c && n < sizeof(kmsg_self)) {
			memcpy(kmsg_self, c, n);
			kmsg_self[n] = 0;
		}
		break;
	}
	return fd;
}

static inline int kmsg_hex(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

#define KMSG_LOST	(-1)	/* records were overwritten before they were read */
#define KMSG_END	(-2)	/* no record left now */

/*
 * Decodes the \\xHH escapes in m up to its NUL or the byte stop into o (at most size - 1 bytes, then
 * a NUL; embedded NULs are kept and counted): the length. o may be m itself (a decoding is never
 * longer).
 */
static inline size_t kmsg_decode(char *o, size_t size, const char *m, char stop)
{
	size_t n = 0;

	for (; *m && *m != stop && n + 1 < size; m++) {
		if (m[0] == '\\' && m[1] == 'x' && isxdigit((unsigned char)m[2]) &&
		    isxdigit((unsigned char)m[3])) {
			o[n++] = (char)(kmsg_hex(m[2]) << 4 | kmsg_hex(m[3]));
			m += 3;
		} else {
			o[n++] = *m;
		}
	}
	o[n] = 0;
	return n;
}

/*
 * The next record's message, unescaped, into buf (NUL-terminated; embedded NULs are kept and
 * counted): its length (an empty record is 0), or KMSG_END, or KMSG_LOST.
 */
static inline long kmsg_next(int fd, char *buf, size_t size)
{
	char rec[8192];
	const char *m, *c;
	ssize_t r;
	size_t n;

	for (;;) {
		r = read(fd, rec, sizeof(rec) - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EPIPE)
			return KMSG_LOST;
		if (r <= 0)
			return KMSG_END;
		rec[r] = 0;
		m = strchr(rec, ';');
		if (!m)
			continue;
		/*
		 * With CONFIG_PRINTK_CALLER the header names the task (or CPU, in an interrupt) that
		 * logged the record: anyone else's (a 549 running beside this one) is not ours.
		 */
		c = kmsg_caller(rec, m, &n);
		if (kmsg_self[0] && (!c || n != strlen(kmsg_self) || memcmp(c, kmsg_self, n)))
			continue;
		break;
	}
	return kmsg_decode(buf, size, m + 1, '\n');
}

/*
 * Decodes, in place, the \\xHH escapes 549 writes for control bytes and backslashes in a column's
 * name or value (a layer under /dev/kmsg's own, which kmsg_next has taken off); the new length.
 */
static inline size_t kmsg_unescape(char *s)
{
	return kmsg_decode(s, SIZE_MAX, s, 0);
}

#endif

// SPDX-License-Identifier: MIT
/*
 * sqliteos-run: a scenario process. It serves its statements over the control socket at fd
 * CTL_BASE + its scenario pid, one command at a time, and replies with what the call returned.
 */
#include "sqliteos-run.h"
#include "kmsg.h"

int send_fd(int sock, const void *msg, size_t len, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { (void *)msg, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (fd >= 0) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static int recv_cmd(int sock, struct cmd *c, int *fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { c, sizeof(*c) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n = recvmsg(sock, &mh, MSG_WAITALL);

	*fd = -1;
	if (n != sizeof(*c))
		return -1;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return 0;
}

static void write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t k;

	while (n) {
		k = write(fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			_exit(3);
		c += k;
		n -= k;
	}
}

static void reply(int ctl, struct reply *r, const void *payload)
{
	write_all(ctl, r, sizeof(*r));
	if (r->len)
		write_all(ctl, payload, r->len);
}

static long sys(long nr, long a, long b, long c)
{
	long r = syscall(nr, a, b, c);

	return r < 0 ? -errno : r;
}

static void append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = realloc(*buf, *cap);
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = 0;
}

static void append_hex(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	char h[3];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(h, sizeof(h), "%02x", (unsigned char)s[i]);
		append(buf, len, cap, h, 2);
	}
}

/*
 * 549 and its rows, read back from the kernel log: "trying to open the db" starts the call's records,
 * each row is "Query from user space: ", one "column = value" record per column, an empty record; "just
 * finished query" ends the call. Records lost to a wrap of the log's ring buffer make the query fail
 * with -EOVERFLOW. The SQL goes with its NUL: the published 549 copies exactly the length it is given
 * and runs it as a C string.
 */
long log_query(const char *sql, size_t len, int idx, char **rows, size_t *rlen)
{
	char msg[8192], head[64], *eq;
	size_t cap = 0;
	int kmsg = kmsg_open(), inrow = 0, started = 0;
	long ret, n;

	/*
	 * Out of the scenario's way: the query may sleep, and a thread sharing this fd table would
	 * otherwise find the lowest free fd taken by /dev/kmsg meanwhile, and its pipe other fds.
	 */
	if (kmsg >= 0 && kmsg < KMSG_FD_BASE) {
		n = fcntl(kmsg, F_DUPFD_CLOEXEC, KMSG_FD_BASE);
		close(kmsg);
		kmsg = n;
	}
	ret = sys(NR_KSQLITE_QUERY, (long)sql, len + 1, 0);
	*rows = NULL;
	*rlen = 0;
	if (kmsg < 0)
		return ret;
	while ((n = kmsg_next(kmsg, msg, sizeof(msg))) != KMSG_END) {
		if (n == KMSG_LOST) {
			/* The ring buffer wrapped: the rows would be wrong, so the query fails visibly. */
			ret = -EOVERFLOW;
			break;
		}
		if (!started) {
			started = strstr(msg, "trying to open the db") != NULL;
			continue;
		}
		if (strstr(msg, "just finished query"))
			break;
		if (!strncmp(msg, "Query from user space:", 22)) {
			if (inrow)
				append(rows, rlen, &cap, "\n", 1);
			snprintf(head, sizeof(head), "row %d", idx);
			append(rows, rlen, &cap, head, strlen(head));
			inrow = 1;
		} else if (inrow && (eq = strstr(msg, " = "))) {
			*eq = 0;
			append(rows, rlen, &cap, " ", 1);
			append_hex(rows, rlen, &cap, msg, kmsg_unescape(msg));
			append(rows, rlen, &cap, " ", 1);
			if (!strcmp(eq + 3, "NULL"))
				append(rows, rlen, &cap, "~", 1);
			else
				append_hex(rows, rlen, &cap, eq + 3, kmsg_unescape(eq + 3));
		}
	}
	if (inrow)
		append(rows, rlen, &cap, "\n", 1);
	close(kmsg);
	return ret;
}

void serve(int self)
{
	int ctl = CTL_BASE + self;

	for (;;) {
		struct reply r = { 0 };
		struct cmd c;
		const struct stmt *s;
		char *payload = NULL;
		size_t plen = 0;
		int passed;
		long ret = 0;

		if (recv_cmd(ctl, &c, &passed) < 0)
			_exit(4);
		if (c.idx < 0 || c.idx >= nstmts)
			_exit(5);
		s = &stmts[c.idx];
		r.idx = c.idx;
		switch (s->op) {
		case OP_PIPE: {
			int fd[2] = { -1, -1 };

			if (s->flags)
				ret = sys(NR_SQL_PIPE2, (long)fd, s->flags, 0);
			else
				ret = sys(NR_SQL_PIPE, (long)fd, 0, 0);
			r.fd[0] = fd[0];
			r.fd[1] = fd[1];
			break;
		}
		case OP_FORK:
		case OP_THREAD: {
			int child = (int)s->a;
			pid_t pid;

			if (passed < 0 || dup2(passed, CTL_BASE + child) < 0)
				_exit(6);
			close(passed);
			if (s->op == OP_FORK)
				pid = fork();
			else
				pid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
			if (pid == 0) {
				if (s->op == OP_FORK) {
					/* its own fd table: only its own control socket */
					close_range(CTL_BASE, CTL_BASE + child - 1, 0);
					close_range(CTL_BASE + child + 1, ~0U, 0);
				}
				serve(child);
			}
			if (s->op == OP_FORK)
				close(CTL_BASE + child);
			ret = pid < 0 ? -errno : pid;
			break;
		}
		case OP_WRITE:
			ret = sys(NR_SQL_PIPE_WRITE, c.fd, (long)s->data, s->len);
			break;
		case OP_READ:
			/*
			 * Touched first: a buffer not in memory makes the kernel drop its locks to
			 * fault it in, which may reorder the write mutex's waiters (a scheduling
			 * freedom the simulator does not model).
			 */
			payload = malloc(s->b ? s->b : 1);
			if (payload)
				memset(payload, 0, s->b ? s->b : 1);
			ret = sys(NR_SQL_PIPE_READ, c.fd, (long)payload, s->b);
			plen = ret > 0 ? ret : 0;
			break;
		case OP_CLOSE:
			ret = close(c.fd) < 0 ? -errno : 0;
			break;
		case OP_BEGIN:
			ret = sys(NR_SQL_BEGIN, s->flags ? s->flags : 4, 0, 0);
			break;
		case OP_COMMIT:
		case OP_ROLLBACK:
			ret = sys(NR_SQL_END, s->op == OP_COMMIT, 0, 0);
			break;
		case OP_SAVEPOINT:
		case OP_RELEASE:
		case OP_ROLLBACK_TO:
			ret = sys(NR_SQL_SAVEPOINT + (s->op - OP_SAVEPOINT), (long)s->data, s->len, 0);
			break;
		case OP_QUERY:
			ret = log_query((const char *)s->data, s->len, s->idx, &payload, &plen);
			break;
		case OP_EXIT:
			r.exiting = 1;
			r.ns = now_ns();
			reply(ctl, &r, NULL);
			_exit(0);
		}
		r.ret = ret;
		r.ns = now_ns();
		r.len = plen;
		reply(ctl, &r, payload);
		free(payload);
	}
}

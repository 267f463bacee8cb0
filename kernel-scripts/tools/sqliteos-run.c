// SPDX-License-Identifier: MIT
/*
 * sqliteos-run: runs a scenario on the real kernel with real processes, in the simulator's default
 * schedule, and prints what happened for the companion to turn into `sqliteos run --json`'s contract.
 *
 * The scenario comes as a plan (the companion compiles .sqlos files; this program never parses them):
 *
 *	sqliteos-plan 1
 *	capacity BYTES				optional: sqliteos.pipe_capacity for the run
 *	s LINE PID pipe RSLOT WSLOT		each statement, in file order; slots name fd labels
 *	s LINE PID fork|thread CHILD
 *	s LINE PID write SLOT HEX | read SLOT N | close SLOT
 *	s LINE PID exit | begin | commit | query HEX
 *	end
 *
 * fork is fork(2), thread is clone(CLONE_FILES), pipe/read/write are syscalls 552/550/551, close is
 * close(2), begin/commit are 553(4)/554(1), query is 549 with its rows read back from /dev/kmsg.
 *
 * Each scenario process serves its statements over a control socket at fd CTL_BASE + its scenario
 * pid, far above the scenario's own fds (0-2 are /dev/null, so pipes start at 3 as in the simulator).
 * This program, the coordinator, hands out one statement at a time: the runnable process with the
 * lowest next line runs it to completion or until it sleeps. Sleeping is observed, never guessed: the
 * process is listed on an SQLiteOS wait queue in debugfs and /proc says it is asleep. Before the next
 * statement every process is quiescent (finished its statement or asleep). SIGPIPE is ignored, so a
 * write to a pipe without readers shows its -EPIPE, as in the simulator.
 *
 * Output, one record per line: "pid P REALPID", "give IDX" (a statement handed out: what completes
 * until the next give completed in its round), "done IDX NS RET [FD0 FD1 DATAID | HEX]" (NS: the
 * monotonic clock when the call returned), "row IDX COL HEX COL HEX ..." (a query's rows, before its
 * done; "~" is NULL), "unbound IDX", "asleep P QUEUE", "error TEXT", then "inspect" followed by
 * sqliteos-inspect's JSON when --inspect names it, and "end ok|deadlock|error".
 *
 * Usage: sqliteos-run [--inspect PATH] [--settle-ms N] < PLAN. Needs root (debugfs, 549).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "kmsg.h"
#include "sqliteos-nr.h"

#define CTL_BASE	1000
#define MAX_PROCS	64
#define MAX_STMTS	4096
#define MAX_SLOTS	512
#define DEBUGFS		"/sys/kernel/debug/sqliteos"
#define CAPACITY_PARAM	"/sys/module/sqliteos/parameters/pipe_capacity"

enum op { OP_PIPE, OP_FORK, OP_THREAD, OP_WRITE, OP_READ, OP_CLOSE, OP_EXIT, OP_BEGIN, OP_COMMIT, OP_QUERY };
static const char *const op_names[] = { "pipe", "fork", "thread", "write", "read", "close", "exit", "begin", "commit", "query" };

struct stmt {
	int line, pid, idx;
	enum op op;
	long a, b;		/* pipe: slots; fork/thread: child; read: slot, n; write/close: slot */
	unsigned char *data;	/* write: bytes; query: SQL (NUL-terminated) */
	size_t len;
};

struct cmd {
	int32_t idx;
	int32_t fd;
};

struct reply {
	int32_t idx;
	int32_t exiting;
	int64_t ret;
	int64_t ns;
	int32_t fd[2];
	uint32_t len;
};

enum pstate { P_NONE, P_IDLE, P_RUNNING, P_ASLEEP, P_EXITING, P_EXITED };

struct proc {
	enum pstate state;
	pid_t real;
	int ctl;		/* the coordinator's end */
	int next;		/* index into its own statement list */
	int running;		/* the statement index it runs */
	char queue[64];
	int seen_asleep;
};

static struct stmt stmts[MAX_STMTS];
static int nstmts, capacity = -1;
static int slots[MAX_SLOTS];
static int settle_ms = 20000;
static const char *inspect_path;

static struct proc procs[MAX_PROCS + 1];

/* Ends the run: says why, and leaves no scenario process behind. */
static void die(const char *fmt, ...)
{
	va_list ap;
	int p;

	for (p = 1; p <= MAX_PROCS; p++)
		if (procs[p].real > 0)
			kill(procs[p].real, SIGKILL);

	printf("error ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\nend error\n");
	fflush(stdout);
	exit(2);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static unsigned char *unhex(const char *s, size_t *len, int line)
{
	size_t n = strlen(s), i;
	unsigned char *out;

	if (n % 2)
		die("plan line %d: odd hex length", line);
	out = malloc(n / 2 + 1);
	for (i = 0; i < n / 2; i++) {
		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]))
			die("plan line %d: bad hex", line);
		out[i] = kmsg_hex(s[2 * i]) << 4 | kmsg_hex(s[2 * i + 1]);
	}
	out[n / 2] = 0;
	*len = n / 2;
	return out;
}

static void read_plan(FILE *in)
{
	char *big = NULL, opname[16];
	int lineno = 0, ended = 0;
	size_t cap = 0;
	ssize_t got;

	while ((got = getline(&big, &cap, in)) > 0) {
		struct stmt *s = &stmts[nstmts];
		char *hex;
		int i, k;

		lineno++;
		if (big[got - 1] == '\n')
			big[--got] = 0;
		if (lineno == 1) {
			if (strcmp(big, "sqliteos-plan 1"))
				die("plan line 1: expected 'sqliteos-plan 1', got '%.40s'", big);
			continue;
		}
		if (!strcmp(big, "end")) {
			ended = 1;
			break;
		}
		if (sscanf(big, "capacity %d", &capacity) == 1)
			continue;
		if (nstmts == MAX_STMTS)
			die("plan line %d: more than %d statements", lineno, MAX_STMTS);
		if (sscanf(big, "s %d %d %15s %n", &s->line, &s->pid, opname, &k) != 3)
			die("plan line %d: cannot read '%.40s'", lineno, big);
		for (i = 0; i <= OP_QUERY && strcmp(op_names[i], opname); i++)
			;
		if (i > OP_QUERY)
			die("plan line %d: unknown op %s", lineno, opname);
		if (s->pid < 1 || s->pid > MAX_PROCS)
			die("plan line %d: P%d is out of range (1-%d)", lineno, s->pid, MAX_PROCS);
		s->op = i;
		s->idx = nstmts;
		hex = big + k;
		switch (s->op) {
		case OP_PIPE:
		case OP_READ:
			if (sscanf(hex, "%ld %ld", &s->a, &s->b) != 2)
				die("plan line %d: %s needs two numbers", lineno, opname);
			break;
		case OP_FORK:
		case OP_THREAD:
		case OP_CLOSE:
			if (sscanf(hex, "%ld", &s->a) != 1)
				die("plan line %d: %s needs a number", lineno, opname);
			break;
		case OP_WRITE:
			if (sscanf(hex, "%ld %n", &s->a, &k) != 1)
				die("plan line %d: write needs a slot", lineno);
			s->data = unhex(hex + k, &s->len, lineno);
			break;
		case OP_QUERY:
			s->data = unhex(hex, &s->len, lineno);
			break;
		default:
			break;
		}
		if ((s->op == OP_PIPE && (s->a < 0 || s->a >= MAX_SLOTS || s->b < 0 || s->b >= MAX_SLOTS)) ||
		    ((s->op == OP_READ || s->op == OP_WRITE || s->op == OP_CLOSE) && (s->a < 0 || s->a >= MAX_SLOTS)) ||
		    ((s->op == OP_FORK || s->op == OP_THREAD) && (s->a < 2 || s->a > MAX_PROCS)) ||
		    (s->op == OP_READ && (s->b < 0 || s->b > (1 << 24))))
			die("plan line %d: argument out of range", lineno);
		nstmts++;
	}
	free(big);
	if (!ended)
		die("plan: no 'end' line (cut short after %d lines)", lineno);
}

/* ---- a scenario process ---- */

static int send_fd(int sock, const void *msg, size_t len, int fd)
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
 * 549 and its rows, read back from the kernel log: each row is "Query from user space: ", one
 * "column = value" record per column, an empty record; "just finished query" ends the call. Records
 * lost to a wrap of the log's ring buffer make the query fail with -EOVERFLOW.
 */
static long query(const struct stmt *s, char **rows, size_t *rlen)
{
	char msg[8192], head[64], *eq;
	size_t cap = 0;
	int kmsg = kmsg_open(), inrow = 0;
	long ret, n;

	ret = sys(NR_KSQLITE_QUERY, (long)s->data, s->len, 0);
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
		if (strstr(msg, "just finished query"))
			break;
		if (!strncmp(msg, "Query from user space:", 22)) {
			if (inrow)
				append(rows, rlen, &cap, "\n", 1);
			snprintf(head, sizeof(head), "row %d", s->idx);
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

static void serve(int self) __attribute__((noreturn));

static void serve(int self)
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
			ret = sys(NR_SQL_BEGIN, 4, 0, 0);
			break;
		case OP_COMMIT:
			ret = sys(NR_SQL_END, 1, 0, 0);
			break;
		case OP_QUERY:
			ret = query(s, &payload, &plen);
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

/* ---- the coordinator ---- */

/* The state letter of /proc/PID/stat, or 0 when the process is gone. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

static char *slurp(const char *path)
{
	size_t cap = 1 << 14, len = 0;
	char *buf = malloc(cap);
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		die("cannot read %s: %s (is debugfs mounted and this the companion kernel?)", path, strerror(errno));
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len < 4096)
			buf = realloc(buf, cap *= 2);
	}
	close(fd);
	buf[len] = 0;
	return buf;
}

/* The SQLiteOS queue a pid is listed on, copied to out; 0 when it is on none. */
static int queue_of(pid_t pid, char *out, size_t size)
{
	char *text = slurp(DEBUGFS "/queues"), *line, *save, *tok, *save2;
	int found = 0;

	for (line = strtok_r(text, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "queue\t", 6))
			continue;
		tok = strtok_r(line + 6, "\t", &save2);
		if (!tok)
			continue;
		snprintf(out, size, "%s", tok);
		while ((tok = strtok_r(NULL, "\t", &save2)))
			if (atoi(tok) == pid)
				found = 1;
	}
	free(text);
	return found;
}

/* The dataId of a pipe end, from /proc/PID/fdinfo/FD (the companion kernel's sqliteos-pipe line). */
static long long fdinfo_data_id(pid_t pid, int fd)
{
	char path[64], line[128];
	long long id = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		sscanf(line, "sqliteos-pipe:\t%lld", &id);
	fclose(f);
	return id;
}

static void read_full(int fd, void *p, size_t n, int who)
{
	char *c = p;
	ssize_t k;

	while (n) {
		k = read(fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			die("P%d: its control socket closed mid-reply (did it crash?)", who);
		c += k;
		n -= k;
	}
}

static void print_hex(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static void complete(int p)
{
	struct proc *pr = &procs[p];
	struct reply r;
	const struct stmt *s;
	char *payload = NULL;

	read_full(pr->ctl, &r, sizeof(r), p);
	if (r.idx != pr->running)
		die("P%d answered statement %d while running %d", p, r.idx, pr->running);
	s = &stmts[r.idx];
	if (r.len) {
		payload = malloc(r.len + 1);
		read_full(pr->ctl, payload, r.len, p);
		payload[r.len] = 0;
	}
	if (r.exiting) {
		pr->state = P_EXITING;
		return;
	}
	switch (s->op) {
	case OP_PIPE: {
		long long data_id = -1;

		if (r.ret == 0) {
			slots[s->a] = r.fd[0];
			slots[s->b] = r.fd[1];
			data_id = fdinfo_data_id(pr->real, r.fd[0]);
		}
		printf("done %d %lld %lld %d %d %lld\n", r.idx, (long long)r.ns, (long long)r.ret, r.fd[0], r.fd[1], data_id);
		break;
	}
	case OP_FORK:
	case OP_THREAD:
		if (r.ret > 0) {
			struct proc *c = &procs[s->a];

			c->real = r.ret;
			c->state = P_IDLE;
			printf("pid %ld %lld\n", s->a, (long long)r.ret);
		}
		printf("done %d %lld %lld\n", r.idx, (long long)r.ns, (long long)r.ret);
		break;
	case OP_READ:
		printf("done %d %lld %lld ", r.idx, (long long)r.ns, (long long)r.ret);
		print_hex((unsigned char *)payload, r.len);
		printf("\n");
		break;
	case OP_QUERY:
		if (payload)
			fputs(payload, stdout);
		printf("done %d %lld %lld\n", r.idx, (long long)r.ns, (long long)r.ret);
		break;
	default:
		printf("done %d %lld %lld\n", r.idx, (long long)r.ns, (long long)r.ret);
	}
	free(payload);
	pr->state = P_IDLE;
	pr->seen_asleep = 0;
}

/*
 * Waits until every process that was given a statement has finished it, or is asleep on an SQLiteOS
 * queue (seen twice in a row, a poll apart), or has exited.
 */
static void settle(void)
{
	int64_t start = now_ns();

	for (;;) {
		struct pollfd pfd[MAX_PROCS];
		int who[MAX_PROCS], n = 0, busy = 0, p, i;

		for (p = 1; p <= MAX_PROCS; p++) {
			struct proc *pr = &procs[p];

			if (pr->state == P_EXITING) {
				char st = proc_state(pr->real);

				if (st == 0 || st == 'Z' || st == 'X') {
					pr->state = P_EXITED;
					close(pr->ctl);
					printf("done %d %lld 0\n", pr->running, (long long)now_ns());
				} else {
					busy = 1;
				}
			}
			if (pr->state == P_RUNNING || pr->state == P_ASLEEP) {
				pfd[n].fd = pr->ctl;
				pfd[n].events = POLLIN;
				who[n++] = p;
			}
		}
		/* always a real sleep: at a higher real-time priority, spinning would starve the scenario */
		if (poll(pfd, n, 1) > 0) {
			for (i = 0; i < n; i++)
				if (pfd[i].revents)
					complete(who[i]);
			continue;
		}
		for (i = 0; i < n; i++) {
			struct proc *pr = &procs[who[i]];
			char st = proc_state(pr->real), q[64];

			if (st == 0 || st == 'Z' || st == 'X')
				die("P%d (pid %d) died in line %d", who[i], pr->real, stmts[pr->running].line);
			if ((st == 'S' || st == 'D') && queue_of(pr->real, q, sizeof(q))) {
				if (pr->seen_asleep++ >= 1) {
					pr->state = P_ASLEEP;
					snprintf(pr->queue, sizeof(pr->queue), "%s", q);
				}
				if (pr->state != P_ASLEEP)
					busy = 1;
			} else {
				pr->state = P_RUNNING;
				pr->seen_asleep = 0;
				busy = 1;
			}
		}
		if (!busy)
			return;
		if (now_ns() - start > (int64_t)settle_ms * 1000000)
			for (p = 1; p <= MAX_PROCS; p++)
				if (procs[p].state == P_RUNNING || procs[p].state == P_EXITING)
					die("P%d (pid %d) neither finished line %d nor went to sleep on an SQLiteOS queue in %d ms (state %c)",
					    p, procs[p].real, stmts[procs[p].running].line, settle_ms, proc_state(procs[p].real));
	}
}

/* The statement a process runs next, or NULL. */
static const struct stmt *next_of(int p)
{
	int i, k = 0;

	for (i = 0; i < nstmts; i++)
		if (stmts[i].pid == p && k++ == procs[p].next)
			return &stmts[i];
	return NULL;
}

static int give(int p)
{
	struct proc *pr = &procs[p];
	const struct stmt *s = next_of(p);
	struct cmd c = { s->idx, -1 };
	int pass = -1, sv[2];

	pr->next++;
	printf("give %d\n", s->idx);
	if (s->op == OP_READ || s->op == OP_WRITE || s->op == OP_CLOSE) {
		if (slots[s->a] < 0) {
			printf("unbound %d %lld\n", s->idx, (long long)now_ns());
			return 0;
		}
		c.fd = slots[s->a];
	}
	if (s->op == OP_FORK || s->op == OP_THREAD) {
		if (procs[s->a].state != P_NONE)
			die("line %d: P%ld exists already", s->line, s->a);
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			die("socketpair: %s", strerror(errno));
		procs[s->a].ctl = sv[0];
		pass = sv[1];
	}
	if (send_fd(pr->ctl, &c, sizeof(c), pass) < 0)
		die("P%d: cannot send line %d: %s", p, s->line, strerror(errno));
	if (pass >= 0)
		close(pass);
	pr->running = s->idx;
	pr->state = P_RUNNING;
	pr->seen_asleep = 0;
	return 1;
}

static void start_p1(void)
{
	int sv[2], null;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		struct sched_param sp = { .sched_priority = 1 };

		/*
		 * One real-time priority for every scenario process (children inherit it): a task that wakes
		 * another runs on to the end of its statement or until it sleeps, as in the simulator, and
		 * the woken run after it in the order they were woken. Without it, a wake-up could preempt.
		 */
		sched_setscheduler(0, SCHED_FIFO, &sp);
		null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (dup2(sv[1], CTL_BASE + 1) < 0)
			_exit(7);
		close_range(3, CTL_BASE, 0);
		close_range(CTL_BASE + 2, ~0U, 0);
		serve(1);
	}
	close(sv[1]);
	procs[1].ctl = sv[0];
	procs[1].real = pid;
	procs[1].state = P_IDLE;
	printf("pid 1 %d\n", pid);
}

static void set_capacity(int value, char *old, size_t size)
{
	FILE *f = fopen(CAPACITY_PARAM, "r");

	if (!f)
		die("cannot read %s: %s (the scenario sets @capacity)", CAPACITY_PARAM, strerror(errno));
	if (!fgets(old, size, f))
		old[0] = 0;
	fclose(f);
	old[strcspn(old, "\n")] = 0;
	f = fopen(CAPACITY_PARAM, "w");
	if (!f || fprintf(f, "%d\n", value) < 0 || fclose(f))
		die("cannot set %s to %d: %s", CAPACITY_PARAM, value, strerror(errno));
}

static void restore_capacity(const char *old)
{
	FILE *f = fopen(CAPACITY_PARAM, "w");

	if (f) {
		fprintf(f, "%s\n", old);
		fclose(f);
	}
}

static void run_inspect(void)
{
	pid_t pid;
	int status;

	printf("inspect\n");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execl(inspect_path, inspect_path, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		die("%s failed (status %d)", inspect_path, status);
	printf("\n");
}

int main(int argc, char **argv)
{
	char old_capacity[32] = "";
	int i, p, asleep = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--inspect") && i + 1 < argc)
			inspect_path = argv[++i];
		else if (!strcmp(argv[i], "--settle-ms") && i + 1 < argc)
			settle_ms = atoi(argv[++i]);
		else
			die("usage: sqliteos-run [--inspect PATH] [--settle-ms N] < PLAN");
	}
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	printf("sqliteos-run 1\n");
	read_plan(stdin);
	for (i = 0; i < MAX_SLOTS; i++)
		slots[i] = -1;
	if (access(DEBUGFS "/queues", R_OK))
		die("%s/queues: %s (the runner needs the companion kernel, debugfs mounted, and root)", DEBUGFS, strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	{
		/* above the scenario's processes, so it sees each reply at once */
		struct sched_param sp = { .sched_priority = 2 };

		if (sched_setscheduler(0, SCHED_FIFO, &sp))
			printf("note no real-time priority (%s): wake-ups may preempt\n", strerror(errno));
	}
	if (capacity >= 0)
		set_capacity(capacity, old_capacity, sizeof(old_capacity));
	start_p1();
	for (;;) {
		int best = 0, line = 0;

		settle();
		for (p = 1; p <= MAX_PROCS; p++) {
			const struct stmt *s;

			if (procs[p].state != P_IDLE || !(s = next_of(p)))
				continue;
			if (!best || s->line < line) {
				best = p;
				line = s->line;
			}
		}
		if (!best)
			break;
		give(best);
		fflush(stdout);
	}
	for (p = 1; p <= MAX_PROCS; p++)
		if (procs[p].state == P_ASLEEP) {
			printf("asleep %d %s\n", p, procs[p].queue);
			asleep++;
		}
	if (inspect_path)
		run_inspect();
	for (p = 1; p <= MAX_PROCS; p++)
		if (procs[p].state != P_NONE && procs[p].state != P_EXITED)
			kill(procs[p].real, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	if (capacity >= 0 && old_capacity[0])
		restore_capacity(old_capacity);
	printf("end %s\n", asleep ? "deadlock" : "ok");
	fflush(stdout);
	return 0;
}

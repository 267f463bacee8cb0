// SPDX-License-Identifier: MIT
/*
 * sqliteos-run: runs a scenario on the real kernel with real processes, in the simulator's default
 * schedule, and prints what happened for the companion to turn into `sqliteos run --json`'s contract.
 *
 * The scenario comes as a plan (the companion compiles .sqlos files; this program never parses them):
 *
 *	sqliteos-plan 1
 *	capacity BYTES				optional: sqliteos.pipe_capacity for the run
 *	s LINE PID pipe RSLOT WSLOT [nonblock]	each statement, in file order; slots name fd labels
 *	s LINE PID fork|thread CHILD
 *	s LINE PID write SLOT HEX | read SLOT N | close SLOT
 *	s LINE PID exit | begin [write] | commit | rollback | query HEX
 *	s LINE PID savepoint|release|rollback_to HEX
 *	end
 *
 * fork is fork(2), thread is clone(CLONE_FILES), pipe/read/write are syscalls 552/550/551 (a
 * nonblock pipe is 558 with O_NONBLOCK; the published kernel has no 558: -ENOSYS), close is
 * close(2), begin / begin write / commit / rollback are 553(4) / 553(8) / 554(1) / 554(0),
 * savepoint / release / rollback_to are 555 / 556 / 557 with the name, query is 549 with its rows
 * read back from /dev/kmsg.
 *
 * Each scenario process serves its statements over a control socket at fd CTL_BASE + its scenario
 * pid, far above the scenario's own fds (0-2 are /dev/null, so pipes start at 3 as in the simulator).
 * This program, the coordinator, hands out one statement at a time: the runnable process with the
 * lowest next line runs it to completion or until it sleeps. Sleeping is observed, never guessed: the
 * process is listed on an SQLiteOS wait queue in debugfs and /proc says it is asleep (on the published
 * kernel, --upstream: /proc says it is asleep and its wchan names an SQLiteOS function). Before the next
 * statement every process is quiescent (finished its statement or asleep). SIGPIPE is ignored, so a
 * write to a pipe without readers shows its -EPIPE, as in the simulator.
 *
 * Output, one record per line: "pid P REALPID", "give IDX" (a statement handed out: what completes
 * until the next give completed in its round), "done IDX NS RET [FD0 FD1 DATAID | HEX]" (NS: the
 * monotonic clock when the call returned), "row IDX COL HEX COL HEX ..." (a query's rows, before its
 * done; "~" is NULL), "unbound IDX", "asleep P QUEUE", "error TEXT", then "inspect" followed by
 * sqliteos-inspect's JSON when --inspect names it, and "end ok|deadlock|error".
 *
 * --upstream runs on the published kernel: no debugfs (sleeps from wchan, run-observer.c; which pipe a
 * reader sleeps on, from that kernel's own lookup of its fd: read_dataid), no
 * capacity parameter, and the inspection is of the run's own processes' rows only (the published
 * kernel keeps every row of every process it ever ran). A process asleep at the end is left asleep,
 * never killed: a signal to a reader asleep on a pipe corrupts that kernel, and one asleep on a lock
 * cannot die (the "asleep" lines name them).
 *
 * Usage: sqliteos-run [--upstream] [--inspect PATH] [--settle-ms N] < PLAN. Needs root (debugfs, 549).
 */
#include "sqliteos-run.h"

static int slots[MAX_SLOTS];
static int settle_ms = 20000, upstream;
static const char *inspect_path;

static struct proc procs[MAX_PROCS + 1];

/* Ends the run: says why, and leaves no scenario process behind. */
void die(const char *fmt, ...)
{
	va_list ap;
	int p;

	/* On the published kernel a reader asleep on a pipe is left asleep: a signal there corrupts it. */
	for (p = 1; p <= MAX_PROCS; p++)
		if (procs[p].real > 0 && !(upstream && procs[p].state == P_ASLEEP))
			kill(procs[p].real, SIGKILL);

	printf("error ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\nend error\n");
	fflush(stdout);
	exit(2);
}

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
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
			if ((st == 'S' || st == 'D') &&
			    (upstream ? wchan_queue(pr->real, st, q, sizeof(q)) : queue_of(pr->real, q, sizeof(q)))) {
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
	char pids[MAX_PROCS * 12 + 1] = "";
	size_t len = 0;
	pid_t pid;
	int status, p;

	for (p = 1; p <= MAX_PROCS; p++)
		if (procs[p].real > 0)
			len += snprintf(pids + len, sizeof(pids) - len, "%s%d", len ? "," : "", procs[p].real);
	printf("inspect\n");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (upstream)
			execl(inspect_path, inspect_path, "--upstream", "--pids", pids, (char *)NULL);
		else
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
	int i, p, asleep = 0, left = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--inspect") && i + 1 < argc)
			inspect_path = argv[++i];
		else if (!strcmp(argv[i], "--settle-ms") && i + 1 < argc)
			settle_ms = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--upstream"))
			upstream = 1;
		else
			die("usage: sqliteos-run [--upstream] [--inspect PATH] [--settle-ms N] < PLAN");
	}
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	printf("sqliteos-run 1\n");
	read_plan(stdin);
	for (i = 0; i < MAX_SLOTS; i++)
		slots[i] = -1;
	if (upstream && capacity >= 0)
		die("the published kernel has no pipe capacity to set (the plan asks for %d)", capacity);
	if (!upstream && access(DEBUGFS "/queues", R_OK))
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
	for (p = 1; p <= MAX_PROCS; p++) {
		struct proc *pr = &procs[p];

		if (pr->state != P_ASLEEP)
			continue;
		if (upstream && !strncmp(pr->queue, "store.", 6))
			die("P%d is asleep on %s at the end: the published kernel's store is held (PENDING), so its tables cannot be read (549 would wait too)",
			    p, pr->queue);
		if (!strcmp(pr->queue, "pipe-read")) {
			int fd = slots[stmts[pr->running].a];
			long long id = read_dataid(pr->real, fd);

			if (id < 0)
				die("P%d is asleep in sql_pipe_read, but the kernel's lookup of its fd %d finds no pipe", p, fd);
			snprintf(pr->queue, sizeof(pr->queue), "pipe.%lld.read_wq", id);
		}
		printf("asleep %d %s\n", p, pr->queue);
		asleep++;
	}
	if (inspect_path)
		run_inspect();
	for (p = 1; p <= MAX_PROCS; p++) {
		if (procs[p].state == P_NONE || procs[p].state == P_EXITED)
			continue;
		if (upstream && procs[p].state == P_ASLEEP) {
			left++;
			continue;
		}
		kill(procs[p].real, SIGKILL);
		waitpid(procs[p].real, NULL, 0);
	}
	if (!left)
		while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
			;
	if (capacity >= 0 && old_capacity[0])
		restore_capacity(old_capacity);
	printf("end %s\n", asleep ? "deadlock" : "ok");
	fflush(stdout);
	return 0;
}

// SPDX-License-Identifier: MIT
/* sqliteos-run: what /proc and the companion kernel's debugfs say about a scenario process. */
#include "sqliteos-run.h"
#include "kmsg.h"

/* /proc/PID/NAME's first size - 1 bytes into buf, NUL-terminated: 0 when it cannot be read or is empty. */
static int proc_read(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return 1;
}

/* The state letter of /proc/PID/stat, or 0 when the process is gone. */
char proc_state(pid_t pid)
{
	char buf[512], *p;

	if (!proc_read(pid, "stat", buf, sizeof(buf)))
		return 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

char *slurp(const char *path)
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
int queue_of(pid_t pid, char *out, size_t size)
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
long long fdinfo_data_id(pid_t pid, int fd)
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

/*
 * The published kernel has no debugfs: the queue a task sleeps on is told by /proc/PID/wchan (the
 * first function on its stack outside the scheduler) and its state. Asleep reading an empty pipe:
 * interruptibly in sql_pipe_read ("pipe-read": which pipe, read_dataid says); on the store's
 * queues in the reconstructed MMemLock's two wait functions; on the write mutex: uninterruptibly in
 * any other SQLiteOS function (mutex_lock is a scheduler function, so wchan names its caller).
 */
int wchan_queue(pid_t pid, char state, char *out, size_t size)
{
	char fn[128];

	if (!proc_read(pid, "wchan", fn, sizeof(fn)))
		return 0;
	if (!strcmp(fn, "MMemWaitReadQ"))
		snprintf(out, size, "store.read_q");
	else if (!strcmp(fn, "MMemWaitWriteQ"))
		snprintf(out, size, "store.write_q");
	else if (state == 'S' && strstr(fn, "sql_pipe_read"))
		snprintf(out, size, "pipe-read");
	else if (state == 'D' && (strstr(fn, "ksqlite") || strstr(fn, "sys_sql")))
		snprintf(out, size, "write_mutex");
	else
		return 0;
	return 1;
}

/*
 * The pipe a reader asleep in the published sql_pipe_read sleeps on: the first row of that kernel's own
 * lookup (pid_pipe joined through pid_store's handler, by fd and calling pid), run through 549 on the
 * same tables by the same SQLite. A process may hold one fd number for two pipes there (a forked child
 * gets its parent's rows, and its own pipe the same numbers), so the label it read is not enough.
 */
long long read_dataid(pid_t pid, int fd)
{
	char sql[512], *rows = NULL, *p, *q;
	size_t len = 0;
	long long id = -1;

	snprintf(sql, sizeof(sql),
		 "SELECT pipe_data.dataId FROM pid_pipe JOIN pipe_data ON pipe_data.dataId = pid_pipe.dataId "
		 "JOIN pid_store ON pid_store.parent_id = pid_pipe.pid WHERE fd = %d AND pid_store.pid = %d",
		 fd, pid);
	if (log_query(sql, strlen(sql), 0, &rows, &len) < 0 || !rows)
		return -1;
	/* "row 0 COLHEX VALHEX": the value of the first row's one column, in hex */
	p = strchr(rows + 4, ' ');
	p = p ? strchr(p + 1, ' ') : NULL;
	if (p) {
		int digits = 0;

		id = 0;
		for (q = p + 1; isxdigit((unsigned char)q[0]) && isxdigit((unsigned char)q[1]); q += 2, digits++) {
			int c = kmsg_hex(q[0]) << 4 | kmsg_hex(q[1]);

			if (c < '0' || c > '9' || digits > 17)
				break;
			id = id * 10 + c - '0';
		}
		/* NULL ("~"), empty or not a whole number: no pipe */
		if (!digits || (*q && *q != ' ' && *q != '\n'))
			id = -1;
	}
	free(rows);
	return id;
}

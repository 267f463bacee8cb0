// SPDX-License-Identifier: GPL-2.0-only
/*
 * sqliteos-inspect: prints a SQLiteOS kernel's state as one JSON object on stdout.
 *
 * On the companion kernel it reads /sys/kernel/debug/sqliteos/ (mounting debugfs if needed): the
 * four tables, locks, queues, pipes and counters, in the format kernel-scripts/README.md describes.
 * On the published kernel (no debugfs directory) it falls back to syscall 549 and the kernel log:
 * one SELECT * per table, rows parsed from the published log format; tables only.
 *
 * With --query SQL it runs that one statement through 549 instead and prints
 * {"format":1,"query":{"rows":[{"column":value,...},...]}} (549's own refusals apply).
 *
 * With --kind it only says which kernel this is, {"format":1,"kernel":"companion|upstream"}, reading no
 * table (the published kernel's tables come through its log, and grow with every process it ever ran).
 *
 * With --hello it only asks syscall 548 (open to every user on both kernels) whether this is a
 * SQLiteOS kernel at all: {"format":1,"hello":true}, or exit 1 naming the error (ENOSYS: not one).
 *
 * With --upstream --pids LIST (comma-separated pids: sqliteos-run's scenario processes) only the rows
 * of those processes and of the pipes they hold are read, and pipe_data's data as its length and a
 * blob literal of its first 400 bytes (x'HEX': 549 prints values as C strings, which end at a NUL byte,
 * and a log record holds about 1000 characters). The published kernel never
 * deletes a row, so SELECT * grows with everything the machine ever ran, and past the kernel log.
 *
 * Usage: sqliteos-inspect [--debugfs DIR] [--upstream [--pids LIST]] [--query SQL | --hello | --kind]. Needs root. Exit status 0, or
 * 1 with a message on stderr naming what could not be read.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "kmsg.h"
#include "sqliteos-nr.h"

#define FORMAT_VERSION		1

static const char *tables[] = { "pid_store", "pid_pipe", "pipe_data", "pipe_chunk" };

static void json_string(const char *s, size_t n)
{
	size_t i;

	putchar('"');
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static int is_integer(const char *s)
{
	if (*s == '-')
		s++;
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

#define HEXDIGITS	"0123456789abcdefABCDEF"

/*
 * Is s a blob of the debugfs format, x<len>:<hex>[/<digest>] (the digest: 16 hex digits, the
 * SHA-256 of every byte; kernels before it send none), with nothing else after the colon?
 */
static int is_blob(const char *s)
{
	const char *hex = strchr(s, ':');
	size_t n;

	if (s[0] != 'x' || !hex || hex == s + 1 || strspn(s + 1, "0123456789") != (size_t)(hex - s - 1))
		return 0;
	n = strspn(hex + 1, HEXDIGITS);
	if (!hex[1 + n])
		return 1;
	return hex[1 + n] == '/' && strspn(hex + 2 + n, HEXDIGITS) == 16 && !hex[18 + n];
}

/*
 * One value of the debugfs format: 12, NULL, "text" (C escapes, \xNN for other bytes), x<len>:<hex>.
 * Anything else, or an escape cut short, is shown as the text it is (escaped for JSON), never
 * passed through raw or read past.
 */
static void json_value(const char *v)
{
	char *out, *o;
	const char *p;

	if (!strcmp(v, "NULL")) {
		fputs("null", stdout);
	} else if (is_integer(v) && strlen(v) < 20) {
		fputs(v, stdout);
	} else if (is_blob(v)) {
		const char *hex = strchr(v, ':') + 1, *digest = strchr(hex, '/');

		printf("{\"blob\":%ld,\"hex\":\"%.*s\"", strtol(v + 1, NULL, 10),
		       (int)(digest ? digest - hex : (long)strlen(hex)), hex);
		if (digest)
			printf(",\"digest\":\"%s\"", digest + 1);
		putchar('}');
	} else if (v[0] == '"') {
		out = o = malloc(strlen(v) + 1);
		for (p = v + 1; *p && *p != '"' ; p++) {
			if (*p == '\\' && p[1] == 'x' && isxdigit((unsigned char)p[2]) &&
			    isxdigit((unsigned char)p[3])) {
				*o++ = (char)(kmsg_hex(p[2]) << 4 | kmsg_hex(p[3]));
				p += 3;
			} else if (*p == '\\' && p[1]) {
				*o++ = *++p;
			} else {
				*o++ = *p;
			}
		}
		json_string(out, o - out);
		free(out);
	} else {
		json_string(v, strlen(v));
	}
}

static char *fields[4096];

/* Splits line at tabs; the number of fields. */
static int split(char *line, char **f)
{
	int n = 0;

	line[strcspn(line, "\n")] = 0;
	f[n++] = line;
	while (n < 4096 && (line = strchr(line, '\t'))) {
		*line++ = 0;
		f[n++] = line;
	}
	return n;
}

/* Opens one debugfs file and checks its version line. */
static FILE *open_state(const char *dir, const char *name)
{
	char path[512], line[256];
	FILE *f;
	int v = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "sqliteos-inspect: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	if (!fgets(line, sizeof(line), f) || sscanf(line, "sqliteos-debugfs %d", &v) != 1 ||
	    v != FORMAT_VERSION) {
		fprintf(stderr, "sqliteos-inspect: %s:1: not format %d: %s", path, FORMAT_VERSION, line);
		exit(1);
	}
	return f;
}

static void list(const char *sep, int *first)
{
	fputs(*first ? "" : sep, stdout);
	*first = 0;
}

/* The pids of pid_store's rows, for their command names (proc_names). */
static long *row_pids;
static size_t n_row_pids, cap_row_pids;

static void note_pid(const char *s)
{
	size_t cap = n_row_pids ? 2 * n_row_pids : 256;
	long *more;

	if (!is_integer(s))
		return;
	if (n_row_pids == cap_row_pids) {
		more = realloc(row_pids, cap * sizeof(*row_pids));
		if (!more)
			return;	/* names are extra: a pid without one shows as a number */
		row_pids = more;
		cap_row_pids = cap;
	}
	row_pids[n_row_pids++] = atol(s);
}

static void table(const char *dir, const char *name)
{
	FILE *f = open_state(dir, name);
	int n, i, first = 1, open = 0, pidcol = 0;
	char *line = NULL;
	size_t cap = 0;

	printf("\"%s\":{", name);
	while (getline(&line, &cap, f) > 0) {
		n = split(line, fields);
		if (!strcmp(fields[0], "columns")) {
			fputs("\"columns\":[", stdout);
			for (i = 1; i < n; i++) {
				fputs(i > 1 ? "," : "", stdout);
				json_string(fields[i], strlen(fields[i]));
				if (!strcmp(name, "pid_store") && !strcmp(fields[i], "pid"))
					pidcol = i;
			}
			fputs("],\"rows\":[", stdout);
			open = 1;
		} else if (!strcmp(fields[0], "row")) {
			if (pidcol && pidcol < n)
				note_pid(fields[pidcol]);
			list(",", &first);
			putchar('[');
			for (i = 1; i < n; i++) {
				if (i > 1)
					putchar(',');
				json_value(fields[i]);
			}
			putchar(']');
		} else if (!strcmp(fields[0], "rows")) {
			printf("],\"count\":%s", fields[1]);
			open = 0;
		} else if (!strcmp(fields[0], "busy")) {
			printf("%s\"busy\":", open ? "]," : "");
			json_string(fields[1], strlen(fields[1]));
			open = 0;
		}
	}
	putchar('}');
	free(line);
	fclose(f);
}

/* The lines of one state file that start with tag (and have min fields), as a JSON array. */
static void array(const char *dir, const char *file, const char *key, const char *tag, int min,
		  void (*emit)(char **f, int n))
{
	FILE *f = open_state(dir, file);
	char line[8192];
	int n, first = 1;

	printf("\"%s\":[", key);
	while (fgets(line, sizeof(line), f)) {
		n = split(line, fields);
		if (strcmp(fields[0], tag) || n < min)
			continue;
		list(",", &first);
		emit(fields, n);
	}
	putchar(']');
	fclose(f);
}

static void emit_conn(char **f, int n)
{
	printf("{\"store\":\"%s\",\"id\":%s,\"level\":\"%s\",\"owner\":%s}", f[1], f[2], f[3], f[4]);
}

static void emit_txn(char **f, int n)
{
	printf("{\"pid\":%s,\"kind\":\"%s\"}", f[1], f[2]);
}

static void emit_queue(char **f, int n)
{
	int i;

	printf("{\"name\":\"%s\",\"pids\":[", f[1]);
	for (i = 2; i < n; i++)
		printf("%s%s", i > 2 ? "," : "", f[i]);
	fputs("]}", stdout);
}

static void emit_pipe(char **f, int n)
{
	printf("{\"dataId\":%s,\"buffered\":%s,\"reader\":%s,\"writer\":%s}", f[1], f[3],
	       !strcmp(f[5], "1") ? "true" : "false", !strcmp(f[7], "1") ? "true" : "false");
}

/* locks' one-line facts: the store, the write mutex, the jobs kept for later. */
static void lock_facts(const char *dir)
{
	FILE *f = open_state(dir, "locks");
	char line[8192];
	int n;

	while (fgets(line, sizeof(line), f)) {
		n = split(line, fields);
		if (!strcmp(fields[0], "store") && n >= 6)
			printf(",\"store\":{\"name\":\"%s\",\"current_max_lock\":\"%s\","
			       "\"num_readers\":%s}", fields[1], fields[3], fields[5]);
		else if (!strcmp(fields[0], "write_mutex") && n >= 4)
			printf(",\"write_mutex\":{\"owner\":%s,\"depth\":%s}", fields[1], fields[3]);
		else if (!strcmp(fields[0], "deferred_jobs") && n >= 2)
			printf(",\"deferred_jobs\":%s", fields[1]);
	}
	fclose(f);
}

static void counters(const char *dir)
{
	FILE *f = open_state(dir, "counters");
	char line[256];
	int n, first = 1;

	fputs(",\"counters\":{", stdout);
	while (fgets(line, sizeof(line), f)) {
		n = split(line, fields);
		if (n < 2)
			continue;
		list(",", &first);
		printf("\"%s\":%s", fields[0], fields[1]);
	}
	putchar('}');
	fclose(f);
}

static void state(const char *dir)
{
	fputs(",\"locks\":{", stdout);
	array(dir, "locks", "conns", "conn", 5, emit_conn);
	putchar(',');
	array(dir, "locks", "txns", "txn", 3, emit_txn);
	lock_facts(dir);
	fputs("},", stdout);
	array(dir, "queues", "queues", "queue", 2, emit_queue);
	putchar(',');
	array(dir, "pipes", "pipes", "pipe", 8, emit_pipe);
	counters(dir);
}

/* ---- the published kernel: 549 and its kernel-log format ---- */

/*
 * Text from the kernel log as a JSON string: valid UTF-8 passes, any other byte is written as the
 * Latin-1 character of the same value (\u0080-\u00ff), so nothing is dropped or turned into U+FFFD.
 */
static void json_log_string(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, k, len;

	putchar('"');
	for (i = 0; i < n; i++) {
		len = u[i] < 0x80 ? 1 : (u[i] & 0xe0) == 0xc0 ? 2 : (u[i] & 0xf0) == 0xe0 ? 3 :
		      (u[i] & 0xf8) == 0xf0 ? 4 : 0;
		for (k = 1; len > 1 && k < len; k++)
			if (i + k >= n || (u[i + k] & 0xc0) != 0x80)
				len = 0;
		if (len == 1 && (u[i] == '"' || u[i] == '\\'))
			printf("\\%c", u[i]);
		else if (len == 1 && u[i] < 0x20)
			printf("\\u%04x", u[i]);
		else if (len == 0)
			printf("\\u%04x", u[i]);
		else
			fwrite(u + i, 1, len, stdout);
		if (len > 1)
			i += len - 1;
	}
	putchar('"');
}

/*
 * One value of the published log format: NULL, an integer, or text as sqlite3_exec gave it (549's
 * escapes taken off).
 */
static void log_value(char *v)
{
	if (!strcmp(v, "NULL"))
		fputs("null", stdout);
	else if (is_integer(v) && strlen(v) < 20)
		fputs(v, stdout);
	else
		json_log_string(v, kmsg_unescape(v));
}

/*
 * The published 549 ends with printk("just finished query"), no newline: the log keeps such a record
 * open for a continuation and /dev/kmsg shows it only once another record starts. One of our own (at
 * debug level, so no console shows it) closes it.
 */
static void kmsg_flush(void)
{
	static const char mark[] = "<7>sqliteos-inspect: end of query\n";
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, mark, sizeof(mark) - 1) < 0)
			;	/* then the end record may be missing, and that is reported */
		close(fd);
	}
}

/*
 * Runs one statement through 549 and prints its rows, parsed from the kernel log, as
 * {"rows":[{"col":value,...},...]}; the number of rows. The kernel refuses what 549 refuses (not root,
 * not read-only). The rows are read from this call's own records (/dev/kmsg, opened at its end before
 * the call), one record at a time, so a value holding a newline stays one value: from its "trying to
 * open the db" up to "just finished query". If the ring buffer lost any of them (a result bigger than
 * the log), that is an error, not a shorter or misaligned table.
 */
static long log_query(const char *sql, int print)
{
	int first_row = 1, first_col = 1, in_row = 0, started = 0, done = 0, kmsg = kmsg_open();
	static char l[8192];
	long rows = 0, n = 0;
	char *eq;

	if (kmsg < 0) {
		fprintf(stderr, "sqliteos-inspect: /dev/kmsg: %s\n", strerror(errno));
		exit(1);
	}
	/* The NUL counts: the published 549 copies exactly len bytes and runs them as a C string. */
	if (syscall(NR_KSQLITE_QUERY, sql, strlen(sql) + 1) < 0) {
		fprintf(stderr, "sqliteos-inspect: syscall 549 (%s): %s\n", sql, strerror(errno));
		exit(1);
	}
	kmsg_flush();
	while (!done && (n = kmsg_next(kmsg, l, sizeof(l))) >= 0) {
		if (!started) {
			started = strstr(l, "trying to open the db") != NULL;
			if (started && print)
				fputs("{\"rows\":[", stdout);
			continue;
		}
		eq = in_row ? strstr(l, " = ") : NULL;
		if (strstr(l, "Query from user space:") == l) {
			if (print) {
				list(",", &first_row);
				putchar('{');
			}
			in_row = 1;
			first_col = 1;
			rows++;
		} else if (eq) {
			*eq = 0;
			if (print) {
				list(",", &first_col);
				json_log_string(l, kmsg_unescape(l));
				putchar(':');
				log_value(eq + 3);
			}
		} else if (in_row && !*l) {
			if (print)
				putchar('}');
			in_row = 0;
		} else if (strstr(l, "just finished query")) {
			done = 1;
		} else if (!strncmp(l, "SQL Error:", 10)) {
			fprintf(stderr, "sqliteos-inspect: %s: %s\n", sql, l);
			exit(1);
		}
	}
	close(kmsg);
	if (n == KMSG_LOST || !started) {
		fprintf(stderr, "sqliteos-inspect: %s: the kernel log does not hold this query's records (the ring buffer wrapped: the result is bigger than the log; boot with a larger log_buf_len=)\n", sql);
		exit(1);
	}
	if (!done) {
		fprintf(stderr, "sqliteos-inspect: %s: the kernel log holds only part of the result (%ld rows, no end record): another writer to the log or a ring buffer too small (log_buf_len=)\n", sql, rows);
		exit(1);
	}
	if (print) {
		if (in_row)
			putchar('}');
		fputs("]}", stdout);
	}
	return rows;
}

/* The published kernel's tables: the paper's three, and its sqlfs's two where the kernel has them. */
static const char *upstream_tables[] = { "pid_store", "pid_pipe", "pipe_data", "inode", "partitioned_data" };

/* The run's own rows: its processes' and their pipes' (whoever else holds those pipes). */
static void run_tables_json(const char *pids)
{
	static char sql[1024];
	static const char *const fmt[] = {
		"SELECT * FROM pid_store WHERE pid IN (%s)",
		"SELECT * FROM pid_pipe WHERE dataId IN (SELECT dataId FROM pid_pipe WHERE pid IN (%s))",
		"SELECT dataId, read_wq, write_wq, CASE WHEN data IS NULL THEN NULL ELSE 'x''' || hex(substr(data, 1, 400)) || '''' END AS data, "
		"length(data) AS \"data.length\" FROM pipe_data WHERE dataId IN (SELECT dataId FROM pid_pipe WHERE pid IN (%s))",
	};
	size_t i;

	for (i = 0; i < 3; i++) {
		if (i)
			putchar(',');
		snprintf(sql, sizeof(sql), fmt[i], pids);
		printf("\"%s\":", upstream_tables[i]);
		log_query(sql, 1);
	}
}

static void upstream_tables_json(void)
{
	char sql[128];
	size_t i;
	int first = 1;

	for (i = 0; i < sizeof(upstream_tables) / sizeof(upstream_tables[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '%s'",
			 upstream_tables[i]);
		if (i >= 3 && !log_query(sql, 0))
			continue;
		list(",", &first);
		snprintf(sql, sizeof(sql), "SELECT * FROM %s", upstream_tables[i]);
		printf("\"%s\":", upstream_tables[i]);
		log_query(sql, 1);
	}
}

/*
 * The published kernel says nothing of its processes but their rows: what /proc says of each live one,
 * as "procs":[[pid,"state letter","wchan"],...] (a pid_store row without an entry is a process gone).
 */
/* /proc/PID/NAME's first size - 1 bytes, NUL-terminated (empty if unreadable): their length. */
static ssize_t proc_file(const char *pid, const char *name, char *buf, size_t size)
{
	char path[300];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/%s", pid, name);
	fd = open(path, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, buf, size - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n;
}

/*
 * /proc/PID/stat ("pid (comm) S ppid ..."): its command name into comm (NUL-terminated, its length in
 * *len), state letter and parent pid. 0, or -1 for a process gone (or not one).
 */
static int proc_stat(const char *pid, char *comm, size_t size, size_t *len, char *state, long *ppid)
{
	char buf[512], *open, *close;

	if (proc_file(pid, "stat", buf, sizeof(buf)) <= 0)
		return -1;
	open = strchr(buf, '(');
	close = strrchr(buf, ')');
	if (!open || !close || close < open || sscanf(close + 1, " %c %ld", state, ppid) != 2)
		return -1;
	*len = (size_t)(close - open - 1) < size - 1 ? (size_t)(close - open - 1) : size - 1;
	memcpy(comm, open + 1, *len);
	comm[*len] = 0;
	return 0;
}

static void proc_states(void)
{
	char wchan[128], comm[64], state;
	struct dirent *d;
	int first = 1;
	size_t len;
	long ppid;
	DIR *dir = opendir("/proc");

	fputs(",\"procs\":[", stdout);
	while (dir && (d = readdir(dir))) {
		if (!isdigit((unsigned char)d->d_name[0]) ||
		    proc_stat(d->d_name, comm, sizeof(comm), &len, &state, &ppid))
			continue;
		proc_file(d->d_name, "wchan", wchan, sizeof(wchan));
		list(",", &first);
		printf("[%s,\"%c\",", d->d_name, state);
		json_log_string(wchan, strlen(wchan));
		putchar(']');
	}
	if (dir)
		closedir(dir);
	putchar(']');
}

/* The parent of pid, 0 if unreadable. */
static long parent_of(long pid)
{
	char name[24], comm[64], state;
	size_t len;
	long ppid;

	snprintf(name, sizeof(name), "%ld", pid);
	return proc_stat(name, comm, sizeof(comm), &len, &state, &ppid) ? 0 : ppid;
}

/* This helper up to its SSH session (not the daemon init started it from), and how many. */
static long mine[64];
static size_t n_mine;

static int is_mine(long pid)
{
	size_t i;

	for (i = 0; i < n_mine; i++)
		if (mine[i] == pid)
			return 1;
	return 0;
}

/*
 * Prints [pid,"comm"] (a process gone gives nothing): whether it is one of the companion's own, the
 * helper's chain up to the session or an SFTP server the session runs beside it (the extension copies
 * the helper over SFTP). Everything else under the session (sqliteos-run's scenario processes) is the
 * user's.
 */
static int comm_entry(const char *pid, int *first)
{
	char comm[64], state;
	size_t len;
	long ppid;

	if (proc_stat(pid, comm, sizeof(comm), &len, &state, &ppid))
		return 0;
	list(",", first);
	printf("[%s,", pid);
	json_log_string(comm, len);
	putchar(']');
	return is_mine(atol(pid)) || (n_mine && ppid == mine[n_mine - 1] && !strcmp(comm, "sftp-server"));
}

/*
 * What /proc calls each process, "names":{"comm":[[pid,"comm"],...],"own":[pid,...]}: the command
 * names of pid_store's pids (all: of every process, where pid_store came through 549 unparsed here),
 * and the companion's own among them (comm_entry), so that a view can set them apart from the user's.
 */
static void proc_names(int all)
{
	char pid[24];
	struct dirent *d;
	DIR *dir = NULL;
	size_t i, n_own = 0, cap = 0;
	long p, up, *owns = NULL, *more;
	int first = 1;

	for (p = getpid(), up = parent_of(p); p > 1 && up > 1 && n_mine < 64; p = up, up = parent_of(p))
		mine[n_mine++] = p;
	fputs(",\"names\":{\"comm\":[", stdout);
	if (all)
		dir = opendir("/proc");
	for (i = 0;; i++) {
		if (all) {
			d = dir ? readdir(dir) : NULL;
			if (!d)
				break;
			if (!isdigit((unsigned char)d->d_name[0]) || strlen(d->d_name) >= sizeof(pid))
				continue;
			strcpy(pid, d->d_name);
		} else {
			if (i == n_row_pids)
				break;
			snprintf(pid, sizeof(pid), "%ld", row_pids[i]);
		}
		if (!comm_entry(pid, &first))
			continue;
		if (n_own == cap) {
			more = realloc(owns, (cap ? 2 * cap : 16) * sizeof(*owns));
			if (!more)
				continue;	/* then it is listed as the user's */
			owns = more;
			cap = cap ? 2 * cap : 16;
		}
		owns[n_own++] = atol(pid);
	}
	if (dir)
		closedir(dir);
	fputs("],\"own\":[", stdout);
	for (i = 0, first = 1; i < n_own; i++) {
		list(",", &first);
		printf("%ld", owns[i]);
	}
	free(owns);
	fputs("]}", stdout);
}

int main(int argc, char **argv)
{
	const char *dir = "/sys/kernel/debug/sqliteos";
	const char *query = NULL, *pids = NULL;
	int upstream = 0, hello = 0, kind = 0, i;
	char buf[8];
	struct stat sb;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--debugfs") && i + 1 < argc) {
			dir = argv[++i];
		} else if (!strcmp(argv[i], "--upstream")) {
			upstream = 1;
		} else if (!strcmp(argv[i], "--query") && i + 1 < argc) {
			query = argv[++i];
		} else if (!strcmp(argv[i], "--hello")) {
			hello = 1;
		} else if (!strcmp(argv[i], "--kind")) {
			kind = 1;
		} else if (!strcmp(argv[i], "--pids") && i + 1 < argc && *argv[i + 1] &&
			   strspn(argv[i + 1], "0123456789,") == strlen(argv[i + 1]) && strlen(argv[i + 1]) < 700) {
			pids = argv[++i];
		} else {
			fprintf(stderr, "usage: sqliteos-inspect [--debugfs DIR] [--upstream [--pids LIST]] [--query SQL | --hello | --kind]\n");
			return 2;
		}
	}
	if (hello) {
		if (syscall(NR_HELLO_WORLD, buf, sizeof(buf)) < 0) {
			fprintf(stderr, "sqliteos-inspect: syscall 548: %s\n", strerror(errno));
			return 1;
		}
		printf("{\"format\":%d,\"hello\":true}\n", FORMAT_VERSION);
		return 0;
	}
	if (query) {
		printf("{\"format\":%d,\"query\":", FORMAT_VERSION);
		log_query(query, 1);
		puts("}");
		return 0;
	}
	if (!upstream && stat(dir, &sb) && stat("/sys/kernel/debug/sqliteos", &sb) &&
	    !mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL))
		;	/* mounted it: the stat below decides */
	if (!upstream && stat(dir, &sb))
		upstream = 1;
	if (kind) {
		printf("{\"format\":%d,\"kernel\":\"%s\"}\n", FORMAT_VERSION, upstream ? "upstream" : "companion");
		return 0;
	}
	printf("{\"format\":%d,\"kernel\":\"%s\",\"tables\":{", FORMAT_VERSION,
	       upstream ? "upstream" : "companion");
	if (upstream && pids)
		run_tables_json(pids);
	else if (upstream)
		upstream_tables_json();
	for (i = 0; !upstream && i < 4; i++) {
		if (i)
			putchar(',');
		table(dir, tables[i]);
	}
	putchar('}');
	if (!upstream)
		state(dir);
	else
		proc_states();
	proc_names(upstream);
	puts("}");
	return 0;
}

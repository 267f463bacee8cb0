// SPDX-License-Identifier: GPL-2.0-only
/*
 * bw_sqlpipe and lat_sqlpipe: our own programs after lmbench's method (not its code), for SQL pipes
 * (552/550/551) and, with --stock, for pipe(2) in the same boot. One binary; argv[0] picks the test.
 *
 *   bw_sqlpipe [--stock] [--chunk B] [--ahead N] [--procs N] [--runs R]
 *                          B-byte chunks (64 KiB) from a writer process to a reader process, 4 MiB a
 *                          run (at least 4 chunks), median of R runs (11)
 *   lat_sqlpipe [--stock] [--procs N] [--runs R] [--trips T]
 *                          1-byte ping-pong between two processes, T (1000) round trips a run
 *
 * --paced: the paper's method (its section 4: 64 KiB chunks, the writer one chunk ahead): the reader
 * acknowledges each chunk over a stock pipe and the writer waits for the acknowledgement of the chunk
 * before the last one, so at most two chunks are ever buffered; configuration "paper".
 * --config NAME: the runs' configuration is called NAME in the output (e.g. "recorded": the same runs
 * with the recorder following the program, bench-record.sh).
 * --published: the published SQLiteOS kernel's ABI (551 returns 0 for a whole write) and fixed-size
 * runs without warm-up (each of its reads leaks a connection: a long run would exhaust the guest).
 *
 * --ahead N: the writer is N chunks ahead of the reader the whole time (the pipe's capacity is set to
 * N + 1 chunks: sqliteos.pipe_capacity, or F_SETPIPE_SZ). --procs N: N extra processes each holding
 * a pipe of the same kind stay alive during the runs. Prints lmbench's text line (median) and one
 * JSON object per run; with SQL pipes, also where the time went (debugfs counters).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../tools/sqliteos-nr.h"

#define MAX_RUNS	101
#define ROUND_TRIPS	1000
/* A run lasts at least this long (the guest's clock may tick in 4 ms steps): lmbench's benchmp does the same. */
#define MIN_SECONDS	0.1
#define CAPACITY_PARAM	"/sys/module/sqliteos/parameters/pipe_capacity"
#define COUNTERS	"/sys/kernel/debug/sqliteos/counters"

static int stock, ahead, procs, runs = 11, paced, published, trips = ROUND_TRIPS;
static size_t chunk = 64 * 1024, total = 4 * 1024 * 1024;
static const char *config = "plain";
/* --config NAME: the configuration's name in the output instead (the same runs under another condition) */
static const char *label;

static int mkpipe(int fd[2])
{
	return stock ? pipe(fd) : (int)syscall(NR_SQL_PIPE, fd);
}

static long rd(int fd, void *buf, size_t n)
{
	return stock ? read(fd, buf, n) : syscall(NR_SQL_PIPE_READ, fd, buf, n);
}

static long wr(int fd, const void *buf, size_t n)
{
	long r;

	if (stock)
		return write(fd, buf, n);
	r = syscall(NR_SQL_PIPE_WRITE, fd, buf, n);
	return published && r == 0 ? (long)n : r;
}

static void die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return v[n / 2];
}

/* Writes n bytes, all of them. */
static void wr_all(int fd, const char *buf, size_t n)
{
	long w;

	while (n) {
		w = wr(fd, buf, n);
		if (w <= 0)
			die("write");
		buf += w;
		n -= w;
	}
}

/* Reads n bytes into buf, a chunk at most at a time (buf holds one chunk). */
static void rd_all(int fd, char *buf, size_t n)
{
	long r;

	while (n) {
		r = rd(fd, buf, n < chunk ? n : chunk);
		if (r <= 0)
			die("read");
		n -= r;
	}
}

static long set_capacity(long bytes)
{
	char old[32] = "";
	FILE *f = fopen(CAPACITY_PARAM, "r");

	if (f) {
		if (!fgets(old, sizeof(old), f))
			old[0] = 0;
		fclose(f);
	}
	f = fopen(CAPACITY_PARAM, "w");
	if (!f)
		die(CAPACITY_PARAM);
	fprintf(f, "%ld\n", bytes);
	fclose(f);
	return atol(old);
}

/* One bandwidth run: seconds to read `reps` x `total` bytes, the writer ahead by `ahead` chunks. */
static double bw_run(char *buf, int reps)
{
	int fd[2], go[2], ack[2], status;
	double t0, t;
	pid_t w;
	char c;

	if (mkpipe(fd) || pipe(go))
		die("pipe");
	if (stock && ahead && fcntl(fd[1], F_SETPIPE_SZ, (int)((ahead + 1) * chunk)) < 0)
		die("F_SETPIPE_SZ");
	if (paced && pipe(ack))
		die("pipe");
	w = fork();
	if (w == 0) {
		int i;

		close(fd[0]);
		for (i = 0; i < ahead; i++)
			wr_all(fd[1], buf, chunk);
		write(go[1], "g", 1);
		for (i = 0; i < (int)(total / chunk) * reps; i++) {
			if (paced && i >= 2 && read(ack[0], &c, 1) != 1)
				die("ack");
			wr_all(fd[1], buf, chunk);
		}
		_exit(0);
	}
	close(fd[1]);
	read(go[0], &c, 1);
	t0 = now();
	if (paced) {
		for (size_t k = 0; k < total / chunk * reps; k++) {
			rd_all(fd[0], buf, chunk);
			if (write(ack[1], "a", 1) != 1)
				die("ack");
		}
	} else {
		rd_all(fd[0], buf, total * reps);
	}
	t = now() - t0;
	if (paced) {
		close(ack[0]);
		close(ack[1]);
	}
	if (ahead)
		rd_all(fd[0], buf, (size_t)ahead * chunk);
	waitpid(w, &status, 0);
	close(fd[0]);
	close(go[0]);
	close(go[1]);
	return t;
}

/* One latency run: microseconds per round trip, over `reps` x ROUND_TRIPS of them. */
static double lat_run(int reps)
{
	int there[2], back[2], i, status;
	double t0;
	pid_t echo;
	char c = 'x';

	if (mkpipe(there) || mkpipe(back))
		die("pipe");
	echo = fork();
	if (echo == 0) {
		for (;;) {
			if (rd(there[0], &c, 1) != 1 || c == 'q')
				_exit(0);
			wr(back[1], &c, 1);
		}
	}
	wr(there[1], &c, 1);	/* warm the path */
	rd(back[0], &c, 1);
	t0 = now();
	for (i = 0; i < trips * reps; i++) {
		wr(there[1], &c, 1);
		rd(back[0], &c, 1);
	}
	t0 = (now() - t0) / ((double)trips * reps) * 1e6;
	/*
	 * Told to stop, not killed: a signal to a reader asleep in the published kernel's 550 frees its
	 * connection twice (published/checks.c, part signal), and every later figure would come from a
	 * damaged kernel. A stock pipe or the companion's would take the signal; the byte does for all.
	 */
	c = 'q';
	wr(there[1], &c, 1);
	waitpid(echo, &status, 0);
	close(there[0]);
	close(there[1]);
	close(back[0]);
	close(back[1]);
	return t0;
}

static long counter(const char *text, const char *name)
{
	const char *p = strstr(text, name);

	return p ? atol(p + strlen(name) + 1) : 0;
}

static void read_counters(char *out, size_t n)
{
	int fd = open(COUNTERS, O_RDONLY);
	ssize_t got = fd < 0 ? 0 : read(fd, out, n - 1);

	out[got > 0 ? got : 0] = 0;
	if (fd >= 0)
		close(fd);
}

static void release(pid_t *pids, int n);

/* N processes, each holding a pipe of the kind measured, alive until killed. */
static pid_t *hold(int n)
{
	pid_t *pids = calloc(n, sizeof(*pids));
	int ready[2], i;
	char c;

	if (pipe(ready))
		die("pipe");
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			fprintf(stderr, "fork of holder %d: %s\n", i, strerror(errno));
			release(pids, i);
			exit(1);
		}
		if (pids[i] == 0) {
			int fd[2];

			if (mkpipe(fd))
				_exit(1);
			wr(fd[1], "h", 1);
			write(ready[1], "r", 1);
			pause();
			_exit(0);
		}
	}
	for (i = 0; i < n; i++)
		if (read(ready[0], &c, 1) != 1)
			die("holder");
	close(ready[0]);
	close(ready[1]);
	return pids;
}

static void release(pid_t *pids, int n)
{
	int i, status;

	for (i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	for (i = 0; i < n; i++)
		waitpid(pids[i], &status, 0);
	free(pids);
}

int main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	int bw = !strncmp(name, "bw", 2), i;
	static char before[4096], after[4096];
	static char cfg[32];
	long old_capacity = 0;
	double v[MAX_RUNS], m;
	int reps = 1;
	char *buf;
	pid_t *holders = NULL;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--stock"))
			stock = 1;
		else if (!strcmp(argv[i], "--ahead") && i + 1 < argc)
			ahead = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--procs") && i + 1 < argc)
			procs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--chunk") && i + 1 < argc)
			chunk = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--trips") && i + 1 < argc)
			trips = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--paced"))
			paced = 1;
		else if (!strcmp(argv[i], "--published"))
			published = 1;
		else if (!strcmp(argv[i], "--config") && i + 1 < argc && strlen(argv[i + 1]) < 32 &&
			 strspn(argv[i + 1], "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(argv[i + 1]))
			label = argv[++i];
		else {
			fprintf(stderr, "usage: %s [--stock] [--published] [--chunk BYTES] [--ahead N | --paced] [--procs N] [--runs R] [--trips T] [--config NAME]\n", name);
			return 2;
		}
	}
	if (chunk < 1 || chunk > 16 << 20 || runs < 1 || runs > MAX_RUNS || ahead < 0 || procs < 0 || trips < 1 ||
	    (paced && ahead)) {
		fprintf(stderr, "%s: --chunk 1..16777216, --runs 1..%d, --trips >= 1, --ahead and --procs >= 0, --paced without --ahead\n", name, MAX_RUNS);
		return 2;
	}
	if (total < 4 * chunk)
		total = 4 * chunk;
	total -= total % chunk;
	buf = malloc(chunk);
	if (!buf)
		die("malloc");
	if (paced)
		config = "paper";
	else if (ahead)
		snprintf(cfg, sizeof(cfg), "ahead%d", ahead), config = cfg;
	else if (procs)
		snprintf(cfg, sizeof(cfg), "procs%d", procs), config = cfg;
	if (label)
		config = label;
	memset(buf, 'b', chunk);
	signal(SIGPIPE, SIG_IGN);
	if (!stock && ahead)
		old_capacity = set_capacity((long)(ahead + 1) * chunk);
	if (procs) {
		holders = hold(procs);
		/*
		 * Starting 10,000 processes leaves the guest's one CPU busy for several seconds (the first
		 * runs after it measured up to 5x slower, SQL and stock alike); measure the steady state.
		 */
		sleep(15);
	}
	/* Warm-up, not counted, doubling the repetitions until a run lasts MIN_SECONDS (not --published). */
	while (!published && (bw ? bw_run(buf, reps) : lat_run(reps) * trips * reps / 1e6) < MIN_SECONDS && reps < 4096)
		reps *= 2;
	read_counters(before, sizeof(before));
	for (i = 0; i < runs; i++) {
		v[i] = bw ? (double)total * reps / bw_run(buf, reps) / (1024 * 1024) : lat_run(reps);
		printf("{\"bench\":\"%s\",\"pipe\":\"%s\",\"config\":\"%s\",\"chunk\":%zu,\"run\":%d,"
		       "\"value\":%.4f,\"unit\":\"%s\"}\n", bw ? "bw" : "lat", stock ? "stock" : "sql",
		       config, bw ? chunk : (size_t)1, i, v[i], bw ? "MB/s" : "us");
	}
	read_counters(after, sizeof(after));
	m = median(v, runs);
	if (bw)
		printf("%s bandwidth: %.2f MB/sec\n", stock ? "Pipe" : "SQL pipe", m);
	else
		printf("%s latency: %.4f microseconds\n", stock ? "Pipe" : "SQL pipe", m);
	if (!stock && after[0]) {
		long writes = counter(after, "writes") - counter(before, "writes");
		long reads = counter(after, "reads") - counter(before, "reads");

		printf("{\"bench\":\"profile\",\"test\":\"%s\",\"config\":\"%s\",\"writes\":%ld,"
		       "\"reads\":%ld,\"sleeps\":%ld,\"commits\":%ld,\"us_sql_per_write\":%.2f,"
		       "\"us_sql_per_read\":%.2f}\n", bw ? "bw" : "lat", config, writes, reads,
		       counter(after, "sleeps") - counter(before, "sleeps"),
		       counter(after, "window_commits") - counter(before, "window_commits"),
		       writes ? (counter(after, "ns_write_sql") - counter(before, "ns_write_sql")) /
			       1e3 / writes : 0,
		       reads ? (counter(after, "ns_read_sql") - counter(before, "ns_read_sql")) /
			       1e3 / reads : 0);
	}
	if (holders)
		release(holders, procs);
	if (old_capacity)
		set_capacity(old_capacity);
	return 0;
}

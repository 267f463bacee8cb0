// SPDX-License-Identifier: GPL-2.0-only
/*
 * What one task can make the kernel hold: sqliteos.max_pipe_ends bounds the pid_pipe rows of an fd
 * table (and so what a fork copies under the locks), and sqliteos.max_deferred_jobs the bookkeeping
 * an open transaction (553) holds up: past it every open transaction is rolled back, the jobs run,
 * and the transaction's next call gets ETIMEDOUT.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include "lib.h"

#define ENDS_PIPES	5	/* max_pipe_ends=10 */
#define TIMED_PIPES	2047	/* 4094 ends, max_pipe_ends's default less 2, for the fork figure */

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* A fork and its exit, waited for: the milliseconds, or -1. */
static double fork_ms(void)
{
	double t0 = now_ms();
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(0);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return now_ms() - t0;
}

static void close_all(int (*fd)[2], int n)
{
	int i;

	for (i = 0; i < n; i++)
		close2(fd[i]);
}

static void ends_cap(void)
{
	static int fd[TIMED_PIPES][2];
	int made = 0, err = 0, status = -1, again;
	double none, many;
	char why[128];
	pid_t pid;

	if (set_param("max_pipe_ends", "10")) {
		check(0, "max_pipe_ends can be set", strerror(errno));
		return;
	}
	while (made <= ENDS_PIPES && !sql_pipe(fd[made]))
		made++;
	err = errno;
	pid = fork();
	if (pid == 0)
		_exit(sql_pipe(fd[made]) == -1 && errno == EMFILE ? 0 : 1);
	waitpid(pid, &status, 0);
	close2(fd[0]);
	again = sql_pipe(fd[0]) == 0;
	snprintf(why, sizeof(why), "%d pipes, then %s; the child's exit status %d; again %d", made,
		 strerror(err), status, again);
	check(made == ENDS_PIPES && err == EMFILE && status == 0 && again,
	      "max_pipe_ends=10: five pipes, the sixth EMFILE, in a forked child too (it copies the "
	      "rows); closing one makes room", why);
	close_all(fd, made);
	set_param("max_pipe_ends", "4096");

	/* The figure: a fork of a task holding 4094 ends against one holding none. */
	setrlimit(RLIMIT_NOFILE, &(struct rlimit){ 2 * TIMED_PIPES + 64, 2 * TIMED_PIPES + 64 });
	none = fork_ms();
	for (made = 0; made < TIMED_PIPES && !sql_pipe(fd[made]); made++)
		;
	many = fork_ms();
	snprintf(why, sizeof(why), "%d pipes made; fork %.1f ms", made, many);
	check(made == TIMED_PIPES && many >= 0 && none >= 0 &&
	      scalar("SELECT count(*) AS v FROM pid_pipe") >= 2 * TIMED_PIPES,
	      "fork + exit of a task with 4094 SQL pipe ends", why);
	printf("# fork + exit: %.1f ms with 4094 SQL pipe ends, %.1f ms with none\n", many, none);
	close_all(fd, made);
}

/*
 * n children forked and exited by a helper forked inside the caller's transaction (the helper's
 * jobs wait for the transaction; the caller's own would run, as it holds the mutex); their pids.
 */
static void children(pid_t *pids, int n)
{
	int p[2], i, status;
	pid_t helper;

	memset(pids, 0, n * sizeof(*pids));
	if (SETUP(pipe(p)))
		return;
	helper = fork();
	if (helper == 0) {
		for (i = 0; i < n; i++) {
			pids[i] = fork();
			if (pids[i] == 0)
				_exit(0);
			waitpid(pids[i], &status, 0);
		}
		_exit(write(p[1], pids, n * sizeof(*pids)) < 0);
	}
	close(p[1]);
	if (read(p[0], pids, n * sizeof(*pids)) < 0)
		memset(pids, 0, n * sizeof(*pids));
	close(p[0]);
	waitpid(helper, &status, 0);
}

static long rows_of(const pid_t *pids, int n)
{
	long rows = 0;
	int i;

	for (i = 0; i < n; i++)
		rows += scalar("SELECT count(*) AS v FROM pid_store WHERE pid = %d", pids[i]);
	return rows;
}

static void deferred_bound(int flag, const char *what)
{
	pid_t pids[40];
	long kept_under, end_under, kept, aborted = debugfs_value("counters", "txns_aborted");
	long end_over, err_over, query_over = 0, err_query = 0;
	char why[256];

	set_param("max_deferred_jobs", "16");
	/* Under the bound: the jobs wait for the transaction and run when it ends. */
	syscall(NR_SQL_BEGIN, flag);
	children(pids, 5);
	kept_under = debugfs_value("locks", "deferred_jobs");
	end_under = syscall(NR_SQL_END, 1);
	/* Over it: the transaction is rolled back and the jobs run without waiting for it. */
	syscall(NR_SQL_BEGIN, flag);
	children(pids, 40);
	kept = debugfs_value("locks", "deferred_jobs");
	if (flag == TXN_READ) {
		query_over = query("SELECT 1 AS v");
		err_query = errno;
	}
	end_over = syscall(NR_SQL_END, 1);
	err_over = errno;
	set_param("max_deferred_jobs", "1024");
	snprintf(why, sizeof(why), "%ld kept under the bound, 554 %ld; over it %ld kept, 549 %ld "
		 "(%s), 554 %ld (%s); %ld aborted; %ld children left in pid_store", kept_under,
		 end_under, kept, query_over, strerror(err_query), end_over, strerror(err_over),
		 debugfs_value("counters", "txns_aborted") - aborted, rows_of(pids, 40));
	check(kept_under >= 5 && end_under == 0 && kept < 16 && end_over == -1 &&
	      err_over == ETIMEDOUT &&
	      (flag != TXN_READ || (query_over == -1 && err_query == ETIMEDOUT)) &&
	      debugfs_value("counters", "txns_aborted") == aborted + 1 && rows_of(pids, 40) == 0 &&
	      debugfs_value("locks", "deferred_jobs") == 0, what, why);
}

/* A user's share of the pipe ids: sqliteos.user_pipes_max=4 for nobody, then as before. */
static long four_pipes_then(void)
{
	int fd[5][2], made = 0, i;
	long ret;

	while (made < 4 && !sql_pipe(fd[made]))
		made++;
	if (made < 4)
		return 100 + made;
	ret = sql_pipe(fd[4]);
	if (!ret)
		return 110;
	ret = errno == ENFILE ? 0 : errno;
	close2(fd[0]);
	if (!ret && sql_pipe(fd[0]))
		ret = 120;	/* a closed pipe gives its share back */
	for (i = 0; i < 4; i++)
		close2(fd[i]);
	return ret ? (errno = ret, -1) : 0;
}

/* 0 if five SQL pipes could be made, else the errno of the one that could not. */
static int five_pipes(void)
{
	int fd[5][2], made = 0, err = 0;

	while (made < 5 && !sql_pipe(fd[made]))
		made++;
	if (made < 5)
		err = errno;
	close_all(fd, made);
	return err;
}

static void user_share(void)
{
	int nobody, root;
	char why[96];

	if (set_param("user_pipes_max", "4")) {
		check(0, "user_pipes_max can be set", strerror(errno));
		return;
	}
	nobody = run_as_nobody(four_pipes_then);
	root = five_pipes();
	set_param("user_pipes_max", "524288");
	snprintf(why, sizeof(why), "nobody: %d (0: four, the fifth ENFILE, a close gives one back); "
		 "root: %s", nobody, strerror(root));
	check(nobody == 0 && root == 0, "user_pipes_max=4: a user's fifth SQL pipe is ENFILE until "
	      "one is closed; root is not held to it", why);
}

static void window_bound(void)
{
	int zero = set_param("commit_window", "0"), over = set_param("commit_window", "257");
	int most = set_param("commit_window", "256");
	char why[96];

	snprintf(why, sizeof(why), "0: %d, 257: %d, 256: %d", zero, over, most);
	set_param("commit_window", "16");
	check(zero && over && !most, "commit_window takes 1..256 and refuses 0 and 257", why);
}

void limit_tests(void)
{
	user_share();
	window_bound();
	ends_cap();
	deferred_bound(TXN_WRITE, "max_deferred_jobs=16: a 553(8) holder's transaction is rolled back "
		       "when other tasks' forks and exits leave 16 jobs waiting; they run, its 554 gets "
		       "ETIMEDOUT");
	deferred_bound(TXN_READ, "max_deferred_jobs=16: a read transaction (553(4)) is rolled back "
		       "likewise; its 549 and 554 get ETIMEDOUT");
}

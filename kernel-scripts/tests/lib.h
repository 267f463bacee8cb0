/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the guest test files share: the checks, the syscall wrappers and reading 549's rows back
 * from the kernel log.
 */
#ifndef SQLITEOS_TESTS_LIB_H
#define SQLITEOS_TESTS_LIB_H

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "../tools/sqliteos-nr.h"

#define TXN_READ	4
#define TXN_WRITE	8
#define CAPACITY	65536

void check(int ok, const char *what, const char *why);

/* Evaluates the condition before reading errno, so a failure names the call's own error. */
#define CHECK(cond, what) do {				\
		int ok_;				\
		errno = 0;				\
		ok_ = (cond);				\
		check(ok_, what, strerror(errno));	\
	} while (0)

/*
 * A test's set-up step (a pipe, a transaction): when it fails, a failed check names the function and
 * the step, and the test returns (its group's count then falls short of its plan, a failure too).
 */
int setup_failed(int failed, const char *step, const char *func);
#define SETUP(cond) setup_failed(!!(cond), #cond, __func__)

/* Is fault injection there (the checking kernel's fail_sqlite)? Some groups plan more checks then. */
int fault_injection(void);

/*
 * The guest tests as groups, each with the checks it plans (more with fault injection); main prints
 * the whole plan first (TAP's "1..N") and a group that ran another number of checks fails.
 */
struct test_group {
	const char *name;
	void (*run)(void);
	int checks, more_with_faults;
};

int plan_of(const struct test_group *g, int n);
void run_group(const struct test_group *g);

const char *klog_new(void);
int write_file(const char *path, const char *value);
int set_param(const char *name, const char *value);
void close2(const int *fd);
long debugfs_value(const char *file, const char *key);
long query(const char *sql);
long scalar(const char *fmt, ...);
int run_as_nobody(long (*fn)(void));

static inline long sql_pipe(int *fd)
{
	return syscall(NR_SQL_PIPE, fd);
}

static inline long sql_pipe2(int *fd, int flags)
{
	return syscall(NR_SQL_PIPE2, fd, flags);
}

static inline long sread(int fd, void *buf, size_t n)
{
	return syscall(NR_SQL_PIPE_READ, fd, buf, n);
}

static inline long swrite(int fd, const void *buf, size_t n)
{
	return syscall(NR_SQL_PIPE_WRITE, fd, buf, n);
}

/* Reads exactly n bytes (or to EOF / an error); the count read. */
long sread_all(int fd, void *buf, size_t n);
/* Has the child finished within ms milliseconds? Reaps it and stores its status if so. */
int finished_within(pid_t pid, int ms, int *status);
/* The unread bytes pipe_chunk holds for the pipe whose read end is fd (less head_read). */
long buffered_of(int fd);
long data_id_of(int fd);

void hello_tests(void);
void query_tests(void);
void task_tests(void);
void pipe_tests(void);
void paper_tests(void);
void stress_tests(void);
void robust_tests(void);
void txn_tests(void);
void inspect_tests(void);
void posix_tests(void);
void wakeup_tests(void);
void memory_tests(void);
void chunk_tests(void);
void record_tests(void);
void window_tests(void);
void limit_tests(void);
void storm_tests(void);
int storm_main(long ops, int kills);
void still_serving(const char *when);

#endif

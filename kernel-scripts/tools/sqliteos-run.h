// SPDX-License-Identifier: MIT
/*
 * sqliteos-run's parts (sqliteos-run.c says what the program does): the plan reader (run-plan.c), a
 * scenario process serving its statements over its control socket (run-worker.c), what /proc and
 * debugfs say about a process (run-observer.c), and the coordinator (sqliteos-run.c).
 */
#ifndef SQLITEOS_RUN_H
#define SQLITEOS_RUN_H

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
#include "sqliteos-nr.h"

#define CTL_BASE	1000
#define MAX_PROCS	64
#define KMSG_FD_BASE	(CTL_BASE - MAX_PROCS)	/* a query's /dev/kmsg: above any scenario fd */
#define MAX_STMTS	4096
#define MAX_SLOTS	512
#define DEBUGFS		"/sys/kernel/debug/sqliteos"
#define CAPACITY_PARAM	"/sys/module/sqliteos/parameters/pipe_capacity"

enum op { OP_PIPE, OP_FORK, OP_THREAD, OP_WRITE, OP_READ, OP_CLOSE, OP_EXIT, OP_BEGIN, OP_COMMIT, OP_QUERY,
	  OP_ROLLBACK, OP_SAVEPOINT, OP_RELEASE, OP_ROLLBACK_TO };
extern const char *const op_names[];

struct stmt {
	int line, pid, idx;
	enum op op;
	long a, b;		/* pipe: slots; fork/thread: child; read: slot, n; write/close: slot */
	int flags;		/* pipe: O_NONBLOCK or 0; begin: 553's flag (4 or 8) */
	unsigned char *data;	/* write: bytes; query: SQL; savepoints: the name (NUL-terminated) */
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

/* run-plan.c: the scenario's statements */
extern struct stmt stmts[MAX_STMTS];
extern int nstmts, capacity;
void read_plan(FILE *in);

/* run-worker.c: a scenario process, and the coordinator's side of its control socket */
void serve(int self) __attribute__((noreturn));
long log_query(const char *sql, size_t len, int idx, char **rows, size_t *rlen);
int send_fd(int sock, const void *msg, size_t len, int fd);

/* run-observer.c */
char proc_state(pid_t pid);
char *slurp(const char *path);
int queue_of(pid_t pid, char *out, size_t size);
long long fdinfo_data_id(pid_t pid, int fd);
int wchan_queue(pid_t pid, char state, char *out, size_t size);
long long read_dataid(pid_t pid, int fd);

/* sqliteos-run.c */
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
int64_t now_ns(void);

#endif

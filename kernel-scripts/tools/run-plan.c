// SPDX-License-Identifier: MIT
/* sqliteos-run: the plan the companion compiles a scenario into (its format: sqliteos-run.c). */
#include "sqliteos-run.h"
#include "kmsg.h"

const char *const op_names[] = {
	"pipe", "fork", "thread", "write", "read", "close", "exit", "begin", "commit", "query", "rollback",
	"savepoint", "release", "rollback_to"
};
struct stmt stmts[MAX_STMTS];
int nstmts, capacity = -1;

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

void read_plan(FILE *in)
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
		for (i = 0; i <= OP_ROLLBACK_TO && strcmp(op_names[i], opname); i++)
			;
		if (i > OP_ROLLBACK_TO)
			die("plan line %d: unknown op %s", lineno, opname);
		if (s->pid < 1 || s->pid > MAX_PROCS)
			die("plan line %d: P%d is out of range (1-%d)", lineno, s->pid, MAX_PROCS);
		s->op = i;
		s->idx = nstmts;
		hex = big + k;
		switch (s->op) {
		case OP_PIPE: {
			char flag[16] = "";

			if (sscanf(hex, "%ld %ld %15s", &s->a, &s->b, flag) < 2)
				die("plan line %d: pipe needs two slots", lineno);
			if (flag[0] && strcmp(flag, "nonblock"))
				die("plan line %d: unknown pipe flag %s", lineno, flag);
			s->flags = flag[0] ? O_NONBLOCK : 0;
			break;
		}
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
		case OP_SAVEPOINT:
		case OP_RELEASE:
		case OP_ROLLBACK_TO:
			s->data = unhex(hex, &s->len, lineno);
			break;
		case OP_BEGIN:
			if (!strcmp(hex, "write"))
				s->flags = 8;
			else if (*hex)
				die("plan line %d: begin takes only 'write'", lineno);
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

// SPDX-License-Identifier: GPL-2.0
/*
 * Runs the edited, float-free amalgamation in user space on the statements the kernel will run (the
 * companion schema, a pipe's chunk insert, merge and read), plus the spots nofloat.py rewrote, and checks
 * the answers. Built by check-nofloat.sh with SQLite's own unix VFS: only the engine is under test here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite3.h"

static int failures;

static void expect(sqlite3 *db, const char *sql, const char *want)
{
	sqlite3_stmt *st;
	char got[256] = "";
	size_t used = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(got, sizeof(got), "error: %s", sqlite3_errmsg(db));
	} else {
		while (sqlite3_step(st) == SQLITE_ROW) {
			for (int i = 0; i < sqlite3_column_count(st); i++) {
				const unsigned char *t = sqlite3_column_text(st, i);

				used += snprintf(got + used, sizeof(got) - used, "%s%s", used ? "|" : "", t ? (const char *)t : "NULL");
			}
		}
		sqlite3_finalize(st);
	}
	if (strcmp(got, want)) {
		printf("FAIL %s\n  want %s\n  got  %s\n", sql, want, got);
		failures++;
	}
}

/* SQLITE_ZERO_MALLOC leaves allocation to the embedder, as the kernel glue does with kvmalloc. */
static void *m_malloc(int n)
{
	size_t *p = malloc(sizeof(size_t) + n);

	if (!p)
		return NULL;
	*p = n;
	return p + 1;
}

static void m_free(void *p)
{
	if (p)
		free((size_t *)p - 1);
}

static void *m_realloc(void *p, int n)
{
	size_t *q = realloc(p ? (size_t *)p - 1 : NULL, sizeof(size_t) + n);

	if (!q)
		return NULL;
	*q = n;
	return q + 1;
}

static int m_size(void *p)
{
	return p ? (int)((size_t *)p)[-1] : 0;
}

static int m_roundup(int n)
{
	return (n + 7) & ~7;
}

static int m_init(void *arg)
{
	return SQLITE_OK;
}

static void m_shutdown(void *arg)
{
}

int main(void)
{
	static const sqlite3_mem_methods mem = { m_malloc, m_free, m_realloc, m_size, m_roundup, m_init, m_shutdown, NULL };
	sqlite3 *db;
	int rc = sqlite3_config(SQLITE_CONFIG_MALLOC, &mem);

	if (rc == SQLITE_OK)
		rc = sqlite3_open(":memory:", &db);
	if (rc != SQLITE_OK) {
		printf("cannot open an in-memory database: %s\n", sqlite3_errstr(rc));
		printf("0 passed, 1 failed\n");
		return 1;
	}
	sqlite3_exec(db,
		     "CREATE TABLE pid_store(pid INTEGER PRIMARY KEY NOT NULL, parent_id INT NOT NULL);"
		     "CREATE TABLE pid_pipe(pid INT NOT NULL, fd INT NOT NULL, dataId INT NOT NULL, PRIMARY KEY(pid, fd));"
		     "CREATE TABLE pipe_data(dataId INTEGER PRIMARY KEY NOT NULL, read_wq INT, write_wq INT, data BLOB);"
		     "CREATE TABLE pipe_chunk(seq INTEGER PRIMARY KEY, dataId INT NOT NULL, data BLOB NOT NULL);"
		     "INSERT INTO pid_store VALUES (1, 1), (2, 2);"
		     "INSERT INTO pipe_data(read_wq, write_wq, data) VALUES (1, 2, NULL);"
		     "INSERT INTO pid_pipe VALUES (1, 3, 1), (1, 4, 1);"
		     "INSERT INTO pid_pipe SELECT 2, fd, dataId FROM pid_pipe WHERE pid = 1;"
		     "INSERT INTO pipe_chunk(dataId, data) VALUES (1, X'68656c6c6f0a');",
		     NULL, NULL, NULL);
	expect(db, "SELECT count(*) FROM pid_pipe WHERE dataId = 1", "4");
	expect(db, "SELECT seq, length(data), substr(data, 1, 3) FROM pipe_chunk WHERE dataId = 1 AND seq > -1 ORDER BY seq LIMIT 1", "1|6|hel");
	/* a small write joins the chunk: NUL bytes kept, still a BLOB */
	sqlite3_exec(db, "UPDATE pipe_chunk SET data = CAST(data || X'0021' AS BLOB) WHERE seq = 1 AND dataId = 1",
		     NULL, NULL, NULL);
	expect(db, "SELECT hex(data), typeof(data) FROM pipe_chunk", "68656C6C6F0A0021|blob");
	expect(db, "SELECT sign(-7), sign(0), sign(9)", "-1|0|1");
	expect(db, "SELECT 2 < 3, CAST('12' AS REAL), CAST('2.9' AS REAL)", "1|12|2");
	/* Without floating point a decimal literal is not a token at all. */
	expect(db, "SELECT 7.0", "error: near \".\": syntax error");
	expect(db, "SELECT printf('%d %s', 42, 'x'), 10 / 4, abs(-3)", "42 x|2|3");
	expect(db, "SELECT 9223372036854775807, -9223372036854775808", "9223372036854775807|-9223372036854775808");
	expect(db, "SELECT count(*) FROM pid_store WHERE pid IN (SELECT parent_id FROM pid_store)", "2");
	sqlite3_close(db);
	printf("%d passed, %d failed\n", 9 - failures, failures);
	return failures != 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * SQLite inside the kernel: the allocator, the OS layer SQLITE_OS_OTHER asks for, the few C library
 * functions the amalgamation needs beyond the kernel's, the database and its tables at boot, and
 * syscall 549 (ksqlite_query) with the published kernel-log output, for CAP_SYS_ADMIN and read-only
 * statements only.
 */
#include <linux/capability.h>
#include <linux/init.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/syscalls.h>
#include "include/time.h"
#include <linux/uaccess.h>
#include "sqlite3.h"
#include "sqliteos.h"

/* Longest statement 549 accepts: enough for any inspection query, bounded for the kernel's sake. */
#define SQLITEOS_MAX_QUERY	4096

struct sqlite3 *sqliteos_db;
DEFINE_MUTEX(sqliteos_db_lock);	/* protects sqliteos_db and everything SQLite holds */
bool sqliteos_ready;

/* ---- memory: SQLITE_ZERO_MALLOC leaves it to us; a size header answers xSize ---- */

static void *sqlmem_malloc(int n)
{
	size_t *p = kvmalloc(sizeof(size_t) + n, GFP_KERNEL);

	if (!p)
		return NULL;
	*p = n;
	return p + 1;
}

static void sqlmem_free(void *p)
{
	if (p)
		kvfree((size_t *)p - 1);
}

static int sqlmem_size(void *p)
{
	return p ? (int)((size_t *)p)[-1] : 0;
}

static void *sqlmem_realloc(void *p, int n)
{
	void *q = sqlmem_malloc(n);

	if (q && p)
		memcpy(q, p, min(sqlmem_size(p), n));
	if (q)
		sqlmem_free(p);
	return q;
}

static int sqlmem_roundup(int n)
{
	return ALIGN(n, 8);
}

static int sqlmem_init(void *arg)
{
	return SQLITE_OK;
}

static void sqlmem_shutdown(void *arg)
{
}

static const sqlite3_mem_methods sqlmem_methods = {
	sqlmem_malloc, sqlmem_free, sqlmem_realloc, sqlmem_size, sqlmem_roundup,
	sqlmem_init, sqlmem_shutdown, NULL,
};

/* ---- the OS layer and the C library bits ---- */

int sqlite3_os_init(void)
{
	return sqlite3_vfs_register(sqliteos_memvfs(), 1);
}

int sqlite3_os_end(void)
{
	return SQLITE_OK;
}

struct tm *gmtime_r(const time_t *t, struct tm *out)
{
	time64_to_tm(*t, 0, out);
	return out;
}

/* SQLite's date functions format by themselves; nothing here asks strftime for text. */
size_t strftime(char *s, size_t max, const char *fmt, const struct tm *tm)
{
	return 0;
}

/* ---- the database at boot ---- */

static const char schema[] =
	"PRAGMA journal_mode=MEMORY;"
	"PRAGMA cache_size=-16384;"
	"CREATE TABLE pid_store(pid INTEGER PRIMARY KEY NOT NULL, parent_id INT NOT NULL);"
	"CREATE INDEX pid_store_parent ON pid_store(parent_id);"
	"CREATE TABLE pid_pipe(pid INT NOT NULL, fd INT NOT NULL, dataId INT NOT NULL,"
	" PRIMARY KEY(pid, fd));"
	"CREATE INDEX pid_pipe_data ON pid_pipe(dataId);"
	"CREATE TABLE pipe_data(dataId INTEGER PRIMARY KEY NOT NULL, read_wq INT, write_wq INT,"
	" data BLOB);"
	"CREATE TABLE pipe_chunk(seq INTEGER PRIMARY KEY, dataId INT NOT NULL, data BLOB NOT NULL);"
	"INSERT INTO pid_store VALUES (1, 1);";

static int __init sqliteos_init(void)
{
	char *err = NULL;
	int rc;

	rc = sqlite3_config(SQLITE_CONFIG_MALLOC, &sqlmem_methods);
	if (rc == SQLITE_OK)
		rc = sqlite3_initialize();
	if (rc == SQLITE_OK)
		rc = sqlite3_open_v2("/sqliteos", &sqliteos_db,
				     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(sqliteos_db, schema, NULL, NULL, &err);
	if (rc == SQLITE_OK)
		rc = sqlos_prepare_all();
	if (rc == SQLITE_OK && sqlpipe_fs_init())
		rc = SQLITE_NOMEM;
	if (rc != SQLITE_OK) {
		pr_err("sqliteos: cannot create the database: %s (%d)\n",
		       err ? err : sqlite3_errstr(rc), rc);
		sqlite3_free(err);
		return -ENOMEM;
	}
	sqlos_inspect_init();
	/* Only now may a hook or a syscall use the database (fork hooks run from early boot). */
	smp_store_release(&sqliteos_ready, true);
	pr_info("sqliteos: SQLite %s, tables pid_store, pid_pipe, pipe_data, pipe_chunk\n",
		sqlite3_libversion());
	return 0;
}
late_initcall(sqliteos_init);

/* ---- 549: read-only SQL, rows to the kernel log in the published format ---- */

/* One result row, as the published kernel's sqlite3_exec callback printed it. */
static void log_row(sqlite3_stmt *st)
{
	const unsigned char *v;
	int i;

	pr_info("Query from user space: \n");
	for (i = 0; i < sqlite3_column_count(st); i++) {
		v = sqlite3_column_text(st, i);
		pr_info("%s = %s\n", sqlite3_column_name(st, i), v ? (const char *)v : "NULL");
	}
	pr_info("\n");
}

static long run_query(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	const char *tail;
	long ret = 0;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, &tail);
	if (rc != SQLITE_OK || !st) {
		pr_info("SQL Error: %s\n", sqlite3_errmsg(db));
		return -EINVAL;
	}
	tail = skip_spaces(tail);
	if (!sqlite3_stmt_readonly(st) || *tail) {
		sqlite3_finalize(st);
		return -EPERM;
	}
	pr_info("trying to perform the query");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		log_row(st);
	if (rc != SQLITE_DONE) {
		pr_info("SQL Error: %s\n", sqlite3_errmsg(db));
		ret = rc == SQLITE_BUSY ? sqlos_errno(rc, true) : -EINVAL;
	}
	sqlite3_finalize(st);
	pr_info("just finished query\n");
	return ret;
}

/*
 * On the caller's read transaction if it has one; otherwise on a connection of its own, as the
 * published kernel does, so the query waits in the VFS like any reader (never on the kernel
 * connection, which a writer may be using while it sleeps).
 */
static long query(const char *sql)
{
	sqlite3 *db = sqlos_txn_reader(current);
	long ret;

	if (!sqlos_ready())
		return -ENODEV;
	if (db)
		return run_query(db, sql);
	if (sqlite3_open_v2("/sqliteos", &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return -ENOMEM;
	}
	ret = run_query(db, sql);
	sqlite3_close(db);
	return ret;
}

SYSCALL_DEFINE2(ksqlite_query, const char __user *, usql, unsigned long, len)
{
	char *sql;
	long ret;

	sqlos_count_syscall(549);
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (!len || len > SQLITEOS_MAX_QUERY)
		return -EINVAL;
	sql = memdup_user_nul(usql, len);
	if (IS_ERR(sql))
		return PTR_ERR(sql);
	mutex_lock(&sqliteos_db_lock);
	pr_info("trying to open the db\n");
	ret = query(sql);
	mutex_unlock(&sqliteos_db_lock);
	kfree(sql);
	return ret;
}

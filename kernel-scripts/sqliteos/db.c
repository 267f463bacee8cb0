// SPDX-License-Identifier: GPL-2.0-only
/*
 * SQLite inside the kernel: the allocator, the OS layer SQLITE_OS_OTHER asks for, the few C library
 * functions the amalgamation needs beyond the kernel's, the database and its tables at boot, and
 * syscall 549 (ksqlite_query) with the published kernel-log output, for CAP_SYS_ADMIN and read-only
 * statements only.
 */
#include <linux/capability.h>
#include <linux/fault-inject.h>
#include <linux/init.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/syscalls.h>
#include "include/time.h"
#include <linux/uaccess.h>
#include "sqlite3.h"
#include "compat.h"
#include "sqliteos.h"

/* Longest statement 549 accepts: enough for any inspection query, bounded for the kernel's sake. */
#define SQLITEOS_MAX_QUERY	4096
/*
 * 549 runs holding sqlos_db_lock, which fork and exit wait for: it ends after QUERY_TIME (or at
 * a fatal signal) with -ETIMEDOUT (-EINTR), and past QUERY_LOG bytes of rows with -E2BIG.
 */
#define QUERY_TIME	(2 * HZ)
#define QUERY_LOG	SZ_1M

struct sqlite3 *sqlos_db;
DEFINE_MUTEX(sqlos_db_lock);	/* protects sqlos_db and everything SQLite holds */
bool sqlos_up;

/* ---- memory: SQLITE_ZERO_MALLOC leaves it to us; a size header answers xSize ---- */

#ifdef CONFIG_FAULT_INJECTION
/*
 * fail_sqlite: the kernel's fault injection (Documentation/fault-injection) for SQLite's
 * allocations and the VFS store's blocks, as /sys/kernel/debug/fail_sqlite/ or fail_sqlite= at
 * boot. The guest tests fail them inside the commit window (tests/window.c).
 */
static DECLARE_FAULT_ATTR(fail_sqlite);

static int __init fail_sqlite_setup(char *str)
{
	return setup_fault_attr(&fail_sqlite, str);
}
__setup("fail_sqlite=", fail_sqlite_setup);

bool sqlos_alloc_fails(size_t n)
{
	return should_fail(&fail_sqlite, n);
}

static void sqlmem_fault_init(void)
{
	fault_create_debugfs_attr("fail_sqlite", NULL, &fail_sqlite);
}
#else
bool sqlos_alloc_fails(size_t n)
{
	return false;
}

static void sqlmem_fault_init(void)
{
}
#endif

static void *sqlmem_malloc(int n)
{
	size_t *p = NULL;

	if (!sqlos_alloc_fails(n))
		p = kvmalloc(sizeof(size_t) + n, GFP_KERNEL_ACCOUNT);

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
	return sqlite3_vfs_register(sqlos_memvfs(), 1);
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

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "sqliteos."

/*
 * The database's layout, boot parameters so that qemu/bench-ideas.sh can measure each choice with
 * one kernel: sqliteos.page_size= (512 .. 65536, a power of two) and sqliteos.auto_vacuum= (0 none,
 * 1 full, 2 incremental: freed pages are given back when a pipe's rows go, by sql.c's ST_VACUUM,
 * not kept for ever). Read once, when the database is made. 2048-byte pages: every commit copies
 * whole pages (page 1, the b-tree leaf, into the journal and the store), so small writes and reads
 * cost less than with 4096 (a third less latency under TCG), and 64 KiB chunks no more; 1024 cut
 * latency further but cost bandwidth (README, Benchmarks). sqliteos.journal_mode= (memory, the
 * default; persist or truncate: a journal file in the VFS) and sqliteos.synchronous= (0 .. 2) are
 * the kernel connection's, for the same measurements. synchronous=0 (OFF): the store is memory,
 * so a sync promises nothing (mem_sync does nothing) and the pager's bookkeeping of which pages
 * wait for one would be work for nothing.
 */
static uint db_page_size = 2048;
static uint auto_vacuum = 2;
static char *journal_mode = "memory";
static uint synchronous;
module_param_named(page_size, db_page_size, uint, 0444);
module_param(auto_vacuum, uint, 0444);
module_param(journal_mode, charp, 0444);
module_param(synchronous, uint, 0444);

static const char *const journal_modes[] = { "memory", "persist", "truncate" };

static const char layout[] =
	"PRAGMA journal_mode=%s;"
	"PRAGMA synchronous=%u;"
	"PRAGMA cache_size=-16384;"
	"PRAGMA page_size=%u;"
	"PRAGMA auto_vacuum=%u;";

static const char schema[] =
	"CREATE TABLE pid_store(pid INTEGER PRIMARY KEY NOT NULL, parent_id INT NOT NULL);"
	"CREATE INDEX pid_store_parent ON pid_store(parent_id);"
	"CREATE TABLE pid_pipe(pid INT NOT NULL, fd INT NOT NULL, dataId INT NOT NULL,"
	" PRIMARY KEY(pid, fd));"
	"CREATE INDEX pid_pipe_data ON pid_pipe(dataId);"
	"CREATE TABLE pipe_data(dataId INTEGER PRIMARY KEY NOT NULL, read_wq INT, write_wq INT,"
	" data BLOB, head_read INT NOT NULL DEFAULT 0);"
	"CREATE TABLE pipe_chunk(seq INTEGER PRIMARY KEY, dataId INT NOT NULL, data BLOB NOT NULL);"
	"INSERT INTO pid_store VALUES (1, 1);";

static int __init sqliteos_init(void)
{
	char *err = NULL, *sql;
	int rc;

	rc = sqlite3_config(SQLITE_CONFIG_MALLOC, &sqlmem_methods);
	if (rc == SQLITE_OK)
		rc = sqlite3_initialize();
	if (rc == SQLITE_OK)
		rc = sqlite3_open_v2("/sqliteos", &sqlos_db,
				     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (db_page_size < 512 || db_page_size > 65536 || !is_power_of_2(db_page_size) ||
	    auto_vacuum > 2 || synchronous > 2 ||
	    match_string(journal_modes, ARRAY_SIZE(journal_modes), journal_mode) < 0) {
		pr_warn("sqliteos: page_size=%u auto_vacuum=%u journal_mode=%s synchronous=%u: "
			"using 2048, 2, memory and 0\n", db_page_size, auto_vacuum, journal_mode,
			synchronous);
		db_page_size = 2048;
		auto_vacuum = 2;
		journal_mode = "memory";
		synchronous = 0;
	}
	if (rc == SQLITE_OK) {
		sql = sqlite3_mprintf(layout, journal_mode, synchronous, db_page_size, auto_vacuum);
		rc = sql ? sqlite3_exec(sqlos_db, sql, NULL, NULL, &err) : SQLITE_NOMEM;
		sqlite3_free(sql);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(sqlos_db, schema, NULL, NULL, &err);
	if (rc == SQLITE_OK)
		rc = sqlos_prepare_all();
	if (rc == SQLITE_OK && sqlos_pipe_fs_init())
		rc = SQLITE_NOMEM;
	if (rc != SQLITE_OK) {
		pr_err("sqliteos: cannot create the database: %s (%d)\n",
		       err ? err : sqlite3_errstr(rc), rc);
		sqlite3_free(err);
		return -ENOMEM;
	}
	sqlos_inspect_init();
	sqlos_layout_init();
	sqlmem_fault_init();
	/* Only now may a hook or a syscall use the database (fork hooks run from early boot). */
	smp_store_release(&sqlos_up, true);
	pr_info("sqliteos: SQLite %s, tables pid_store, pid_pipe, pipe_data, pipe_chunk\n",
		sqlite3_libversion());
	return 0;
}
late_initcall(sqliteos_init);

/* ---- 549: read-only SQL, rows to the kernel log in the published format ---- */

/*
 * The log lines of one 549 call, gathered while the lock is held and printed after it is dropped
 * (a slow console never holds up fork and exit), one record per line.
 */
struct qlog {
	char *buf;
	size_t len, cap;
	unsigned long deadline;
	bool full;	/* a line did not fit in QUERY_LOG bytes (or memory): the rows stop */
};

/* Room for n more bytes in q's buffer; false (and q->full) if QUERY_LOG bytes cannot hold them. */
static bool qlog_room(struct qlog *q, size_t n)
{
	size_t need = q->len + n, cap;
	char *b;

	if (q->full)
		return false;
	if (need <= q->cap)
		return true;
	for (cap = max_t(size_t, q->cap, SZ_4K); cap < need; cap *= 2)
		;
	cap = min_t(size_t, cap, QUERY_LOG);
	b = need <= cap ? sqlos_kvrealloc(q->buf, q->cap, cap, GFP_KERNEL_ACCOUNT) : NULL;
	if (!b) {
		q->full = true;
		return false;
	}
	q->buf = b;
	q->cap = cap;
	return true;
}

static __printf(2, 3) void qlog(struct qlog *q, const char *fmt, ...)
{
	va_list ap, ap2;
	int n;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	/* each line keeps its NUL: the lines stay apart */
	if (qlog_room(q, n + 1)) {
		vsnprintf(q->buf + q->len, n + 1, fmt, ap);
		q->len += n + 1;
	}
	va_end(ap);
}

/*
 * Every control byte and backslash of a name or value is written \xHH (the escape /dev/kmsg itself
 * uses), so a value cannot start a line of its own on a console or in dmesg.
 */
static bool plain_byte(u8 c)
{
	return c >= 0x20 && c != 0x7f && c != '\\';
}

/* The length of s, escaped; s is NUL-terminated and its length goes to *n. */
static size_t escaped_len(const char *s, size_t *n)
{
	size_t len = 0;
	const char *p;

	for (p = s; *p; p++)
		len += plain_byte(*p) ? 1 : 4;
	*n = p - s;
	return len;
}

/* s's n bytes at o, escaped; the end. */
static char *put_escaped(char *o, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		u8 c = s[i];

		if (plain_byte(c)) {
			*o++ = c;
			continue;
		}
		*o++ = '\\';
		*o++ = 'x';
		o = hex_byte_pack(o, c);
	}
	return o;
}

/* The line "name = value" (value NULL: "NULL"), both escaped. */
static void qlog_column(struct qlog *q, const char *name, const char *value)
{
	size_t n, v = 0, len = escaped_len(name, &n) + 3 + (value ? escaped_len(value, &v) : 4);
	char *o;

	if (!qlog_room(q, len + 1))
		return;
	o = put_escaped(q->buf + q->len, name, n);
	memcpy(o, " = ", 3);
	o += 3;
	if (value) {
		o = put_escaped(o, value, v);
	} else {
		memcpy(o, "NULL", 4);
		o += 4;
	}
	*o++ = 0;
	q->len = o - q->buf;
}

static void qlog_print(const struct qlog *q)
{
	size_t at;

	for (at = 0; at < q->len; at += strlen(q->buf + at) + 1)
		pr_info("%s\n", q->buf + at);
}

/*
 * SQLite's progress handler, every 1000 VM steps: non-zero ends the statement (SQLITE_INTERRUPT).
 * It also lets others run: a query may take its 2 s, and on a kernel without preemption
 * (tinyconfig, and WSL2's config-wsl: PREEMPT_NONE) nothing else would run on its CPU meanwhile --
 * not even the task that kills it (seen on 6.12, one CPU: the kill landed only after the 2 s).
 */
static int query_progress(void *arg)
{
	const struct qlog *q = arg;

	cond_resched();
	return fatal_signal_pending(current) || time_after(jiffies, q->deadline);
}

/*
 * One result row, as the published kernel's sqlite3_exec callback printed it (a blob as text up to
 * its first NUL byte), names and values escaped.
 */
static void log_row(struct qlog *q, sqlite3_stmt *st)
{
	int i;

	qlog(q, "Query from user space: ");
	for (i = 0; i < sqlite3_column_count(st); i++)
		qlog_column(q, sqlite3_column_name(st, i) ?: "",
			    (const char *)sqlite3_column_text(st, i));
	qlog(q, "%s", "");	/* the empty record that ends a row */
}

static long run_query(struct qlog *q, sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	const char *tail;
	long ret = 0;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, &tail);
	if (rc != SQLITE_OK || !st) {
		qlog(q, "SQL Error: %s", sqlite3_errmsg(db));
		return -EINVAL;
	}
	tail = skip_spaces(tail);
	if (!sqlite3_stmt_readonly(st) || *tail) {
		sqlite3_finalize(st);
		return -EPERM;
	}
	qlog(q, "trying to perform the query");
	sqlite3_progress_handler(db, 1000, query_progress, q);
	while (!q->full && (rc = sqlite3_step(st)) == SQLITE_ROW)
		log_row(q, st);
	sqlite3_progress_handler(db, 0, NULL, NULL);
	if (q->full) {
		q->full = false;
		q->len = 0;
		qlog(q, "trying to open the db");
		qlog(q, "trying to perform the query");
		qlog(q, "SQL Error: the result is larger than %d bytes of log", QUERY_LOG);
		ret = -E2BIG;
	} else if (rc == SQLITE_INTERRUPT) {
		qlog(q, "SQL Error: %s", fatal_signal_pending(current) ? "killed" : "ran too long");
		ret = fatal_signal_pending(current) ? -EINTR : -ETIMEDOUT;
	} else if (rc != SQLITE_DONE) {
		qlog(q, "SQL Error: %s", sqlite3_errmsg(db));
		ret = rc == SQLITE_BUSY ? sqlos_errno(rc, true) : -EINVAL;
	}
	sqlite3_finalize(st);
	qlog(q, "just finished query");
	return ret;
}

/*
 * On the caller's read transaction if it has one; otherwise on a connection of its own, as the
 * published kernel does, so the query waits in the VFS like any reader (never on the kernel
 * connection, which a writer may be using while it sleeps).
 */
static long query(struct qlog *q, const char *sql)
{
	sqlite3 *db = sqlos_txn_reader(current);
	long ret;

	if (!sqlos_ready())
		return -ENODEV;
	if (IS_ERR(db))
		return PTR_ERR(db);
	if (db)
		return run_query(q, db, sql);
	if (sqlos_flush() != SQLITE_OK)
		return -ENOMEM;	/* the pipes' last operations are not in the tables yet */
	if (sqlite3_open_v2("/sqliteos", &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return -ENOMEM;
	}
	ret = run_query(q, db, sql);
	sqlite3_close(db);
	return ret;
}

SYSCALL_DEFINE2(ksqlite_query, const char __user *, usql, unsigned long, len)
{
	u64 start = sqlos_record_start();
	struct qlog q = { };
	char *sql;
	long ret;

	sqlos_count_syscall(__NR_ksqlite_query);
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (!len || len > SQLITEOS_MAX_QUERY)
		return -EINVAL;
	sql = memdup_user_nul(usql, len);
	if (IS_ERR(sql))
		return PTR_ERR(sql);
	qlog(&q, "trying to open the db");
	mutex_lock(&sqlos_db_lock);
	q.deadline = jiffies + QUERY_TIME;
	ret = query(&q, sql);
	mutex_unlock(&sqlos_db_lock);
	qlog_print(&q);
	kvfree(q.buf);
	sqlos_record(start, REC_QUERY, 0, 0, ret, sql, len);
	kfree(sql);
	return ret;
}

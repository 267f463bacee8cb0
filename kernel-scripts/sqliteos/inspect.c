// SPDX-License-Identifier: GPL-2.0-only
/*
 * The inspection interface: /sys/kernel/debug/sqliteos/, root only (0400). One file per table
 * (pid_store, pid_pipe, pipe_data, pipe_chunk), locks (the VFS store, every open connection, the
 * global write mutex, open transactions, jobs kept for later), queues (every wait queue and the
 * pids asleep on it), pipes (each pipe's byte count and open ends) and counters. The text format,
 * with its version line, is described in kernel-scripts/README.md.
 *
 * Reading never holds up the pipes for more than one short critical section: the state files take
 * sqlos_db_lock once; the tables are read 256 rows at a time, each page a statement of its own
 * on a connection that refuses to wait (a table behind a writer's PENDING lock reads "busy"). Pipes
 * come and go under the same lock, so a page never sees half a pipe.
 */
#include <crypto/sha2.h>
#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include "sqlite3.h"
#include "sqliteos.h"

#define FORMAT_VERSION	1
#define PAGE_ROWS	256U
#define BLOB_HEX_BYTES	32
/* what the companion compares blobs by: the first 16 hex digits of the SHA-256 of every byte */
#define BLOB_DIGEST_BYTES	8

u64 sqlos_counters[C_NR];
atomic64_t sqlos_syscalls[SQLOS_NR_LAST - SQLOS_NR_FIRST + 1];

static struct sqlite3 *inspect_db;	/* used under sqlos_db_lock only, never waits */

static void header(struct seq_file *sf, const char *name)
{
	seq_printf(sf, "sqliteos-debugfs %d %s\n", FORMAT_VERSION, name);
}

static void value(struct seq_file *sf, sqlite3_stmt *st, int i)
{
	u8 digest[SHA256_DIGEST_SIZE];
	const unsigned char *p;
	int n, k;

	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		seq_printf(sf, "\t%lld", sqlite3_column_int64(st, i));
		break;
	case SQLITE_NULL:
		seq_puts(sf, "\tNULL");
		break;
	case SQLITE_TEXT:
		p = sqlite3_column_text(st, i);
		seq_puts(sf, "\t\"");
		for (; p && *p; p++) {
			if (*p == '"' || *p == '\\')
				seq_printf(sf, "\\%c", *p);
			else if (*p < 0x20 || *p == 0x7f)
				seq_printf(sf, "\\x%02x", *p);
			else
				seq_putc(sf, *p);
		}
		seq_putc(sf, '"');
		break;
	default:	/* a blob: its length, the hex of its first bytes, its SHA-256's first 8 */
		p = sqlite3_column_blob(st, i);
		n = sqlite3_column_bytes(st, i);
		seq_printf(sf, "\tx%d:", n);
		for (k = 0; k < min(n, BLOB_HEX_BYTES); k++)
			seq_printf(sf, "%02x", p[k]);
		sha256(p, n, digest);
		seq_printf(sf, "/%*phN", BLOB_DIGEST_BYTES, digest);
	}
}

/* One page of rows after rowid *after; the number of rows, or -1 when the table is busy. */
static int table_page(struct seq_file *sf, const char *table, s64 *after, bool first)
{
	static const char q[] = "SELECT rowid, * FROM %s WHERE rowid > ?1 ORDER BY rowid LIMIT %u";
	sqlite3_stmt *st;
	char sql[96];
	int i, n = 0, rc;

	snprintf(sql, sizeof(sql), q, table, PAGE_ROWS);
	mutex_lock(&sqlos_db_lock);
	rc = sqlos_flush();
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(inspect_db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		if (first) {
			seq_puts(sf, "columns");
			for (i = 1; i < sqlite3_column_count(st); i++)
				seq_printf(sf, "\t%s", sqlite3_column_name(st, i));
			seq_putc(sf, '\n');
		}
		sqlite3_bind_int64(st, 1, *after);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			*after = sqlite3_column_int64(st, 0);
			seq_puts(sf, "row");
			for (i = 1; i < sqlite3_column_count(st); i++)
				value(sf, st, i);
			seq_putc(sf, '\n');
			n++;
		}
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_DONE)
		seq_printf(sf, "busy\t%s\n", sqlite3_errstr(rc));
	mutex_unlock(&sqlos_db_lock);
	return rc == SQLITE_DONE ? n : -1;
}

static int table_show(struct seq_file *sf, void *unused)
{
	const char *table = sf->private;
	s64 after = S64_MIN;
	long rows = 0;
	int n;

	header(sf, table);
	do {
		n = table_page(sf, table, &after, !rows && after == S64_MIN);
		if (n < 0)
			return 0;
		rows += n;
		cond_resched();
	} while (n == PAGE_ROWS && !seq_has_overflowed(sf));
	seq_printf(sf, "rows\t%ld\n", rows);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(table);

static void queue_show(struct seq_file *sf, const char *name, wait_queue_head_t *q)
{
	struct wait_queue_entry *w;
	unsigned long flags;

	seq_printf(sf, "queue\t%s", name);
	spin_lock_irqsave(&q->lock, flags);
	/* Tasks asleep in sqlos_sleep (DEFINE_WAIT); poll and epoll entries are not tasks. */
	list_for_each_entry(w, &q->head, entry)
		if (w->func == autoremove_wake_function && w->private)
			seq_printf(sf, "\t%d", task_pid_nr((struct task_struct *)w->private));
	spin_unlock_irqrestore(&q->lock, flags);
	seq_putc(sf, '\n');
}

static int locks_show(struct seq_file *sf, void *unused)
{
	header(sf, "locks");
	mutex_lock(&sqlos_db_lock);
	sqlos_flush();	/* the kernel connection holds no lock between operations */
	sqlos_vfs_show(sf);
	sqlos_wmutex_show(sf, NULL);
	sqlos_txn_show(sf);
	mutex_unlock(&sqlos_db_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(locks);

static int queues_show(struct seq_file *sf, void *unused)
{
	header(sf, "queues");
	mutex_lock(&sqlos_db_lock);
	sqlos_vfs_queues(sf, queue_show);
	sqlos_wmutex_show(sf, queue_show);
	sqlos_pipes_show(sf, queue_show);
	mutex_unlock(&sqlos_db_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(queues);

static int pipes_show(struct seq_file *sf, void *unused)
{
	header(sf, "pipes");
	mutex_lock(&sqlos_db_lock);
	sqlos_pipes_show(sf, NULL);
	mutex_unlock(&sqlos_db_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pipes);

static const char *const counter_names[C_NR] = {
	[C_SLEEPS] = "sleeps", [C_WAKEUPS] = "wakeups", [C_INTERRUPTED] = "interrupted",
	[C_BYTES_WRITTEN] = "bytes_written", [C_BYTES_READ] = "bytes_read",
	[C_WRITES] = "writes", [C_READS] = "reads", [C_JOBS] = "jobs",
	[C_JOBS_DEFERRED] = "jobs_deferred", [C_NS_WRITE_SQL] = "ns_write_sql",
	[C_NS_READ_SQL] = "ns_read_sql", [C_TXNS_ABORTED] = "txns_aborted",
	[C_COMMITS] = "window_commits", [C_REPLAYS] = "window_replays",
	[C_REPLAYS_FAILED] = "window_replays_failed",
};

static int counters_show(struct seq_file *sf, void *unused)
{
	u64 c[C_NR];
	size_t bytes;
	int i;

	header(sf, "counters");
	for (i = 0; i < ARRAY_SIZE(sqlos_syscalls); i++)
		seq_printf(sf, "syscall.%d\t%lld\n", SQLOS_NR_FIRST + i,
			   atomic64_read(&sqlos_syscalls[i]));
	mutex_lock(&sqlos_db_lock);
	sqlos_flush();	/* store_bytes: what the tables hold */
	memcpy(c, sqlos_counters, sizeof(c));
	bytes = sqlos_vfs_bytes();
	mutex_unlock(&sqlos_db_lock);
	for (i = 0; i < C_NR; i++)
		seq_printf(sf, "%s\t%llu\n", counter_names[i], c[i]);
	seq_printf(sf, "store_bytes\t%zu\n", bytes);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(counters);

void __init sqlos_inspect_layout(void)
{
	int i;

	LAYOUT_SYMBOL("counters", sqlos_counters);
	for (i = 0; i < C_NR; i++)
		sqlos_layout_add("NUMBER(counter.%s)=%d\n", counter_names[i], i);
	LAYOUT_SYMBOL("syscalls", sqlos_syscalls);
	LAYOUT_NUMBER("syscalls.first", SQLOS_NR_FIRST);
	LAYOUT_NUMBER("syscalls.count", ARRAY_SIZE(sqlos_syscalls));
}

static const char *const tables[] = { "pid_store", "pid_pipe", "pipe_data", "pipe_chunk" };

void sqlos_inspect_init(void)
{
	struct dentry *dir;
	int i;

	if (sqlite3_open_v2("/sqliteos", &inspect_db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		pr_err("sqliteos: no inspection connection: %s\n", sqlite3_errmsg(inspect_db));
		return;
	}
	sqlos_vfs_nowait(inspect_db, true);
	dir = debugfs_create_dir("sqliteos", NULL);
	for (i = 0; i < ARRAY_SIZE(tables); i++)
		debugfs_create_file(tables[i], 0400, dir, (void *)tables[i], &table_fops);
	debugfs_create_file("locks", 0400, dir, NULL, &locks_fops);
	debugfs_create_file("queues", 0400, dir, NULL, &queues_fops);
	debugfs_create_file("pipes", 0400, dir, NULL, &pipes_fops);
	debugfs_create_file("counters", 0400, dir, NULL, &counters_fops);
	sqlos_record_init(dir);
}

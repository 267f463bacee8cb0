// SPDX-License-Identifier: GPL-2.0-only
/*
 * The in-memory VFS SQLite runs on, registered through SQLITE_OS_OTHER. Files are found by name and
 * shared by every connection that opens the name; each is an xarray of page-sized blocks, allocated
 * as they are first written (memcg-accounted to the task writing) and freed when the file is
 * truncated below them, so the database gives memory back when it shrinks (db.c turns on
 * incremental auto-vacuum) and never asks for the whole file in one allocation. Locking is the
 * paper's MMemLock / MMemUnlock (algorithms 3 and 4) on kernel wait queues: SHARED waits on read_q
 * while a writer holds PENDING or more; RESERVED is always granted (the global write mutex keeps
 * writers apart); EXCLUSIVE is granted when the writer is the only reader, otherwise it takes
 * PENDING and waits on write_q. Every call runs under sqlos_db_lock, which a wait drops (after
 * prepare_to_wait) and takes again.
 *
 * Where the kernel departs from the pseudocode, and why:
 *  - a wait can be cut short by a signal; a writer that leaves PENDING that way goes back to
 *    RESERVED and lets the readers in. The fork/exit/close bookkeeping never waits: its connection
 *    is told to refuse (nowait) and the work is kept for later (sql.c);
 *  - a writer woken from write_q checks num_readers again (the pseudocode goes straight to exit);
 *  - current_max_lock is the highest level held, so a SHARED grant never lowers it;
 *  - a writer whose every other reader is a connection of its own task would wait for itself: it
 *    gets SQLITE_BUSY at once, which the syscall reports as -EDEADLK.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/xarray.h>
#include <linux/timekeeping.h>
#include <linux/delay.h>
#include <linux/init.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include "sqlite3.h"
#include "sqliteos.h"

#define MEMVFS_MAX_FILES	8
#define MEMVFS_NAME_LEN		64

struct mem_store {
	char name[MEMVFS_NAME_LEN];
	struct xarray blocks;	/* block i holds bytes [i * PAGE_SIZE, (i + 1) * PAGE_SIZE) */
	size_t size;
	unsigned long nblocks;
	int refs;
	bool used;
	/* MMemStore's additions */
	int current_max_lock;
	int num_readers;
	wait_queue_head_t read_q;
	wait_queue_head_t write_q;
	struct list_head files;
};

struct mem_file {
	sqlite3_file base;
	struct mem_store *store;
	bool delete_on_close;
	bool nowait;		/* refuse (SQLITE_BUSY) instead of waiting */
	int level;		/* SQLITE_LOCK_* held by this connection */
	pid_t owner;		/* the task that took its SHARED lock */
	unsigned int id;	/* for the inspection interface */
	struct task_struct *owner_task;
	struct list_head node;	/* in store->files */
};

/* Protected by sqlos_db_lock, like everything SQLite touches. */
static struct mem_store stores[MEMVFS_MAX_FILES];

/* Frees the blocks from index first on. */
static void store_drop_from(struct mem_store *s, unsigned long first)
{
	unsigned long i;
	void *b;

	xa_for_each_start(&s->blocks, i, b, first) {
		xa_erase(&s->blocks, i);
		kfree(b);
		s->nblocks--;
	}
}

static void store_free(struct mem_store *s)
{
	store_drop_from(s, 0);
	xa_destroy(&s->blocks);
	memset(s, 0, sizeof(*s));
}

/*
 * The block holding offset off, made (zeroed) if create and it is not there yet; NULL if not
 * there.
 */
static u8 *store_block(struct mem_store *s, loff_t off, bool create)
{
	unsigned long i = off >> PAGE_SHIFT;
	u8 *b = xa_load(&s->blocks, i);

	if (b || !create)
		return b;
	b = sqlos_alloc_fails(PAGE_SIZE) ? NULL : kzalloc(PAGE_SIZE, GFP_KERNEL_ACCOUNT);
	if (!b)
		return NULL;
	if (xa_err(xa_store(&s->blocks, i, b, GFP_KERNEL_ACCOUNT))) {
		kfree(b);
		return NULL;
	}
	s->nblocks++;
	return b;
}

/* Bytes a store holds in blocks, for the counters. */
size_t sqlos_vfs_bytes(void)
{
	size_t n = 0;
	int i;

	for (i = 0; i < MEMVFS_MAX_FILES; i++)
		if (stores[i].used)
			n += stores[i].nblocks * PAGE_SIZE;
	return n;
}

static struct mem_store *store_find(const char *name)
{
	int i;

	for (i = 0; i < MEMVFS_MAX_FILES; i++)
		if (stores[i].used && !strcmp(stores[i].name, name))
			return &stores[i];
	return NULL;
}

static int mem_unlock(sqlite3_file *f, int level);

static int mem_close(sqlite3_file *f)
{
	struct mem_file *m = (struct mem_file *)f;

	mem_unlock(f, SQLITE_LOCK_NONE);
	list_del(&m->node);
	if (--m->store->refs == 0 && m->delete_on_close)
		store_free(m->store);
	return SQLITE_OK;
}

/* Bytes past the end, and blocks never written, read as zeros. */
static int mem_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
	struct mem_store *s = ((struct mem_file *)f)->store;
	size_t have = off < s->size ? min_t(size_t, s->size - off, amt) : 0, done = 0, k;
	u8 *b;

	while (done < have) {
		k = min_t(size_t, have - done, PAGE_SIZE - offset_in_page(off + done));
		b = store_block(s, off + done, false);
		if (b)
			memcpy((u8 *)buf + done, b + offset_in_page(off + done), k);
		else
			memset((u8 *)buf + done, 0, k);
		done += k;
	}
	if (have == amt)
		return SQLITE_OK;
	memset((u8 *)buf + have, 0, amt - have);
	return SQLITE_IOERR_SHORT_READ;
}

static int mem_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off)
{
	struct mem_store *s = ((struct mem_file *)f)->store;
	size_t done = 0, k;
	u8 *b;

	while (done < amt) {
		k = min_t(size_t, amt - done, PAGE_SIZE - offset_in_page(off + done));
		b = store_block(s, off + done, true);
		if (!b)
			return SQLITE_NOMEM;
		memcpy(b + offset_in_page(off + done), (const u8 *)buf + done, k);
		done += k;
	}
	s->size = max_t(size_t, s->size, off + amt);
	return SQLITE_OK;
}

/* The blocks wholly past the new end are freed; the rest of the last one is zeroed. */
static int mem_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct mem_store *s = ((struct mem_file *)f)->store;
	u8 *b;

	if (size >= s->size)
		return SQLITE_OK;
	s->size = size;
	store_drop_from(s, DIV_ROUND_UP(size, PAGE_SIZE));
	b = offset_in_page(size) ? store_block(s, size, false) : NULL;
	if (b)
		memset(b + offset_in_page(size), 0, PAGE_SIZE - offset_in_page(size));
	return SQLITE_OK;
}

static int mem_sync(sqlite3_file *f, int flags)
{
	return SQLITE_OK;
}

static int mem_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	*size = ((struct mem_file *)f)->store->size;
	return SQLITE_OK;
}

/* Would a writer wait only for connections of its own task? Then it would wait for ever. */
static bool waits_for_itself(struct mem_store *s, struct mem_file *m)
{
	struct mem_file *o;

	list_for_each_entry(o, &s->files, node)
		if (o != m && o->level >= SQLITE_LOCK_SHARED && o->owner_task != current)
			return false;
	return true;
}

/* The writer leaves PENDING without EXCLUSIVE (a signal, or it would wait for itself). */
static void back_off(struct mem_store *s, struct mem_file *m)
{
	m->level = SQLITE_LOCK_RESERVED;
	s->current_max_lock = SQLITE_LOCK_RESERVED;
	wake_up_all(&s->read_q);
}

/* MMemLock */
static int mem_lock(sqlite3_file *f, int level)
{
	struct mem_file *m = (struct mem_file *)f;
	struct mem_store *s = m->store;

	if (level <= m->level)
		return SQLITE_OK;
	switch (level) {
	case SQLITE_LOCK_SHARED:
		/* another connection would read under the commit window: sqlos_flush() missing */
		WARN_ON_ONCE(sqlos_window_held());
		while (s->current_max_lock > SQLITE_LOCK_RESERVED)
			if (m->nowait || sqlos_sleep(&s->read_q, false, true))
				return SQLITE_BUSY;
		s->num_readers++;
		m->owner = task_pid_nr(current);
		m->owner_task = current;
		break;
	case SQLITE_LOCK_RESERVED:
		break;
	default:	/* EXCLUSIVE (PENDING is never asked for by SQLite's pager) */
		if (s->num_readers == 1)
			break;
		if (m->nowait)
			return SQLITE_BUSY;
		s->current_max_lock = SQLITE_LOCK_PENDING;
		m->level = SQLITE_LOCK_PENDING;
		while (s->num_readers != 1) {
			if (waits_for_itself(s, m) || sqlos_sleep(&s->write_q, true, true)) {
				back_off(s, m);
				return SQLITE_BUSY;
			}
		}
		level = SQLITE_LOCK_EXCLUSIVE;
	}
	m->level = level;
	s->current_max_lock = max(s->current_max_lock, level);
	return SQLITE_OK;
}

/* MMemUnlock */
static int mem_unlock(sqlite3_file *f, int level)
{
	struct mem_file *m = (struct mem_file *)f;
	struct mem_store *s = m->store;
	bool woke_writer = false;

	if (level >= m->level)
		return SQLITE_OK;
	if (level == SQLITE_LOCK_NONE) {
		s->num_readers--;
		if (s->num_readers == 0) {
			s->current_max_lock = SQLITE_LOCK_NONE;
		} else if (s->num_readers == 1 && s->current_max_lock == SQLITE_LOCK_PENDING &&
			   m->level < SQLITE_LOCK_PENDING) {
			woke_writer = true;
			wake_up(&s->write_q);
		}
		m->owner = 0;
		m->owner_task = NULL;
	}
	/* A writer going below RESERVED: only readers are left. */
	if (m->level >= SQLITE_LOCK_RESERVED && level < SQLITE_LOCK_RESERVED)
		s->current_max_lock = s->num_readers ? SQLITE_LOCK_SHARED : SQLITE_LOCK_NONE;
	m->level = level;
	if (!woke_writer)
		wake_up_all(&s->read_q);
	return SQLITE_OK;
}

static int mem_check_reserved(sqlite3_file *f, int *out)
{
	struct mem_file *m = (struct mem_file *)f;

	*out = m->store->current_max_lock >= SQLITE_LOCK_RESERVED &&
	       m->level < SQLITE_LOCK_RESERVED;
	return SQLITE_OK;
}

static int mem_file_control(sqlite3_file *f, int op, void *arg)
{
	return SQLITE_NOTFOUND;
}

static int mem_sector_size(sqlite3_file *f)
{
	return 512;
}

/*
 * SUBPAGE_READ: any byte range reads straight from memory, so SQLite reads a blob's overflow pages
 * from the store into the value it builds, without a page cache lookup per page.
 */
static int mem_device_characteristics(sqlite3_file *f)
{
	return SQLITE_IOCAP_ATOMIC | SQLITE_IOCAP_SAFE_APPEND | SQLITE_IOCAP_SEQUENTIAL |
	       SQLITE_IOCAP_SUBPAGE_READ;
}

static const sqlite3_io_methods mem_io = {
	.iVersion = 1,
	.xClose = mem_close,
	.xRead = mem_read,
	.xWrite = mem_write,
	.xTruncate = mem_truncate,
	.xSync = mem_sync,
	.xFileSize = mem_file_size,
	.xLock = mem_lock,
	.xUnlock = mem_unlock,
	.xCheckReservedLock = mem_check_reserved,
	.xFileControl = mem_file_control,
	.xSectorSize = mem_sector_size,
	.xDeviceCharacteristics = mem_device_characteristics,
};

static unsigned int next_id;

static int vfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
	struct mem_file *m = (struct mem_file *)f;
	struct mem_store *s = NULL;
	static unsigned int anon;
	char tmp[MEMVFS_NAME_LEN];
	int i;

	if (!name) {
		snprintf(tmp, sizeof(tmp), "temp-%u", anon++);
		name = tmp;
	}
	if (strlen(name) >= MEMVFS_NAME_LEN)
		return SQLITE_CANTOPEN;
	s = store_find(name);
	if (!s) {
		if (!(flags & SQLITE_OPEN_CREATE))
			return SQLITE_CANTOPEN;
		for (i = 0; i < MEMVFS_MAX_FILES && stores[i].used; i++)
			;
		if (i == MEMVFS_MAX_FILES)
			return SQLITE_CANTOPEN;
		s = &stores[i];
		s->used = true;
		xa_init(&s->blocks);
		strscpy(s->name, name, sizeof(s->name));
		init_waitqueue_head(&s->read_q);
		init_waitqueue_head(&s->write_q);
		INIT_LIST_HEAD(&s->files);
	}
	s->refs++;
	memset(m, 0, sizeof(*m));
	m->id = ++next_id;
	m->store = s;
	m->delete_on_close = flags & SQLITE_OPEN_DELETEONCLOSE;
	list_add_tail(&m->node, &s->files);
	m->base.pMethods = &mem_io;
	if (out)
		*out = flags;
	return SQLITE_OK;
}

static int vfs_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	struct mem_store *s = store_find(name);

	if (s && !s->refs)
		store_free(s);
	return SQLITE_OK;
}

static int vfs_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	struct mem_store *s = store_find(name);

	*out = s && s->size > 0;
	return SQLITE_OK;
}

static int vfs_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	strscpy(out, name, n);
	return SQLITE_OK;
}

static int vfs_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	get_random_bytes(out, n);
	return n;
}

static int vfs_sleep(sqlite3_vfs *vfs, int us)
{
	usleep_range(us, us + 100);
	return us;
}

/* Milliseconds since the Julian epoch, as SQLite wants them. */
static int vfs_current_time(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	*out = ktime_get_real_seconds() * 1000LL + 210866760000000LL;
	return SQLITE_OK;
}

static int vfs_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	return 0;
}

static sqlite3_vfs memvfs = {
	.iVersion = 2,
	.szOsFile = sizeof(struct mem_file),
	.mxPathname = MEMVFS_NAME_LEN,
	.zName = "sqliteos-mem",
	.xOpen = vfs_open,
	.xDelete = vfs_delete,
	.xAccess = vfs_access,
	.xFullPathname = vfs_full_pathname,
	.xRandomness = vfs_randomness,
	.xSleep = vfs_sleep,
	.xGetLastError = vfs_last_error,
	.xCurrentTimeInt64 = vfs_current_time,
};

struct sqlite3_vfs *sqlos_memvfs(void)
{
	return &memvfs;
}

void sqlos_vfs_nowait(struct sqlite3 *db, bool nowait)
{
	struct mem_file *f = NULL;

	if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &f) == SQLITE_OK && f)
		f->nowait = nowait;
}

static const char *const level_names[] = { "NONE", "SHARED", "RESERVED", "PENDING", "EXCLUSIVE" };

/* The lock state of every store, for debugfs (format in kernel-scripts/README.md). */
void sqlos_vfs_show(struct seq_file *sf)
{
	struct mem_file *m;
	int i;

	for (i = 0; i < MEMVFS_MAX_FILES; i++) {
		struct mem_store *s = &stores[i];

		if (!s->used || list_empty(&s->files))
			continue;
		seq_printf(sf, "store\t%s\tcurrent_max_lock\t%s\tnum_readers\t%d\n", s->name,
			   level_names[s->current_max_lock], s->num_readers);
		list_for_each_entry(m, &s->files, node)
			seq_printf(sf, "conn\t%s\t%u\t%s\t%d\n", s->name, m->id,
				   level_names[m->level], m->owner);
	}
}

/* What a reader of memory needs to find the stores, their connections, blocks and lock state. */
void __init sqlos_vfs_layout(void)
{
	LAYOUT_SYMBOL("stores", stores);
	LAYOUT_NUMBER("stores.count", MEMVFS_MAX_FILES);
	LAYOUT_SIZE(mem_store);
	LAYOUT_FIELD(mem_store, name);
	LAYOUT_FIELD(mem_store, blocks);
	LAYOUT_FIELD(mem_store, size);
	LAYOUT_FIELD(mem_store, nblocks);
	LAYOUT_FIELD(mem_store, used);
	LAYOUT_FIELD(mem_store, current_max_lock);
	LAYOUT_FIELD(mem_store, num_readers);
	LAYOUT_FIELD(mem_store, read_q);
	LAYOUT_FIELD(mem_store, write_q);
	LAYOUT_FIELD(mem_store, files);
	LAYOUT_FIELD(mem_file, node);
	LAYOUT_FIELD(mem_file, id);
	LAYOUT_FIELD(mem_file, level);
	LAYOUT_FIELD(mem_file, owner);
	LAYOUT_NUMBER("block_size", PAGE_SIZE);
	LAYOUT_NUMBER("SQLITE_LOCK_NONE", SQLITE_LOCK_NONE);
	LAYOUT_NUMBER("SQLITE_LOCK_SHARED", SQLITE_LOCK_SHARED);
	LAYOUT_NUMBER("SQLITE_LOCK_RESERVED", SQLITE_LOCK_RESERVED);
	LAYOUT_NUMBER("SQLITE_LOCK_PENDING", SQLITE_LOCK_PENDING);
	LAYOUT_NUMBER("SQLITE_LOCK_EXCLUSIVE", SQLITE_LOCK_EXCLUSIVE);
}

/* The store's two queues, named store.read_q and store.write_q. */
void sqlos_vfs_queues(struct seq_file *sf, sqlos_queue_show show)
{
	int i;

	for (i = 0; i < MEMVFS_MAX_FILES; i++) {
		if (!stores[i].used || strcmp(stores[i].name, "/sqliteos"))
			continue;
		show(sf, "store.read_q", &stores[i].read_q);
		show(sf, "store.write_q", &stores[i].write_q);
	}
}

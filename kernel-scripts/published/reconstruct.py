#!/usr/bin/env python3
"""Reconstructs the one file the stored published SQLiteOS tree lacks: ksqlite/sqlite3.c, the authors'
patched SQLite 3.45.1 amalgamation. It is OUR reconstruction (README.md beside this file), made from:

  - SQLite 3.45.1's amalgamation (kernel-scripts/sqlite/fetch.sh --version 3.45.1), unchanged except below;
  - the API edits the tree's own include/linux/sqlite3.h shows against a stock 3.45.1 sqlite3.h (checked
    here: the tree's header must be exactly the stock one with HEADER_EDITS made, or nothing is written);
  - the float-free edits (kernel-scripts/sqlite/nofloat.py, the companion kernel's);
  - the paper's MMemLock / MMemUnlock (its algorithms 3 and 4) in place of memdb's lock, read as the
    simulator's `sqliteos` lock policy reads them (extension/core/sim/locks.ts);
  - the glue the authors' files need from it and do not define (sqlite3_os_init, sqlite3_rememvfs_init,
    the libc functions SQLite asks for), and the tree's own ksqlite/sqlite_defs.h for the options.

usage: reconstruct.py AMALGAMATION_DIR TREE     writes TREE/ksqlite/sqlite3.c (only when its text changes)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sqlite"))
import nofloat  # noqa: E402

VERSION = "3.45.1"
MARK = "RECONSTRUCTED by SQLiteOS Companion"

# include/linux/sqlite3.h against a stock 3.45.1 sqlite3.h: (old, new) made once each, in order.
HEADER_EDITS = [
    ("#define SQLITE_IOCAP_BATCH_ATOMIC           0x00004000\n",
     "#define SQLITE_IOCAP_BATCH_ATOMIC           0x00004000\n#define SQLITE_OS_UNIX 0\n"),
    ("  int (*xCurrentTime)(sqlite3_vfs*, double*);\n", ""),
    ("#define SQLITE_CONFIG_MEMDB_MAXSIZE       29  /* sqlite3_int64 */\n\n",
     "#define SQLITE_CONFIG_MEMDB_MAXSIZE       29  /* sqlite3_int64 */\n\n\n"
     "int sqlite3_rememvfs_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi);\n"),
    ("*************************************************************************/\n\n#ifdef __cplusplus\n}  /* end of the 'extern \"C\"' block */",
     "*************************************************************************/\n#ifdef __cplusplus\n}  /* end of the 'extern \"C\"' block */"),
]

# The engine, beyond the header: (what, old, new), each found exactly once.
ENGINE_EDITS = [
    # xCurrentTime is gone from sqlite3_vfs: the version-1 fallback cannot be taken, and memdb's
    # positional initializer loses its slot.
    ("the xCurrentTime fallback",
     "    rc = pVfs->xCurrentTime(pVfs, &r);\n",
     "    rc = SQLITE_ERROR; (void)r; /* reconstruction: no xCurrentTime in this sqlite3_vfs */\n"),
    ("memdb's xCurrentTime slot", "  0, /* memdbCurrentTime, */   /* xCurrentTime */\n", ""),
    # The paper's MMemStore: memdb's MemStore with the two wait queues and the two counters.
    ("the MMemStore fields",
     "  char *zFName;                   /* The filename for shared stores */\n};",
     "  char *zFName;                   /* The filename for shared stores */\n"
     "  /* reconstruction: the paper's MMemStore additions (algorithm 2) and a lock for them */\n"
     "  wait_queue_head_t write_q;\n"
     "  wait_queue_head_t read_q;\n"
     "  int num_readers;\n"
     "  int current_max_lock;\n"
     "  spinlock_t mmem_lock;\n};"),
    ("the MMemLock declarations",
     "static int memdbLock(sqlite3_file*, int);\n",
     "static int memdbLock(sqlite3_file*, int);\n"
     "static int MMemLock(MemFile *pThis, int eLock);\n"
     "static int MMemUnlock(MemFile *pThis, int eLock);\n"
     "static void MMemStoreInit(MemStore *p);\n"),
    # Both kinds of store (shared by name, private) get their queues when made.
    ("a shared store's queues",
     "      p->zFName = (char*)&p[1];\n",
     "      MMemStoreInit(p);\n      p->zFName = (char*)&p[1];\n"),
    ("a private store's queues",
     "    memset(p, 0, sizeof(*p));\n    p->mFlags = SQLITE_DESERIALIZE_RESIZEABLE | SQLITE_DESERIALIZE_FREEONCLOSE;\n",
     "    memset(p, 0, sizeof(*p));\n    MMemStoreInit(p);\n    p->mFlags = SQLITE_DESERIALIZE_RESIZEABLE | SQLITE_DESERIALIZE_FREEONCLOSE;\n"),
    # ksqlite_init closes its connection once the tables exist and every syscall opens "/test" again:
    # the named store must outlive its connections (stock memdb frees it with the last one).
    ("a named store outlives its connections",
     "      p->nRef = 1;\n      memdbEnter(p);\n",
     "      p->nRef = 2; /* reconstruction: one reference is the kernel's, never given back */\n"
     "      memdbEnter(p);\n"),
    # sqlite3_open("/test") goes to memdb: it is made the default VFS when registered.
    ("memdb the default VFS",
     "  return sqlite3_vfs_register(&memdb_vfs, 0);\n",
     "  return sqlite3_vfs_register(&memdb_vfs, 1); /* reconstruction: the default VFS */\n"),
]

# memdbLock / memdbUnlock: their bodies become calls of the paper's functions.
LOCK_FUNCTIONS = [
    ("static int memdbLock(sqlite3_file *pFile, int eLock){",
     "static int memdbLock(sqlite3_file *pFile, int eLock){\n  return MMemLock((MemFile*)pFile, eLock);\n}"),
    ("static int memdbUnlock(sqlite3_file *pFile, int eLock){",
     "static int memdbUnlock(sqlite3_file *pFile, int eLock){\n  return MMemUnlock((MemFile*)pFile, eLock);\n}"),
]

PREFIX = """/*
 * ksqlite/sqlite3.c -- {mark} (kernel-scripts/published/reconstruct.py).
 * NOT the authors' file: the published tree lacks it. SQLite {version}'s amalgamation with the API edits
 * include/linux/sqlite3.h shows, the float-free edits, and the paper's MMemLock / MMemUnlock in memdb.
 * SQLite is in the public domain; the additions below and at the end are the Companion's.
 */
#include "sqlite_defs.h"
/* sqlite_defs.h's assert(X) expands to nothing, which 3.45.1's AggInfoColumnReg() cannot take inside an
 * expression: an assert that is an expression. */
#undef assert
#define assert(X) ((void)0)
/* sum()'s Kahan-Babuska step asks for fabs(); without floats its "double" is an integer. */
#define fabs(X) ((X) < 0 ? -(X) : (X))
#include <linux/kernel.h>
#include <linux/ctype.h>
#include <linux/stdarg.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/time.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/random.h>
#include <linux/delay.h>
#include <linux/ktime.h>
/* Kernel macros that clash with names SQLite uses; `current` comes back for the appendix. */
#pragma push_macro("current")
#undef current
#undef fallthrough
#undef noinline
#undef GCC_VERSION
/* The kernel has no time_t any more; SQLite only passes one to gmtime_r. */
typedef time64_t time_t;
struct tm *gmtime_r(const time_t *t, struct tm *out);
size_t strftime(char *s, size_t max, const char *fmt, const struct tm *tm);
"""

APPENDIX = r"""
/* ==== {mark}: the kernel side of the reconstruction ==== */
#pragma pop_macro("current")

static void MMemStoreInit(MemStore *p)
{
	init_waitqueue_head(&p->write_q);
	init_waitqueue_head(&p->read_q);
	spin_lock_init(&p->mmem_lock);
	p->num_readers = 0;
	p->current_max_lock = SQLITE_LOCK_NONE;
}

/* Sleeps on q (uninterruptibly: xLock has no way to say "interrupted") with mmem_lock dropped. */
static inline __attribute__((__always_inline__)) void MMemSleep(MemStore *p, wait_queue_head_t *q)
{
	DEFINE_WAIT(wait);

	prepare_to_wait(q, &wait, TASK_UNINTERRUPTIBLE);
	spin_unlock(&p->mmem_lock);
	schedule();
	finish_wait(q, &wait);
	spin_lock(&p->mmem_lock);
}

/*
 * One function per queue, never inlined, so that /proc/PID/wchan says which queue a task sleeps on (the
 * published kernel has no other window on them): the scenario runner tells read_q from write_q by it.
 */
static __attribute__((__noinline__)) void MMemWaitReadQ(MemStore *p)
{
	MMemSleep(p, &p->read_q);
}

static __attribute__((__noinline__)) void MMemWaitWriteQ(MemStore *p)
{
	MMemSleep(p, &p->write_q);
}

/*
 * Algorithm 3, as the simulator's `sqliteos` lock policy reads it: SHARED waits on read_q while
 * current_max_lock is above RESERVED and counts itself once admitted; RESERVED is always granted (the
 * global write mutex keeps writers apart); EXCLUSIVE is granted when the writer is the only reader,
 * else the store goes to PENDING and the writer waits on write_q. On exit current_max_lock becomes
 * the level asked for, literally (a SHARED grant lowers it). The writer is woken only when it is the
 * last reader, so its re-check of num_readers never fails: it is there against spurious wake-ups.
 */
static __attribute__((__noinline__)) int MMemLock(MemFile *pThis, int eLock)
{
	MemStore *p = pThis->pStore;

	if (eLock <= pThis->eLock)
		return SQLITE_OK;
	spin_lock(&p->mmem_lock);
	if (eLock == SQLITE_LOCK_SHARED) {
		while (p->current_max_lock > SQLITE_LOCK_RESERVED)
			MMemWaitReadQ(p);
		p->num_readers++;
	} else if (eLock == SQLITE_LOCK_EXCLUSIVE && p->num_readers != 1) {
		p->current_max_lock = SQLITE_LOCK_PENDING;
		pThis->eLock = SQLITE_LOCK_PENDING;
		while (p->num_readers != 1)
			MMemWaitWriteQ(p);
	}
	p->current_max_lock = eLock;
	pThis->eLock = eLock;
	spin_unlock(&p->mmem_lock);
	return SQLITE_OK;
}

/*
 * Algorithm 4: unlocking to NONE gives up a reader; the last one sets the store to NONE; one reader
 * left while PENDING is set wakes the writer; otherwise every reader is woken. Unlocking to SHARED
 * changes nothing in the store.
 */
static __attribute__((__noinline__)) int MMemUnlock(MemFile *pThis, int eLock)
{
	MemStore *p = pThis->pStore;
	bool woke_writer = false;

	if (eLock >= pThis->eLock)
		return SQLITE_OK;
	spin_lock(&p->mmem_lock);
	if (eLock == SQLITE_LOCK_NONE) {
		p->num_readers--;
		if (p->num_readers == 0)
			p->current_max_lock = SQLITE_LOCK_NONE;
		else if (p->num_readers == 1 && p->current_max_lock == SQLITE_LOCK_PENDING)
			woke_writer = true;
	}
	pThis->eLock = eLock;
	spin_unlock(&p->mmem_lock);
	if (woke_writer)
		wake_up(&p->write_q);
	else
		wake_up_all(&p->read_q);
	return SQLITE_OK;
}

/* The VFS memdb stands on (it asks it for randomness, sleep and time); it opens no file itself. */
static int kvfs_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *out)
{
	return SQLITE_CANTOPEN;
}

static int kvfs_delete(sqlite3_vfs *v, const char *name, int sync)
{
	return SQLITE_IOERR_DELETE;
}

static int kvfs_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	*out = 0;
	return SQLITE_OK;
}

static int kvfs_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
	return strscpy(out, name, n) < 0 ? SQLITE_CANTOPEN : SQLITE_OK;
}

static void *kvfs_dlopen(sqlite3_vfs *v, const char *name)
{
	return NULL;
}

static void kvfs_dlerror(sqlite3_vfs *v, int n, char *msg)
{
	strscpy(msg, "no extensions in the kernel", n);
}

static void (*kvfs_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
	return NULL;
}

static void kvfs_dlclose(sqlite3_vfs *v, void *h)
{
}

static int kvfs_randomness(sqlite3_vfs *v, int n, char *out)
{
	get_random_bytes(out, n);
	return n;
}

static int kvfs_sleep(sqlite3_vfs *v, int us)
{
	usleep_range(us, us + 100);
	return us;
}

static int kvfs_last_error(sqlite3_vfs *v, int n, char *msg)
{
	return 0;
}

/* Milliseconds since the Julian epoch, as SQLite counts time. */
static int kvfs_current_time(sqlite3_vfs *v, sqlite3_int64 *now)
{
	*now = ktime_get_real_ns() / NSEC_PER_MSEC + 210866760000000LL;
	return SQLITE_OK;
}

static sqlite3_vfs kvfs = {
	.iVersion = 2,
	.szOsFile = sizeof(sqlite3_file),
	.mxPathname = 1024,
	.zName = "kernel",
	.xOpen = kvfs_open,
	.xDelete = kvfs_delete,
	.xAccess = kvfs_access,
	.xFullPathname = kvfs_full_pathname,
	.xDlOpen = kvfs_dlopen,
	.xDlError = kvfs_dlerror,
	.xDlSym = kvfs_dlsym,
	.xDlClose = kvfs_dlclose,
	.xRandomness = kvfs_randomness,
	.xSleep = kvfs_sleep,
	.xGetLastError = kvfs_last_error,
	.xCurrentTimeInt64 = kvfs_current_time,
};

int sqlite3_os_init(void)
{
	return sqlite3_vfs_register(&kvfs, 1);
}

int sqlite3_os_end(void)
{
	return SQLITE_OK;
}

/* Declared by the tree's sqlite3.h and called by none of its files: makes memdb the default VFS. */
int sqlite3_rememvfs_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi)
{
	sqlite3_vfs *memdb = sqlite3_vfs_find("memdb");

	return memdb ? sqlite3_vfs_register(memdb, 1) : SQLITE_ERROR;
}

/* current_time / current_date / current_timestamp (SQLITE_OMIT_DATETIME_FUNCS's minimal versions). */
struct tm *gmtime_r(const time_t *t, struct tm *out)
{
	time64_to_tm(*t, 0, out);
	return out;
}

size_t strftime(char *s, size_t max, const char *fmt, const struct tm *tm)
{
	size_t n = 0;

	if (!max)
		return 0;
	for (; *fmt && n + 1 < max; fmt++) {
		if (*fmt != '%' || !fmt[1]) {
			s[n++] = *fmt;
			continue;
		}
		switch (*++fmt) {
		case 'Y': n += scnprintf(s + n, max - n, "%04ld", tm->tm_year + 1900); break;
		case 'm': n += scnprintf(s + n, max - n, "%02d", tm->tm_mon + 1); break;
		case 'd': n += scnprintf(s + n, max - n, "%02d", tm->tm_mday); break;
		case 'H': n += scnprintf(s + n, max - n, "%02d", tm->tm_hour); break;
		case 'M': n += scnprintf(s + n, max - n, "%02d", tm->tm_min); break;
		case 'S': n += scnprintf(s + n, max - n, "%02d", tm->tm_sec); break;
		default: s[n++] = *fmt;
		}
	}
	s[n] = 0;
	return n;
}
"""


class Refused(Exception):
    pass


def once(src, old, new, what, where):
    n = src.count(old)
    if n != 1:
        raise Refused(f"{where}: {what}: expected its text once, found {n}:\n{old[:200]}")
    return src.replace(old, new)


def edited_header(stock):
    for old, new in HEADER_EDITS:
        stock = once(stock, old, new, "a header edit", "sqlite3.h")
    return stock


def check_tree(tree, amalgamation):
    for rel in ("ksqlite/ksqlite.c", "ksqlite/sqlite_defs.h", "ksqlite/Makefile", "include/linux/sqlite3.h"):
        if not os.path.isfile(os.path.join(tree, rel)):
            raise Refused(f"{os.path.join(tree, rel)}: missing: {tree} is not the published SQLiteOS tree")
    ours = open(os.path.join(amalgamation, "sqlite3.h"), encoding="utf-8").read()
    if f'#define SQLITE_VERSION        "{VERSION}"' not in ours:
        raise Refused(f"{amalgamation}/sqlite3.h: not SQLite {VERSION} (fetch.sh --version {VERSION})")
    theirs_path = os.path.join(tree, "include/linux/sqlite3.h")
    theirs = open(theirs_path, encoding="utf-8").read()
    expected = edited_header(ours)
    if theirs != expected:
        a, b = expected.splitlines(), theirs.splitlines()
        line = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
        raise Refused(f"{theirs_path}:{line + 1}: differs from SQLite {VERSION}'s sqlite3.h with the known API "
                      f"edits (expected {a[line] if line < len(a) else 'the end'!r}); the reconstruction "
                      f"would not match this tree's header")


def reconstruct(amalgamation, tree):
    check_tree(tree, amalgamation)
    where = os.path.join(amalgamation, "sqlite3.c")
    src = open(where, encoding="utf-8").read()
    for old, new in HEADER_EDITS[:3]:  # the amalgamation's own copy of sqlite3.h (the 4th is the file's end)
        src = once(src, old, new, "a header edit", where)
    for what, old, new in ENGINE_EDITS:
        src = once(src, old, new, what, where)
    try:
        for sig, new in LOCK_FUNCTIONS:
            src = nofloat.replace_function(src, sig, new, where)
        src = nofloat.edit(src, where)
    except nofloat.EditError as e:
        raise Refused(str(e))
    # The kernel has no libc headers: every #include <...> goes (PREFIX includes the kernel's).
    lines = []
    for line in src.split("\n"):
        s = line.lstrip()
        if s.startswith("#") and s[1:].lstrip().startswith("include <"):
            header = s[s.index("<") + 1:s.index(">")]
            line = f"/* reconstruction: #include <{header}> dropped (the kernel's headers are included at the top) */"
        lines.append(line)
    return PREFIX.format(mark=MARK, version=VERSION) + "\n".join(lines) + APPENDIX.replace("{mark}", MARK)


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    amalgamation, tree = argv[1], argv[2]
    try:
        text = reconstruct(amalgamation, tree)
    except Refused as e:
        print(f"reconstruct.py: {e}", file=sys.stderr)
        return 1
    out = os.path.join(tree, "ksqlite/sqlite3.c")
    if os.path.exists(out):
        old = open(out, encoding="utf-8", errors="replace").read()
        if MARK not in old[:400]:
            print(f"reconstruct.py: {out} exists and is not a reconstruction (the authors' own?): left as it is")
            return 0
        if old == text:
            print(f"reconstruct.py: {out} is up to date")
            return 0
    with open(out + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(out + ".tmp", out)
    print(f"reconstruct.py: wrote {out} ({len(text)} bytes), a reconstruction of the authors' SQLite {VERSION}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

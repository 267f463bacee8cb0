// SPDX-License-Identifier: GPL-2.0-only
/*
 * The recorder (debugfs sqliteos/record, root only): what a process and every process it forks
 * do to SQL pipes and the tables, one record per call, for `sqliteos record` to turn into a
 * scenario. "follow PID" starts following a task (its children are followed from their fork on),
 * "stop" follows none, "clear" forgets the records. Reading gives a header (how many tasks are
 * followed, how many records were lost) and the records in the order they completed:
 *
 *	SEQ START PID OP A0 A1 = RESULT BYTES DIGEST [HEX]
 *
 * START numbers the calls in the order they began, SEQ in the order they completed; OP is pipe
 * (A0 the dataId), read / write (dataId, count asked for), close (dataId, 0 for the read end, 1
 * for the write end), fork (the child, 1 if it shares the fd table), exit, begin / commit (553's
 * and 554's argument), query / savepoint / release / rollback_to (the SQL or the savepoint's name
 * in HEX), and RESULT the call's return value. BYTES is how many bytes the call moved (a write:
 * those it was given), DIGEST their 64-bit FNV-1a (- if they could not all be read); HEX holds them
 * up to sqliteos.record_bytes. Records past
 * sqliteos.record_max, or past 64 MiB of bytes kept, are lost: counted, never hidden.
 */
#include <linux/debugfs.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/xarray.h>
#include "sqliteos.h"

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "sqliteos."

static uint record_max = 16384;
static uint record_bytes = SZ_64K;
module_param(record_max, uint, 0644);
module_param(record_bytes, uint, 0644);

#define RECORD_TOTAL	SZ_64M

static const char *const op_names[REC_NR] = {
	[REC_PIPE] = "pipe", [REC_READ] = "read", [REC_WRITE] = "write", [REC_CLOSE] = "close",
	[REC_FORK] = "fork", [REC_EXIT] = "exit", [REC_BEGIN] = "begin", [REC_COMMIT] = "commit",
	[REC_QUERY] = "query", [REC_SAVEPOINT] = "savepoint", [REC_RELEASE] = "release",
	[REC_ROLLBACK_TO] = "rollback_to",
};

struct record {
	struct list_head node;
	u64 seq, start, digest;
	bool hashed;
	pid_t pid;
	enum sqlos_rec op;
	s64 args[2], result;
	size_t bytes, kept;
	u8 data[];
};

/* The tasks followed, by pid; the records and their counts, under rec_lock. */
static DEFINE_XARRAY(followed);
static DEFINE_MUTEX(rec_lock);
static LIST_HEAD(records);
static unsigned int nrec;
static size_t kept_total;
static u64 lost;
static atomic64_t clock;

static bool is_followed(struct task_struct *t)
{
	return !xa_empty(&followed) && xa_load(&followed, task_pid_nr(t));
}

u64 sqlos_record_start(void)
{
	return is_followed(current) ? atomic64_inc_return(&clock) : 0;
}

#define FNV_BASIS	0xcbf29ce484222325ULL

static u64 fnv1a(u64 h, const u8 *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Keeps up to room of the bytes in `from` and digests all of them (false if some faulted). */
static bool keep_bytes(struct record *r, size_t room, struct iov_iter *from, size_t bytes)
{
	size_t done, got = 1;
	u8 part[256];

	r->kept = copy_from_iter(r->data, room, from);
	r->digest = fnv1a(FNV_BASIS, r->data, r->kept);
	for (done = r->kept; done < bytes && got; done += got) {
		got = copy_from_iter(part, min_t(size_t, sizeof(part), bytes - done), from);
		r->digest = fnv1a(r->digest, part, got);
	}
	return done == bytes;
}

/*
 * A record of op by pid, with up to record_bytes of the bytes in `from` (a caller's buffer, read
 * before rec_lock is taken) or buf, and the digest of all of them.
 */
static void add(u64 start, pid_t pid, enum sqlos_rec op, s64 a0, s64 a1, s64 result,
		struct iov_iter *from, const void *buf, size_t bytes)
{
	size_t keep = (from || buf) ? min_t(size_t, bytes, READ_ONCE(record_bytes)) : 0;
	struct record *r = kvmalloc(struct_size(r, data, keep), GFP_KERNEL_ACCOUNT);

	if (r) {
		r->kept = 0;
		r->digest = FNV_BASIS;
		r->hashed = true;
		if (from) {
			r->hashed = keep_bytes(r, keep, from, bytes);
		} else if (buf) {
			memcpy(r->data, buf, keep);
			r->kept = keep;
			r->digest = fnv1a(FNV_BASIS, buf, bytes);
		}
		r->pid = pid;
		r->op = op;
		r->args[0] = a0;
		r->args[1] = a1;
		r->result = result;
		r->bytes = bytes;
		keep = r->kept;
	}
	mutex_lock(&rec_lock);
	if (!r || nrec >= READ_ONCE(record_max) || kept_total + keep > RECORD_TOTAL) {
		lost++;
		mutex_unlock(&rec_lock);
		kvfree(r);
		return;
	}
	r->seq = atomic64_inc_return(&clock);
	r->start = start ? start : r->seq;
	kept_total += keep;
	nrec++;
	list_add_tail(&r->node, &records);
	mutex_unlock(&rec_lock);
}

void sqlos_record(u64 start, enum sqlos_rec op, s64 a0, s64 a1, s64 result, const void *buf,
		  size_t bytes)
{
	if (start)
		add(start, task_pid_nr(current), op, a0, a1, result, NULL, buf, bytes);
}

/*
 * A read or write: `seen` is the caller's buffer as it was before the call. A read keeps the bytes
 * it returned, a write those it was given (whether or not they went in).
 */
void sqlos_record_io(u64 start, enum sqlos_rec op, s64 id, struct iov_iter *seen, ssize_t ret)
{
	size_t asked = iov_iter_count(seen);
	size_t bytes = op == REC_WRITE ? asked : ret > 0 ? ret : 0;

	if (start)
		add(start, task_pid_nr(current), op, id, asked, ret, bytes ? seen : NULL, NULL,
		    bytes);
}

/* From the fork hook, before the child can run: a child of a followed task is followed. */
void sqlos_record_fork(struct task_struct *child, bool files)
{
	if (!is_followed(current))
		return;
	if (xa_err(xa_store(&followed, task_pid_nr(child), xa_mk_value(0), GFP_KERNEL))) {
		mutex_lock(&rec_lock);
		lost++;
		mutex_unlock(&rec_lock);
	}
	add(0, task_pid_nr(current), REC_FORK, task_pid_nr(child), files, 0, NULL, NULL, 0);
}

void sqlos_record_exit(struct task_struct *t)
{
	if (!is_followed(t))
		return;
	add(0, task_pid_nr(t), REC_EXIT, 0, 0, 0, NULL, NULL, 0);
	xa_erase(&followed, task_pid_nr(t));
}

static void forget(void)
{
	struct record *r, *n;

	list_for_each_entry_safe(r, n, &records, node)
		kvfree(r);
	INIT_LIST_HEAD(&records);
	nrec = 0;
	kept_total = 0;
	lost = 0;
}

static int record_show(struct seq_file *sf, void *unused)
{
	unsigned long pid, following = 0;
	struct record *r;
	void *entry;
	size_t i;

	xa_for_each(&followed, pid, entry)
		following++;
	mutex_lock(&rec_lock);
	seq_printf(sf, "sqliteos-record 1\nfollowing %lu\nrecords %u\nlost %llu\n", following,
		   nrec, lost);
	list_for_each_entry(r, &records, node) {
		seq_printf(sf, "%llu %llu %d %s %lld %lld = %lld %zu ", r->seq, r->start, r->pid,
			   op_names[r->op], r->args[0], r->args[1], r->result, r->bytes);
		if (r->hashed)
			seq_printf(sf, "%016llx ", r->digest);
		else
			seq_puts(sf, "- ");
		for (i = 0; i < r->kept; i += 64)
			seq_printf(sf, "%*phN", (int)min_t(size_t, 64, r->kept - i), r->data + i);
		seq_putc(sf, '\n');
	}
	mutex_unlock(&rec_lock);
	return 0;
}

static int record_open(struct inode *inode, struct file *file)
{
	return single_open_size(file, record_show, NULL, SZ_64K);
}

static ssize_t record_write(struct file *file, const char __user *ubuf, size_t len, loff_t *pos)
{
	char cmd[32];
	pid_t pid;
	int ret;

	if (len >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, len))
		return -EFAULT;
	cmd[len] = '\0';
	if (sscanf(cmd, "follow %d", &pid) == 1 && pid > 0) {
		ret = xa_err(xa_store(&followed, pid, xa_mk_value(0), GFP_KERNEL));
		return ret ? ret : len;
	}
	if (sysfs_streq(cmd, "stop")) {
		xa_destroy(&followed);
		return len;
	}
	if (sysfs_streq(cmd, "clear")) {
		mutex_lock(&rec_lock);
		forget();
		mutex_unlock(&rec_lock);
		return len;
	}
	return -EINVAL;
}

static const struct file_operations record_fops = {
	.owner = THIS_MODULE,
	.open = record_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = record_write,
};

void sqlos_record_init(struct dentry *dir)
{
	debugfs_create_file("record", 0600, dir, NULL, &record_fops);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * The recorder (debugfs sqliteos/record, root only): what a process and every process it forks
 * do to SQL pipes and the tables, one record per call, for `sqliteos record` to turn into a
 * scenario. "follow PID" starts following a task (its children are followed from their fork on),
 * "stop" follows none, "clear" forgets the records. Reading gives a header (how many tasks are
 * followed, how many records were lost) and the records:
 *
 *	SEQ START PID OP A0 A1 = RESULT BYTES DIGEST [HEX]
 *
 * START numbers the calls in the order they began, SEQ in the order the tables saw them (a read's
 * or write's taken under the locks as it took effect, where its bytes are taken too); OP is pipe
 * (A0 the dataId), read / write (dataId, count asked for), close (dataId, 0 for the read end, 1
 * for the write end), fork (the child, 1 if it shares the fd table), exit, begin / commit (553's
 * and 554's argument), query / savepoint / release / rollback_to (the SQL or the savepoint's name
 * in HEX), and RESULT the call's return value. BYTES is how many bytes the call moved (a write:
 * those it was given), DIGEST their 64-bit FNV-1a (- if they could not all be read); HEX holds them
 * up to sqliteos.record_bytes. Records past
 * sqliteos.record_max, or past 64 MiB of bytes kept, are lost: counted, never hidden.
 */
#include <linux/debugfs.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
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

/*
 * The tasks followed: their struct pid (held), by pid number, so a number used again by another
 * task is not followed; changed under rec_lock. The records and their counts, under rec_lock.
 */
static DEFINE_XARRAY(followed);
static DEFINE_MUTEX(rec_lock);
static LIST_HEAD(records);
static unsigned int nrec;
static size_t kept_total;
static u64 lost;
static atomic64_t clock;

static bool is_followed(struct task_struct *t)
{
	return !xa_empty(&followed) && xa_load(&followed, task_pid_nr(t)) == task_pid(t);
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

/* ---- a read's or write's bytes, taken where they are ---- */

struct sqlos_rec_io *sqlos_rec_io_new(u64 start, size_t n)
{
	size_t room = min_t(size_t, n, READ_ONCE(record_bytes));
	struct sqlos_rec_io *rio;

	if (!start)
		return NULL;
	rio = kzalloc(sizeof(*rio), GFP_KERNEL_ACCOUNT);
	if (rio && room) {
		rio->buf = kvmalloc(room, GFP_KERNEL_ACCOUNT);
		rio->room = rio->buf ? room : 0;
	}
	if (rio)
		rio->digest = FNV_BASIS;
	return rio;	/* without it the record is lost, and counted so */
}

/* n more bytes the call moved (called under sqlos_db_lock: memory only, no fault) */
void sqlos_rec_io_take(struct sqlos_rec_io *rio, const void *data, size_t n)
{
	size_t keep;

	if (!rio)
		return;
	keep = min(n, rio->room - rio->kept);
	memcpy(rio->buf + rio->kept, data, keep);
	rio->kept += keep;
	rio->moved += n;
	rio->digest = fnv1a(rio->digest, data, n);
}

/* The bytes taken were given back (the operation was undone). */
void sqlos_rec_io_reset(struct sqlos_rec_io *rio)
{
	if (rio) {
		rio->kept = 0;
		rio->moved = 0;
		rio->digest = FNV_BASIS;
	}
}

/* Under sqlos_db_lock, as the operation takes effect: its place in the order the tables saw. */
void sqlos_rec_io_stamp(struct sqlos_rec_io *rio)
{
	if (rio)
		rio->seq = atomic64_inc_return(&clock);
}

/* ---- records ---- */

static struct record *record_new(pid_t pid, enum sqlos_rec op, s64 a0, s64 a1, s64 result,
				 size_t keep)
{
	struct record *r = kvmalloc(struct_size(r, data, keep), GFP_KERNEL_ACCOUNT);

	if (!r)
		return NULL;
	r->seq = 0;
	r->kept = 0;
	r->digest = FNV_BASIS;
	r->hashed = true;
	r->pid = pid;
	r->op = op;
	r->args[0] = a0;
	r->args[1] = a1;
	r->result = result;
	r->bytes = 0;
	return r;
}

/* Adds r (NULL: no memory) unless the bounds are reached: a record not kept is counted lost. */
static void add(struct record *r, u64 start)
{
	mutex_lock(&rec_lock);
	if (!r || nrec >= READ_ONCE(record_max) || kept_total + r->kept > RECORD_TOTAL) {
		lost++;
		mutex_unlock(&rec_lock);
		kvfree(r);
		return;
	}
	if (!r->seq)
		r->seq = atomic64_inc_return(&clock);
	r->start = start ? start : r->seq;
	kept_total += r->kept;
	nrec++;
	list_add_tail(&r->node, &records);
	mutex_unlock(&rec_lock);
}

void sqlos_record(u64 start, enum sqlos_rec op, s64 a0, s64 a1, s64 result, const void *buf,
		  size_t bytes)
{
	size_t keep = buf ? min_t(size_t, bytes, READ_ONCE(record_bytes)) : 0;
	struct record *r;

	if (!start)
		return;
	r = record_new(task_pid_nr(current), op, a0, a1, result, keep);
	if (r && buf) {
		memcpy(r->data, buf, keep);
		r->kept = keep;
		r->bytes = bytes;
		r->digest = fnv1a(FNV_BASIS, buf, bytes);
	}
	add(r, start);
}

/*
 * A read or write: rio holds the bytes it moved, taken under the locks where they were, and its
 * place in the tables' order; a write's bytes that did not go in are next in `rest` (its source),
 * read from the caller's buffer here.
 */
void sqlos_record_io(u64 start, enum sqlos_rec op, s64 id, struct sqlos_rec_io *rio,
		     struct iov_iter *rest, size_t asked, ssize_t ret)
{
	size_t more = 0, got = 1, done;
	struct record *r = NULL;
	u8 part[256];

	if (!start)
		return;
	if (rio && op == REC_WRITE)
		more = asked - (ret > 0 ? ret : 0);	/* given, not written (EPIPE, ...) */
	if (rio)
		r = record_new(task_pid_nr(current), op, id, asked, ret, rio->room);
	if (r) {
		memcpy(r->data, rio->buf, rio->kept);
		r->kept = rio->kept;
		r->digest = rio->digest;
		r->seq = rio->seq;
		for (done = 0; done < more && got; done += got) {
			got = copy_from_iter(part, min_t(size_t, sizeof(part), more - done), rest);
			memcpy(r->data + r->kept, part, min(got, rio->room - r->kept));
			r->kept += min(got, rio->room - r->kept);
			r->digest = fnv1a(r->digest, part, got);
			cond_resched();
		}
		r->bytes = rio->moved + done;
		r->hashed = done == more;
	}
	if (rio) {
		kvfree(rio->buf);
		kfree(rio);
	}
	add(r, start);
}

/* Follows the task with pid (rec_lock held): a reference is kept, one it replaces put. */
static int follow(struct pid *pid)
{
	void *old = xa_store(&followed, pid_nr(pid), get_pid(pid), GFP_KERNEL);

	if (xa_is_err(old)) {
		put_pid(pid);
		return xa_err(old);
	}
	put_pid(old);
	return 0;
}

/* From the fork hook, before the child can run: a child of a followed task is followed. */
void sqlos_record_fork(struct task_struct *child, bool files)
{
	int err = 0;

	if (!is_followed(current))
		return;
	mutex_lock(&rec_lock);
	if (is_followed(current))	/* not stopped meanwhile */
		err = follow(task_pid(child));
	mutex_unlock(&rec_lock);
	if (err)
		add(NULL, 0);	/* the child's records would be missing: counted lost */
	add(record_new(task_pid_nr(current), REC_FORK, task_pid_nr(child), files, 0, 0), 0);
}

void sqlos_record_exit(struct task_struct *t)
{
	struct pid *pid;

	if (!is_followed(t))
		return;
	add(record_new(task_pid_nr(t), REC_EXIT, 0, 0, 0, 0), 0);
	mutex_lock(&rec_lock);
	pid = xa_load(&followed, task_pid_nr(t));
	if (pid == task_pid(t)) {
		xa_erase(&followed, pid_nr(pid));
		put_pid(pid);
	}
	mutex_unlock(&rec_lock);
}

/* Follows none (rec_lock held). */
static void unfollow_all(void)
{
	unsigned long nr;
	struct pid *pid;

	xa_for_each(&followed, nr, pid) {
		xa_erase(&followed, nr);
		put_pid(pid);
	}
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
	struct pid *pid;
	char cmd[32];
	int nr, ret = len;
	bool alive;

	if (len >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, len))
		return -EFAULT;
	cmd[len] = '\0';
	mutex_lock(&rec_lock);
	if (sscanf(cmd, "follow %d", &nr) == 1 && nr > 0) {
		/* a task that is there: its struct pid, so a later task with the number is not */
		pid = find_get_pid(nr);
		rcu_read_lock();
		alive = pid && pid_task(pid, PIDTYPE_PID);
		rcu_read_unlock();
		ret = alive ? follow(pid) ?: len : -ESRCH;
		put_pid(pid);
	} else if (sysfs_streq(cmd, "stop")) {
		unfollow_all();
	} else if (sysfs_streq(cmd, "clear")) {
		forget();
	} else {
		ret = -EINVAL;
	}
	mutex_unlock(&rec_lock);
	return ret;
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

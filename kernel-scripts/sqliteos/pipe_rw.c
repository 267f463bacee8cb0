// SPDX-License-Identifier: GPL-2.0-only
/*
 * An SQL pipe's read and write (pipe.c makes, closes and sizes it): a write appends pipe_chunk rows
 * of at most 64 KiB (a small one joins the newest chunk), a read takes whole chunks by rowid and
 * notes how much of a chunk it takes in part (pipe_data.head_read).
 * Everything runs under the locks sqlos_lock_pipes() takes, and user memory is never waited for
 * under them: copies run with page faults disabled, and a copy that would fault drops the locks,
 * faults the pages in and tries again, so a buffer out of memory never shortens a read or splits a
 * write. Their statements run in the commit window (window.c), which commits many operations at
 * once.
 */
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include "sqlite3.h"
#include "compat.h"
#include "sqliteos.h"
#include "pipe.h"

/* A write copies the caller's bytes through a kernel buffer of at most this many bytes a time. */
#define WRITE_BUF_MAX	SZ_1M
/* A read takes at most this many chunks, as Linux reads across at most 16 pipe buffers. */
#define CHUNKS_PER_READ	16
/*
 * A chunk holds at most this many bytes (the paper's chunk): a longer write is several, so reading
 * into one never walks more than 64 KiB of overflow pages.
 */
#define CHUNK_MAX	SZ_64K
/*
 * A write that fits, with the newest unread chunk's bytes, in this many joins that chunk, as
 * fs/pipe.c merges small writes into its last page: 1-byte writes cost about what they hold, not a
 * row each.
 */
#define MERGE_MAX	PIPE_BUF

/* ---- read ---- */

/* Copies to the caller without waiting for a page fault (the locks are held): the bytes copied. */
static size_t copy_out_nofault(struct iov_iter *to, const void *from, size_t n)
{
	size_t got;

	pagefault_disable();
	got = copy_to_iter(from, n, to);
	pagefault_enable();
	return got;
}

static size_t copy_in_nofault(void *to, struct iov_iter *from, size_t n)
{
	size_t got;

	pagefault_disable();
	got = copy_from_iter(to, n, from);
	pagefault_enable();
	return got;
}

/*
 * Copies up to max bytes of chunk seq, from its byte skip on, to the caller; *len is the chunk's
 * length and *take what was copied (and taken for the recorder, rio). A chunk read from its start
 * is one SELECT; from further in, SQLite's incremental blob I/O reads only the pages from skip on,
 * so a small read of a big chunk costs what it takes, not the chunk.
 */
static int chunk_out(s64 seq, size_t skip, struct iov_iter *to, size_t max, size_t *len,
		     size_t *take, struct sqlos_rec_io *rio)
{
	size_t want, piece, got;
	sqlite3_stmt *st;
	sqlite3_blob *blob;
	u8 part[256];
	int rc;

	if (!skip) {
		st = sqlos_st(ST_CHUNK, 1, &seq);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*len = sqlite3_column_bytes(st, 0);
			*take = copy_out_nofault(to, sqlite3_column_blob(st, 0), min(*len, max));
			sqlos_rec_io_take(rio, sqlite3_column_blob(st, 0), *take);
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			rc = SQLITE_CORRUPT;	/* buffered promised this chunk */
		}
		sqlos_done(st);
		return rc;
	}
	rc = sqlite3_blob_open(sqlos_db, "main", "pipe_chunk", "data", seq, 0, &blob);
	if (rc != SQLITE_OK)
		return rc == SQLITE_ERROR ? SQLITE_CORRUPT : rc;	/* no such row: as above */
	*len = sqlite3_blob_bytes(blob);
	rc = *len > skip ? SQLITE_OK : SQLITE_CORRUPT;	/* a chunk read to its end is deleted */
	want = rc == SQLITE_OK ? min(*len - skip, max) : 0;
	/* a piece at a time through the stack: no allocation under the locks */
	for (*take = 0; rc == SQLITE_OK && *take < want; *take += got) {
		piece = min(sizeof(part), want - *take);
		rc = sqlite3_blob_read(blob, part, piece, skip + *take);
		if (rc != SQLITE_OK)
			break;
		got = copy_out_nofault(to, part, piece);
		sqlos_rec_io_take(rio, part, got);
		if (got < piece) {
			*take += got;
			break;
		}
	}
	sqlite3_blob_close(blob);
	return rc;
}

/*
 * Copies up to n bytes from the oldest chunks to the caller and deletes the chunks read to their
 * end (one rowid range); of a chunk read in part, pipe_data.head_read says how much is read, and
 * the chunk is never rewritten. If the caller's buffer cannot take a chunk now (not in memory, or
 * not there at all), nothing is consumed, *fault is the bytes the buffer must take, to be faulted
 * in without the locks before the read starts again (EFAULT if it cannot be, as read(2) does), and
 * *at the byte the copy stopped at; so a buffer out of memory never shortens a read.
 */
static ssize_t take_bytes(struct sqlos_pipe *p, struct iov_iter *to, size_t n, size_t *fault,
			  size_t *at, struct sqlos_rec_io *rio)
{
	u64 t0 = ktime_get_ns();
	s64 seq = p->head, args[2];
	size_t got = 0, take, len = 0, skip = p->head_read, want, part = 0;
	int k, rc;

	*fault = 0;
	rc = sqlos_window_begin();
	for (k = 0; rc == SQLITE_OK && got < n && k < CHUNKS_PER_READ && seq < p->tail; k++) {
		take = 0;
		rc = chunk_out(seq, skip, to, n - got, &len, &take, rio);
		if (rc == SQLITE_OK) {
			want = min(len - skip, n - got);
			if (take < want) {
				iov_iter_revert(to, got + take);
				*fault = got + want;
				*at = got + take;
				got = 0;
				rc = SQLITE_ABORT;
			}
		}
		if (rc != SQLITE_OK)
			break;	/* this chunk stays as it was */
		got += take;
		if (skip + take < len) {
			part = skip + take;	/* the chunk at seq, read in part */
			break;
		}
		seq++;
		skip = 0;
	}
	if (rc != SQLITE_OK && got) {
		/* a later chunk's read failed and SQLite may have undone the window: take none */
		iov_iter_revert(to, got);
		got = 0;
	}
	if (!got) {
		sqlos_rec_io_reset(rio);
		sqlos_window_end(rc == SQLITE_OK ? SQLITE_ABORT : rc);
		if (*fault)
			return 0;
		return rc == SQLITE_CORRUPT ? -EIO : sqlos_errno(rc, true);
	}
	*fault = 0;
	rc = SQLITE_OK;
	args[0] = p->head;
	args[1] = seq - 1;
	if (seq > p->head)
		rc = sqlos_window_run(ST_DEL_CHUNKS, args, NULL, NULL, 0);
	args[0] = part;
	args[1] = p->id;
	if (rc == SQLITE_OK && args[0] != p->head_read)
		rc = sqlos_window_run(ST_HEAD_READ, args, NULL, NULL, 0);
	rc = sqlos_window_end(rc);
	sqlos_counters[C_NS_READ_SQL] += ktime_get_ns() - t0;
	if (rc != SQLITE_OK) {
		iov_iter_revert(to, got);
		sqlos_rec_io_reset(rio);
		return sqlos_errno(rc, true);
	}
	sqlos_rec_io_stamp(rio);
	p->head = seq;
	p->head_read = part;
	p->buffered -= got;
	sqlos_counters[C_BYTES_READ] += got;
	sqlos_counters[C_READS]++;
	return got;
}

ssize_t sqlos_pipe_read(struct sqlos_pipe *p, struct iov_iter *to, bool nonblock,
			struct sqlos_rec_io *rio)
{
	size_t n = min_t(size_t, iov_iter_count(to), MAX_RW_COUNT), fault, at, stuck = SIZE_MAX;
	ssize_t ret;

	if (!n)
		return 0;
	ret = sqlos_lock_pipes();
	if (ret)
		return ret;
	for (;;) {
		while (!p->buffered) {
			if (!p->writer) {
				sqlos_unlock_pipes();
				return 0;	/* EOF */
			}
			if (nonblock) {
				sqlos_unlock_pipes();
				return -EAGAIN;
			}
			ret = sqlos_pipe_sleep(&p->read_wq);
			if (ret)
				return ret;
		}
		ret = take_bytes(p, to, n, &fault, &at, rio);
		if (!fault)
			break;
		/*
		 * The buffer is not in memory: fault it in with no lock held, then try again. A
		 * copy that stops at the same byte after a fault-in that said it succeeded is
		 * EFAULT: WSL2's 5.15.146.1 has a fault_in_safe_writeable() that reports success
		 * for a page it could not fault in, which would retry forever.
		 */
		sqlos_unlock_pipes();
		if (at == stuck || fault_in_iov_iter_writeable(to, fault))
			ret = -EFAULT;
		else
			ret = sqlos_lock_pipes();
		stuck = at;
		if (ret) {
			wake_up(&p->read_wq);	/* whatever woke this reader goes to the next */
			return ret;
		}
	}
	if (p->buffered)
		wake_up(&p->read_wq);	/* bytes left, or this read failed: the next reader */
	if (ret > 0)
		wake_up(&p->write_wq);
	sqlos_unlock_pipes();
	return ret;
}

/* ---- write ---- */

/*
 * k bytes from data, in b, as one operation; the locks are held. They join the newest chunk if it
 * is unread and they fit in MERGE_MAX with it, else go in new chunks of at most CHUNK_MAX. A pipe
 * takes 2^40 - 1 chunks (-EFBIG after).
 */
static int append(struct sqlos_pipe *p, struct sqlos_wbuf *b, const char *data, size_t k,
		  struct sqlos_rec_io *rio)
{
	u64 t0 = ktime_get_ns();
	s64 args[2], tail = p->tail;
	size_t off = 0, piece, tail_len = p->tail_len;
	int rc;

	rc = sqlos_window_begin();
	if (rc == SQLITE_OK && p->buffered && tail_len + k <= MERGE_MAX) {
		args[0] = tail - 1;
		args[1] = p->id;
		rc = sqlos_window_run(ST_MERGE_CHUNK, args, b, data, k);
		if (rc == SQLITE_OK && sqlite3_changes(sqlos_db) != 1)
			rc = SQLITE_CORRUPT;	/* no newest chunk where buffered said */
		tail_len += k;
		off = k;
	}
	for (; rc == SQLITE_OK && off < k; off += piece) {
		if ((tail + 1) >> SEQ_SHIFT != p->id) {
			/* the next seq would be the next dataId's: none of it goes in */
			sqlos_window_end(SQLITE_ABORT);
			return -EFBIG;
		}
		piece = min_t(size_t, k - off, CHUNK_MAX);
		args[0] = tail++;
		args[1] = p->id;
		rc = sqlos_window_run(ST_APPEND, args, b, data + off, piece);
		tail_len = piece;
	}
	rc = sqlos_window_end(rc);
	sqlos_counters[C_NS_WRITE_SQL] += ktime_get_ns() - t0;
	if (rc != SQLITE_OK)
		return sqlos_errno(rc, true);
	sqlos_rec_io_take(rio, data, k);
	sqlos_rec_io_stamp(rio);
	p->tail = tail;
	p->tail_len = tail_len;
	p->buffered += k;
	sqlos_counters[C_BYTES_WRITTEN] += k;
	sqlos_counters[C_WRITES]++;
	wake_up(&p->read_wq);
	return 0;
}

/*
 * Writes as much as fits, sleeping on write_wq while the pipe is full; a write of at most PIPE_BUF
 * bytes waits until all of it fits (or the pipe's whole capacity, if that is less). The caller's
 * bytes go through a kernel buffer: copied with page faults off while the locks are held, and when
 * that copies nothing, faulted in with the locks dropped. A buffer is sized for what fits once
 * there is room (a writer asleep on a full pipe holds none, but a small write's, taken before the
 * locks), allocated with the locks dropped, and never filled again while the commit window's log
 * holds it.
 */
ssize_t sqlos_pipe_write(struct sqlos_pipe *p, struct iov_iter *from, bool nonblock,
			 struct sqlos_rec_io *rio)
{
	size_t n = min_t(size_t, iov_iter_count(from), MAX_RW_COUNT);
	size_t done = 0, have = 0, off = 0, room, k = 0, stuck = SIZE_MAX;
	bool atomic = n <= PIPE_BUF;
	struct sqlos_wbuf *wbuf = NULL;
	ssize_t ret = 0;

	if (!n)
		return 0;
	if (atomic) {
		wbuf = sqlos_wbuf_alloc(n);
		if (!wbuf)
			return -ENOMEM;
	}
	ret = sqlos_lock_pipes();
	if (ret)
		goto out;
	while (done < n) {
		if (!p->reader) {
			/* as fs/pipe.c, after a partial write too */
			send_sig(SIGPIPE, current, 0);
			ret = -EPIPE;
			break;
		}
		room = p->buffered < p->capacity ? p->capacity - p->buffered : 0;
		if (!room || (atomic && room < min_t(size_t, n - done, p->capacity))) {
			ret = -EAGAIN;
			if (nonblock)
				break;
			if (!atomic && !have) {
				/* asleep, a writer holds no buffer: the next fits the room */
				sqlos_wbuf_put(wbuf);
				wbuf = NULL;
			}
			ret = sqlos_pipe_sleep(&p->write_wq);
			if (ret)
				goto out;
			continue;
		}
		if (!have) {
			k = min3(n - done, room, (size_t)WRITE_BUF_MAX);
			wbuf = sqlos_wbuf_reuse(wbuf, k);
			if (!wbuf) {
				sqlos_unlock_pipes();
				wbuf = sqlos_wbuf_alloc(k);
				ret = wbuf ? sqlos_lock_pipes() : -ENOMEM;
				if (ret) {
					wake_up(&p->write_wq);	/* as below */
					goto out;
				}
				continue;	/* the room may have changed meanwhile */
			}
			have = copy_in_nofault(sqlos_wbuf_data(wbuf), from, k);
			off = 0;
		}
		if (have < k && !off) {
			/*
			 * Not all in memory: none of it goes in; fault it in with no lock held.
			 * Stopping at the same byte twice (done + have) is EFAULT, as for a read.
			 */
			iov_iter_revert(from, have);
			sqlos_unlock_pipes();
			if (done + have == stuck || fault_in_iov_iter_readable(from, k))
				ret = -EFAULT;
			else
				ret = sqlos_lock_pipes();
			stuck = done + have;
			have = 0;
			if (ret) {
				/* whatever woke this writer goes to the next */
				wake_up(&p->write_wq);
				goto out;
			}
			continue;
		}
		k = min(have, room);
		ret = append(p, wbuf, sqlos_wbuf_data(wbuf) + off, k, rio);
		if (ret)
			break;
		off += k;
		have -= k;
		done += k;
	}
	if (p->reader && p->buffered < p->capacity)
		wake_up(&p->write_wq);	/* room left, or this write failed: the next writer */
	sqlos_unlock_pipes();
out:
	if (have)
		iov_iter_revert(from, have);	/* copied, not written: `from` is next */
	sqlos_wbuf_put(wbuf);	/* the commit window's log may keep it a while */
	return done ? done : ret;
}

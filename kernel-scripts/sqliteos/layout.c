// SPDX-License-Identifier: GPL-2.0-only
/*
 * The layout record: what a reader of this kernel's memory (`sqliteos inspect --gdb` on QEMU's
 * gdbstub, `sqliteos inspect --core` on a saved core) needs to find and read SQLiteOS's state
 * with no DWARF and no knowledge of this build: the addresses of its file-static objects, the
 * offsets and sizes of the fields it reads, and the values of the macros it compares with. Text
 * lines in VMCOREINFO's shape after a first line "SQLITEOS_LAYOUT <version>", ending with "END":
 *
 *	SYMBOL(name)=hex	an address
 *	OFFSET(struct.field)=dec and SIZE(struct.field)=dec
 *	SIZE(struct)=dec
 *	NUMBER(name)=dec
 *
 * Filled once at boot, read-only after (a reader may halt the kernel at any point after that). A
 * core is searched for the first line; over gdb the record is found by its symbol, sqlos_layout.
 * Each glue file adds the lines for its own objects (sqlos_*_layout()), so no static leaves its
 * file.
 */
#include <linux/cache.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/utsname.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include "sqliteos.h"

#define LAYOUT_VERSION	1

char sqlos_layout[8192] __ro_after_init;
static size_t layout_len __initdata;

void __init sqlos_layout_add(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	layout_len += vscnprintf(sqlos_layout + layout_len, sizeof(sqlos_layout) - layout_len, fmt,
				 ap);
	va_end(ap);
}

/* The kernel's own structures a reader walks: wait queues, tasks, the xarray, the mutex. */
static void __init kernel_layout(void)
{
	LAYOUT_SYMBOL("sqlos_layout", sqlos_layout);
	LAYOUT_SYMBOL("init_task", &init_task);
	LAYOUT_SYMBOL("autoremove_wake_function", autoremove_wake_function);
	LAYOUT_SYMBOL("sqlos_db_lock", &sqlos_db_lock);
	LAYOUT_SYMBOL("uts_release", init_uts_ns.name.release);
	LAYOUT_NUMBER("uts_release.size", sizeof(init_uts_ns.name.release));
	/* translating a virtual address: the direct map, the kernel image, else init_mm's tables */
	LAYOUT_NUMBER("page_offset", PAGE_OFFSET);
	LAYOUT_NUMBER("start_kernel_map", __START_KERNEL_map);
	LAYOUT_NUMBER("phys_base", phys_base);
	LAYOUT_SYMBOL("pgd", init_mm.pgd);
	LAYOUT_NUMBER("pgtable_levels", pgtable_l5_enabled() ? 5 : 4);
	LAYOUT_NUMBER("page_size", PAGE_SIZE);
	LAYOUT_FIELD(list_head, next);
	LAYOUT_FIELD(wait_queue_head, head);
	LAYOUT_FIELD(wait_queue_entry, private);
	LAYOUT_FIELD(wait_queue_entry, func);
	LAYOUT_FIELD(wait_queue_entry, entry);
	LAYOUT_FIELD(task_struct, pid);
	LAYOUT_FIELD(task_struct, tgid);
	LAYOUT_FIELD(task_struct, comm);
	LAYOUT_FIELD(task_struct, tasks);
	LAYOUT_FIELD(task_struct, thread_node);
	LAYOUT_FIELD(signal_struct, thread_head);
	LAYOUT_FIELD(task_struct, signal);
	LAYOUT_FIELD(mutex, owner);
	LAYOUT_NUMBER("mutex_flags", 0x07);	/* MUTEX_FLAGS, the owner word's low bits */
	LAYOUT_FIELD(xarray, xa_head);
	LAYOUT_FIELD(xa_node, shift);
	LAYOUT_FIELD(xa_node, slots);
	LAYOUT_NUMBER("XA_CHUNK_SHIFT", XA_CHUNK_SHIFT);
}

void __init sqlos_layout_init(void)
{
	sqlos_layout_add("SQLITEOS_LAYOUT %d\n", LAYOUT_VERSION);
	kernel_layout();
	sqlos_vfs_layout();
	sqlos_sql_layout();
	sqlos_txn_layout();
	sqlos_pipes_layout();
	sqlos_window_layout();
	sqlos_inspect_layout();
	sqlos_layout_add("END\n");
	/* a reader refuses a record without its END: make the buffer bigger, never cut it short */
	WARN_ON(layout_len >= sizeof(sqlos_layout) - 1);
}

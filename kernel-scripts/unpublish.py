#!/usr/bin/env python3
"""Takes the published SQLiteOS (realVinayak/SQLiteOS, the paper's patch) out of its WSL2 5.15.146.1 tree,
leaving Microsoft's tree as it was, so the companion patch can go in (`kernel.sh unpublish TREE`).

    unpublish.py TREE          removes it; prints one "removed: ..." line per change
    unpublish.py --list TREE   prints what it would remove and changes nothing

Every edit names its exact text: a tree that differs from the published one is refused with the file and
the text not found, and nothing is changed. A second run finds nothing left and changes nothing.
"""
import os
import shutil
import sys

# The upstream 5.15 do_sys_openat2(): the published tree wraps it in commented-out SQL (and leaves `rc`
# unset when the open fails, leaking the name and returning garbage).
OPENAT2_UPSTREAM = """static long do_sys_openat2(int dfd, const char __user *filename,
			   struct open_how *how)
{
	struct open_flags op;
	int fd = build_open_flags(how, &op);
	struct filename *tmp;

	if (fd)
		return fd;

	tmp = getname(filename);
	if (IS_ERR(tmp))
		return PTR_ERR(tmp);

	fd = get_unused_fd_flags(how->flags);
	if (fd >= 0) {
		struct file *f = do_filp_open(dfd, tmp, &op);
		if (IS_ERR(f)) {
			put_unused_fd(fd);
			fd = PTR_ERR(f);
		} else {
			fsnotify_open(f);
			fd_install(fd, f);
		}
	}
	putname(tmp);
	return fd;
}
"""

# Exactly as the published table has them (spaces, not the table's tabs): the companion patch's own lines
# for the same numbers must never match.
TABLE = """548 common  hello_world     sys_hello_world
549 common  ksqlite_query   sys_ksqlite_query
550 common  sql_pipe_read   sys_sql_pipe_read
551 common  sql_pipe_write   sys_sql_pipe_write
552 common  sql_pipe    sys_sql_pipe
553 common  sql_start_transaction   sys_sql_start_transaction
554 common  sql_rollback_transaction    sys_sql_rollback_transaction
555 common  sql_start_savepoint sys_sql_start_savepoint
556 common  sql_release_savepoint   sys_sql_release_savepoint
557 common  sql_rollback_savepoint  sys_sql_rollback_savepoint
"""

PROTOTYPES = """asmlinkage long sys_hello_world(char __user *buf, unsigned long size);
asmlinkage long sys_ksqlite_query(char __user *buf, unsigned long size);
asmlinkage long sys_sql_pipe(char __user *fildes);
asmlinkage long sys_sql_pipe_read(int fd, char __user *out_buff, size_t size_to_read);
asmlinkage long sys_sql_pipe_write(int fd, char __user *in_buff, size_t size_to_write);
asmlinkage long sys_sql_start_transaction(int lock_flag);
asmlinkage long sys_sql_rollback_transaction(int should_commit_int);
asmlinkage long sys_sql_start_savepoint(const char __user *name, size_t size_name);
asmlinkage long sys_sql_release_savepoint(const char __user *name, size_t size_name);
asmlinkage long sys_sql_rollback_savepoint(const char __user *name, size_t size_name);
"""

# (file, what it is, published text, upstream text)
EDITS = [
    ("Makefile", "hello/ and ksqlite/ in core-y",
     "crypto/ hello/ ksqlite/\n", "crypto/\n"),
    ("init/main.c", "the includes of helloworld.h and ksqlite.h",
     "#include <linux/helloworld.h>\n#include <linux/ksqlite.h>\n", ""),
    ("init/main.c", "hello_world_init() and ksqlite_init()",
     "\thello_world_init();\n\tksqlite_init();\n", ""),
    ("init/init_task.c", "init_task's sql_ref", "\t.sql_ref = NULL,\n", ""),
    ("kernel/fork.c", "the include of ksqlite.h", "\n\n#include <linux/ksqlite.h>\n", "\n"),
    ("kernel/fork.c", "sql_ref cleared in dup_task_struct()", "\ttsk->sql_ref = NULL;\n", ""),
    ("kernel/fork.c", "ksqlite_insert_into_pid() and ksqlite_dup_fd() in kernel_clone()",
     "\t}\n\n\n\tif (clone_flags & CLONE_FILES){\n"
     "\t\tksqlite_insert_into_pid(task_pid_nr(p), task_pid_nr(current));\n"
     "\t}else{\n"
     "\t\tksqlite_insert_into_pid(task_pid_nr(p), task_pid_nr(p));\n"
     "\t\tksqlite_dup_fd(task_pid_nr(p),task_pid_nr(current));\n"
     "\t}\n\twake_up_new_task(p);\n",
     "\t}\n\n\twake_up_new_task(p);\n"),
    ("kernel/exit.c", "the include of ksqlite.h", "#include <linux/ksqlite.h>\n", ""),
    ("kernel/exit.c", "ksqlite_delete_pid() in do_exit()", "\tksqlite_delete_pid(task_pid_nr(tsk));\n", ""),
    ("fs/file.c", "the include of ksqlite.h", "#include <linux/ksqlite.h>\n", ""),
    ("fs/file.c", "ksqlite_delete_file() in close_fd()", "\tksqlite_delete_file(fd);\n", ""),
    ("fs/pipe.c", "the include of ksqlite.h", "#include <linux/ksqlite.h>\n", ""),
    ("fs/pipe.c", "the commented-out ksqlite_set_up_pipes()",
     "\t// TODO: Re-enable this once we get more smarter\n\t//ksqlite_set_up_pipes(fdr, fdw);\n", ""),
    ("fs/open.c", "the include of ksqlite.h", "\n#include <linux/ksqlite.h>\n", ""),
    ("include/linux/sched.h", "struct sql_compact",
     "struct sql_compact;\n", ""),
    ("include/linux/sched.h", "struct sql_compact's definition",
     "struct sql_compact {\n\tu64 db;\n    u64 mode;\n};\n\n", ""),
    ("include/linux/sched.h", "task_struct's sql_ref", "\n\tstruct sql_compact\t\t\t*sql_ref;\n", ""),
    ("include/linux/syscalls.h", "the sys_* prototypes of 548-557", PROTOTYPES, ""),
    ("arch/x86/entry/syscalls/syscall_64.tbl", "syscalls 548-557", TABLE, ""),
]

# Files and folders the authors added, their build outputs included (include/config, include/generated and
# arch/x86/include/generated: `make mrproper` would remove those too, and an out-of-tree build refuses to
# start while they are there).
ADDED = ["ksqlite", "hello", "include/linux/ksqlite.h", "include/linux/sqlite3.h", "include/linux/helloworld.h",
         "test_fork.c", "test_fork_mult_read.c", "test_pipe.c", "test_sys", "test_sys.c", "test_thread.c",
         "test_thread_mult_read.c", "compile_output.txt", "SQLiteOS.pdf", "README.md",
         "arch/x86/include/generated", "include/config", "include/generated"]


def openat2_published(text):
    """do_sys_openat2() as the published tree has it (from its header to the closing brace)."""
    start = text.find("static long do_sys_openat2(")
    if start < 0 or "sqlite3_stmt *stmt = NULL;" not in text[start:start + 600]:
        return None
    end = text.find("\n}\n", start)
    return text[start:end + 3] if end > 0 else None


def plan(tree):
    """[(file, what, old, new)] still to do, or exits naming what does not match."""
    todo, missing = [], []
    for path, what, old, new in EDITS:
        full = os.path.join(tree, path)
        if not os.path.isfile(full):
            missing.append(f"{path}: no such file")
            continue
        text = open(full, encoding="utf-8", errors="surrogateescape").read()
        if old in text:
            todo.append((path, what, old, new))
        elif any(l.strip() and l.strip() in text for l in old.split("\n") if "sql" in l.lower() or "hello" in l):
            missing.append(f"{path}: {what}: not as the published tree has it")
    full = os.path.join(tree, "fs/open.c")
    if os.path.isfile(full):
        text = open(full, encoding="utf-8").read()
        old = openat2_published(text)
        if old:
            todo.append(("fs/open.c", "the commented-out SQL in do_sys_openat2()", old, OPENAT2_UPSTREAM))
        elif "sqlite3_stmt" in text:
            missing.append("fs/open.c: do_sys_openat2() is not as the published tree has it")
    if missing:
        sys.exit("unpublish.py: " + tree + " does not carry the published SQLiteOS as published:\n  " + "\n  ".join(missing))
    return todo


def main(argv):
    dry = "--list" in argv
    args = [a for a in argv if a != "--list"]
    if len(args) != 1:
        sys.exit("usage: unpublish.py [--list] TREE")
    tree = args[0]
    if not (os.path.isfile(os.path.join(tree, "Makefile")) and os.path.isfile(os.path.join(tree, "Kconfig"))):
        sys.exit(f"unpublish.py: {tree} is not a kernel tree (no Makefile and Kconfig)")
    todo = plan(tree)
    added = [p for p in ADDED if os.path.lexists(os.path.join(tree, p))]
    # README.md is the authors' only where they put it (Microsoft's tree has README and README-Microsoft.WSL2).
    if "README.md" in added and "SQLiteOS" not in open(os.path.join(tree, "README.md"), errors="replace").read():
        added.remove("README.md")
    verb = "would remove" if dry else "removed"
    for path, what, old, new in todo:
        if not dry:
            full = os.path.join(tree, path)
            text = open(full, encoding="utf-8", errors="surrogateescape").read()
            open(full, "w", encoding="utf-8", errors="surrogateescape").write(text.replace(old, new, 1))
        print(f"{verb}: {path}: {what}")
    for p in added:
        if not dry:
            full = os.path.join(tree, p)
            shutil.rmtree(full) if os.path.isdir(full) and not os.path.islink(full) else os.remove(full)
        print(f"{verb}: {p}{'/' if os.path.isdir(os.path.join(tree, p)) else ''} (added by the authors)")
    if not todo and not added:
        print("nothing to remove: no published SQLiteOS in " + tree)


if __name__ == "__main__":
    main(sys.argv[1:])

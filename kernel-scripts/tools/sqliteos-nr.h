/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The SQLiteOS system call numbers (x86_64, the published kernel's ABI; the patch adds them to
 * arch/x86/entry/syscalls/syscall_64.tbl), for the user-space programs here: the tools, the guest
 * tests and the benchmark programs, which build against the host's headers, where they are not.
 */
#ifndef SQLITEOS_NR_H
#define SQLITEOS_NR_H

#define NR_HELLO_WORLD		548
#define NR_KSQLITE_QUERY	549
#define NR_SQL_PIPE_READ	550
#define NR_SQL_PIPE_WRITE	551
#define NR_SQL_PIPE		552
#define NR_SQL_BEGIN		553
#define NR_SQL_END		554
#define NR_SQL_SAVEPOINT	555
#define NR_SQL_RELEASE		556
#define NR_SQL_ROLLBACK_TO	557
#define NR_SQL_PIPE2		558

#endif /* SQLITEOS_NR_H */

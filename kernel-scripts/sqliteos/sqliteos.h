/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared between the SQLiteOS glue files.
 */
#ifndef _SQLITEOS_H
#define _SQLITEOS_H

#include <linux/mutex.h>

struct sqlite3;
struct sqlite3_vfs;

/* The database every syscall uses; sqliteos_db_lock protects it (SQLite is built THREADSAFE=0). */
extern struct sqlite3 *sqliteos_db;
extern struct mutex sqliteos_db_lock;

struct sqlite3_vfs *sqliteos_memvfs(void);

#endif /* _SQLITEOS_H */

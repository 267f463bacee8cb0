/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _SQLITEOS_SHIM_STDINT_H
#define _SQLITEOS_SHIM_STDINT_H
#include <linux/types.h>
#include <linux/limits.h>
typedef long intptr_t;
#define INT64_C(c)	c ## LL
#define UINT64_C(c)	c ## ULL
#define UINT32_C(c)	c ## U
#define INT32_C(c)	c
#ifndef UINT64_MAX
#define UINT64_MAX	U64_MAX
#endif
#ifndef INT64_MAX
#define INT64_MAX	S64_MAX
#endif
#ifndef UINT32_MAX
#define UINT32_MAX	U32_MAX
#endif
#endif

/* SPDX-License-Identifier: GPL-2.0-only */
#define assert(x) ((void)0)

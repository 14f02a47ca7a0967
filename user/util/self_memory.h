/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * This process's resident memory, as the kernel counts it in
 * /proc/self/status: what --verbose prints at start-up and the daemon's
 * metrics report, so a fleet sees ownertrace's own footprint beside what
 * it traces.
 */
#ifndef OT_SELF_MEMORY_H
#define OT_SELF_MEMORY_H

#include <stdbool.h>

struct ot_self_memory {
	long rss_kib;		/* VmRSS: resident now */
	long peak_kib;		/* VmHWM: the most resident since exec */
};

/* Fill m; false (m zeroed) when /proc/self/status cannot be read or lacks them. */
bool ot_self_memory(struct ot_self_memory *m);

#endif

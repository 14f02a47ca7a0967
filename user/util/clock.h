/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* CLOCK_MONOTONIC in ns: the clock bpf_ktime_get_ns() reads, so event
 * timestamps and userspace times compare directly. */
#ifndef OT_CLOCK_H
#define OT_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t ot_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

#endif

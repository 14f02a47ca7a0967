/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * An ownership census: every IOMMU group of the host as one snapshot each
 * (bpf/ownertrace_census.h), taken by kernel/census.c, judged by analysis/census.c,
 * rendered by output/census.c, kept in recordings (core/recording.c) so a
 * replay judges the same groups. Plain data, no kernel, no libbpf.
 */
#ifndef OT_CORE_CENSUS_H
#define OT_CORE_CENSUS_H

#include <stdint.h>
#include "ownertrace_census.h"

/* Why the census was taken; part of the recording format: append only. */
enum ot_census_reason {
	OT_CENSUS_GROUPS = 0,	/* `ownertrace groups` */
	OT_CENSUS_START = 1,	/* a live run's start: the shadow begins from it */
	OT_CENSUS_AUDIT = 2,	/* a periodic audit (--audit-interval) */
	OT_CENSUS_END = 3,	/* the audit at the end of a run */
	OT_CENSUS_REASON_COUNT,
};

#define OT_CENSUS_HOLDER_LEN 96

struct ot_census_group {
	struct ot_census_snap snap;	/* the snapshot judged: the last one taken */
	uint32_t snapshots;		/* how many were taken of this group (retakes included) */
	char holder[OT_CENSUS_HOLDER_LEN];	/* who holds the claim, if ownertrace can tell; else "" */
};

struct ot_census {
	uint64_t ts_ns;			/* CLOCK_MONOTONIC when the census began */
	uint32_t reason;		/* enum ot_census_reason */
	int ngroups;
	size_t capgroups;
	struct ot_census_group *groups;	/* by group id */
};

const char *ot_census_reason_name(uint32_t reason);

/* A new group at the end, zeroed; NULL when out of memory. */
struct ot_census_group *ot_census_add(struct ot_census *c);
void ot_census_sort(struct ot_census *c);
/* Empty it, keeping the memory (for the next audit). */
void ot_census_clear(struct ot_census *c);
void ot_census_free(struct ot_census *c);

#endif

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The census verdicts: owner_cnt as the kernel caches it, held against the
 * count recalculated from the group's devices.
 *
 * With no claim held, owner_cnt must equal the number of devices of the
 * group bound to a kernel DMA-API driver (a driver that does not set
 * driver_managed_dma, on a bus whose dma_configure takes ownership):
 * research/kernel-ownership.md section 2.2, "key semantics". With a claim
 * (owner set), owner_cnt counts the claims: at least one, at most one per
 * device, and no device may be bound to a kernel DMA-API driver.
 *
 * Pure functions of snapshots: unit-tested on synthetic ones, and the same
 * code judges a census live and in a replay.
 */
#ifndef OT_ANALYSIS_CENSUS_H
#define OT_ANALYSIS_CENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/census.h"
#include "analysis/shadow.h"

enum ot_census_verdict {
	OT_CV_CONSISTENT = 0,	/* owner_cnt equals the recalculated count, no owner */
	OT_CV_LEAKED,		/* more counted than accounted for: a use (or claim) nobody gave back */
	OT_CV_MISSING,		/* less counted than the devices hold: a count given back twice, or never taken */
	OT_CV_CLAIMED,		/* held by an owner (VFIO, iommufd, a driver), consistently */
	OT_CV_UNSETTLED,	/* a probe, remove or claim stayed in flight across every retake */
	OT_CV_TRUNCATED,	/* more devices than the walk reads: not judged */
	OT_CV_COUNT,
};

const char *ot_census_verdict_name(enum ot_census_verdict v);
/* leaked or missing: what makes `groups` exit 3 */
bool ot_census_is_violation(enum ot_census_verdict v);
const char *ot_census_dev_state_name(unsigned int state);
/* "DMA", "DMA-FQ", "identity", "blocked", "unmanaged", ... or "0x%x" into buf. */
const char *ot_census_domain_name(uint32_t type, char *buf, size_t len);

struct ot_census_judgement {
	enum ot_census_verdict verdict;
	uint32_t cached;		/* owner_cnt */
	uint32_t recalculated;		/* devices bound to kernel DMA-API drivers */
	uint32_t claims;		/* owner set: owner_cnt (the claims); else 0 */
	int64_t excess;			/* owner_cnt minus what the devices (and claims) account for */
	/* the devices that can explain a leaked or missing count (indices into snap.dev) */
	int nsuspects;
	int suspects[OT_CENSUS_MAX_DEVICES];
};

void ot_census_judge(const struct ot_census_group *g, struct ot_census_judgement *j);

/* One sentence: what the verdict means for this group. */
void ot_census_explain(const struct ot_census_group *g, const struct ot_census_judgement *j, char *buf,
		       size_t len);

/* Two snapshots of a group say the same (counts, owner, every device's driver and state). */
bool ot_census_same(const struct ot_census_snap *a, const struct ot_census_snap *b);

/* Seed the shadow with every settled, complete group of the census. */
void ot_census_seed(struct ot_analysis *a, const struct ot_census *c);

/*
 * What the censuses of one run found, for drift: the last verdict of every
 * group. ot_census_track() judges a census against it and reports:
 *   start:       every violation, as preexisting_leak / preexisting_missing;
 *   audit, end:  every violation that is new since the last census that
 *                judged the group (or whose excess changed), as audit_drift;
 *   groups:      nothing (the command reports verdicts, not anomalies).
 * Unsettled and truncated groups keep their last verdict.
 */
struct ot_census_track;

struct ot_census_track *ot_census_track_new(void);
void ot_census_track_free(struct ot_census_track *t);
void ot_census_track(struct ot_census_track *t, const struct ot_census *c,
		     void (*report)(void *ctx, struct ot_anomaly *an), void *ctx);

/* For the metrics: every group the last census judged (not unsettled or
 * truncated), by group id, and totals over the run. */
struct ot_census_gauge {
	int group;
	uint32_t cached, recalculated;
	bool violation;
};

const struct ot_census_gauge *ot_census_track_gauges(const struct ot_census_track *t, int *n);
uint64_t ot_census_track_censuses(const struct ot_census_track *t);
uint64_t ot_census_track_violations(const struct ot_census_track *t);	/* violating groups, summed over censuses */

#endif

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * An anomaly: what the ownership shadow (analysis/shadow.c) reports when
 * the kernel's ownership calls do not pair up. A record of the run like an
 * event: outputs, the profile and the timeline all take it as it is.
 */
#ifndef OT_ANOMALY_H
#define OT_ANOMALY_H

#include <stdint.h>
#include "ownertrace.h"

enum ot_anomaly_kind {
	OT_AN_PROBE_FAILED_NO_CLEANUP = 0,	/* failed probe skipped dma_cleanup */
	OT_AN_REMOVE_KEPT_USE,			/* remove done, default-domain use still held */
	OT_AN_UNDERFLOW,			/* unuse/release with nothing held (kernel WARNs) */
	OT_AN_LEAKED_CLAIM,			/* claimed in probe, held after that driver's remove */
	OT_AN_NESTED_CLAIM,			/* claim depth > 1 */
	OT_AN_LATE_RELEASE,			/* release after the remove that should have done it */
	OT_AN_SIBLING_RACE,			/* ownership change while a sibling is mid-probe/remove */
	OT_AN_PROBE_BLOCKED,			/* probe failed EBUSY/EPERM on a claim that should be gone */
	OT_AN_DIVERGENCE,			/* kernel's before-value differs from the shadow */
	/* found by the census (analysis/census.c), not by a traced call */
	OT_AN_PREEXISTING_LEAK,			/* at start: owner_cnt above the recalculated count */
	OT_AN_PREEXISTING_MISSING,		/* at start: owner_cnt below the recalculated count */
	OT_AN_AUDIT_DRIFT,			/* an audit: a group drifted from its recalculated count */
	OT_AN_KIND_COUNT,
};

const char *ot_anomaly_kind_name(enum ot_anomaly_kind kind);

#define OT_TIMELINE_MAX 6

struct ot_timeline_entry {
	uint64_t ts_ns;
	uint32_t tid;
	char text[112];
};

struct ot_anomaly {
	enum ot_anomaly_kind kind;
	int group;
	/* the culprit call */
	char device[OT_DEV_NAME_LEN];
	char driver[OT_DRV_NAME_LEN];
	char comm[OT_COMM_LEN];
	uint32_t pid, tid, cpu;
	uint64_t ts_ns;
	uint64_t owner;				/* raw; rendered as a token */
	int32_t stack_id;			/* offending call, <0 none */
	/* the earlier call it pairs with (the claim, the configure, the use...) */
	char other_device[OT_DEV_NAME_LEN];
	char other_driver[OT_DRV_NAME_LEN];
	int32_t pair_stack_id;
	char message[320];			/* one plain-English sentence */
	int ntimeline;
	struct ot_timeline_entry timeline[OT_TIMELINE_MAX];
};

#endif

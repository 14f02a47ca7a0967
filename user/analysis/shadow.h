/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The ownership shadow: a model of every IOMMU group's owner_cnt/owner,
 * which devices hold a default-domain use, and who holds claims, driven
 * only by events. Live tracing and replay feed it the same records, so they
 * find the same anomalies. No kernel, no libbpf: unit-tested on synthetic
 * event sequences.
 */
#ifndef OT_ANALYSIS_H
#define OT_ANALYSIS_H

#include <stdbool.h>
#include <stdint.h>
#include "ownertrace.h"
#include "core/anomaly.h"

/* A claim still held when the trace ended. */
struct ot_outstanding_claim {
	int group;
	uint64_t owner;
	unsigned int depth;
	uint64_t since_ns;
	int32_t stack_id;
	char comm[OT_COMM_LEN];
	char device[OT_DEV_NAME_LEN];		/* device whose probe claimed it, "" if none */
	char driver[OT_DRV_NAME_LEN];
	bool baseline;				/* held before tracing started */
};

/* A default-domain use still held when the trace ended. */
struct ot_outstanding_use {
	int group;
	char device[OT_DEV_NAME_LEN];
	char driver[OT_DRV_NAME_LEN];
	uint64_t since_ns;
};

struct ot_analysis_cb {
	void *ctx;
	void (*anomaly)(void *ctx, const struct ot_anomaly *an);
};

struct ot_analysis;

struct ot_analysis *ot_analysis_new(const struct ot_analysis_cb *cb);
void ot_analysis_free(struct ot_analysis *a);

/* Feed one event (in ring-buffer order). */
void ot_analysis_event(struct ot_analysis *a, const struct ot_event *ev);

/* Iterate outstanding state at the end; return the number written (<= max). */
int ot_analysis_outstanding_claims(const struct ot_analysis *a, struct ot_outstanding_claim *out, int max);
int ot_analysis_outstanding_uses(const struct ot_analysis *a, struct ot_outstanding_use *out, int max);

/*
 * Bounded memory for long runs (the daemon). Without limits (the default)
 * the shadow keeps every group it has seen for the whole run. With them:
 *  - a group holding no claim and no default-domain use is forgotten after
 *    idle_ns without an event; its next event re-learns it from the
 *    kernel's before-values, so what is lost is only the divergence check
 *    of that first event and the underflow pairing with its last release;
 *  - a probe/remove still in flight after idle_ns is forgotten (its exit was
 *    lost): a later dma_configure/cleanup of it is no longer attributed;
 *  - past max_groups, the group touched longest ago is forgotten, idle ones
 *    first, then ones holding state (their later leaks go unreported);
 *  - past max_uses_per_group or max_spans, the oldest entry is forgotten.
 * Time is event time (ts_ns), so replays and tests age the same way.
 * 0 in a field: no limit of that kind.
 */
struct ot_analysis_limits {
	uint64_t idle_ns;
	int max_groups;
	int max_uses_per_group;
	int max_spans;
};

void ot_analysis_set_limits(struct ot_analysis *a, const struct ot_analysis_limits *limits);
/* Apply idle_ns at event time now_ns (cheap enough to call every second). */
void ot_analysis_expire(struct ot_analysis *a, uint64_t now_ns);

/* What the shadow holds now, and what it has forgotten so far. */
struct ot_analysis_footprint {
	int groups, uses, spans;
	uint64_t forgot_groups, forgot_uses, forgot_spans;
	uint64_t losses;	/* events marked OT_EVF_GAP: records were lost before them */
	uint64_t resyncs;	/* group states a gap had made wrong, retaken from the kernel's values */
};

void ot_analysis_footprint(const struct ot_analysis *a, struct ot_analysis_footprint *out);

/* One group of the shadow: its claim depth (0: not claimed) and default-domain uses seen taken. */
struct ot_group_state {
	int group;
	unsigned int claims;
	unsigned int uses;
};

/* Every group the shadow knows, in first-seen order; returns the number written (<= max). */
int ot_analysis_groups(const struct ot_analysis *a, struct ot_group_state *out, int max);

/*
 * Start from the kernel's exact state of a group (a census) instead of
 * learning it from the first before-values: owner_cnt, owner (a claim held
 * before tracing, origin unknown) and the devices bound to kernel DMA
 * drivers (default-domain uses taken before tracing; not listed as "seen
 * taken"). Calls that returned before ts_ns are already in it: their
 * events change nothing; a call under way at ts_ns is in it if the kernel
 * had its after-values.
 */
struct ot_seed_use {
	char device[OT_DEV_NAME_LEN];
	char driver[OT_DRV_NAME_LEN];
};

struct ot_group_seed {
	int group;
	uint64_t ts_ns;
	uint32_t owner_cnt;
	uint64_t owner;
	int nuses;
	const struct ot_seed_use *uses;
};

void ot_analysis_seed(struct ot_analysis *a, const struct ot_group_seed *seed);

/* Report an anomaly found outside the event stream (the census): counted
 * and handed to the callback like the shadow's own. */
void ot_analysis_report(struct ot_analysis *a, struct ot_anomaly *an);

/*
 * Why the kernel refused a claim or a use, in words, for a failed
 * (ret < 0) ownership event; NULL if the event is not a refusal.
 */
const char *ot_explain_refusal(const struct ot_event *ev, char *buf, size_t len);

#endif

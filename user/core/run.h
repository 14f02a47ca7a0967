/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One run, as its outputs see it: what they format with (the time origin,
 * owner tokens, the bound functions, the stacks) and what they may read at
 * a tick or at the end (counts, the shadow, what a bounded run forgot).
 * The session (session/session.h) owns it and keeps it current.
 */
#ifndef OT_RUN_H
#define OT_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include "ownertrace.h"
#include "core/anomaly.h"
#include "core/points.h"

/* Per-run totals. */
struct ot_stats {
	uint64_t events[OT_POINT_COUNT][2];	/* [point][phase == EXIT] */
	uint64_t shown;
	uint64_t filtered_out;
	uint64_t bpf[OT_CNT_COUNT];		/* enum ot_counter, summed over CPUs */
	int64_t kretprobe_misses;		/* -1: not measurable in this mode */
	const char *mode;			/* "fentry" / "kprobe" */
	double duration_s;
	uint64_t anomalies[OT_AN_KIND_COUNT];	/* shown (matching the filters) */
	uint64_t stacks_dropped;		/* live: events whose stack a bounded run dropped */
	uint64_t skipped_runs;			/* live: program runs the kernel skipped (ot_tracer_skipped_runs) */
};

static inline void ot_stats_count(struct ot_stats *s, const struct ot_event *ev)
{
	if (ev->point < OT_POINT_COUNT)
		s->events[ev->point][ev->phase == OT_PHASE_EXIT]++;
}
uint64_t ot_stats_anomalies(const struct ot_stats *s);

/* What a bounded run (the daemon) made the session forget, by ot_forgotten_names. */
enum ot_forgotten { OT_FORGOT_GROUPS, OT_FORGOT_USES, OT_FORGOT_SPANS, OT_FORGOT_OWNERS, OT_FORGOT_STACKS,
		    OT_FORGOT_COUNT };
extern const char *const ot_forgotten_names[OT_FORGOT_COUNT];

struct ot_owner_tokens;
struct ot_stacks;
struct ot_analysis;
struct ot_census_track;

struct ot_run {
	uint64_t start_ns;			/* CLOCK_MONOTONIC origin of relative times */
	struct ot_owner_tokens *tokens;		/* owner pointers as owner#N */
	bool raw_pointers;			/* --raw-pointers: addresses instead */
	const struct ot_bindings *bindings;	/* the function bound to each point */
	struct ot_stacks *stacks;		/* stack id -> symbolized frames */
	struct ot_stats stats;
	const struct ot_analysis *shadow;	/* the ownership shadow (analysis/shadow.h) */
	uint64_t forgotten[OT_FORGOT_COUNT];	/* current at every tick and at the end */
	const struct ot_census_track *census;	/* what the censuses found (analysis/census.h); NULL before one */
};

/* Relative time of ts in ns (negative: before the start). */
static inline int64_t ot_run_rel_ns(const struct ot_run *r, uint64_t ts)
{
	return ts >= r->start_ns ? (int64_t)(ts - r->start_ns) : -(int64_t)(r->start_ns - ts);
}

#endif

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Rendering of events and of the end-of-run summary: aligned text for
 * people, JSON Lines for programs. Pure formatting, no kernel access, so
 * live tracing and (later) replay print the same thing. */
#ifndef OT_OUTPUT_H
#define OT_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "ownertrace.h"
#include "core/points.h"
#include "analysis/shadow.h"

struct ot_owner_tokens;

struct ot_output {
	FILE *out;
	bool json;
	bool stacks;		/* symbolize and print kernel stacks */
	bool raw_pointers;	/* print owner addresses instead of tokens */
	uint64_t start_ns;	/* CLOCK_MONOTONIC origin of relative times */
	struct ot_owner_tokens *tokens;
	const struct ot_bindings *bindings;
	bool header_done;
};

/* frames: symbolized kernel stack of the event (NULL/0 when none or not
 * wanted); note: why the kernel refused this call, or NULL. */
void ot_output_event(struct ot_output *o, const struct ot_event *ev, const char *const *frames, int nframes,
		     const char *note);

struct ot_anomaly;
/* An anomaly with the stacks of the offending call and of the call it pairs with. */
void ot_output_anomaly(struct ot_output *o, const struct ot_anomaly *an, const char *const *frames, int nframes,
		       const char *const *pair_frames, int npair);

/* Per-run totals shown at exit. */
struct ot_stats {
	uint64_t events[OT_POINT_COUNT][2];	/* [point][phase == EXIT] */
	uint64_t shown;
	uint64_t filtered_out;
	uint64_t bpf[OT_CNT_COUNT];		/* enum ot_counter, summed over CPUs */
	int64_t kretprobe_misses;		/* -1: not measurable in this mode */
	const char *mode;			/* "fentry" / "kprobe" */
	double duration_s;
	uint64_t anomalies[OT_AN_KIND_COUNT];	/* shown (matching the filters) */
};

void ot_stats_count(struct ot_stats *s, const struct ot_event *ev);
uint64_t ot_stats_anomalies(const struct ot_stats *s);

struct ot_analysis;
struct ot_stacks;
/* End-of-run summary; analysis and stacks may be NULL. */
void ot_output_summary(struct ot_output *o, FILE *human, const struct ot_stats *s, const struct ot_analysis *a,
		       struct ot_stacks *stacks, uint64_t end_ns);

/* "-16 (EBUSY)"-style text of a return value of this point; "" if none. */
const char *ot_format_ret(const struct ot_event *ev, char *buf, size_t len);

/* -o FILE, or stdout for NULL; NULL (and said why) when FILE cannot be written. */
FILE *ot_output_open(const char *path);

#endif

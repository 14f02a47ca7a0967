/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What happens to every event, live or replayed: count it, record it,
 * feed the ownership shadow, filter it, print it. One path, so a replay
 * prints exactly what the live run printed. */
#ifndef OT_PIPELINE_H
#define OT_PIPELINE_H

#include <stdbool.h>
#include "analysis/shadow.h"
#include "core/filter.h"
#include "analysis/hist.h"
#include "output/output.h"
#include "core/recording.h"
#include "core/stacks.h"

struct ot_hist_table;
struct ot_pipeline;
struct ot_census_track;

/*
 * An output beside the printed stream (a timeline file, metrics): sees the
 * events and anomalies that pass the display filter, every exact duration,
 * a tick once per poll of the live loop, and the end of the run. Any
 * callback may be NULL.
 */
struct ot_sink {
	void *ctx;
	void (*event)(void *ctx, const struct ot_event *ev);
	void (*anomaly)(void *ctx, const struct ot_anomaly *an);
	void (*sample)(void *ctx, const struct ot_sample *s);
	void (*tick)(void *ctx, const struct ot_pipeline *p, uint64_t now_ns);
	/* nonzero: the output could not be completed (it said why) */
	int (*finish)(void *ctx, const struct ot_pipeline *p, uint64_t end_ns);
};

#define OT_PIPELINE_MAX_SINKS 4

struct ot_pipeline {
	struct ot_output out;
	struct ot_stats stats;
	struct ot_filter *filter;	/* display filter; may be NULL */
	struct ot_analysis *analysis;
	struct ot_stacks *stacks;
	struct ot_rec_writer *recorder;	/* NULL unless recording */
	bool print_events;		/* false: only anomalies and the summary */
	struct ot_hist_table *hists;	/* latency histograms; NULL when not wanted */
	unsigned int hist_by;		/* enum ot_hist_by */
	uint64_t hist_samples[OT_HIST_KIND_COUNT];	/* exact durations taken, since start */
	unsigned char stack_written[65536 / 8];
	struct ot_sink sinks[OT_PIPELINE_MAX_SINKS];
	int nsinks;
	bool bounded;			/* set by ot_pipeline_bound() */
	uint64_t last_expire_ns;
	uint64_t stacks_dropped;	/* live runs: events whose stack the bound dropped (kept current by the caller) */
	struct ot_census_track *census;	/* what the censuses found (session/census.c); NULL before one */
};

/*
 * The daemon's memory bound: however long it runs, the state kept is at
 * most these many entries (policy and its cost in README.md and
 * ownertrace(8), DAEMON). The display filter's learned groups are bounded
 * always (OT_FILTER_MAX_LEARNED); exact-duration histograms are refused by
 * the daemon (the Prometheus histograms have fixed buckets).
 */
#define OT_BOUND_IDLE_S 600		/* forget idle groups and lost probes/removes after 10 min */
#define OT_BOUND_GROUPS 1024
#define OT_BOUND_USES_PER_GROUP 64
#define OT_BOUND_SPANS 1024
#define OT_BOUND_OWNERS 4096
#define OT_BOUND_STACKS 2048

/* Apply the bound; after ot_pipeline_init(). A live run bounds its stack table itself (OT_BOUND_STACKS). */
void ot_pipeline_bound(struct ot_pipeline *p);

/* What the bound made the pipeline forget so far, by ot_forgotten_names. */
enum ot_forgotten { OT_FORGOT_GROUPS, OT_FORGOT_USES, OT_FORGOT_SPANS, OT_FORGOT_OWNERS, OT_FORGOT_STACKS,
		    OT_FORGOT_COUNT };
extern const char *const ot_forgotten_names[OT_FORGOT_COUNT];
void ot_pipeline_forgotten(const struct ot_pipeline *p, uint64_t out[OT_FORGOT_COUNT]);

/* out, filter, stacks, recorder and print_events set by the caller first. */
int ot_pipeline_init(struct ot_pipeline *p);
void ot_pipeline_fini(struct ot_pipeline *p);
void ot_pipeline_event(struct ot_pipeline *p, const struct ot_event *ev);
/* An exact duration without its event (histogram-only mode, or its recording). */
void ot_pipeline_sample(struct ot_pipeline *p, const struct ot_sample *s);

/*
 * Feed every record of an opened recording: its points into bindings, its
 * stacks, events and samples into the pipeline. 0 at its end, or -EINVAL
 * with err set where the file is damaged (what came before was fed).
 */
int ot_pipeline_feed_recording(struct ot_pipeline *p, struct ot_rec_reader *r, struct ot_bindings *bindings,
			       char *err, size_t errlen);

/* Add an output; -ENOSPC past OT_PIPELINE_MAX_SINKS. */
int ot_pipeline_add_sink(struct ot_pipeline *p, const struct ot_sink *sink);
void ot_pipeline_tick(struct ot_pipeline *p, uint64_t now_ns);
/* Finish every sink; nonzero if any failed. */
int ot_pipeline_finish(struct ot_pipeline *p, uint64_t end_ns);

/* Print the histograms so far (interval > 0: numbered, of that interval), then reset them. */
void ot_pipeline_print_hists(struct ot_pipeline *p, enum ot_hist_unit unit, int interval, double at_s);

/* Histogram kind of a finished call, -1 if none (mirrors the BPF side). */
int ot_hist_kind_of(const struct ot_event *ev);
/* The event's name under --hist-by (driver, bus or device), not NUL-terminated: *len bytes at most. */
const char *ot_hist_key_of(const struct ot_event *ev, unsigned int by, size_t *len);
extern const char *const ot_hist_kind_names[OT_HIST_KIND_COUNT];
const char *ot_hist_by_name(unsigned int by);

#endif

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The output interface: every record a run prints goes through one of
 * these writers, and each format (text for people, JSON Lines for
 * programs) implements all of them. A command never asks "is it JSON?":
 * it picks a format once and calls the record writers.
 *
 * Writers append to the writer's buffer (util/outbuf.h), which reaches the
 * FILE in large blocks; ot_writer_flush() pushes it out (the live loop
 * does once per ring-buffer poll).
 */
#ifndef OT_WRITER_H
#define OT_WRITER_H

#include <stdbool.h>
#include <stdio.h>
#include "ownertrace.h"
#include "analysis/diff.h"
#include "analysis/hist.h"
#include "core/anomaly.h"
#include "core/census.h"
#include "core/run.h"
#include "output/call_cache.h"
#include "output/who_cache.h"
#include "util/outbuf.h"

struct ot_writer;
struct ot_analysis;

/* An event as printed: with its symbolized stack (if wanted) and why the kernel refused it. */
struct ot_event_record {
	const struct ot_event *ev;
	const char *const *frames;	/* NULL/0: no stack, or not wanted */
	int nframes;
	const char *note;		/* NULL: nothing to explain */
};

/* An anomaly, with the stacks of the offending call and of the call it pairs with. */
struct ot_anomaly_record {
	const struct ot_anomaly *an;
	const char *const *frames, *const *pair_frames;
	int nframes, npair;
};

/* Histograms so far; interval > 0: the numbered interval ending at at_s. */
struct ot_hist_record {
	struct ot_hist_table *table;
	unsigned int by;		/* enum ot_hist_by */
	enum ot_hist_unit unit;
	int interval;
	double at_s;
};

/* A regression gate's comparison (analysis/diff.h). */
struct ot_diff_record {
	const struct ot_diff *diff;
	const struct ot_diff_opts *opts;
	const struct ot_diff_side *base, *cand;
	int max_rows;			/* text: rows per section, 0 = all */
};

/* A census of every IOMMU group (core/census.h). */
struct ot_census_record {
	const struct ot_census *census;
	const bool *shown;		/* per group: passes the display filter; NULL: every group */
	bool in_run;			/* part of a trace: times relative to the run's start */
};

struct ot_writer_ops {
	const char *name;
	/*
	 * Machine-readable: the summary and the gate's report are records of
	 * the stream. Otherwise they are for the person at the terminal, and
	 * go to the human channel (stderr) instead of the stream.
	 */
	bool machine;
	void (*event)(struct ot_writer *w, const struct ot_event_record *r);
	void (*anomaly)(struct ot_writer *w, const struct ot_anomaly_record *r);
	void (*summary)(struct ot_writer *w, const struct ot_analysis *shadow, uint64_t end_ns);
	void (*histograms)(struct ot_writer *w, const struct ot_hist_record *r);
	void (*diff)(struct ot_writer *w, const struct ot_diff_record *r);
	void (*census)(struct ot_writer *w, const struct ot_census_record *r);
};

extern const struct ot_writer_ops ot_text_writer;
extern const struct ot_writer_ops ot_jsonl_writer;

/*
 * Text: the EVENT column of each point and phase, padded, with the space
 * after it: built at the first event, then copied as one fixed-size run.
 */
#define OT_EVENT_COL_MAX 48
struct ot_event_cols {
	bool built;
	uint8_t len[OT_POINT_COUNT][2];		/* [point][phase == EXIT]; 0: too long, written as it comes */
	char col[OT_POINT_COUNT][2][OT_EVENT_COL_MAX];
};

struct ot_writer {
	const struct ot_writer_ops *ops;
	struct ot_buf buf;
	const struct ot_run *run;	/* time origin, tokens, bindings, stacks, counts */
	bool stacks;			/* print kernel stacks of events */
	bool header_done;		/* text: the column header was printed */
	struct ot_event_cols event_cols;	/* text: the EVENT column of each point and phase */
	struct ot_who_cache who;	/* the last event's task and device fields, as rendered */
	struct ot_high_digits ts_high;	/* JSON: the last ts_ns's digits above its last eight */
	struct ot_high_digits time_high;	/* JSON: the same of the last "time" */
	struct ot_call_cache calls;	/* JSON: each point and phase's event, phase and function, as rendered */
};

/* A writer of this format into f (not owned); run may be NULL for a diff report. */
void ot_writer_init(struct ot_writer *w, const struct ot_writer_ops *ops, FILE *f, const struct ot_run *run);
/* Flush and free the buffer: 0, or -EIO if anything could not be written. */
int ot_writer_fini(struct ot_writer *w);
int ot_writer_flush(struct ot_writer *w);

static inline void ot_write_event(struct ot_writer *w, const struct ot_event_record *r)
{
	w->ops->event(w, r);
}

static inline void ot_write_anomaly(struct ot_writer *w, const struct ot_anomaly_record *r)
{
	w->ops->anomaly(w, r);
}

static inline void ot_write_summary(struct ot_writer *w, const struct ot_analysis *shadow, uint64_t end_ns)
{
	w->ops->summary(w, shadow, end_ns);
}

static inline void ot_write_histograms(struct ot_writer *w, const struct ot_hist_record *r)
{
	w->ops->histograms(w, r);
}

static inline void ot_write_diff(struct ot_writer *w, const struct ot_diff_record *r)
{
	w->ops->diff(w, r);
}

static inline void ot_write_census(struct ot_writer *w, const struct ot_census_record *r)
{
	w->ops->census(w, r);
}

/* -o FILE, or stdout for NULL; NULL (and said why) when FILE cannot be written. */
FILE *ot_output_open(const char *path);

#endif

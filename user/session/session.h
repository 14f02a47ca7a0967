/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A session: what happens to every event, live or replayed. It counts
 * it, records it, feeds the ownership shadow, filters it, prints it and
 * hands it to the sinks (timeline, metrics, the gate's profile). One path
 * and one object for every command, test and the fuzzer, so a replay
 * prints exactly what the live run printed.
 */
#ifndef OT_SESSION_H
#define OT_SESSION_H

#include <stdbool.h>
#include <stdio.h>
#include "analysis/hist.h"
#include "analysis/shadow.h"
#include "core/filter.h"
#include "core/recording.h"
#include "core/run.h"
#include "core/sink.h"
#include "core/stacks.h"
#include "output/writer.h"

struct ot_perfetto;
struct ot_prom;
struct ot_profile;
struct ot_census_track;

struct ot_session_opts {
	const struct ot_writer_ops *format;	/* of the stream: &ot_text_writer or &ot_jsonl_writer */
	FILE *out;			/* the stream; NULL: none (a quiet replay) */
	FILE *human;			/* the summary for the person (stderr); NULL: none */
	uint64_t start_ns;		/* origin of relative times */
	bool print_events;		/* false: only anomalies and the summary */
	bool stacks;			/* print each event's kernel stack */
	bool raw_pointers;
	struct ot_filter filter;	/* display filter (copied: matching learns groups) */
	bool hist;			/* latency histograms of exact durations */
	unsigned int hist_by;		/* enum ot_hist_by */
	enum ot_hist_unit unit;
	bool bounded;			/* the daemon's memory bound (OT_BOUND_*) */
	bool profile;			/* keep the regression gate's profile of the run */
	struct ot_rec_writer *recorder;	/* record every event; NULL: not recording */
	const char *perfetto_path;	/* --perfetto */
	const char *prometheus_path;	/* --prometheus */
	double metrics_interval_s;	/* 0: the default */
	bool live;			/* metrics written at once (a bad path fails now) and every interval */
};

#define OT_SESSION_MAX_SINKS 4

struct ot_session {
	struct ot_run run;		/* what the outputs read */
	struct ot_bindings bindings;	/* live: the tracer's; replay: the recording's */
	struct ot_writer out;		/* the stream */
	struct ot_writer human;		/* the person's summary, in text */
	bool has_out, has_human;
	bool print_events;
	struct ot_filter filter;
	struct ot_analysis *shadow;
	struct ot_rec_writer *recorder;
	struct ot_hist_table *hists;	/* NULL when not wanted */
	unsigned int hist_by;
	enum ot_hist_unit unit;
	uint64_t hist_samples[OT_HIST_KIND_COUNT];	/* exact durations taken, since start */
	unsigned char stack_written[65536 / 8];
	struct ot_sink sinks[OT_SESSION_MAX_SINKS];
	int nsinks;
	bool bounded;
	uint64_t last_expire_ns;
	struct ot_perfetto *perfetto;
	struct ot_prom *prom;
	struct ot_profile *profile;
	struct ot_census_track *census;	/* what the censuses found (session/census.c); NULL before one */
};

/*
 * The daemon's memory bound: however long it runs, the state kept is at
 * most these many entries (policy and its cost in README.md and
 * ownertrace(8), DAEMON). The display filter's learned groups are bounded
 * always (OT_FILTER_MAX_LEARNED); exact-duration histograms are refused by
 * the daemon (the Prometheus histograms have fixed buckets). A live run
 * bounds its stack table itself (OT_BOUND_STACKS).
 */
#define OT_BOUND_IDLE_S 600		/* forget idle groups and lost probes/removes after 10 min */
#define OT_BOUND_GROUPS 1024
#define OT_BOUND_USES_PER_GROUP 64
#define OT_BOUND_SPANS 1024
#define OT_BOUND_OWNERS 4096
#define OT_BOUND_STACKS 2048

/* NULL after saying why on stderr (out of memory, an output path that cannot be written). */
struct ot_session *ot_session_new(const struct ot_session_opts *opts);
void ot_session_free(struct ot_session *s);

void ot_session_event(struct ot_session *s, const struct ot_event *ev);
/* An exact duration without its event (histogram-only mode, or its recording). */
void ot_session_sample(struct ot_session *s, const struct ot_sample *sample);
/* Once per poll of the live loop: sinks that write periodically do it here. */
void ot_session_tick(struct ot_session *s, uint64_t now_ns);
/* Add an output beside the stream; -ENOSPC past OT_SESSION_MAX_SINKS. */
int ot_session_add_sink(struct ot_session *s, const struct ot_sink *sink);

/* Print the histograms so far (interval > 0: numbered, of that interval), then reset them. */
void ot_session_print_hists(struct ot_session *s, int interval, double at_s);
/* Push the buffered stream out (the live loop does once per poll). */
void ot_session_flush(struct ot_session *s);

/*
 * The end of the run (after the last histograms): every sink finished, the
 * summary to the person and, in a machine-readable stream, as its last
 * record.
 * 0, or -1 if a sink or the stream could not be completed (it said why).
 */
int ot_session_end(struct ot_session *s, uint64_t end_ns);

/*
 * Feed every record of an opened recording: its points into the bindings,
 * its stacks, events and samples, and its end counters into the stats.
 * 0 at its end, or -EINVAL with err set where the file is damaged (what
 * came before was fed).
 */
int ot_session_replay(struct ot_session *s, struct ot_rec_reader *r, char *err, size_t errlen);

/*
 * replay's whole path on an opened recording, shared by the replay command
 * and the fuzzer: a session from opts (starting at the recording's start),
 * every record, the histograms, the end. Returns the exit status (OT_EXIT_*);
 * err is "" unless the recording is damaged, and then says where (what
 * came before was replayed and reported).
 */
int ot_session_run_replay(const struct ot_session_opts *opts, struct ot_rec_reader *r, char *err, size_t errlen);

/* What the bound made the session forget so far, by ot_forgotten_names. */
void ot_session_forgotten(struct ot_session *s, uint64_t out[OT_FORGOT_COUNT]);

/* The profile (opts.profile), handed over: the caller frees it. */
struct ot_profile *ot_session_take_profile(struct ot_session *s);

#endif

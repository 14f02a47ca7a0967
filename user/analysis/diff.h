/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Compare two run profiles (profile.h), a baseline and a candidate, and
 * decide whether the candidate regressed: new anomalies, ownership
 * sequences that changed shape, probe/remove latency that grew past a
 * threshold. Pure C: unit-tested on synthetic pairs.
 */
#ifndef OT_DIFF_H
#define OT_DIFF_H

#include <stdbool.h>
#include <stdint.h>
#include "analysis/profile.h"

/* In order of importance: the summary lists them in this order. */
enum ot_diff_category {
	OT_DIFF_NEW_ANOMALY = 0,	/* an anomaly the baseline did not have (or more of it) */
	OT_DIFF_SEQUENCE_CHANGE,	/* an episode shape appeared or vanished for a device */
	OT_DIFF_LATENCY,		/* p50 or p99 grew past its threshold */
	OT_DIFF_COUNT_CHANGE,		/* same shapes, done another number of times */
	OT_DIFF_GONE_ANOMALY,		/* an anomaly of the baseline is gone: better */
	OT_DIFF_INCONCLUSIVE,		/* too few samples to compare latency */
	OT_DIFF_CATEGORY_COUNT,
};

/* The categories that can fail a run; the others only inform. */
#define OT_DIFF_GATEABLE ((1u << OT_DIFF_NEW_ANOMALY) | (1u << OT_DIFF_SEQUENCE_CHANGE) | \
			  (1u << OT_DIFF_LATENCY) | (1u << OT_DIFF_COUNT_CHANGE))
#define OT_DIFF_FAIL_ON_DEFAULT ((1u << OT_DIFF_NEW_ANOMALY) | (1u << OT_DIFF_SEQUENCE_CHANGE) | \
				 (1u << OT_DIFF_LATENCY))

/* "new-anomaly", "sequence-change", ...: the spelling of --fail-on. */
const char *ot_diff_category_name(enum ot_diff_category c);
/*
 * Parse a --fail-on list ("new-anomaly,latency", "all", "none") into a
 * mask; -EINVAL and the offending word in bad (if not NULL) otherwise.
 */
int ot_diff_parse_fail_on(const char *list, unsigned int *mask, char *bad, size_t badlen);

struct ot_diff_opts {
	unsigned int fail_on;		/* 1 << category, of OT_DIFF_GATEABLE */
	double max_p50_regress;		/* +0.5 = 50% slower fails; < 0: p50 not gated */
	double max_p99_regress;
	uint64_t min_change_ns;		/* a latency growth smaller than this is noise */
	unsigned int min_samples;	/* fewer calls on either side: inconclusive */
};

void ot_diff_opts_default(struct ot_diff_opts *o);

/*
 * A nearest-rank p99 of fewer than 100 samples is the maximum: one outlier.
 * Below this many calls on either side, p99 is shown but not gated.
 */
#define OT_DIFF_P99_SAMPLES 100

/* An episode shape of one subject and how often each run did it. */
struct ot_diff_shape {
	const char *shape;
	uint64_t base, cand;
};

/* One latency series compared (kind and name as in the histograms). */
struct ot_diff_latency {
	const char *kind;		/* "probe_ok", "remove", ... */
	const char *name;		/* driver */
	uint64_t base_n, cand_n;
	uint64_t base_p50, cand_p50, base_p99, cand_p99;	/* ns */
	bool enough;			/* both sides have min_samples: p50 compared */
	bool enough_p99;		/* both have OT_DIFF_P99_SAMPLES too: p99 compared */
	bool p50_regressed, p99_regressed;
};

struct ot_diff_finding {
	enum ot_diff_category category;
	bool gated;			/* counts toward the verdict */
	const char *subject;		/* device (driver), group of ..., or for latency the driver */
	const char *what;		/* anomaly kind, latency kind; NULL for shapes */
	const char *example;		/* anomaly message */
	uint64_t base, cand;		/* counts: anomalies, or episodes of the subject */
	int first_shape, nshapes;	/* sequence/count changes: shapes[first..first+n) */
	int latency;			/* latency/inconclusive: index into latency[] */
	double growth;			/* latency: the larger of the p50 and p99 candidate/baseline ratios */
	int order;			/* found in this order: ties keep it */
};

struct ot_diff {
	struct ot_diff_finding *findings;
	int nfindings;
	struct ot_diff_shape *shapes;
	int nshapes;
	struct ot_diff_latency *latency;	/* every series present in both runs */
	int nlatency;
	int gated[OT_DIFF_CATEGORY_COUNT];	/* failing findings per category */
	int subjects, subjects_same;		/* compared, and with nothing changed */
	/* false: a side has no events (a --hist-only recording): only latency was compared */
	bool ownership_compared;
	bool fail;
};

/* Both profiles finished; they must outlive the result. 0 or -ENOMEM. */
int ot_diff_compare(struct ot_profile *base, struct ot_profile *cand, const struct ot_diff_opts *opts,
		    struct ot_diff *out);
void ot_diff_free(struct ot_diff *d);

/* What a run was, for the report's header. */
struct ot_diff_side {
	const char *label;		/* file name, or "live run" */
	const char *kernel;		/* uname -r of the traced kernel, may be "" */
	uint64_t events;
};

/* The report itself is a record of the writers (output/writer.h): text and JSON Lines. */

#endif

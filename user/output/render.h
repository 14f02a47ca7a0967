/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the text and JSON Lines writers share: number and owner formatting
 * without printf, and the summary's figures. */
#ifndef OT_RENDER_H
#define OT_RENDER_H

#include <stddef.h>
#include <stdint.h>
#include "analysis/hist.h"
#include "analysis/shadow.h"
#include "core/run.h"
#include "util/outbuf.h"

/* Decimal text of v into p (at least 21 bytes of room), not NUL-terminated; returns its length. */
size_t ot_fmt_u64(char *p, uint64_t v);
size_t ot_fmt_i64(char *p, int64_t v);

/* Seconds since the run's start, as a double (for the printf of rare records). */
double ot_rel_seconds(const struct ot_run *run, uint64_t ts);

struct ot_census_record;
struct ot_census_style;
/* How a writer's census record is styled: the run's tokens and time origin. */
void ot_census_style_of(struct ot_census_style *style, const struct ot_run *run, const struct ot_census_record *r);

#define OT_SUMMARY_MAX_ITEMS 256

/* The end-of-run figures both formats print. Not reentrant: points into static storage. */
struct ot_summary_data {
	struct { const char *name; uint64_t count; } counts[OT_POINT_COUNT * 2];	/* bus slots folded */
	int ncounts;
	uint64_t total;
	const struct ot_outstanding_claim *claims;
	int nclaims;
	const struct ot_outstanding_use *uses;
	int nuses;
};

void ot_summary_collect(struct ot_summary_data *d, const struct ot_stats *s, const struct ot_analysis *shadow);

/* One histogram, as text rows (bcc's look) or as the JSON object's members; for the writers and tests. */
void ot_text_hist(struct ot_buf *b, struct ot_hist *h, enum ot_hist_unit unit);
void ot_text_hist_table(struct ot_buf *b, struct ot_hist_table *t, const char *key_label, enum ot_hist_unit unit);
void ot_jsonl_hist(struct ot_buf *b, struct ot_hist *h, enum ot_hist_unit unit);
void ot_jsonl_hist_table(struct ot_buf *b, struct ot_hist_table *t, const char *key_label, enum ot_hist_unit unit);

#endif

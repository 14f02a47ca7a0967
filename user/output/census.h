/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A census rendered: the text table of `ownertrace groups`, and one JSON
 * Lines "census" record per group (docs/schema/ownertrace-jsonl.schema.json).
 * Pure formatting: a live census and its replay print the same.
 */
#ifndef OT_OUTPUT_CENSUS_H
#define OT_OUTPUT_CENSUS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "core/census.h"
#include "util/outbuf.h"

struct ot_owner_tokens;

struct ot_census_style {
	struct ot_owner_tokens *tokens;	/* owner cookies as owner#N */
	bool raw_pointers;		/* --raw-pointers: as addresses instead */
	bool has_start;			/* a run's census: "time" relative to start_ns */
	uint64_t start_ns;
	const bool *shown;		/* per group of the census: print it; NULL: every group */
};

/* The table, a note per group that is not plainly consistent, and a totals line. */
void ot_census_write_text(struct ot_buf *f, const struct ot_census *c, const struct ot_census_style *s);
/* One "census" record per group. */
void ot_census_write_json(struct ot_buf *f, const struct ot_census *c, const struct ot_census_style *s);

#endif

/* Records written through the output interface into a FILE, for tests
 * that CAPTURE what a format prints. */
#ifndef OT_TEST_WRITERS_H
#define OT_TEST_WRITERS_H

#include <stdio.h>
#include "output/census.h"
#include "output/render.h"
#include "output/writer.h"
#include "util/json.h"

/* w keeps its state (the text header) across calls; each call lands in f. */
static inline void write_event_to(FILE *f, struct ot_writer *w, const struct ot_event *ev)
{
	w->buf.f = f;
	ot_write_event(w, &(struct ot_event_record){ .ev = ev });
	ot_writer_flush(w);
	w->buf.f = NULL;	/* f is closed after the capture */
}

static inline void write_summary_to(FILE *f, const struct ot_writer_ops *ops, const struct ot_run *run)
{
	struct ot_writer w;

	ot_writer_init(&w, ops, f, run);
	ot_write_summary(&w, NULL, 0);
	ot_writer_fini(&w);
}

static inline void write_diff_to(FILE *f, const struct ot_writer_ops *ops, const struct ot_diff *d,
				 const struct ot_diff_opts *o, const struct ot_diff_side *base,
				 const struct ot_diff_side *cand, int max_rows)
{
	struct ot_writer w;

	ot_writer_init(&w, ops, f, NULL);
	ot_write_diff(&w, &(struct ot_diff_record){ .diff = d, .opts = o, .base = base, .cand = cand,
						 .max_rows = max_rows });
	ot_writer_fini(&w);
}

/* One histogram, or a table of them, as text or JSON. */
static inline void write_hist_to(FILE *f, bool json, struct ot_hist *h, enum ot_hist_unit unit)
{
	struct ot_buf b;

	ot_buf_init(&b, f);
	(json ? ot_jsonl_hist : ot_text_hist)(&b, h, unit);
	ot_buf_fini(&b);
}

static inline void write_hist_table_to(FILE *f, bool json, struct ot_hist_table *t, const char *label,
				       enum ot_hist_unit unit)
{
	struct ot_buf b;

	ot_buf_init(&b, f);
	(json ? ot_jsonl_hist_table : ot_text_hist_table)(&b, t, label, unit);
	ot_buf_fini(&b);
}

static inline void write_census_to(FILE *f, bool json, const struct ot_census *c, const struct ot_census_style *style)
{
	struct ot_buf b;

	ot_buf_init(&b, f);
	(json ? ot_census_write_json : ot_census_write_text)(&b, c, style);
	ot_buf_fini(&b);
}

static inline void write_json_string_to(FILE *f, const char *s, size_t maxlen)
{
	struct ot_buf b;

	ot_buf_init(&b, f);
	ot_json_write_string(&b, s, maxlen);
	ot_buf_fini(&b);
}

#endif

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The text format: aligned columns for people. The event line is built
 * by hand into the buffer (no printf on the per-event path); the rest
 * (anomalies, the summary, histograms, the gate's report) is rare and
 * uses ot_buf_printf.
 */
#include <inttypes.h>
#include <string.h>
#include "analysis/shadow.h"
#include "core/event.h"
#include "core/owner_tokens.h"
#include "core/stacks.h"
#include "output/census.h"
#include "output/render.h"
#include "output/writer.h"

/* ---- events ------------------------------------------------------------ */

static void print_header(struct ot_writer *w)
{
	ot_buf_printf(&w->buf, "%-12s %3s %7s %-15s %-20s %-14s %-8s %-14s %5s %-9s %-19s %-14s %s\n",
		      "TIME(s)", "CPU", "TID", "COMM", "EVENT", "DEVICE", "BUS", "DRIVER", "GROUP", "OWNER_CNT",
		      "OWNER", "RET", "DURATION");
	w->header_done = true;
}

static void print_frames(struct ot_buf *b, const char *const *frames, int n, int indent)
{
	for (int i = 0; i < n; i++) {
		ot_buf_fill(b, ' ', (size_t)indent);
		ot_buf_puts(b, frames[i]);
		ot_buf_putc(b, '\n');
	}
}

/*
 * The event line is written at a cursor (util/outbuf.h) into room for its
 * widest case, reserved once: the kernel names at full length, 20-digit
 * numbers, two raw owner pointers, the longest errno name. ~400 bytes.
 */
#define TEXT_EVENT_LINE_MAX 512
#define RET_TEXT_MAX 48		/* the RET column's text: a long errno name is cut to fit */
_Static_assert(OT_COMM_LEN + OT_DEV_NAME_LEN + OT_BUS_NAME_LEN + OT_DRV_NAME_LEN + 32 /* event */ +
		       OT_PUT_FIXED_MAX /* time */ + 4 * 20 /* cpu tid group count */ + 2 * 32 + 2 /* owner */ +
		       RET_TEXT_MAX + 32 /* duration */ + 16 /* separators */ <= TEXT_EVENT_LINE_MAX,
	       "TEXT_EVENT_LINE_MAX is below the widest event line");

/* A left-aligned column of width (at most OT_PUT_PAD_MAX): s is written whole, then padded. */
static char *col_left(char *p, const char *s, size_t n, int width)
{
	char *end = p + width;

	return ot_put_pad_to(ot_put(p, s, n), end);
}

/* A kernel name in its column, "-" for an empty one, and the column's space. */
static char *name_col(char *p, const char *name, size_t max, int width)
{
	char *end = p + width;

	p = name[0] ? ot_put_name(p, name, max) : ot_put_lit(p, "-");
	p = ot_put_pad_to(p, end);
	*p++ = ' ';
	return p;
}

/* "1->0" across an exit that changed it, else the count on entry */
static char *count_col(char *p, const struct ot_event *ev)
{
	char *end = p + 9;

	p = ot_put_u64(p, ev->owner_cnt_before);
	if (ev->phase == OT_PHASE_EXIT && ev->owner_cnt_before != ev->owner_cnt_after)
		p = ot_put_u64(ot_put_lit(p, "->"), ev->owner_cnt_after);
	p = ot_put_pad_to(p, end);
	*p++ = ' ';
	return p;
}

/* The owner's text at p (at most 32 bytes), none_text for no owner. */
static char *put_owner(char *p, const struct ot_run *run, uint64_t owner, const char *none_text)
{
	char tmp[32];
	const char *s = owner ? ot_owner_format(run->tokens, owner, run->raw_pointers, tmp, sizeof(tmp)) : none_text;

	return ot_put(p, s, strlen(s));
}

/* "owner#1" on entry; "none->owner#1" across an exit that changed it */
static char *owner_col(char *p, const struct ot_run *run, const struct ot_event *ev)
{
	char *end = p + 19;

	if (ev->phase == OT_PHASE_EXIT && ev->owner_before != ev->owner_after) {
		p = put_owner(p, run, ev->owner_before, "none");
		p = put_owner(ot_put_lit(p, "->"), run, ev->owner_after, "none");
	} else if (!ev->owner_before) {	/* most calls: a literal, not a copy of its length */
		p = ot_put_lit(p, "-");
	} else {
		p = put_owner(p, run, ev->owner_before, "-");
	}
	p = ot_put_pad_to(p, end);
	*p++ = ' ';
	return p;
}

/* "-16 (EBUSY)", or nothing for a point without a return value */
static char *ret_col(char *p, const struct ot_event *ev)
{
	char *end = p + 14;

	if (ot_event_has_return(ev)) {
		const char *name = ot_event_errno(ev);

		char *number = p;

		p = ot_put_i64(p, ev->ret);
		if (name) {
			size_t len = strlen(name), room = RET_TEXT_MAX - 4 - (size_t)(p - number);

			if (len > room)
				len = room;
			p = ot_put(ot_put_lit(p, " ("), name, len);
			*p++ = ')';
		}
	}
	p = ot_put_pad_to(p, end);
	*p++ = ' ';
	return p;
}

/* 950ns, 502.0us, 93.4ms */
static char *put_duration(char *p, uint64_t ns)
{
	if (ns < 10000)
		return ot_put_lit(ot_put_u64(p, ns), "ns");
	if (ns < 10000000)
		return ot_put_lit(ot_put_fixed(p, (int64_t)ns, 3, 1, 0), "us");
	return ot_put_lit(ot_put_fixed(p, (int64_t)(ns > INT64_MAX ? INT64_MAX : ns), 6, 1, 0), "ms");
}

/* CPU, TID and COMM, and the space after them: the who_cache's segment 0 */
static char *task_cols(char *p, const struct ot_event *ev)
{
	p = ot_put_u64_right(p, ev->cpu, 3);
	*p++ = ' ';
	p = ot_put_u64_right(p, ev->tid, 7);
	*p++ = ' ';
	p = ot_put_pad_to(ot_put_name(p, ev->comm, OT_COMM_LEN), p + 15);
	*p++ = ' ';
	return p;
}

/* The EVENT column and its space, as it comes. */
static char *render_event_col(char *p, unsigned int point, unsigned int phase)
{
	size_t name_len;
	const char *name = ot_event_name_len(point, phase, &name_len);

	p = col_left(p, name, name_len, 20);
	*p++ = ' ';
	return p;
}

static void build_event_cols(struct ot_event_cols *c)
{
	char tmp[OT_EVENT_COL_MAX + OT_PUT_SLACK + OT_PUT_PAD_MAX];

	for (unsigned int point = 0; point < OT_POINT_COUNT; point++)
		for (unsigned int exit = 0; exit < 2; exit++) {
			size_t n = (size_t)(render_event_col(tmp, point, exit ? OT_PHASE_EXIT : OT_PHASE_ENTER) - tmp);

			memset(c->col[point][exit], ' ', OT_EVENT_COL_MAX);
			c->len[point][exit] = n <= OT_EVENT_COL_MAX ? (uint8_t)n : 0;
			if (c->len[point][exit])
				memcpy(c->col[point][exit], tmp, n);
		}
	c->built = true;
}

static char *event_col(char *p, const struct ot_event_cols *c, const struct ot_event *ev)
{
	size_t n = ev->point < OT_POINT_COUNT ? c->len[ev->point][ev->phase == OT_PHASE_EXIT] : 0;

	if (!n)
		return render_event_col(p, ev->point, ev->phase);
	memcpy(p, c->col[ev->point][ev->phase == OT_PHASE_EXIT], OT_EVENT_COL_MAX);	/* whole: the rest is slack */
	return p + n;
}

/* DEVICE, BUS, DRIVER and GROUP, and the space after them: the who_cache's segment 1 */
static char *device_cols(char *p, const struct ot_event *ev)
{
	p = name_col(p, ev->device, OT_DEV_NAME_LEN, 14);
	p = name_col(p, ev->bus, OT_BUS_NAME_LEN, 8);
	p = name_col(p, ev->driver, OT_DRV_NAME_LEN, 14);
	if (ev->group_id >= 0)
		p = ot_put_u64_right(p, (uint64_t)ev->group_id, 5);
	else
		p = ot_put_lit(p, "    -");
	*p++ = ' ';
	return p;
}
_Static_assert(3 + 1 + 20 + 1 + OT_COMM_LEN + 1 <= OT_WHO_TEXT_MAX &&
		       OT_DEV_NAME_LEN + OT_BUS_NAME_LEN + OT_DRV_NAME_LEN + 3 + 20 + 1 <= OT_WHO_TEXT_MAX,
	       "the who_cache's segments are too small for the text columns");

static void text_event(struct ot_writer *w, const struct ot_event_record *r)
{
	const struct ot_event *ev = r->ev;
	struct ot_buf *b = &w->buf;
	char *p;

	if (!w->header_done)
		print_header(w);
	if (!w->event_cols.built)
		build_event_cols(&w->event_cols);
	p = ot_buf_begin(b, TEXT_EVENT_LINE_MAX);
	if (!p)
		return;
	p = ot_put_fixed(p, ot_run_rel_ns(w->run, ev->ts_ns), 9, 6, 12);
	*p++ = ' ';
	if (ot_who_cache_hit(&w->who, ev)) {
		p = ot_who_cache_put(p, &w->who, 0);
		p = event_col(p, &w->event_cols, ev);
		p = ot_who_cache_put(p, &w->who, 1);
	} else {
		char *task = p, *task_end, *device;

		task_end = p = task_cols(p, ev);
		device = p = event_col(p, &w->event_cols, ev);
		p = device_cols(p, ev);
		ot_who_cache_key(&w->who, ev);
		ot_who_cache_save(&w->who, 0, task, task_end);
		ot_who_cache_save(&w->who, 1, device, p);
	}
	p = count_col(p, ev);
	p = owner_col(p, w->run, ev);
	p = ret_col(p, ev);
	if (ev->phase == OT_PHASE_EXIT)
		p = put_duration(p, ev->ts_ns - ev->entry_ns);
	*p++ = '\n';
	ot_buf_commit(b, p);

	if (r->note) {
		ot_buf_fill(b, ' ', 17);
		ot_buf_put(b, "note: ", 6);
		ot_buf_puts(b, r->note);
		ot_buf_putc(b, '\n');
	}
	print_frames(b, r->frames, w->stacks ? r->nframes : 0, 17);
}

/* ---- anomalies ---------------------------------------------------------- */

static void text_anomaly(struct ot_writer *w, const struct ot_anomaly_record *r)
{
	const struct ot_anomaly *an = r->an;
	struct ot_buf *b = &w->buf;
	char owner[32];

	ot_owner_format(w->run->tokens, an->owner, w->run->raw_pointers, owner, sizeof(owner));
	ot_buf_printf(b, "!! ANOMALY %s: group %d, %s%.*s%s%.*s, %s, task %.*s (tid %u, cpu %u) at %.6f s\n",
		      ot_anomaly_kind_name(an->kind), an->group, an->device[0] ? "device " : "no device",
		      OT_DEV_NAME_LEN, an->device, an->driver[0] ? " driver " : "", OT_DRV_NAME_LEN, an->driver,
		      an->owner ? owner : "no owner", OT_COMM_LEN, an->comm, an->tid, an->cpu,
		      ot_rel_seconds(w->run, an->ts_ns));
	ot_buf_printf(b, "   %s\n", an->message);
	if (an->ntimeline) {
		ot_buf_puts(b, "   timeline:\n");
		for (int i = 0; i < an->ntimeline; i++)
			ot_buf_printf(b, "     %12.6f  tid %-7u %s\n", ot_rel_seconds(w->run, an->timeline[i].ts_ns),
				      an->timeline[i].tid, an->timeline[i].text);
	}
	if (r->nframes) {
		ot_buf_puts(b, "   stack of this call:\n");
		print_frames(b, r->frames, r->nframes, 5);
	}
	if (r->npair) {
		ot_buf_printf(b, "   stack of the call it pairs with%s%.*s:\n", an->other_device[0] ? " on " : "",
			      OT_DEV_NAME_LEN, an->other_device);
		print_frames(b, r->pair_frames, r->npair, 5);
	}
}

/* ---- the summary -------------------------------------------------------- */

static void text_summary(struct ot_writer *w, const struct ot_analysis *shadow, uint64_t end_ns)
{
	const struct ot_stats *s = &w->run->stats;
	struct ot_summary_data d;
	struct ot_buf *b = &w->buf;
	uint64_t nanom = ot_stats_anomalies(s);
	char owner[32];

	ot_summary_collect(&d, s, shadow);
	ot_buf_printf(b, "\nownertrace summary: %.1f s, mode %s, %" PRIu64 " events (%" PRIu64 " shown)\n",
		      s->duration_s, s->mode ? s->mode : "-", d.total, s->shown);
	for (int i = 0; i < d.ncounts; i++)
		if (d.counts[i].count)
			ot_buf_printf(b, "  %-22s %10" PRIu64 "\n", d.counts[i].name, d.counts[i].count);
	ot_buf_printf(b, "  lost: %" PRIu64 " ring-buffer drops, %" PRIu64 " calls not tracked (in-flight table full), ",
		      s->bpf[OT_CNT_RINGBUF_DROPS], s->bpf[OT_CNT_STASH_FULL]);
	if (s->kretprobe_misses >= 0)
		ot_buf_printf(b, "%" PRId64 " kretprobe misses\n", s->kretprobe_misses);
	else
		ot_buf_printf(b, "kretprobe misses %s\n",
			      s->mode && !strcmp(s->mode, "kprobe") ? "not measurable (no tracefs)" : "n/a");
	if (s->bpf[OT_CNT_EXIT_WITHOUT_ENTRY])
		ot_buf_printf(b, "  %" PRIu64 " returns without a traced entry (calls already running at start%s)\n",
			      s->bpf[OT_CNT_EXIT_WITHOUT_ENTRY], s->skipped_runs ? ", or whose entry the kernel skipped" : "");
	if (s->bpf[OT_CNT_STACK_FAILED])
		ot_buf_printf(b, "  %" PRIu64 " kernel stacks could not be captured\n", s->bpf[OT_CNT_STACK_FAILED]);
	if (s->skipped_runs)	/* live only: a recording does not keep it, so replays print as before */
		ot_buf_printf(b, "  %" PRIu64 " program runs skipped by the kernel: a run of the same program was in "
			      "progress on that CPU (another task's, preempted: this kernel preempts BPF programs); "
			      "those calls were not traced\n", s->skipped_runs);
	if (s->bpf[OT_CNT_RINGBUF_DROPS] || s->bpf[OT_CNT_STASH_FULL] || s->skipped_runs)
		ot_buf_puts(b, "  WARNING: events were lost; the ownership analysis may be incomplete\n");
	if (shadow) {
		struct ot_analysis_footprint fp;

		ot_analysis_footprint(shadow, &fp);
		if (fp.losses)
			ot_buf_printf(b, "  the shadow resynced from the kernel's values after %" PRIu64 " %s of lost "
				      "records (%" PRIu64 " group %s corrected)\n", fp.losses,
				      fp.losses == 1 ? "gap" : "gaps", fp.resyncs, fp.resyncs == 1 ? "state" : "states");
	}
	ot_buf_printf(b, "  anomalies: %" PRIu64, nanom);
	for (int k = 0, first = 1; k < OT_AN_KIND_COUNT; k++)
		if (s->anomalies[k]) {
			ot_buf_printf(b, "%s%s %" PRIu64, first ? " (" : ", ", ot_anomaly_kind_name(k), s->anomalies[k]);
			first = 0;
		}
	ot_buf_printf(b, "%s\n", nanom ? ")" : "");
	ot_buf_printf(b, "  outstanding claims: %d\n", d.nclaims);
	for (int i = 0; i < d.nclaims; i++) {
		const struct ot_outstanding_claim *c = &d.claims[i];
		int nf = 0;
		const char *const *frames = w->run->stacks ? ot_stacks_get(w->run->stacks, c->stack_id, &nf) : NULL;

		ot_owner_format(w->run->tokens, c->owner, w->run->raw_pointers, owner, sizeof(owner));
		if (c->baseline)
			ot_buf_printf(b, "    group %d by %s (depth %u): held since before the trace started\n", c->group,
				      owner, c->depth);
		else
			ot_buf_printf(b, "    group %d by %s (depth %u): held for %.3f s, claimed by %s%s%s%s%s\n",
				      c->group, owner, c->depth, (double)(end_ns - c->since_ns) / 1e9, c->comm,
				      c->device[0] ? " in the probe of " : "", c->device, c->driver[0] ? " by " : "",
				      c->driver);
		print_frames(b, frames, nf < 6 ? nf : 6, 6);
	}
	ot_buf_printf(b, "  outstanding default-domain uses seen taken: %d", d.nuses);
	for (int i = 0; i < d.nuses && i < 8; i++)
		ot_buf_printf(b, "%s%s (%s, group %d)", i ? ", " : ": ", d.uses[i].device, d.uses[i].driver,
			      d.uses[i].group);
	ot_buf_printf(b, "%s\n", d.nuses > 8 ? ", ..." : "");
}

/* ---- histograms --------------------------------------------------------- */

#define STARS_MAX 40	/* bcc's bar width */

static void put_value(struct ot_buf *b, uint64_t th)
{
	ot_buf_printf(b, "%" PRIu64 ".%03" PRIu64, th / 1000, th % 1000);
}

static void put_stars(struct ot_buf *b, uint64_t val, uint64_t val_max, unsigned int width)
{
	uint64_t n;

	/* bcc's val * width / val_max, without the product wrapping */
	if (val >= val_max)
		n = width;
	else if (val <= UINT64_MAX / width)
		n = val * width / val_max;
	else
		n = (uint64_t)((long double)val / val_max * width);
	if (n > width)
		n = width;
	ot_buf_fill(b, '*', n);
	ot_buf_fill(b, ' ', width - n);
}

void ot_text_hist(struct ot_buf *b, struct ot_hist *h, enum ot_hist_unit unit)
{
	uint64_t rows[OT_HIST_NSLOTS], max;
	const char *u = ot_hist_unit_suffix(unit);
	struct ot_hist_stats st;
	unsigned int first, last;
	bool wide;
	int w;

	if (ot_hist_stats(h, &st)) {
		ot_buf_puts(b, "no samples\n");
		return;
	}
	max = ot_hist_rows(h, unit, rows, &first, &last);
	/* bcc widens the columns once a range needs more than 10 digits
	 * (its idx_max > 32; its slots are ours minus one) */
	wide = last > 33;
	w = wide ? 20 : 10;
	ot_buf_printf(b, "%*s%-*s : count    distribution\n", wide ? 15 : 5, "", wide ? 29 : 19,
		      ot_hist_unit_name(unit));
	for (unsigned int r = first; r <= last; r++) {
		ot_buf_printf(b, "%*" PRIu64 " -> %-*" PRIu64 " : %-8" PRIu64 " |", w, ot_hist_row_low(r), w,
			      ot_hist_row_high(r), rows[r]);
		put_stars(b, rows[r], max, wide ? STARS_MAX / 2 : STARS_MAX);
		ot_buf_puts(b, "|\n");
	}
	ot_buf_printf(b, "count %" PRIu64 "  min ", st.count);
	put_value(b, ot_hist_thousandths(st.min_ns, unit));
	ot_buf_printf(b, " %s  avg ", u);
	put_value(b, ot_hist_avg_thousandths(&st, unit));
	ot_buf_printf(b, " %s  p50 ", u);
	put_value(b, ot_hist_thousandths(st.p50_ns, unit));
	ot_buf_printf(b, " %s  p90 ", u);
	put_value(b, ot_hist_thousandths(st.p90_ns, unit));
	ot_buf_printf(b, " %s  p99 ", u);
	put_value(b, ot_hist_thousandths(st.p99_ns, unit));
	ot_buf_printf(b, " %s  max ", u);
	put_value(b, ot_hist_thousandths(st.max_ns, unit));
	ot_buf_printf(b, " %s\n", u);
}

/* Keys are kernel strings, not guaranteed printable: a newline in one would
 * split its header line, so control bytes and non-ASCII show as '?'. */
static void put_key(struct ot_buf *b, const char *key)
{
	if (!*key) {
		ot_buf_putc(b, '-');
		return;
	}
	for (; *key; key++) {
		unsigned char c = (unsigned char)*key;

		ot_buf_putc(b, c < 0x20 || c >= 0x7f ? '?' : (char)c);
	}
}

void ot_text_hist_table(struct ot_buf *b, struct ot_hist_table *t, const char *key_label, enum ot_hist_unit unit)
{
	for (int i = 0; i < ot_hist_table_count(t); i++) {
		int kind;
		const char *key;
		struct ot_hist *h = ot_hist_table_get(t, i, &kind, &key);

		if (!ot_hist_count(h))
			continue;	/* a key seen in an earlier interval only */
		ot_buf_printf(b, "\n%s %s = ", ot_hist_table_kind_name(t, kind), key_label);
		put_key(b, key);
		ot_buf_putc(b, '\n');
		ot_text_hist(b, h, unit);
	}
}

static void text_histograms(struct ot_writer *w, const struct ot_hist_record *r)
{
	bool any = false;

	for (int i = 0; i < ot_hist_table_count(r->table) && !any; i++)
		any = ot_hist_count(ot_hist_table_get(r->table, i, NULL, NULL)) > 0;
	if (r->interval)
		ot_buf_printf(&w->buf, "\n--- interval %d, %.1f s ---\n", r->interval, r->at_s);
	if (any)
		ot_text_hist_table(&w->buf, r->table, ot_hist_by_name(r->by), r->unit);
	else
		ot_buf_printf(&w->buf, "\nno probe, remove, dma_configure, claim or release finished%s\n",
			      r->interval ? " in this interval" : "");
}

/* ---- the regression gate's report --------------------------------------- */

static const char *fmt_ns(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000000)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else if (ns < 10000000000ULL)
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", ns / 1e9);
	return buf;
}

static const char *fmt_change(uint64_t base, uint64_t cand, char *buf, size_t len)
{
	if (!base)
		snprintf(buf, len, "%s", cand ? "new" : "=");
	else
		snprintf(buf, len, "%+.0f%%", ((double)cand - (double)base) * 100.0 / (double)base);
	return buf;
}

static const char *const section_titles[OT_DIFF_CATEGORY_COUNT] = {
	[OT_DIFF_NEW_ANOMALY] = "NEW ANOMALIES",
	[OT_DIFF_SEQUENCE_CHANGE] = "OWNERSHIP SEQUENCES THAT CHANGED SHAPE",
	[OT_DIFF_LATENCY] = "LATENCY REGRESSIONS",
	[OT_DIFF_COUNT_CHANGE] = "SAME SEQUENCES, OTHER COUNTS",
	[OT_DIFF_GONE_ANOMALY] = "ANOMALIES GONE (better)",
	[OT_DIFF_INCONCLUSIVE] = "LATENCY NOT COMPARED",
};

static void print_latency_line(struct ot_buf *b, const struct ot_diff_latency *l, const struct ot_diff_opts *o)
{
	char b50[24], c50[24], b99[24], c99[24], ch50[16], ch99[16];

	if (!l->enough) {
		ot_buf_printf(b, "  %-13s %-18s too few samples to conclude: %" PRIu64 " and %" PRIu64
			      " calls (--min-samples %u)\n", l->kind, l->name, l->base_n, l->cand_n, o->min_samples);
		return;
	}
	ot_buf_printf(b, "  %-13s %-18s p50 %s -> %s (%s)%s  %s %s -> %s (%s)%s  n %" PRIu64 "/%" PRIu64 "\n",
		      l->kind, l->name, fmt_ns(l->base_p50, b50, sizeof(b50)), fmt_ns(l->cand_p50, c50, sizeof(c50)),
		      fmt_change(l->base_p50, l->cand_p50, ch50, sizeof(ch50)), l->p50_regressed ? " !" : "",
		      l->enough_p99 ? "p99" : "max", fmt_ns(l->base_p99, b99, sizeof(b99)),
		      fmt_ns(l->cand_p99, c99, sizeof(c99)), fmt_change(l->base_p99, l->cand_p99, ch99, sizeof(ch99)),
		      l->p99_regressed ? " !" : "", l->base_n, l->cand_n);
}

static void print_finding(struct ot_buf *b, const struct ot_diff *d, const struct ot_diff_finding *x,
			  const struct ot_diff_opts *o)
{
	switch (x->category) {
	case OT_DIFF_NEW_ANOMALY:
	case OT_DIFF_GONE_ANOMALY:
		ot_buf_printf(b, "  %-24s %s: %" PRIu64 " (baseline %" PRIu64 ")\n", x->what, x->subject, x->cand,
			      x->base);
		if (x->example)
			ot_buf_printf(b, "      %s\n", x->example);
		break;
	case OT_DIFF_SEQUENCE_CHANGE:
	case OT_DIFF_COUNT_CHANGE:
	{
		int width = (int)strlen(x->subject) - 4;	/* the shapes column, at least as wide as the subject */

		for (int i = x->first_shape; i < x->first_shape + x->nshapes; i++)
			if ((int)strlen(d->shapes[i].shape) > width)
				width = (int)strlen(d->shapes[i].shape);
		ot_buf_printf(b, "  %-*s baseline candidate\n", width + 4, x->subject);
		for (int i = x->first_shape; i < x->first_shape + x->nshapes; i++) {
			const struct ot_diff_shape *s = &d->shapes[i];
			char mark = !s->base ? '+' : !s->cand ? '-' : s->base != s->cand ? '~' : ' ';

			ot_buf_printf(b, "    %c %-*s %8" PRIu64 " %9" PRIu64 "\n", mark, width, s->shape, s->base,
				      s->cand);
		}
		break;
	}
	case OT_DIFF_LATENCY:
	case OT_DIFF_INCONCLUSIVE:
		print_latency_line(b, &d->latency[x->latency], o);
		break;
	default:
		break;
	}
}

static void print_gate(struct ot_buf *b, const struct ot_diff_opts *o)
{
	char floor[24];
	const char *sep = "";

	ot_buf_puts(b, "  gate:      fail on ");
	for (int c = 0; c < OT_DIFF_CATEGORY_COUNT; c++)
		if ((o->fail_on >> c) & 1) {
			ot_buf_printf(b, "%s%s", sep, ot_diff_category_name(c));
			sep = ",";
		}
	if (!*sep)
		ot_buf_puts(b, "nothing (report only)");
	ot_buf_puts(b, "; latency: ");
	if (o->max_p50_regress >= 0)
		ot_buf_printf(b, "p50 +%.0f%%, ", o->max_p50_regress * 100);
	if (o->max_p99_regress >= 0)
		ot_buf_printf(b, "p99 +%.0f%%, ", o->max_p99_regress * 100);
	ot_buf_printf(b, "growth >= %s, >= %u samples (p99: %d)\n", fmt_ns(o->min_change_ns, floor, sizeof(floor)),
		      o->min_samples, o->min_samples > OT_DIFF_P99_SAMPLES ? (int)o->min_samples : OT_DIFF_P99_SAMPLES);
}

static void text_diff(struct ot_writer *w, const struct ot_diff_record *r)
{
	const struct ot_diff *d = r->diff;
	const struct ot_diff_opts *o = r->opts;
	struct ot_buf *b = &w->buf;
	const char *sep = "";
	int i = 0;

	ot_buf_printf(b, "ownertrace diff: %s", d->fail ? "FAIL" : "PASS");
	for (int c = 0; c < OT_DIFF_CATEGORY_COUNT; c++)
		if (d->gated[c]) {
			ot_buf_printf(b, "%s %d %s", *sep ? "," : " -", d->gated[c], ot_diff_category_name(c));
			sep = ",";
		}
	ot_buf_printf(b, "\n  baseline:  %s (kernel %s, %" PRIu64 " events)\n", r->base->label,
		      r->base->kernel && *r->base->kernel ? r->base->kernel : "unknown", r->base->events);
	ot_buf_printf(b, "  candidate: %s (kernel %s, %" PRIu64 " events)\n", r->cand->label,
		      r->cand->kernel && *r->cand->kernel ? r->cand->kernel : "unknown", r->cand->events);
	print_gate(b, o);
	if (!d->ownership_compared)
		ot_buf_printf(b, "  ownership sequences and anomalies not compared: %s has no events "
				 "(a --hist-only recording); latency only\n",
			      r->base->events ? "the candidate" : "the baseline");
	while (i < d->nfindings) {
		enum ot_diff_category c = d->findings[i].category;
		int shown = 0, start = i;

		ot_buf_printf(b, "\n%s%s\n", section_titles[c],
			      (OT_DIFF_GATEABLE >> c & 1) && !(o->fail_on >> c & 1) ? " (not gated)" : "");
		for (; i < d->nfindings && d->findings[i].category == c; i++)
			if (shown < r->max_rows || r->max_rows <= 0) {
				print_finding(b, d, &d->findings[i], o);
				shown++;
			}
		if (i - start > shown)
			ot_buf_printf(b, "  ... and %d more (--json lists all)\n", i - start - shown);
	}
	ot_buf_printf(b, "\n%d devices and groups compared, %d unchanged; %d latency series compared, %d regressed.\n",
		      d->subjects, d->subjects_same, d->nlatency, d->gated[OT_DIFF_LATENCY]);
}

static void text_census(struct ot_writer *w, const struct ot_census_record *r)
{
	struct ot_census_style style;

	ot_census_style_of(&style, w->run, r);
	ot_census_write_text(&w->buf, r->census, &style);
}

const struct ot_writer_ops ot_text_writer = {
	.name = "text",
	.machine = false,
	.event = text_event,
	.anomaly = text_anomaly,
	.summary = text_summary,
	.histograms = text_histograms,
	.diff = text_diff,
	.census = text_census,
};

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The JSON Lines format: one object per record, every one with "type" and
 * "schema" (docs/schema/ownertrace-jsonl.schema.json). Events are written
 * member by member into the buffer (util/json.c, no printf); the rarer
 * records use the same writer.
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
#include "util/json.h"

static void json_int_or_null(struct ot_json *j, const char *key, bool have, int64_t v)
{
	if (have)
		ot_json_int(j, key, v);
	else
		ot_json_null(j, key);
}

static void json_name(struct ot_json *j, const char *key, const char *name, size_t max)
{
	ot_json_strn(j, key, name[0] ? name : NULL, max);
}

/*
 * The event record is written at a cursor (util/outbuf.h) into room for its
 * widest case, reserved once: every string escaped at six bytes a byte.
 * The members are the schema's, in its order; a note or a stack follows
 * through the member writer.
 */
#define JSON_EVENT_MAX                                                                                     \
	(320 /* keys and literals: 313 */ + 200 /* ten numbers, the time at OT_PUT_FIXED_MAX */ +          \
	 OT_JSON_STRING_MAX(32) /* event */ + OT_JSON_STRING_MAX(OT_FUNC_NAME_LEN) +                      \
	 OT_JSON_STRING_MAX(OT_COMM_LEN) + OT_JSON_STRING_MAX(OT_DEV_NAME_LEN) +                          \
	 OT_JSON_STRING_MAX(OT_BUS_NAME_LEN) + OT_JSON_STRING_MAX(OT_DRV_NAME_LEN) +                      \
	 2 * OT_JSON_STRING_MAX(32) /* owners */ + OT_JSON_STRING_MAX(32) /* errno */)

/* A kernel name, null for an empty one */
static char *put_name(char *p, const char *name, size_t size)
{
	return name[0] ? ot_json_put_field(p, name, size) : ot_put_lit(p, "null");
}

static char *put_int_or_null(char *p, bool have, int64_t v)
{
	return have ? ot_put_i64(p, v) : ot_put_lit(p, "null");
}

/* "event", "phase" and "function": the call_cache's text (output/call_cache.h) */
static char *render_call(char *p, const struct ot_event *ev, const struct ot_binding *bound)
{
	size_t name_len;
	const char *name = ot_event_name_len(ev->point, ev->phase, &name_len);

	p = ot_put(ot_put_lit(p, ",\"event\":\""), name, name_len);	/* ours: nothing to escape */
	p = ev->phase == OT_PHASE_EXIT ? ot_put_lit(p, "\",\"phase\":\"exit\",\"function\":")
				       : ot_put_lit(p, "\",\"phase\":\"enter\",\"function\":");
	return bound ? put_name(p, bound->function, sizeof(bound->function)) : ot_put_lit(p, "null");
}

static char *put_call(char *p, struct ot_call_cache *c, const struct ot_event *ev, const struct ot_binding *bound)
{
	struct ot_call_text *t;
	char *start = p;

	if (!bound)	/* no bindings (or no such point): nothing to key the text on */
		return render_call(p, ev, NULL);
	t = ot_call_slot(c, ev->point, ev->phase);
	if (ot_call_text_valid(t, bound->function))
		return ot_call_text_put(p, t);
	p = render_call(p, ev, bound);
	ot_call_text_save(t, bound->function, start, p);
	return p;
}

/* The members from "cpu" to "group": the who_cache's one segment (output/who_cache.h). */
#define JSON_WHO_MAX                                                                                       \
	(65 /* keys */ + 41 /* four numbers */ + OT_JSON_STRING_MAX(OT_COMM_LEN) +                        \
	 OT_JSON_STRING_MAX(OT_DEV_NAME_LEN) + OT_JSON_STRING_MAX(OT_BUS_NAME_LEN) +                       \
	 OT_JSON_STRING_MAX(OT_DRV_NAME_LEN))
_Static_assert(JSON_WHO_MAX <= OT_WHO_TEXT_MAX, "the who_cache's segment is too small for JSON");

static char *put_who(char *p, struct ot_who_cache *c, const struct ot_event *ev)
{
	char *start = p;

	if (ot_who_cache_hit(c, ev))
		return ot_who_cache_put(p, c, 0);
	p = ot_put_u64(ot_put_lit(p, ",\"cpu\":"), ev->cpu);
	p = ot_put_u64(ot_put_lit(p, ",\"pid\":"), ev->pid);
	p = ot_put_u64(ot_put_lit(p, ",\"tid\":"), ev->tid);
	p = ot_json_put_field(ot_put_lit(p, ",\"comm\":"), ev->comm, OT_COMM_LEN);
	p = put_name(ot_put_lit(p, ",\"device\":"), ev->device, OT_DEV_NAME_LEN);
	p = put_name(ot_put_lit(p, ",\"bus\":"), ev->bus, OT_BUS_NAME_LEN);
	p = put_name(ot_put_lit(p, ",\"driver\":"), ev->driver, OT_DRV_NAME_LEN);
	p = put_int_or_null(ot_put_lit(p, ",\"group\":"), ev->group_id >= 0, ev->group_id);
	ot_who_cache_key(c, ev);
	ot_who_cache_save(c, 0, start, p);
	return p;
}

static char *put_owner(char *p, const struct ot_run *run, uint64_t owner)
{
	char buf[32];

	if (!owner)
		return ot_put_lit(p, "null");
	return ot_json_put_cstr(p, ot_owner_format(run->tokens, owner, run->raw_pointers, buf, sizeof(buf)));
}

/* "ret" and "errno": both null for a call without a return value (most), as one literal */
static char *put_ret(char *p, const struct ot_event *ev)
{
	const char *errno_name;

	if (!ot_event_has_return(ev))
		return ot_put_lit(p, ",\"ret\":null,\"errno\":null");
	errno_name = ot_event_errno(ev);
	p = ot_put_i64(ot_put_lit(p, ",\"ret\":"), ev->ret);
	p = ot_put_lit(p, ",\"errno\":");
	return errno_name ? ot_json_put_cstr(p, errno_name) : ot_put_lit(p, "null");
}

static void jsonl_event(struct ot_writer *w, const struct ot_event_record *r)
{
	const struct ot_event *ev = r->ev;
	const struct ot_binding *bound = w->run->bindings && ev->point < OT_POINT_COUNT
						 ? &w->run->bindings->point[ev->point] : NULL;
	bool exit = ev->phase == OT_PHASE_EXIT;
	struct ot_json j = { .b = &w->buf, .first = false };
	char *p;

	_Static_assert(OT_JSONL_SCHEMA_VERSION == 2, "the event record below is schema 2's");
	p = ot_buf_begin(&w->buf, JSON_EVENT_MAX);
	if (!p)
		return;
	p = ot_put_lit(p, "{\"type\":\"event\",\"schema\":2,\"ts_ns\":");
	p = ot_put_u64_high_cached(p, ev->ts_ns, &w->ts_high);
	p = ot_put_lit(p, ",\"time\":");
	p = ot_put_ns_as_seconds_high_cached(p, ot_run_rel_ns(w->run, ev->ts_ns), &w->time_high);
	p = put_call(p, &w->calls, ev, bound);
	p = put_who(p, &w->who, ev);
	p = ot_put_u64(ot_put_lit(p, ",\"owner_cnt_before\":"), ev->owner_cnt_before);
	p = ot_put_u64(ot_put_lit(p, ",\"owner_cnt_after\":"), ev->owner_cnt_after);
	if (!ev->owner_before && !ev->owner_after) {	/* most calls: no owner, one literal */
		p = ot_put_lit(p, ",\"owner_before\":null,\"owner_after\":null");
	} else {
		p = put_owner(ot_put_lit(p, ",\"owner_before\":"), w->run, ev->owner_before);
		p = put_owner(ot_put_lit(p, ",\"owner_after\":"), w->run, ev->owner_after);
	}
	p = put_ret(p, ev);
	p = ot_put_lit(p, ",\"duration_ns\":");
	p = exit ? ot_put_u64(p, ev->ts_ns - ev->entry_ns) : ot_put_lit(p, "null");
	p = put_int_or_null(ot_put_lit(p, ",\"stack_id\":"), ev->stack_id >= 0, ev->stack_id);
	if (!(ev->flags & OT_EVF_CONCURRENT) && !r->note && !w->stacks) {	/* the common end, one literal */
		ot_buf_commit(&w->buf, ot_put_lit(p, ",\"concurrent\":false,\"note\":null}\n"));
		return;
	}
	p = ev->flags & OT_EVF_CONCURRENT ? ot_put_lit(p, ",\"concurrent\":true")
					  : ot_put_lit(p, ",\"concurrent\":false");
	ot_buf_commit(&w->buf, p);
	ot_json_str(&j, "note", r->note);
	if (w->stacks)
		ot_json_str_array(&j, "stack", r->frames, r->nframes, OT_FRAME_LEN);
	ot_json_end(&j);
}

static void jsonl_anomaly(struct ot_writer *w, const struct ot_anomaly_record *r)
{
	const struct ot_anomaly *an = r->an;
	struct ot_buf *b = &w->buf;
	struct ot_json j;
	char owner[32];

	ot_owner_format(w->run->tokens, an->owner, w->run->raw_pointers, owner, sizeof(owner));
	ot_json_begin_record(&j, b, "anomaly");
	ot_json_str(&j, "kind", ot_anomaly_kind_name(an->kind));
	ot_json_uint(&j, "ts_ns", an->ts_ns);
	ot_json_double(&j, "time", ot_rel_seconds(w->run, an->ts_ns));
	json_int_or_null(&j, "group", an->group >= 0, an->group);
	json_name(&j, "device", an->device, OT_DEV_NAME_LEN);
	json_name(&j, "driver", an->driver, OT_DRV_NAME_LEN);
	json_name(&j, "other_device", an->other_device, OT_DEV_NAME_LEN);
	json_name(&j, "other_driver", an->other_driver, OT_DRV_NAME_LEN);
	ot_json_str(&j, "owner", an->owner ? owner : NULL);
	ot_json_strn(&j, "comm", an->comm, OT_COMM_LEN);
	ot_json_uint(&j, "pid", an->pid);
	ot_json_uint(&j, "tid", an->tid);
	ot_json_uint(&j, "cpu", an->cpu);
	ot_json_str(&j, "message", an->message);
	ot_json_key(&j, "timeline");
	ot_buf_putc(b, '[');
	for (int i = 0; i < an->ntimeline; i++) {
		ot_buf_printf(b, "%s{\"time\":%.9f,\"tid\":%u,\"text\":", i ? "," : "",
			      ot_rel_seconds(w->run, an->timeline[i].ts_ns), an->timeline[i].tid);
		ot_json_write_string(b, an->timeline[i].text, sizeof(an->timeline[i].text));
		ot_buf_putc(b, '}');
	}
	ot_buf_putc(b, ']');
	json_int_or_null(&j, "stack_id", an->stack_id >= 0, an->stack_id);
	ot_json_str_array(&j, "stack", r->frames, r->nframes, OT_FRAME_LEN);
	json_int_or_null(&j, "pair_stack_id", an->pair_stack_id >= 0, an->pair_stack_id);
	ot_json_str_array(&j, "pair_stack", r->pair_frames, r->npair, OT_FRAME_LEN);
	ot_json_end(&j);
}

static void jsonl_summary(struct ot_writer *w, const struct ot_analysis *shadow, uint64_t end_ns)
{
	const struct ot_stats *s = &w->run->stats;
	struct ot_buf *b = &w->buf;
	struct ot_summary_data d;
	struct ot_json j;
	char owner[32];

	ot_summary_collect(&d, s, shadow);
	ot_json_begin_record(&j, b, "summary");
	ot_json_str(&j, "mode", s->mode);
	ot_json_double(&j, "duration_s", s->duration_s);
	ot_json_uint(&j, "events_total", d.total);
	ot_json_uint(&j, "events_shown", s->shown);
	{
		struct ot_json ev;

		ot_json_begin_object(&j, "events", &ev);
		for (int i = 0; i < d.ncounts; i++)
			ot_json_uint(&ev, d.counts[i].name, d.counts[i].count);
		ot_json_close(&ev);
	}
	ot_json_uint(&j, "ringbuf_drops", s->bpf[OT_CNT_RINGBUF_DROPS]);
	ot_json_uint(&j, "inflight_full", s->bpf[OT_CNT_STASH_FULL]);
	ot_json_uint(&j, "exit_without_entry", s->bpf[OT_CNT_EXIT_WITHOUT_ENTRY]);
	ot_json_uint(&j, "stack_failures", s->bpf[OT_CNT_STACK_FAILED]);
	json_int_or_null(&j, "kretprobe_misses", s->kretprobe_misses >= 0, s->kretprobe_misses);
	ot_json_uint(&j, "anomalies_total", ot_stats_anomalies(s));
	{
		struct ot_json an;

		ot_json_begin_object(&j, "anomalies", &an);
		for (int k = 0; k < OT_AN_KIND_COUNT; k++)
			ot_json_uint(&an, ot_anomaly_kind_name(k), s->anomalies[k]);
		ot_json_close(&an);
	}
	ot_json_key(&j, "outstanding_claims");
	ot_buf_putc(b, '[');
	for (int i = 0; i < d.nclaims; i++) {
		const struct ot_outstanding_claim *c = &d.claims[i];
		struct ot_json cj;
		int nf = 0;
		const char *const *frames = w->run->stacks ? ot_stacks_get(w->run->stacks, c->stack_id, &nf) : NULL;

		if (i)
			ot_buf_putc(b, ',');
		ot_json_begin(&cj, b);
		ot_json_int(&cj, "group", c->group);
		ot_json_str(&cj, "owner", ot_owner_format(w->run->tokens, c->owner, w->run->raw_pointers, owner,
							  sizeof(owner)));
		ot_json_uint(&cj, "depth", c->depth);
		ot_json_bool(&cj, "before_trace", c->baseline);
		if (c->baseline)
			ot_json_null(&cj, "age_s");
		else
			ot_json_double(&cj, "age_s", (double)(end_ns - c->since_ns) / 1e9);
		ot_json_strn(&cj, "comm", c->comm[0] ? c->comm : NULL, OT_COMM_LEN);
		ot_json_strn(&cj, "in_probe_of", c->device[0] ? c->device : NULL, OT_DEV_NAME_LEN);
		ot_json_strn(&cj, "driver", c->driver[0] ? c->driver : NULL, OT_DRV_NAME_LEN);
		ot_json_str_array(&cj, "stack", frames, nf, OT_FRAME_LEN);
		ot_json_close(&cj);
	}
	ot_buf_putc(b, ']');
	ot_json_key(&j, "outstanding_uses");
	ot_buf_putc(b, '[');
	for (int i = 0; i < d.nuses; i++) {
		struct ot_json uj;

		if (i)
			ot_buf_putc(b, ',');
		ot_json_begin(&uj, b);
		ot_json_int(&uj, "group", d.uses[i].group);
		ot_json_strn(&uj, "device", d.uses[i].device, OT_DEV_NAME_LEN);
		ot_json_strn(&uj, "driver", d.uses[i].driver, OT_DRV_NAME_LEN);
		ot_json_close(&uj);
	}
	ot_buf_putc(b, ']');
	ot_json_end(&j);
}

/* ---- histograms --------------------------------------------------------- */

static void json_value(struct ot_buf *b, const char *name, bool have, uint64_t th)
{
	ot_buf_printf(b, ",\"%s\":", name);
	if (have)
		ot_buf_printf(b, "%" PRIu64 ".%03" PRIu64, th / 1000, th % 1000);
	else
		ot_buf_puts(b, "null");
}

/* The members of ot_jsonl_hist(), without the braces. */
static void hist_members(struct ot_buf *b, struct ot_hist *h, enum ot_hist_unit unit)
{
	uint64_t rows[OT_HIST_NSLOTS];
	struct ot_hist_stats st;
	unsigned int first, last;
	bool have = ot_hist_stats(h, &st) == 0;

	ot_buf_puts(b, "\"unit\":");
	ot_json_write_string(b, ot_hist_unit_name(unit), SIZE_MAX);
	ot_buf_printf(b, ",\"count\":%" PRIu64, st.count);
	json_value(b, "min", have, ot_hist_thousandths(st.min_ns, unit));
	json_value(b, "avg", have, have ? ot_hist_avg_thousandths(&st, unit) : 0);
	json_value(b, "p50", have, ot_hist_thousandths(st.p50_ns, unit));
	json_value(b, "p90", have, ot_hist_thousandths(st.p90_ns, unit));
	json_value(b, "p99", have, ot_hist_thousandths(st.p99_ns, unit));
	json_value(b, "max", have, ot_hist_thousandths(st.max_ns, unit));
	ot_buf_puts(b, ",\"buckets\":[");
	ot_hist_rows(h, unit, rows, &first, &last);
	for (unsigned int r = first; have && r <= last; r++)
		ot_buf_printf(b, "%s{\"low\":%" PRIu64 ",\"high\":%" PRIu64 ",\"count\":%" PRIu64 "}",
			      r == first ? "" : ",", ot_hist_row_low(r), ot_hist_row_high(r), rows[r]);
	ot_buf_putc(b, ']');
}

void ot_jsonl_hist(struct ot_buf *b, struct ot_hist *h, enum ot_hist_unit unit)
{
	ot_buf_putc(b, '{');
	hist_members(b, h, unit);
	ot_buf_putc(b, '}');
}

void ot_jsonl_hist_table(struct ot_buf *b, struct ot_hist_table *t, const char *key_label, enum ot_hist_unit unit)
{
	for (int i = 0; i < ot_hist_table_count(t); i++) {
		int kind;
		const char *key;
		struct ot_hist *h = ot_hist_table_get(t, i, &kind, &key);
		struct ot_json j;

		if (!ot_hist_count(h))
			continue;
		ot_json_begin_record(&j, b, "histogram");
		ot_json_str(&j, "kind", ot_hist_table_kind_name(t, kind));
		ot_json_str(&j, "by", key_label);
		ot_json_str(&j, "key", key);
		ot_buf_putc(b, ',');
		hist_members(b, h, unit);
		ot_json_end(&j);
	}
}

static void jsonl_histograms(struct ot_writer *w, const struct ot_hist_record *r)
{
	if (r->interval) {
		struct ot_json j;

		ot_json_begin_record(&j, &w->buf, "interval");
		ot_json_int(&j, "n", r->interval);
		ot_json_double(&j, "time", r->at_s);
		ot_json_end(&j);
	}
	ot_jsonl_hist_table(&w->buf, r->table, ot_hist_by_name(r->by), r->unit);
}

/* ---- the regression gate's report --------------------------------------- */

static void json_counts_shape(struct ot_buf *b, const struct ot_diff_shape *s)
{
	ot_buf_puts(b, "{\"shape\":");
	ot_json_write_string(b, s->shape, strlen(s->shape));
	ot_buf_printf(b, ",\"baseline\":%" PRIu64 ",\"candidate\":%" PRIu64 "}", s->base, s->cand);
}

static void json_latency(struct ot_buf *b, const struct ot_diff_latency *l)
{
	ot_buf_puts(b, "{\"kind\":");
	ot_json_write_string(b, l->kind, strlen(l->kind));
	ot_buf_puts(b, ",\"name\":");
	ot_json_write_string(b, l->name, strlen(l->name));
	ot_buf_printf(b, ",\"baseline\":{\"count\":%" PRIu64 ",\"p50_s\":%.9f,\"p99_s\":%.9f}", l->base_n,
		      l->base_p50 / 1e9, l->base_p99 / 1e9);
	ot_buf_printf(b, ",\"candidate\":{\"count\":%" PRIu64 ",\"p50_s\":%.9f,\"p99_s\":%.9f}", l->cand_n,
		      l->cand_p50 / 1e9, l->cand_p99 / 1e9);
	ot_buf_printf(b, ",\"enough_samples\":%s,\"enough_samples_p99\":%s,\"p50_regressed\":%s,\"p99_regressed\":%s}",
		      l->enough ? "true" : "false", l->enough_p99 ? "true" : "false", l->p50_regressed ? "true" : "false",
		      l->p99_regressed ? "true" : "false");
}

static void json_side(struct ot_buf *b, const char *key, const struct ot_diff_side *s)
{
	ot_buf_printf(b, ",\"%s\":{\"source\":", key);
	ot_json_write_string(b, s->label, strlen(s->label));
	ot_buf_puts(b, ",\"kernel\":");
	ot_json_write_string(b, s->kernel ? s->kernel : "", s->kernel ? strlen(s->kernel) : 0);
	ot_buf_printf(b, ",\"events\":%" PRIu64 "}", s->events);
}

static void jsonl_diff(struct ot_writer *w, const struct ot_diff_record *r)
{
	const struct ot_diff *d = r->diff;
	const struct ot_diff_opts *o = r->opts;
	struct ot_buf *b = &w->buf;
	const char *sep = "";

	ot_buf_printf(b, "{\"type\":\"diff\",\"schema\":%d,\"verdict\":\"%s\",\"failed_by\":{", OT_JSONL_SCHEMA_VERSION,
		      d->fail ? "fail" : "pass");
	for (int c = 0; c < OT_DIFF_CATEGORY_COUNT; c++)
		if (d->gated[c]) {
			ot_buf_printf(b, "%s\"%s\":%d", sep, ot_diff_category_name(c), d->gated[c]);
			sep = ",";
		}
	ot_buf_putc(b, '}');
	json_side(b, "baseline", r->base);
	json_side(b, "candidate", r->cand);
	ot_buf_puts(b, ",\"gate\":{\"fail_on\":[");
	sep = "";
	for (int c = 0; c < OT_DIFF_CATEGORY_COUNT; c++)
		if ((o->fail_on >> c) & 1) {
			ot_buf_printf(b, "%s\"%s\"", sep, ot_diff_category_name(c));
			sep = ",";
		}
	ot_buf_putc(b, ']');
	if (o->max_p50_regress >= 0)
		ot_buf_printf(b, ",\"max_p50_regress\":%.4f", o->max_p50_regress);
	if (o->max_p99_regress >= 0)
		ot_buf_printf(b, ",\"max_p99_regress\":%.4f", o->max_p99_regress);
	ot_buf_printf(b, ",\"min_change_s\":%.9f,\"min_samples\":%u}", o->min_change_ns / 1e9, o->min_samples);
	ot_buf_puts(b, ",\"findings\":[");
	for (int i = 0; i < d->nfindings; i++) {
		const struct ot_diff_finding *x = &d->findings[i];

		ot_buf_printf(b, "%s{\"category\":\"%s\",\"gated\":%s,\"subject\":", i ? "," : "",
			      ot_diff_category_name(x->category), x->gated ? "true" : "false");
		ot_json_write_string(b, x->subject, strlen(x->subject));
		if (x->what) {
			ot_buf_puts(b, ",\"what\":");
			ot_json_write_string(b, x->what, strlen(x->what));
		}
		if (x->example) {
			ot_buf_puts(b, ",\"example\":");
			ot_json_write_string(b, x->example, strlen(x->example));
		}
		ot_buf_printf(b, ",\"baseline\":%" PRIu64 ",\"candidate\":%" PRIu64, x->base, x->cand);
		if (x->nshapes) {
			ot_buf_puts(b, ",\"shapes\":[");
			for (int s = 0; s < x->nshapes; s++) {
				if (s)
					ot_buf_putc(b, ',');
				json_counts_shape(b, &d->shapes[x->first_shape + s]);
			}
			ot_buf_putc(b, ']');
		}
		if (x->latency >= 0) {
			ot_buf_puts(b, ",\"latency\":");
			json_latency(b, &d->latency[x->latency]);
		}
		ot_buf_putc(b, '}');
	}
	ot_buf_puts(b, "],\"latency\":[");
	for (int i = 0; i < d->nlatency; i++) {
		if (i)
			ot_buf_putc(b, ',');
		json_latency(b, &d->latency[i]);
	}
	ot_buf_printf(b, "],\"ownership_compared\":%s,\"subjects\":%d,\"subjects_unchanged\":%d}\n",
		      d->ownership_compared ? "true" : "false", d->subjects, d->subjects_same);
}

static void jsonl_census(struct ot_writer *w, const struct ot_census_record *r)
{
	struct ot_census_style style;

	ot_census_style_of(&style, w->run, r);
	ot_census_write_json(&w->buf, r->census, &style);
}

const struct ot_writer_ops ot_jsonl_writer = {
	.name = "jsonl",
	.machine = true,
	.event = jsonl_event,
	.anomaly = jsonl_anomaly,
	.summary = jsonl_summary,
	.histograms = jsonl_histograms,
	.diff = jsonl_diff,
	.census = jsonl_census,
};

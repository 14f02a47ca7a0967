// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include "analysis/hist.h"
#include "util/json.h"
#include "core/owner_tokens.h"
#include "session/session.h"
#include "session/census.h"
#include "analysis/census.h"

const char *const ot_hist_kind_names[OT_HIST_KIND_COUNT] = {
	[OT_HIST_PROBE_OK] = "probe_ok",
	[OT_HIST_PROBE_FAIL] = "probe_fail",
	[OT_HIST_REMOVE] = "remove",
	[OT_HIST_DMA_CONFIGURE] = "dma_configure",
	[OT_HIST_CLAIM] = "claim",
	[OT_HIST_RELEASE] = "release",
};

const char *ot_hist_by_name(unsigned int by)
{
	return by == OT_HIST_BY_BUS ? "bus" : by == OT_HIST_BY_DEVICE ? "device" : "driver";
}

int ot_hist_kind_of(const struct ot_event *ev)
{
	unsigned int p = ev->point;

	if (ev->phase != OT_PHASE_EXIT)
		return -1;
	if (p == OT_POINT_REALLY_PROBE)
		return ev->ret ? OT_HIST_PROBE_FAIL : OT_HIST_PROBE_OK;
	if (p == OT_POINT_RELEASE_DRIVER)
		return OT_HIST_REMOVE;
	if (ot_point_is_configure(p))
		return OT_HIST_DMA_CONFIGURE;
	if (p == OT_POINT_GROUP_CLAIM || p == OT_POINT_DEVICE_CLAIM)
		return OT_HIST_CLAIM;
	if (p == OT_POINT_GROUP_RELEASE || p == OT_POINT_DEVICE_RELEASE)
		return OT_HIST_RELEASE;
	return -1;
}

const char *ot_hist_key_of(const struct ot_event *ev, unsigned int by, size_t *len)
{
	if (by == OT_HIST_BY_BUS)
		return *len = sizeof(ev->bus), ev->bus;
	if (by == OT_HIST_BY_DEVICE)
		return *len = sizeof(ev->device), ev->device;
	return *len = sizeof(ev->driver), ev->driver;
}

static void account(struct ot_pipeline *p, const struct ot_event *ev)
{
	int kind = p->hists ? ot_hist_kind_of(ev) : -1;
	const char *key;
	size_t len;

	if (kind < 0 || ev->ts_ns < ev->entry_ns)
		return;
	key = ot_hist_key_of(ev, p->hist_by, &len);
	char name[OT_DEV_NAME_LEN + 1];

	snprintf(name, sizeof(name), "%.*s", (int)len, key);
	ot_hist_table_add(p->hists, kind, name, ev->ts_ns - ev->entry_ns);
	p->hist_samples[kind]++;
}

void ot_pipeline_sample(struct ot_pipeline *p, const struct ot_sample *s)
{
	char name[OT_DEV_NAME_LEN + 1];

	if (p->recorder)
		ot_rec_write_sample(p->recorder, s);
	for (int i = 0; i < p->nsinks; i++)
		if (p->sinks[i].sample)
			p->sinks[i].sample(p->sinks[i].ctx, s);
	if (!p->hists || s->kind >= OT_HIST_KIND_COUNT)
		return;
	snprintf(name, sizeof(name), "%.*s", (int)sizeof(s->name), s->name);
	ot_hist_table_add(p->hists, s->kind, name, s->duration_ns);
	p->hist_samples[s->kind]++;
}

static bool anomaly_matches(struct ot_pipeline *p, const struct ot_anomaly *an)
{
	struct ot_event probe = { .group_id = an->group };

	if (!p->filter || !ot_filter_active(p->filter))
		return true;
	memcpy(probe.device, an->device, sizeof(probe.device));
	memcpy(probe.driver, an->driver, sizeof(probe.driver));
	if (ot_filter_match(p->filter, &probe))
		return true;
	/* the other party may be the device the user asked about */
	memcpy(probe.device, an->other_device, sizeof(probe.device));
	memcpy(probe.driver, an->other_driver, sizeof(probe.driver));
	return probe.device[0] && ot_filter_match(p->filter, &probe);
}

static void on_anomaly(void *ctx, const struct ot_anomaly *an)
{
	struct ot_pipeline *p = ctx;
	const char *const *frames, *const *pair;
	int n = 0, npair = 0;

	if (!anomaly_matches(p, an))
		return;
	p->stats.anomalies[an->kind]++;
	for (int i = 0; i < p->nsinks; i++)
		if (p->sinks[i].anomaly)
			p->sinks[i].anomaly(p->sinks[i].ctx, an);
	if (p->out.out) {	/* NULL: a pipeline that only feeds sinks (diff) */
		frames = ot_stacks_get(p->stacks, an->stack_id, &n);
		pair = ot_stacks_get(p->stacks, an->pair_stack_id, &npair);
		ot_output_anomaly(&p->out, an, frames, n, pair, npair);
	}
}

int ot_pipeline_init(struct ot_pipeline *p)
{
	struct ot_analysis_cb cb = { .ctx = p, .anomaly = on_anomaly };

	memset(&p->stats, 0, sizeof(p->stats));
	memset(p->stack_written, 0, sizeof(p->stack_written));
	p->analysis = ot_analysis_new(&cb);
	p->census = NULL;
	return p->analysis ? 0 : -ENOMEM;
}

void ot_pipeline_fini(struct ot_pipeline *p)
{
	ot_analysis_free(p->analysis);
	p->analysis = NULL;
	ot_census_track_free(p->census);
	p->census = NULL;
}

/* Each stack goes into a recording once, before the first event using it. */
static void record_stack(struct ot_pipeline *p, int32_t id)
{
	const char *const *frames;
	int n;

	if (id < 0)
		return;
	if (id < (int32_t)(sizeof(p->stack_written) * 8)) {
		if (p->stack_written[id / 8] & (1 << (id % 8)))
			return;
		p->stack_written[id / 8] |= 1 << (id % 8);
	}
	frames = ot_stacks_get(p->stacks, id, &n);
	if (frames)
		ot_rec_write_stack(p->recorder, id, frames, n);
}

void ot_pipeline_event(struct ot_pipeline *p, const struct ot_event *ev)
{
	char note_buf[200];
	const char *note;
	const char *const *frames = NULL;
	int nframes = 0;

	ot_stats_count(&p->stats, ev);
	account(p, ev);
	if (p->bounded && ev->ts_ns >= p->last_expire_ns + 1000000000ULL) {
		ot_analysis_expire(p->analysis, ev->ts_ns);
		p->last_expire_ns = ev->ts_ns;
	}
	if (p->recorder) {
		record_stack(p, ev->stack_id);
		ot_rec_write_event(p->recorder, ev);
	}
	/* tokens by first appearance in the stream, whatever is displayed */
	ot_owner_token(p->out.tokens, ev->owner_before);
	ot_owner_token(p->out.tokens, ev->owner_after);

	if (p->filter && !ot_filter_match(p->filter, ev)) {
		p->stats.filtered_out++;
		ot_analysis_event(p->analysis, ev);
		return;
	}
	if (p->print_events) {
		if (p->out.stacks)
			frames = ot_stacks_get(p->stacks, ev->stack_id, &nframes);
		note = ot_explain_refusal(ev, note_buf, sizeof(note_buf));
		ot_output_event(&p->out, ev, frames, nframes, note);
		p->stats.shown++;
	}
	for (int i = 0; i < p->nsinks; i++)
		if (p->sinks[i].event)
			p->sinks[i].event(p->sinks[i].ctx, ev);
	/* after the event itself, so an anomaly prints below the call that caused it */
	ot_analysis_event(p->analysis, ev);
}

int ot_pipeline_feed_recording(struct ot_pipeline *p, struct ot_rec_reader *r, struct ot_bindings *bindings,
			       char *err, size_t errlen)
{
	static struct ot_rec_item item;	/* large (a stack's frames); not reentrant, as replay is not */
	int rc;

	while ((rc = ot_rec_next(r, &item, err, errlen)) > 0) {
		switch (item.type) {
		case OT_REC_POINTS:
			for (unsigned int pt = 0; pt < OT_POINT_COUNT; pt++)
				memcpy(bindings->point[pt].function, item.functions[pt], OT_FUNC_NAME_LEN);
			break;
		case OT_REC_STACK:
			ot_stacks_put(p->stacks, item.stack_id, item.frames, item.nframes);
			break;
		case OT_REC_EVENT:
			ot_pipeline_event(p, &item.event);
			break;
		case OT_REC_SAMPLE:
			ot_pipeline_sample(p, &item.sample);
			break;
		case OT_REC_CENSUS:
			ot_pipeline_census(p, &item.census);
			break;
		case OT_REC_END:
			break;
		}
	}
	return rc < 0 ? -EINVAL : 0;
}

void ot_pipeline_bound(struct ot_pipeline *p)
{
	struct ot_analysis_limits limits = {
		.idle_ns = OT_BOUND_IDLE_S * 1000000000ULL,
		.max_groups = OT_BOUND_GROUPS,
		.max_uses_per_group = OT_BOUND_USES_PER_GROUP,
		.max_spans = OT_BOUND_SPANS,
	};

	p->bounded = true;
	ot_analysis_set_limits(p->analysis, &limits);
	if (p->out.tokens)
		ot_owner_tokens_set_limit(p->out.tokens, OT_BOUND_OWNERS);
}

const char *const ot_forgotten_names[OT_FORGOT_COUNT] = {
	[OT_FORGOT_GROUPS] = "group",
	[OT_FORGOT_USES] = "default_domain_use",
	[OT_FORGOT_SPANS] = "probe_or_remove",
	[OT_FORGOT_OWNERS] = "owner_token",
	[OT_FORGOT_STACKS] = "stack",
};

void ot_pipeline_forgotten(const struct ot_pipeline *p, uint64_t out[OT_FORGOT_COUNT])
{
	struct ot_analysis_footprint fp;

	ot_analysis_footprint(p->analysis, &fp);
	out[OT_FORGOT_GROUPS] = fp.forgot_groups;
	out[OT_FORGOT_USES] = fp.forgot_uses;
	out[OT_FORGOT_SPANS] = fp.forgot_spans;
	out[OT_FORGOT_OWNERS] = p->out.tokens ? ot_owner_tokens_forgotten(p->out.tokens) : 0;
	out[OT_FORGOT_STACKS] = p->stacks_dropped;
}

int ot_pipeline_add_sink(struct ot_pipeline *p, const struct ot_sink *sink)
{
	if (p->nsinks >= OT_PIPELINE_MAX_SINKS)
		return -ENOSPC;
	p->sinks[p->nsinks++] = *sink;
	return 0;
}

void ot_pipeline_tick(struct ot_pipeline *p, uint64_t now_ns)
{
	for (int i = 0; i < p->nsinks; i++)
		if (p->sinks[i].tick)
			p->sinks[i].tick(p->sinks[i].ctx, p, now_ns);
}

int ot_pipeline_finish(struct ot_pipeline *p, uint64_t end_ns)
{
	int failed = 0;

	for (int i = 0; i < p->nsinks; i++)
		if (p->sinks[i].finish && p->sinks[i].finish(p->sinks[i].ctx, p, end_ns))
			failed = 1;
	return failed;
}

void ot_pipeline_print_hists(struct ot_pipeline *p, enum ot_hist_unit unit, int interval, double at_s)
{
	FILE *out = p->out.out;
	bool any = false;

	for (int i = 0; i < ot_hist_table_count(p->hists) && !any; i++)
		any = ot_hist_count(ot_hist_table_get(p->hists, i, NULL, NULL)) > 0;
	if (p->out.json) {
		if (interval) {
			struct ot_json j;

			ot_json_begin_record(&j, out, "interval");
			ot_json_int(&j, "n", interval);
			ot_json_double(&j, "time", at_s);
			ot_json_end(&j);
		}
		ot_hist_table_print_json(out, p->hists, ot_hist_by_name(p->hist_by), unit);
	} else {
		if (interval)
			fprintf(out, "\n--- interval %d, %.1f s ---\n", interval, at_s);
		if (any)
			ot_hist_table_print(out, p->hists, ot_hist_by_name(p->hist_by), unit);
		else
			fprintf(out, "\nno probe, remove, dma_configure, claim or release finished%s\n",
				interval ? " in this interval" : "");
	}
	fflush(out);
	ot_hist_table_reset(p->hists);
}

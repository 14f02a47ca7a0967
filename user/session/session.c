// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/profile.h"
#include "core/event.h"
#include "core/owner_tokens.h"
#include "output/perfetto.h"
#include "output/prometheus.h"
#include "session/session.h"
#include "util/exit.h"
#include "session/census.h"
#include "analysis/census.h"

static void account(struct ot_session *s, const struct ot_event *ev)
{
	int kind = s->hists ? ot_hist_kind_of(ev) : -1;
	char name[OT_DEV_NAME_LEN + 1];
	const char *key;
	size_t len;

	if (kind < 0 || ev->ts_ns < ev->entry_ns)
		return;
	key = ot_hist_key_of(ev, s->hist_by, &len);
	len = strnlen(key, len);
	memcpy(name, key, len);
	name[len] = '\0';
	ot_hist_table_add(s->hists, kind, name, ev->ts_ns - ev->entry_ns);
	s->hist_samples[kind]++;
}

void ot_session_sample(struct ot_session *s, const struct ot_sample *sample)
{
	char name[OT_DEV_NAME_LEN + 1];
	size_t len;

	if (s->recorder)
		ot_rec_write_sample(s->recorder, sample);
	for (int i = 0; i < s->nsinks; i++)
		if (s->sinks[i].sample)
			s->sinks[i].sample(s->sinks[i].ctx, sample);
	if (!s->hists || sample->kind >= OT_HIST_KIND_COUNT)
		return;
	len = strnlen(sample->name, sizeof(sample->name));
	memcpy(name, sample->name, len);
	name[len] = '\0';
	ot_hist_table_add(s->hists, sample->kind, name, sample->duration_ns);
	s->hist_samples[sample->kind]++;
}

static bool anomaly_matches(struct ot_session *s, const struct ot_anomaly *an)
{
	struct ot_event probe = { .group_id = an->group };

	if (!ot_filter_active(&s->filter))
		return true;
	memcpy(probe.device, an->device, sizeof(probe.device));
	memcpy(probe.driver, an->driver, sizeof(probe.driver));
	if (ot_filter_match(&s->filter, &probe))
		return true;
	/* the other party may be the device the user asked about */
	memcpy(probe.device, an->other_device, sizeof(probe.device));
	memcpy(probe.driver, an->other_driver, sizeof(probe.driver));
	return probe.device[0] && ot_filter_match(&s->filter, &probe);
}

static void on_anomaly(void *ctx, const struct ot_anomaly *an)
{
	struct ot_session *s = ctx;
	struct ot_anomaly_record r = { .an = an };

	if (!anomaly_matches(s, an))
		return;
	s->run.stats.anomalies[an->kind]++;
	for (int i = 0; i < s->nsinks; i++)
		if (s->sinks[i].anomaly)
			s->sinks[i].anomaly(s->sinks[i].ctx, an);
	if (!s->has_out)
		return;
	r.frames = ot_stacks_get(s->run.stacks, an->stack_id, &r.nframes);
	r.pair_frames = ot_stacks_get(s->run.stacks, an->pair_stack_id, &r.npair);
	ot_write_anomaly(&s->out, &r);
}

/* Each stack goes into a recording once, before the first event using it. */
static void record_stack(struct ot_session *s, int32_t id)
{
	const char *const *frames;
	int n;

	if (id < 0)
		return;
	if (id < (int32_t)(sizeof(s->stack_written) * 8)) {
		if (s->stack_written[id / 8] & (1 << (id % 8)))
			return;
		s->stack_written[id / 8] |= 1 << (id % 8);
	}
	frames = ot_stacks_get(s->run.stacks, id, &n);
	if (frames)
		ot_rec_write_stack(s->recorder, id, frames, n);
}

void ot_session_event(struct ot_session *s, const struct ot_event *ev)
{
	struct ot_event_record r = { .ev = ev };
	char note_buf[200];

	ot_stats_count(&s->run.stats, ev);
	account(s, ev);
	if (s->bounded && ev->ts_ns >= s->last_expire_ns + 1000000000ULL) {
		ot_analysis_expire(s->shadow, ev->ts_ns);
		s->last_expire_ns = ev->ts_ns;
	}
	if (s->recorder) {
		record_stack(s, ev->stack_id);
		ot_rec_write_event(s->recorder, ev);
	}
	/* tokens by first appearance in the stream, whatever is displayed */
	ot_owner_token(s->run.tokens, ev->owner_before);
	ot_owner_token(s->run.tokens, ev->owner_after);

	if (!ot_filter_match(&s->filter, ev)) {
		s->run.stats.filtered_out++;
		ot_analysis_event(s->shadow, ev);
		return;
	}
	if (s->print_events && s->has_out) {
		if (s->out.stacks)
			r.frames = ot_stacks_get(s->run.stacks, ev->stack_id, &r.nframes);
		r.note = ot_explain_refusal(ev, note_buf, sizeof(note_buf));
		ot_write_event(&s->out, &r);
		s->run.stats.shown++;
	}
	for (int i = 0; i < s->nsinks; i++)
		if (s->sinks[i].event)
			s->sinks[i].event(s->sinks[i].ctx, ev);
	/* after the event itself, so an anomaly prints below the call that caused it */
	ot_analysis_event(s->shadow, ev);
}

int ot_session_replay(struct ot_session *s, struct ot_rec_reader *r, char *err, size_t errlen)
{
	static struct ot_rec_item item;	/* large (a stack's frames); not reentrant, as replay is not */
	int rc;

	while ((rc = ot_rec_next(r, &item, err, errlen)) > 0) {
		switch (item.type) {
		case OT_REC_POINTS:
			for (unsigned int pt = 0; pt < OT_POINT_COUNT; pt++)
				memcpy(s->bindings.point[pt].function, item.functions[pt], OT_FUNC_NAME_LEN);
			break;
		case OT_REC_STACK:
			ot_stacks_put(s->run.stacks, item.stack_id, item.frames, item.nframes);
			break;
		case OT_REC_EVENT:
			ot_session_event(s, &item.event);
			break;
		case OT_REC_SAMPLE:
			ot_session_sample(s, &item.sample);
			break;
		case OT_REC_CENSUS:
			ot_session_census(s, &item.census);
			break;
		case OT_REC_END:
			break;
		}
	}
	s->run.stats.mode = ot_mode_name(r->header.attach_mode);
	memcpy(s->run.stats.bpf, r->end.bpf, sizeof(s->run.stats.bpf));
	s->run.stats.kretprobe_misses = r->ended ? r->end.kretprobe_misses : -1;
	s->run.stats.duration_s = r->ended ? (double)(r->end.end_ns - r->header.start_ns) / 1e9 : 0;
	return rc < 0 ? -EINVAL : 0;
}

int ot_session_run_replay(const struct ot_session_opts *opts, struct ot_rec_reader *r, char *err, size_t errlen)
{
	struct ot_session_opts o = *opts;
	struct ot_session *s;
	int ret, rc, failed;

	err[0] = '\0';
	o.start_ns = r->header.start_ns;
	s = ot_session_new(&o);
	if (!s)
		return OT_EXIT_CANNOT_RUN;
	rc = ot_session_replay(s, r, err, errlen);
	ot_session_print_hists(s, 0, s->run.stats.duration_s);
	failed = ot_session_end(s, r->ended ? r->end.end_ns : r->header.start_ns);
	ret = ot_stats_anomalies(&s->run.stats) ? OT_EXIT_ANOMALIES : OT_EXIT_CLEAN;
	if (rc || failed)
		ret = OT_EXIT_CANNOT_RUN;
	ot_session_free(s);
	return ret;
}

void ot_session_forgotten(struct ot_session *s, uint64_t out[OT_FORGOT_COUNT])
{
	struct ot_analysis_footprint fp;

	ot_analysis_footprint(s->shadow, &fp);
	out[OT_FORGOT_GROUPS] = fp.forgot_groups;
	out[OT_FORGOT_USES] = fp.forgot_uses;
	out[OT_FORGOT_SPANS] = fp.forgot_spans;
	out[OT_FORGOT_OWNERS] = ot_owner_tokens_forgotten(s->run.tokens);
	out[OT_FORGOT_STACKS] = s->run.stats.stacks_dropped;
}

int ot_session_add_sink(struct ot_session *s, const struct ot_sink *sink)
{
	if (s->nsinks >= OT_SESSION_MAX_SINKS)
		return -ENOSPC;
	s->sinks[s->nsinks++] = *sink;
	return 0;
}

void ot_session_tick(struct ot_session *s, uint64_t now_ns)
{
	ot_session_forgotten(s, s->run.forgotten);
	for (int i = 0; i < s->nsinks; i++)
		if (s->sinks[i].tick)
			s->sinks[i].tick(s->sinks[i].ctx, &s->run, now_ns);
}

void ot_session_flush(struct ot_session *s)
{
	if (s->has_out)
		ot_writer_flush(&s->out);
}

void ot_session_print_hists(struct ot_session *s, int interval, double at_s)
{
	struct ot_hist_record r = { .table = s->hists, .by = s->hist_by, .unit = s->unit, .interval = interval,
				    .at_s = at_s };

	if (!s->hists)
		return;
	if (s->has_out) {
		ot_write_histograms(&s->out, &r);
		ot_writer_flush(&s->out);
	}
	ot_hist_table_reset(s->hists);
}

int ot_session_end(struct ot_session *s, uint64_t end_ns)
{
	int failed = 0;

	ot_session_forgotten(s, s->run.forgotten);
	for (int i = 0; i < s->nsinks; i++)
		if (s->sinks[i].finish && s->sinks[i].finish(s->sinks[i].ctx, &s->run, end_ns))
			failed = -1;
	/* the stream carries the summary only when a program reads it; the person always gets it */
	if (s->has_out && s->out.ops->machine)
		ot_write_summary(&s->out, s->shadow, end_ns);
	if (s->has_human) {
		ot_write_summary(&s->human, s->shadow, end_ns);
		ot_writer_flush(&s->human);
	}
	if (s->has_out && ot_writer_flush(&s->out)) {
		fprintf(stderr, "ownertrace: writing the output failed (disk full, or the reader went away)\n");
		failed = -1;
	}
	return failed;
}

/* ---- setting up --------------------------------------------------------- */

static void apply_bound(struct ot_session *s)
{
	struct ot_analysis_limits limits = {
		.idle_ns = OT_BOUND_IDLE_S * 1000000000ULL,
		.max_groups = OT_BOUND_GROUPS,
		.max_uses_per_group = OT_BOUND_USES_PER_GROUP,
		.max_spans = OT_BOUND_SPANS,
	};

	s->bounded = true;
	ot_analysis_set_limits(s->shadow, &limits);
	ot_owner_tokens_set_limit(s->run.tokens, OT_BOUND_OWNERS);
}

static int add_outputs(struct ot_session *s, const struct ot_session_opts *o)
{
	struct ot_sink sink;

	if (o->profile) {
		if (!(s->profile = ot_profile_new()))
			goto oom;
		sink = ot_profile_sink(s->profile);
		ot_session_add_sink(s, &sink);
	}
	if (o->perfetto_path) {
		if (!(s->perfetto = ot_perfetto_new(&s->run, o->perfetto_path)))
			return -1;
		sink = ot_perfetto_sink(s->perfetto);
		ot_session_add_sink(s, &sink);
	}
	if (o->prometheus_path) {
		s->prom = ot_prom_new(o->prometheus_path, o->live ? o->metrics_interval_s : 0, o->hist_by, o->live);
		if (!s->prom)
			goto oom;
		sink = ot_prom_sink(s->prom);
		ot_session_add_sink(s, &sink);
		/* a path that cannot be written fails now, not one interval into the run */
		if (o->live && ot_prom_write(s->prom, &s->run))
			return -1;
	}
	return 0;
oom:
	fprintf(stderr, "ownertrace: out of memory setting up the outputs\n");
	return -1;
}

struct ot_session *ot_session_new(const struct ot_session_opts *o)
{
	struct ot_session *s = calloc(1, sizeof(*s));
	struct ot_analysis_cb cb = { .anomaly = on_anomaly };

	if (!s)
		goto oom;
	cb.ctx = s;
	s->run.start_ns = o->start_ns;
	s->run.raw_pointers = o->raw_pointers;
	s->run.bindings = &s->bindings;
	s->run.stacks = ot_stacks_new();
	s->run.tokens = ot_owner_tokens_new();
	s->shadow = ot_analysis_new(&cb);
	s->run.shadow = s->shadow;
	if (!s->run.stacks || !s->run.tokens || !s->shadow)
		goto oom;
	s->filter = o->filter;
	s->print_events = o->print_events;
	s->recorder = o->recorder;
	s->hist_by = o->hist_by;
	s->unit = o->unit;
	if (o->hist && !(s->hists = ot_hist_table_new(ot_hist_kind_names, OT_HIST_KIND_COUNT)))
		goto oom;
	if (o->out) {
		ot_writer_init(&s->out, o->format ? o->format : &ot_text_writer, o->out, &s->run);
		s->out.stacks = o->stacks;
		s->has_out = true;
	}
	if (o->human) {
		ot_writer_init(&s->human, &ot_text_writer, o->human, &s->run);
		s->has_human = true;
	}
	if (o->bounded)
		apply_bound(s);
	if (add_outputs(s, o)) {
		ot_session_free(s);
		return NULL;
	}
	return s;
oom:
	fprintf(stderr, "ownertrace: out of memory\n");
	ot_session_free(s);
	return NULL;
}

struct ot_profile *ot_session_take_profile(struct ot_session *s)
{
	struct ot_profile *p = s->profile;

	s->profile = NULL;
	return p;
}

void ot_session_free(struct ot_session *s)
{
	if (!s)
		return;
	if (s->has_out)
		ot_writer_fini(&s->out);
	if (s->has_human)
		ot_writer_fini(&s->human);
	ot_perfetto_free(s->perfetto);
	ot_prom_free(s->prom);
	ot_profile_free(s->profile);
	ot_census_track_free(s->census);
	ot_analysis_free(s->shadow);
	ot_owner_tokens_free(s->run.tokens);
	ot_stacks_free(s->run.stacks);
	ot_hist_table_free(s->hists);
	free(s);
}

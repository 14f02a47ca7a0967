// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include "owner_tokens.h"
#include "pipeline.h"

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
	frames = ot_stacks_get(p->stacks, an->stack_id, &n);
	pair = ot_stacks_get(p->stacks, an->pair_stack_id, &npair);
	fflush(p->out.out);
	ot_output_anomaly(&p->out, an, frames, n, pair, npair);
	fflush(p->out.out);
}

int ot_pipeline_init(struct ot_pipeline *p)
{
	struct ot_analysis_cb cb = { .ctx = p, .anomaly = on_anomaly };

	memset(&p->stats, 0, sizeof(p->stats));
	memset(p->stack_written, 0, sizeof(p->stack_written));
	p->analysis = ot_analysis_new(&cb);
	return p->analysis ? 0 : -ENOMEM;
}

void ot_pipeline_fini(struct ot_pipeline *p)
{
	ot_analysis_free(p->analysis);
	p->analysis = NULL;
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
	/* after the event itself, so an anomaly prints below the call that caused it */
	ot_analysis_event(p->analysis, ev);
}

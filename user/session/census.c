// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A census through the pipeline. See session/census.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/census.h"
#include "core/owner_tokens.h"
#include "output/census.h"
#include "session/census.h"
#include "session/session.h"

static void report(void *ctx, struct ot_anomaly *an)
{
	struct ot_pipeline *p = ctx;

	ot_analysis_report(p->analysis, an);
}

/* A group passes the display filter when the group does, or one of its devices or drivers. */
static bool group_shown(struct ot_pipeline *p, const struct ot_census_group *g)
{
	const struct ot_census_head *h = &g->snap.head;
	struct ot_event probe = { .group_id = h->group_id };
	bool any = false;

	if (!p->filter || !ot_filter_active(p->filter))
		return true;
	if (!h->ndevices)
		return ot_filter_match(p->filter, &probe);
	for (uint32_t d = 0; d < h->ndevices && d < OT_CENSUS_MAX_DEVICES; d++) {
		memcpy(probe.device, g->snap.dev[d].name, sizeof(probe.device));
		memcpy(probe.driver, g->snap.dev[d].driver, sizeof(probe.driver));
		any |= ot_filter_match(p->filter, &probe);	/* every device: the filter learns the group */
	}
	return any;
}

int ot_pipeline_census(struct ot_pipeline *p, const struct ot_census *c)
{
	bool *shown = c->ngroups ? calloc((size_t)c->ngroups, sizeof(*shown)) : NULL;

	if (!p->census && !(p->census = ot_census_track_new())) {
		free(shown);
		return -ENOMEM;
	}
	if (c->ngroups && !shown)
		return -ENOMEM;
	if (p->recorder)
		ot_rec_write_census(p->recorder, c);
	for (int i = 0; i < c->ngroups; i++) {
		/* tokens by first appearance in the stream, as for events */
		ot_owner_token(p->out.tokens, c->groups[i].snap.head.owner);
		shown[i] = group_shown(p, &c->groups[i]);
	}
	if (p->out.out && p->out.json && p->print_events) {
		struct ot_census_style style = {
			.tokens = p->out.tokens, .raw_pointers = p->out.raw_pointers, .has_start = true,
			.start_ns = p->out.start_ns, .shown = shown,
		};

		ot_census_write_json(p->out.out, c, &style);
	}
	if (c->reason == OT_CENSUS_START)
		ot_census_seed(p->analysis, c);
	ot_census_track(p->census, c, report, p);
	free(shown);
	return 0;
}

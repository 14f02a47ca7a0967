// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A census through the session. See session/census.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/census.h"
#include "core/owner_tokens.h"
#include "session/census.h"
#include "session/session.h"

static void report(void *ctx, struct ot_anomaly *an)
{
	struct ot_session *s = ctx;

	ot_analysis_report(s->shadow, an);
}

/* A group passes the display filter when the group does, or one of its devices or drivers. */
static bool group_shown(struct ot_session *s, const struct ot_census_group *g)
{
	const struct ot_census_head *h = &g->snap.head;
	struct ot_event probe = { .group_id = h->group_id };
	bool any = false;

	if (!ot_filter_active(&s->filter))
		return true;
	if (!h->ndevices)
		return ot_filter_match(&s->filter, &probe);
	for (uint32_t d = 0; d < h->ndevices && d < OT_CENSUS_MAX_DEVICES; d++) {
		memcpy(probe.device, g->snap.dev[d].name, sizeof(probe.device));
		memcpy(probe.driver, g->snap.dev[d].driver, sizeof(probe.driver));
		any |= ot_filter_match(&s->filter, &probe);	/* every device: the filter learns the group */
	}
	return any;
}

int ot_session_census(struct ot_session *s, const struct ot_census *c)
{
	bool *shown = c->ngroups ? calloc((size_t)c->ngroups, sizeof(*shown)) : NULL;

	if (!s->census && !(s->census = ot_census_track_new())) {
		free(shown);
		return -ENOMEM;
	}
	s->run.census = s->census;
	if (c->ngroups && !shown)
		return -ENOMEM;
	if (s->recorder)
		ot_rec_write_census(s->recorder, c);
	for (int i = 0; i < c->ngroups; i++) {
		/* tokens by first appearance in the stream, as for events */
		ot_owner_token(s->run.tokens, c->groups[i].snap.head.owner);
		shown[i] = group_shown(s, &c->groups[i]);
	}
	/* census records belong to a machine-readable stream; the person gets a line on stderr */
	if (s->has_out && s->out.ops->machine && s->print_events)
		ot_write_census(&s->out, &(struct ot_census_record){ .census = c, .shown = shown, .in_run = true });
	if (c->reason == OT_CENSUS_START)
		ot_census_seed(s->shadow, c);
	ot_census_track(s->census, c, report, s);
	free(shown);
	return 0;
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include "core/owner_tokens.h"
#include "output/census.h"
#include "output/render.h"
#include "output/writer.h"

size_t ot_fmt_u64(char *p, uint64_t v)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

size_t ot_fmt_i64(char *p, int64_t v)
{
	if (v >= 0)
		return ot_fmt_u64(p, (uint64_t)v);
	p[0] = '-';
	return 1 + ot_fmt_u64(p + 1, -(uint64_t)v);
}


double ot_rel_seconds(const struct ot_run *run, uint64_t ts)
{
	return ts >= run->start_ns ? (double)(ts - run->start_ns) / 1e9 : -(double)(run->start_ns - ts) / 1e9;
}

void ot_summary_collect(struct ot_summary_data *d, const struct ot_stats *s, const struct ot_analysis *shadow)
{
	static struct ot_outstanding_claim claims[OT_SUMMARY_MAX_ITEMS];
	static struct ot_outstanding_use uses[OT_SUMMARY_MAX_ITEMS];
	const int max = (int)(sizeof(d->counts) / sizeof(d->counts[0]));

	memset(d, 0, sizeof(*d));
	for (unsigned int p = 0; p < OT_POINT_COUNT; p++) {
		for (int phase = 0; phase < 2; phase++) {
			const char *name = ot_event_name(p, phase ? OT_PHASE_EXIT : OT_PHASE_ENTER);
			int i;

			if (!(ot_point_flags(p) & OT_PF_SPAN) && !phase)
				continue;
			for (i = 0; i < d->ncounts; i++)
				if (!strcmp(d->counts[i].name, name))
					break;
			if (i == d->ncounts) {
				if (d->ncounts == max)
					continue;
				d->counts[d->ncounts].name = name;
				d->counts[d->ncounts++].count = 0;
			}
			d->counts[i].count += s->events[p][phase];
		}
	}
	for (int i = 0; i < d->ncounts; i++)
		d->total += d->counts[i].count;
	d->claims = claims;
	d->uses = uses;
	d->nclaims = shadow ? ot_analysis_outstanding_claims(shadow, claims, OT_SUMMARY_MAX_ITEMS) : 0;
	d->nuses = shadow ? ot_analysis_outstanding_uses(shadow, uses, OT_SUMMARY_MAX_ITEMS) : 0;
}

void ot_census_style_of(struct ot_census_style *style, const struct ot_run *run, const struct ot_census_record *r)
{
	*style = (struct ot_census_style){
		.tokens = run->tokens, .raw_pointers = run->raw_pointers, .has_start = r->in_run,
		.start_ns = run->start_ns, .shown = r->shown,
	};
}

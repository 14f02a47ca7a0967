// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/census.h"
#include "util/grow.h"

const char *ot_census_reason_name(uint32_t reason)
{
	static const char *const names[OT_CENSUS_REASON_COUNT] = {
		[OT_CENSUS_GROUPS] = "groups",
		[OT_CENSUS_START] = "start",
		[OT_CENSUS_AUDIT] = "audit",
		[OT_CENSUS_END] = "end",
	};

	return reason < OT_CENSUS_REASON_COUNT ? names[reason] : "unknown";
}

struct ot_census_group *ot_census_add(struct ot_census *c)
{
	struct ot_census_group *g;

	if (ot_grow(&c->groups, &c->capgroups, (size_t)c->ngroups + 1, sizeof(*c->groups), 8))
		return NULL;
	g = &c->groups[c->ngroups++];
	memset(g, 0, sizeof(*g));
	return g;
}

static int by_id(const void *a, const void *b)
{
	const struct ot_census_group *x = a, *y = b;

	return (x->snap.head.group_id > y->snap.head.group_id) - (x->snap.head.group_id < y->snap.head.group_id);
}

void ot_census_sort(struct ot_census *c)
{
	if (c->ngroups > 1)
		qsort(c->groups, (size_t)c->ngroups, sizeof(*c->groups), by_id);
}

void ot_census_clear(struct ot_census *c)
{
	c->ngroups = 0;
	c->ts_ns = 0;
	c->reason = 0;
}

void ot_census_free(struct ot_census *c)
{
	free(c->groups);
	memset(c, 0, sizeof(*c));
}

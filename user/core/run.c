// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "core/run.h"

uint64_t ot_stats_anomalies(const struct ot_stats *s)
{
	uint64_t total = 0;

	for (int k = 0; k < OT_AN_KIND_COUNT; k++)
		total += s->anomalies[k];
	return total;
}

const char *const ot_forgotten_names[OT_FORGOT_COUNT] = {
	[OT_FORGOT_GROUPS] = "group",
	[OT_FORGOT_USES] = "default_domain_use",
	[OT_FORGOT_SPANS] = "probe_or_remove",
	[OT_FORGOT_OWNERS] = "owner_token",
	[OT_FORGOT_STACKS] = "stack",
};

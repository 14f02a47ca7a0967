// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "core/anomaly.h"

const char *ot_anomaly_kind_name(enum ot_anomaly_kind kind)
{
	static const char *const names[OT_AN_KIND_COUNT] = {
		[OT_AN_PROBE_FAILED_NO_CLEANUP] = "probe_failed_no_cleanup",
		[OT_AN_REMOVE_KEPT_USE] = "remove_kept_use",
		[OT_AN_UNDERFLOW] = "underflow",
		[OT_AN_LEAKED_CLAIM] = "leaked_claim",
		[OT_AN_NESTED_CLAIM] = "nested_claim",
		[OT_AN_LATE_RELEASE] = "late_release",
		[OT_AN_SIBLING_RACE] = "sibling_race",
		[OT_AN_PROBE_BLOCKED] = "probe_blocked",
		[OT_AN_DIVERGENCE] = "divergence",
		[OT_AN_PREEXISTING_LEAK] = "preexisting_leak",
		[OT_AN_PREEXISTING_MISSING] = "preexisting_missing",
		[OT_AN_AUDIT_DRIFT] = "audit_drift",
	};

	return (unsigned int)kind < OT_AN_KIND_COUNT ? names[kind] : "unknown";
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <stdio.h>
#include "core/event.h"
#include "core/points.h"
#include "util/errnames.h"

const char *ot_event_errno(const struct ot_event *ev)
{
	if (!ot_event_has_return(ev) || ev->ret == 0)
		return NULL;
	return ot_ret_errno_name(ev->ret, NULL);
}

const char *ot_format_ret(const struct ot_event *ev, char *buf, size_t len)
{
	const char *name = ot_event_errno(ev);

	if (!ot_event_has_return(ev))
		snprintf(buf, len, "%s", "");
	else if (name)
		snprintf(buf, len, "%" PRId64 " (%s)", (int64_t)ev->ret, name);
	else
		snprintf(buf, len, "%" PRId64, (int64_t)ev->ret);
	return buf;
}

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
	if (ev->phase != OT_PHASE_EXIT)
		return OT_HIST_NONE;
	return ot_point_hist_kind(ev->point, ev->ret);
}

const char *ot_hist_key_of(const struct ot_event *ev, unsigned int by, size_t *len)
{
	if (by == OT_HIST_BY_BUS)
		return *len = sizeof(ev->bus), ev->bus;
	if (by == OT_HIST_BY_DEVICE)
		return *len = sizeof(ev->device), ev->device;
	return *len = sizeof(ev->driver), ev->driver;
}

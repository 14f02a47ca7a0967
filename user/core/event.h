/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What an event means, as every output and analysis reads it: its return
 * value in words, the latency histogram it counts in and under which key.
 */
#ifndef OT_EVENT_H
#define OT_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include "ownertrace.h"
#include "core/points.h"

/* An exit of a point that returns a value. */
static inline bool ot_event_has_return(const struct ot_event *ev)
{
	return ev->phase == OT_PHASE_EXIT && (ot_point_flags(ev->point) & OT_PF_RETURNS);
}

/*
 * The errno name of a failed return ("EBUSY"), NULL when it has none.
 * really_probe() hands a driver's probe error back *positive*
 * (drivers/base/dd.c: ret = -ret), everything else is a negative errno.
 */
const char *ot_event_errno(const struct ot_event *ev);
/* "-16 (EBUSY)"-style text of the return value; "" if none. Returns buf. */
const char *ot_format_ret(const struct ot_event *ev, char *buf, size_t len);

/* Histogram kind of a finished call (an exit event), OT_HIST_NONE if none: the
 * table's answer, as on the BPF side (ot_point_hist_kind). */
int ot_hist_kind_of(const struct ot_event *ev);
/* The event's name under --hist-by (driver, bus or device), not NUL-terminated: *len bytes at most. */
const char *ot_hist_key_of(const struct ot_event *ev, unsigned int by, size_t *len);
extern const char *const ot_hist_kind_names[OT_HIST_KIND_COUNT];
const char *ot_hist_by_name(unsigned int by);

#endif

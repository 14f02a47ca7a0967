// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/points.h"

/* One entry per point, generated from its row; a bus row fills all its slots. */
#define OT_DESC_ROW_(shape, NAME, prog, kind_, function_, flags_, hist_, absent_why_)       \
	OT_POINT_INDEX(shape, NAME) = {                                                     \
		.kind = kind_, .function = function_, .absent_why = absent_why_,            \
		.flags = flags_, .hist = hist_,                                             \
		.event = { (flags_) & OT_PF_SPAN ? kind_ "_enter" : kind_,                  \
			   (flags_) & OT_PF_SPAN ? kind_ "_exit" : kind_ },                 \
		.event_len = { (flags_) & OT_PF_SPAN ? sizeof(kind_ "_enter") - 1 : sizeof(kind_) - 1, \
			       (flags_) & OT_PF_SPAN ? sizeof(kind_ "_exit") - 1 : sizeof(kind_) - 1 },  \
	},

const struct ot_point_desc ot_point_table[OT_POINT_COUNT] = { OT_POINTS(OT_DESC_ROW_) };

/* The same answer as the BPF side's ot_hist_kind_of(): both read the table. */
int ot_point_hist_kind(unsigned int point, int64_t ret)
{
	return point < OT_POINT_COUNT ? OT_HIST_OF_RESULT(ot_point_table[point].hist, ret) : OT_HIST_NONE;
}

const char *ot_event_name(unsigned int point, unsigned int phase)
{
	const struct ot_point_desc *d = ot_point_desc(point);

	return d ? d->event[phase == OT_PHASE_EXIT] : "unknown";
}


const char *ot_mode_name(enum ot_mode mode)
{
	return mode == OT_MODE_FENTRY ? "fentry" : "kprobe";
}

const char *ot_bind_state_name(enum ot_bind_state s)
{
	switch (s) {
	case OT_BIND_UNUSED: return "unused";
	case OT_BIND_FOUND: return "found";
	case OT_BIND_MISSING: return "missing";
	case OT_BIND_ATTACHED: return "attached";
	case OT_BIND_REFUSED: return "refused";
	}
	return "?";
}

const char *ot_point_function(const struct ot_bindings *b, unsigned int point)
{
	if (point >= OT_POINT_COUNT)
		return "";
	return b->point[point].function;
}

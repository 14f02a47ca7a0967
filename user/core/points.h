/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The attach points: what each one means, and which kernel function each
 * one is bound to on the running kernel. */
#ifndef OT_POINTS_H
#define OT_POINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/types.h>
#include "ownertrace.h"

#define OT_FUNC_NAME_LEN 64

/* Static description of an attach point: its row of OT_POINTS. */
struct ot_point_desc {
	const char *kind;	/* event name in output: "probe", "dma_configure", ... */
	const char *function;	/* fixed target, NULL for discovered bus callbacks */
	const char *absent_why;	/* why it may legitimately be absent, NULL if it never should be */
	unsigned int flags;	/* enum ot_point_flags */
	int hist;		/* enum ot_hist_kind by OT_HIST_OF_RESULT(), or OT_HIST_NONE */
	const char *event[2];	/* event name on [entry, exit]: "probe_enter"; "dma_configure" twice */
	unsigned char event_len[2];	/* their strlen, for the per-event writers */
};

/* One per point, from OT_POINTS; inline lookups, as every event asks them. */
extern const struct ot_point_desc ot_point_table[OT_POINT_COUNT];

static inline const struct ot_point_desc *ot_point_desc(unsigned int point)	/* NULL for no such point */
{
	return point < OT_POINT_COUNT ? &ot_point_table[point] : NULL;
}

/* enum ot_point_flags of a point; 0 for no such point */
static inline unsigned int ot_point_flags(unsigned int point)
{
	return point < OT_POINT_COUNT ? ot_point_table[point].flags : 0;
}

/* The histogram of a call of point that returned ret; OT_HIST_NONE if none. */
int ot_point_hist_kind(unsigned int point, int64_t ret);

static inline bool ot_point_is_configure(unsigned int point)
{
	return point >= OT_POINT_DMA_CONFIGURE_FIRST && point <= OT_POINT_DMA_CONFIGURE_LAST;
}

static inline bool ot_point_is_cleanup(unsigned int point)
{
	return point >= OT_POINT_DMA_CLEANUP_FIRST && point <= OT_POINT_DMA_CLEANUP_LAST;
}

/* Event name as printed: "probe_enter", "remove_exit", "dma_configure"... */
const char *ot_event_name(unsigned int point, unsigned int phase);
/* The same and its length, for the per-event writers. */
static inline const char *ot_event_name_len(unsigned int point, unsigned int phase, size_t *len)
{
	const struct ot_point_desc *d = ot_point_desc(point);

	if (!d) {
		*len = strlen("unknown");
		return "unknown";
	}
	*len = d->event_len[phase == OT_PHASE_EXIT];
	return d->event[phase == OT_PHASE_EXIT];
}

/* How the points are attached; recorded in a recording's header. */
enum ot_mode {
	OT_MODE_FENTRY = 0,
	OT_MODE_KPROBE,
};

const char *ot_mode_name(enum ot_mode mode);	/* "fentry", "kprobe" */

enum ot_bind_state {
	OT_BIND_UNUSED = 0,	/* bus slot with nothing to bind */
	OT_BIND_FOUND,		/* target exists, not attached yet */
	OT_BIND_MISSING,	/* target not in this kernel (absent or inlined) */
	OT_BIND_ATTACHED,
	OT_BIND_REFUSED,	/* exists, but the kernel refused to attach */
};

/* Where one attach point is bound on this kernel. */
struct ot_binding {
	char function[OT_FUNC_NAME_LEN];
	enum ot_bind_state state;
	char why[160];		/* for MISSING / REFUSED */
};

/* Bus callbacks found beyond OT_BUS_SLOTS are reported, not traced. */
#define OT_MAX_EXTRA_BUS_FUNCS 8

struct ot_bindings {
	struct ot_binding point[OT_POINT_COUNT];
	int extra_count;
	char extra[OT_MAX_EXTRA_BUS_FUNCS][OT_FUNC_NAME_LEN];
};

/* Function name bound to a point ("" if none), for output. */
const char *ot_point_function(const struct ot_bindings *b, unsigned int point);

const char *ot_bind_state_name(enum ot_bind_state s);

#endif

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Display filters by device, driver and IOMMU group.
 *
 * Group-level events (iommu_group_claim/release_dma_owner) carry no device;
 * they pass a device or driver filter when their group has been seen on an
 * event of a matching device, so `--device X` still shows who claimed X's
 * group. */
#ifndef OT_FILTER_H
#define OT_FILTER_H

#include <stdbool.h>
#include "ownertrace.h"

#define OT_FILTER_MAX 16
#define OT_FILTER_MAX_LEARNED 64

struct ot_filter {
	const char *devices[OT_FILTER_MAX];
	int ndevices;
	const char *drivers[OT_FILTER_MAX];
	int ndrivers;
	int groups[OT_FILTER_MAX];
	int ngroups;
	int learned[OT_FILTER_MAX_LEARNED];	/* groups of matching devices */
	int nlearned;
};

/* 0, or -1 if there are already OT_FILTER_MAX of that kind. */
int ot_filter_add_device(struct ot_filter *f, const char *name);
int ot_filter_add_driver(struct ot_filter *f, const char *name);
int ot_filter_add_group(struct ot_filter *f, int group);

static inline bool ot_filter_active(const struct ot_filter *f)
{
	return f->ndevices || f->ndrivers || f->ngroups;
}

/* ot_filter_match() for an active filter. */
bool ot_filter_match_active(struct ot_filter *f, const struct ot_event *ev);

/* Decide one event; may learn its group. Inline: most runs filter nothing, and every event asks. */
static inline bool ot_filter_match(struct ot_filter *f, const struct ot_event *ev)
{
	return !ot_filter_active(f) || ot_filter_match_active(f, ev);
}

#endif

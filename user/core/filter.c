// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include "core/filter.h"

int ot_filter_add_device(struct ot_filter *f, const char *name)
{
	if (f->ndevices >= OT_FILTER_MAX)
		return -1;
	f->devices[f->ndevices++] = name;
	return 0;
}

int ot_filter_add_driver(struct ot_filter *f, const char *name)
{
	if (f->ndrivers >= OT_FILTER_MAX)
		return -1;
	f->drivers[f->ndrivers++] = name;
	return 0;
}

int ot_filter_add_group(struct ot_filter *f, int group)
{
	if (f->ngroups >= OT_FILTER_MAX)
		return -1;
	f->groups[f->ngroups++] = group;
	return 0;
}

static bool name_in(const char *const *list, int n, const char *name, size_t maxlen)
{
	for (int i = 0; i < n; i++)
		if (!strncmp(list[i], name, maxlen) && strlen(list[i]) < maxlen)
			return true;
	return false;
}

static bool int_in(const int *list, int n, int v)
{
	for (int i = 0; i < n; i++)
		if (list[i] == v)
			return true;
	return false;
}

static void learn(struct ot_filter *f, int group)
{
	if (group < 0 || int_in(f->learned, f->nlearned, group))
		return;
	if (f->nlearned < OT_FILTER_MAX_LEARNED)
		f->learned[f->nlearned++] = group;
}

bool ot_filter_match_active(struct ot_filter *f, const struct ot_event *ev)
{
	bool has_device = ev->device[0] != '\0';

	if (f->ngroups && !int_in(f->groups, f->ngroups, ev->group_id))
		return false;
	if (!f->ndevices && !f->ndrivers)
		return true;
	if (!has_device)
		return int_in(f->learned, f->nlearned, ev->group_id);
	if (f->ndevices && !name_in(f->devices, f->ndevices, ev->device, sizeof(ev->device)))
		return false;
	if (f->ndrivers && !name_in(f->drivers, f->ndrivers, ev->driver, sizeof(ev->driver)))
		return false;
	learn(f, ev->group_id);
	return true;
}

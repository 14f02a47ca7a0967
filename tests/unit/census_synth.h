/* Synthetic census snapshots, shared by the census tests (test_census.c,
 * test_census_record.c): a group from a line per device, the default
 * topology's bridge group, and a census of some groups. */
#ifndef OT_TEST_CENSUS_SYNTH_H
#define OT_TEST_CENSUS_SYNTH_H

#include <stdio.h>
#include <string.h>
#include "analysis/census.h"

#define X 0xffff888011110000ULL	/* an owner cookie */

/* A device: its state k (kernel DMA), m (managed), o (other bus), - (no driver); then L if locked. */
struct dspec {
	const char *name, *driver, *state;
};

static struct ot_census_group G;

static struct ot_census_group *group(int id, uint32_t cnt, uint64_t owner, uint32_t flags, int n,
				     const struct dspec *d)
{
	memset(&G, 0, sizeof(G));
	G.snap.head = (struct ot_census_head){ .ts_ns = 5000, .owner = owner, .group_id = id, .owner_cnt = cnt,
					       .flags = flags | OT_CF_HAS_DOMAIN | OT_CF_HAS_DEFAULT |
							OT_CF_DOMAIN_DEFAULT,
					       .domain_type = 0xb, .default_type = 0xb, .ndevices = (uint32_t)n };
	G.snapshots = 1;
	for (int i = 0; i < n; i++) {
		struct ot_census_device *dv = &G.snap.dev[i];

		snprintf(dv->name, sizeof(dv->name), "%s", d[i].name);
		char st = d[i].state[0];

		snprintf(dv->bus, sizeof(dv->bus), "%s", st == 'o' ? "vmbus" : "pci");
		if (d[i].driver)
			snprintf(dv->driver, sizeof(dv->driver), "%s", d[i].driver);
		dv->state = st == 'k' ? OT_CDEV_KERNEL_DMA : st == 'm' ? OT_CDEV_MANAGED :
			    st == 'o' ? OT_CDEV_OTHER_BUS : OT_CDEV_NO_DRIVER;
		dv->flags = strchr(d[i].state, 'L') ? OT_CDEVF_LOCKED : 0;
	}
	return &G;
}

static const struct dspec bridge_e1000_edu[] = {
	{ "0000:00:05.0", NULL, "-" }, { "0000:01:01.0", "e1000", "k" }, { "0000:01:02.0", NULL, "-" },
};

static struct ot_census census_of(uint32_t reason, int n, const struct ot_census_group *groups)
{
	static struct ot_census_group store[4];
	struct ot_census c = { .ts_ns = 4000, .reason = reason, .ngroups = n, .capgroups = n, .groups = store };

	memcpy(store, groups, (size_t)n * sizeof(*groups));
	return c;
}

#endif

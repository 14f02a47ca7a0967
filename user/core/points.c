// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/points.h"

static const struct ot_point_desc fixed_points[OT_POINT_DMA_CONFIGURE_FIRST] = {
	[OT_POINT_REALLY_PROBE] = {
		.kind = "probe", .function = "really_probe", .span = true,
	},
	[OT_POINT_RELEASE_DRIVER] = {
		.kind = "remove", .function = "device_release_driver_internal", .span = true,
	},
	[OT_POINT_UNBIND_CLEANUP] = {
		.kind = "unbind_cleanup", .function = "device_unbind_cleanup",
		.absent_why = "added in 5.18; may be inlined",
	},
	[OT_POINT_USE_DEFAULT_DOMAIN] = {
		.kind = "use_default_domain", .function = "iommu_device_use_default_domain",
		.absent_why = "needs 5.19+ and CONFIG_IOMMU_API",
	},
	[OT_POINT_UNUSE_DEFAULT_DOMAIN] = {
		.kind = "unuse_default_domain", .function = "iommu_device_unuse_default_domain",
		.absent_why = "needs 5.19+ and CONFIG_IOMMU_API",
	},
	[OT_POINT_GROUP_CLAIM] = {
		.kind = "group_claim", .function = "iommu_group_claim_dma_owner",
		.absent_why = "needs 5.19+ and CONFIG_IOMMU_API",
	},
	[OT_POINT_GROUP_RELEASE] = {
		.kind = "group_release", .function = "iommu_group_release_dma_owner",
		.absent_why = "needs 5.19+ and CONFIG_IOMMU_API",
	},
	[OT_POINT_DEVICE_CLAIM] = {
		.kind = "device_claim", .function = "iommu_device_claim_dma_owner",
		.absent_why = "device-centric ownership exists since 6.2",
	},
	[OT_POINT_DEVICE_RELEASE] = {
		.kind = "device_release", .function = "iommu_device_release_dma_owner",
		.absent_why = "device-centric ownership exists since 6.2",
	},
};

static const struct ot_point_desc configure_slot = {
	.kind = "dma_configure", .absent_why = "no bus callback for this slot",
};

static const struct ot_point_desc cleanup_slot = {
	.kind = "dma_cleanup", .absent_why = "no bus callback for this slot",
};

bool ot_point_is_configure(unsigned int point)
{
	return point >= OT_POINT_DMA_CONFIGURE_FIRST && point < OT_POINT_DMA_CLEANUP_FIRST;
}

bool ot_point_is_cleanup(unsigned int point)
{
	return point >= OT_POINT_DMA_CLEANUP_FIRST && point < OT_POINT_COUNT;
}

const struct ot_point_desc *ot_point_desc(unsigned int point)
{
	if (point < OT_POINT_DMA_CONFIGURE_FIRST)
		return &fixed_points[point];
	if (ot_point_is_configure(point))
		return &configure_slot;
	if (ot_point_is_cleanup(point))
		return &cleanup_slot;
	return NULL;
}

const char *ot_event_name(unsigned int point, unsigned int phase)
{
	static const char *const span_names[][2] = {
		[OT_POINT_REALLY_PROBE] = { "probe_enter", "probe_exit" },
		[OT_POINT_RELEASE_DRIVER] = { "remove_enter", "remove_exit" },
	};
	const struct ot_point_desc *d = ot_point_desc(point);

	if (!d)
		return "unknown";
	if (d->span)
		return span_names[point][phase == OT_PHASE_EXIT];
	return d->kind;
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

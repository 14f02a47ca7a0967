/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The ownership census: one IOMMU group as the kernel holds it, read by
 * bpf/census.bpf.c, shared with userspace (kernel/census.c takes it,
 * analysis/census.c judges it).
 *
 * A snapshot is taken when ownertrace itself reads the group's sysfs `type`
 * file: the BPF program on iommu_group_show_type() is handed the struct
 * iommu_group and walks group->devices (struct group_device) with a bounded
 * loop. It also says whether group->mutex or a device's lock was held while
 * it read: an ownership call or a probe/remove in flight, so the snapshot is
 * retaken rather than trusted.
 *
 * This header is also the on-disk layout of the census record of recordings
 * (the group part and each device): fields are only ever appended, and
 * every field has a fixed width.
 */
#ifndef OT_CENSUS_LAYOUT_H
#define OT_CENSUS_LAYOUT_H

#include "ownertrace.h"

/*
 * Devices one snapshot holds. A group with more is reported truncated (its
 * count is not judged), never wrong. The walk may be bounded lower at load
 * time (rodata walk_max), which the tests use to prove the truncation.
 */
#define OT_CENSUS_MAX_DEVICES 64

/* What a device contributes to owner_cnt when no claim is held. */
enum ot_census_dev_state {
	OT_CDEV_NO_DRIVER = 0,	/* no driver bound: 0 */
	OT_CDEV_KERNEL_DMA = 1,	/* bound to a DMA-API driver (driver_managed_dma false): 1 */
	OT_CDEV_MANAGED = 2,	/* bound to a driver that sets driver_managed_dma (vfio-pci, pci-stub, ...): 0 */
	OT_CDEV_OTHER_BUS = 3,	/* bound, on a bus whose dma_configure takes no ownership: 0 */
};

enum ot_census_dev_flags {
	OT_CDEVF_LOCKED = 1 << 0,	/* device_lock() held: a probe or remove may be in flight */
};

struct ot_census_device {
	char name[OT_DEV_NAME_LEN];
	char bus[OT_BUS_NAME_LEN];
	char driver[OT_DRV_NAME_LEN];
	__u8 state;		/* enum ot_census_dev_state */
	__u8 flags;		/* enum ot_census_dev_flags */
	__u8 pad[6];
};

enum ot_census_flags {
	OT_CF_TRUNCATED = 1 << 0,	/* more devices than the walk reads */
	OT_CF_GROUP_LOCKED = 1 << 1,	/* group->mutex held before or after the walk */
	OT_CF_DEVICE_LOCKED = 1 << 2,	/* some device's lock held during the walk */
	OT_CF_CHANGED = 1 << 3,		/* owner_cnt or owner changed during the walk */
	OT_CF_LOCK_UNKNOWN = 1 << 4,	/* this kernel's struct mutex has no owner word: locks not read */
	OT_CF_HAS_DOMAIN = 1 << 5,	/* group->domain set (domain_type valid) */
	OT_CF_HAS_DEFAULT = 1 << 6,	/* group->default_domain set (default_type valid) */
	OT_CF_DOMAIN_DEFAULT = 1 << 7,	/* group->domain == group->default_domain */
	OT_CF_DOMAIN_BLOCKING = 1 << 8,	/* group->domain == group->blocking_domain */
};

/* Snapshot flags that mean "something was in flight": retake. */
#define OT_CF_UNSETTLED (OT_CF_GROUP_LOCKED | OT_CF_DEVICE_LOCKED | OT_CF_CHANGED)

/* The group part of a snapshot; the devices follow (ndevices of them). */
struct ot_census_head {
	__u64 ts_ns;		/* CLOCK_MONOTONIC at the snapshot */
	__u64 owner;		/* group->owner: raw pointer, tokenized in userspace */
	__s32 group_id;
	__u32 owner_cnt;
	__u32 domain_type;	/* group->domain->type (IOMMU_DOMAIN_*) */
	__u32 default_type;	/* group->default_domain->type */
	__u32 flags;		/* enum ot_census_flags */
	__u32 ndevices;		/* devices read (<= OT_CENSUS_MAX_DEVICES) */
};

/* What the BPF program sends for one read of a group's `type` file. */
struct ot_census_snap {
	struct ot_census_head head;
	struct ot_census_device dev[OT_CENSUS_MAX_DEVICES];
};

#endif /* OT_CENSUS_LAYOUT_H */

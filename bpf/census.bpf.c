// SPDX-License-Identifier: GPL-2.0
/*
 * ownertrace census: snapshot one struct iommu_group as the kernel holds
 * it, its owner_cnt/owner, domains and every device of group->devices with
 * the driver bound to it and whether that driver sets driver_managed_dma.
 *
 * The program sits on iommu_group_show_type(), the show function of
 * /sys/kernel/iommu_groups/N/type, and acts only for reads by ownertrace's
 * own process (target_tgid): userspace reads every group's file once, and
 * each read hands the program its group. Nothing here runs unless a census
 * is being taken: this is a separate object from the tracer, loaded only by
 * `ownertrace groups` and by the census at the start of a live run (and the
 * daemon's audits), and for anyone else's read of the file it returns at
 * once.
 *
 * One body serves fentry (preferred) and kprobe (fallback); userspace loads
 * one of them. Layouts differ across kernels (struct iommu_group gained
 * pasid_array in 6.2 and recovery_cnt in 7.x, struct group_device gained
 * fields in 7.x), so every access is a CO-RE relocation. The bus driver
 * structs are reached with container_of from dev->driver, for the buses
 * whose dma_configure takes ownership and only those this kernel has.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ownertrace_census.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by userspace before load. */
const volatile __u32 target_tgid = 0;
const volatile __u32 walk_max = OT_CENSUS_MAX_DEVICES;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 15);	/* four snapshots of 6.7 KB: only ours (target_tgid), drained after each read; mapped twice, so kept small */
} snaps SEC(".maps");

/* The snapshot is built here (too big for the BPF stack), then copied out. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ot_census_snap);
} scratch SEC(".maps");

/* Snapshots that found no room in the ring buffer (userspace retakes them). */
__u64 dropped = 0;

/* Driver structs of buses not built on every architecture (not in vmlinux.h). */
struct amba_driver___ot {
	struct device_driver drv;
	bool driver_managed_dma;
} __attribute__((preserve_access_index));

struct fsl_mc_driver___ot {
	struct device_driver driver;
	bool driver_managed_dma;
} __attribute__((preserve_access_index));

struct cdx_driver___ot {
	struct device_driver driver;
	bool driver_managed_dma;
} __attribute__((preserve_access_index));

/* struct mutex of PREEMPT_RT kernels: an rt_mutex underneath. */
struct rt_mutex_base___ot {
	struct task_struct *owner;
} __attribute__((preserve_access_index));

struct mutex___rt {
	struct rt_mutex_base___ot rtmutex;
} __attribute__((preserve_access_index));

#define OT_MUTEX_FLAGS 0x07UL	/* low bits of mutex.owner: waiters, handoff, pickup */

/* 1 held, 0 free, -1 this kernel's struct mutex is not one we can read. */
static __always_inline int ot_mutex_held(struct mutex *m)
{
	if (bpf_core_field_exists(m->owner))
		return (BPF_CORE_READ(m, owner.counter) & ~OT_MUTEX_FLAGS) != 0;
	if (bpf_core_field_exists(((struct mutex___rt *)m)->rtmutex.owner))
		return BPF_CORE_READ((struct mutex___rt *)m, rtmutex.owner) != NULL;
	return -1;
}

/* A NUL-terminated bus name of up to 8 bytes, as the little-endian words it reads as. */
#define OT_W4(a, b, c) ((__u64)(a) | (__u64)(b) << 8 | (__u64)(c) << 16)
#define OT_BUS_PCI OT_W4('p', 'c', 'i')
#define OT_BUS_CDX OT_W4('c', 'd', 'x')
#define OT_BUS_AMBA (OT_W4('a', 'm', 'b') | (__u64)'a' << 24)
#define OT_BUS_FSL_MC (OT_W4('f', 's', 'l') | (__u64)'-' << 24 | (__u64)'m' << 32 | (__u64)'c' << 40)
#define OT_BUS_PLATFORM (OT_W4('p', 'l', 'a') | (__u64)'t' << 24 | (__u64)'f' << 32 | (__u64)'o' << 40 | \
			 (__u64)'r' << 48 | (__u64)'m' << 56)

/* Which bus, from its name: compared a word at a time, which keeps the verifier's work small. */
static __always_inline bool ot_bus_is(const char *bus, __u64 word, int len)
{
	__u64 w;

	__builtin_memcpy(&w, bus, sizeof(w));
	if (len == 8)
		return w == word && bus[8] == '\0';
	return (w & ((1ULL << (8 * (len + 1))) - 1)) == word;
}

/*
 * driver_managed_dma of the driver bound to a device of this bus, or -1 for
 * a bus whose dma_configure never takes ownership (or one this kernel does
 * not have): pci, platform, amba, fsl-mc and cdx call
 * iommu_device_use_default_domain() for drivers without the flag.
 */
static __always_inline int ot_driver_managed(const char *bus, struct device_driver *drv)
{
	void *base = drv;

	if (ot_bus_is(bus, OT_BUS_PCI, 3)) {
		struct pci_driver *d = base - bpf_core_field_offset(struct pci_driver, driver);

		if (bpf_core_field_exists(d->driver_managed_dma))
			return BPF_CORE_READ(d, driver_managed_dma);
		return -1;
	}
	if (ot_bus_is(bus, OT_BUS_PLATFORM, 8)) {
		struct platform_driver *d = base - bpf_core_field_offset(struct platform_driver, driver);

		if (bpf_core_field_exists(d->driver_managed_dma))
			return BPF_CORE_READ(d, driver_managed_dma);
		return -1;
	}
	if (ot_bus_is(bus, OT_BUS_AMBA, 4)) {
		if (bpf_core_type_exists(struct amba_driver___ot)) {
			struct amba_driver___ot *d = base - bpf_core_field_offset(struct amba_driver___ot, drv);

			return BPF_CORE_READ(d, driver_managed_dma);
		}
		return -1;
	}
	if (ot_bus_is(bus, OT_BUS_FSL_MC, 6)) {
		if (bpf_core_type_exists(struct fsl_mc_driver___ot)) {
			struct fsl_mc_driver___ot *d = base - bpf_core_field_offset(struct fsl_mc_driver___ot, driver);

			return BPF_CORE_READ(d, driver_managed_dma);
		}
		return -1;
	}
	if (ot_bus_is(bus, OT_BUS_CDX, 3)) {
		if (bpf_core_type_exists(struct cdx_driver___ot)) {
			struct cdx_driver___ot *d = base - bpf_core_field_offset(struct cdx_driver___ot, driver);

			return BPF_CORE_READ(d, driver_managed_dma);
		}
		return -1;
	}
	return -1;
}

static __always_inline void ot_read_device(struct ot_census_device *out, struct device *dev, __u32 *flags)
{
	struct device_driver *drv;
	const char *name;
	int held, managed;

	/* the lock first: a probe or remove that holds it may be changing dev->driver */
	held = ot_mutex_held(&dev->mutex);
	if (held > 0) {
		out->flags |= OT_CDEVF_LOCKED;
		*flags |= OT_CF_DEVICE_LOCKED;
	}
	name = BPF_CORE_READ(dev, kobj.name);
	if (!name)
		name = BPF_CORE_READ(dev, init_name);
	if (name)
		bpf_probe_read_kernel_str(out->name, sizeof(out->name), name);
	name = BPF_CORE_READ(dev, bus, name);
	if (name)
		bpf_probe_read_kernel_str(out->bus, sizeof(out->bus), name);
	drv = BPF_CORE_READ(dev, driver);
	if (!drv) {
		out->state = OT_CDEV_NO_DRIVER;
		return;
	}
	name = BPF_CORE_READ(drv, name);
	if (name)
		bpf_probe_read_kernel_str(out->driver, sizeof(out->driver), name);
	managed = ot_driver_managed(out->bus, drv);
	out->state = managed < 0 ? OT_CDEV_OTHER_BUS : managed ? OT_CDEV_MANAGED : OT_CDEV_KERNEL_DMA;
}

struct ot_walk {
	struct ot_census_snap *snap;
	struct list_head *head;		/* &group->devices */
	struct list_head *pos;		/* the next entry */
	__u32 flags;
	__u32 n;
};

/* One device of group->devices per call (bpf_loop: verified once, whatever the bound). */
static long ot_walk_one(__u32 i, struct ot_walk *w)
{
	struct list_head *pos = w->pos;
	struct group_device *gdev;
	__u32 n = w->n;

	if (!pos || pos == w->head)
		return 1;
	if (n >= walk_max || n >= OT_CENSUS_MAX_DEVICES) {
		w->flags |= OT_CF_TRUNCATED;	/* entries left that the walk does not read */
		return 1;
	}
	__builtin_memset(&w->snap->dev[n], 0, sizeof(w->snap->dev[n]));
	gdev = (void *)pos - bpf_core_field_offset(struct group_device, list);
	ot_read_device(&w->snap->dev[n], BPF_CORE_READ(gdev, dev), &w->flags);
	w->n = n + 1;
	w->pos = BPF_CORE_READ(pos, next);
	return 0;
}

static __always_inline int ot_snapshot(struct iommu_group *group)
{
	struct iommu_domain *domain, *def, *blocking;
	struct ot_census_snap *snap;
	struct ot_walk w = {};
	__u32 zero = 0, cnt;
	void *owner;
	int held;

	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid || !group)
		return 0;
	snap = bpf_map_lookup_elem(&scratch, &zero);
	if (!snap)
		return 0;
	held = ot_mutex_held(&group->mutex);
	if (held < 0)
		w.flags |= OT_CF_LOCK_UNKNOWN;
	else if (held)
		w.flags |= OT_CF_GROUP_LOCKED;
	cnt = BPF_CORE_READ(group, owner_cnt);
	owner = BPF_CORE_READ(group, owner);

	snap->head.ts_ns = bpf_ktime_get_ns();
	snap->head.group_id = BPF_CORE_READ(group, id);
	snap->head.owner_cnt = cnt;
	snap->head.owner = (__u64)owner;
	snap->head.domain_type = 0;
	snap->head.default_type = 0;
	domain = BPF_CORE_READ(group, domain);
	def = BPF_CORE_READ(group, default_domain);
	blocking = BPF_CORE_READ(group, blocking_domain);
	if (domain) {
		w.flags |= OT_CF_HAS_DOMAIN;
		snap->head.domain_type = BPF_CORE_READ(domain, type);
		if (domain == def)
			w.flags |= OT_CF_DOMAIN_DEFAULT;
		if (domain == blocking)
			w.flags |= OT_CF_DOMAIN_BLOCKING;
	}
	if (def) {
		w.flags |= OT_CF_HAS_DEFAULT;
		snap->head.default_type = BPF_CORE_READ(def, type);
	}

	w.snap = snap;
	w.head = __builtin_preserve_access_index(&group->devices);
	w.pos = BPF_CORE_READ(group, devices.next);
	/* one more turn than devices kept: it sees whether entries are left */
	bpf_loop(OT_CENSUS_MAX_DEVICES + 1, ot_walk_one, &w, 0);

	/* read again: an ownership call that ran during the walk shows here */
	if (ot_mutex_held(&group->mutex) > 0)
		w.flags |= OT_CF_GROUP_LOCKED;
	if (BPF_CORE_READ(group, owner_cnt) != cnt || BPF_CORE_READ(group, owner) != owner)
		w.flags |= OT_CF_CHANGED;
	snap->head.flags = w.flags;
	snap->head.ndevices = w.n;
	if (bpf_ringbuf_output(&snaps, snap, sizeof(*snap), 0))
		__sync_fetch_and_add(&dropped, 1);
	return 0;
}

/* ssize_t iommu_group_show_type(struct iommu_group *group, char *buf) */
SEC("fentry")
int census_fentry(__u64 *ctx)
{
	return ot_snapshot((struct iommu_group *)ctx[0]);
}

SEC("kprobe")
int BPF_KPROBE(census_kprobe, struct iommu_group *group)
{
	return ot_snapshot(group);
}

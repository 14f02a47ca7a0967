/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Types shared by the BPF programs and the userspace loader.
 *
 * The kernel side is deliberately dumb: it snapshots a group's ownership
 * state on entry to a function, again on return, and ships both in one
 * fixed-size record. Everything that needs judgement (names of functions,
 * owner tokens, filters, analysis) happens in userspace.
 *
 * This header is also the on-disk event layout of recordings, so fields are
 * only ever appended and every field has a fixed width.
 */
#ifndef OWNERTRACE_H
#define OWNERTRACE_H

#ifndef __VMLINUX_H__	/* the BPF side gets the types from vmlinux.h */
#include <linux/types.h>
#endif

#define OT_COMM_LEN 16
#define OT_DEV_NAME_LEN 48
#define OT_BUS_NAME_LEN 16
#define OT_DRV_NAME_LEN 32

/*
 * Bus dma_configure/dma_cleanup callbacks are discovered at run time, so
 * the BPF object carries this many generic slots for each; userspace binds
 * every slot to one discovered function.
 */
#define OT_BUS_SLOTS 6

/*
 * Every function ownertrace hooks is one attach point. The numbering is part
 * of the recording format: append only.
 */
enum ot_point {
	OT_POINT_REALLY_PROBE = 0,	/* really_probe(dev, drv) -> int */
	OT_POINT_RELEASE_DRIVER,	/* device_release_driver_internal(dev, drv, parent) */
	OT_POINT_UNBIND_CLEANUP,	/* device_unbind_cleanup(dev) */
	OT_POINT_USE_DEFAULT_DOMAIN,	/* iommu_device_use_default_domain(dev) -> int */
	OT_POINT_UNUSE_DEFAULT_DOMAIN,	/* iommu_device_unuse_default_domain(dev) */
	OT_POINT_GROUP_CLAIM,		/* iommu_group_claim_dma_owner(group, owner) -> int */
	OT_POINT_GROUP_RELEASE,		/* iommu_group_release_dma_owner(group) */
	OT_POINT_DEVICE_CLAIM,		/* iommu_device_claim_dma_owner(dev, owner) -> int */
	OT_POINT_DEVICE_RELEASE,	/* iommu_device_release_dma_owner(dev) */
	OT_POINT_DMA_CONFIGURE_FIRST,	/* <bus>_dma_configure(dev) -> int, slots */
	OT_POINT_DMA_CLEANUP_FIRST = OT_POINT_DMA_CONFIGURE_FIRST + OT_BUS_SLOTS,
	OT_POINT_COUNT = OT_POINT_DMA_CLEANUP_FIRST + OT_BUS_SLOTS,
};

/* Enter records exist only for the two "span" points (probe, remove). */
enum ot_phase {
	OT_PHASE_ENTER = 1,
	OT_PHASE_EXIT = 2,
};

enum ot_event_flags {
	OT_EVF_HAS_GROUP = 1 << 0,	/* the subject has an IOMMU group */
	/* 1 << 1: unused (was a never-set "exit without entry"); exits without
	 * an entry are counted in OT_CNT_EXIT_WITHOUT_ENTRY instead */
	/*
	 * Another ownership call on the same group ran during this one. The
	 * before/after snapshots are not taken under group->mutex, so they
	 * may include the other call's change: analysis must not compare
	 * them against its shadow.
	 */
	OT_EVF_CONCURRENT = 1 << 2,
};

/* Counters the BPF side keeps so that nothing is lost silently. */
enum ot_counter {
	OT_CNT_RINGBUF_DROPS = 0,	/* bpf_ringbuf_reserve() failed */
	OT_CNT_STASH_FULL,		/* entry could not be remembered (map full / too deep) */
	OT_CNT_EXIT_WITHOUT_ENTRY,	/* exit whose entry was never seen */
	OT_CNT_STACK_FAILED,		/* bpf_get_stack() failed */
	OT_CNT_SAMPLE_DROPS,		/* histogram sample ring buffer full */
	OT_CNT_COUNT,
};

/* Latency histograms (issue: probe/remove latency per driver). */
enum ot_hist_kind {
	OT_HIST_PROBE_OK = 0,	/* really_probe returned 0 */
	OT_HIST_PROBE_FAIL,	/* really_probe returned an error */
	OT_HIST_REMOVE,		/* device_release_driver_internal */
	OT_HIST_DMA_CONFIGURE,	/* <bus>_dma_configure */
	OT_HIST_CLAIM,		/* iommu_{group,device}_claim_dma_owner */
	OT_HIST_RELEASE,	/* iommu_{group,device}_release_dma_owner */
	OT_HIST_KIND_COUNT,
};

enum ot_hist_by {
	OT_HIST_BY_DRIVER = 0,
	OT_HIST_BY_BUS,
	OT_HIST_BY_DEVICE,
};

#define OT_HIST_SLOTS 64

struct ot_hist_key {
	__u32 kind;		/* enum ot_hist_kind */
	char name[OT_DEV_NAME_LEN];	/* driver, bus or device, by hist_by */
};

/* In-kernel log2 histogram: slot = log2 of the duration in the display unit. */
struct ot_hist_val {
	__u64 slots[OT_HIST_SLOTS];
	__u64 count;
};

/* One exact duration, for percentiles when events are not streamed. */
struct ot_sample {
	__u64 duration_ns;
	__u32 kind;		/* enum ot_hist_kind */
	__u32 pad;
	char name[OT_DEV_NAME_LEN];
};

struct ot_event {
	__u64 ts_ns;		/* CLOCK_MONOTONIC at this record (entry or exit) */
	__u64 entry_ns;		/* CLOCK_MONOTONIC at function entry (== ts_ns for enter) */
	__u64 owner_before;	/* group->owner on entry: raw pointer, tokenized in userspace */
	__u64 owner_after;	/* group->owner on return */
	__u32 pid;		/* tgid */
	__u32 tid;
	__u32 cpu;
	__s32 group_id;		/* iommu_group->id, -1 if none */
	__u32 owner_cnt_before;
	__u32 owner_cnt_after;
	__s64 ret;		/* return value, 0 for void functions */
	__s32 stack_id;		/* kernel stack at entry (assigned in userspace), <0 if none */
	__u16 point;		/* enum ot_point */
	__u8 phase;		/* enum ot_phase */
	__u8 flags;		/* enum ot_event_flags */
	char comm[OT_COMM_LEN];
	char device[OT_DEV_NAME_LEN];
	char bus[OT_BUS_NAME_LEN];
	char driver[OT_DRV_NAME_LEN];
};

/*
 * What the kernel sends: the event plus the raw stack of the call's entry.
 * Userspace deduplicates stacks by content, symbolizes each once, and gives
 * the event its stack_id; raw addresses never reach output or recordings.
 * (A BPF stack-trace map would deduplicate in the kernel, but it drops a
 * stack whenever two stacks hash to the same bucket.)
 */
#define OT_KSTACK_FRAMES 32

struct ot_kevent {
	struct ot_event ev;
	__u32 nframes;
	__u32 pad;
	__u64 ips[OT_KSTACK_FRAMES];
};

#endif /* OWNERTRACE_H */

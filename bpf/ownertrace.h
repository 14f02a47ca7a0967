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

#define OT_HIST_NONE (-1)	/* a point whose calls are in no histogram */

/*
 * The histogram of one call. In the table below OT_HIST_PROBE_OK stands for
 * both probe histograms: which one depends on the call's result, the rest
 * of the kinds on the point alone.
 */
#define OT_HIST_OF_RESULT(table_kind, ret) \
	((table_kind) == OT_HIST_PROBE_OK && (ret) ? OT_HIST_PROBE_FAIL : (table_kind))

/* What a point is, for both sides to ask instead of listing points. */
enum ot_point_flags {
	OT_PF_SPAN = 1 << 0,		/* entry is an event too: a shadow must know a device is mid-probe */
	OT_PF_RETURNS = 1 << 1,		/* returns an int, recorded in ev.ret (0 otherwise) */
	OT_PF_PRIMITIVE = 1 << 2,	/* writes owner_cnt/owner under group->mutex */
	OT_PF_GROUP_SUBJECT = 1 << 3,	/* first argument is a struct iommu_group *, not a struct device * */
	OT_PF_CLAIM = 1 << 4,		/* claims DMA ownership of a group for user space */
	OT_PF_RELEASE = 1 << 5,		/* gives such a claim back */
	/*
	 * An anomaly may cite this call's kernel stack, as its own or as the
	 * paired one (analysis/shadow.c: spans, ownership primitives, a
	 * probe's dma_configure), so it is walked in every streaming run. The
	 * other points' stacks are walked only when every stack is wanted
	 * (--stacks, recordings): a stack walk is most of a program's cost.
	 */
	OT_PF_STACK = 1 << 6,
};

/*
 * Bus dma_configure/dma_cleanup callbacks are discovered at run time, so
 * the BPF object carries generic slots for each; userspace binds every slot
 * to one discovered function. The preprocessor cannot count, so the slots
 * are spelled out once here, and their number is counted from the list.
 */
#define OT_FOR_EACH_BUS_SLOT(X, ...) \
	X(0, __VA_ARGS__) X(1, __VA_ARGS__) X(2, __VA_ARGS__) X(3, __VA_ARGS__) X(4, __VA_ARGS__) X(5, __VA_ARGS__)
#define OT_COUNT_BUS_SLOT_(slot, ...) + 1
#define OT_BUS_SLOTS (0 OT_FOR_EACH_BUS_SLOT(OT_COUNT_BUS_SLOT_, ~))

/*
 * Every function ownertrace hooks is one attach point, and this is the one
 * table of them: the enum below, the BPF programs, the loader's program
 * names, the names userspace prints and every "which points are ..."
 * question on either side are generated from it. A row is
 *
 *   X(shape, NAME, prog, kind, function, flags, hist, absent_why)
 *
 *   shape       FIXED: one point, OT_POINT_<NAME>, hooking `function`.
 *               BUS: OT_BUS_SLOTS points OT_POINT_<NAME>_FIRST.._LAST, each
 *               bound at run time to one discovered bus callback
 *               (`function` is NULL).
 *   prog        BPF program base name: <prog>_fentry, _fexit, _kprobe,
 *               _kretprobe; a BUS row's are <prog>_<slot>_fentry, ...
 *   kind        the event's name in output; a span point prints
 *               <kind>_enter and <kind>_exit
 *   flags       enum ot_point_flags
 *   hist        enum ot_hist_kind of its calls (OT_HIST_OF_RESULT), or
 *               OT_HIST_NONE
 *   absent_why  why the function may legitimately be missing; NULL if it
 *               never should be (userspace only)
 *
 * A row's position is its points' number in recordings: add rows at the
 * end only (and see the assertion below).
 */
#define OT_POINTS(X)                                                                                              \
	X(FIXED, REALLY_PROBE, really_probe, "probe", "really_probe",                                             \
	  OT_PF_SPAN | OT_PF_RETURNS | OT_PF_STACK, OT_HIST_PROBE_OK, NULL)                                       \
	X(FIXED, RELEASE_DRIVER, release_driver, "remove", "device_release_driver_internal",                      \
	  OT_PF_SPAN | OT_PF_STACK, OT_HIST_REMOVE, NULL)                                                         \
	X(FIXED, UNBIND_CLEANUP, unbind_cleanup, "unbind_cleanup", "device_unbind_cleanup",                       \
	  0, OT_HIST_NONE, "added in 5.18; may be inlined")                                                       \
	X(FIXED, USE_DEFAULT_DOMAIN, use_default_domain, "use_default_domain", "iommu_device_use_default_domain", \
	  OT_PF_RETURNS | OT_PF_PRIMITIVE | OT_PF_STACK, OT_HIST_NONE, "needs 5.19+ and CONFIG_IOMMU_API")        \
	X(FIXED, UNUSE_DEFAULT_DOMAIN, unuse_default_domain, "unuse_default_domain",                              \
	  "iommu_device_unuse_default_domain",                                                                    \
	  OT_PF_PRIMITIVE | OT_PF_STACK, OT_HIST_NONE, "needs 5.19+ and CONFIG_IOMMU_API")                        \
	X(FIXED, GROUP_CLAIM, group_claim, "group_claim", "iommu_group_claim_dma_owner",                          \
	  OT_PF_RETURNS | OT_PF_PRIMITIVE | OT_PF_GROUP_SUBJECT | OT_PF_CLAIM | OT_PF_STACK, OT_HIST_CLAIM,       \
	  "needs 5.19+ and CONFIG_IOMMU_API")                                                                     \
	X(FIXED, GROUP_RELEASE, group_release, "group_release", "iommu_group_release_dma_owner",                  \
	  OT_PF_PRIMITIVE | OT_PF_GROUP_SUBJECT | OT_PF_RELEASE | OT_PF_STACK, OT_HIST_RELEASE,                   \
	  "needs 5.19+ and CONFIG_IOMMU_API")                                                                     \
	X(FIXED, DEVICE_CLAIM, device_claim, "device_claim", "iommu_device_claim_dma_owner",                      \
	  OT_PF_RETURNS | OT_PF_PRIMITIVE | OT_PF_CLAIM | OT_PF_STACK, OT_HIST_CLAIM,                             \
	  "device-centric ownership exists since 6.2")                                                            \
	X(FIXED, DEVICE_RELEASE, device_release, "device_release", "iommu_device_release_dma_owner",              \
	  OT_PF_PRIMITIVE | OT_PF_RELEASE | OT_PF_STACK, OT_HIST_RELEASE, "device-centric ownership exists since 6.2") \
	X(BUS, DMA_CONFIGURE, dma_configure, "dma_configure", NULL,                                               \
	  OT_PF_RETURNS | OT_PF_STACK, OT_HIST_DMA_CONFIGURE, "no bus callback for this slot")                    \
	X(BUS, DMA_CLEANUP, dma_cleanup, "dma_cleanup", NULL,                                                     \
	  0, OT_HIST_NONE, "no bus callback for this slot")

#define OT_POINT_ENUM_FIXED_(NAME) OT_POINT_##NAME,
#define OT_POINT_ENUM_BUS_(NAME) \
	OT_POINT_##NAME##_FIRST, OT_POINT_##NAME##_LAST = OT_POINT_##NAME##_FIRST + OT_BUS_SLOTS - 1,
#define OT_POINT_ENUM_(shape, NAME, ...) OT_POINT_ENUM_##shape##_(NAME)

enum ot_point {
	OT_POINTS(OT_POINT_ENUM_)
	OT_POINT_COUNT
};

/*
 * The numbers are the recording format (ot_event.point), so they are pinned
 * here rather than trusted to the table's order. OT_POINT_COUNT sizes a
 * recording's POINTS record; the reader takes a shorter one (an older
 * writer's) as naming the points it had.
 */
_Static_assert(OT_POINT_REALLY_PROBE == 0 && OT_POINT_RELEASE_DRIVER == 1 && OT_POINT_UNBIND_CLEANUP == 2 &&
		       OT_POINT_USE_DEFAULT_DOMAIN == 3 && OT_POINT_UNUSE_DEFAULT_DOMAIN == 4 &&
		       OT_POINT_GROUP_CLAIM == 5 && OT_POINT_GROUP_RELEASE == 6 && OT_POINT_DEVICE_CLAIM == 7 &&
		       OT_POINT_DEVICE_RELEASE == 8 && OT_POINT_DMA_CONFIGURE_FIRST == 9 &&
		       OT_POINT_DMA_CONFIGURE_LAST == 14 && OT_POINT_DMA_CLEANUP_FIRST == 15 &&
		       OT_POINT_DMA_CLEANUP_LAST == 20 && OT_POINT_COUNT == 21,
	       "enum ot_point is the recording format: add points at the end of OT_POINTS, never reorder");

/* For tables indexed by point: the designator of a row's point(s). */
#define OT_POINT_INDEX_FIXED_(NAME) [OT_POINT_##NAME]
#define OT_POINT_INDEX_BUS_(NAME) [OT_POINT_##NAME##_FIRST ... OT_POINT_##NAME##_LAST]
#define OT_POINT_INDEX(shape, NAME) OT_POINT_INDEX_##shape##_(NAME)

/*
 * For what the preprocessor must spell out per point (BPF programs and
 * their names): Y(base, point) for each point of a row, base being its BPF
 * program base name as one token.
 */
#define OT_ROW_POINTS(Y, shape, NAME, prog) OT_ROW_POINTS_##shape##_(Y, NAME, prog)
#define OT_ROW_POINTS_FIXED_(Y, NAME, prog) Y(prog, OT_POINT_##NAME)
#define OT_ROW_POINTS_BUS_(Y, NAME, prog) OT_FOR_EACH_BUS_SLOT(OT_ROW_SLOT_, Y, NAME, prog)
#define OT_ROW_SLOT_(slot, Y, NAME, prog) Y(prog##_##slot, (OT_POINT_##NAME##_FIRST + slot))

/* Enter records exist only for span points (OT_PF_SPAN: probe, remove). */
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
	/*
	 * Set by userspace, not the kernel, from the drop counts a record
	 * carries (struct ot_kevent), and recorded with the event so a replay
	 * resyncs where the live run did:
	 * GROUP_GAP: records may be missing between this call's group's
	 * previous call and this one (ring buffer full): the shadow takes the
	 * group's next non-overlapped before-values as they are instead of
	 * calling the difference a divergence.
	 * GAP: records were lost somewhere since the last record received:
	 * uses and claims seen before are no evidence of a leak any more, and
	 * probes and removes in flight may have ended unseen.
	 */
	OT_EVF_GROUP_GAP = 1 << 3,
	OT_EVF_GAP = 1 << 4,
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
	/*
	 * Ring-buffer drops on all CPUs so far, read after this record was
	 * reserved: a drop the ring shows before it is in it.
	 */
	__u32 drops;
	__u64 ips[OT_KSTACK_FRAMES];
	/*
	 * The same count read as the call was entered, after it joined its
	 * group's activity count. A drop is counted before its call leaves
	 * that count (see ot_on_exit), so a later call on the group that did
	 * not overlap the dropped one has the drop here, and an earlier call
	 * never has: a rise between two records of one group is a gap in it.
	 */
	__u32 drops_at_entry;
	__u32 pad;
};

#endif /* OWNERTRACE_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Taking a census: load bpf/census.bpf.c (fentry on
 * iommu_group_show_type, kprobe as the fallback), read every
 * /sys/kernel/iommu_groups/N/type once so the program snapshots group N,
 * retake the snapshots that caught something in flight, and find who holds
 * each claim. The reading of the files is only the trigger: every value
 * comes from the kernel's structs.
 */
#ifndef OT_KERNEL_CENSUS_H
#define OT_KERNEL_CENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include "core/census.h"
#include "core/points.h"

struct ot_census_taker_opts {
	bool force_kprobes;
	const char *btf_path;		/* custom BTF for CO-RE; NULL = the kernel's */
	const char *sysfs_root;		/* NULL: /sys/kernel/iommu_groups */
};

struct ot_census_taker;

/*
 * Load and attach the census program. 0, or a negative errno with a
 * sentence in err. Kept open by the daemon between audits: the program
 * acts only on this process's reads of the type files.
 */
int ot_census_taker_open(struct ot_census_taker **out, const struct ot_census_taker_opts *opts, char *err,
			 size_t errlen);
void ot_census_taker_close(struct ot_census_taker *t);
enum ot_mode ot_census_taker_mode(const struct ot_census_taker *t);
const char *ot_census_taker_function(const struct ot_census_taker *t);

/*
 * Snapshot every group now into out (cleared first). A snapshot that saw a
 * lock held or the count change is retaken, for up to about two seconds,
 * and one that shows a violation is retaken once more to be sure; a group
 * still in flight after that is left unsettled. 0, or a negative errno with
 * a sentence in err.
 */
int ot_census_take(struct ot_census_taker *t, uint32_t reason, struct ot_census *out, char *err, size_t errlen);

#endif

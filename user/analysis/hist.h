/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Latency histograms of probe, remove, dma_configure, claim and release.
 *
 * The log2 buckets only draw the shape (bcc's biolatency/funclatency look).
 * Every number printed beside them (min, avg, percentiles, max) comes from
 * the exact per-call durations in nanoseconds, never from bucket midpoints:
 * a log2 bucket is a factor of two wide, far too coarse to tell a 5 ms probe
 * from a 9 ms one.
 */
#ifndef OT_HIST_H
#define OT_HIST_H

#include <stdint.h>

/*
 * Same value and spelling as bpf/ownertrace.h: a redefinition with other
 * tokens is a compiler diagnostic, so the two cannot drift apart silently.
 */
#define OT_HIST_SLOTS 64

/*
 * The log2 bucket of a value in the display unit, the formula of the BPF
 * side (ot_slot() in bpf/ownertrace.bpf.c) and of bcc's bpf_log2l() for v > 0:
 *
 *	slot = v ? 64 - clz(v) : 0
 *
 * so slot 0 holds only 0, slot 1 holds only 1, and slot k >= 1 holds
 * [2^(k-1), 2^k - 1]: 2..3 is slot 2, 4..7 slot 3, and values from 2^63 up
 * (UINT64_MAX included) are slot 64. Slot 64 is one past OT_HIST_SLOTS; the
 * BPF side drops it, which is harmless because a duration in usecs or msecs
 * stays below 2^55. Userspace keeps it (see ot_hist_buckets()).
 *
 * Printing follows bcc's print_log2_hist(): slot k is the row
 * "2^(k-1) -> 2^k - 1", except that slot 1's row reads "0 -> 1" and also
 * counts slot 0 (bcc's log2l maps 0 to slot 1, so bcc has no row for 0).
 */
unsigned int ot_hist_slot(uint64_t value);

/* Rows needed for every slot ot_hist_slot() can return. */
#define OT_HIST_NSLOTS (OT_HIST_SLOTS + 1)

enum ot_hist_unit { OT_UNIT_USEC, OT_UNIT_MSEC };

uint64_t ot_hist_unit_ns(enum ot_hist_unit unit);	/* 1000 or 1000000 (BPF hist_unit_ns) */
const char *ot_hist_unit_name(enum ot_hist_unit unit);	/* "usecs", "msecs": bcc's header */

/* One histogram: the exact durations, in nanoseconds. */
struct ot_hist;

struct ot_hist *ot_hist_new(void);
void ot_hist_free(struct ot_hist *h);
int ot_hist_add(struct ot_hist *h, uint64_t ns);	/* 0, or -ENOMEM (sample not kept) */
void ot_hist_reset(struct ot_hist *h);			/* drop the samples, keep the memory */
uint64_t ot_hist_count(const struct ot_hist *h);

struct ot_hist_stats {
	uint64_t count, min_ns, max_ns;
	long double sum_ns;	/* a uint64_t sum of a few UINT64_MAX samples would wrap */
	double avg_ns;
	uint64_t p50_ns, p90_ns, p99_ns;
};

/*
 * Exact statistics of the samples. Percentiles are nearest-rank on the
 * sorted samples: the p-th percentile is the sample at 1-based rank
 * ceil(p / 100 * n), so it is always a duration that was really measured
 * (n = 1: every percentile is that sample; 1..100: p50 = 50, p90 = 90,
 * p99 = 99). No samples: *out all zero and -ENODATA.
 * Sorts the samples in place, hence the non-const h.
 */
int ot_hist_stats(struct ot_hist *h, struct ot_hist_stats *out);

/*
 * Sample counts per slot of the durations in the unit (ns / unit, integer
 * division, as the BPF side does): slots[0..OT_HIST_NSLOTS-1].
 */
void ot_hist_buckets(const struct ot_hist *h, enum ot_hist_unit unit, uint64_t slots[OT_HIST_NSLOTS]);

/*
 * What the renderings (output/text.c, output/jsonl.c) share. Values are
 * shown in the unit with 3 decimals, i.e. in thousandths of the unit,
 * computed in integers so they stay exact (msecs are rounded half up to the
 * microsecond; usecs are exact).
 */
uint64_t ot_hist_thousandths(uint64_t ns, enum ot_hist_unit unit);
uint64_t ot_hist_avg_thousandths(const struct ot_hist_stats *st, enum ot_hist_unit unit);
const char *ot_hist_unit_suffix(enum ot_hist_unit unit);	/* "us", "ms" */
/* bcc's rows: row r is 2^(r-1) .. 2^r - 1, row 1 ("0 -> 1") takes slot 0 too. */
uint64_t ot_hist_row_low(unsigned int r);
uint64_t ot_hist_row_high(unsigned int r);
/* Per-row counts (index = row, row 0 unused); the first and last non-empty rows (0 if none); the largest count. */
uint64_t ot_hist_rows(const struct ot_hist *h, enum ot_hist_unit unit, uint64_t rows[OT_HIST_NSLOTS],
		     unsigned int *first, unsigned int *last);

/*
 * Histograms keyed by (kind, key). Kinds are 0..nkinds-1 with the caller's
 * names (e.g. ot_hist_kind_names); keys are driver, bus or device names.
 */
#define OT_HIST_KEY_LEN 64	/* keys are cut to 63 bytes; longer keys sharing them share a histogram */

struct ot_hist_table;

/* The names are copied. NULL on a bad argument or out of memory. */
struct ot_hist_table *ot_hist_table_new(const char *const *kind_names, int nkinds);
void ot_hist_table_free(struct ot_hist_table *t);
/* 0, -EINVAL (kind out of range, NULL key) or -ENOMEM. */
int ot_hist_table_add(struct ot_hist_table *t, int kind, const char *key, uint64_t ns);
void ot_hist_table_reset(struct ot_hist_table *t);	/* clear the samples, keep the keys */

/* Entries 0..count-1 in a stable order: by kind, then key (strcmp). */
int ot_hist_table_count(const struct ot_hist_table *t);
/* NULL for i out of range; kind and key may be NULL. The key lives as long as the table. */
struct ot_hist *ot_hist_table_get(struct ot_hist_table *t, int i, int *kind, const char **key);
const char *ot_hist_table_kind_name(const struct ot_hist_table *t, int kind);

#endif

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --prometheus FILE: the run's counters, the shadow's outstanding claims and
 * uses, and probe/remove latency histograms in the Prometheus text format,
 * for node_exporter's textfile collector. A session sink: it counts what
 * passes the display filter and rewrites FILE atomically (FILE.tmp in the
 * same directory, fsync, rename) every interval and at the end. Everything
 * is cumulative from the start of the process, as Prometheus counters must
 * be; nothing is reset between writes.
 */
#ifndef OT_PROMETHEUS_H
#define OT_PROMETHEUS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "core/sink.h"

#define OT_PROM_DEFAULT_INTERVAL_S 15.0

/*
 * Distinct label values (drivers, or --hist-by keys) kept per table; later
 * ones are counted under OT_PROM_OTHER_LABEL, so the file and the memory
 * stay bounded whatever the kernel names.
 */
#define OT_PROM_MAX_LABELS 256
#define OT_PROM_OTHER_LABEL "(other)"

struct ot_prom;

/*
 * path: the file to keep rewriting; interval_s > 0: seconds between
 * rewrites on tick; hist_by (enum ot_hist_by): the label of the latency
 * histograms, as for --hist; live: a live run, whose file also reports
 * the program runs the kernel skipped and this process's resident memory
 * (a replay's depends only on the recording). NULL when out of memory.
 */
struct ot_prom *ot_prom_new(const char *path, double interval_s, unsigned int hist_by, bool live);
void ot_prom_free(struct ot_prom *m);

/* The sink that feeds it (a session's sink; its ctx is m). */
struct ot_sink ot_prom_sink(struct ot_prom *m);

/* The metrics as they stand, in the text format. */
void ot_prom_render(struct ot_prom *m, const struct ot_run *p, FILE *f);

/*
 * Rewrite the file now. 0, or -errno after saying on stderr what failed
 * (once per run of failures, not on every interval).
 */
int ot_prom_write(struct ot_prom *m, const struct ot_run *p);

/* Label values held (both tables), for the bounded-memory tests. */
int ot_prom_label_count(const struct ot_prom *m);

/*
 * Copy src into dst (of len bytes) as a label value: \ " and newline
 * escaped as the text format wants, and any other control byte or byte
 * >= 0x80 (the file must be valid UTF-8; kernel names are ASCII) as '?'.
 * Cut at len - 1 bytes without splitting an escape.
 */
void ot_prom_escape(char *dst, size_t len, const char *src, size_t srclen);

#endif

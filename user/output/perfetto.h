/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --perfetto FILE: the run as a timeline for ui.perfetto.dev and
 * chrome://tracing, in the Chrome trace-event JSON Object Format.
 *
 *   process = IOMMU group ("IOMMU group N"; a device without a group gets a
 *             process of its own), pid = group + 1 since viewers reserve 0
 *   thread  = one device of that group, plus one group-wide track for
 *             calls without a device (iommu_group_claim/release_dma_owner)
 *             and for the intervals each claim was held
 *   "X"     = complete spans: probe, remove, dma_configure, dma_cleanup,
 *             use/unuse_default_domain, claim/release calls, "claim held"
 *   "i"     = anomalies, with kind, message and culprit in args
 *
 * Times are microseconds since the start of the trace. Spans are written
 * when they end (the format does not require sorted events; viewers sort),
 * into a temporary file beside FILE that replaces FILE only once the trace
 * is complete: an interrupted run never leaves half a trace, and an
 * unwritable path fails before tracing starts. Pure C, no libbpf.
 */
#ifndef OT_PERFETTO_H
#define OT_PERFETTO_H

#include "core/sink.h"

struct ot_perfetto;

/*
 * Start a trace to path. It reads the run's start time, owner tokens,
 * bindings and stacks as events arrive. NULL when it cannot (it said why
 * on stderr).
 */
struct ot_perfetto *ot_perfetto_new(const struct ot_run *run, const char *path);
/* The sink that feeds it (a session's sink; its ctx is pf). */
struct ot_sink ot_perfetto_sink(struct ot_perfetto *pf);

/* Free; the temporary file is removed if the trace was never finished. */
void ot_perfetto_free(struct ot_perfetto *pf);

#endif

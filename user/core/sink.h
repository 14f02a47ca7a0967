/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A consumer of the run beside the printed stream (a timeline file,
 * metrics, the regression gate's profile): it sees the events and anomalies
 * that pass the display filter, every exact duration, a tick once per poll
 * of the live loop, and the end of the run. Any callback may be NULL.
 */
#ifndef OT_SINK_H
#define OT_SINK_H

#include <stdint.h>
#include "ownertrace.h"
#include "core/anomaly.h"
#include "core/run.h"

struct ot_sink {
	void *ctx;
	void (*event)(void *ctx, const struct ot_event *ev);
	void (*anomaly)(void *ctx, const struct ot_anomaly *an);
	void (*sample)(void *ctx, const struct ot_sample *s);
	void (*tick)(void *ctx, const struct ot_run *run, uint64_t now_ns);
	/* nonzero: the output could not be completed (it said why) */
	int (*finish)(void *ctx, const struct ot_run *run, uint64_t end_ns);
};

#endif

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A run's behaviour with everything that legitimately changes between two
 * boots of the same scenario taken out, so that two runs can be compared
 * (ownertrace diff):
 *
 *  - ownership sequences: every probe and remove becomes one "episode"
 *    string of the ownership calls made inside it, in order, with their
 *    return values ("probe{dma_configure=0, use_default_domain=0}=0"); a
 *    call outside any probe/remove is an episode of its own
 *    ("group_claim=-16 (EBUSY)"). Episodes are tallied per subject: the
 *    device and driver by name, or for group-level calls the names of the
 *    group's devices. Timestamps, PIDs, CPUs, group numbers and owner
 *    pointers never enter a profile; interleavings of different devices
 *    do not either, because each subject's episodes are tallied apart.
 *  - anomalies: counted per kind and subject, with one example message.
 *  - latency: the exact durations of probe, remove, dma_configure, claim
 *    and release, per driver (or per name of a histogram-only recording).
 *
 * Built as a session sink, live or from a recording; pure C.
 */
#ifndef OT_PROFILE_H
#define OT_PROFILE_H

#include <stdint.h>
#include "analysis/shadow.h"
#include "core/sink.h"

/* One tallied thing: an episode shape of a subject, or an anomaly kind of a subject. */
struct ot_tally_entry {
	char *subject;		/* "0000:00:03.0 (e1000)", "group of 0000:01:00.0+0000:01:01.0" */
	char *what;		/* episode shape, or anomaly kind name */
	char *example;		/* anomalies: the first message; NULL otherwise */
	uint64_t count;
};

struct ot_profile;

struct ot_profile *ot_profile_new(void);
void ot_profile_free(struct ot_profile *p);
/* The sink that feeds it: add to a session before the first event. */
struct ot_sink ot_profile_sink(struct ot_profile *p);

/*
 * Done feeding: name group subjects after their devices and sort. After
 * this the accessors below are valid and the profile takes no more events.
 * 0 or -ENOMEM.
 */
int ot_profile_finish(struct ot_profile *p);

/* Sorted by subject, then what. */
const struct ot_tally_entry *ot_profile_episodes(const struct ot_profile *p, int *count);
const struct ot_tally_entry *ot_profile_anomalies(const struct ot_profile *p, int *count);
/* Latency by (enum ot_hist_kind, name); see hist.h. */
struct ot_hist_table *ot_profile_latency(struct ot_profile *p);

uint64_t ot_profile_event_count(const struct ot_profile *p);
/* Probes/removes whose exit never came (the trace ended inside them): not tallied. */
uint64_t ot_profile_unfinished(const struct ot_profile *p);

#endif

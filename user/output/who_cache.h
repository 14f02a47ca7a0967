/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The rendered "who" of the last event a writer printed: the task (pid,
 * tid, cpu, comm) and what it worked on (device, bus, driver, group).
 * Consecutive events mostly share them (one task binding one device makes
 * a burst of calls), and they are most of an event's formatting work, so
 * a writer renders them once and copies the text while they stay the same.
 *
 * The key is the raw bytes of those fields, bytes past a name's NUL
 * included: equal bytes render equally, so a hit prints exactly what
 * rendering would (a differing byte past the NUL only costs a miss).
 */
#ifndef OT_WHO_CACHE_H
#define OT_WHO_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "ownertrace.h"
#include "util/bytes.h"
#include "util/outbuf.h"

/* The who-fields lie in two runs of struct ot_event: pid..group_id and comm..driver. */
#define OT_WHO_IDS_OFF offsetof(struct ot_event, pid)
#define OT_WHO_IDS_LEN 16
#define OT_WHO_NAMES_OFF offsetof(struct ot_event, comm)
#define OT_WHO_NAMES_LEN (OT_COMM_LEN + OT_DEV_NAME_LEN + OT_BUS_NAME_LEN + OT_DRV_NAME_LEN)
_Static_assert(offsetof(struct ot_event, group_id) + sizeof(__s32) == OT_WHO_IDS_OFF + OT_WHO_IDS_LEN &&
		       offsetof(struct ot_event, tid) < OT_WHO_IDS_OFF + OT_WHO_IDS_LEN &&
		       offsetof(struct ot_event, cpu) < OT_WHO_IDS_OFF + OT_WHO_IDS_LEN,
	       "pid, tid, cpu, group_id are no longer one run of struct ot_event");
_Static_assert(offsetof(struct ot_event, device) == OT_WHO_NAMES_OFF + OT_COMM_LEN &&
		       offsetof(struct ot_event, bus) == offsetof(struct ot_event, device) + OT_DEV_NAME_LEN &&
		       offsetof(struct ot_event, driver) == offsetof(struct ot_event, bus) + OT_BUS_NAME_LEN,
	       "comm, device, bus, driver are no longer one run of struct ot_event");
_Static_assert(OT_WHO_NAMES_LEN % 16 == 0, "the names are compared 16 bytes at a time");

#define OT_WHO_SEGMENTS 2	/* pieces of rendered text per event (JSON: one; text: two, the event name between) */
#define OT_WHO_TEXT_MAX 1024	/* room for a segment: every name byte escaped at 6 fits (the writers assert it) */

_Static_assert(OT_WHO_TEXT_MAX >= OT_PUT_RUN_MAX, "a segment is copied by ot_put_run()");

struct ot_who_cache {
	bool valid;
	unsigned char ids[OT_WHO_IDS_LEN], names[OT_WHO_NAMES_LEN];
	uint16_t len[OT_WHO_SEGMENTS];
	char text[OT_WHO_SEGMENTS][OT_WHO_TEXT_MAX];
};

/* Does the cache hold ev's who-fields as rendered? */
static inline bool ot_who_cache_hit(const struct ot_who_cache *c, const struct ot_event *ev)
{
	const unsigned char *e = (const unsigned char *)ev;

	return c->valid && ot_bytes_equal16n(c->ids, e + OT_WHO_IDS_OFF, OT_WHO_IDS_LEN) &&
	       ot_bytes_equal16n(c->names, e + OT_WHO_NAMES_OFF, OT_WHO_NAMES_LEN);
}

/* After a miss: the segments about to be saved are ev's. */
static inline void ot_who_cache_key(struct ot_who_cache *c, const struct ot_event *ev)
{
	const unsigned char *e = (const unsigned char *)ev;

	memcpy(c->ids, e + OT_WHO_IDS_OFF, OT_WHO_IDS_LEN);
	memcpy(c->names, e + OT_WHO_NAMES_OFF, OT_WHO_NAMES_LEN);
	c->valid = true;
}

/* Keep segment i, just rendered from start to end (at most OT_WHO_TEXT_MAX bytes). */
static inline void ot_who_cache_save(struct ot_who_cache *c, int i, const char *start, const char *end)
{
	c->len[i] = (uint16_t)(end - start);
	memcpy(c->text[i], start, c->len[i]);
}

/* Segment i at p, as it was rendered. */
static inline char *ot_who_cache_put(char *p, const struct ot_who_cache *c, int i)
{
	return ot_put_run(p, c->text[i], c->len[i]);
}

#endif

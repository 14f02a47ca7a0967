/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The rendered fields that name an event's call (JSON: "event", "phase",
 * "function"), per point and phase. They are fixed for a run but for the
 * function bound to the point, which a recording's points table may set
 * at any time: each text keeps the function it was rendered for, and is
 * used only while the binding still names it.
 */
#ifndef OT_CALL_CACHE_H
#define OT_CALL_CACHE_H

#include <stdint.h>
#include <string.h>
#include "ownertrace.h"
#include "core/points.h"
#include "util/bytes.h"
#include "util/outbuf.h"

/* Room for plain names; a rendering that needs more (escapes) is not kept, only slower. */
#define OT_CALL_TEXT_MAX 160
_Static_assert(OT_FUNC_NAME_LEN % 16 == 0, "function names are compared 16 bytes at a time");

_Static_assert(OT_CALL_TEXT_MAX >= OT_PUT_RUN_MAX, "a text is copied by ot_put_run()");

struct ot_call_text {
	char function[OT_FUNC_NAME_LEN];	/* the binding text was rendered for */
	uint16_t len;				/* 0: none kept */
	char text[OT_CALL_TEXT_MAX];
};

struct ot_call_cache {
	struct ot_call_text call[OT_POINT_COUNT][2];	/* [point][phase == EXIT] */
};

/* The slot of point and phase (point < OT_POINT_COUNT). */
static inline struct ot_call_text *ot_call_slot(struct ot_call_cache *c, unsigned int point, unsigned int phase)
{
	return &c->call[point][phase == OT_PHASE_EXIT];
}

/* Does the slot hold a rendering for this bound function? */
static inline bool ot_call_text_valid(const struct ot_call_text *t, const char function[OT_FUNC_NAME_LEN])
{
	return t->len && ot_bytes_equal16n(t->function, function, OT_FUNC_NAME_LEN);
}

/* Keep the rendering from start to end, for function; too long a one is not kept. */
static inline void ot_call_text_save(struct ot_call_text *t, const char function[OT_FUNC_NAME_LEN],
				     const char *start, const char *end)
{
	size_t n = (size_t)(end - start);

	t->len = 0;
	if (!n || n > sizeof(t->text))
		return;
	memcpy(t->function, function, OT_FUNC_NAME_LEN);
	memcpy(t->text, start, n);
	t->len = (uint16_t)n;
}

static inline char *ot_call_text_put(char *p, const struct ot_call_text *t)
{
	return ot_put_run(p, t->text, t->len);
}

#endif

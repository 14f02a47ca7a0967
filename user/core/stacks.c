// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "util/hashmap.h"
#include "core/stacks.h"

/* The value of a stack id: its frames, in one allocation with the pointers to them. */
struct frames {
	int n;
	char *frame[];	/* never NULL, even for n == 0: get() tells empty from unknown */
};

struct ot_stacks {
	struct ot_hashmap ids;	/* stack id -> struct frames * */
};

struct ot_stacks *ot_stacks_new(void)
{
	return calloc(1, sizeof(struct ot_stacks));
}

static void frames_free(struct frames *f)
{
	for (int i = 0; i < f->n; i++)
		free(f->frame[i]);
	free(f);
}

void ot_stacks_free(struct ot_stacks *s)
{
	if (!s)
		return;
	ot_hashmap_for_each(&s->ids, slot)
		frames_free(slot->ptr);
	ot_hashmap_free(&s->ids);
	free(s);
}

static struct frames *frames_copy(const char *const *frames, int n)
{
	struct frames *f = malloc(sizeof(*f) + (size_t)n * sizeof(f->frame[0]));

	if (!f)
		return NULL;
	for (f->n = 0; f->n < n; f->n++) {
		f->frame[f->n] = strndup(frames[f->n], OT_FRAME_LEN - 1);
		if (!f->frame[f->n]) {
			frames_free(f);
			return NULL;
		}
	}
	return f;
}

int ot_stacks_put(struct ot_stacks *s, int32_t id, const char *const *frames, int n)
{
	struct ot_hashmap_slot *slot;
	bool added;

	if (id < 0 || n < 0 || n > OT_STACK_MAX_FRAMES)
		return -EINVAL;
	slot = ot_hashmap_u64_add(&s->ids, (uint64_t)id, &added);
	if (!slot)
		return -ENOMEM;
	if (!added)
		return 0;	/* first wins */
	slot->ptr = frames_copy(frames, n);
	if (!slot->ptr) {
		ot_hashmap_remove(&s->ids, slot);
		return -ENOMEM;
	}
	return 0;
}

bool ot_stacks_has(const struct ot_stacks *s, int32_t id)
{
	return id >= 0 && ot_hashmap_u64_find(&s->ids, (uint64_t)id);
}

const char *const *ot_stacks_get(struct ot_stacks *s, int32_t id, int *n)
{
	struct ot_hashmap_slot *slot = id >= 0 ? ot_hashmap_u64_find(&s->ids, (uint64_t)id) : NULL;
	struct frames *f;

	*n = 0;
	if (!slot)
		return NULL;
	f = slot->ptr;
	*n = f->n;
	return (const char *const *)f->frame;
}

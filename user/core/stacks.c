// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/stacks.h"

struct entry {
	int32_t id;		/* -1: empty slot */
	int n;
	char **frames;
};

struct ot_stacks {
	struct entry *slots;
	size_t cap;		/* power of two */
	size_t count;
};

struct ot_stacks *ot_stacks_new(void)
{
	struct ot_stacks *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cap = 256;
	s->slots = malloc(s->cap * sizeof(*s->slots));
	if (!s->slots) {
		free(s);
		return NULL;
	}
	for (size_t i = 0; i < s->cap; i++)
		s->slots[i].id = -1;
	return s;
}

void ot_stacks_free(struct ot_stacks *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->cap; i++) {
		if (s->slots[i].id < 0)
			continue;	/* empty slot: frames never allocated */
		for (int f = 0; f < s->slots[i].n; f++)
			free(s->slots[i].frames[f]);
		free(s->slots[i].frames);
	}
	free(s->slots);
	free(s);
}

static struct entry *find(struct entry *slots, size_t cap, int32_t id)
{
	size_t i = ((uint32_t)id * 2654435761u) & (cap - 1);

	while (slots[i].id >= 0 && slots[i].id != id)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int grow(struct ot_stacks *s)
{
	size_t cap = s->cap * 2;
	struct entry *slots = malloc(cap * sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < cap; i++)
		slots[i].id = -1;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i].id >= 0)
			*find(slots, cap, s->slots[i].id) = s->slots[i];
	free(s->slots);
	s->slots = slots;
	s->cap = cap;
	return 0;
}

int ot_stacks_put(struct ot_stacks *s, int32_t id, const char *const *frames, int n)
{
	struct entry *e;

	if (id < 0 || n < 0 || n > OT_STACK_MAX_FRAMES)
		return -EINVAL;
	if ((s->count + 1) * 2 > s->cap && grow(s))
		return -ENOMEM;
	e = find(s->slots, s->cap, id);
	if (e->id >= 0)
		return 0;
	e->frames = calloc(n ? n : 1, sizeof(char *));
	if (!e->frames)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		e->frames[i] = strndup(frames[i], OT_FRAME_LEN - 1);
		if (!e->frames[i]) {
			while (i--)
				free(e->frames[i]);
			free(e->frames);
			return -ENOMEM;
		}
	}
	e->n = n;
	e->id = id;
	s->count++;
	return 0;
}

bool ot_stacks_has(const struct ot_stacks *s, int32_t id)
{
	return id >= 0 && find(s->slots, s->cap, id)->id == id;
}

const char *const *ot_stacks_get(struct ot_stacks *s, int32_t id, int *n)
{
	struct entry *e;

	*n = 0;
	if (id < 0)
		return NULL;
	e = find(s->slots, s->cap, id);
	if (e->id != id)
		return NULL;
	*n = e->n;
	return (const char *const *)e->frames;
}

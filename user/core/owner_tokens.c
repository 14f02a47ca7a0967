// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/owner_tokens.h"

/* Open addressing; owners are few (one per VFIO group or iommufd context). */
struct slot {
	uint64_t owner;		/* 0 = empty */
	unsigned int token;
};

struct ot_owner_tokens {
	struct slot *slots;
	size_t cap;		/* power of two */
	size_t count;		/* tokens issued */
	size_t live;		/* owners in the table */
	size_t limit;		/* most owners remembered, 0 = no limit */
	uint64_t forgotten;
};

struct ot_owner_tokens *ot_owner_tokens_new(void)
{
	struct ot_owner_tokens *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cap = 64;
	t->slots = calloc(t->cap, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	return t;
}

void ot_owner_tokens_free(struct ot_owner_tokens *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

static size_t hash(uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	return (size_t)v;
}

static struct slot *find(struct slot *slots, size_t cap, uint64_t owner)
{
	size_t i = hash(owner) & (cap - 1);

	while (slots[i].owner && slots[i].owner != owner)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int grow(struct ot_owner_tokens *t)
{
	size_t cap = t->cap * 2;
	struct slot *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].owner)
			*find(slots, cap, t->slots[i].owner) = t->slots[i];
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

unsigned int ot_owner_token(struct ot_owner_tokens *t, uint64_t owner)
{
	struct slot *s;

	if (!owner)
		return 0;
	s = find(t->slots, t->cap, owner);
	if (s->owner)
		return s->token;
	if (t->limit && t->live >= t->limit) {
		/* start a new generation rather than evict one by one: owners
		 * are short-lived VFIO/iommufd contexts, rarely seen again */
		memset(t->slots, 0, t->cap * sizeof(*t->slots));
		t->forgotten += t->live;
		t->live = 0;
		/* s was the end of the owner's probe run in the full table;
		 * stored there, it would sit behind an empty home slot and
		 * never be found again */
		s = find(t->slots, t->cap, owner);
	}
	if ((t->live + 1) * 2 > t->cap) {
		if (grow(t))
			return 0;
		s = find(t->slots, t->cap, owner);
	}
	s->owner = owner;
	s->token = ++t->count;
	t->live++;
	return s->token;
}

size_t ot_owner_tokens_count(const struct ot_owner_tokens *t)
{
	return t->count;
}

void ot_owner_tokens_set_limit(struct ot_owner_tokens *t, size_t max)
{
	t->limit = max;
}

size_t ot_owner_tokens_live(const struct ot_owner_tokens *t)
{
	return t->live;
}

uint64_t ot_owner_tokens_forgotten(const struct ot_owner_tokens *t)
{
	return t->forgotten;
}

const char *ot_owner_format(struct ot_owner_tokens *t, uint64_t owner, bool raw, char *buf, size_t len)
{
	unsigned int token;

	if (!owner) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (raw) {
		snprintf(buf, len, "0x%" PRIx64, owner);
		return buf;
	}
	token = ot_owner_token(t, owner);
	if (token)
		snprintf(buf, len, "owner#%u", token);
	else
		snprintf(buf, len, "owner#?");
	return buf;
}

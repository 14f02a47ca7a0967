// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/hashmap.h"
#include "core/owner_tokens.h"

struct ot_owner_tokens {
	struct ot_hashmap owners;	/* owner pointer -> token; few: one per VFIO group or iommufd context */
	size_t count;		/* tokens issued */
	size_t limit;		/* most owners remembered, 0 = no limit */
	uint64_t forgotten;
};

struct ot_owner_tokens *ot_owner_tokens_new(void)
{
	return calloc(1, sizeof(struct ot_owner_tokens));
}

void ot_owner_tokens_free(struct ot_owner_tokens *t)
{
	if (!t)
		return;
	ot_hashmap_free(&t->owners);
	free(t);
}

unsigned int ot_owner_token(struct ot_owner_tokens *t, uint64_t owner)
{
	struct ot_hashmap_slot *s;
	bool added;

	if (!owner)
		return 0;
	s = ot_hashmap_u64_find(&t->owners, owner);
	if (s)
		return (unsigned int)s->value;
	if (t->limit && ot_hashmap_count(&t->owners) >= t->limit) {
		/* start a new generation rather than evict one by one: owners
		 * are short-lived VFIO/iommufd contexts, rarely seen again */
		t->forgotten += ot_hashmap_count(&t->owners);
		ot_hashmap_clear(&t->owners);
	}
	s = ot_hashmap_u64_add(&t->owners, owner, &added);
	if (!s)
		return 0;
	s->value = ++t->count;
	return (unsigned int)s->value;
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
	return ot_hashmap_count(&t->owners);
}

uint64_t ot_owner_tokens_forgotten(const struct ot_owner_tokens *t)
{
	return t->forgotten;
}

/* Digits of v in base 10 or 16 at p (room for 20); returns their count. */
static size_t put_digits(char *p, uint64_t v, unsigned int base)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	for (size_t i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

/* By hand, not snprintf: the text and JSON writers call this for every event. */
const char *ot_owner_format(struct ot_owner_tokens *t, uint64_t owner, bool raw, char *buf, size_t len)
{
	char tmp[32];
	size_t n;

	if (!owner) {
		tmp[0] = '-';
		n = 1;
	} else if (raw) {
		memcpy(tmp, "0x", 2);
		n = 2 + put_digits(tmp + 2, owner, 16);
	} else {
		unsigned int token = ot_owner_token(t, owner);

		memcpy(tmp, "owner#", 6);
		n = 6;
		if (token)
			n += put_digits(tmp + n, token, 10);
		else
			tmp[n++] = '?';
	}
	if (!len)
		return buf;
	if (n >= len)
		n = len - 1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return buf;
}

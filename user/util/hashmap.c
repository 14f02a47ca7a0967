// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The hash map; the design and its reasons are in hashmap.h. */
#include <stdlib.h>
#include <string.h>
#include "util/hashmap.h"

#define FIRST_BITS 4
#define FIRST_CAP (1u << FIRST_BITS)

/* A hash's home slot: its top bits, the best mixed of a multiplicative hash. */
static inline size_t home(unsigned int shift, uint64_t hash)
{
	return (size_t)(hash >> shift);
}

uint64_t ot_hash_more(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;	/* the FNV-1a 64-bit prime */
	return h;
}

uint64_t ot_hash_str(const char *s)
{
	return ot_hash_mix(ot_hash_more(OT_HASH_SEED, s, strlen(s)));
}

/* A slot's hash also says it is used, so a key that hashes to 0 is stored as 1. */
static inline uint64_t stored_hash(uint64_t hash)
{
	return hash ? hash : 1;
}

/*
 * Walk the probe run of hash: the matching slot, or NULL with *empty the
 * slot that ends the run (where the key would go). Never endless: the
 * table is at most half full. Inline, so that each typed helper below gets
 * its own copy with the comparison inlined too.
 */
static inline struct ot_hashmap_slot *lookup(const struct ot_hashmap *m, uint64_t hash, ot_hashmap_match_fn *match,
					     const void *probe, struct ot_hashmap_slot **empty)
{
	size_t mask = m->cap - 1;
	struct ot_hashmap_slot *s;

	*empty = NULL;
	if (!m->cap)
		return NULL;
	for (size_t i = home(m->shift, hash);; i = (i + 1) & mask) {
		s = &m->slots[i];
		if (!s->hash) {
			*empty = s;
			return NULL;
		}
		if (s->hash == hash && match(s, probe))
			return s;
	}
}

/* The first empty slot of hash's run: where a key known to be absent goes. */
static struct ot_hashmap_slot *first_empty(struct ot_hashmap_slot *slots, size_t cap, unsigned int shift,
					   uint64_t hash)
{
	size_t i = home(shift, hash);

	while (slots[i].hash)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int grow(struct ot_hashmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : FIRST_CAP;
	unsigned int shift = m->cap ? m->shift - 1 : 64 - FIRST_BITS;
	struct ot_hashmap_slot *slots;

	if (m->cap > SIZE_MAX / 2 / sizeof(*slots))
		return -1;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -1;
	/* the cached hashes place every entry without looking at its key */
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].hash)
			*first_empty(slots, cap, shift, m->slots[i].hash) = m->slots[i];
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	m->shift = shift;
	return 0;
}

static inline struct ot_hashmap_slot *add(struct ot_hashmap *m, uint64_t hash, ot_hashmap_match_fn *match,
					  const void *probe, bool *added)
{
	struct ot_hashmap_slot *s, *empty;

	*added = false;
	hash = stored_hash(hash);
	s = lookup(m, hash, match, probe, &empty);
	if (s)
		return s;
	/* grow only for a new key: finding an existing one never allocates */
	if ((m->count + 1) * 2 > m->cap) {
		if (grow(m))
			return NULL;
		empty = first_empty(m->slots, m->cap, m->shift, hash);
	}
	*empty = (struct ot_hashmap_slot){ .hash = hash };
	m->count++;
	*added = true;
	return empty;
}

struct ot_hashmap_slot *ot_hashmap_find(const struct ot_hashmap *m, uint64_t hash, ot_hashmap_match_fn *match,
					const void *probe)
{
	struct ot_hashmap_slot *empty;

	return lookup(m, stored_hash(hash), match, probe, &empty);
}

struct ot_hashmap_slot *ot_hashmap_add(struct ot_hashmap *m, uint64_t hash, ot_hashmap_match_fn *match,
				       const void *probe, bool *added)
{
	return add(m, hash, match, probe, added);
}

/*
 * Backward-shift deletion: rather than leave a tombstone, pull back every
 * later entry of the run whose probe path passes the hole, so that lookups
 * still stop at the first empty slot and runs never lengthen with removals.
 */
void ot_hashmap_remove(struct ot_hashmap *m, struct ot_hashmap_slot *slot)
{
	size_t mask = m->cap - 1, hole = (size_t)(slot - m->slots);

	for (size_t j = (hole + 1) & mask; m->slots[j].hash; j = (j + 1) & mask) {
		size_t from = home(m->shift, m->slots[j].hash);

		/* the entry at j was probed from its home to j: is the hole on that path? */
		if (((j - from) & mask) >= ((j - hole) & mask)) {
			m->slots[hole] = m->slots[j];
			hole = j;
		}
	}
	m->slots[hole] = (struct ot_hashmap_slot){ 0 };
	m->count--;
}

void ot_hashmap_clear(struct ot_hashmap *m)
{
	if (m->cap)
		memset(m->slots, 0, m->cap * sizeof(*m->slots));
	m->count = 0;
}

void ot_hashmap_free(struct ot_hashmap *m)
{
	free(m->slots);
	*m = (struct ot_hashmap){ 0 };
}

struct ot_hashmap_slot *ot_hashmap_next(const struct ot_hashmap *m, const struct ot_hashmap_slot *prev)
{
	for (size_t i = prev ? (size_t)(prev - m->slots) + 1 : 0; i < m->cap; i++)
		if (m->slots[i].hash)
			return &m->slots[i];
	return NULL;
}

/* ---- u64 keys ------------------------------------------------------------ */

static bool match_u64(const struct ot_hashmap_slot *s, const void *probe)
{
	return s->key == *(const uint64_t *)probe;
}

struct ot_hashmap_slot *ot_hashmap_u64_find(const struct ot_hashmap *m, uint64_t key)
{
	struct ot_hashmap_slot *empty;

	return lookup(m, stored_hash(ot_hash_u64(key)), match_u64, &key, &empty);
}

struct ot_hashmap_slot *ot_hashmap_u64_add(struct ot_hashmap *m, uint64_t key, bool *added)
{
	struct ot_hashmap_slot *s = add(m, ot_hash_u64(key), match_u64, &key, added);

	if (s && *added)
		s->key = key;
	return s;
}

/* ---- string keys ----------------------------------------------------------- */

static bool match_str(const struct ot_hashmap_slot *s, const void *probe)
{
	return !strcmp(s->key_ptr, probe);
}

struct ot_hashmap_slot *ot_hashmap_str_find(const struct ot_hashmap *m, const char *key)
{
	struct ot_hashmap_slot *empty;

	return lookup(m, stored_hash(ot_hash_str(key)), match_str, key, &empty);
}

struct ot_hashmap_slot *ot_hashmap_str_add(struct ot_hashmap *m, const char *key, bool *added)
{
	struct ot_hashmap_slot *s = add(m, ot_hash_str(key), match_str, key, added);

	if (s && *added)
		s->key_ptr = key;
	return s;
}

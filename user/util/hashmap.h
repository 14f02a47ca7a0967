/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one hash map of ownertrace: stack ids -> frames, raw stacks -> ids,
 * owner pointers -> tokens, (subject, what) -> tally entry.
 *
 * Open addressing with linear probing, not chaining: every user maps to a
 * small fixed-size value (an id, a token, an index, a pointer), so a slot
 * holds the whole entry and a lookup touches one contiguous run of slots
 * instead of chasing a node per entry; and deletion without tombstones
 * (backward shift) keeps probe runs short however much is removed. Each
 * slot caches the key's 64-bit hash: it marks the slot used (0 is never a
 * stored hash), rejects almost every non-matching slot without calling the
 * key comparison, and lets growth rehash without the key at all, so keys
 * may be anything a caller can hash and compare (a u64, a string, an array
 * of addresses, an index into the caller's own array).
 *
 * A key's home slot is the top bits of its hash (hash >> shift): a single
 * multiply (Fibonacci hashing) makes good top bits of a u64 key, where low
 * bits would need a full mixer, and u64 lookups are the hot ones (an owner
 * token and a stack per event). A hash given to the generic functions must
 * therefore be mixed in its high bits, as ot_hash_mix() makes any hash.
 *
 * The table doubles when it would become more than half full: short probe
 * runs matter more than memory here (the tables hold thousands of entries,
 * and most lookups of a new stack or owner are misses, whose expected run
 * grows as 1/(1-load)^2).
 *
 * The map owns only its slots; keys and values that point to memory stay
 * the caller's, to free by iterating before ot_hashmap_free(). Iteration
 * order is the slot order, i.e. hash order: no output may depend on it.
 */
#ifndef OT_HASHMAP_H
#define OT_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ot_hashmap_slot {
	uint64_t hash;		/* 0: empty; otherwise managed by the map */
	union {
		uint64_t key;
		const void *key_ptr;
	};
	union {
		uint64_t value;
		void *ptr;
	};
};

/* Zero-initialized is an empty map: no memory until the first add. */
struct ot_hashmap {
	struct ot_hashmap_slot *slots;
	size_t cap;		/* 0 or a power of two, 2^(64 - shift) */
	size_t count;
	unsigned int shift;	/* a hash's home slot is its top bits: hash >> shift */
};

/* Does the stored key of a slot equal probe, a key in whatever form the caller looks up with? */
typedef bool ot_hashmap_match_fn(const struct ot_hashmap_slot *slot, const void *probe);

/* ---- hashing: equal keys must hash equal, whatever form they come in ---- */

#define OT_HASH_SEED 0xcbf29ce484222325ULL	/* the FNV-1a offset basis */

/* FNV-1a over len bytes, continuing h (start from OT_HASH_SEED); finish with ot_hash_mix(). */
uint64_t ot_hash_more(uint64_t h, const void *data, size_t len);

/* The murmur3 64-bit finalizer: every input bit reaches every output bit (FNV's top bits miss the last bytes). */
static inline uint64_t ot_hash_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* Fibonacci hashing: one multiply by 2^64 / golden ratio; its top bits depend on every key bit. */
static inline uint64_t ot_hash_u64(uint64_t key)
{
	return key * 0x9e3779b97f4a7c15ULL;
}

uint64_t ot_hash_str(const char *s);

/* ---- the map, for any key ------------------------------------------------ */

/* The slot whose key matches probe among those stored with this hash, or NULL. */
struct ot_hashmap_slot *ot_hashmap_find(const struct ot_hashmap *m, uint64_t hash, ot_hashmap_match_fn *match,
					const void *probe);

/*
 * The slot of probe's key, created if missing (*added then true, else
 * false); NULL if out of memory (the map is unchanged). A created slot has
 * key and value 0: before the next call on the map the caller fills it so
 * that match(slot, probe) holds (usually: sets the key), or removes it
 * again. Slot pointers are valid until the next add or remove.
 */
struct ot_hashmap_slot *ot_hashmap_add(struct ot_hashmap *m, uint64_t hash, ot_hashmap_match_fn *match,
				       const void *probe, bool *added);

/* Remove a slot that find or add returned; no other slot pointer stays valid. */
void ot_hashmap_remove(struct ot_hashmap *m, struct ot_hashmap_slot *slot);

/* Forget every entry; the memory stays for the entries to come. */
void ot_hashmap_clear(struct ot_hashmap *m);

/* Release the slots (not what keys and values point to); the map is empty and usable again. */
void ot_hashmap_free(struct ot_hashmap *m);

static inline size_t ot_hashmap_count(const struct ot_hashmap *m)
{
	return m->count;
}

/* The used slot after prev (NULL: the first), NULL at the end. No add or remove in between. */
struct ot_hashmap_slot *ot_hashmap_next(const struct ot_hashmap *m, const struct ot_hashmap_slot *prev);

#define ot_hashmap_for_each(m, slot) \
	for (struct ot_hashmap_slot *slot = ot_hashmap_next(m, NULL); slot; slot = ot_hashmap_next(m, slot))

/* ---- u64 keys -------------------------------------------------------------- */

struct ot_hashmap_slot *ot_hashmap_u64_find(const struct ot_hashmap *m, uint64_t key);
/* As ot_hashmap_add; the key is set already. */
struct ot_hashmap_slot *ot_hashmap_u64_add(struct ot_hashmap *m, uint64_t key, bool *added);

/* ---- string keys, compared exactly ------------------------------------------ */

struct ot_hashmap_slot *ot_hashmap_str_find(const struct ot_hashmap *m, const char *key);
/*
 * As ot_hashmap_add, with key_ptr set to key itself: the map keeps the
 * pointer, not a copy, so key must outlive the entry; a caller adding a
 * string it does not keep replaces key_ptr with its own equal copy.
 */
struct ot_hashmap_slot *ot_hashmap_str_add(struct ot_hashmap *m, const char *key, bool *added);

#endif

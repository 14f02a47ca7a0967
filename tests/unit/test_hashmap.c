/*
 * util/hashmap: u64 and string keys, forced collisions (one hash for every
 * key, runs wrapping around the end of the table), growth, removal against
 * a reference model, clear, iteration, and the hash functions themselves.
 * Run under valgrind by tests/test_unit.py.
 */
#include <stdlib.h>
#include "unit.h"
#include "util/hashmap.h"

/* deterministic, so a failure reproduces */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* every slot used is counted, the load stays at most half, the capacity is a power of two */
static void check_shape(const struct ot_hashmap *m)
{
	size_t used = 0;

	ot_hashmap_for_each(m, s)
		used++;
	CHECK(used == ot_hashmap_count(m));
	CHECK(m->cap == 0 || (m->cap & (m->cap - 1)) == 0);
	CHECK(ot_hashmap_count(m) * 2 <= m->cap || m->cap == 0);
}

static void test_empty(void)
{
	struct ot_hashmap m = { 0 };

	CHECK(ot_hashmap_u64_find(&m, 1) == NULL);
	CHECK(ot_hashmap_str_find(&m, "x") == NULL);
	CHECK(ot_hashmap_next(&m, NULL) == NULL);
	CHECK(ot_hashmap_count(&m) == 0);
	ot_hashmap_clear(&m);	/* nothing allocated yet */
	ot_hashmap_free(&m);
	ot_hashmap_free(&m);	/* freed is empty again */
	CHECK(m.slots == NULL && m.cap == 0);
}

static void test_u64_basics(void)
{
	struct ot_hashmap m = { 0 };
	struct ot_hashmap_slot *s;
	bool added;

	s = ot_hashmap_u64_add(&m, 42, &added);
	CHECK(s && added && s->key == 42 && s->value == 0);
	s->value = 7;
	s = ot_hashmap_u64_add(&m, 42, &added);
	CHECK(s && !added && s->value == 7);
	CHECK(ot_hashmap_count(&m) == 1);
	/* key 0 is an ordinary key (its hash is 0, which marks empty slots) */
	s = ot_hashmap_u64_add(&m, 0, &added);
	CHECK(s && added);
	s->value = 100;
	s = ot_hashmap_u64_add(&m, UINT64_MAX, &added);
	CHECK(s && added);
	s->value = 200;
	CHECK(ot_hashmap_u64_find(&m, 0) && ot_hashmap_u64_find(&m, 0)->value == 100);
	CHECK(ot_hashmap_u64_find(&m, UINT64_MAX)->value == 200);
	CHECK(ot_hashmap_u64_find(&m, 42)->value == 7);
	CHECK(ot_hashmap_u64_find(&m, 43) == NULL);
	CHECK(ot_hashmap_count(&m) == 3);
	check_shape(&m);
	ot_hashmap_free(&m);
}

/* x * inv == 1 mod 2^64, by Newton's iteration (each step doubles the correct low bits) */
static uint64_t mul_inverse(uint64_t x)
{
	uint64_t inv = x;

	for (int i = 0; i < 6; i++)
		inv *= 2 - x * inv;
	return inv;
}

/* ot_hash_mix is a bijection: its inverse, to build keys of a chosen hash */
static uint64_t unmix(uint64_t h)
{
	h ^= h >> 33;
	h *= mul_inverse(0xc4ceb9fe1a85ec53ULL);
	h ^= h >> 33;
	h *= mul_inverse(0xff51afd7ed558ccdULL);
	h ^= h >> 33;
	return h;
}

static void test_hash_functions(void)
{
	/* FNV-1a 64 known answers */
	CHECK(ot_hash_more(OT_HASH_SEED, "", 0) == 0xcbf29ce484222325ULL);
	CHECK(ot_hash_more(OT_HASH_SEED, "a", 1) == 0xaf63dc4c8601ec8cULL);
	CHECK(ot_hash_more(OT_HASH_SEED, "foobar", 6) == 0x85944171f73967e8ULL);
	/* hashing in pieces is hashing the whole */
	CHECK(ot_hash_more(ot_hash_more(OT_HASH_SEED, "foo", 3), "bar", 3) ==
	      ot_hash_more(OT_HASH_SEED, "foobar", 6));
	CHECK(ot_hash_str("foobar") == ot_hash_mix(0x85944171f73967e8ULL));
	{
		int wrong = 0;

		for (int i = 0; i < 1000; i++) {
			uint64_t k = next_random();

			wrong += unmix(ot_hash_mix(k)) != k;
		}
		CHECK(wrong == 0);
	}
	CHECK(ot_hash_u64(0) == 0);
	/* the top bits pick the slot: consecutive keys (stack ids) and
	 * page-aligned pointers (owners) both spread evenly over them */
	for (int stride = 1; stride <= 4096; stride *= 4096) {
		int buckets[64] = { 0 }, fullest = 0;

		for (uint64_t k = 0; k < 64 * 16; k++)
			buckets[ot_hash_u64(0xffff888000000000ULL * (stride > 1) + k * (uint64_t)stride) >> 58]++;
		for (int i = 0; i < 64; i++)
			fullest = buckets[i] > fullest ? buckets[i] : fullest;
		CHECK(fullest <= 32);	/* 16 each if perfectly even */
	}
}

/* Key 0 hashes to 0, which the map stores as 1: the key whose hash is 1 must stay apart. */
static void test_u64_same_stored_hash(void)
{
	struct ot_hashmap m = { 0 };
	uint64_t one = mul_inverse(0x9e3779b97f4a7c15ULL);	/* the Fibonacci multiplier's inverse */
	bool added;

	CHECK(ot_hash_u64(one) == 1 && one != 0);
	ot_hashmap_u64_add(&m, 0, &added)->value = 10;
	ot_hashmap_u64_add(&m, one, &added)->value = 11;
	CHECK(added);
	CHECK(ot_hashmap_u64_find(&m, 0)->value == 10);
	CHECK(ot_hashmap_u64_find(&m, one)->value == 11);
	ot_hashmap_remove(&m, ot_hashmap_u64_find(&m, 0));
	CHECK(ot_hashmap_u64_find(&m, 0) == NULL && ot_hashmap_u64_find(&m, one)->value == 11);
	ot_hashmap_free(&m);
}

static void test_u64_growth_and_many_keys(void)
{
	struct ot_hashmap m = { 0 };
	const uint64_t n = 100000;
	size_t caps_seen = 0, cap = 0;
	bool added;
	int wrong = 0;

	for (uint64_t i = 0; i < n; i++) {
		/* kernel-pointer-like keys: the low 12 bits all zero */
		struct ot_hashmap_slot *s = ot_hashmap_u64_add(&m, 0xffff888000000000ULL + i * 4096, &added);

		if (!s || !added) {
			wrong++;
			continue;
		}
		s->value = i;
		if (m.cap != cap) {
			wrong += cap != 0 && m.cap != cap * 2;	/* doubling */
			cap = m.cap;
			caps_seen++;
		}
	}
	CHECK(wrong == 0);
	CHECK(ot_hashmap_count(&m) == n);
	CHECK(caps_seen > 10);
	check_shape(&m);

	for (uint64_t i = 0; i < n; i++) {
		struct ot_hashmap_slot *s = ot_hashmap_u64_find(&m, 0xffff888000000000ULL + i * 4096);

		wrong += !s || s->value != i;
	}
	CHECK(wrong == 0);
	CHECK(ot_hashmap_u64_find(&m, 0xffff888000000000ULL + n * 4096) == NULL);
	CHECK(ot_hashmap_u64_find(&m, 0xffff888000000001ULL) == NULL);
	ot_hashmap_free(&m);
}

/* ---- generic keys with chosen hashes: collisions -------------------------- */

struct probe {
	uint64_t key;
	uint64_t hash;
};

static bool match_key(const struct ot_hashmap_slot *s, const void *probe)
{
	return s->key == ((const struct probe *)probe)->key;
}

static struct ot_hashmap_slot *put(struct ot_hashmap *m, uint64_t key, uint64_t hash, uint64_t value)
{
	struct probe p = { key, hash };
	bool added;
	struct ot_hashmap_slot *s = ot_hashmap_add(m, hash, match_key, &p, &added);

	if (s && added) {
		s->key = key;
		s->value = value;
	}
	return s;
}

static struct ot_hashmap_slot *get(const struct ot_hashmap *m, uint64_t key, uint64_t hash)
{
	struct probe p = { key, hash };

	return ot_hashmap_find(m, hash, match_key, &p);
}

static void test_all_keys_collide(void)
{
	struct ot_hashmap m = { 0 };
	int wrong = 0;

	/* one hash for every key: a single run, only the key comparison tells them apart */
	for (uint64_t k = 1; k <= 500; k++)
		CHECK(put(&m, k, 42, k * 3) != NULL);
	CHECK(ot_hashmap_count(&m) == 500);
	for (uint64_t k = 1; k <= 500; k++)
		wrong += !get(&m, k, 42) || get(&m, k, 42)->value != k * 3;
	CHECK(wrong == 0);
	CHECK(get(&m, 501, 42) == NULL);
	CHECK(get(&m, 1, 43) == NULL);	/* the right key under another hash is not it */
	/* remove from the front, middle and end of the run */
	ot_hashmap_remove(&m, get(&m, 1, 42));
	ot_hashmap_remove(&m, get(&m, 250, 42));
	ot_hashmap_remove(&m, get(&m, 500, 42));
	wrong = 0;
	for (uint64_t k = 1; k <= 500; k++) {
		bool gone = k == 1 || k == 250 || k == 500;

		wrong += gone ? get(&m, k, 42) != NULL : !get(&m, k, 42) || get(&m, k, 42)->value != k * 3;
	}
	CHECK(wrong == 0);
	CHECK(ot_hashmap_count(&m) == 497);
	check_shape(&m);
	ot_hashmap_free(&m);
}

/* A hash whose home is slot i of a 16-slot table (the top 4 bits pick it). */
#define SLOT_OF_16(i) (((uint64_t)(i) << 60) | 1)

/* Runs that start at the last slots wrap around to slot 0; removal must follow them. */
static void test_wraparound(void)
{
	struct ot_hashmap m = { 0 };
	int wrong = 0;

	/* a fresh table has 16 slots: these runs start at its last two */
	for (uint64_t k = 0; k < 6; k++)
		put(&m, k, SLOT_OF_16(k % 2 ? 15 : 14), k);
	put(&m, 100, SLOT_OF_16(0), 100);	/* home slot 0, taken by the wrapped run */
	CHECK(m.cap == 16);
	for (uint64_t k = 0; k < 6; k++)
		wrong += !get(&m, k, SLOT_OF_16(k % 2 ? 15 : 14));
	CHECK(wrong == 0 && get(&m, 100, SLOT_OF_16(0)));
	/* the hole at slot 14: everything after it shifts back, across the end */
	ot_hashmap_remove(&m, get(&m, 0, SLOT_OF_16(14)));
	ot_hashmap_remove(&m, get(&m, 3, SLOT_OF_16(15)));
	CHECK(get(&m, 100, SLOT_OF_16(0)) && get(&m, 100, SLOT_OF_16(0))->value == 100);
	/* no gap left: 14, 15, 0, 1, 2 hold 2, 1, 4, 5 and 100 */
	CHECK(m.slots[14].key == 2 && m.slots[15].key == 1 && m.slots[0].key == 4 && m.slots[1].key == 5 &&
	      m.slots[2].key == 100 && !m.slots[3].hash);
	wrong = 0;
	for (uint64_t k = 0; k < 6; k++)
		wrong += (k == 0 || k == 3) ? get(&m, k, SLOT_OF_16(k % 2 ? 15 : 14)) != NULL
					    : !get(&m, k, SLOT_OF_16(k % 2 ? 15 : 14));
	CHECK(wrong == 0);
	check_shape(&m);
	ot_hashmap_free(&m);
}

/* Random adds and removes with a weak hash (a few home slots: long, overlapping runs) against a model. */
/* One of hash_values hashes spread over the top bits (0: the real hash). */
static uint64_t weak_hash(uint64_t k, uint64_t hash_values)
{
	return hash_values ? (k % hash_values) * (UINT64_MAX / hash_values) : ot_hash_u64(k);
}

static void test_remove_against_model(uint64_t hash_values)
{
	enum { KEYS = 600 };
	static bool present[KEYS];
	struct ot_hashmap m = { 0 };
	size_t count = 0;
	int wrong = 0;

	memset(present, 0, sizeof(present));
	for (int op = 0; op < 20000; op++) {
		uint64_t k = next_random() % KEYS, h = weak_hash(k, hash_values);
		struct ot_hashmap_slot *s = get(&m, k, h);

		wrong += (s != NULL) != present[k];
		if (next_random() % 3) {
			bool added;
			struct probe p = { k, h };

			s = ot_hashmap_add(&m, h, match_key, &p, &added);
			wrong += added == present[k];
			if (added) {
				s->key = k;
				s->value = k + 1;
				present[k] = true;
				count++;
			}
		} else if (s) {
			ot_hashmap_remove(&m, s);
			present[k] = false;
			count--;
		}
		wrong += ot_hashmap_count(&m) != count;
	}
	for (uint64_t k = 0; k < KEYS; k++) {
		struct ot_hashmap_slot *s = get(&m, k, weak_hash(k, hash_values));

		wrong += present[k] ? !s || s->value != k + 1 : s != NULL;
	}
	CHECK(wrong == 0);
	check_shape(&m);
	/* remove everything: the map is empty and reusable */
	for (uint64_t k = 0; k < KEYS; k++)
		if (present[k])
			ot_hashmap_remove(&m, get(&m, k, weak_hash(k, hash_values)));
	CHECK(ot_hashmap_count(&m) == 0 && ot_hashmap_next(&m, NULL) == NULL);
	CHECK(put(&m, 5, 5, 6) && get(&m, 5, 5)->value == 6);
	ot_hashmap_free(&m);
}

/* A slot created by add and not wanted after all (the caller's allocation failed) is removed again. */
static void test_add_then_undo(void)
{
	struct ot_hashmap m = { 0 };
	bool added;

	for (uint64_t k = 0; k < 7; k++)
		ot_hashmap_u64_add(&m, k, &added);
	struct ot_hashmap_slot *s = ot_hashmap_u64_add(&m, 99, &added);

	CHECK(added);
	ot_hashmap_remove(&m, s);
	CHECK(ot_hashmap_u64_find(&m, 99) == NULL && ot_hashmap_count(&m) == 7);
	for (uint64_t k = 0; k < 7; k++)
		CHECK(ot_hashmap_u64_find(&m, k) != NULL);
	ot_hashmap_free(&m);
}

/* ---- string keys ------------------------------------------------------------ */

static void test_strings(void)
{
	static const char *const words[] = {
		"", "d", "de", "dev", "device", "device0", "device00", "device01", "device1",
		"0000:00:03.0", "0000:00:03.1", "0000:00:03.0 ", "0000:00:03.0 (e1000)", "0000:00:03.0 (e1000e)",
	};
	const int n = sizeof(words) / sizeof(words[0]);
	struct ot_hashmap m = { 0 };
	char copy[64];
	bool added;
	int wrong = 0;

	for (int i = 0; i < n; i++) {
		struct ot_hashmap_slot *s = ot_hashmap_str_add(&m, words[i], &added);

		CHECK(s && added && s->key_ptr == words[i]);
		s->value = (uint64_t)i;
	}
	CHECK(ot_hashmap_count(&m) == (size_t)n);
	for (int i = 0; i < n; i++) {
		/* found by content, not by pointer */
		snprintf(copy, sizeof(copy), "%s", words[i]);
		struct ot_hashmap_slot *s = ot_hashmap_str_find(&m, copy);

		wrong += !s || s->value != (uint64_t)i;
		s = ot_hashmap_str_add(&m, copy, &added);
		wrong += added || s->key_ptr != words[i];
	}
	CHECK(wrong == 0);
	CHECK(ot_hashmap_str_find(&m, "devic") == NULL);
	CHECK(ot_hashmap_str_find(&m, "device000") == NULL);
	CHECK(ot_hashmap_str_find(&m, "0000:00:03.0 (e1000") == NULL);
	check_shape(&m);
	ot_hashmap_free(&m);
}

/* Many strings sharing a long prefix, the map owning none of them: the caller keeps copies. */
static void test_many_strings(void)
{
	struct ot_hashmap m = { 0 };
	char name[80];
	bool added;
	int wrong = 0;

	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "iommu_group_claim_dma_owner+0x%x/0x1a0 [vfio] %d", i % 97, i);
		struct ot_hashmap_slot *s = ot_hashmap_str_add(&m, name, &added);

		CHECK(s && added);
		s->key_ptr = strdup(name);	/* name is reused: keep a copy */
		s->value = (uint64_t)i;
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "iommu_group_claim_dma_owner+0x%x/0x1a0 [vfio] %d", i % 97, i);
		struct ot_hashmap_slot *s = ot_hashmap_str_find(&m, name);

		wrong += !s || s->value != (uint64_t)i;
	}
	CHECK(wrong == 0);
	CHECK(ot_hashmap_count(&m) == 5000);
	ot_hashmap_for_each(&m, s)
		free((void *)s->key_ptr);
	ot_hashmap_free(&m);
}

/* String keys that all collide: only the exact comparison tells them apart. */
static bool match_string(const struct ot_hashmap_slot *s, const void *probe)
{
	return !strcmp(s->key_ptr, probe);
}

static void test_string_collisions(void)
{
	static const char *const words[] = { "abc", "abd", "ab", "abcd", "" };
	struct ot_hashmap m = { 0 };
	bool added;

	for (int i = 0; i < 5; i++) {
		struct ot_hashmap_slot *s = ot_hashmap_add(&m, 7, match_string, words[i], &added);

		CHECK(added);
		s->key_ptr = words[i];
		s->value = (uint64_t)i;
	}
	for (int i = 0; i < 5; i++) {
		struct ot_hashmap_slot *s = ot_hashmap_find(&m, 7, match_string, words[i]);

		CHECK(s && s->value == (uint64_t)i);
	}
	CHECK(ot_hashmap_find(&m, 7, match_string, "abce") == NULL);
	ot_hashmap_free(&m);
}

/* ---- clear and iteration ---------------------------------------------------- */

static void test_clear(void)
{
	struct ot_hashmap m = { 0 };
	size_t cap;
	bool added;

	for (uint64_t k = 1; k <= 300; k++)
		ot_hashmap_u64_add(&m, k, &added)->value = k;
	cap = m.cap;
	ot_hashmap_clear(&m);
	CHECK(ot_hashmap_count(&m) == 0 && m.cap == cap);	/* the memory stays */
	CHECK(ot_hashmap_next(&m, NULL) == NULL);
	for (uint64_t k = 1; k <= 300; k++)
		CHECK(ot_hashmap_u64_find(&m, k) == NULL);
	for (uint64_t k = 301; k <= 400; k++)
		ot_hashmap_u64_add(&m, k, &added)->value = k;
	CHECK(ot_hashmap_count(&m) == 100 && m.cap == cap);
	CHECK(ot_hashmap_u64_find(&m, 350)->value == 350 && ot_hashmap_u64_find(&m, 10) == NULL);
	check_shape(&m);
	ot_hashmap_free(&m);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The keys an iteration visits, sorted: each exactly once, whatever the order. */
static size_t visited(const struct ot_hashmap *m, uint64_t *keys)
{
	size_t n = 0;

	ot_hashmap_for_each(m, s) {
		CHECK(s->value == s->key * 2);
		keys[n++] = s->key;
	}
	qsort(keys, n, sizeof(*keys), cmp_u64);
	return n;
}

static void test_iteration(void)
{
	enum { N = 1000 };
	static uint64_t keys[N], a[N], b[N];
	struct ot_hashmap forward = { 0 }, shuffled = { 0 };
	bool added;
	int dup = 0;

	for (int i = 0; i < N; i++)
		keys[i] = next_random();
	for (int i = 0; i < N; i++)
		ot_hashmap_u64_add(&forward, keys[i], &added)->value = keys[i] * 2;
	/* the same keys in another order, into a map that grew, was cleared and refilled */
	for (int i = 0; i < 3 * N; i++)
		ot_hashmap_u64_add(&shuffled, next_random(), &added);
	ot_hashmap_clear(&shuffled);
	for (int i = N - 1; i >= 0; i -= 2)
		ot_hashmap_u64_add(&shuffled, keys[i], &added)->value = keys[i] * 2;
	for (int i = N - 2; i >= 0; i -= 2)
		ot_hashmap_u64_add(&shuffled, keys[i], &added)->value = keys[i] * 2;
	CHECK(visited(&forward, a) == N);
	CHECK(visited(&shuffled, b) == N);
	CHECK(!memcmp(a, b, sizeof(a)));
	memcpy(b, keys, sizeof(b));
	qsort(b, N, sizeof(*b), cmp_u64);
	CHECK(!memcmp(a, b, sizeof(a)));
	for (int i = 1; i < N; i++)
		dup += a[i] == a[i - 1];
	CHECK(dup == 0);
	/* after removing every other key, iteration visits exactly the rest */
	for (int i = 0; i < N; i += 2)
		ot_hashmap_remove(&forward, ot_hashmap_u64_find(&forward, keys[i]));
	CHECK(visited(&forward, a) == N / 2);
	for (int i = 1; i < N; i += 2)
		CHECK(bsearch(&keys[i], a, N / 2, sizeof(*a), cmp_u64) != NULL);
	ot_hashmap_free(&forward);
	ot_hashmap_free(&shuffled);
}

int main(void)
{
	test_empty();
	test_u64_basics();
	test_hash_functions();
	test_u64_same_stored_hash();
	test_u64_growth_and_many_keys();
	test_all_keys_collide();
	test_wraparound();
	test_remove_against_model(8);
	test_remove_against_model(1);
	test_remove_against_model(0);
	test_add_then_undo();
	test_strings();
	test_many_strings();
	test_string_collisions();
	test_clear();
	test_iteration();
	return unit_report("test_hashmap");
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/hist.h"
#include "util/grow.h"

struct ot_hist {
	uint64_t *v;		/* the durations in ns, in arrival order until sorted */
	size_t n, cap;
	bool sorted;		/* v[0..n) ascending: ot_hist_stats need not sort again */
};

unsigned int ot_hist_slot(uint64_t value)
{
	/* clzll(0) is undefined, hence the test rather than a formula for all */
	return value ? 64 - (unsigned int)__builtin_clzll(value) : 0;
}

uint64_t ot_hist_unit_ns(enum ot_hist_unit unit)
{
	return unit == OT_UNIT_MSEC ? 1000000 : 1000;
}

const char *ot_hist_unit_name(enum ot_hist_unit unit)
{
	return unit == OT_UNIT_MSEC ? "msecs" : "usecs";
}

const char *ot_hist_unit_suffix(enum ot_hist_unit unit)
{
	return unit == OT_UNIT_MSEC ? "ms" : "us";
}

static void hist_init(struct ot_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->sorted = true;	/* an empty array is sorted */
}

static void hist_release(struct ot_hist *h)
{
	free(h->v);
	hist_init(h);
}

struct ot_hist *ot_hist_new(void)
{
	struct ot_hist *h = malloc(sizeof(*h));

	if (!h)
		return NULL;
	hist_init(h);
	return h;
}

void ot_hist_free(struct ot_hist *h)
{
	if (!h)
		return;
	free(h->v);
	free(h);
}

int ot_hist_add(struct ot_hist *h, uint64_t ns)
{
	if (ot_grow(&h->v, &h->cap, h->n + 1, sizeof(*h->v), 16))
		return -ENOMEM;	/* h->v is untouched and still ours */
	/* durations mostly arrive in any order, but a run of growing ones
	 * (or a single sample) needs no sort later */
	if (h->n && ns < h->v[h->n - 1])
		h->sorted = false;
	h->v[h->n++] = ns;
	return 0;
}

void ot_hist_reset(struct ot_hist *h)
{
	/* the memory stays: the next interval will most likely need as much */
	h->n = 0;
	h->sorted = true;
}

uint64_t ot_hist_count(const struct ot_hist *h)
{
	return h->n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);	/* x - y would wrap */
}

/*
 * 1-based nearest rank ceil(p * n / 100) for 0 < p <= 100, without forming
 * p * n: with n = 100a + b, p * n / 100 = p * a + p * b / 100, and only the
 * second term has a fraction.
 */
static size_t nearest_rank(size_t n, unsigned int p)
{
	size_t a = n / 100, b = n % 100;
	size_t rank = p * a + (p * b + 99) / 100;

	return rank ? rank : 1;
}

int ot_hist_stats(struct ot_hist *h, struct ot_hist_stats *out)
{
	long double sum = 0;

	memset(out, 0, sizeof(*out));
	if (!h->n)
		return -ENODATA;
	if (!h->sorted) {
		qsort(h->v, h->n, sizeof(*h->v), cmp_u64);
		h->sorted = true;
	}
	for (size_t i = 0; i < h->n; i++)
		sum += h->v[i];
	out->count = h->n;
	out->min_ns = h->v[0];
	out->max_ns = h->v[h->n - 1];
	out->sum_ns = sum;
	out->avg_ns = (double)(sum / h->n);
	out->p50_ns = h->v[nearest_rank(h->n, 50) - 1];
	out->p90_ns = h->v[nearest_rank(h->n, 90) - 1];
	out->p99_ns = h->v[nearest_rank(h->n, 99) - 1];
	return 0;
}

void ot_hist_buckets(const struct ot_hist *h, enum ot_hist_unit unit, uint64_t slots[OT_HIST_NSLOTS])
{
	uint64_t div = ot_hist_unit_ns(unit);

	memset(slots, 0, OT_HIST_NSLOTS * sizeof(*slots));
	for (size_t i = 0; i < h->n; i++)
		slots[ot_hist_slot(h->v[i] / div)]++;
}

/*
 * Values are shown in the unit with 3 decimals, i.e. in thousandths of the
 * unit. Integer arithmetic keeps them exact: a double has 53 bits and would
 * misprint the last digits of large durations.
 */
uint64_t ot_hist_thousandths(uint64_t ns, enum ot_hist_unit unit)
{
	uint64_t div = ot_hist_unit_ns(unit) / 1000;

	/* round half up; ns / div + 1 cannot wrap for div >= 1000, and for
	 * div == 1 the remainder is always 0 */
	return ns / div + (ns % div >= div - div / 2);
}

uint64_t ot_hist_avg_thousandths(const struct ot_hist_stats *st, enum ot_hist_unit unit)
{
	long double a = st->sum_ns / st->count / (ot_hist_unit_ns(unit) / 1000) + 0.5L;

	/* converting a value >= 2^64 to uint64_t is undefined; rounding in the
	 * sum can push an average of UINT64_MAX samples there */
	return a >= 0x1p64L ? UINT64_MAX : (uint64_t)a;
}

/* bcc's rows: slot k is 2^(k-1) .. 2^k - 1, and row 1 ("0 -> 1") takes slot 0 too. */
uint64_t ot_hist_row_low(unsigned int r)
{
	return r <= 1 ? 0 : 1ULL << (r - 1);
}

uint64_t ot_hist_row_high(unsigned int r)
{
	return r >= 64 ? UINT64_MAX : (1ULL << r) - 1;
}

/* Per-row counts (index = slot, row 0 unused); the first and last non-empty rows, 0 if none. */
uint64_t ot_hist_rows(const struct ot_hist *h, enum ot_hist_unit unit, uint64_t rows[OT_HIST_NSLOTS],
		     unsigned int *first, unsigned int *last)
{
	uint64_t max = 0;

	ot_hist_buckets(h, unit, rows);
	rows[1] += rows[0];
	rows[0] = 0;
	*first = *last = 0;
	for (unsigned int r = 1; r < OT_HIST_NSLOTS; r++) {
		if (!rows[r])
			continue;
		if (!*first)
			*first = r;
		*last = r;
		if (rows[r] > max)
			max = rows[r];
	}
	return max;
}

/* ---- the table ---- */

/* Separately allocated so that get()'s hist and key stay put when entries move. */
struct entry {
	int kind;
	char key[OT_HIST_KEY_LEN];
	struct ot_hist hist;
};

struct ot_hist_table {
	char **kind_names;
	int nkinds;
	struct entry **e;	/* sorted by kind, then key */
	int n;
	size_t cap;
};

struct ot_hist_table *ot_hist_table_new(const char *const *kind_names, int nkinds)
{
	struct ot_hist_table *t;

	if (!kind_names || nkinds <= 0) {
		errno = EINVAL;
		return NULL;
	}
	for (int k = 0; k < nkinds; k++) {
		if (!kind_names[k]) {
			errno = EINVAL;
			return NULL;
		}
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->kind_names = calloc((size_t)nkinds, sizeof(*t->kind_names));
	if (!t->kind_names)
		goto fail;
	t->nkinds = nkinds;
	for (int k = 0; k < nkinds; k++) {
		t->kind_names[k] = strdup(kind_names[k]);
		if (!t->kind_names[k])
			goto fail;
	}
	return t;
fail:
	ot_hist_table_free(t);
	errno = ENOMEM;
	return NULL;
}

void ot_hist_table_free(struct ot_hist_table *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->n; i++) {
		hist_release(&t->e[i]->hist);
		free(t->e[i]);
	}
	free(t->e);
	if (t->kind_names)
		for (int k = 0; k < t->nkinds; k++)
			free(t->kind_names[k]);
	free(t->kind_names);
	free(t);
}

static int entry_cmp(int kind, const char *key, const struct entry *e)
{
	if (kind != e->kind)
		return kind < e->kind ? -1 : 1;
	return strcmp(key, e->key);
}

/* Index of (kind, key), or of where it would go, with *found set. */
static int lookup(const struct ot_hist_table *t, int kind, const char *key, bool *found)
{
	int lo = 0, hi = t->n;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		int c = entry_cmp(kind, key, t->e[mid]);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = false;
	return lo;
}

int ot_hist_table_add(struct ot_hist_table *t, int kind, const char *key, uint64_t ns)
{
	char k[OT_HIST_KEY_LEN];
	size_t len;
	struct entry *e;
	bool found;
	int i;

	if (kind < 0 || kind >= t->nkinds || !key)
		return -EINVAL;
	/* cut before looking up, so a long key finds its cut entry again */
	len = strnlen(key, sizeof(k) - 1);
	memcpy(k, key, len);
	k[len] = '\0';
	i = lookup(t, kind, k, &found);
	if (found)
		return ot_hist_add(&t->e[i]->hist, ns);

	if (t->n == INT_MAX || ot_grow(&t->e, &t->cap, (size_t)t->n + 1, sizeof(*t->e), 16))
		return -ENOMEM;
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->kind = kind;
	memcpy(e->key, k, len + 1);
	hist_init(&e->hist);
	/* the sample first: on failure nothing was inserted */
	if (ot_hist_add(&e->hist, ns)) {
		free(e);
		return -ENOMEM;
	}
	memmove(&t->e[i + 1], &t->e[i], (size_t)(t->n - i) * sizeof(*t->e));
	t->e[i] = e;
	t->n++;
	return 0;
}

void ot_hist_table_reset(struct ot_hist_table *t)
{
	for (int i = 0; i < t->n; i++)
		ot_hist_reset(&t->e[i]->hist);
}

int ot_hist_table_count(const struct ot_hist_table *t)
{
	return t->n;
}

struct ot_hist *ot_hist_table_get(struct ot_hist_table *t, int i, int *kind, const char **key)
{
	if (i < 0 || i >= t->n)
		return NULL;
	if (kind)
		*kind = t->e[i]->kind;
	if (key)
		*key = t->e[i]->key;
	return &t->e[i]->hist;
}

const char *ot_hist_table_kind_name(const struct ot_hist_table *t, int kind)
{
	return kind >= 0 && kind < t->nkinds ? t->kind_names[kind] : NULL;
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "util/outbuf.h"

void ot_buf_init(struct ot_buf *b, FILE *f)
{
	memset(b, 0, sizeof(*b));
	b->f = f;
}

/* Later bytes are dropped: cap 0 sends every reserve here, which refuses. */
static char *fail(struct ot_buf *b)
{
	b->failed = true;
	b->cap = 0;
	b->len = 0;
	return NULL;
}

int ot_buf_flush(struct ot_buf *b)
{
	if (b->len && b->f && !b->failed && fwrite(b->data, 1, b->len, b->f) != b->len)
		fail(b);
	b->len = 0;
	if (b->f && fflush(b->f))
		fail(b);
	return b->failed ? -EIO : 0;
}

int ot_buf_fini(struct ot_buf *b)
{
	int rc = ot_buf_flush(b);

	free(b->data);
	b->data = NULL;
	b->cap = 0;
	b->f = NULL;	/* a second fini writes nowhere: the FILE may be closed by now */
	return rc;
}

/* Hand a full buffer to the FILE without fflush: stdio batches the writes. */
static void drain(struct ot_buf *b)
{
	if (b->len && b->f && !b->failed && fwrite(b->data, 1, b->len, b->f) != b->len)
		fail(b);
	b->len = 0;
}

char *ot_buf_reserve_slow(struct ot_buf *b, size_t n)
{
	if (b->failed)
		return NULL;
	if (b->len + n > b->cap) {
		if (b->len >= OT_BUF_FLUSH_AT && b->f)
			drain(b);
		if (b->len + n > b->cap) {
			size_t cap = b->cap ? b->cap : 2 * OT_BUF_FLUSH_AT;
			char *data;

			while (cap < b->len + n)
				cap *= 2;
			data = realloc(b->data, cap);
			if (!data)
				return fail(b);
			b->data = data;
			b->cap = cap;
		}
	}
	return b->data + b->len;
}

void ot_buf_putn(struct ot_buf *b, const char *s, size_t max)
{
	ot_buf_put(b, s, strnlen(s, max));
}

void ot_buf_fill(struct ot_buf *b, char c, size_t n)
{
	char *p = ot_buf_reserve(b, n);

	if (p) {
		memset(p, c, n);
		b->len += n;
	}
}

void ot_buf_printf(struct ot_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(p = ot_buf_reserve(b, (size_t)n + 1)))
		return;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Digits of v, right to left, into the end of tmp; returns the first. */
static char *digits(uint64_t v, char *end)
{
	char *p = end;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return p;
}

void ot_buf_u64(struct ot_buf *b, uint64_t v)
{
	char tmp[24], *end = tmp + sizeof(tmp), *p = digits(v, end);

	ot_buf_put(b, p, (size_t)(end - p));
}

void ot_buf_i64(struct ot_buf *b, int64_t v)
{
	if (v < 0) {
		ot_buf_putc(b, '-');
		ot_buf_u64(b, -(uint64_t)v);	/* INT64_MIN negates only as unsigned */
	} else {
		ot_buf_u64(b, (uint64_t)v);
	}
}

void ot_buf_col(struct ot_buf *b, const char *s, size_t max, int width, bool left)
{
	size_t n = strnlen(s, max);
	size_t pad = width > 0 && (size_t)width > n ? (size_t)width - n : 0;

	if (!left)
		ot_buf_fill(b, ' ', pad);
	ot_buf_put(b, s, n);
	if (left)
		ot_buf_fill(b, ' ', pad);
}

void ot_buf_col_u64(struct ot_buf *b, uint64_t v, int width, bool left)
{
	char tmp[24], *end = tmp + sizeof(tmp), *p = digits(v, end);

	ot_buf_col(b, p, (size_t)(end - p), width, left);
}

static const uint64_t pow10[] = {
	1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL, 100000000ULL,
	1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
};

/*
 * Below 2^50 units v/10^scale is a double within 2^-53 relative of the
 * exact value, far closer than the 10^-scale step between two candidates,
 * so rounding the integer gives printf's digits, except on an exact tie,
 * where printf rounds the double (maybe a hair off the tie): let it. Signs
 * are left to printf too (it prints "-0.000000" for a tiny negative).
 */
#define OT_FIXED_EXACT_LIMIT (1LL << 50)

void ot_buf_fixed(struct ot_buf *b, int64_t v, int scale, int decimals, int width)
{
	char tmp[48], *end = tmp + sizeof(tmp), *p;
	uint64_t unit, drop, q, r, ip, fp;

	if (v < 0 || v >= OT_FIXED_EXACT_LIMIT)
		goto slow;
	drop = pow10[scale - decimals];
	q = (uint64_t)v / drop;
	r = (uint64_t)v % drop;
	if (drop > 1 && r * 2 == drop)
		goto slow;
	if (r * 2 > drop)
		q++;
	unit = pow10[decimals];
	ip = q / unit;
	fp = q % unit;
	p = end;
	for (int i = 0; i < decimals; i++) {
		*--p = (char)('0' + fp % 10);
		fp /= 10;
	}
	if (decimals)
		*--p = '.';
	p = digits(ip, p);
	ot_buf_col(b, p, (size_t)(end - p), width, false);
	return;
slow:
	ot_buf_printf(b, "%*.*f", width, decimals, (double)v / (double)pow10[scale]);
}

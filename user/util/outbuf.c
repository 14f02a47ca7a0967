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


const char ot_digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

void ot_buf_u64(struct ot_buf *b, uint64_t v)
{
	char *p = ot_buf_begin(b, 20);

	if (p)
		ot_buf_commit(b, ot_put_u64(p, v));
}

void ot_buf_i64(struct ot_buf *b, int64_t v)
{
	char *p = ot_buf_begin(b, 21);

	if (p)
		ot_buf_commit(b, ot_put_i64(p, v));
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
	char tmp[24], *end = ot_put_u64(tmp, v);

	ot_buf_col(b, tmp, (size_t)(end - tmp), width, left);
}

/*
 * ot_put_fixed() rounds the integer itself: below OT_FIXED_EXACT_LIMIT
 * units, v/10^scale is a double within 2^-53 relative of the exact value,
 * far closer than the 10^-scale step between two candidates, so that gives
 * printf's digits, except on an exact tie, settled here. Signs and larger
 * values are left to printf (it prints "-0.000000" for a tiny negative).
 *
 * On a tie between q and q + 1 (units of 10^-decimals) printf rounds the
 * double d = v / 10^scale it is given, which lies a hair above or below
 * the tie, or, if it is the tie exactly, to the even one. Compared exactly
 * as integers: d = m * 2^e against (2q + 1) / (2 * 10^decimals).
 * -1: out of the range this compares (the caller asks printf).
 */
static int tie_rounds_up(double d, uint64_t q, int decimals)
{
	uint64_t bits, m, odd = 2 * q + 1;
	unsigned __int128 lhs, rhs;
	int e;

	memcpy(&bits, &d, sizeof(bits));
	m = bits & ((1ULL << 52) - 1);
	e = (int)(bits >> 52 & 0x7ff);
	if (e == 0 || e == 0x7ff)
		return -1;	/* zero, subnormal, inf, nan: never a tie here */
	m |= 1ULL << 52;
	e -= 1075;		/* d = m * 2^e */
	/* lhs < 2^53 * 2 * 10^12 < 2^95; rhs, about as large, must fit too */
	if (e >= 0 || -e + (64 - __builtin_clzll(odd)) > 120)
		return -1;
	lhs = (unsigned __int128)m * 2 * ot_pow10(decimals);
	rhs = (unsigned __int128)odd << -e;
	if (lhs != rhs)
		return lhs > rhs;
	return (int)(q & 1);
}

char *ot_put_fixed_slow(char *p, int64_t v, int scale, int decimals, int width)
{
	double d = (double)v / (double)ot_pow10(scale);
	uint64_t drop = ot_pow10(scale - decimals);
	int n, up;

	if (v >= 0 && v < OT_FIXED_EXACT_LIMIT && (uint64_t)v % drop * 2 == drop &&
	    (up = tie_rounds_up(d, (uint64_t)v / drop, decimals)) >= 0)
		return ot_put_rounded(p, (uint64_t)v / drop + (uint64_t)up, decimals, width);
	n = snprintf(p, OT_PUT_FIXED_MAX + 1, "%*.*f", width, decimals, d);
	return p + (n < 0 ? 0 : n > OT_PUT_FIXED_MAX ? OT_PUT_FIXED_MAX : n);
}

void ot_buf_fixed(struct ot_buf *b, int64_t v, int scale, int decimals, int width)
{
	char *p;

	if (width > OT_PUT_PAD_MAX) {	/* wider than the cursor path pads: rare, printf's */
		ot_buf_printf(b, "%*.*f", width, decimals, (double)v / (double)ot_pow10(scale));
		return;
	}
	p = ot_buf_begin(b, OT_PUT_FIXED_MAX);
	if (p)
		ot_buf_commit(b, ot_put_fixed(p, v, scale, decimals, width));
}

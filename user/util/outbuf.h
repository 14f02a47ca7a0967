/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * An output buffer: every writer appends its bytes here and the buffer
 * goes to its FILE in large blocks. The per-event path formats numbers and
 * padded columns itself (no printf: replay speed is won or lost here);
 * ot_buf_printf() is for the cold paths (summaries, reports).
 */
#ifndef OT_OUTBUF_H
#define OT_OUTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "util/bytes.h"

/* Past this many bytes a write hands the buffer to the FILE. */
#define OT_BUF_FLUSH_AT (64 * 1024)

struct ot_buf {
	char *data;
	size_t len, cap;
	FILE *f;		/* where flushed bytes go */
	bool failed;		/* out of memory or a write error: later bytes are dropped */
};

void ot_buf_init(struct ot_buf *b, FILE *f);
/* Write out what is buffered (fwrite + fflush): 0, or -EIO after a failure. */
int ot_buf_flush(struct ot_buf *b);
/* Flush, then free the memory and forget the FILE (the caller's); safe twice. */
int ot_buf_fini(struct ot_buf *b);

/* The slow half of ot_buf_reserve(): drain, grow, or fail. */
char *ot_buf_reserve_slow(struct ot_buf *b, size_t n);

/* Room for n more bytes; NULL after a failure (nothing is written then). */
static inline char *ot_buf_reserve(struct ot_buf *b, size_t n)
{
	/* a failed buffer has cap 0, so it always takes the slow path */
	if (b->len + n <= b->cap)
		return b->data + b->len;
	return ot_buf_reserve_slow(b, n);
}

static inline void ot_buf_put(struct ot_buf *b, const char *s, size_t n)
{
	char *p = ot_buf_reserve(b, n);

	if (p) {
		memcpy(p, s, n);
		b->len += n;
	}
}

static inline void ot_buf_putc(struct ot_buf *b, char c)
{
	char *p = ot_buf_reserve(b, 1);

	if (p) {
		*p = c;
		b->len++;
	}
}

/* Inline, so the length of a literal is known at compile time. */
static inline void ot_buf_puts(struct ot_buf *b, const char *s)
{
	ot_buf_put(b, s, strlen(s));
}
/* At most max bytes of s, up to its NUL (kernel names are fixed-size, maybe unterminated). */
void ot_buf_putn(struct ot_buf *b, const char *s, size_t max);
void ot_buf_fill(struct ot_buf *b, char c, size_t n);
void ot_buf_printf(struct ot_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Decimal numbers, as %PRIu64 / %PRId64 print them. */
void ot_buf_u64(struct ot_buf *b, uint64_t v);
void ot_buf_i64(struct ot_buf *b, int64_t v);

/*
 * Padded columns, as printf's "%-*.*s" (left) and "%*.*s" (right) print
 * them: at most max bytes of s (up to its NUL), padded with spaces to width.
 */
void ot_buf_col(struct ot_buf *b, const char *s, size_t max, int width, bool left);
void ot_buf_col_u64(struct ot_buf *b, uint64_t v, int width, bool left);

/*
 * A signed count of 10^-scale units as a decimal with `decimals` digits
 * (0 <= decimals <= scale <= 12), rounded as printf's %.Nf rounds the double v/10^scale,
 * right-aligned to width: ot_buf_fixed(b, 1234567, 9, 6, 12) is
 * "    0.001235". Exact where printf would be (ties fall back to it).
 */
void ot_buf_fixed(struct ot_buf *b, int64_t v, int scale, int decimals, int width);

/*
 * Writing at a cursor, for the per-event writers: reserve a record's worst
 * case once (ot_buf_begin), write each field with an ot_put_*() that takes
 * the cursor and returns the end of what it wrote, with no bounds check per
 * field, and end with ot_buf_commit(). A put may store up to OT_PUT_SLACK
 * bytes beyond the end it returns (it copies whole words and pads with one
 * fixed-size store); ot_buf_begin reserves that much more.
 */
#define OT_PUT_SLACK 64
#define OT_PUT_PAD_MAX 32	/* widest column ot_put_pad_to() pads */

/* Room for worst bytes at the buffer's end; NULL after a failure. */
static inline char *ot_buf_begin(struct ot_buf *b, size_t worst)
{
	return ot_buf_reserve(b, worst + OT_PUT_SLACK);
}

static inline void ot_buf_commit(struct ot_buf *b, char *end)
{
	b->len = (size_t)(end - b->data);
}

static inline char *ot_put(char *p, const void *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/*
 * n bytes of s at p, for the runs of kept text the writers copy: up to
 * 128 bytes as one fixed-size copy of 64 or 128 (a few stores, cheaper
 * than a memcpy call), which writes past n by less than OT_PUT_SLACK and
 * reads as far: s must be an array of at least OT_PUT_RUN_MAX bytes.
 */
#define OT_PUT_RUN_MAX 128
static inline char *ot_put_run(char *p, const char *s, size_t n)
{
	_Static_assert(OT_PUT_RUN_MAX - OT_PUT_RUN_MAX / 2 <= OT_PUT_SLACK, "a run's overshoot is past the slack");
	if (n <= OT_PUT_RUN_MAX / 2)
		memcpy(p, s, OT_PUT_RUN_MAX / 2);
	else if (n <= OT_PUT_RUN_MAX)
		memcpy(p, s, OT_PUT_RUN_MAX);
	else
		memcpy(p, s, n);
	return p + n;
}

/* A string literal: its length is known at compile time, so this is a few stores. */
#define ot_put_lit(p, lit) ot_put((p), (lit), sizeof(lit) - 1)

/* Spaces up to col_end (at most OT_PUT_PAD_MAX on): a left-aligned column's padding. */
static inline char *ot_put_pad_to(char *p, char *col_end)
{
	memset(p, ' ', OT_PUT_PAD_MAX);
	return p < col_end ? col_end : p;
}

/* 10^0 to 10^19; static, so a constant index folds to a constant (divisions by it become multiplications) */
static const uint64_t ot_pow10_table[20] = {
	1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL, 100000000ULL,
	1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL, 10000000000000ULL,
	100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
	1000000000000000000ULL, 10000000000000000000ULL,
};

/* Decimal digits of v: 1 to 20 (from its bit length: log10(2) ~ 1233/4096). */
static inline int ot_u64_digits(uint64_t v)
{
	int t = ((64 - __builtin_clzll(v | 1)) * 1233) >> 12;

	return t + ((v | 1) >= ot_pow10_table[t]);
}

/* "00" to "99": numbers are written two digits per step */
extern const char ot_digit_pairs[201];

/* z < 10000 as four digits at p; z / 100 as z * 5243 >> 19, exact below 43699 */
static inline void ot_put_4digits(char *p, uint32_t z)
{
	uint32_t hundreds = (z * 5243) >> 19;

	memcpy(p, ot_digit_pairs + 2 * hundreds, 2);
	memcpy(p + 2, ot_digit_pairs + 2 * (z - 100 * hundreds), 2);
}

/* The n decimal digits of v (< 10^n) at p: n = ot_u64_digits(v), or more for leading zeros. */
static inline char *ot_put_digits(char *p, uint64_t v, int n)
{
	char *end = p + n, *q = end;
	uint32_t low;

	/* eight digits at a time, then four, in 32-bit arithmetic, which is cheaper */
	for (; n > 8; n -= 8, v /= 100000000) {
		low = (uint32_t)(v % 100000000);
		q -= 8;
		ot_put_4digits(q, low / 10000);
		ot_put_4digits(q + 4, low % 10000);
	}
	low = (uint32_t)v;
	if (n > 4) {
		q -= 4;
		ot_put_4digits(q, low % 10000);
		low /= 10000;
		n -= 4;
	}
	if (n > 2) {
		uint32_t hundreds = (low * 5243) >> 19;

		q -= 2;
		memcpy(q, ot_digit_pairs + 2 * (low - 100 * hundreds), 2);
		low = hundreds;
		n -= 2;
	}
	if (n == 2)
		memcpy(q - 2, ot_digit_pairs + 2 * low, 2);
	else
		q[-1] = (char)('0' + low);	/* low < 10 by now: v < 10^n */
	return end;
}

/* Decimal numbers, as %PRIu64 / %PRId64 print them. */
static inline char *ot_put_u64(char *p, uint64_t v)
{
	if (v < 10) {	/* most of an event's numbers: cpu, group, counts, ids */
		*p = (char)('0' + v);
		return p + 1;
	}
	return ot_put_digits(p, v, ot_u64_digits(v));
}

static inline char *ot_put_i64(char *p, int64_t v)
{
	if (v >= 0)
		return ot_put_u64(p, (uint64_t)v);
	*p++ = '-';
	return ot_put_u64(p, -(uint64_t)v);	/* INT64_MIN negates only as unsigned */
}

/* Right-aligned to width (at most OT_PUT_PAD_MAX), as "%*" PRIu64 prints it. */
static inline char *ot_put_u64_right(char *p, uint64_t v, int width)
{
	int n = ot_u64_digits(v);

	memset(p, ' ', OT_PUT_PAD_MAX);
	if (width > n)
		p += width - n;
	return ot_put_digits(p, v, n);
}

/*
 * A fixed-size name field: its bytes up to its NUL or max (kernel names
 * need not be terminated). Reads s 16 bytes at a time, so s must have max
 * readable bytes: pass a char array and its size.
 */
static inline char *ot_put_name(char *p, const char *s, size_t max)
{
	return p + ot_name_copy(p, s, max);
}

/*
 * ot_buf_fixed() at a cursor: the same digits, right-aligned to width (at
 * most OT_PUT_PAD_MAX); at most OT_PUT_FIXED_MAX bytes. Inline, so that
 * with a constant scale and decimals the divisions are multiplications;
 * ties and what printf must print go to ot_put_fixed_slow().
 */
#define OT_PUT_FIXED_MAX 48	/* printf's widest %.Nf of an int64 / 10^scale is ~40 */
#define OT_FIXED_EXACT_LIMIT (1LL << 50)	/* see ot_put_fixed_slow() */
char *ot_put_fixed_slow(char *p, int64_t v, int scale, int decimals, int width);

static inline uint64_t ot_pow10(int n)
{
	return ot_pow10_table[n];
}

/* q units of 10^-decimals, as ot_put_fixed() prints them once rounded. */
static inline char *ot_put_rounded(char *p, uint64_t q, int decimals, int width)
{
	uint64_t unit = ot_pow10(decimals), ip = q / unit;
	int n = ot_u64_digits(ip) + (decimals ? decimals + 1 : 0);

	memset(p, ' ', OT_PUT_PAD_MAX);
	if (width > n)
		p += width - n;
	p = ot_put_u64(p, ip);
	if (decimals) {
		*p++ = '.';
		p = ot_put_digits(p, q % unit, decimals);
	}
	return p;
}

static inline char *ot_put_fixed(char *p, int64_t v, int scale, int decimals, int width)
{
	uint64_t drop = ot_pow10(scale - decimals), q, r;

	if (v < 0 || v >= OT_FIXED_EXACT_LIMIT)
		return ot_put_fixed_slow(p, v, scale, decimals, width);
	q = (uint64_t)v / drop;
	r = (uint64_t)v % drop;
	if (drop > 1 && r * 2 == drop)
		return ot_put_fixed_slow(p, v, scale, decimals, width);
	return ot_put_rounded(p, q + (r * 2 > drop), decimals, width);
}

/*
 * A number's digits above its last eight, as last written: consecutive
 * timestamps share them, so a writer keeping one per field renders only
 * the last eight digits of most. Zeroed: nothing kept.
 */
struct ot_high_digits {
	uint64_t high;		/* v / 10^8 */
	uint8_t len;		/* 0: nothing kept */
	char text[16 + OT_PUT_SLACK];	/* its digits (at most 12), copied whole; room for a put's slack */
};

/* ot_put_u64(), with the digits above the last eight from c when they are unchanged. */
static inline char *ot_put_u64_high_cached(char *p, uint64_t v, struct ot_high_digits *c)
{
	uint64_t high = v / 100000000;
	uint32_t low = (uint32_t)(v % 100000000);

	if (!high)
		return ot_put_u64(p, v);
	if (high != c->high || !c->len) {
		c->high = high;
		c->len = (uint8_t)(ot_put_u64(c->text, high) - c->text);
	}
	memcpy(p, c->text, 16);	/* whole: high has at most 12 digits; the rest is slack */
	p += c->len;
	ot_put_4digits(p, low / 10000);
	ot_put_4digits(p + 4, low % 10000);
	return p + 8;
}

/*
 * v ns as seconds with nine decimals, as ot_put_fixed(p, v, 9, 9, 0)
 * writes it ("12.000001200"), with the digits above the last eight (the
 * seconds and the first decimal) from c when they are unchanged.
 */
static inline char *ot_put_ns_as_seconds_high_cached(char *p, int64_t v, struct ot_high_digits *c)
{
	uint64_t high;
	uint32_t low;

	if (v < 0 || v >= OT_FIXED_EXACT_LIMIT)	/* what printf must print */
		return ot_put_fixed(p, v, 9, 9, 0);
	high = (uint64_t)v / 100000000;
	low = (uint32_t)((uint64_t)v % 100000000);
	if (high != c->high || !c->len) {
		c->high = high;
		c->len = (uint8_t)(ot_put_fixed(c->text, (int64_t)high, 1, 1, 0) - c->text);
	}
	memcpy(p, c->text, 16);	/* whole: below the limit, high is at most 9 bytes as "S.d"; the rest is slack */
	p += c->len;
	ot_put_4digits(p, low / 10000);
	ot_put_4digits(p + 4, low % 10000);
	return p + 8;
}

/* Bytes formatted so far and not flushed (for tests and callers that capture). */
static inline size_t ot_buf_pending(const struct ot_buf *b)
{
	return b->len;
}

#endif

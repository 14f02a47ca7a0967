/* The output buffer's number and name formatting, against printf's. */
#include <inttypes.h>
#include <stdlib.h>
#include "unit.h"
#include "util/outbuf.h"

/* What ot_buf_fixed() wrote, as a string in out. */
static void fixed(char *out, size_t len, int64_t v, int scale, int decimals, int width)
{
	struct ot_buf b;

	ot_buf_init(&b, NULL);
	ot_buf_fixed(&b, v, scale, decimals, width);
	snprintf(out, len, "%.*s", (int)b.len, b.data);
	ot_buf_fini(&b);
}

static int fixed_matches_printf(int64_t v, int scale, int decimals, int width)
{
	static const double pow10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12 };
	char got[64], want[64];

	fixed(got, sizeof(got), v, scale, decimals, width);
	snprintf(want, sizeof(want), "%*.*f", width, decimals, (double)v / pow10[scale]);
	if (strcmp(got, want))
		fprintf(stderr, "ot_buf_fixed(%" PRId64 ", %d, %d, %d) = \"%s\", printf \"%s\"\n", v, scale, decimals,
			width, got, want);
	return !strcmp(got, want);
}

static void test_fixed_like_printf(void)
{
	static const struct { int scale, decimals, width; } forms[] = {
		{ 9, 6, 12 }, { 9, 9, 0 }, { 3, 1, 0 }, { 6, 1, 0 }, { 6, 3, 8 }, { 12, 2, 0 },
	};
	int bad = 0, n = 0;
	uint64_t x = 88172645463325252ULL;

	for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		int s = forms[f].scale, d = forms[f].decimals, w = forms[f].width;
		int64_t half = 1;

		for (int i = 0; i < s - d; i++)
			half *= 10;
		half /= 2;	/* 0 when nothing is dropped: no ties */
		for (int64_t v = 0; v < 20000; v++, n++)
			bad += !fixed_matches_printf(v, s, d, w);
		/* exact ties (q + 1/2), where printf rounds the double it gets */
		for (int64_t q = 0; half && q < 50000; q++, n++)
			bad += !fixed_matches_printf(q * 2 * half + half, s, d, w);
		for (int i = 0; i < 50000; i++, n++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			bad += !fixed_matches_printf((int64_t)(x >> (14 + i % 40)), s, d, w);
			if (half)	/* large ties too */
				bad += !fixed_matches_printf((int64_t)(x >> (14 + i % 40)) / (2 * half) * 2 * half + half,
							     s, d, w);
		}
		/* the edges of the exact path, negatives and the largest values go to printf */
		bad += !fixed_matches_printf((1LL << 50) - 1, s, d, w);
		bad += !fixed_matches_printf(1LL << 50, s, d, w);
		bad += !fixed_matches_printf(-1500, s, d, w);
		bad += !fixed_matches_printf(INT64_MAX, s, d, w);
		bad += !fixed_matches_printf(INT64_MIN, s, d, w);
	}
	CHECK(n > 500000);
	CHECK(bad == 0);
	/* exact binary ties round to even, as glibc's printf does: 0.0078125 and 0.0234375 */
	{
		char got[64];

		fixed(got, sizeof(got), 7812500, 9, 6, 0);
		CHECK_STR(got, "0.007812");
		fixed(got, sizeof(got), 23437500, 9, 6, 0);
		CHECK_STR(got, "0.023438");
		fixed(got, sizeof(got), 1234567, 9, 6, 12);
		CHECK_STR(got, "    0.001235");
	}
}

static void test_integers_like_printf(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	char got[64], want[64];
	int bad = 0;

	for (int i = 0; i < 300000; i++) {
		uint64_t v = i < 1000 ? (uint64_t)i : (x ^= x << 13, x ^= x >> 7, x ^= x << 17) >> (i % 64);
		int width = i % 13;

		*ot_put_u64(got, v) = '\0';
		snprintf(want, sizeof(want), "%" PRIu64, v);
		bad += !!strcmp(got, want);
		*ot_put_i64(got, (int64_t)v) = '\0';
		snprintf(want, sizeof(want), "%" PRId64, (int64_t)v);
		bad += !!strcmp(got, want);
		*ot_put_u64_right(got, v, width) = '\0';
		snprintf(want, sizeof(want), "%*" PRIu64, width, v);
		bad += !!strcmp(got, want);
	}
	CHECK(bad == 0);
	/* every value up to a million: each split into four, two and one digits */
	for (uint64_t v = 0; v < 1000000; v++) {
		*ot_put_u64(got, v) = '\0';
		snprintf(want, sizeof(want), "%" PRIu64, v);
		bad += !!strcmp(got, want);
	}
	CHECK(bad == 0);
	*ot_put_u64(got, UINT64_MAX) = '\0';
	CHECK_STR(got, "18446744073709551615");
	*ot_put_i64(got, INT64_MIN) = '\0';
	CHECK_STR(got, "-9223372036854775808");
	CHECK(ot_u64_digits(0) == 1 && ot_u64_digits(9) == 1 && ot_u64_digits(10) == 2);
	CHECK(ot_u64_digits(9999) == 4 && ot_u64_digits(10000) == 5 && ot_u64_digits(UINT64_MAX) == 20);
}

/*
 * The high-digit caches write what the plain writers write, whether the
 * kept digits are reused (nearby values, as consecutive timestamps are),
 * replaced, or passed by (negative and printf-only times).
 */
static void test_high_cached_like_plain(void)
{
	struct ot_high_digits ts = { 0 }, secs = { 0 };
	uint64_t x = 0x9e3779b97f4a7c15ULL, v = 0;
	char got[64 + OT_PUT_SLACK], want[64 + OT_PUT_SLACK];
	int bad = 0;

	for (int i = 0; i < 300000; i++) {
		uint64_t r = (x ^= x << 13, x ^= x >> 7, x ^= x << 17);
		int64_t t;

		/* mostly a step forward, sometimes a jump anywhere */
		v = i % 97 ? v + (r >> (40 + i % 24)) : r >> (i % 64);
		*ot_put_u64_high_cached(got, v, &ts) = '\0';
		*ot_put_u64(want, v) = '\0';
		bad += !!strcmp(got, want);
		t = i % 89 == 1 ? -(int64_t)(v >> 8) : (int64_t)(v >> (i % 13));
		*ot_put_ns_as_seconds_high_cached(got, t, &secs) = '\0';
		*ot_put_fixed(want, t, 9, 9, 0) = '\0';
		if (strcmp(got, want) && bad++ < 5)
			fprintf(stderr, "seconds of %" PRId64 ": \"%s\", not \"%s\"\n", t, got, want);
	}
	CHECK(bad == 0);
}

/* Names up to their NUL or the field's end, whatever follows the NUL. */
static void test_put_name(void)
{
	char field[48], out[48 + OT_PUT_SLACK];
	int bad = 0;

	for (size_t len = 0; len <= sizeof(field); len++) {
		memset(field, 'x', sizeof(field));
		for (size_t i = 0; i < len; i++)
			field[i] = (char)('a' + i % 26);
		if (len < sizeof(field))
			field[len] = '\0';
		bad += ot_put_name(out, field, sizeof(field)) - out != (long)len;
		bad += memcmp(out, field, len) != 0;
		/* a shorter bound cuts it */
		bad += ot_put_name(out, field, 5) - out != (long)(len < 5 ? len : 5);
	}
	CHECK(bad == 0);
}

/* Name fields compare as strncmp compares them, whatever follows a NUL. */
static void test_name_equal(void)
{
	char a[48], b[48];
	uint64_t x = 0x243f6a8885a308d3ULL;
	int bad = 0;

	for (int i = 0; i < 200000; i++) {
		uint64_t r = (x ^= x << 13, x ^= x >> 7, x ^= x << 17);
		size_t len = r % 49, cut = (r >> 8) % 49;

		for (size_t k = 0; k < sizeof(a); k++)
			a[k] = b[k] = (char)('a' + (r >> (k % 40)) % 3);
		if (len < sizeof(a))
			a[len] = '\0';
		if ((r >> 20) & 1 && len < sizeof(b))
			b[len] = '\0';
		if ((r >> 21) & 1)	/* a difference before, at or after the end */
			b[cut] = (char)(b[cut] ^ 1);
		bad += ot_name_equal(a, b, sizeof(a)) != (strncmp(a, b, sizeof(a)) == 0);
		bad += ot_name_equal(a, b, 20) != (strncmp(a, b, 20) == 0);
	}
	CHECK(bad == 0);
}

/* Columns through the cursor: padded as printf's %-*s pads, never cut. */
static void test_pad_to(void)
{
	char out[128];
	char *p = out, *col = p + 8;

	p = ot_put_pad_to(ot_put_lit(p, "abc"), col);
	col = p + 4;
	p = ot_put_pad_to(ot_put_lit(p, "longer"), col);
	*p = '\0';
	CHECK_STR(out, "abc     longer");
}

int main(void)
{
	test_fixed_like_printf();
	test_integers_like_printf();
	test_high_cached_like_plain();
	test_put_name();
	test_name_equal();
	test_pad_to();
	return unit_report("test_outbuf");
}

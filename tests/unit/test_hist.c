/* Latency histograms: the slot formula, exact percentiles, the bcc-style
 * text and the JSON, the keyed table (run under valgrind by tests/test_unit.py). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include "unit.h"
#include "analysis/hist.h"
#include "writers.h"

#define US 1000ULL
#define MS 1000000ULL

static char buf[65536];	/* the table test prints 100 histograms */

static void test_slots(void)
{
	/* slot = v ? 64 - clz(v) : 0, worked out by hand */
	CHECK(ot_hist_slot(0) == 0);
	CHECK(ot_hist_slot(1) == 1);
	CHECK(ot_hist_slot(2) == 2);
	CHECK(ot_hist_slot(3) == 2);
	CHECK(ot_hist_slot(4) == 3);
	CHECK(ot_hist_slot(7) == 3);
	CHECK(ot_hist_slot(8) == 4);
	CHECK(ot_hist_slot((1ULL << 40) - 1) == 40);
	CHECK(ot_hist_slot(1ULL << 40) == 41);
	CHECK(ot_hist_slot(1ULL << 63) == 64);
	CHECK(ot_hist_slot(UINT64_MAX) == 64);
	CHECK(ot_hist_unit_ns(OT_UNIT_USEC) == 1000 && ot_hist_unit_ns(OT_UNIT_MSEC) == 1000000);
}

static void test_empty(void)
{
	struct ot_hist *h = ot_hist_new();
	struct ot_hist_stats st;

	memset(&st, 0xa5, sizeof(st));
	CHECK(ot_hist_stats(h, &st) == -ENODATA);
	CHECK(st.count == 0 && st.min_ns == 0 && st.max_ns == 0 && st.p50_ns == 0 && st.p99_ns == 0);
	CHECK(st.sum_ns == 0 && st.avg_ns == 0);
	CAPTURE(buf, sizeof(buf), f, write_hist_to(f, false, h, OT_UNIT_USEC));
	CHECK_STR(buf, "no samples\n");
	CAPTURE(buf, sizeof(buf), f, write_hist_to(f, true, h, OT_UNIT_MSEC));
	CHECK_STR(buf, "{\"unit\":\"msecs\",\"count\":0,\"min\":null,\"avg\":null,\"p50\":null,"
		       "\"p90\":null,\"p99\":null,\"max\":null,\"buckets\":[]}");
	ot_hist_free(h);
	ot_hist_free(NULL);
}

static void test_one_sample(void)
{
	struct ot_hist *h = ot_hist_new();
	struct ot_hist_stats st;

	CHECK(ot_hist_add(h, 4012345) == 0);
	CHECK(ot_hist_stats(h, &st) == 0);
	CHECK(st.count == 1);
	CHECK(st.min_ns == 4012345 && st.max_ns == 4012345);
	CHECK(st.p50_ns == 4012345 && st.p90_ns == 4012345 && st.p99_ns == 4012345);
	CHECK(st.avg_ns == 4012345.0);
	ot_hist_free(h);
}

/* Every sample in the 1024..2047 us bucket: percentiles must still be exact samples. */
static void test_one_bucket(void)
{
	struct ot_hist *h = ot_hist_new();
	uint64_t slots[OT_HIST_NSLOTS];
	struct ot_hist_stats st;
	int bad = 0;

	/* i * 7 mod 1024 visits every i once, out of order, so the sort is exercised */
	for (uint64_t j = 0; j < 1024; j++) {
		uint64_t i = j * 7 % 1024;

		bad += ot_hist_add(h, 1024 * US + i * i / 2) != 0;
	}
	CHECK(bad == 0);
	ot_hist_buckets(h, OT_UNIT_USEC, slots);
	CHECK(slots[11] == 1024);	/* 1024..2047 us */
	CHECK(ot_hist_stats(h, &st) == 0);
	/* ranks ceil(.5 * 1024) = 512, ceil(.9 * 1024) = 922, ceil(.99 * 1024) = 1014:
	 * the samples with i = 511, 921, 1013 */
	CHECK(st.p50_ns == 1154560);
	CHECK(st.p90_ns == 1448120);
	CHECK(st.p99_ns == 1537084);
	CHECK(st.min_ns == 1024 * US && st.max_ns == 1024 * US + 1023 * 1023 / 2);
	CAPTURE(buf, sizeof(buf), f, write_hist_to(f, false, h, OT_UNIT_USEC));
	CHECK_CONTAINS(buf, "p50 1154.560 us  p90 1448.120 us  p99 1537.084 us");
	CHECK_CONTAINS(buf, "      1024 -> 2047       : 1024     |****************************************|\n");
	ot_hist_free(h);
}

static void test_hundred(void)
{
	struct ot_hist *h = ot_hist_new();
	struct ot_hist_stats st;

	for (uint64_t v = 100; v >= 1; v--)	/* descending: worst case for the sorted hint */
		ot_hist_add(h, v * MS);
	CHECK(ot_hist_stats(h, &st) == 0);
	CHECK(st.count == 100);
	CHECK(st.p50_ns == 50 * MS);
	CHECK(st.p90_ns == 90 * MS);
	CHECK(st.p99_ns == 99 * MS);
	CHECK(st.min_ns == 1 * MS && st.max_ns == 100 * MS);
	CHECK(st.avg_ns == 50.5 * MS);
	CAPTURE(buf, sizeof(buf), f, write_hist_to(f, false, h, OT_UNIT_MSEC));
	CHECK_CONTAINS(buf, "count 100  min 1.000 ms  avg 50.500 ms  p50 50.000 ms  p90 90.000 ms  "
			    "p99 99.000 ms  max 100.000 ms\n");

	/* after a reset the next interval starts empty, and the ranks follow n */
	ot_hist_reset(h);
	CHECK(ot_hist_stats(h, &st) == -ENODATA);
	ot_hist_add(h, 20);
	ot_hist_add(h, 10);
	CHECK(ot_hist_stats(h, &st) == 0);
	CHECK(st.p50_ns == 10 && st.p90_ns == 20);	/* ranks 1 and 2 of 2 */
	ot_hist_free(h);
}

static void test_huge(void)
{
	struct ot_hist *h = ot_hist_new();
	struct ot_hist_stats st;

	ot_hist_add(h, UINT64_MAX);
	CHECK(ot_hist_stats(h, &st) == 0);
	/* the average of one UINT64_MAX rounds past 2^64 in long double: clamped */
	CAPTURE(buf, sizeof(buf), f, write_hist_to(f, false, h, OT_UNIT_USEC));
	CHECK_CONTAINS(buf, "avg 18446744073709551.615 us");
	CHECK_CONTAINS(buf, "max 18446744073709551.615 us\n");
	/* 2^64/1000 us needs 17 digits: bcc's wide layout, slot 55 */
	CHECK_CONTAINS(buf, "               usecs                         : count    distribution\n");
	CHECK_CONTAINS(buf, "   18014398509481984 -> 36028797018963967    : 1        |********************|\n");

	ot_hist_free(h);

	/* bcc's switch to wide columns: 10 digits still fit up to 2^33 - 1 */
	h = ot_hist_new();
	ot_hist_add(h, (1ULL << 32) * US);	/* slot 33 */
	CAPTURE(buf, sizeof(buf), f, write_hist_to(f, false, h, OT_UNIT_USEC));
	CHECK_CONTAINS(buf, "\n4294967296 -> 8589934591 : 1        |****************************************|\n");
	ot_hist_add(h, (1ULL << 33) * US);	/* slot 34 */
	CAPTURE(buf, sizeof(buf), f, write_hist_to(f, false, h, OT_UNIT_USEC));
	CHECK_CONTAINS(buf, "          4294967296 -> 8589934591           : 1        |********************|\n");
	CHECK_CONTAINS(buf, "          8589934592 -> 17179869183          : 1        |********************|\n");
	ot_hist_free(h);

	h = ot_hist_new();
	ot_hist_add(h, UINT64_MAX);
	ot_hist_add(h, UINT64_MAX - 2);
	ot_hist_add(h, UINT64_MAX - 1);
	CHECK(ot_hist_stats(h, &st) == 0);
	CHECK(st.min_ns == UINT64_MAX - 2 && st.max_ns == UINT64_MAX && st.p50_ns == UINT64_MAX - 1);
	/* a uint64_t sum would have wrapped to a tiny number */
	CHECK(st.sum_ns > 5.5e19L && st.sum_ns < 5.6e19L);
	CHECK(st.avg_ns > 1.84e19 && st.avg_ns < 1.85e19);
	CAPTURE(buf, sizeof(buf), f, write_hist_to(f, false, h, OT_UNIT_MSEC));
	CHECK_CONTAINS(buf, "avg 18446744073709.552 ms");
	CHECK_CONTAINS(buf, "min 18446744073709.552 ms");
	ot_hist_free(h);
}

/* The whole text for a small known distribution, written out by hand. */
static void test_ascii_golden(void)
{
	struct ot_hist *h = ot_hist_new();

	ot_hist_add(h, 20000);
	ot_hist_add(h, 1000);
	ot_hist_add(h, 3999);
	ot_hist_add(h, 1500);
	ot_hist_add(h, 5000);
	ot_hist_add(h, 2000);
	CAPTURE(buf, sizeof(buf), f, write_hist_to(f, false, h, OT_UNIT_USEC));
	CHECK_STR(buf,
		  "     usecs               : count    distribution\n"
		  "         0 -> 1          : 2        |****************************************|\n"
		  "         2 -> 3          : 2        |****************************************|\n"
		  "         4 -> 7          : 1        |********************                    |\n"
		  "         8 -> 15         : 0        |                                        |\n"
		  "        16 -> 31         : 1        |********************                    |\n"
		  "count 6  min 1.000 us  avg 5.583 us  p50 2.000 us  p90 20.000 us  p99 20.000 us  "
		  "max 20.000 us\n");
	ot_hist_free(h);

	/* leading empty rows trimmed; msecs rounded half up to the microsecond */
	h = ot_hist_new();
	ot_hist_add(h, 5 * MS);
	ot_hist_add(h, 12 * MS);
	ot_hist_add(h, 6500 * US);
	ot_hist_add(h, 4012500);
	CAPTURE(buf, sizeof(buf), f, write_hist_to(f, false, h, OT_UNIT_MSEC));
	CHECK_STR(buf,
		  "     msecs               : count    distribution\n"
		  "         4 -> 7          : 3        |****************************************|\n"
		  "         8 -> 15         : 1        |*************                           |\n"
		  "count 4  min 4.013 ms  avg 6.878 ms  p50 5.000 ms  p90 12.000 ms  p99 12.000 ms  "
		  "max 12.000 ms\n");
	ot_hist_free(h);

	/* a 0 (here 999 ns = 0 us) goes with 1 into the "0 -> 1" row, as in bcc */
	h = ot_hist_new();
	ot_hist_add(h, 999);
	CAPTURE(buf, sizeof(buf), f, write_hist_to(f, false, h, OT_UNIT_USEC));
	CHECK_CONTAINS(buf, "distribution\n         0 -> 1          : 1        |");
	CHECK_CONTAINS(buf, "min 0.999 us");
	ot_hist_free(h);
}

static void test_json(void)
{
	struct ot_hist *h = ot_hist_new();
	int depth = 0, min_depth = 0;

	ot_hist_add(h, 1000);
	ot_hist_add(h, 2000);
	ot_hist_add(h, 3999);
	ot_hist_add(h, 20000);
	CAPTURE(buf, sizeof(buf), f, write_hist_to(f, true, h, OT_UNIT_USEC));
	CHECK(buf[0] == '{' && buf[strlen(buf) - 1] == '}');
	CHECK(!strchr(buf, '\n'));
	for (const char *p = buf; *p; p++) {
		depth += (*p == '{' || *p == '[') - (*p == '}' || *p == ']');
		if (depth < min_depth || (depth == 0 && p[1]))
			min_depth = -1;	/* closed too early */
	}
	CHECK(depth == 0 && min_depth == 0);
	CHECK_CONTAINS(buf, "{\"unit\":\"usecs\",\"count\":4,\"min\":1.000,\"avg\":6.750,\"p50\":2.000,");
	CHECK_CONTAINS(buf, "\"p90\":20.000,\"p99\":20.000,\"max\":20.000,");
	CHECK_CONTAINS(buf, "\"buckets\":[{\"low\":0,\"high\":1,\"count\":1},{\"low\":2,\"high\":3,\"count\":2},"
			    "{\"low\":4,\"high\":7,\"count\":0},{\"low\":8,\"high\":15,\"count\":0},"
			    "{\"low\":16,\"high\":31,\"count\":1}]}");
	ot_hist_free(h);
}

static void test_units(void)
{
	struct ot_hist *h = ot_hist_new();
	uint64_t slots[OT_HIST_NSLOTS];

	ot_hist_add(h, 2500 * US);
	ot_hist_buckets(h, OT_UNIT_USEC, slots);
	CHECK(slots[12] == 1);		/* 2500 us: 2048..4095 */
	ot_hist_buckets(h, OT_UNIT_MSEC, slots);
	CHECK(slots[2] == 1 && slots[12] == 0);	/* 2 ms: 2..3 */
	CAPTURE(buf, sizeof(buf), f, write_hist_to(f, false, h, OT_UNIT_USEC));
	CHECK_CONTAINS(buf, "      2048 -> 4095       : 1");
	CHECK_CONTAINS(buf, "max 2500.000 us\n");
	CAPTURE(buf, sizeof(buf), f, write_hist_to(f, false, h, OT_UNIT_MSEC));
	CHECK_CONTAINS(buf, "     msecs               : count");
	CHECK_CONTAINS(buf, "         2 -> 3          : 1");
	CHECK_CONTAINS(buf, "max 2.500 ms\n");
	ot_hist_free(h);
}

static void test_table(void)
{
	static const char *const kinds[] = { "probe_ok", "probe_fail", "remove" };
	struct ot_hist_table *t = ot_hist_table_new(kinds, 3);
	const char *key, *a_key;
	struct ot_hist *a_hist;
	char name[16];
	int kind;

	CHECK(ot_hist_table_new(kinds, 0) == NULL);
	CHECK(ot_hist_table_new(NULL, 3) == NULL);
	CHECK(t != NULL);
	CHECK(ot_hist_table_add(t, 2, "b", 10 * US) == 0);
	CHECK(ot_hist_table_add(t, 0, "z", 20 * US) == 0);
	CHECK(ot_hist_table_add(t, 0, "a", 30 * US) == 0);
	CHECK(ot_hist_table_add(t, 1, "m", 40 * US) == 0);
	CHECK(ot_hist_table_add(t, 0, "a", 50 * US) == 0);
	CHECK(ot_hist_table_add(t, 3, "a", 1) == -EINVAL);
	CHECK(ot_hist_table_add(t, -1, "a", 1) == -EINVAL);
	CHECK(ot_hist_table_add(t, 0, NULL, 1) == -EINVAL);
	CHECK(ot_hist_table_count(t) == 4);

	/* by kind, then key */
	a_hist = ot_hist_table_get(t, 0, &kind, &a_key);
	CHECK(kind == 0);
	CHECK_STR(a_key, "a");
	CHECK(a_hist && ot_hist_count(a_hist) == 2);
	ot_hist_table_get(t, 1, &kind, &key);
	CHECK(kind == 0);
	CHECK_STR(key, "z");
	ot_hist_table_get(t, 2, &kind, &key);
	CHECK(kind == 1);
	CHECK_STR(key, "m");
	ot_hist_table_get(t, 3, &kind, &key);
	CHECK(kind == 2);
	CHECK_STR(key, "b");
	CHECK(ot_hist_table_get(t, 4, NULL, NULL) == NULL);
	CHECK(ot_hist_table_get(t, -1, NULL, NULL) == NULL);
	CHECK_STR(ot_hist_table_kind_name(t, 1), "probe_fail");

	CAPTURE(buf, sizeof(buf), f, write_hist_table_to(f, false, t, "driver", OT_UNIT_USEC));
	CHECK(!strncmp(buf, "\nprobe_ok driver = a\n     usecs ", 32));
	CHECK_CONTAINS(buf, "\nprobe_ok driver = z\n");
	CHECK(strstr(buf, "driver = z") < strstr(buf, "probe_fail driver = m") &&
	      strstr(buf, "probe_fail driver = m") < strstr(buf, "remove driver = b"));

	/* reset: keys stay, nothing is printed until new samples come */
	ot_hist_table_reset(t);
	CHECK(ot_hist_table_count(t) == 4);
	CHECK(ot_hist_count(a_hist) == 0);
	buf[0] = '\0';	/* fmemopen leaves the buffer alone when nothing is written */
	CAPTURE(buf, sizeof(buf), f, write_hist_table_to(f, false, t, "driver", OT_UNIT_USEC));
	CHECK_STR(buf, "");
	buf[0] = '\0';
	CAPTURE(buf, sizeof(buf), f, write_hist_table_to(f, true, t, "driver", OT_UNIT_USEC));
	CHECK_STR(buf, "");

	/* growth past the first allocation moves entries, not the histograms or keys */
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "dev%03d", i);
		ot_hist_table_add(t, 1, name, (uint64_t)i * US);
	}
	CHECK(ot_hist_table_count(t) == 104);
	CHECK(ot_hist_table_get(t, 0, NULL, &key) == a_hist && key == a_key);
	ot_hist_table_get(t, 2, &kind, &key);
	CHECK(kind == 1);
	CHECK_STR(key, "dev000");
	ot_hist_table_get(t, 102, &kind, &key);
	CHECK(kind == 1);
	CHECK_STR(key, "m");

	ot_hist_table_add(t, 0, "a", 7 * US);
	ot_hist_table_add(t, 2, "", 8 * US);
	CAPTURE(buf, sizeof(buf), f, write_hist_table_to(f, true, t, "bus", OT_UNIT_USEC));
	{
		static const char want[] = "{\"type\":\"histogram\",\"schema\":2,\"kind\":\"probe_ok\",\"by\":\"bus\","
					   "\"key\":\"a\",\"unit\":\"usecs\",\"count\":1,\"min\":7.000,";

		CHECK(!strncmp(buf, want, sizeof(want) - 1));
	}
	CHECK_CONTAINS(buf, "\"buckets\":[{\"low\":4,\"high\":7,\"count\":1}]}\n{\"type\"");
	CHECK_CONTAINS(buf, "{\"type\":\"histogram\",\"schema\":2,\"kind\":\"remove\",\"by\":\"bus\",\"key\":\"\",");
	CHECK(buf[strlen(buf) - 1] == '\n');
	{
		int lines = 0;

		for (const char *p = buf; *p; p++)
			lines += *p == '\n';
		CHECK(lines == 102);	/* a, 100 devNNN, the empty key; not z, m, b */
	}
	CAPTURE(buf, sizeof(buf), f, write_hist_table_to(f, false, t, "bus", OT_UNIT_USEC));
	CHECK_CONTAINS(buf, "\nremove bus = -\n");
	ot_hist_table_add(t, 2, "we\"ird\n\x01\xff", 1);
	CAPTURE(buf, sizeof(buf), f, write_hist_table_to(f, false, t, "bus", OT_UNIT_USEC));
	CHECK_CONTAINS(buf, "\nremove bus = we\"ird???\n     usecs");
	CAPTURE(buf, sizeof(buf), f, write_hist_table_to(f, true, t, "bus", OT_UNIT_USEC));
	CHECK_CONTAINS(buf, "\"key\":\"we\\\"ird\\n\\u0001\\u00ff\",");
	ot_hist_table_free(t);
	ot_hist_table_free(NULL);
}

static void test_key_truncation(void)
{
	static const char *const kinds[] = { "claim" };
	struct ot_hist_table *t = ot_hist_table_new(kinds, 1);
	char k70[71], k63[64], k62[63];
	const char *key;
	struct ot_hist *h;

	memset(k70, 'x', 70);
	k70[70] = '\0';
	memcpy(k63, k70, 63);
	k63[63] = '\0';
	memcpy(k62, k70, 62);
	k62[62] = '\0';
	CHECK(ot_hist_table_add(t, 0, k70, 1) == 0);
	h = ot_hist_table_get(t, 0, NULL, &key);
	CHECK(strlen(key) == 63);
	CHECK_STR(key, k63);
	CHECK(ot_hist_table_add(t, 0, k63, 2) == 0);	/* the same, cut key */
	CHECK(ot_hist_table_add(t, 0, k70, 3) == 0);
	CHECK(ot_hist_table_count(t) == 1 && ot_hist_count(h) == 3);
	CHECK(ot_hist_table_add(t, 0, k62, 4) == 0);	/* a prefix is another key */
	CHECK(ot_hist_table_count(t) == 2);
	ot_hist_table_free(t);
}

int main(void)
{
	test_slots();
	test_empty();
	test_one_sample();
	test_one_bucket();
	test_hundred();
	test_huge();
	test_ascii_golden();
	test_json();
	test_units();
	test_table();
	test_key_truncation();
	return unit_report("test_hist");
}

/* Output pieces: owner tokens, JSON escaping, errno names, event lines. */
#include <errno.h>
#include <stdlib.h>
#include "unit.h"
#include "util/errnames.h"
#include "util/json.h"
#include "core/run.h"
#include "writers.h"
#include "core/owner_tokens.h"
#include "core/points.h"

static void test_owner_tokens(void)
{
	struct ot_owner_tokens *t = ot_owner_tokens_new();
	char buf[32];

	CHECK(ot_owner_token(t, 0) == 0);
	CHECK(ot_owner_token(t, 0xffff888012345678ULL) == 1);
	CHECK(ot_owner_token(t, 0xffff888000000040ULL) == 2);
	CHECK(ot_owner_token(t, 0xffff888012345678ULL) == 1);	/* stable */
	CHECK_STR(ot_owner_format(t, 0xffff888000000040ULL, false, buf, sizeof(buf)), "owner#2");
	CHECK_STR(ot_owner_format(t, 0, false, buf, sizeof(buf)), "-");
	CHECK_STR(ot_owner_format(t, 0xffff888000000040ULL, true, buf, sizeof(buf)), "0xffff888000000040");
	/* growth keeps every token */
	for (uint64_t i = 1; i <= 1000; i++)
		ot_owner_token(t, 0xffff000000000000ULL + i * 64);
	CHECK(ot_owner_tokens_count(t) == 1002);
	CHECK(ot_owner_token(t, 0xffff888012345678ULL) == 1);
	CHECK(ot_owner_token(t, 0xffff000000000000ULL + 500 * 64) == 502);
	ot_owner_tokens_free(t);
}

/*
 * Bounded: a full table starts a new generation, numbering goes on, and the
 * owner that started it keeps its token (it used to land behind an empty
 * home slot whenever its probe had collided in the full table).
 */
static void test_owner_tokens_bounded(void)
{
	int stable = 0;

	for (uint64_t round = 0; round < 200; round++) {
		struct ot_owner_tokens *t = ot_owner_tokens_new();
		uint64_t first = 0xffff888000000000ULL + round * 100 * 4096, x = 0xffff888100000000ULL + round * 4096;
		unsigned int token;

		ot_owner_tokens_set_limit(t, 8);
		for (uint64_t i = 1; i <= 8; i++)
			ot_owner_token(t, first + i * 4096);
		token = ot_owner_token(t, x);
		CHECK(token == 9);
		stable += ot_owner_token(t, x) == token;
		CHECK(ot_owner_tokens_live(t) == 1 && ot_owner_tokens_forgotten(t) == 8);
		CHECK(ot_owner_token(t, first + 4096) == 10);	/* forgotten: a second token */
		ot_owner_tokens_free(t);
	}
	CHECK(stable == 200);
}

static void test_json_escaping(void)
{
	char buf[256];

	CAPTURE(buf, sizeof(buf), f, write_json_string_to(f, "a\"b\\c\n\x01\xff", 64));
	CHECK_STR(buf, "\"a\\\"b\\\\c\\n\\u0001\\u00ff\"");
	/* bounded by maxlen: fixed-size kernel strings may lack a NUL */
	CAPTURE(buf, sizeof(buf), f, write_json_string_to(f, "abcdef", 3));
	CHECK_STR(buf, "\"abc\"");
}

/* The word-at-a-time escaper of name fields writes what the byte loop writes, whatever byte is where. */
static void test_json_field_escaping(void)
{
	char field[40], want[512], got[512 + OT_PUT_SLACK];
	struct ot_buf b;
	int bad = 0;

	for (size_t pos = 0; pos < sizeof(field); pos++)
		for (int c = 0; c < 256; c++) {
			char *end;

			for (size_t i = 0; i < sizeof(field); i++)
				field[i] = (char)('A' + (i * 7 + (size_t)c) % 58);	/* 'A'..'z', '\\' among them */
			field[pos] = (char)c;
			if (c == 'x')
				field[sizeof(field) - 1] = '\0';
			ot_buf_init(&b, NULL);
			ot_json_write_string(&b, field, sizeof(field));
			snprintf(want, sizeof(want), "%.*s", (int)b.len, b.data);
			ot_buf_fini(&b);
			end = ot_json_put_field(got, field, sizeof(field));
			*end = '\0';
			bad += !!strcmp(got, want);
		}
	CHECK(bad == 0);
	*ot_json_put_field(got, "a\"b\\c\n\x01\xff\x7f\0zzzzzzzzzzzzzz", 24) = '\0';
	CHECK_STR(got, "\"a\\\"b\\\\c\\n\\u0001\\u00ff\\u007f\"");
}

static void test_errnames(void)
{
	CHECK_STR(ot_errno_name(16), "EBUSY");
	CHECK_STR(ot_errno_name(1), "EPERM");
	CHECK_STR(ot_errno_name(517), "EPROBE_DEFER");
	CHECK(ot_errno_name(0) == NULL);
	CHECK(ot_errno_name(-16) == NULL);
	CHECK(ot_errno_name(100000) == NULL);
	CHECK(ot_errno_of(-16) == 16 && ot_errno_of(6) == 6 && ot_errno_of(0) == 0);
	CHECK(ot_errno_of(INT64_MIN) == 0 && ot_errno_of(-4096) == 0 && ot_errno_of(1 << 20) == 0);
	CHECK_STR(ot_errno_name(OT_ENOTSUPP), "ENOTSUPP");
	CHECK_STR(ot_errno_name(OT_ERESTARTSYS), "ERESTARTSYS");
	/* return values of either sign; a fallback for what has no name */
	CHECK_STR(ot_ret_errno_name(-16, NULL), "EBUSY");
	CHECK_STR(ot_ret_errno_name(OT_EPROBE_DEFER, NULL), "EPROBE_DEFER");
	CHECK(ot_ret_errno_name(0, NULL) == NULL && ot_ret_errno_name(-4095, NULL) == NULL);
	CHECK_STR(ot_ret_errno_name(-4095, "error"), "error");
	CHECK_STR(ot_ret_errno_name(INT64_MIN, "error"), "error");
	/* libc's texts, and the kernel-internal ones libc calls "Unknown error" */
	CHECK_STR(ot_strerror(-EBUSY), strerror(EBUSY));
	CHECK_STR(ot_strerror(ENOENT), strerror(ENOENT));
	CHECK_STR(ot_strerror(-OT_ENOTSUPP), "not supported by this kernel (ENOTSUPP)");
	CHECK_CONTAINS(ot_strerror(OT_EPROBE_DEFER), "(EPROBE_DEFER)");
	CHECK_CONTAINS(ot_strerror(-OT_ERESTARTSYS), "(ERESTARTSYS)");
}

static void test_event_names(void)
{
	CHECK_STR(ot_event_name(OT_POINT_REALLY_PROBE, OT_PHASE_ENTER), "probe_enter");
	CHECK_STR(ot_event_name(OT_POINT_REALLY_PROBE, OT_PHASE_EXIT), "probe_exit");
	CHECK_STR(ot_event_name(OT_POINT_RELEASE_DRIVER, OT_PHASE_EXIT), "remove_exit");
	CHECK_STR(ot_event_name(OT_POINT_DMA_CONFIGURE_FIRST + 3, OT_PHASE_EXIT), "dma_configure");
	CHECK_STR(ot_event_name(OT_POINT_DMA_CLEANUP_FIRST, OT_PHASE_EXIT), "dma_cleanup");
	CHECK_STR(ot_event_name(OT_POINT_GROUP_CLAIM, OT_PHASE_EXIT), "group_claim");
	CHECK_STR(ot_event_name(OT_POINT_COUNT, OT_PHASE_EXIT), "unknown");
}

/*
 * The table's answers, point by point, against the lists the code spelled
 * out by hand before there was a table: the same predicates, so any edit
 * of a row that changes what one of these points means shows up here.
 * Points added later are not in those lists.
 */
static void test_point_table(void)
{
	for (unsigned int p = 0; p <= OT_POINT_DMA_CLEANUP_LAST; p++) {
		unsigned int f = ot_point_flags(p);
		bool probe = p == OT_POINT_REALLY_PROBE, remove = p == OT_POINT_RELEASE_DRIVER;
		bool configure = p >= OT_POINT_DMA_CONFIGURE_FIRST && p < OT_POINT_DMA_CLEANUP_FIRST;
		bool cleanup = p >= OT_POINT_DMA_CLEANUP_FIRST;	/* to the end, before the table */
		bool claim = p == OT_POINT_GROUP_CLAIM || p == OT_POINT_DEVICE_CLAIM;
		bool release = p == OT_POINT_GROUP_RELEASE || p == OT_POINT_DEVICE_RELEASE;
		int hist = probe ? OT_HIST_PROBE_OK : remove ? OT_HIST_REMOVE : configure ? OT_HIST_DMA_CONFIGURE
			 : claim ? OT_HIST_CLAIM : release ? OT_HIST_RELEASE : OT_HIST_NONE;

		CHECK(!!(f & OT_PF_SPAN) == (probe || remove));
		CHECK(!!(f & OT_PF_RETURNS) == (probe || p == OT_POINT_USE_DEFAULT_DOMAIN || claim || configure));
		CHECK(!!(f & OT_PF_PRIMITIVE) ==
		      (p >= OT_POINT_USE_DEFAULT_DOMAIN && p <= OT_POINT_DEVICE_RELEASE));
		CHECK(!!(f & OT_PF_GROUP_SUBJECT) == (p == OT_POINT_GROUP_CLAIM || p == OT_POINT_GROUP_RELEASE));
		CHECK(!!(f & OT_PF_CLAIM) == claim);
		CHECK(!!(f & OT_PF_RELEASE) == release);
		/* the stacks anomalies cite (analysis/shadow.c): spans', primitives', a probe's
		 * dma_configure; only the cleanups go without one by default */
		CHECK(!!(f & OT_PF_STACK) == !(p == OT_POINT_UNBIND_CLEANUP || cleanup));
		CHECK(ot_point_is_configure(p) == configure && ot_point_is_cleanup(p) == cleanup);
		CHECK(ot_point_hist_kind(p, 0) == hist);
		CHECK(ot_point_hist_kind(p, -16) == (probe ? OT_HIST_PROBE_FAIL : hist));
		CHECK((ot_point_desc(p)->function == NULL) == (configure || cleanup));
	}
	CHECK(OT_BUS_SLOTS == 6);
	CHECK_STR(ot_point_desc(OT_POINT_RELEASE_DRIVER)->function, "device_release_driver_internal");
	CHECK_STR(ot_point_desc(OT_POINT_DMA_CLEANUP_FIRST + 5)->kind, "dma_cleanup");
	CHECK_STR(ot_point_desc(OT_POINT_DEVICE_CLAIM)->absent_why, "device-centric ownership exists since 6.2");
	CHECK(ot_point_desc(OT_POINT_COUNT) == NULL && ot_point_flags(OT_POINT_COUNT) == 0);
	CHECK(ot_point_hist_kind(OT_POINT_COUNT, 0) == OT_HIST_NONE);
}

static struct ot_event sample_event(void)
{
	struct ot_event ev = {
		.ts_ns = 1000000000ULL + 1500000,
		.entry_ns = 1000000000ULL + 1000000,
		.owner_before = 0,
		.owner_after = 0xffff888011112222ULL,
		.pid = 42, .tid = 43, .cpu = 1, .group_id = 7,
		.owner_cnt_before = 0, .owner_cnt_after = 1,
		.ret = 0, .stack_id = 5,
		.point = OT_POINT_GROUP_CLAIM, .phase = OT_PHASE_EXIT,
	};
	strcpy(ev.comm, "vfio_group_open");
	return ev;
}

static void test_json_event(void)
{
	struct ot_bindings b = {};
	struct ot_run run = { .start_ns = 1000000000ULL, .bindings = &b };
	struct ot_event ev = sample_event();
	struct ot_writer w;
	char buf[2048];

	strcpy(b.point[OT_POINT_GROUP_CLAIM].function, "iommu_group_claim_dma_owner");
	run.tokens = ot_owner_tokens_new();
	ot_writer_init(&w, &ot_jsonl_writer, NULL, &run);
	CAPTURE(buf, sizeof(buf), f, write_event_to(f, &w, &ev));
	CHECK_CONTAINS(buf, "\"type\":\"event\"");
	CHECK_CONTAINS(buf, "\"event\":\"group_claim\"");
	CHECK_CONTAINS(buf, "\"function\":\"iommu_group_claim_dma_owner\"");
	CHECK_CONTAINS(buf, "\"device\":null");
	CHECK_CONTAINS(buf, "\"group\":7");
	CHECK_CONTAINS(buf, "\"owner_cnt_before\":0,\"owner_cnt_after\":1");
	CHECK_CONTAINS(buf, "\"owner_before\":null,\"owner_after\":\"owner#1\"");
	CHECK_CONTAINS(buf, "\"ret\":0,\"errno\":null");
	CHECK_CONTAINS(buf, "\"duration_ns\":500000");
	CHECK_CONTAINS(buf, "\"stack_id\":5");
	CHECK(strstr(buf, "ffff8880") == NULL);	/* never a raw pointer by default */
	CHECK(buf[strlen(buf) - 1] == '\n');
	ot_writer_fini(&w);
	ot_owner_tokens_free(run.tokens);
}

static void test_human_event(void)
{
	struct ot_run run = { .start_ns = 1000000000ULL };
	struct ot_event ev = sample_event();
	struct ot_writer w;
	char buf[4096];

	ev.point = OT_POINT_REALLY_PROBE;
	ev.owner_after = 0;
	ev.owner_cnt_after = 0;
	ev.ret = -16;
	strcpy(ev.device, "0000:01:02.0");
	strcpy(ev.bus, "pci");
	strcpy(ev.driver, "e1000");
	run.tokens = ot_owner_tokens_new();
	ot_writer_init(&w, &ot_text_writer, NULL, &run);
	CAPTURE(buf, sizeof(buf), f, write_event_to(f, &w, &ev));
	CHECK_CONTAINS(buf, "TIME(s)");			/* header once */
	CHECK_CONTAINS(buf, "probe_exit");
	CHECK_CONTAINS(buf, "0000:01:02.0");
	CHECK_CONTAINS(buf, "-16 (EBUSY)");
	CHECK_CONTAINS(buf, "500.0us");
	CHECK_CONTAINS(buf, "    0.001500 ");
	/* driver probe errors come back positive from really_probe */
	ev.ret = 6;
	CAPTURE(buf, sizeof(buf), f, write_event_to(f, &w, &ev));
	CHECK(strstr(buf, "TIME(s)") == NULL);
	CHECK_CONTAINS(buf, "6 (ENXIO)");
	/* void functions print no return value */
	ev.point = OT_POINT_UNUSE_DEFAULT_DOMAIN;
	ev.owner_cnt_before = 2;
	ev.owner_cnt_after = 1;
	CAPTURE(buf, sizeof(buf), f, write_event_to(f, &w, &ev));
	CHECK_CONTAINS(buf, "2->1");
	CHECK(strstr(buf, "ENXIO") == NULL);
	/* owner transitions name both sides */
	ev.point = OT_POINT_GROUP_CLAIM;
	ev.owner_after = 0xffff888011112222ULL;
	CAPTURE(buf, sizeof(buf), f, write_event_to(f, &w, &ev));
	CHECK_CONTAINS(buf, " none->owner#1 ");
	ev.owner_before = ev.owner_after;
	ev.owner_after = 0;
	CAPTURE(buf, sizeof(buf), f, write_event_to(f, &w, &ev));
	CHECK_CONTAINS(buf, " owner#1->none ");
	ot_writer_fini(&w);
	ot_owner_tokens_free(run.tokens);
}

static void test_summary(void)
{
	struct ot_run run = { .stats = { .mode = "kprobe", .kretprobe_misses = 3, .duration_s = 2.0 } };
	struct ot_stats *s = &run.stats;
	struct ot_event ev = sample_event();
	char buf[4096], human[4096];

	ev.point = OT_POINT_DMA_CONFIGURE_FIRST;
	ot_stats_count(s, &ev);
	ev.point = OT_POINT_DMA_CONFIGURE_FIRST + 1;	/* another bus: same line */
	ot_stats_count(s, &ev);
	ev.point = OT_POINT_REALLY_PROBE;
	ev.phase = OT_PHASE_ENTER;
	ot_stats_count(s, &ev);
	s->bpf[OT_CNT_RINGBUF_DROPS] = 9;
	CAPTURE(buf, sizeof(buf), f, write_summary_to(f, &ot_jsonl_writer, &run));
	CAPTURE(human, sizeof(human), h, write_summary_to(h, &ot_text_writer, &run));
	CHECK_CONTAINS(buf, "\"type\":\"summary\"");
	CHECK_CONTAINS(buf, "\"dma_configure\":2");
	CHECK_CONTAINS(buf, "\"probe_enter\":1");
	CHECK_CONTAINS(buf, "\"ringbuf_drops\":9");
	CHECK_CONTAINS(buf, "\"kretprobe_misses\":3");
	CHECK_CONTAINS(human, "9 ring-buffer drops");
	CHECK_CONTAINS(human, "3 kretprobe misses");
	CHECK(!strstr(human, "skipped by the kernel"));	/* only when there were some: replays print as before */

	/* runs the kernel skipped (a preempted run of the same program) are losses too */
	s->bpf[OT_CNT_RINGBUF_DROPS] = 0;
	s->skipped_runs = 2;
	CAPTURE(human, sizeof(human), h2, write_summary_to(h2, &ot_text_writer, &run));
	CHECK_CONTAINS(human, "\n  2 program runs skipped by the kernel: ");
	CHECK_CONTAINS(human, "WARNING: events were lost");
}

int main(void)
{
	test_owner_tokens();
	test_json_escaping();
	test_json_field_escaping();
	test_owner_tokens_bounded();
	test_errnames();
	test_event_names();
	test_point_table();
	test_json_event();
	test_human_event();
	test_summary();
	return unit_report("test_formatting");
}

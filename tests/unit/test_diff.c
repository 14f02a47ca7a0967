/* The regression gate on synthetic pairs of runs: what two boots of one
 * scenario legitimately change must pass; an extra use, a new errno, a
 * slower probe, a new anomaly must each fail for the right reason. */
#include <errno.h>
#include <stdlib.h>
#include "unit.h"
#include "analysis/diff.h"
#include "writers.h"
#include "core/owner_tokens.h"
#include "session/session.h"
#include "core/points.h"
#include "analysis/profile.h"
#include "core/stacks.h"

#define OWNER 0xffff888011110000ULL

/* What differs between the two runs of a pair. */
struct knobs {
	int group_base;		/* group numbers change between boots */
	uint32_t tid_base;	/* so do PIDs */
	int cpu;
	bool a_after_b;		/* another interleaving of unrelated devices */
	bool extra_use;		/* A's probe takes a second default-domain use */
	bool keep_use;		/* A's remove returns no use: remove_kept_use */
	long claim_ret;		/* the VFIO claim's result */
	double probe_scale;	/* e1000 probe durations x this */
	double jitter;		/* +- this fraction on every duration, deterministic */
	int iterations;		/* bind/unbind cycles */
};

struct run {
	struct ot_session *pipe;
	struct ot_profile *profile;
	struct knobs k;
	uint64_t now;
	unsigned int seq;
	uint32_t cnt_a, cnt_bc;	/* owner_cnt of the two groups, kept consistent */
	uint64_t owner_bc;
};

static uint64_t dur(struct run *r, uint64_t ns)
{
	/* a fixed pseudo-random sequence: the same knobs give the same run */
	double u = (double)((r->seq++ * 2654435761u) % 1000) / 999.0 * 2 - 1;

	return (uint64_t)((double)ns * (1 + r->k.jitter * u));
}

static void emit(struct run *r, unsigned int point, unsigned int phase, const char *dev, const char *drv, int group,
		 uint32_t before, uint32_t after, uint64_t ob, uint64_t oa, long ret, uint64_t entry, const char *comm)
{
	struct ot_event ev = {
		.ts_ns = r->now, .entry_ns = entry, .pid = r->k.tid_base, .tid = r->k.tid_base, .cpu = r->k.cpu,
		.group_id = group, .owner_cnt_before = before, .owner_cnt_after = after, .owner_before = ob,
		.owner_after = oa, .ret = ret, .stack_id = -1, .point = point, .phase = phase, .flags = OT_EVF_HAS_GROUP,
	};
	snprintf(ev.comm, sizeof(ev.comm), "%s", comm);
	if (dev)
		snprintf(ev.device, sizeof(ev.device), "%s", dev);
	if (drv)
		snprintf(ev.driver, sizeof(ev.driver), "%s", drv);
	ot_session_event(r->pipe, &ev);
}

/* One call with no span: entry now, exit after d. */
static void call(struct run *r, unsigned int point, const char *dev, const char *drv, int group, uint32_t *cnt,
		 int delta, uint64_t ob, uint64_t oa, long ret)
{
	uint64_t entry = r->now;
	uint32_t before = *cnt;

	r->now += dur(r, 20000);
	if (!ret)
		*cnt += delta;
	emit(r, point, OT_PHASE_EXIT, dev, drv, group, before, *cnt, ob, oa, ret, entry, "bash");
	r->now += 1000;
}

static void bind(struct run *r, const char *dev, const char *drv, int group, uint32_t *cnt, bool uses, int extra)
{
	uint64_t entry = r->now;
	uint64_t d = dur(r, (uint64_t)(2000000 * (strcmp(drv, "e1000") ? 1 : r->k.probe_scale)));

	emit(r, OT_POINT_REALLY_PROBE, OT_PHASE_ENTER, dev, drv, group, *cnt, *cnt, 0, 0, 0, entry, "bash");
	r->now += 1000;
	call(r, OT_POINT_DMA_CONFIGURE_FIRST, dev, drv, group, cnt, 0, 0, 0, 0);
	for (int i = 0; uses && i < 1 + extra; i++)
		call(r, OT_POINT_USE_DEFAULT_DOMAIN, dev, drv, group, cnt, 1, 0, 0, 0);
	r->now = entry + d;
	emit(r, OT_POINT_REALLY_PROBE, OT_PHASE_EXIT, dev, drv, group, *cnt, *cnt, 0, 0, 0, entry, "bash");
	r->now += 1000;
}

static void unbind(struct run *r, const char *dev, const char *drv, int group, uint32_t *cnt, bool uses)
{
	uint64_t entry = r->now;

	emit(r, OT_POINT_RELEASE_DRIVER, OT_PHASE_ENTER, dev, drv, group, *cnt, *cnt, 0, 0, 0, entry, "bash");
	r->now += 1000;
	call(r, OT_POINT_DMA_CLEANUP_FIRST, dev, drv, group, cnt, 0, 0, 0, 0);
	if (uses)
		call(r, OT_POINT_UNUSE_DEFAULT_DOMAIN, dev, drv, group, cnt, -1, 0, 0, 0);
	r->now = entry + dur(r, 1000000);
	emit(r, OT_POINT_RELEASE_DRIVER, OT_PHASE_EXIT, dev, drv, group, *cnt, *cnt, 0, 0, 0, entry, "bash");
	r->now += 1000;
}

#define A "0000:00:03.0"
#define B "0000:01:00.0"
#define C "0000:01:01.0"

static void cycle_a(struct run *r)
{
	int g = r->k.group_base + 1;

	bind(r, A, "e1000", g, &r->cnt_a, true, r->k.extra_use);
	unbind(r, A, "e1000", g, &r->cnt_a, !r->k.keep_use);
}

static void cycle_b(struct run *r)
{
	int g = r->k.group_base + 2;

	bind(r, B, "e1000", g, &r->cnt_bc, true, 0);
	unbind(r, B, "e1000", g, &r->cnt_bc, true);
}

/* C to vfio-pci (driver-managed DMA: no use), VFIO claims and releases the group. */
static void cycle_vfio(struct run *r)
{
	int g = r->k.group_base + 2;
	uint32_t before;

	bind(r, C, "vfio-pci", g, &r->cnt_bc, false, 0);
	before = r->cnt_bc;
	r->now += 1000;
	emit(r, OT_POINT_GROUP_CLAIM, OT_PHASE_EXIT, NULL, NULL, g, before, r->k.claim_ret ? before : before + 1, 0,
	     r->k.claim_ret ? 0 : OWNER, r->k.claim_ret, r->now - 30000, "vfio_group_open");
	if (!r->k.claim_ret) {
		r->now += 50000;
		emit(r, OT_POINT_GROUP_RELEASE, OT_PHASE_EXIT, NULL, NULL, g, before + 1, before, OWNER, 0, 0,
		     r->now - 20000, "vfio_group_open");
	}
	r->now += 1000;
	unbind(r, C, "vfio-pci", g, &r->cnt_bc, false);
}

static struct ot_profile *run(struct knobs k)
{
	struct run *r = calloc(1, sizeof(*r));
	struct ot_profile *p;
	struct ot_sink sink;

	if (!k.iterations)
		k.iterations = 6;
	if (!k.probe_scale)
		k.probe_scale = 1;
	r->k = k;
	r->now = 1000000000;
	r->pipe = ot_session_new(&(struct ot_session_opts){ 0 });
	r->profile = ot_profile_new();
	CHECK(r->profile && r->pipe);
	sink = ot_profile_sink(r->profile);
	CHECK(!ot_session_add_sink(r->pipe, &sink));
	for (int i = 0; i < k.iterations; i++) {
		if (k.a_after_b) {
			cycle_b(r);
			cycle_a(r);
		} else {
			cycle_a(r);
			cycle_b(r);
		}
		cycle_vfio(r);
	}
	CHECK(!ot_profile_finish(r->profile));
	ot_session_free(r->pipe);
	p = r->profile;
	free(r);
	return p;
}

static struct ot_diff_opts opts;
static struct ot_profile *last_pair[2];	/* findings point into the profiles: kept until the next pair */

static void free_last_pair(void)
{
	ot_profile_free(last_pair[0]);
	ot_profile_free(last_pair[1]);
	last_pair[0] = last_pair[1] = NULL;
}

static struct ot_diff compare(struct knobs base, struct knobs cand)
{
	struct ot_profile *b = run(base), *c = run(cand);
	struct ot_diff d;

	free_last_pair();
	last_pair[0] = b, last_pair[1] = c;
	CHECK(!ot_diff_compare(b, c, &opts, &d));
	return d;
}

static int count_of(const struct ot_diff *d, enum ot_diff_category c)
{
	int n = 0;

	for (int i = 0; i < d->nfindings; i++)
		n += d->findings[i].category == c;
	return n;
}

static const struct ot_diff_finding *first_of(const struct ot_diff *d, enum ot_diff_category c)
{
	for (int i = 0; i < d->nfindings; i++)
		if (d->findings[i].category == c)
			return &d->findings[i];
	return NULL;
}

static bool has_shape(const struct ot_diff *d, const struct ot_diff_finding *f, const char *shape, uint64_t base,
		      uint64_t cand)
{
	for (int i = f->first_shape; i < f->first_shape + f->nshapes; i++)
		if (!strcmp(d->shapes[i].shape, shape) && d->shapes[i].base == base && d->shapes[i].cand == cand)
			return true;
	return false;
}

static void test_same_scenario_other_boot_passes(void)
{
	struct ot_diff d = compare((struct knobs){ .group_base = 0, .tid_base = 100, .cpu = 0 },
				   (struct knobs){ .group_base = 7, .tid_base = 4321, .cpu = 1, .a_after_b = true });

	CHECK(!d.fail);
	CHECK(d.nfindings == 0);
	CHECK(d.subjects == 4);		/* A, B, C, and the group of B+C */
	CHECK(d.subjects_same == 4);
	CHECK(d.ownership_compared);
	CHECK(d.nlatency >= 4);		/* probe_ok e1000 / vfio-pci, remove ..., claim, release */
	ot_diff_free(&d);
}

static void test_jitter_within_threshold_passes(void)
{
	struct ot_diff d = compare((struct knobs){ .jitter = 0.1 }, (struct knobs){ .jitter = 0.1, .tid_base = 9,
									    .probe_scale = 1.2 });

	CHECK(!d.fail);
	CHECK(count_of(&d, OT_DIFF_LATENCY) == 0);
	ot_diff_free(&d);
}

static void test_extra_use_fails_as_sequence_change(void)
{
	struct ot_diff d = compare((struct knobs){ 0 }, (struct knobs){ .extra_use = true });
	const struct ot_diff_finding *f = first_of(&d, OT_DIFF_SEQUENCE_CHANGE);

	CHECK(d.fail);
	CHECK(d.gated[OT_DIFF_SEQUENCE_CHANGE] == 1);
	CHECK(f && f->gated);
	if (f) {
		CHECK_STR(f->subject, A " (e1000)");
		CHECK(has_shape(&d, f, "probe{dma_configure=0, use_default_domain=0}=0", 6, 0));
		CHECK(has_shape(&d, f, "probe{dma_configure=0, use_default_domain=0, use_default_domain=0}=0", 0, 6));
		/* the remove did not change: listed, unmarked, for context */
		CHECK(has_shape(&d, f, "remove{dma_cleanup, unuse_default_domain}", 6, 6));
	}
	/* the one use left behind by each remove is an anomaly of its own */
	CHECK(d.gated[OT_DIFF_NEW_ANOMALY] == 1);
	ot_diff_free(&d);
}

static void test_new_claim_errno_fails_with_errno(void)
{
	struct ot_diff d = compare((struct knobs){ 0 }, (struct knobs){ .claim_ret = -EBUSY });
	const struct ot_diff_finding *f = first_of(&d, OT_DIFF_SEQUENCE_CHANGE);

	CHECK(d.fail);
	CHECK(d.gated[OT_DIFF_SEQUENCE_CHANGE] == 1);
	CHECK(f != NULL);
	if (f) {
		/* named after the group's devices, not its number */
		CHECK_STR(f->subject, "group of " B "+" C);
		CHECK(has_shape(&d, f, "group_claim=0", 6, 0));
		CHECK(has_shape(&d, f, "group_claim=-16 (EBUSY)", 0, 6));
		CHECK(has_shape(&d, f, "group_release", 6, 0));
	}
	ot_diff_free(&d);
}

static void test_slower_probe_fails_as_latency(void)
{
	struct ot_diff d = compare((struct knobs){ .jitter = 0.05 }, (struct knobs){ .jitter = 0.05, .probe_scale = 3 });
	const struct ot_diff_finding *f = first_of(&d, OT_DIFF_LATENCY);
	char buf[8192];

	CHECK(d.fail);
	CHECK(d.gated[OT_DIFF_LATENCY] == 1);
	CHECK(d.gated[OT_DIFF_SEQUENCE_CHANGE] == 0);
	CHECK(f && f->latency >= 0);
	if (f && f->latency >= 0) {
		const struct ot_diff_latency *l = &d.latency[f->latency];

		CHECK_STR(f->subject, "e1000");
		CHECK_STR(f->what, "probe_ok");
		CHECK(l->p50_regressed);
		/* 6 samples: their "p99" is the maximum, one outlier; never gated */
		CHECK(!l->enough_p99 && !l->p99_regressed);
		CHECK(l->cand_p50 > 2.5 * l->base_p50);
	}
	struct ot_diff_side s = { .label = "base.otr", .kernel = "6.1.0", .events = 1 };

	memset(buf, 0, sizeof(buf));
	CAPTURE(buf, sizeof(buf) - 1, f2, write_diff_to(f2, &ot_text_writer, &d, &opts, &s, &s, 8));
	CHECK_CONTAINS(buf, "ownertrace diff: FAIL - 1 latency\n");
	CHECK_CONTAINS(buf, "LATENCY REGRESSIONS\n  probe_ok      e1000");
	memset(buf, 0, sizeof(buf));
	CAPTURE(buf, sizeof(buf) - 1, f3, write_diff_to(f3, &ot_jsonl_writer, &d, &opts, &s, &s, 0));
	CHECK_CONTAINS(buf, "{\"type\":\"diff\",\"schema\":2,\"verdict\":\"fail\",\"failed_by\":{\"latency\":1}");
	CHECK(strchr(buf, '\n') == buf + strlen(buf) - 1);	/* one line */
	ot_diff_free(&d);
}

static void test_too_few_samples_is_inconclusive_not_failure(void)
{
	struct ot_diff d = compare((struct knobs){ .iterations = 2 }, (struct knobs){ .iterations = 2, .probe_scale = 3 });
	const struct ot_diff_finding *f = first_of(&d, OT_DIFF_INCONCLUSIVE);

	CHECK(!d.fail);
	CHECK(count_of(&d, OT_DIFF_LATENCY) == 0);
	CHECK(f && !f->gated);
	ot_diff_free(&d);
}

static void test_new_anomaly_fails_and_gone_one_passes(void)
{
	struct ot_diff d = compare((struct knobs){ 0 }, (struct knobs){ .keep_use = true });
	const struct ot_diff_finding *f = first_of(&d, OT_DIFF_NEW_ANOMALY);

	CHECK(d.fail && d.gated[OT_DIFF_NEW_ANOMALY] == 1);
	CHECK(f != NULL);
	if (f) {
		CHECK_STR(f->what, "remove_kept_use");
		CHECK_STR(f->subject, A " (e1000)");
		CHECK(f->base == 0 && f->cand == 6);
		CHECK(f->example && strstr(f->example, A));
	}
	ot_diff_free(&d);

	d = compare((struct knobs){ .keep_use = true }, (struct knobs){ 0 });
	CHECK(count_of(&d, OT_DIFF_GONE_ANOMALY) == 1);
	CHECK(count_of(&d, OT_DIFF_NEW_ANOMALY) == 0);
	CHECK(d.gated[OT_DIFF_GONE_ANOMALY] == 0);
	/* the remove's shape changed too (it now returns its use): that is gated */
	CHECK(d.gated[OT_DIFF_SEQUENCE_CHANGE] == 1);
	ot_diff_free(&d);
}

static void test_fail_on_selects_what_gates(void)
{
	struct ot_diff d;

	opts.fail_on = 0;	/* --fail-on none: report only */
	d = compare((struct knobs){ 0 }, (struct knobs){ .extra_use = true });
	CHECK(!d.fail);
	CHECK(count_of(&d, OT_DIFF_SEQUENCE_CHANGE) == 1);
	CHECK(!first_of(&d, OT_DIFF_SEQUENCE_CHANGE)->gated);
	ot_diff_free(&d);

	/* more cycles of the same shapes: informs by default, fails when asked */
	ot_diff_opts_default(&opts);
	d = compare((struct knobs){ .iterations = 6 }, (struct knobs){ .iterations = 7 });
	CHECK(!d.fail);
	CHECK(count_of(&d, OT_DIFF_COUNT_CHANGE) == 4);
	ot_diff_free(&d);
	opts.fail_on |= 1u << OT_DIFF_COUNT_CHANGE;
	d = compare((struct knobs){ .iterations = 6 }, (struct knobs){ .iterations = 7 });
	CHECK(d.fail && d.gated[OT_DIFF_COUNT_CHANGE] == 4);
	ot_diff_free(&d);
	ot_diff_opts_default(&opts);
}

/* With 100 samples a side, p99 is a real percentile and gated on its own. */
static void test_p99_gated_with_enough_samples(void)
{
	struct ot_diff d;

	opts.max_p50_regress = -1;	/* p50 not gated: only p99 can fail */
	/* two e1000 devices a cycle: 50 cycles are 100 e1000 probes */
	d = compare((struct knobs){ .iterations = 50 }, (struct knobs){ .iterations = 50, .probe_scale = 3 });
	CHECK(d.fail && d.gated[OT_DIFF_LATENCY] == 1);
	const struct ot_diff_finding *f = first_of(&d, OT_DIFF_LATENCY);

	CHECK(f && d.latency[f->latency].enough_p99 && d.latency[f->latency].p99_regressed);
	ot_diff_free(&d);
	d = compare((struct knobs){ .iterations = 49 }, (struct knobs){ .iterations = 49, .probe_scale = 3 });
	CHECK(!d.fail);
	ot_diff_free(&d);
	ot_diff_opts_default(&opts);
}

static void test_thresholds(void)
{
	struct ot_diff d;

	opts.max_p50_regress = 2.5;	/* 3x is +200%: passes a +250% gate */
	d = compare((struct knobs){ 0 }, (struct knobs){ .probe_scale = 3 });
	CHECK(!d.fail);
	ot_diff_free(&d);
	opts.max_p50_regress = 1.5;
	d = compare((struct knobs){ 0 }, (struct knobs){ .probe_scale = 3 });
	CHECK(d.fail && d.gated[OT_DIFF_LATENCY] == 1);
	ot_diff_free(&d);
	/* a growth under the absolute floor is noise whatever its ratio */
	opts.min_change_ns = 10000000;
	d = compare((struct knobs){ 0 }, (struct knobs){ .probe_scale = 3 });
	CHECK(!d.fail);
	ot_diff_free(&d);
	ot_diff_opts_default(&opts);
}

/* A --hist-only recording has durations, no events: only latency compares. */
static void test_hist_only_side_compares_latency_only(void)
{
	struct ot_session *pipe = ot_session_new(&(struct ot_session_opts){ 0 });
	struct ot_profile *hist_only = ot_profile_new();
	struct ot_sink sink = ot_profile_sink(hist_only);
	struct ot_sample s = { .kind = OT_HIST_PROBE_OK, .duration_ns = 2000000 };
	struct ot_diff d;

	snprintf(s.name, sizeof(s.name), "e1000");
	CHECK(pipe && !ot_session_add_sink(pipe, &sink));
	for (int i = 0; i < 12; i++)
		ot_session_sample(pipe, &s);
	CHECK(!ot_profile_finish(hist_only));
	free_last_pair();
	last_pair[0] = run((struct knobs){ 0 });
	last_pair[1] = hist_only;
	CHECK(!ot_diff_compare(last_pair[0], hist_only, &opts, &d));
	CHECK(!d.ownership_compared);
	CHECK(!d.fail && count_of(&d, OT_DIFF_SEQUENCE_CHANGE) == 0);
	CHECK(d.nlatency == 1 && d.latency[0].enough && !strcmp(d.latency[0].name, "e1000"));
	ot_diff_free(&d);
	/* whichever side is the histogram-only one */
	CHECK(!ot_diff_compare(hist_only, last_pair[0], &opts, &d));
	CHECK(!d.ownership_compared && !d.fail);
	ot_diff_free(&d);
	ot_session_free(pipe);
}

static void test_parse_fail_on(void)
{
	unsigned int m = 0;
	char bad[32] = "";

	CHECK(!ot_diff_parse_fail_on("new-anomaly,latency", &m, bad, sizeof(bad)));
	CHECK(m == ((1u << OT_DIFF_NEW_ANOMALY) | (1u << OT_DIFF_LATENCY)));
	CHECK(!ot_diff_parse_fail_on("all", &m, bad, sizeof(bad)) && m == OT_DIFF_GATEABLE);
	CHECK(!ot_diff_parse_fail_on("none", &m, bad, sizeof(bad)) && m == 0);
	CHECK(ot_diff_parse_fail_on("latency,bogus", &m, bad, sizeof(bad)) == -EINVAL);
	CHECK_STR(bad, "bogus");
	/* informational categories cannot gate */
	CHECK(ot_diff_parse_fail_on("inconclusive", &m, bad, sizeof(bad)) == -EINVAL);
}

int main(void)
{
	ot_diff_opts_default(&opts);
	test_same_scenario_other_boot_passes();
	test_jitter_within_threshold_passes();
	test_extra_use_fails_as_sequence_change();
	test_new_claim_errno_fails_with_errno();
	test_slower_probe_fails_as_latency();
	test_too_few_samples_is_inconclusive_not_failure();
	test_new_anomaly_fails_and_gone_one_passes();
	test_fail_on_selects_what_gates();
	test_p99_gated_with_enough_samples();
	test_thresholds();
	test_hist_only_side_compares_latency_only();
	test_parse_fail_on();
	free_last_pair();
	return unit_report("test_diff");
}

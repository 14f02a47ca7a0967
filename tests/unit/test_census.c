/* The census verdicts on synthetic snapshots: every verdict with its
 * negative control, the anomalies a run's censuses report (preexisting at
 * the start, drift at audits), and the shadow seeded from a census. The
 * census record, its rendering and the pipeline: test_census_record.c. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "unit.h"
#include "analysis/census.h"
#include "census_synth.h"

static struct ot_census_judgement judge(struct ot_census_group *g)
{
	struct ot_census_judgement j;

	ot_census_judge(g, &j);
	return j;
}

static const char *explain(struct ot_census_group *g)
{
	static char buf[320];
	struct ot_census_judgement j = judge(g);

	ot_census_explain(g, &j, buf, sizeof(buf));
	return buf;
}

static void test_consistent(void)
{
	struct ot_census_judgement j;
	const struct dspec two[] = { { "0000:01:00.0", "e1000", "k" }, { "0000:01:00.1", "e1000", "k" } };

	j = judge(group(2, 1, 0, 0, 3, bridge_e1000_edu));
	CHECK(j.verdict == OT_CV_CONSISTENT && j.cached == 1 && j.recalculated == 1 && j.excess == 0);
	CHECK(!ot_census_is_violation(j.verdict) && j.nsuspects == 0);
	CHECK_CONTAINS(explain(&G), "owner_cnt 1: the 1 device bound to kernel DMA drivers");
	j = judge(group(3, 2, 0, 0, 2, two));
	CHECK(j.verdict == OT_CV_CONSISTENT && j.recalculated == 2);
	/* nothing bound, nothing counted */
	j = judge(group(0, 0, 0, 0, 1, (const struct dspec[]){ { "0000:00:00.0", NULL, "-" } }));
	CHECK(j.verdict == OT_CV_CONSISTENT);
	CHECK_CONTAINS(explain(&G), "free to claim");
	/* driver_managed_dma and buses that take no ownership count nothing */
	j = judge(group(4, 1, 0, 0, 2, (const struct dspec[]){ { "0000:02:00.0", "vfio-pci", "m" },
							     { "0000:02:00.1", "e1000", "k" } }));
	CHECK(j.verdict == OT_CV_CONSISTENT && j.recalculated == 1);
	j = judge(group(5, 0, 0, 0, 1, (const struct dspec[]){ { "vmbus-0", "hv_netvsc", "o" } }));
	CHECK(j.verdict == OT_CV_CONSISTENT && j.recalculated == 0);
	/* a group with no devices left */
	j = judge(group(6, 0, 0, 0, 0, NULL));
	CHECK(j.verdict == OT_CV_CONSISTENT);
}

static void test_leaked(void)
{
	const struct dspec lone[] = { { "0000:00:02.0", NULL, "-" } };
	struct ot_census_judgement j;

	/* the lone e1000's group after a driver skipped its unuse */
	j = judge(group(1, 1, 0, 0, 1, lone));
	CHECK(j.verdict == OT_CV_LEAKED && ot_census_is_violation(j.verdict));
	CHECK(j.cached == 1 && j.recalculated == 0 && j.excess == 1);
	CHECK(j.nsuspects == 1 && !strcmp(G.snap.dev[j.suspects[0]].name, "0000:00:02.0"));
	CHECK_CONTAINS(explain(&G), "1 count leaked");
	CHECK_CONTAINS(explain(&G), "left by the last driver of 0000:00:02.0");
	/* negative control: the same group, count given back */
	CHECK(judge(group(1, 0, 0, 0, 1, lone)).verdict == OT_CV_CONSISTENT);

	/* shared group: the suspects are the devices that hold no count now */
	j = judge(group(2, 2, 0, 0, 3, bridge_e1000_edu));
	CHECK(j.verdict == OT_CV_LEAKED && j.excess == 1 && j.nsuspects == 2);
	CHECK(!strcmp(G.snap.dev[j.suspects[0]].name, "0000:00:05.0"));
	CHECK(!strcmp(G.snap.dev[j.suspects[1]].name, "0000:01:02.0"));
	CHECK_CONTAINS(explain(&G), "one of 0000:00:05.0, 0000:01:02.0");
	/* every device counted: any of them may have taken two */
	j = judge(group(7, 3, 0, 0, 1, (const struct dspec[]){ { "0000:03:00.0", "nvme", "k" } }));
	CHECK(j.verdict == OT_CV_LEAKED && j.excess == 2 && j.nsuspects == 1);
	CHECK_CONTAINS(explain(&G), "2 counts leaked");
	/* a driver_managed_dma device does not explain the count */
	j = judge(group(4, 2, 0, 0, 2, (const struct dspec[]){ { "0000:02:00.0", "vfio-pci", "m" },
							     { "0000:02:00.1", "e1000", "k" } }));
	CHECK(j.verdict == OT_CV_LEAKED && j.nsuspects == 1 && !strcmp(G.snap.dev[j.suspects[0]].name, "0000:02:00.0"));
}

static void test_missing(void)
{
	struct ot_census_judgement j;
	const struct dspec edu_bound[] = { { "0000:00:05.0", NULL, "-" }, { "0000:01:01.0", NULL, "-" },
					   { "0000:01:02.0", "ot_testmod", "k" } };

	j = judge(group(2, 0, 0, 0, 3, edu_bound));
	CHECK(j.verdict == OT_CV_MISSING && ot_census_is_violation(j.verdict));
	CHECK(j.excess == -1 && j.recalculated == 1 && j.nsuspects == 1);
	CHECK(!strcmp(G.snap.dev[j.suspects[0]].name, "0000:01:02.0"));
	CHECK_CONTAINS(explain(&G), "1 use missing");
	CHECK_CONTAINS(explain(&G), "0000:01:02.0");
	/* negative control */
	CHECK(judge(group(2, 1, 0, 0, 3, edu_bound)).verdict == OT_CV_CONSISTENT);
	/* vfio-pci bound: driver_managed_dma, nothing missing */
	CHECK(judge(group(8, 0, 0, 0, 1, (const struct dspec[]){ { "0000:00:06.0", "vfio-pci", "m" } })).verdict ==
	      OT_CV_CONSISTENT);
}

static void test_claimed(void)
{
	const struct dspec vfio[] = { { "0000:00:06.0", "vfio-pci", "m" } };
	const struct dspec shared[] = { { "0000:00:05.0", NULL, "-" }, { "0000:01:01.0", NULL, "-" },
					{ "0000:01:02.0", "vfio-pci", "m" } };
	struct ot_census_judgement j;

	group(8, 1, X, 0, 1, vfio);
	snprintf(G.holder, sizeof(G.holder), "pid 77 (qemu), with /dev/vfio/8 open");
	j = judge(&G);
	CHECK(j.verdict == OT_CV_CLAIMED && !ot_census_is_violation(j.verdict) && j.claims == 1);
	CHECK_CONTAINS(explain(&G), "owner_cnt 1: 1 claim for the group's 1 device, held by pid 77 (qemu)");
	group(2, 1, X, OT_CF_DOMAIN_BLOCKING, 3, shared);
	CHECK(judge(&G).verdict == OT_CV_CLAIMED);
	CHECK_CONTAINS(explain(&G), "1 claim for the group's 3 devices, held by an owner ownertrace cannot name");
	/* device claims nest, one per device at most */
	CHECK(judge(group(2, 3, X, 0, 3, shared)).verdict == OT_CV_CLAIMED);
	/* negative controls: a claim cannot coexist with a kernel DMA driver, needs a count, and cannot exceed the devices */
	j = judge(group(2, 1, X, 0, 3, bridge_e1000_edu));
	CHECK(j.verdict == OT_CV_MISSING && j.nsuspects == 1);
	CHECK_CONTAINS(explain(&G), "claimed (owner_cnt 1) while 1 device is bound to kernel DMA drivers");
	CHECK(judge(group(8, 0, X, 0, 1, vfio)).verdict == OT_CV_MISSING);
	CHECK_CONTAINS(explain(&G), "owner_cnt is 0");
	j = judge(group(8, 2, X, 0, 1, vfio));
	CHECK(j.verdict == OT_CV_LEAKED && j.excess == 1);
	CHECK_CONTAINS(explain(&G), "more claims than devices");
}

static void test_unsettled_and_truncated(void)
{
	const struct dspec lone[] = { { "0000:00:02.0", NULL, "-" } };
	const struct dspec locked[] = { { "0000:00:02.0", "e1000", "kL" } };
	struct ot_census_judgement j;
	static const uint32_t inflight[] = { OT_CF_GROUP_LOCKED, OT_CF_DEVICE_LOCKED, OT_CF_CHANGED };

	for (size_t i = 0; i < sizeof(inflight) / sizeof(inflight[0]); i++) {
		/* what would be a leak is not judged while something is in flight */
		group(1, 1, 0, inflight[i], 1, lone);
		G.snapshots = 9;
		j = judge(&G);
		CHECK(j.verdict == OT_CV_UNSETTLED && !ot_census_is_violation(j.verdict));
		CHECK_CONTAINS(explain(&G), "in flight in all 9 snapshots");
	}
	CHECK_CONTAINS(explain(group(1, 0, 0, OT_CF_DEVICE_LOCKED, 1, locked)), "a device locked by a probe or remove");
	/* negative control: settled, the leak is one */
	CHECK(judge(group(1, 1, 0, 0, 1, lone)).verdict == OT_CV_LEAKED);

	/* truncated: devices not read may hold any count, so no verdict on it */
	j = judge(group(2, 5, 0, OT_CF_TRUNCATED, 3, bridge_e1000_edu));
	CHECK(j.verdict == OT_CV_TRUNCATED && !ot_census_is_violation(j.verdict));
	CHECK_CONTAINS(explain(&G), "more devices than the 3 the census reads");
	CHECK(judge(group(2, 5, 0, 0, 3, bridge_e1000_edu)).verdict == OT_CV_LEAKED);
	/* the lock-unknown flag alone does not unsettle */
	CHECK(judge(group(2, 1, 0, OT_CF_LOCK_UNKNOWN, 3, bridge_e1000_edu)).verdict == OT_CV_CONSISTENT);
}

static void test_same(void)
{
	static struct ot_census_snap a, b;

	a = group(2, 1, 0, 0, 3, bridge_e1000_edu)->snap;
	b = a;
	b.head.ts_ns += 10;
	b.head.flags |= OT_CF_DEVICE_LOCKED;	/* not what is compared */
	CHECK(ot_census_same(&a, &b));
	b.head.owner_cnt = 2;
	CHECK(!ot_census_same(&a, &b));
	b = a;
	snprintf(b.dev[2].driver, sizeof(b.dev[2].driver), "vfio-pci");
	CHECK(!ot_census_same(&a, &b));
	b = a;
	b.dev[1].state = OT_CDEV_MANAGED;
	CHECK(!ot_census_same(&a, &b));
	b = a;
	b.head.ndevices = 2;
	CHECK(!ot_census_same(&a, &b));
}

static void test_names(void)
{
	char buf[16];

	CHECK_STR(ot_census_domain_name(0xb, buf, sizeof(buf)), "DMA-FQ");
	CHECK_STR(ot_census_domain_name(0x3, buf, sizeof(buf)), "DMA");
	CHECK_STR(ot_census_domain_name(0x4, buf, sizeof(buf)), "identity");
	CHECK_STR(ot_census_domain_name(0x0, buf, sizeof(buf)), "blocked");
	CHECK_STR(ot_census_domain_name(0x81, buf, sizeof(buf)), "0x81");
	CHECK_STR(ot_census_verdict_name(OT_CV_LEAKED), "leaked");
	CHECK_STR(ot_census_reason_name(OT_CENSUS_START), "start");
	CHECK_STR(ot_census_dev_state_name(OT_CDEV_MANAGED), "driver_managed_dma");
	CHECK_STR(ot_anomaly_kind_name(OT_AN_PREEXISTING_LEAK), "preexisting_leak");
	CHECK_STR(ot_anomaly_kind_name(OT_AN_PREEXISTING_MISSING), "preexisting_missing");
	CHECK_STR(ot_anomaly_kind_name(OT_AN_AUDIT_DRIFT), "audit_drift");
}

/* ---- a run's censuses ---------------------------------------------------------- */

static struct ot_anomaly reported[16];
static int nreported;

static void collect(void *ctx, struct ot_anomaly *an)
{
	(void)ctx;
	if (nreported < 16)
		reported[nreported++] = *an;
}

static void test_track(void)
{
	const struct dspec lone[] = { { "0000:00:02.0", NULL, "-" } };
	const struct dspec edu_bound[] = { { "0000:01:02.0", "ot_testmod", "k" } };
	static struct ot_census_group gs[3];
	struct ot_census_track *t = ot_census_track_new();
	struct ot_census c;

	gs[0] = *group(1, 1, 0, 0, 1, lone);		/* leaked */
	gs[1] = *group(2, 0, 0, 0, 1, edu_bound);	/* missing */
	gs[2] = *group(3, 0, 0, 0, 1, lone);		/* consistent */
	nreported = 0;
	c = census_of(OT_CENSUS_START, 3, gs);
	ot_census_track(t, &c, collect, NULL);
	CHECK(nreported == 2);
	CHECK(reported[0].kind == OT_AN_PREEXISTING_LEAK && reported[0].group == 1);
	CHECK_STR(reported[0].device, "0000:00:02.0");
	CHECK_CONTAINS(reported[0].message, "already before tracing started, group 1");
	CHECK_CONTAINS(reported[0].message, "devices: 0000:00:02.0 (no driver)");
	CHECK(reported[0].stack_id == -1 && reported[0].pair_stack_id == -1 && reported[0].ts_ns == 5000);
	CHECK(reported[1].kind == OT_AN_PREEXISTING_MISSING && reported[1].group == 2);
	CHECK_STR(reported[1].device, "0000:01:02.0");
	CHECK_STR(reported[1].driver, "ot_testmod");
	CHECK(ot_census_track_violations(t) == 2 && ot_census_track_censuses(t) == 1);
	{
		int n;
		const struct ot_census_gauge *gg = ot_census_track_gauges(t, &n);

		CHECK(n == 3 && gg[0].group == 1 && gg[0].cached == 1 && gg[0].recalculated == 0 && gg[0].violation);
		CHECK(gg[2].group == 3 && gg[2].cached == 0 && !gg[2].violation);
	}

	/* an audit that finds the same: nothing new */
	nreported = 0;
	c = census_of(OT_CENSUS_AUDIT, 3, gs);
	ot_census_track(t, &c, collect, NULL);
	CHECK(nreported == 0 && ot_census_track_violations(t) == 4);
	/* the leak grows: drift; the consistent group leaks: drift; the missing one is repaired: silent */
	gs[0].snap.head.owner_cnt = 2;
	gs[1].snap.head.owner_cnt = 1;
	gs[2].snap.head.owner_cnt = 1;
	c = census_of(OT_CENSUS_AUDIT, 3, gs);
	ot_census_track(t, &c, collect, NULL);
	CHECK(nreported == 2);
	CHECK(reported[0].kind == OT_AN_AUDIT_DRIFT && reported[0].group == 1);
	CHECK_CONTAINS(reported[0].message, "drifted since the last audit: group 1: owner_cnt is 2");
	CHECK(reported[1].kind == OT_AN_AUDIT_DRIFT && reported[1].group == 3);
	/* in flight at the next audit: kept, not judged; settled again at the end: the same, silent */
	nreported = 0;
	gs[2].snap.head.flags |= OT_CF_DEVICE_LOCKED;
	gs[2].snap.head.owner_cnt = 7;
	c = census_of(OT_CENSUS_AUDIT, 3, gs);
	ot_census_track(t, &c, collect, NULL);
	CHECK(nreported == 0);
	gs[2].snap.head.flags &= ~OT_CF_DEVICE_LOCKED;
	gs[2].snap.head.owner_cnt = 1;
	c = census_of(OT_CENSUS_END, 3, gs);
	ot_census_track(t, &c, collect, NULL);
	CHECK(nreported == 0);
	/* a group first judged at an audit (unsettled at the start) and bad: drift */
	gs[0] = *group(9, 1, 0, 0, 1, lone);
	c = census_of(OT_CENSUS_END, 1, gs);
	ot_census_track(t, &c, collect, NULL);
	CHECK(nreported == 1 && reported[0].kind == OT_AN_AUDIT_DRIFT && reported[0].group == 9);
	CHECK_CONTAINS(reported[0].message, "at the end of the run");
	ot_census_track_free(t);

	/* the groups command reports verdicts, not anomalies */
	t = ot_census_track_new();
	nreported = 0;
	gs[0] = *group(1, 1, 0, 0, 1, lone);
	c = census_of(OT_CENSUS_GROUPS, 1, gs);
	ot_census_track(t, &c, collect, NULL);
	CHECK(nreported == 0 && ot_census_track_violations(t) == 1);
	ot_census_track_free(t);
}

/* ---- the shadow seeded from a census -------------------------------------------- */

static int an_count;
static enum ot_anomaly_kind an_kinds[16];

static void on_anomaly(void *ctx, const struct ot_anomaly *an)
{
	(void)ctx;
	if (an_count < 16)
		an_kinds[an_count] = an->kind;
	an_count++;
}

static struct ot_event ev(unsigned int point, unsigned int phase, uint64_t entry, uint64_t ts, const char *dev,
			  const char *drv, int group, uint32_t before, uint32_t after, uint64_t ob, uint64_t oa)
{
	struct ot_event e = { .ts_ns = ts, .entry_ns = entry, .pid = 50, .tid = 50, .group_id = group,
			      .owner_cnt_before = before, .owner_cnt_after = after, .owner_before = ob,
			      .owner_after = oa, .stack_id = -1, .point = (uint16_t)point, .phase = (uint8_t)phase,
			      .flags = OT_EVF_HAS_GROUP };

	snprintf(e.comm, sizeof(e.comm), "sh");
	if (dev)
		snprintf(e.device, sizeof(e.device), "%s", dev);
	if (drv)
		snprintf(e.driver, sizeof(e.driver), "%s", drv);
	return e;
}

static void feed(struct ot_analysis *a, struct ot_event e)
{
	ot_analysis_event(a, &e);
}

static void test_seed(void)
{
	struct ot_analysis_cb cb = { .anomaly = on_anomaly };
	struct ot_analysis *a;
	struct ot_outstanding_use uses[4];
	struct ot_outstanding_claim claims[4];
	struct ot_seed_use e1000 = { "0000:01:01.0", "e1000" };
	struct ot_group_seed seed = { .group = 2, .ts_ns = 10000, .owner_cnt = 1, .nuses = 1, .uses = &e1000 };
	struct ot_group_state st[4];

	/* a device bound before the trace is unbound during it: its use is known, given back, nothing reported */
	an_count = 0;
	a = ot_analysis_new(&cb);
	ot_analysis_seed(a, &seed);
	CHECK(ot_analysis_outstanding_uses(a, uses, 4) == 0);	/* seeded, not seen taken */
	CHECK(ot_analysis_groups(a, st, 4) == 1 && st[0].group == 2 && st[0].uses == 0 && st[0].claims == 0);
	feed(a, ev(OT_POINT_RELEASE_DRIVER, OT_PHASE_ENTER, 20000, 20000, "0000:01:01.0", "e1000", 2, 1, 1, 0, 0));
	feed(a, ev(OT_POINT_UNUSE_DEFAULT_DOMAIN, OT_PHASE_EXIT, 20100, 20200, "0000:01:01.0", "e1000", 2, 1, 0, 0, 0));
	feed(a, ev(OT_POINT_RELEASE_DRIVER, OT_PHASE_EXIT, 20000, 20300, "0000:01:01.0", "e1000", 2, 0, 0, 0, 0));
	CHECK(an_count == 0);
	ot_analysis_free(a);

	/* a seeded use whose remove does not give it back: remove_kept_use, as for one seen taken */
	an_count = 0;
	a = ot_analysis_new(&cb);
	ot_analysis_seed(a, &seed);
	feed(a, ev(OT_POINT_RELEASE_DRIVER, OT_PHASE_ENTER, 20000, 20000, "0000:01:01.0", "e1000", 2, 1, 1, 0, 0));
	feed(a, ev(OT_POINT_RELEASE_DRIVER, OT_PHASE_EXIT, 20000, 20300, "0000:01:01.0", "e1000", 2, 1, 1, 0, 0));
	CHECK(an_count == 1 && an_kinds[0] == OT_AN_REMOVE_KEPT_USE);
	ot_analysis_free(a);

	/* a call that returned before the census read the group is in the seed: not counted twice */
	an_count = 0;
	a = ot_analysis_new(&cb);
	seed.owner_cnt = 2;
	ot_analysis_seed(a, &seed);
	feed(a, ev(OT_POINT_USE_DEFAULT_DOMAIN, OT_PHASE_EXIT, 9000, 9500, "0000:01:02.0", "ot_testmod", 2, 1, 2, 0, 0));
	/* one under way at the census, its change already made */
	feed(a, ev(OT_POINT_USE_DEFAULT_DOMAIN, OT_PHASE_EXIT, 9800, 10200, "0000:01:03.0", "ot_testmod", 2, 1, 2, 0, 0));
	feed(a, ev(OT_POINT_UNUSE_DEFAULT_DOMAIN, OT_PHASE_EXIT, 30000, 30100, "0000:01:01.0", "e1000", 2, 2, 1, 0, 0));
	CHECK(an_count == 0);
	ot_analysis_free(a);
	/* negative control: seeded before those calls, they count, and the kernel's 2 is then a divergence */
	an_count = 0;
	a = ot_analysis_new(&cb);
	seed.ts_ns = 100;
	seed.owner_cnt = 1;
	ot_analysis_seed(a, &seed);
	feed(a, ev(OT_POINT_USE_DEFAULT_DOMAIN, OT_PHASE_EXIT, 9000, 9500, "0000:01:02.0", "ot_testmod", 2, 1, 2, 0, 0));
	feed(a, ev(OT_POINT_UNUSE_DEFAULT_DOMAIN, OT_PHASE_EXIT, 30000, 30100, "0000:01:01.0", "e1000", 2, 1, 0, 0, 0));
	CHECK(an_count == 1 && an_kinds[0] == OT_AN_DIVERGENCE);
	ot_analysis_free(a);

	/* a claim held before the trace: its release is no underflow, and it is listed as before the trace until then */
	an_count = 0;
	a = ot_analysis_new(&cb);
	seed = (struct ot_group_seed){ .group = 8, .ts_ns = 10000, .owner_cnt = 1, .owner = X };
	ot_analysis_seed(a, &seed);
	CHECK(ot_analysis_outstanding_claims(a, claims, 4) == 1 && claims[0].baseline && claims[0].owner == X);
	feed(a, ev(OT_POINT_GROUP_RELEASE, OT_PHASE_EXIT, 20000, 20100, NULL, NULL, 8, 1, 0, X, 0));
	CHECK(an_count == 0 && ot_analysis_outstanding_claims(a, claims, 4) == 0);
	ot_analysis_free(a);
}

int main(void)
{
	test_consistent();
	test_leaked();
	test_missing();
	test_claimed();
	test_unsettled_and_truncated();
	test_same();
	test_names();
	test_track();
	test_seed();
	return unit_report("census");
}

/* The ownership shadow on synthetic event sequences: every anomaly kind,
 * each with a negative control that must stay silent. */
#include <errno.h>
#include <stdlib.h>
#include "unit.h"
#include "analysis/shadow.h"
#include "core/points.h"

#define X 0xffff888011110000ULL	/* an owner cookie */
#define Y 0xffff888022220000ULL

static struct ot_anomaly seen[64];
static int nseen;

static void on_anomaly(void *ctx, const struct ot_anomaly *an)
{
	(void)ctx;
	if (nseen < 64)
		seen[nseen++] = *an;
}

static struct ot_analysis *fresh(void)
{
	struct ot_analysis_cb cb = { .anomaly = on_anomaly };

	nseen = 0;
	return ot_analysis_new(&cb);
}

static uint64_t now = 1000;
static int next_stack = 1;

struct evspec {
	unsigned int point, phase;
	uint32_t tid;
	const char *dev, *drv;
	int group;
	uint32_t before, after;
	uint64_t owner_before, owner_after;
	long ret;
	unsigned int flags;
};

static struct ot_event make(struct evspec s)
{
	struct ot_event ev = {
		.ts_ns = now += 1000, .pid = s.tid, .tid = s.tid, .group_id = s.group,
		.owner_cnt_before = s.before, .owner_cnt_after = s.after,
		.owner_before = s.owner_before, .owner_after = s.owner_after,
		.ret = s.ret, .stack_id = next_stack++, .point = s.point,
		.phase = s.phase ? s.phase : OT_PHASE_EXIT, .flags = s.flags | OT_EVF_HAS_GROUP,
	};
	ev.entry_ns = ev.ts_ns - 500;
	snprintf(ev.comm, sizeof(ev.comm), "task%u", s.tid);
	if (s.dev)
		snprintf(ev.device, sizeof(ev.device), "%s", s.dev);
	if (s.drv)
		snprintf(ev.driver, sizeof(ev.driver), "%s", s.drv);
	return ev;
}

#define FEED(A, ...) do { struct ot_event e_ = make((struct evspec){ __VA_ARGS__ }); ot_analysis_event(A, &e_); } while (0)

/* driver core shapes (parameters prefixed so they don't hit the designators) */
#define PROBE_ENTER(A, T_, D_, R_, G_, C_) \
	FEED(A, .point = OT_POINT_REALLY_PROBE, .phase = OT_PHASE_ENTER, .tid = T_, .dev = D_, .drv = R_, .group = G_, .before = C_, .after = C_)
#define PROBE_EXIT(A, T_, D_, R_, G_, C_, RET_) \
	FEED(A, .point = OT_POINT_REALLY_PROBE, .tid = T_, .dev = D_, .drv = R_, .group = G_, .before = C_, .after = C_, .ret = RET_)
#define REMOVE_ENTER(A, T_, D_, R_, G_, C_) \
	FEED(A, .point = OT_POINT_RELEASE_DRIVER, .phase = OT_PHASE_ENTER, .tid = T_, .dev = D_, .drv = R_, .group = G_, .before = C_, .after = C_)
#define REMOVE_EXIT(A, T_, D_, R_, G_, C_) \
	FEED(A, .point = OT_POINT_RELEASE_DRIVER, .tid = T_, .dev = D_, .drv = R_, .group = G_, .before = C_, .after = C_)
#define USE(A, T_, D_, R_, G_, B_, AF_, RET_) \
	FEED(A, .point = OT_POINT_USE_DEFAULT_DOMAIN, .tid = T_, .dev = D_, .drv = R_, .group = G_, .before = B_, .after = AF_, .ret = RET_)
#define UNUSE(A, T_, D_, R_, G_, B_, AF_) \
	FEED(A, .point = OT_POINT_UNUSE_DEFAULT_DOMAIN, .tid = T_, .dev = D_, .drv = R_, .group = G_, .before = B_, .after = AF_)
#define CONFIGURE(A, T_, D_, R_, G_, RET_) \
	FEED(A, .point = OT_POINT_DMA_CONFIGURE_FIRST, .tid = T_, .dev = D_, .drv = R_, .group = G_, .ret = RET_)
#define CLEANUP(A, T_, D_, R_, G_) \
	FEED(A, .point = OT_POINT_DMA_CLEANUP_FIRST, .tid = T_, .dev = D_, .drv = R_, .group = G_)
#define GCLAIM(A, T_, G_, B_, AF_, OB_, OA_, RET_) \
	FEED(A, .point = OT_POINT_GROUP_CLAIM, .tid = T_, .group = G_, .before = B_, .after = AF_, .owner_before = OB_, .owner_after = OA_, .ret = RET_)
#define GRELEASE(A, T_, G_, B_, AF_, OB_, OA_) \
	FEED(A, .point = OT_POINT_GROUP_RELEASE, .tid = T_, .group = G_, .before = B_, .after = AF_, .owner_before = OB_, .owner_after = OA_)

/* bind: probe -> configure(use) -> probe_exit */
static void bind_ok(struct ot_analysis *a, uint32_t tid, const char *dev, const char *drv, int g, uint32_t cnt)
{
	PROBE_ENTER(a, tid, dev, drv, g, cnt);
	USE(a, tid, dev, drv, g, cnt, cnt + 1, 0);
	CONFIGURE(a, tid, dev, drv, g, 0);
	PROBE_EXIT(a, tid, dev, drv, g, cnt + 1, 0);
}

static void unbind_ok(struct ot_analysis *a, uint32_t tid, const char *dev, const char *drv, int g, uint32_t cnt)
{
	REMOVE_ENTER(a, tid, dev, drv, g, cnt);
	UNUSE(a, tid, dev, drv, g, cnt, cnt - 1);
	CLEANUP(a, tid, dev, drv, g);
	REMOVE_EXIT(a, tid, dev, drv, g, cnt - 1);
}

static int count_kind(enum ot_anomaly_kind k)
{
	int n = 0;

	for (int i = 0; i < nseen; i++)
		n += seen[i].kind == k;
	return n;
}

static void test_clean_rebind_and_baseline(void)
{
	struct ot_analysis *a = fresh();
	struct ot_outstanding_use uses[4];

	/* tracer started with the e1000 already bound (count 1, use unknown) */
	unbind_ok(a, 10, "0000:01:01.0", "e1000", 2, 1);
	bind_ok(a, 10, "0000:01:01.0", "e1000", 2, 0);
	unbind_ok(a, 11, "0000:01:01.0", "e1000", 2, 1);
	bind_ok(a, 11, "0000:01:01.0", "e1000", 2, 0);
	CHECK(nseen == 0);
	CHECK(ot_analysis_outstanding_uses(a, uses, 4) == 1);
	CHECK_STR(uses[0].device, "0000:01:01.0");
	ot_analysis_free(a);
}

static void test_probe_failed_without_cleanup(void)
{
	struct ot_analysis *a = fresh();

	PROBE_ENTER(a, 5, "0000:01:02.0", "buggy", 3, 0);
	USE(a, 5, "0000:01:02.0", "buggy", 3, 0, 1, 0);
	CONFIGURE(a, 5, "0000:01:02.0", "buggy", 3, 0);
	PROBE_EXIT(a, 5, "0000:01:02.0", "buggy", 3, 1, ENXIO);	/* driver errors are positive */
	CHECK(nseen == 1 && seen[0].kind == OT_AN_PROBE_FAILED_NO_CLEANUP);
	CHECK_STR(seen[0].driver, "buggy");
	CHECK(seen[0].pair_stack_id > 0 && seen[0].stack_id > seen[0].pair_stack_id);
	CHECK_CONTAINS(seen[0].message, "ENXIO");
	ot_analysis_free(a);

	/* negative: the failure path ran dma_cleanup */
	a = fresh();
	PROBE_ENTER(a, 5, "0000:01:02.0", "ok", 3, 0);
	USE(a, 5, "0000:01:02.0", "ok", 3, 0, 1, 0);
	CONFIGURE(a, 5, "0000:01:02.0", "ok", 3, 0);
	UNUSE(a, 5, "0000:01:02.0", "ok", 3, 1, 0);
	CLEANUP(a, 5, "0000:01:02.0", "ok", 3);
	PROBE_EXIT(a, 5, "0000:01:02.0", "ok", 3, 0, ENXIO);
	/* negative: dma_configure itself failed, so no cleanup is due */
	PROBE_ENTER(a, 5, "0000:01:02.0", "ok", 3, 0);
	CONFIGURE(a, 5, "0000:01:02.0", "ok", 3, -EBUSY);
	PROBE_EXIT(a, 5, "0000:01:02.0", "ok", 3, 0, -EBUSY);
	CHECK(nseen == 0);
	ot_analysis_free(a);
}

static void test_remove_kept_use(void)
{
	struct ot_analysis *a = fresh();

	bind_ok(a, 5, "0000:00:03.0", "leaky", 4, 0);
	REMOVE_ENTER(a, 5, "0000:00:03.0", "leaky", 4, 1);
	CLEANUP(a, 5, "0000:00:03.0", "leaky", 4);	/* cleanup without unuse */
	REMOVE_EXIT(a, 5, "0000:00:03.0", "leaky", 4, 1);
	CHECK(nseen == 1 && seen[0].kind == OT_AN_REMOVE_KEPT_USE);
	CHECK_STR(seen[0].driver, "leaky");
	CHECK_CONTAINS(seen[0].message, "never given back");
	/* reported once, not again at the next remove */
	REMOVE_ENTER(a, 5, "0000:00:03.0", "leaky", 4, 1);
	REMOVE_EXIT(a, 5, "0000:00:03.0", "leaky", 4, 1);
	CHECK(nseen == 1);
	ot_analysis_free(a);
}

static void test_underflow(void)
{
	struct ot_analysis *a = fresh();

	UNUSE(a, 7, "0000:00:04.0", "d", 5, 0, 0);
	CHECK(nseen == 1 && seen[0].kind == OT_AN_UNDERFLOW);
	ot_analysis_free(a);

	/* double group release: the second is the underflow, paired with the first */
	a = fresh();
	GCLAIM(a, 8, 6, 0, 1, 0, X, 0);
	GRELEASE(a, 8, 6, 1, 0, X, 0);
	int first_release_stack = next_stack - 1;
	GRELEASE(a, 8, 6, 0, 0, 0, 0);
	CHECK(nseen == 1 && seen[0].kind == OT_AN_UNDERFLOW);
	CHECK(seen[0].pair_stack_id == first_release_stack);
	CHECK_CONTAINS(seen[0].message, "WARN");
	ot_analysis_free(a);

	/* a group release names no device: the one inside a driver's remove is
	 * charged to that device and driver, in the record and the sentence */
	a = fresh();
	PROBE_ENTER(a, 20, "0000:01:02.0", "ot_testmod", 2, 1);
	GCLAIM(a, 20, 1, 0, 1, 0, X, 0);
	PROBE_EXIT(a, 20, "0000:01:02.0", "ot_testmod", 2, 1, 0);
	REMOVE_ENTER(a, 21, "0000:01:02.0", "ot_testmod", 2, 1);
	GRELEASE(a, 21, 1, 1, 0, X, 0);
	GRELEASE(a, 21, 1, 0, 0, 0, 0);
	REMOVE_EXIT(a, 21, "0000:01:02.0", "ot_testmod", 2, 1);
	CHECK(nseen == 1 && seen[0].kind == OT_AN_UNDERFLOW);
	CHECK_STR(seen[0].device, "0000:01:02.0");
	CHECK_STR(seen[0].driver, "ot_testmod");
	CHECK_STR(seen[0].other_device, "0000:01:02.0");	/* the first release: same remove */
	CHECK_CONTAINS(seen[0].message, "group 1 in the remove of 0000:01:02.0 (driver ot_testmod)");
	ot_analysis_free(a);

	/* ... and the one inside its probe (the test module's double_release), the
	 * innermost span of the task: a nested probe of a child names the child */
	a = fresh();
	PROBE_ENTER(a, 20, "0000:00:05.0", "bridge", 2, 1);
	PROBE_ENTER(a, 20, "0000:01:02.0", "ot_testmod", 2, 1);
	GCLAIM(a, 20, 1, 0, 1, 0, X, 0);
	GRELEASE(a, 20, 1, 1, 0, X, 0);
	GRELEASE(a, 20, 1, 0, 0, 0, 0);
	CHECK(nseen == 1 && seen[0].kind == OT_AN_UNDERFLOW);
	CHECK_STR(seen[0].device, "0000:01:02.0");
	CHECK_STR(seen[0].driver, "ot_testmod");
	CHECK_CONTAINS(seen[0].message, "in the probe of 0000:01:02.0 (driver ot_testmod)");
	ot_analysis_free(a);

	/* negative: a release on another task while that remove is in flight is
	 * not charged to it */
	a = fresh();
	GCLAIM(a, 30, 1, 0, 1, 0, X, 0);
	GRELEASE(a, 30, 1, 1, 0, X, 0);
	REMOVE_ENTER(a, 21, "0000:01:02.0", "ot_testmod", 2, 1);
	GRELEASE(a, 30, 1, 0, 0, 0, 0);
	REMOVE_EXIT(a, 21, "0000:01:02.0", "ot_testmod", 2, 1);
	CHECK(nseen == 1 && seen[0].kind == OT_AN_UNDERFLOW);
	CHECK_STR(seen[0].device, "");
	CHECK_STR(seen[0].driver, "");
	CHECK(!strstr(seen[0].message, " in the "));
	ot_analysis_free(a);

	/* negative: balanced */
	a = fresh();
	USE(a, 7, "d0", "d", 5, 0, 1, 0);
	UNUSE(a, 7, "d0", "d", 5, 1, 0);
	GCLAIM(a, 8, 5, 0, 1, 0, X, 0);
	GRELEASE(a, 8, 5, 1, 0, X, 0);
	CHECK(nseen == 0);
	ot_analysis_free(a);
}

static void test_leaked_claim(void)
{
	struct ot_analysis *a = fresh();
	struct ot_outstanding_claim claims[4];

	/* the edu's driver claims its (unused) group in probe and never releases */
	PROBE_ENTER(a, 20, "0000:01:02.0", "ot_testmod", 2, 0);
	GCLAIM(a, 20, 2, 0, 1, 0, X, 0);
	PROBE_EXIT(a, 20, "0000:01:02.0", "ot_testmod", 2, 1, 0);
	REMOVE_ENTER(a, 21, "0000:01:02.0", "ot_testmod", 2, 1);
	REMOVE_EXIT(a, 21, "0000:01:02.0", "ot_testmod", 2, 1);
	CHECK(count_kind(OT_AN_LEAKED_CLAIM) == 1 && nseen == 1);
	CHECK_STR(seen[0].driver, "ot_testmod");
	CHECK(seen[0].owner == X);
	CHECK(ot_analysis_outstanding_claims(a, claims, 4) == 1);
	CHECK(claims[0].owner == X && !claims[0].baseline);
	CHECK_STR(claims[0].device, "0000:01:02.0");
	ot_analysis_free(a);

	/* negative: released in its own remove; and a VFIO user's claim is not a driver's */
	a = fresh();
	PROBE_ENTER(a, 20, "0000:01:02.0", "good", 2, 0);
	GCLAIM(a, 20, 2, 0, 1, 0, X, 0);
	PROBE_EXIT(a, 20, "0000:01:02.0", "good", 2, 1, 0);
	REMOVE_ENTER(a, 21, "0000:01:02.0", "good", 2, 1);
	GRELEASE(a, 21, 2, 1, 0, X, 0);
	REMOVE_EXIT(a, 21, "0000:01:02.0", "good", 2, 0);
	GCLAIM(a, 30, 2, 0, 1, 0, Y, 0);		/* vfio_group_open */
	PROBE_ENTER(a, 31, "0000:01:03.0", "x", 7, 0);
	PROBE_EXIT(a, 31, "0000:01:03.0", "x", 7, 0, 0);
	REMOVE_ENTER(a, 31, "0000:01:03.0", "x", 7, 0);
	REMOVE_EXIT(a, 31, "0000:01:03.0", "x", 7, 0);
	GRELEASE(a, 30, 2, 1, 0, Y, 0);
	CHECK(nseen == 0);
	ot_analysis_free(a);
}

/* The test module's shape: the edu's driver (group 2) claims the group of
 * another, unbound device (group 1) in its probe. */
static void test_claim_of_another_group(void)
{
	struct ot_analysis *a = fresh();

	PROBE_ENTER(a, 20, "0000:01:02.0", "ot_testmod", 2, 1);
	GCLAIM(a, 20, 1, 0, 1, 0, X, 0);
	PROBE_EXIT(a, 20, "0000:01:02.0", "ot_testmod", 2, 1, 0);
	REMOVE_ENTER(a, 21, "0000:01:02.0", "ot_testmod", 2, 1);
	REMOVE_EXIT(a, 21, "0000:01:02.0", "ot_testmod", 2, 1);
	CHECK(nseen == 1 && seen[0].kind == OT_AN_LEAKED_CLAIM);
	CHECK(seen[0].group == 1);
	CHECK_STR(seen[0].device, "0000:01:02.0");
	/* the lone e1000 of group 1 is refused, then the late release comes */
	PROBE_ENTER(a, 22, "0000:00:02.0", "e1000", 1, 1);
	FEED(a, .point = OT_POINT_USE_DEFAULT_DOMAIN, .tid = 22, .dev = "0000:00:02.0", .drv = "e1000", .group = 1,
	     .before = 1, .after = 1, .owner_before = X, .owner_after = X, .ret = -EBUSY);
	PROBE_EXIT(a, 22, "0000:00:02.0", "e1000", 1, 1, -EBUSY);
	GRELEASE(a, 60, 1, 1, 0, X, 0);
	CHECK(count_kind(OT_AN_PROBE_BLOCKED) == 1 && count_kind(OT_AN_LATE_RELEASE) == 1);
	CHECK(count_kind(OT_AN_SIBLING_RACE) == 0 && nseen == 3);
	ot_analysis_free(a);
}

#define DCLAIM(A, T_, D_, G_, B_, AF_, OB_, OA_, RET_) \
	FEED(A, .point = OT_POINT_DEVICE_CLAIM, .tid = T_, .dev = D_, .group = G_, .before = B_, .after = AF_, \
	     .owner_before = OB_, .owner_after = OA_, .ret = RET_)
#define DRELEASE(A, T_, D_, G_, B_, AF_, OB_, OA_) \
	FEED(A, .point = OT_POINT_DEVICE_RELEASE, .tid = T_, .dev = D_, .group = G_, .before = B_, .after = AF_, \
	     .owner_before = OB_, .owner_after = OA_)

/* iommufd: each device of a group bound to one context claims the group
 * with the same owner (the context), so owner_cnt counts the devices. */
static void test_iommufd_context_nests(void)
{
	struct ot_analysis *a = fresh();
	struct ot_outstanding_claim c[2];

	DCLAIM(a, 40, "d1", 9, 0, 1, 0, X, 0);
	DCLAIM(a, 40, "d2", 9, 1, 2, X, X, 0);
	CHECK(ot_analysis_outstanding_claims(a, c, 2) == 1 && c[0].depth == 2 && c[0].owner == X);
	DRELEASE(a, 40, "d2", 9, 2, 1, X, X);
	CHECK(ot_analysis_outstanding_claims(a, c, 2) == 1 && c[0].depth == 1);
	DRELEASE(a, 40, "d1", 9, 1, 0, X, 0);
	CHECK(ot_analysis_outstanding_claims(a, c, 2) == 0);
	/* released in the order they were taken, too */
	DCLAIM(a, 42, "d1", 9, 0, 1, 0, Y, 0);
	DCLAIM(a, 42, "d2", 9, 1, 2, Y, Y, 0);
	DRELEASE(a, 42, "d1", 9, 2, 1, Y, Y);
	DRELEASE(a, 42, "d2", 9, 1, 0, Y, 0);
	CHECK(ot_analysis_outstanding_claims(a, c, 2) == 0);
	/* and a device that released may bind again while its sibling holds on */
	DCLAIM(a, 43, "d1", 9, 0, 1, 0, X, 0);
	DCLAIM(a, 43, "d2", 9, 1, 2, X, X, 0);
	DRELEASE(a, 43, "d1", 9, 2, 1, X, X);
	DCLAIM(a, 43, "d1", 9, 1, 2, X, X, 0);
	DRELEASE(a, 43, "d1", 9, 2, 1, X, X);
	DRELEASE(a, 43, "d2", 9, 1, 0, X, 0);
	CHECK(ot_analysis_outstanding_claims(a, c, 2) == 0);
	CHECK(nseen == 0);
	ot_analysis_free(a);
}

/* a device of the group bound to a second context: the kernel refuses it
 * (EPERM) and nothing changes; the event carries the reason, no anomaly */
static void test_second_context_refused_is_a_note(void)
{
	struct ot_analysis *a = fresh();
	struct ot_outstanding_claim c[2];
	char buf[200];
	struct ot_event refused = make((struct evspec){ .point = OT_POINT_DEVICE_CLAIM, .tid = 41, .dev = "d2",
							.group = 9, .before = 1, .after = 1, .owner_before = X,
							.owner_after = X, .ret = -EPERM });

	DCLAIM(a, 40, "d1", 9, 0, 1, 0, X, 0);
	ot_analysis_event(a, &refused);
	CHECK(nseen == 0);
	CHECK_CONTAINS(ot_explain_refusal(&refused, buf, sizeof(buf)), "EPERM");
	CHECK_CONTAINS(ot_explain_refusal(&refused, buf, sizeof(buf)), "already owned by another owner");
	CHECK(ot_analysis_outstanding_claims(a, c, 2) == 1 && c[0].depth == 1 && c[0].owner == X);
	DRELEASE(a, 40, "d1", 9, 1, 0, X, 0);
	CHECK(ot_analysis_outstanding_claims(a, c, 2) == 0 && nseen == 0);
	ot_analysis_free(a);
}

/* genuine nested claims: still flagged */
static void test_nested_claims(void)
{
	struct ot_analysis *a = fresh();
	struct ot_outstanding_claim c[2];

	/* the same device claiming again while it holds the claim */
	DCLAIM(a, 40, "d1", 9, 0, 1, 0, Y, 0);
	DCLAIM(a, 40, "d2", 9, 1, 2, Y, Y, 0);
	DCLAIM(a, 40, "d1", 9, 2, 3, Y, Y, 0);
	CHECK(nseen == 1 && seen[0].kind == OT_AN_NESTED_CLAIM);
	CHECK_STR(seen[0].device, "d1");
	CHECK_CONTAINS(seen[0].message, "of d1 again");
	CHECK_CONTAINS(seen[0].message, "depth 3");
	CHECK(ot_analysis_outstanding_claims(a, c, 2) == 1 && c[0].depth == 3);
	/* released once per claim: back to nothing, no more reports */
	DRELEASE(a, 40, "d1", 9, 3, 2, Y, Y);
	DRELEASE(a, 40, "d2", 9, 2, 1, Y, Y);
	DRELEASE(a, 40, "d1", 9, 1, 0, Y, 0);
	CHECK(ot_analysis_outstanding_claims(a, c, 2) == 0);
	CHECK(nseen == 1);

	/* a device claim on top of a claim of the whole group by the same owner */
	GCLAIM(a, 40, 9, 0, 1, 0, X, 0);
	DCLAIM(a, 40, "d1", 9, 1, 2, X, X, 0);
	CHECK(nseen == 2 && seen[1].kind == OT_AN_NESTED_CLAIM);
	DRELEASE(a, 40, "d1", 9, 2, 1, X, X);
	GRELEASE(a, 40, 9, 1, 0, X, 0);
	CHECK(ot_analysis_outstanding_claims(a, c, 2) == 0 && nseen == 2);

	/* a claim taken by a different owner while the group was held: the
	 * kernel should have refused it (EPERM); one it did not refuse is a
	 * nested claim of two owners, whichever call made it */
	DCLAIM(a, 40, "d1", 9, 0, 1, 0, X, 0);
	DCLAIM(a, 41, "d2", 9, 1, 2, X, Y, 0);
	CHECK(nseen == 3 && seen[2].kind == OT_AN_NESTED_CLAIM);
	CHECK_STR(seen[2].device, "d2");
	CHECK_CONTAINS(seen[2].message, "different owner");
	CHECK(seen[2].owner == Y);
	DRELEASE(a, 41, "d2", 9, 2, 1, Y, Y);
	DRELEASE(a, 40, "d1", 9, 1, 0, Y, 0);
	GCLAIM(a, 40, 9, 0, 1, 0, X, 0);
	GCLAIM(a, 41, 9, 1, 2, X, Y, 0);
	CHECK(nseen == 4 && seen[3].kind == OT_AN_NESTED_CLAIM);
	CHECK_CONTAINS(seen[3].message, "different owner");
	ot_analysis_free(a);
}

/* mode (c): claim in probe, release from a workqueue after remove returned,
 * while the e1000 sibling probes */
static void late_release_prologue(struct ot_analysis *a)
{
	PROBE_ENTER(a, 50, "0000:01:02.0", "ot_testmod", 2, 0);
	GCLAIM(a, 50, 2, 0, 1, 0, X, 0);
	PROBE_EXIT(a, 50, "0000:01:02.0", "ot_testmod", 2, 1, 0);
	REMOVE_ENTER(a, 51, "0000:01:02.0", "ot_testmod", 2, 1);
	REMOVE_EXIT(a, 51, "0000:01:02.0", "ot_testmod", 2, 1);
}

static void test_late_release_races(void)
{
	struct ot_analysis *a = fresh();

	late_release_prologue(a);
	PROBE_ENTER(a, 52, "0000:01:01.0", "e1000", 2, 1);
	FEED(a, .point = OT_POINT_USE_DEFAULT_DOMAIN, .tid = 52, .dev = "0000:01:01.0", .drv = "e1000", .group = 2,
	     .before = 1, .after = 1, .owner_before = X, .owner_after = X, .ret = -EBUSY);
	CONFIGURE(a, 52, "0000:01:01.0", "e1000", 2, -EBUSY);
	/* the workqueue releases while the e1000 is still mid-probe */
	GRELEASE(a, 60, 2, 1, 0, X, 0);
	PROBE_EXIT(a, 52, "0000:01:01.0", "e1000", 2, 0, -EBUSY);
	CHECK(count_kind(OT_AN_LEAKED_CLAIM) == 1);
	CHECK(count_kind(OT_AN_LATE_RELEASE) == 1);
	CHECK(count_kind(OT_AN_SIBLING_RACE) == 1);
	CHECK(count_kind(OT_AN_PROBE_BLOCKED) == 1);
	CHECK(nseen == 4);
	for (int i = 0; i < nseen; i++) {
		CHECK(seen[i].group == 2);
		if (seen[i].kind == OT_AN_PROBE_BLOCKED) {
			CHECK_STR(seen[i].device, "0000:01:01.0");
			CHECK_STR(seen[i].other_device, "0000:01:02.0");
			CHECK_STR(seen[i].other_driver, "ot_testmod");
			CHECK(seen[i].ntimeline == 5);
			for (int t = 1; t < seen[i].ntimeline; t++)
				CHECK(seen[i].timeline[t].ts_ns >= seen[i].timeline[t - 1].ts_ns);
		}
		if (seen[i].kind == OT_AN_SIBLING_RACE) {
			CHECK_STR(seen[i].other_device, "0000:01:01.0");
			CHECK(seen[i].tid == 60);
		}
	}
	ot_analysis_free(a);

	/* the release comes after the sibling's probe already failed: late, no race */
	a = fresh();
	late_release_prologue(a);
	GRELEASE(a, 60, 2, 1, 0, X, 0);
	CHECK(count_kind(OT_AN_LATE_RELEASE) == 1 && count_kind(OT_AN_SIBLING_RACE) == 0);
	ot_analysis_free(a);

	/* negative: a VFIO user holds the group; the e1000 bind is refused: correct */
	a = fresh();
	GCLAIM(a, 70, 2, 0, 1, 0, Y, 0);
	PROBE_ENTER(a, 71, "0000:01:01.0", "e1000", 2, 1);
	FEED(a, .point = OT_POINT_USE_DEFAULT_DOMAIN, .tid = 71, .dev = "0000:01:01.0", .drv = "e1000", .group = 2,
	     .before = 1, .after = 1, .owner_before = Y, .owner_after = Y, .ret = -EBUSY);
	CONFIGURE(a, 71, "0000:01:01.0", "e1000", 2, -EBUSY);
	PROBE_EXIT(a, 71, "0000:01:01.0", "e1000", 2, 1, -EBUSY);
	GRELEASE(a, 70, 2, 1, 0, Y, 0);
	CHECK(nseen == 0);
	ot_analysis_free(a);
}

static void test_divergence(void)
{
	struct ot_analysis *a = fresh();

	USE(a, 1, "d0", "x", 3, 0, 1, 0);
	UNUSE(a, 1, "d0", "x", 3, 3, 2);	/* kernel says 3, shadow says 1 */
	CHECK(nseen == 1 && seen[0].kind == OT_AN_DIVERGENCE);
	CHECK_CONTAINS(seen[0].message, "owner_cnt 3");
	UNUSE(a, 1, "d0", "x", 3, 2, 1);	/* resynced: consistent again */
	CHECK(nseen == 1);
	ot_analysis_free(a);

	/* negative: overlapping calls on two tasks take racy snapshots */
	a = fresh();
	USE(a, 1, "d0", "x", 3, 0, 1, 0);
	FEED(a, .point = OT_POINT_USE_DEFAULT_DOMAIN, .tid = 2, .dev = "d1", .drv = "x", .group = 3,
	     .before = 0, .after = 2, .flags = OT_EVF_CONCURRENT);
	FEED(a, .point = OT_POINT_UNUSE_DEFAULT_DOMAIN, .tid = 2, .dev = "d1", .drv = "x", .group = 3,
	     .before = 2, .after = 0, .flags = OT_EVF_CONCURRENT);
	UNUSE(a, 1, "d0", "x", 3, 1, 0);	/* semantic count: 2 - 1 = 1 */
	CHECK(nseen == 0);
	ot_analysis_free(a);
}

static void test_baseline_claim(void)
{
	struct ot_analysis *a = fresh();
	struct ot_outstanding_claim c[2];

	/* a VFIO group held since before the tracer started: released later */
	PROBE_ENTER(a, 3, "0000:01:01.0", "e1000", 2, 1);
	FEED(a, .point = OT_POINT_USE_DEFAULT_DOMAIN, .tid = 3, .dev = "0000:01:01.0", .drv = "e1000", .group = 2,
	     .before = 1, .after = 1, .owner_before = Y, .owner_after = Y, .ret = -EBUSY);
	CHECK(ot_analysis_outstanding_claims(a, c, 2) == 1 && c[0].baseline && c[0].owner == Y);
	CONFIGURE(a, 3, "0000:01:01.0", "e1000", 2, -EBUSY);
	PROBE_EXIT(a, 3, "0000:01:01.0", "e1000", 2, 1, -EBUSY);
	GRELEASE(a, 4, 2, 1, 0, Y, 0);
	CHECK(nseen == 0);
	CHECK(ot_analysis_outstanding_claims(a, c, 2) == 0);
	ot_analysis_free(a);
}

static void test_refusal_explained(void)
{
	char buf[200];
	struct ot_event ev = make((struct evspec){ .point = OT_POINT_GROUP_CLAIM, .group = 2, .before = 1,
						   .after = 1, .ret = -EPERM });

	CHECK_CONTAINS(ot_explain_refusal(&ev, buf, sizeof(buf)), "in use by a kernel driver");
	ev.owner_before = X;
	CHECK_CONTAINS(ot_explain_refusal(&ev, buf, sizeof(buf)), "already owned");
	ev.point = OT_POINT_USE_DEFAULT_DOMAIN;
	ev.ret = -EBUSY;
	CHECK_CONTAINS(ot_explain_refusal(&ev, buf, sizeof(buf)), "claimed for user-space DMA");
	ev.ret = 0;
	CHECK(ot_explain_refusal(&ev, buf, sizeof(buf)) == NULL);
	CHECK_STR(ot_anomaly_kind_name(OT_AN_LATE_RELEASE), "late_release");
}

/*
 * Lost records (OT_EVF_GAP on the first event after them, OT_EVF_GROUP_GAP
 * on the first of each group that may have lost some): the shadow resyncs
 * that group from the kernel's before-values instead of reporting a
 * divergence, and a use or claim whose give-back may have been lost is no
 * evidence of a leak. Each case has its control: the same sequence without
 * the flag is reported.
 */
static void test_resync_after_loss(void)
{
	struct ot_analysis_footprint fp;
	struct ot_analysis *a;

	for (int flagged = 0; flagged < 2; flagged++) {
		unsigned int f = flagged ? OT_EVF_GAP | OT_EVF_GROUP_GAP : 0;

		/* a claim lost, its release arrives: the kernel had owner_cnt 1 */
		a = fresh();
		GCLAIM(a, 8, 6, 0, 1, 0, X, 0);
		GRELEASE(a, 8, 6, 1, 0, X, 0);
		/* (claim lost here) */
		FEED(a, .point = OT_POINT_GROUP_RELEASE, .tid = 8, .group = 6, .before = 1, .after = 0,
		     .owner_before = X, .owner_after = 0, .flags = f);
		GCLAIM(a, 8, 6, 0, 1, 0, X, 0);	/* in step again */
		CHECK(nseen == (flagged ? 0 : 1));
		if (!flagged)
			CHECK(seen[0].kind == OT_AN_DIVERGENCE);
		ot_analysis_footprint(a, &fp);
		CHECK(fp.losses == (uint64_t)flagged && fp.resyncs == (uint64_t)flagged);
		ot_analysis_free(a);

		/* a gap in another group only: this group's divergence is still one */
		a = fresh();
		GCLAIM(a, 8, 6, 0, 1, 0, X, 0);
		GCLAIM(a, 9, 7, 0, 1, 0, Y, 0);
		FEED(a, .point = OT_POINT_GROUP_RELEASE, .tid = 9, .group = 7, .before = 1, .after = 0,
		     .owner_before = Y, .owner_after = 0, .flags = f);
		FEED(a, .point = OT_POINT_GROUP_CLAIM, .tid = 8, .group = 6, .before = 0, .after = 1,
		     .owner_before = 0, .owner_after = X, .flags = flagged ? OT_EVF_GAP : 0);
		CHECK(nseen == 1 && seen[0].kind == OT_AN_DIVERGENCE);
		ot_analysis_free(a);

		/* a group gap on an overlapped call waits for the next non-overlapped one */
		a = fresh();
		GCLAIM(a, 8, 6, 0, 1, 0, X, 0);
		FEED(a, .point = OT_POINT_GROUP_RELEASE, .tid = 8, .group = 6, .before = 1, .after = 0,
		     .owner_before = X, .owner_after = 0, .flags = f | OT_EVF_CONCURRENT);
		/* (a claim lost) */
		GRELEASE(a, 8, 6, 1, 0, X, 0);
		CHECK(nseen == (flagged ? 0 : 1));
		ot_analysis_free(a);

		/* an unuse lost, then the device's remove: no kept-use verdict after a loss */
		a = fresh();
		PROBE_ENTER(a, 3, "d0", "e1000", 2, 0);
		USE(a, 3, "d0", "e1000", 2, 0, 1, 0);
		PROBE_EXIT(a, 3, "d0", "e1000", 2, 1, 0);
		REMOVE_ENTER(a, 3, "d0", "e1000", 2, 1);
		/* (unuse lost) */
		FEED(a, .point = OT_POINT_RELEASE_DRIVER, .tid = 3, .dev = "d0", .drv = "e1000", .group = 2,
		     .before = 0, .after = 0, .flags = f);
		CHECK(nseen == (flagged ? 0 : 1));
		if (!flagged)
			CHECK(seen[0].kind == OT_AN_REMOVE_KEPT_USE);
		ot_analysis_free(a);

		/* a real underflow after a loss is still one: the kernel's own values say so */
		a = fresh();
		GCLAIM(a, 8, 6, 0, 1, 0, X, 0);
		FEED(a, .point = OT_POINT_GROUP_RELEASE, .tid = 8, .group = 6, .before = 0, .after = 0,
		     .owner_before = 0, .owner_after = 0, .flags = f);
		CHECK(nseen >= 1 && seen[nseen - 1].kind == OT_AN_UNDERFLOW);
		ot_analysis_free(a);
	}

	/* a claim made in a probe whose release was lost: the remove's own snapshot decides */
	a = fresh();
	PROBE_ENTER(a, 3, "d0", "drv", 2, 0);
	GCLAIM(a, 3, 2, 0, 1, 0, X, 0);
	PROBE_EXIT(a, 3, "d0", "drv", 2, 1, 0);
	USE(a, 4, "d1", "x", 5, 0, 1, 0);
	FEED(a, .point = OT_POINT_UNUSE_DEFAULT_DOMAIN, .tid = 4, .dev = "d1", .drv = "x", .group = 5,
	     .before = 1, .after = 0, .flags = OT_EVF_GAP | OT_EVF_GROUP_GAP);
	REMOVE_ENTER(a, 3, "d0", "drv", 2, 0);
	REMOVE_EXIT(a, 3, "d0", "drv", 2, 0);	/* owner 0 at return: released in a lost record */
	CHECK(nseen == 0);
	ot_analysis_free(a);
	/* control: the kernel still has the owner at the remove's return: a leak */
	a = fresh();
	PROBE_ENTER(a, 3, "d0", "drv", 2, 0);
	GCLAIM(a, 3, 2, 0, 1, 0, X, 0);
	PROBE_EXIT(a, 3, "d0", "drv", 2, 1, 0);
	USE(a, 4, "d1", "x", 5, 0, 1, 0);
	FEED(a, .point = OT_POINT_UNUSE_DEFAULT_DOMAIN, .tid = 4, .dev = "d1", .drv = "x", .group = 5,
	     .before = 1, .after = 0, .flags = OT_EVF_GAP | OT_EVF_GROUP_GAP);
	REMOVE_ENTER(a, 3, "d0", "drv", 2, 1);
	FEED(a, .point = OT_POINT_RELEASE_DRIVER, .tid = 3, .dev = "d0", .drv = "drv", .group = 2, .before = 1,
	     .after = 1, .owner_before = X, .owner_after = X);
	CHECK(nseen == 1 && seen[0].kind == OT_AN_LEAKED_CLAIM);
	ot_analysis_free(a);
}

int main(void)
{
	test_clean_rebind_and_baseline();
	test_probe_failed_without_cleanup();
	test_remove_kept_use();
	test_underflow();
	test_leaked_claim();
	test_claim_of_another_group();
	test_iommufd_context_nests();
	test_second_context_refused_is_a_note();
	test_nested_claims();
	test_late_release_races();
	test_divergence();
	test_resync_after_loss();
	test_baseline_claim();
	test_refusal_explained();
	return unit_report("test_analysis");
}

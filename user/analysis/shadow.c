// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ownership shadow and anomaly detection. See analysis.h.
 *
 * Counting follows the kernel's semantics, not the snapshots: a successful
 * use adds one, an unuse subtracts one unless the count is already zero
 * (the kernel WARNs and leaves it), a group release zeroes, a device
 * release decrements while > 1. Snapshots (owner_cnt/owner before the call)
 * are compared with the shadow only for calls no other ownership call on
 * the same group overlapped (OT_EVF_CONCURRENT), because the kernel takes
 * them outside group->mutex.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/shadow.h"
#include "util/bytes.h"
#include "util/errnames.h"
#include "util/grow.h"
#include "core/points.h"

struct use {
	char device[OT_DEV_NAME_LEN];
	char driver[OT_DRV_NAME_LEN];
	uint64_t ts_ns;
	int32_t stack_id;
	bool seeded;			/* taken before tracing (a census said so), not seen */
	bool unsure;			/* events were lost since it was seen: its unuse may be among them */
};

/* Devices whose device-level claim of a group the shadow saw taken. */
#define OT_CLAIM_HOLDERS 8

struct claim {
	bool held;
	bool baseline;			/* held before tracing began: origin unknown */
	uint64_t owner;
	unsigned int depth;
	/*
	 * iommu_device_claim_dma_owner() nests: each device of a group bound
	 * to one iommufd context claims it once with the same owner. Only the
	 * same device claiming twice is a nested claim; past OT_CLAIM_HOLDERS
	 * devices that check is skipped for the rest.
	 */
	char holders[OT_CLAIM_HOLDERS][OT_DEV_NAME_LEN];
	unsigned int nholders;
	bool whole_group;		/* taken by iommu_group_claim_dma_owner: no device may add to it */
	uint64_t ts_ns;
	int32_t stack_id;
	uint32_t tid;
	char comm[OT_COMM_LEN];
	/* the probe it was made in, if any */
	char device[OT_DEV_NAME_LEN];
	char driver[OT_DRV_NAME_LEN];
	/* set when that device's remove returned with the claim still held */
	bool orphaned;
	uint64_t orphaned_ns;
	uint32_t orphaned_tid;
	bool unsure;			/* events were lost since it was seen: its release may be among them */
};

struct group {
	int id;
	uint64_t last_ns;		/* last event on it: for forgetting idle groups */
	bool known;			/* baseline learned */
	bool tentative;			/* baseline came from an overlapped snapshot */
	bool resync;			/* events were lost: take the next non-overlapped before-values as they are */
	uint64_t seed_ns;		/* seeded by a census at this time (0: learned from events) */
	uint32_t owner_cnt;
	uint64_t owner;
	struct claim claim;
	struct use *uses;
	int nuses;
	size_t capuses;
	/* the last call that gave ownership back, for underflow pairing */
	int32_t last_release_stack;
	char last_release_device[OT_DEV_NAME_LEN];
};

/* A probe or remove in flight. */
struct span {
	bool probe;
	uint32_t tid;
	int group;
	uint64_t ts_ns;
	int32_t stack_id;
	char device[OT_DEV_NAME_LEN];
	char driver[OT_DRV_NAME_LEN];
	bool configure_ok;
	int32_t configure_stack;
	bool cleanup_seen;
	/* a use/claim of this probe refused while an orphaned claim held the group */
	bool blocked;
	uint64_t refused_ns;
	long refused_err;
	struct claim blocker;
};

struct ot_analysis {
	struct ot_analysis_cb cb;
	struct group *groups;
	int ngroups;
	size_t capgroups;
	struct span *spans;
	int nspans;
	size_t capspans;
	struct ot_analysis_limits limits;
	uint64_t forgot_groups, forgot_uses, forgot_spans;
	uint64_t losses, resyncs;
};

struct ot_analysis *ot_analysis_new(const struct ot_analysis_cb *cb)
{
	struct ot_analysis *a = calloc(1, sizeof(*a));

	if (a && cb)
		a->cb = *cb;
	return a;
}

void ot_analysis_free(struct ot_analysis *a)
{
	if (!a)
		return;
	for (int i = 0; i < a->ngroups; i++)
		free(a->groups[i].uses);
	free(a->groups);
	free(a->spans);
	free(a);
}

/* ---- small containers -------------------------------------------------- */

static void copy_name(char *dst, size_t len, const char *src, size_t srclen)
{
	dst[ot_name_copy(dst, src, srclen < len ? srclen : len - 1)] = '\0';
}

#define COPY(dst, src) copy_name(dst, sizeof(dst), src, sizeof(src))

static bool same_name(const char *a, const char *b, size_t len)
{
	return ot_name_equal(a, b, len);
}

static bool group_idle(const struct group *g)
{
	return !g->claim.held && !g->nuses;
}

/* Order is kept: reports and the outstanding lists follow first sight. */
static void forget_group(struct ot_analysis *a, int i)
{
	free(a->groups[i].uses);
	memmove(&a->groups[i], &a->groups[i + 1], (size_t)(a->ngroups - i - 1) * sizeof(*a->groups));
	a->ngroups--;
	a->forgot_groups++;
}

/* At max_groups: make room by forgetting the stalest group, idle ones first. */
static void make_room_for_group(struct ot_analysis *a)
{
	int victim = -1;

	for (int pass = 0; pass < 2 && victim < 0; pass++)
		for (int i = 0; i < a->ngroups; i++)
			if ((pass || group_idle(&a->groups[i])) &&
			    (victim < 0 || a->groups[i].last_ns < a->groups[victim].last_ns))
				victim = i;
	if (victim >= 0)
		forget_group(a, victim);
}

static struct group *group_of(struct ot_analysis *a, int id)
{
	struct group *g;

	for (int i = 0; i < a->ngroups; i++)
		if (a->groups[i].id == id)
			return &a->groups[i];
	if (a->limits.max_groups && a->ngroups >= a->limits.max_groups)
		make_room_for_group(a);
	if (ot_grow(&a->groups, &a->capgroups, (size_t)a->ngroups + 1, sizeof(*a->groups), 8))
		return NULL;
	g = &a->groups[a->ngroups++];
	memset(g, 0, sizeof(*g));
	g->id = id;
	g->last_release_stack = -1;
	return g;
}

static struct use *find_use(struct group *g, const char *device)
{
	for (int i = 0; i < g->nuses; i++)
		if (same_name(g->uses[i].device, device, OT_DEV_NAME_LEN))
			return &g->uses[i];
	return NULL;
}

static void drop_use(struct group *g, struct use *u);

static void add_use(struct ot_analysis *a, struct group *g, const struct ot_event *ev)
{
	struct use *u;

	/* a use seen before lost records, taken again: its unuse was among them
	 * (two uses of one device otherwise are two counts, kept as two) */
	u = find_use(g, ev->device);
	if (u && u->unsure)
		drop_use(g, u);
	if (a->limits.max_uses_per_group && g->nuses >= a->limits.max_uses_per_group) {
		struct use *oldest = &g->uses[0];

		for (int i = 1; i < g->nuses; i++)
			if (g->uses[i].ts_ns < oldest->ts_ns)
				oldest = &g->uses[i];
		drop_use(g, oldest);
		a->forgot_uses++;
	}
	if (ot_grow(&g->uses, &g->capuses, (size_t)g->nuses + 1, sizeof(*g->uses), 8))
		return;
	u = &g->uses[g->nuses++];
	COPY(u->device, ev->device);
	COPY(u->driver, ev->driver);
	u->ts_ns = ev->ts_ns;
	u->stack_id = ev->stack_id;
	u->seeded = false;
	u->unsure = false;
}

static void drop_use(struct group *g, struct use *u)
{
	*u = g->uses[--g->nuses];
}

/* Innermost span of this task, optionally of one device and kind. */
static struct span *span_of(struct ot_analysis *a, uint32_t tid, const char *device, int want_probe)
{
	for (int i = a->nspans - 1; i >= 0; i--) {
		struct span *s = &a->spans[i];

		if (s->tid != tid)
			continue;
		if (device && !same_name(s->device, device, OT_DEV_NAME_LEN))
			continue;
		if (want_probe >= 0 && s->probe != want_probe)
			continue;
		return s;
	}
	return NULL;
}

/*
 * The probe or remove a call ran inside, on the same task: innermost first.
 * A group-level claim or release names no device (its argument is the
 * group), so this is who made it.
 */
static const struct span *culprit_span(struct ot_analysis *a, const struct ot_event *ev)
{
	return ev->device[0] ? NULL : span_of(a, ev->tid, NULL, -1);
}

/* Device and driver a call is charged to: its own, else its probe's/remove's. */
static void culprit_of(struct ot_analysis *a, const struct ot_event *ev, char *dev, size_t devlen, char *drv,
		       size_t drvlen)
{
	const struct span *s = culprit_span(a, ev);

	copy_name(dev, devlen, s ? s->device : ev->device, OT_DEV_NAME_LEN);
	copy_name(drv, drvlen, s ? s->driver : ev->driver, OT_DRV_NAME_LEN);
}

/* " in the remove of DEV (driver DRV)" for a call made inside one, else "". */
static const char *in_span(struct ot_analysis *a, const struct ot_event *ev, char *buf, size_t len)
{
	const struct span *s = culprit_span(a, ev);

	buf[0] = '\0';
	if (s)
		snprintf(buf, len, " in the %s of %.*s (driver %.*s)", s->probe ? "probe" : "remove",
			 OT_DEV_NAME_LEN, s->device, OT_DRV_NAME_LEN, s->driver[0] ? s->driver : "?");
	return buf;
}

/* ---- reporting --------------------------------------------------------- */

/* The culprit is the call ev, charged to the device whose probe/remove made it. */
static void anomaly_init(struct ot_analysis *a, struct ot_anomaly *an, enum ot_anomaly_kind kind,
			 const struct ot_event *ev)
{
	memset(an, 0, sizeof(*an));
	an->kind = kind;
	an->group = ev->group_id;
	culprit_of(a, ev, an->device, sizeof(an->device), an->driver, sizeof(an->driver));
	COPY(an->comm, ev->comm);
	an->pid = ev->pid;
	an->tid = ev->tid;
	an->cpu = ev->cpu;
	an->ts_ns = ev->ts_ns;
	an->stack_id = ev->stack_id;
	an->pair_stack_id = -1;
	an->owner = ev->owner_before ? ev->owner_before : ev->owner_after;
}

static void timeline_add(struct ot_anomaly *an, uint64_t ts, uint32_t tid, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void timeline_add(struct ot_anomaly *an, uint64_t ts, uint32_t tid, const char *fmt, ...)
{
	struct ot_timeline_entry *e;
	va_list ap;

	if (an->ntimeline >= OT_TIMELINE_MAX)
		return;
	e = &an->timeline[an->ntimeline++];
	e->ts_ns = ts;
	e->tid = tid;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
}

/* keep the timeline in time order whatever order it was built in */
static void timeline_sort(struct ot_anomaly *an)
{
	for (int i = 1; i < an->ntimeline; i++)
		for (int j = i; j > 0 && an->timeline[j].ts_ns < an->timeline[j - 1].ts_ns; j--) {
			struct ot_timeline_entry t = an->timeline[j];

			an->timeline[j] = an->timeline[j - 1];
			an->timeline[j - 1] = t;
		}
}

static void report(struct ot_analysis *a, struct ot_anomaly *an)
{
	timeline_sort(an);
	if (a->cb.anomaly)
		a->cb.anomaly(a->cb.ctx, an);
}

/* Anomaly texts name the errno of a return value, or just say "error". */
static const char *errname(int64_t ret)
{
	return ot_ret_errno_name(ret, "error");
}

static const char *or_unknown(const char *s)
{
	return s[0] ? s : "?";
}

/* ---- baseline and divergence ------------------------------------------- */

/* A claim the shadow did not see taken: the owner found in the group, held at its count. */
static void claim_from_baseline(struct group *g)
{
	memset(&g->claim, 0, sizeof(g->claim));
	g->claim.held = true;
	g->claim.baseline = true;
	g->claim.owner = g->owner;
	g->claim.depth = g->owner_cnt;
	g->claim.stack_id = -1;
}

/*
 * Learn a group from the first ownership call seen on it; afterwards check
 * each non-overlapped call's before-values against the shadow, report a
 * mismatch once, and resync.
 */
static void observe(struct ot_analysis *a, struct group *g, const struct ot_event *ev)
{
	bool concurrent = ev->flags & OT_EVF_CONCURRENT;

	if (g->resync && !concurrent) {
		/* after lost events the kernel's values are the truth, not a divergence */
		g->resync = false;
		if (ev->owner_cnt_before != g->owner_cnt || ev->owner_before != g->owner)
			a->resyncs++;
		g->owner_cnt = ev->owner_cnt_before;
		g->owner = ev->owner_before;
		if (!g->owner)
			g->claim.held = false;
		else if (!g->claim.held || g->claim.owner != g->owner)
			claim_from_baseline(g);	/* a claim whose event was lost: origin unknown */
		return;
	}
	if (!g->known || (g->tentative && !concurrent)) {
		g->known = true;
		g->tentative = concurrent;
		g->owner_cnt = ev->owner_cnt_before;
		g->owner = ev->owner_before;
		if (g->owner && !g->claim.held)
			claim_from_baseline(g);
		return;
	}
	if (concurrent || (ev->owner_cnt_before == g->owner_cnt && ev->owner_before == g->owner))
		return;

	struct ot_anomaly an;
	char in[OT_DEV_NAME_LEN + OT_DRV_NAME_LEN + 40];

	anomaly_init(a, &an, OT_AN_DIVERGENCE, ev);
	snprintf(an.message, sizeof(an.message),
		 "the kernel had owner_cnt %u%s before this %s%s, but ownertrace's shadow had %u%s: an "
		 "ownership change happened that ownertrace did not see (a lost event, or a writer it does "
		 "not trace); the shadow follows the kernel from here",
		 ev->owner_cnt_before, ev->owner_before ? " with an owner" : "",
		 ot_event_name(ev->point, ev->phase), in_span(a, ev, in, sizeof(in)), g->owner_cnt,
		 g->owner ? " with an owner" : "");
	report(a, &an);
	g->owner_cnt = ev->owner_cnt_before;
	g->owner = ev->owner_before;
	if (!g->owner)
		g->claim.held = false;
}

/* ---- claim bookkeeping -------------------------------------------------- */

/* An anomaly whose other party is a claim made in some driver's probe:
 * pairs it with the claiming call and starts the timeline with its story. */
static void anomaly_of_claim(struct ot_analysis *a, struct ot_anomaly *an, enum ot_anomaly_kind kind,
			     const struct ot_event *ev, const struct claim *c)
{
	anomaly_init(a, an, kind, ev);
	COPY(an->other_device, c->device);
	COPY(an->other_driver, c->driver);
	an->owner = c->owner;
	an->pair_stack_id = c->stack_id;
	timeline_add(an, c->ts_ns, c->tid, "%s probe claims group %d", c->device, ev->group_id);
	if (c->orphaned)
		timeline_add(an, c->orphaned_ns, c->orphaned_tid, "%s remove returns, claim still held", c->device);
}

static void claim_taken(struct ot_analysis *a, struct group *g, const struct ot_event *ev)
{
	struct span *probe = span_of(a, ev->tid, NULL, 1);
	struct claim *c = &g->claim;

	memset(c, 0, sizeof(*c));
	c->held = true;
	c->owner = ev->owner_after;
	c->depth = 1;
	c->ts_ns = ev->ts_ns;
	c->stack_id = ev->stack_id;
	c->tid = ev->tid;
	COPY(c->comm, ev->comm);
	if (probe) {	/* any group: a driver may claim another device's group */
		COPY(c->device, probe->device);
		COPY(c->driver, probe->driver);
	}
}

/*
 * The call that gives a claim back. A claim made in a driver's probe must
 * be gone when that driver's remove returns; one released afterwards is
 * late, and if a sibling device of the group is mid-probe/remove on
 * another task at that moment, the two race.
 */
static void claim_released(struct ot_analysis *a, struct group *g, const struct ot_event *ev)
{
	struct claim *c = &g->claim;
	struct ot_anomaly an;

	if (!c->held || c->baseline || !c->device[0])
		return;
	if (c->orphaned) {
		anomaly_of_claim(a, &an, OT_AN_LATE_RELEASE, ev, c);
		snprintf(an.message, sizeof(an.message),
			 "%s released group %d %.3f ms after the remove of %s (driver %s) had returned; the "
			 "claim made in that probe should have been released by its remove",
			 ev->comm, ev->group_id, (ev->ts_ns - c->orphaned_ns) / 1e6, c->device, or_unknown(c->driver));
		timeline_add(&an, ev->ts_ns, ev->tid, "%s (%s) releases group %d", ev->comm, ev->device[0] ? ev->device : "-",
			     ev->group_id);
		report(a, &an);
	}
	if (span_of(a, ev->tid, c->device, -1))
		return;	/* inside the claiming device's own probe/remove: in order */
	for (int i = 0; i < a->nspans; i++) {
		struct span *s = &a->spans[i];

		if (s->group != ev->group_id || s->tid == ev->tid || same_name(s->device, c->device, OT_DEV_NAME_LEN))
			continue;
		anomaly_init(a, &an, OT_AN_SIBLING_RACE, ev);
		COPY(an.device, c->device);
		COPY(an.driver, c->driver);
		COPY(an.other_device, s->device);
		COPY(an.other_driver, s->driver);
		an.owner = c->owner;
		an.pair_stack_id = s->stack_id;
		snprintf(an.message, sizeof(an.message),
			 "group %d's ownership changed (claim of %s released by %s, tid %u) while %s was mid-%s "
			 "with %s on tid %u: the sibling saw the group in a state that was about to change",
			 ev->group_id, c->device, ev->comm, ev->tid, s->device, s->probe ? "probe" : "remove",
			 or_unknown(s->driver), s->tid);
		timeline_add(&an, c->ts_ns, c->tid, "%s probe claims group %d", c->device, ev->group_id);
		if (c->orphaned)
			timeline_add(&an, c->orphaned_ns, c->orphaned_tid, "%s remove returns", c->device);
		timeline_add(&an, s->ts_ns, s->tid, "%s %s starts (%s)", s->device, s->probe ? "probe" : "remove",
			     or_unknown(s->driver));
		timeline_add(&an, ev->ts_ns, ev->tid, "%s releases group %d", ev->comm, ev->group_id);
		report(a, &an);
		break;	/* one report per release */
	}
}

static void report_underflow(struct ot_analysis *a, struct group *g, const struct ot_event *ev, const char *what)
{
	struct ot_anomaly an;
	char in[OT_DEV_NAME_LEN + OT_DRV_NAME_LEN + 40];

	anomaly_init(a, &an, OT_AN_UNDERFLOW, ev);
	an.pair_stack_id = g->last_release_stack;
	COPY(an.other_device, g->last_release_device);
	snprintf(an.message, sizeof(an.message),
		 "%s called %s on group %d%s while owner_cnt was %u%s: nothing was held, so the kernel "
		 "WARNs and ignores it; the earlier call that already gave it back is paired below",
		 ev->comm, what, ev->group_id, in_span(a, ev, in, sizeof(in)), ev->owner_cnt_before,
		 ev->owner_before ? "" : (ev->point == OT_POINT_UNUSE_DEFAULT_DOMAIN ? "" : " and no owner"));
	report(a, &an);
}

static void note_release(struct ot_analysis *a, struct group *g, const struct ot_event *ev)
{
	char drv[OT_DRV_NAME_LEN];

	g->last_release_stack = ev->stack_id;
	culprit_of(a, ev, g->last_release_device, sizeof(g->last_release_device), drv, sizeof(drv));
}

/* ---- per-point handlers ------------------------------------------------- */

/*
 * A use or claim the kernel refused inside a probe. That is the kernel
 * doing its job, unless what it refused on is a claim whose driver has
 * already been removed: then the probe is blocked by a late release, which
 * the probe's exit reports.
 */
static void note_refusal(struct group *g, struct span *probe, const struct ot_event *ev)
{
	if (!probe || !g->claim.held || !g->claim.orphaned || probe->blocked)
		return;
	probe->blocked = true;
	probe->refused_ns = ev->ts_ns;
	probe->refused_err = ev->ret;
	probe->blocker = g->claim;
}

static void on_use(struct ot_analysis *a, struct group *g, const struct ot_event *ev)
{
	struct span *probe;

	if (ev->ret == 0) {
		g->owner_cnt++;
		add_use(a, g, ev);
		return;
	}
	/* refused: correct kernel behaviour, unless a claim that should be gone blocks it */
	probe = span_of(a, ev->tid, ev->device, 1);
	note_refusal(g, probe, ev);
}

static void on_unuse(struct ot_analysis *a, struct group *g, const struct ot_event *ev)
{
	struct use *u = find_use(g, ev->device);

	if (ev->owner_cnt_before == 0 && ev->owner_cnt_after == 0) {
		report_underflow(a, g, ev, "iommu_device_unuse_default_domain");
		return;
	}
	if (g->owner_cnt)
		g->owner_cnt--;
	if (u)
		drop_use(g, u);
	note_release(a, g, ev);
}

/* false if the device already holds a claim (a nested claim); unknown past the table: true */
static bool holder_add(struct claim *c, const char *device)
{
	for (unsigned int i = 0; i < c->nholders; i++)
		if (same_name(c->holders[i], device, OT_DEV_NAME_LEN))
			return false;
	if (c->nholders < OT_CLAIM_HOLDERS) {
		copy_name(c->holders[c->nholders], OT_DEV_NAME_LEN, device, OT_DEV_NAME_LEN);
		c->nholders++;
	}
	return true;
}

static void holder_drop(struct claim *c, const char *device)
{
	for (unsigned int i = 0; i < c->nholders; i++)
		if (same_name(c->holders[i], device, OT_DEV_NAME_LEN)) {
			memcpy(c->holders[i], c->holders[--c->nholders], OT_DEV_NAME_LEN);
			return;
		}
}

static void on_claim(struct ot_analysis *a, struct group *g, const struct ot_event *ev, bool device_level)
{
	struct ot_anomaly an;

	if (ev->ret != 0) {
		note_refusal(g, span_of(a, ev->tid, NULL, 1), ev);
		return;
	}
	if (device_level && g->claim.held && g->claim.owner == ev->owner_after) {
		g->claim.depth++;
		g->owner_cnt++;
		if (g->claim.whole_group || !holder_add(&g->claim, ev->device)) {
			anomaly_init(a, &an, OT_AN_NESTED_CLAIM, ev);
			an.owner = ev->owner_after;
			an.pair_stack_id = g->claim.stack_id;
			snprintf(an.message, sizeof(an.message),
				 "%s claimed DMA ownership of %s again for the same owner while it still held it "
				 "(group %d, depth %u): each claim needs its own release, and the group stays blocked "
				 "for kernel drivers until the last one",
				 ev->comm, ev->device[0] ? ev->device : "a device", ev->group_id, g->claim.depth);
			report(a, &an);
		}
		return;
	}
	if (g->claim.held) {
		/*
		 * Taken while held, but not the nesting above: a claim for a
		 * different owner, or a claim of the whole group. The kernel
		 * refuses both (EPERM while owner_cnt != 0); one that succeeded
		 * means its check was bypassed or a release ownertrace did not
		 * see came first. The shadow follows the kernel from here.
		 */
		anomaly_init(a, &an, OT_AN_NESTED_CLAIM, ev);
		an.owner = ev->owner_after;
		an.pair_stack_id = g->claim.stack_id;
		snprintf(an.message, sizeof(an.message),
			 "%s claimed group %d%s for %s owner while it was still claimed (owner_cnt %u): the kernel "
			 "refuses that with EPERM, so either its check was bypassed or a release ownertrace did "
			 "not see came first",
			 ev->comm, ev->group_id, device_level ? "" : " as a whole",
			 g->claim.owner == ev->owner_after ? "the same" : "a different", ev->owner_cnt_before);
		report(a, &an);
		g->claim.depth++;
		g->claim.owner = ev->owner_after;
		g->owner_cnt = ev->owner_cnt_after;
		g->owner = ev->owner_after;
		if (device_level)
			holder_add(&g->claim, ev->device);
		else
			g->claim.whole_group = true;
		return;
	}
	g->owner_cnt = device_level ? g->owner_cnt + 1 : 1;
	g->owner = ev->owner_after;
	claim_taken(a, g, ev);
	if (device_level)
		holder_add(&g->claim, ev->device);
	else
		g->claim.whole_group = true;
}

static void on_release(struct ot_analysis *a, struct group *g, const struct ot_event *ev, bool device_level)
{
	if (ev->owner_cnt_before == 0 || !ev->owner_before) {
		report_underflow(a, g, ev, device_level ? "iommu_device_release_dma_owner"
							 : "iommu_group_release_dma_owner");
		return;
	}
	if (device_level && g->owner_cnt > 1) {
		g->owner_cnt--;
		if (g->claim.held && g->claim.depth > 1)
			g->claim.depth--;
		holder_drop(&g->claim, ev->device);
		note_release(a, g, ev);
		return;
	}
	claim_released(a, g, ev);
	g->owner_cnt = 0;
	g->owner = 0;
	g->claim.held = false;
	note_release(a, g, ev);
}

static void forget_span(struct ot_analysis *a, int i)
{
	memmove(&a->spans[i], &a->spans[i + 1], (size_t)(a->nspans - i - 1) * sizeof(*a->spans));
	a->nspans--;
	a->forgot_spans++;
}

static void on_probe_enter(struct ot_analysis *a, const struct ot_event *ev)
{
	struct span *s;

	if (a->limits.max_spans && a->nspans >= a->limits.max_spans)
		forget_span(a, 0);	/* spans are in start order: 0 is the oldest */
	if (ot_grow(&a->spans, &a->capspans, (size_t)a->nspans + 1, sizeof(*a->spans), 8))
		return;
	s = &a->spans[a->nspans++];
	memset(s, 0, sizeof(*s));
	s->probe = ev->point == OT_POINT_REALLY_PROBE;
	s->tid = ev->tid;
	s->group = ev->group_id;
	s->ts_ns = ev->ts_ns;
	s->stack_id = ev->stack_id;
	s->configure_stack = -1;
	COPY(s->device, ev->device);
	COPY(s->driver, ev->driver);
}

static bool is_busy_or_perm(long ret)
{
	long e = ot_errno_of(ret);	/* driver probe errors come back positive */

	return e == EBUSY || e == EPERM;
}

static void on_probe_exit(struct ot_analysis *a, struct span *s, const struct ot_event *ev)
{
	struct ot_anomaly an;

	if (ev->ret != 0 && s->configure_ok && !s->cleanup_seen) {
		anomaly_init(a, &an, OT_AN_PROBE_FAILED_NO_CLEANUP, ev);
		an.pair_stack_id = s->configure_stack;
		snprintf(an.message, sizeof(an.message),
			 "probe of %s by %s failed (%ld, %s) after dma_configure succeeded, and dma_cleanup "
			 "never ran: the default-domain use taken for it is leaked",
			 ev->device, or_unknown(ev->driver), (long)ev->ret, errname(ev->ret));
		report(a, &an);
	}
	if (ev->ret != 0 && s->blocked && is_busy_or_perm(ev->ret)) {
		const struct claim *c = &s->blocker;

		anomaly_of_claim(a, &an, OT_AN_PROBE_BLOCKED, ev, c);
		snprintf(an.message, sizeof(an.message),
			 "probe of %s by %s failed with %s because group %d was still claimed by the probe of "
			 "%s (%s), whose remove had returned %.3f ms earlier without releasing it",
			 ev->device, or_unknown(ev->driver), errname(ev->ret), ev->group_id, c->device,
			 or_unknown(c->driver), (s->refused_ns - c->orphaned_ns) / 1e6);
		timeline_add(&an, s->ts_ns, s->tid, "%s probe starts (%s)", s->device, or_unknown(s->driver));
		timeline_add(&an, s->refused_ns, s->tid, "ownership refused: %s", errname(s->refused_err));
		timeline_add(&an, ev->ts_ns, ev->tid, "%s probe fails: %s", ev->device, errname(ev->ret));
		report(a, &an);
	}
}

static void on_remove_exit(struct ot_analysis *a, const struct ot_event *ev)
{
	struct group *g = ev->group_id >= 0 ? group_of(a, ev->group_id) : NULL;
	struct ot_anomaly an;
	struct use *u;

	if (g)
		g->last_ns = ev->ts_ns;
	u = g ? find_use(g, ev->device) : NULL;
	if (u && u->unsure) {
		drop_use(g, u);	/* its unuse may have been lost: no verdict */
		u = NULL;
	}
	if (u) {
		anomaly_init(a, &an, OT_AN_REMOVE_KEPT_USE, ev);
		COPY(an.driver, u->driver);
		an.pair_stack_id = u->stack_id;
		snprintf(an.message, sizeof(an.message),
			 "remove of %s (driver %s) finished but the default-domain use its probe took was never "
			 "given back: group %d keeps owner_cnt %u and can never be claimed for VFIO",
			 ev->device, or_unknown(u->driver), ev->group_id, g->owner_cnt);
		report(a, &an);
		drop_use(g, u);	/* report once; the device no longer holds it */
	}
	for (int i = 0; i < a->ngroups; i++) {
		struct claim *c = &a->groups[i].claim;

		if (!c->held || c->orphaned || !c->device[0] || !same_name(c->device, ev->device, OT_DEV_NAME_LEN))
			continue;
		if (c->unsure) {
			/* its release may have been lost: only the kernel's value of the
			 * same group, read as this remove returned, can tell */
			if (a->groups[i].id != ev->group_id || !ev->owner_after || ev->owner_after != c->owner) {
				if (a->groups[i].id == ev->group_id)
					c->held = false;
				else
					c->device[0] = '\0';	/* cannot tell: no longer charged to this device */
				continue;
			}
		}
		c->orphaned = true;
		c->orphaned_ns = ev->ts_ns;
		c->orphaned_tid = ev->tid;
		anomaly_init(a, &an, OT_AN_LEAKED_CLAIM, ev);
		COPY(an.driver, c->driver);
		an.owner = c->owner;
		an.pair_stack_id = c->stack_id;
		an.group = a->groups[i].id;
		snprintf(an.message, sizeof(an.message),
			 "driver %s claimed DMA ownership of group %d in the probe of %s and still holds it after "
			 "that device's remove finished: no kernel driver can bind a device of that group now",
			 or_unknown(c->driver), an.group, ev->device);
		report(a, &an);
	}
}

/* ---- census seeds --------------------------------------------------------- */

/*
 * A call already reflected in the group's seed: it returned before the
 * census read the group, or was under way then and the kernel already had
 * its after-values (the census reads outside group->mutex, after the
 * change and before the return).
 */
static bool in_seed(const struct group *g, const struct ot_event *ev)
{
	bool at_before = ev->owner_cnt_before == g->owner_cnt && ev->owner_before == g->owner;
	bool at_after = ev->owner_cnt_after == g->owner_cnt && ev->owner_after == g->owner;

	if (!g->seed_ns || ev->entry_ns >= g->seed_ns)
		return false;
	return ev->ts_ns <= g->seed_ns || (at_after && !at_before);
}

void ot_analysis_seed(struct ot_analysis *a, const struct ot_group_seed *seed)
{
	struct group *g = group_of(a, seed->group);

	if (!g)
		return;
	g->known = true;
	g->tentative = false;
	g->seed_ns = seed->ts_ns;
	g->owner_cnt = seed->owner_cnt;
	g->owner = seed->owner;
	if (g->last_ns < seed->ts_ns)
		g->last_ns = seed->ts_ns;
	if (seed->owner && !(g->claim.held && g->claim.owner == seed->owner)) {
		memset(&g->claim, 0, sizeof(g->claim));
		g->claim.held = true;
		g->claim.baseline = true;
		g->claim.owner = seed->owner;
		g->claim.depth = seed->owner_cnt;
		g->claim.stack_id = -1;
	} else if (!seed->owner) {
		g->claim.held = false;
	}
	/* the uses are the devices the kernel counts: keep what was seen taken */
	for (int i = g->nuses - 1; i >= 0; i--) {
		bool counted = false;

		for (int j = 0; j < seed->nuses && !counted; j++)
			counted = same_name(g->uses[i].device, seed->uses[j].device, OT_DEV_NAME_LEN);
		if (!counted)
			drop_use(g, &g->uses[i]);
	}
	for (int j = 0; j < seed->nuses; j++) {
		struct use *u;

		if (find_use(g, seed->uses[j].device))
			continue;
		if (ot_grow(&g->uses, &g->capuses, (size_t)g->nuses + 1, sizeof(*g->uses), 8))
			return;
		u = &g->uses[g->nuses++];
		memset(u, 0, sizeof(*u));
		COPY(u->device, seed->uses[j].device);
		COPY(u->driver, seed->uses[j].driver);
		u->ts_ns = seed->ts_ns;
		u->stack_id = -1;
		u->seeded = true;
	}
}

void ot_analysis_report(struct ot_analysis *a, struct ot_anomaly *an)
{
	if ((unsigned int)an->kind < OT_AN_KIND_COUNT)
		report(a, an);
}

/*
 * Records were lost since the last one received (OT_EVF_GAP): a use or
 * claim seen before may have been given back in one of them, so it is no
 * evidence of a leak; probes and removes in flight may have ended unseen.
 */
static void lost_somewhere(struct ot_analysis *a)
{
	a->losses++;
	for (int i = 0; i < a->ngroups; i++) {
		struct group *g = &a->groups[i];

		if (g->claim.held)
			g->claim.unsure = true;
		for (int j = 0; j < g->nuses; j++)
			g->uses[j].unsure = true;
	}
	a->nspans = 0;
}

void ot_analysis_event(struct ot_analysis *a, const struct ot_event *ev)
{
	unsigned int p = ev->point;
	bool span = ot_point_flags(p) & OT_PF_SPAN;	/* probe or remove */
	struct group *g = NULL;
	struct span *s;

	if (p >= OT_POINT_COUNT)
		return;
	if (ev->flags & OT_EVF_GAP)
		lost_somewhere(a);
	if (span && ev->phase == OT_PHASE_ENTER) {
		on_probe_enter(a, ev);
		return;
	}
	if (ev->phase != OT_PHASE_EXIT)
		return;

	if (span) {
		s = span_of(a, ev->tid, ev->device, p == OT_POINT_REALLY_PROBE);
		if (p == OT_POINT_REALLY_PROBE && s)
			on_probe_exit(a, s, ev);
		if (p == OT_POINT_RELEASE_DRIVER)
			on_remove_exit(a, ev);
		if (s) {	/* keep order: innermost-per-task lookups depend on it */
			int idx = (int)(s - a->spans);

			memmove(s, s + 1, (size_t)(a->nspans - idx - 1) * sizeof(*s));
			a->nspans--;
		}
		return;
	}
	if (ot_point_is_configure(p) || ot_point_is_cleanup(p)) {
		s = span_of(a, ev->tid, ev->device, -1);
		if (!s)
			return;
		if (ot_point_is_configure(p) && ev->ret == 0) {
			s->configure_ok = true;
			s->configure_stack = ev->stack_id;
		} else if (ot_point_is_cleanup(p)) {
			s->cleanup_seen = true;
		}
		return;
	}
	if (!(ot_point_flags(p) & OT_PF_PRIMITIVE) || ev->group_id < 0)
		return;
	g = group_of(a, ev->group_id);
	if (!g)
		return;
	g->last_ns = ev->ts_ns;
	if (ev->flags & OT_EVF_GROUP_GAP)
		g->resync = true;	/* calls of this group may be missing before this one */
	if (in_seed(g, ev))
		return;
	observe(a, g, ev);
	switch (p) {
	case OT_POINT_USE_DEFAULT_DOMAIN:
		on_use(a, g, ev);
		break;
	case OT_POINT_UNUSE_DEFAULT_DOMAIN:
		on_unuse(a, g, ev);
		break;
	case OT_POINT_GROUP_CLAIM:
	case OT_POINT_DEVICE_CLAIM:
		on_claim(a, g, ev, p == OT_POINT_DEVICE_CLAIM);
		break;
	case OT_POINT_GROUP_RELEASE:
	case OT_POINT_DEVICE_RELEASE:
		on_release(a, g, ev, p == OT_POINT_DEVICE_RELEASE);
		break;
	}
}

int ot_analysis_outstanding_claims(const struct ot_analysis *a, struct ot_outstanding_claim *out, int max)
{
	int n = 0;

	for (int i = 0; i < a->ngroups && n < max; i++) {
		const struct group *g = &a->groups[i];
		const struct claim *c = &g->claim;

		if (!c->held)
			continue;
		out[n] = (struct ot_outstanding_claim){
			.group = g->id, .owner = c->owner, .depth = c->depth, .since_ns = c->ts_ns,
			.stack_id = c->stack_id, .baseline = c->baseline,
		};
		COPY(out[n].comm, c->comm);
		COPY(out[n].device, c->device);
		COPY(out[n].driver, c->driver);
		n++;
	}
	return n;
}

int ot_analysis_outstanding_uses(const struct ot_analysis *a, struct ot_outstanding_use *out, int max)
{
	int n = 0;

	for (int i = 0; i < a->ngroups; i++)
		for (int j = 0; j < a->groups[i].nuses && n < max; j++) {
			const struct use *u = &a->groups[i].uses[j];

			if (u->seeded)
				continue;	/* not seen taken */

			out[n].group = a->groups[i].id;
			COPY(out[n].device, u->device);
			COPY(out[n].driver, u->driver);
			out[n].since_ns = u->ts_ns;
			n++;
		}
	return n;
}

void ot_analysis_set_limits(struct ot_analysis *a, const struct ot_analysis_limits *limits)
{
	a->limits = *limits;
}

void ot_analysis_expire(struct ot_analysis *a, uint64_t now_ns)
{
	uint64_t idle = a->limits.idle_ns;

	if (!idle || now_ns < idle)
		return;
	for (int i = a->ngroups - 1; i >= 0; i--)
		if (group_idle(&a->groups[i]) && a->groups[i].last_ns < now_ns - idle)
			forget_group(a, i);
	for (int i = a->nspans - 1; i >= 0; i--)
		if (a->spans[i].ts_ns < now_ns - idle)
			forget_span(a, i);
}

void ot_analysis_footprint(const struct ot_analysis *a, struct ot_analysis_footprint *out)
{
	*out = (struct ot_analysis_footprint){
		.groups = a->ngroups, .spans = a->nspans, .forgot_groups = a->forgot_groups,
		.forgot_uses = a->forgot_uses, .forgot_spans = a->forgot_spans,
		.losses = a->losses, .resyncs = a->resyncs,
	};
	for (int i = 0; i < a->ngroups; i++)
		out->uses += a->groups[i].nuses;
}

int ot_analysis_groups(const struct ot_analysis *a, struct ot_group_state *out, int max)
{
	int n = 0;

	for (int i = 0; i < a->ngroups && n < max; i++, n++) {
		unsigned int seen = 0;

		for (int j = 0; j < a->groups[i].nuses; j++)
			seen += !a->groups[i].uses[j].seeded;
		out[n] = (struct ot_group_state){
			.group = a->groups[i].id,
			.claims = a->groups[i].claim.held ? a->groups[i].claim.depth : 0,
			.uses = seen,
		};
	}
	return n;
}

const char *ot_explain_refusal(const struct ot_event *ev, char *buf, size_t len)
{
	long err = ev->ret < 0 ? ot_errno_of(ev->ret) : 0;
	unsigned int p = ev->point;

	if (ev->phase != OT_PHASE_EXIT || !err)
		return NULL;
	switch (p) {
	case OT_POINT_USE_DEFAULT_DOMAIN:
		if (err == EBUSY)
			snprintf(buf, len, "EBUSY: %s", ev->owner_before
				 ? "the group is claimed for user-space DMA, so no kernel driver may use it"
				 : "the group is not on its default domain (or has a PASID attached)");
		else if (err == OT_EPROBE_DEFER)
			snprintf(buf, len, "EPROBE_DEFER: the group has no default domain yet; the driver core retries");
		else
			snprintf(buf, len, "%s: default-domain use refused", errname(ev->ret));
		return buf;
	case OT_POINT_GROUP_CLAIM:
	case OT_POINT_DEVICE_CLAIM:
		if (err == EPERM)
			snprintf(buf, len, "EPERM: owner_cnt is %u: the group is %s", ev->owner_cnt_before,
				 ev->owner_before ? "already owned by another owner" : "in use by a kernel driver");
		else if (err == EBUSY)
			snprintf(buf, len, "EBUSY: the group's domain is not its default domain (or a PASID is attached)");
		else if (err == EINVAL)
			snprintf(buf, len, "EINVAL: no owner cookie, or the blocking domain could not be set up");
		else if (err == ENODEV)
			snprintf(buf, len, "ENODEV: the device has no IOMMU group");
		else
			snprintf(buf, len, "%s: claim refused", errname(ev->ret));
		return buf;
	default:
		if (ot_point_is_configure(p)) {
			snprintf(buf, len, "%s: dma_configure failed; the driver core does not call dma_cleanup for it",
				 errname(ev->ret));
			return buf;
		}
		return NULL;
	}
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Census verdicts, the shadow's seeds and the drift between audits. See
 * analysis/census.h.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/census.h"
#include "util/grow.h"

const char *ot_census_verdict_name(enum ot_census_verdict v)
{
	static const char *const names[OT_CV_COUNT] = {
		[OT_CV_CONSISTENT] = "consistent",
		[OT_CV_LEAKED] = "leaked",
		[OT_CV_MISSING] = "missing",
		[OT_CV_CLAIMED] = "claimed",
		[OT_CV_UNSETTLED] = "unsettled",
		[OT_CV_TRUNCATED] = "truncated",
	};

	return (unsigned int)v < OT_CV_COUNT ? names[v] : "unknown";
}

bool ot_census_is_violation(enum ot_census_verdict v)
{
	return v == OT_CV_LEAKED || v == OT_CV_MISSING;
}

const char *ot_census_dev_state_name(unsigned int state)
{
	switch (state) {
	case OT_CDEV_NO_DRIVER: return "no_driver";
	case OT_CDEV_KERNEL_DMA: return "kernel_dma";
	case OT_CDEV_MANAGED: return "driver_managed_dma";
	case OT_CDEV_OTHER_BUS: return "bus_takes_no_ownership";
	default: return "unknown";
	}
}

/* include/linux/iommu.h: the IOMMU_DOMAIN_* values (the same 6.1 to 7.2) */
const char *ot_census_domain_name(uint32_t type, char *buf, size_t len)
{
	switch (type) {
	case 0x0: return "blocked";
	case 0x1: return "unmanaged";
	case 0x3: return "DMA";
	case 0xb: return "DMA-FQ";
	case 0x4: return "identity";
	case 0x10: return "SVA";
	case 0x20: return "platform";
	case 0x40: return "nested";
	default:
		snprintf(buf, len, "0x%x", type);
		return buf;
	}
}

static int ndevices(const struct ot_census_group *g)
{
	return g->snap.head.ndevices < OT_CENSUS_MAX_DEVICES ? (int)g->snap.head.ndevices : OT_CENSUS_MAX_DEVICES;
}

static void suspects_where(const struct ot_census_group *g, struct ot_census_judgement *j, bool counted)
{
	for (int i = 0; i < ndevices(g); i++)
		if ((g->snap.dev[i].state == OT_CDEV_KERNEL_DMA) == counted)
			j->suspects[j->nsuspects++] = i;
}

static void all_suspects(const struct ot_census_group *g, struct ot_census_judgement *j)
{
	j->nsuspects = 0;
	for (int i = 0; i < ndevices(g); i++)
		j->suspects[j->nsuspects++] = i;
}

void ot_census_judge(const struct ot_census_group *g, struct ot_census_judgement *j)
{
	const struct ot_census_head *h = &g->snap.head;
	int n = ndevices(g);

	memset(j, 0, sizeof(*j));
	j->cached = h->owner_cnt;
	for (int i = 0; i < n; i++)
		j->recalculated += g->snap.dev[i].state == OT_CDEV_KERNEL_DMA;
	if (h->owner)
		j->claims = h->owner_cnt;
	if (h->flags & OT_CF_TRUNCATED) {
		j->verdict = OT_CV_TRUNCATED;	/* the devices not read may hold any count */
		return;
	}
	if (h->flags & OT_CF_UNSETTLED) {
		j->verdict = OT_CV_UNSETTLED;
		return;
	}
	if (!h->owner) {
		j->excess = (int64_t)j->cached - j->recalculated;
		if (j->excess > 0) {
			j->verdict = OT_CV_LEAKED;
			suspects_where(g, j, false);	/* a device that holds no count now */
			if (!j->nsuspects)
				all_suspects(g, j);	/* one took two */
		} else if (j->excess < 0) {
			j->verdict = OT_CV_MISSING;
			suspects_where(g, j, true);	/* a device that should hold one */
		} else {
			j->verdict = OT_CV_CONSISTENT;
		}
		return;
	}
	/* claimed: owner_cnt counts the claims, and no kernel DMA-API driver may be bound */
	if (j->recalculated) {
		j->verdict = OT_CV_MISSING;
		j->excess = -(int64_t)j->recalculated;
		suspects_where(g, j, true);
	} else if (!j->cached) {
		j->verdict = OT_CV_MISSING;
		j->excess = -1;
	} else if ((int)j->cached > n) {
		j->verdict = OT_CV_LEAKED;
		j->excess = (int64_t)j->cached - n;
		all_suspects(g, j);
	} else {
		j->verdict = OT_CV_CLAIMED;
	}
}

/* Append to buf at *off, never past len. */
static void put(char *buf, size_t len, size_t *off, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off = *off + (size_t)n < len ? *off + (size_t)n : len;
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void put_suspects(const struct ot_census_group *g, const struct ot_census_judgement *j, char *buf,
			 size_t len, size_t *off, const char *one, const char *some)
{
	if (!j->nsuspects)
		return;
	put(buf, len, off, "; %s", j->nsuspects == 1 ? one : some);
	for (int i = 0; i < j->nsuspects && i < 4; i++)
		put(buf, len, off, "%s%.*s", i ? ", " : " ", OT_DEV_NAME_LEN, g->snap.dev[j->suspects[i]].name);
	if (j->nsuspects > 4)
		put(buf, len, off, " and %d more", j->nsuspects - 4);
}

void ot_census_explain(const struct ot_census_group *g, const struct ot_census_judgement *j, char *buf, size_t len)
{
	const struct ot_census_head *h = &g->snap.head;
	size_t off = 0;

	buf[0] = '\0';
	switch (j->verdict) {
	case OT_CV_CONSISTENT:
		if (j->cached)
			put(buf, len, &off, "owner_cnt %u: the %u %s bound to kernel DMA drivers", j->cached,
			    j->recalculated, plural(j->recalculated, "device", "devices"));
		else
			put(buf, len, &off, "owner_cnt 0: no device bound to a kernel DMA driver; free to claim");
		break;
	case OT_CV_CLAIMED:
		put(buf, len, &off, "owner_cnt %u: %u %s for the group's %d %s, held by %s", j->cached, j->claims,
		    plural(j->claims, "claim", "claims"), ndevices(g), plural((uint64_t)ndevices(g), "device", "devices"),
		    g->holder[0] ? g->holder : "an owner ownertrace cannot name");
		break;
	case OT_CV_LEAKED:
		if (h->owner) {
			put(buf, len, &off, "owner_cnt %u with an owner, but the group has only %d %s: more claims than "
			    "devices can make", j->cached, ndevices(g), plural(ndevices(g), "device", "devices"));
			break;
		}
		put(buf, len, &off, "owner_cnt is %u but %u %s bound to kernel DMA drivers and no owner holds the "
		    "group: %" PRId64 " %s leaked, so the group cannot be claimed for VFIO (EPERM)", j->cached,
		    j->recalculated, plural(j->recalculated, "device is", "devices are"), j->excess,
		    plural((uint64_t)j->excess, "count", "counts"));
		put_suspects(g, j, buf, len, &off, "left by the last driver of",
			     "left by the last driver of one of");
		break;
	case OT_CV_MISSING:
		if (h->owner && j->recalculated)
			put(buf, len, &off, "claimed (owner_cnt %u) while %u %s bound to kernel DMA drivers: their "
			    "uses are not counted", j->cached, j->recalculated,
			    plural(j->recalculated, "device is", "devices are"));
		else if (h->owner)
			put(buf, len, &off, "an owner is set but owner_cnt is 0: the claim's count is missing");
		else
			put(buf, len, &off, "owner_cnt is %u but %u %s bound to kernel DMA drivers: %" PRId64 " %s "
			    "missing (given back twice, or never taken), so an unbind will underflow", j->cached,
			    j->recalculated, plural(j->recalculated, "device is", "devices are"), -j->excess,
			    plural((uint64_t)-j->excess, "use", "uses"));
		if (j->recalculated)
			put_suspects(g, j, buf, len, &off, "bound without a count:", "one of these is bound without a count:");
		break;
	case OT_CV_UNSETTLED:
		put(buf, len, &off, "in flight in all %u snapshots (%s%s%s): not judged", g->snapshots,
		    h->flags & OT_CF_GROUP_LOCKED ? "group lock held" : "",
		    h->flags & OT_CF_DEVICE_LOCKED ? (h->flags & OT_CF_GROUP_LOCKED ? ", a device locked" :
						      "a device locked by a probe or remove") : "",
		    h->flags & OT_CF_CHANGED ? (h->flags & (OT_CF_GROUP_LOCKED | OT_CF_DEVICE_LOCKED) ?
						", count changed while read" : "count changed while read") : "");
		break;
	case OT_CV_TRUNCATED:
		put(buf, len, &off, "more devices than the %u the census reads: not judged", h->ndevices);
		break;
	default:
		break;
	}
}

bool ot_census_same(const struct ot_census_snap *a, const struct ot_census_snap *b)
{
	int n = a->head.ndevices < OT_CENSUS_MAX_DEVICES ? (int)a->head.ndevices : OT_CENSUS_MAX_DEVICES;

	if (a->head.group_id != b->head.group_id || a->head.owner_cnt != b->head.owner_cnt ||
	    a->head.owner != b->head.owner || a->head.ndevices != b->head.ndevices ||
	    (a->head.flags & OT_CF_TRUNCATED) != (b->head.flags & OT_CF_TRUNCATED))
		return false;
	for (int i = 0; i < n; i++)
		if (a->dev[i].state != b->dev[i].state ||
		    strncmp(a->dev[i].name, b->dev[i].name, sizeof(a->dev[i].name)) ||
		    strncmp(a->dev[i].driver, b->dev[i].driver, sizeof(a->dev[i].driver)))
			return false;
	return true;
}

void ot_census_seed(struct ot_analysis *a, const struct ot_census *c)
{
	static struct ot_seed_use uses[OT_CENSUS_MAX_DEVICES];

	for (int i = 0; i < c->ngroups; i++) {
		const struct ot_census_group *g = &c->groups[i];
		struct ot_census_judgement j;
		struct ot_group_seed seed = {
			.group = g->snap.head.group_id, .ts_ns = g->snap.head.ts_ns,
			.owner_cnt = g->snap.head.owner_cnt, .owner = g->snap.head.owner, .uses = uses,
		};

		ot_census_judge(g, &j);
		if (j.verdict == OT_CV_UNSETTLED || j.verdict == OT_CV_TRUNCATED)
			continue;	/* learned from its events, as without a census */
		for (int d = 0; d < ndevices(g); d++) {
			if (g->snap.dev[d].state != OT_CDEV_KERNEL_DMA)
				continue;
			snprintf(uses[seed.nuses].device, sizeof(uses[0].device), "%.*s", OT_DEV_NAME_LEN - 1,
				 g->snap.dev[d].name);
			snprintf(uses[seed.nuses].driver, sizeof(uses[0].driver), "%.*s", OT_DRV_NAME_LEN - 1,
				 g->snap.dev[d].driver);
			seed.nuses++;
		}
		ot_analysis_seed(a, &seed);
	}
}

/* ---- drift between censuses ------------------------------------------------ */

struct tracked {
	int group;
	enum ot_census_verdict verdict;
	int64_t excess;
};

struct ot_census_track {
	struct tracked *groups;
	int n;
	size_t cap;
	struct ot_census_gauge *gauges;	/* of the last census; a few bytes a group, not its snapshot */
	int ngauges;
	size_t capgauges;
	uint64_t censuses, violations;
};

struct ot_census_track *ot_census_track_new(void)
{
	return calloc(1, sizeof(struct ot_census_track));
}

void ot_census_track_free(struct ot_census_track *t)
{
	if (!t)
		return;
	free(t->groups);
	free(t->gauges);
	free(t);
}

static struct tracked *tracked_of(struct ot_census_track *t, int group, bool create)
{
	for (int i = 0; i < t->n; i++)
		if (t->groups[i].group == group)
			return &t->groups[i];
	if (!create || ot_grow(&t->groups, &t->cap, (size_t)t->n + 1, sizeof(*t->groups), 16))
		return NULL;
	t->groups[t->n] = (struct tracked){ .group = group, .verdict = OT_CV_CONSISTENT };
	return &t->groups[t->n++];
}

static void device_list(const struct ot_census_group *g, char *buf, size_t len, size_t *off)
{
	for (int i = 0; i < ndevices(g); i++) {
		const struct ot_census_device *d = &g->snap.dev[i];

		put(buf, len, off, "%s%.*s (%s%s)", i ? ", " : "; devices: ", OT_DEV_NAME_LEN, d->name,
		    d->driver[0] ? d->driver : "no driver", d->state == OT_CDEV_MANAGED ? ", driver_managed_dma" : "");
	}
}

static void census_anomaly(struct ot_anomaly *an, enum ot_anomaly_kind kind, const struct ot_census_group *g,
			   const struct ot_census_judgement *j, uint32_t reason)
{
	char why[256];
	size_t off = 0;

	memset(an, 0, sizeof(*an));
	an->kind = kind;
	an->group = g->snap.head.group_id;
	an->ts_ns = g->snap.head.ts_ns;
	an->owner = g->snap.head.owner;
	an->stack_id = -1;
	an->pair_stack_id = -1;
	snprintf(an->comm, sizeof(an->comm), "(census)");
	if (j->nsuspects > 0) {
		const struct ot_census_device *d = &g->snap.dev[j->suspects[0]];

		snprintf(an->device, sizeof(an->device), "%.*s", OT_DEV_NAME_LEN - 1, d->name);
		snprintf(an->driver, sizeof(an->driver), "%.*s", OT_DRV_NAME_LEN - 1, d->driver);
	}
	if (j->nsuspects > 1) {
		const struct ot_census_device *d = &g->snap.dev[j->suspects[1]];

		snprintf(an->other_device, sizeof(an->other_device), "%.*s", OT_DEV_NAME_LEN - 1, d->name);
		snprintf(an->other_driver, sizeof(an->other_driver), "%.*s", OT_DRV_NAME_LEN - 1, d->driver);
	}
	ot_census_explain(g, j, why, sizeof(why));
	put(an->message, sizeof(an->message), &off, "%s group %d: %s",
	    reason == OT_CENSUS_START ? "already before tracing started," :
	    reason == OT_CENSUS_END ? "at the end of the run, drifted since the last audit:" :
				      "drifted since the last audit:", an->group, why);
	device_list(g, an->message, sizeof(an->message), &off);
}

void ot_census_track(struct ot_census_track *t, const struct ot_census *c,
		     void (*report)(void *ctx, struct ot_anomaly *an), void *ctx)
{
	static struct ot_anomaly an;

	t->ngauges = 0;
	for (int i = 0; i < c->ngroups; i++) {
		const struct ot_census_group *g = &c->groups[i];
		struct ot_census_judgement j;
		struct tracked *prev;
		bool seen;

		ot_census_judge(g, &j);
		if (ot_census_is_violation(j.verdict))
			t->violations++;
		if (j.verdict == OT_CV_UNSETTLED || j.verdict == OT_CV_TRUNCATED)
			continue;	/* judged again by the next census */
		if (!ot_grow(&t->gauges, &t->capgauges, (size_t)t->ngauges + 1, sizeof(*t->gauges), 16))
			t->gauges[t->ngauges++] = (struct ot_census_gauge){
				.group = g->snap.head.group_id, .cached = j.cached, .recalculated = j.recalculated,
				.violation = ot_census_is_violation(j.verdict),
			};
		seen = tracked_of(t, g->snap.head.group_id, false) != NULL;
		prev = tracked_of(t, g->snap.head.group_id, true);
		if (ot_census_is_violation(j.verdict) && report && c->reason != OT_CENSUS_GROUPS) {
			if (c->reason == OT_CENSUS_START && !seen) {
				census_anomaly(&an, j.verdict == OT_CV_LEAKED ? OT_AN_PREEXISTING_LEAK
									   : OT_AN_PREEXISTING_MISSING, g, &j, c->reason);
				report(ctx, &an);
			} else if (c->reason != OT_CENSUS_START &&
				   (!seen || prev->verdict != j.verdict || prev->excess != j.excess)) {
				census_anomaly(&an, OT_AN_AUDIT_DRIFT, g, &j, c->reason);
				report(ctx, &an);
			}
		}
		if (prev) {
			prev->verdict = j.verdict;
			prev->excess = j.excess;
		}
	}
	t->censuses++;
}

const struct ot_census_gauge *ot_census_track_gauges(const struct ot_census_track *t, int *n)
{
	*n = t->ngauges;
	return t->gauges;
}

uint64_t ot_census_track_censuses(const struct ot_census_track *t)
{
	return t->censuses;
}

uint64_t ot_census_track_violations(const struct ot_census_track *t)
{
	return t->violations;
}

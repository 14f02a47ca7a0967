// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The census as a text table and as JSON Lines. See output/census.h. */
#include <inttypes.h>
#include <string.h>
#include "analysis/census.h"
#include "core/owner_tokens.h"
#include "output/census.h"
#include "util/json.h"

static bool shown(const struct ot_census_style *s, int i)
{
	return !s->shown || s->shown[i];
}

static int ndev(const struct ot_census_group *g)
{
	return g->snap.head.ndevices < OT_CENSUS_MAX_DEVICES ? (int)g->snap.head.ndevices : OT_CENSUS_MAX_DEVICES;
}

/* The default domain's type (what the sysfs type file says), or "-". */
static const char *type_of(const struct ot_census_head *h, char *buf, size_t len)
{
	return h->flags & OT_CF_HAS_DEFAULT ? ot_census_domain_name(h->default_type, buf, len) : "-";
}

/* Which domain the group is attached to now. */
static const char *domain_of(const struct ot_census_head *h, char *buf, size_t len)
{
	if (!(h->flags & OT_CF_HAS_DOMAIN))
		return "-";
	if (h->flags & OT_CF_DOMAIN_DEFAULT)
		return "default";
	if (h->flags & OT_CF_DOMAIN_BLOCKING)
		return "blocking";
	return ot_census_domain_name(h->domain_type, buf, len);
}

static const char *owner_text(const struct ot_census_style *s, uint64_t owner, char *buf, size_t len)
{
	return ot_owner_format(s->tokens, owner, s->raw_pointers, buf, len);
}

void ot_census_write_text(struct ot_buf *f, const struct ot_census *c, const struct ot_census_style *s)
{
	unsigned int totals[OT_CV_COUNT] = { 0 };
	char tbuf[16], dbuf[16], owner[32], why[320];
	int groups = 0, violations = 0;

	ot_buf_printf(f, "%-5s %-9s %-9s %9s %6s %-9s %-11s %-14s %-8s %-16s %s\n", "GROUP", "TYPE", "DOMAIN", "OWNER_CNT",
		"RECALC", "OWNER", "VERDICT", "DEVICE", "BUS", "DRIVER", "COUNTS");
	for (int i = 0; i < c->ngroups; i++) {
		const struct ot_census_group *g = &c->groups[i];
		const struct ot_census_head *h = &g->snap.head;
		struct ot_census_judgement j;

		if (!shown(s, i))
			continue;
		ot_census_judge(g, &j);
		totals[j.verdict]++;
		groups++;
		violations += ot_census_is_violation(j.verdict);
		ot_buf_printf(f, "%5d %-9s %-9s %9u %6u %-9s %-11s", h->group_id, type_of(h, tbuf, sizeof(tbuf)),
			domain_of(h, dbuf, sizeof(dbuf)), h->owner_cnt, j.recalculated,
			owner_text(s, h->owner, owner, sizeof(owner)), ot_census_verdict_name(j.verdict));
		if (!ndev(g))
			ot_buf_puts(f, " (no devices)\n");
		for (int d = 0; d < ndev(g); d++) {
			const struct ot_census_device *dv = &g->snap.dev[d];

			if (d)
				ot_buf_printf(f, "%5s %-9s %-9s %9s %6s %-9s %-11s", "", "", "", "", "", "", "");
			ot_buf_printf(f, " %-14.*s %-8.*s %-16.*s %d%s%s\n", OT_DEV_NAME_LEN, dv->name, OT_BUS_NAME_LEN,
				dv->bus[0] ? dv->bus : "-", OT_DRV_NAME_LEN, dv->driver[0] ? dv->driver : "-",
				dv->state == OT_CDEV_KERNEL_DMA, dv->state == OT_CDEV_MANAGED ? " (driver_managed_dma)" :
				dv->state == OT_CDEV_OTHER_BUS ? " (bus takes no ownership)" : "",
				dv->flags & OT_CDEVF_LOCKED ? " [locked]" : "");
		}
		if (h->flags & OT_CF_TRUNCATED)
			ot_buf_printf(f, "%5s %-9s %-9s %9s %6s %-9s %-11s ... more devices than the census reads\n", "", "",
				"", "", "", "", "");
	}
	/* a sentence for every group that is not plainly consistent */
	for (int i = 0; i < c->ngroups; i++) {
		const struct ot_census_group *g = &c->groups[i];
		struct ot_census_judgement j;

		if (!shown(s, i))
			continue;
		ot_census_judge(g, &j);
		if (j.verdict == OT_CV_CONSISTENT)
			continue;
		ot_census_explain(g, &j, why, sizeof(why));
		ot_buf_printf(f, "group %d: %s: %s\n", g->snap.head.group_id, ot_census_verdict_name(j.verdict), why);
	}
	ot_buf_printf(f, "%d IOMMU %s", groups, groups == 1 ? "group" : "groups");
	for (int v = 0, first = 1; v < OT_CV_COUNT; v++)
		if (totals[v]) {
			ot_buf_printf(f, "%s%u %s", first ? ": " : ", ", totals[v], ot_census_verdict_name(v));
			first = 0;
		}
	ot_buf_printf(f, "%s\n", violations ? " (violations found)" : "");
}

void ot_census_write_json(struct ot_buf *f, const struct ot_census *c, const struct ot_census_style *s)
{
	char tbuf[16], dbuf[16], owner[32], why[320];

	for (int i = 0; i < c->ngroups; i++) {
		const struct ot_census_group *g = &c->groups[i];
		const struct ot_census_head *h = &g->snap.head;
		struct ot_census_judgement j;
		struct ot_json r;

		if (!shown(s, i))
			continue;
		ot_census_judge(g, &j);
		ot_census_explain(g, &j, why, sizeof(why));
		ot_json_begin_record(&r, f, "census");
		ot_json_str(&r, "reason", ot_census_reason_name(c->reason));
		ot_json_uint(&r, "ts_ns", h->ts_ns);
		if (s->has_start)
			ot_json_double(&r, "time", h->ts_ns >= s->start_ns ? (double)(h->ts_ns - s->start_ns) / 1e9
									   : -(double)(s->start_ns - h->ts_ns) / 1e9);
		else
			ot_json_null(&r, "time");
		ot_json_int(&r, "group", h->group_id);
		ot_json_str(&r, "verdict", ot_census_verdict_name(j.verdict));
		ot_json_bool(&r, "violation", ot_census_is_violation(j.verdict));
		ot_json_str(&r, "default_domain", h->flags & OT_CF_HAS_DEFAULT ? type_of(h, tbuf, sizeof(tbuf)) : NULL);
		ot_json_str(&r, "domain", h->flags & OT_CF_HAS_DOMAIN ? domain_of(h, dbuf, sizeof(dbuf)) : NULL);
		ot_json_uint(&r, "owner_cnt", h->owner_cnt);
		ot_json_uint(&r, "recalculated", j.recalculated);
		ot_json_int(&r, "excess", j.excess);
		if (h->owner)
			ot_json_str(&r, "owner", owner_text(s, h->owner, owner, sizeof(owner)));
		else
			ot_json_null(&r, "owner");
		ot_json_uint(&r, "claims", j.claims);
		ot_json_strn(&r, "held_by", g->holder[0] ? g->holder : NULL, sizeof(g->holder));
		ot_json_key(&r, "devices");
		ot_buf_putc(f, '[');
		for (int d = 0; d < ndev(g); d++) {
			const struct ot_census_device *dv = &g->snap.dev[d];
			struct ot_json o;

			if (d)
				ot_buf_putc(f, ',');
			ot_json_begin(&o, f);
			ot_json_strn(&o, "device", dv->name, OT_DEV_NAME_LEN);
			ot_json_strn(&o, "bus", dv->bus[0] ? dv->bus : NULL, OT_BUS_NAME_LEN);
			ot_json_strn(&o, "driver", dv->driver[0] ? dv->driver : NULL, OT_DRV_NAME_LEN);
			if (dv->state == OT_CDEV_KERNEL_DMA || dv->state == OT_CDEV_MANAGED)
				ot_json_bool(&o, "driver_managed_dma", dv->state == OT_CDEV_MANAGED);
			else
				ot_json_null(&o, "driver_managed_dma");
			ot_json_str(&o, "state", ot_census_dev_state_name(dv->state));
			ot_json_bool(&o, "counts", dv->state == OT_CDEV_KERNEL_DMA);
			ot_json_bool(&o, "locked", dv->flags & OT_CDEVF_LOCKED);
			ot_json_close(&o);
		}
		ot_buf_putc(f, ']');
		ot_json_bool(&r, "truncated", h->flags & OT_CF_TRUNCATED);
		ot_json_uint(&r, "snapshots", g->snapshots);
		ot_json_key(&r, "suspects");
		ot_buf_putc(f, '[');
		for (int k = 0; k < j.nsuspects; k++) {
			if (k)
				ot_buf_putc(f, ',');
			ot_json_write_string(f, g->snap.dev[j.suspects[k]].name, OT_DEV_NAME_LEN);
		}
		ot_buf_putc(f, ']');
		ot_json_str(&r, "message", why);
		ot_json_end(&r);
	}
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/diff.h"
#include "util/grow.h"
#include "analysis/hist.h"
#include "core/event.h"

static const char *const category_names[OT_DIFF_CATEGORY_COUNT] = {
	[OT_DIFF_NEW_ANOMALY] = "new-anomaly",
	[OT_DIFF_SEQUENCE_CHANGE] = "sequence-change",
	[OT_DIFF_LATENCY] = "latency",
	[OT_DIFF_COUNT_CHANGE] = "count-change",
	[OT_DIFF_GONE_ANOMALY] = "gone-anomaly",
	[OT_DIFF_INCONCLUSIVE] = "inconclusive",
};

const char *ot_diff_category_name(enum ot_diff_category c)
{
	return (unsigned int)c < OT_DIFF_CATEGORY_COUNT ? category_names[c] : "unknown";
}

int ot_diff_parse_fail_on(const char *list, unsigned int *mask, char *bad, size_t badlen)
{
	unsigned int m = 0;
	const char *p = list;

	while (*p) {
		size_t len = strcspn(p, ",");
		int found = 0;

		if ((len == 3 && !strncmp(p, "all", 3))) {
			m |= OT_DIFF_GATEABLE;
			found = 1;
		} else if (len == 4 && !strncmp(p, "none", 4)) {
			found = 1;
		}
		for (int c = 0; c < OT_DIFF_CATEGORY_COUNT && !found; c++)
			if ((OT_DIFF_GATEABLE & (1u << c)) && strlen(category_names[c]) == len &&
			    !strncmp(p, category_names[c], len)) {
				m |= 1u << c;
				found = 1;
			}
		if (!found) {
			if (bad)
				snprintf(bad, badlen, "%.*s", (int)len, p);
			return -EINVAL;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	*mask = m;
	return 0;
}

void ot_diff_opts_default(struct ot_diff_opts *o)
{
	*o = (struct ot_diff_opts){
		.fail_on = OT_DIFF_FAIL_ON_DEFAULT,
		.max_p50_regress = 0.5,
		.max_p99_regress = 1.0,
		.min_change_ns = 1000000,
		.min_samples = 5,
	};
}

/* ---- building the result ------------------------------------------------ */

struct builder {
	struct ot_diff *d;
	size_t cap_findings, cap_shapes;
	int failed;
};

static struct ot_diff_finding *add_finding(struct builder *b, enum ot_diff_category c, const struct ot_diff_opts *o)
{
	struct ot_diff *d = b->d;

	if (ot_grow(&d->findings, &b->cap_findings, (size_t)d->nfindings + 1, sizeof(*d->findings), 16)) {
		b->failed = -ENOMEM;
		return NULL;
	}
	struct ot_diff_finding *f = &d->findings[d->nfindings++];

	*f = (struct ot_diff_finding){ .category = c, .gated = (o->fail_on >> c) & 1, .latency = -1,
				       .order = d->nfindings - 1 };
	if (f->gated) {
		d->gated[c]++;
		d->fail = true;
	}
	return f;
}

static int add_shape(struct builder *b, const char *shape, uint64_t base, uint64_t cand)
{
	struct ot_diff *d = b->d;

	if (ot_grow(&d->shapes, &b->cap_shapes, (size_t)d->nshapes + 1, sizeof(*d->shapes), 32)) {
		b->failed = -ENOMEM;
		return -ENOMEM;
	}
	d->shapes[d->nshapes++] = (struct ot_diff_shape){ .shape = shape, .base = base, .cand = cand };
	return 0;
}

/* End of the run of entries with the subject of entries[i]. */
static int subject_end(const struct ot_tally_entry *e, int n, int i)
{
	int j = i;

	while (j < n && !strcmp(e[j].subject, e[i].subject))
		j++;
	return j;
}

/*
 * Walk two sorted tallies subject by subject; per subject, merge the
 * entries by what. visit() sees each subject once with both ranges.
 */
typedef void (*subject_visit)(struct builder *b, const struct ot_diff_opts *o, const char *subject,
			      const struct ot_tally_entry *be, int bn, const struct ot_tally_entry *ce, int cn);

static void walk_subjects(struct builder *b, const struct ot_diff_opts *o, const struct ot_tally_entry *be, int bn,
			  const struct ot_tally_entry *ce, int cn, subject_visit visit)
{
	int i = 0, j = 0;

	while ((i < bn || j < cn) && !b->failed) {
		int c = i >= bn ? 1 : j >= cn ? -1 : strcmp(be[i].subject, ce[j].subject);
		int ie = c <= 0 ? subject_end(be, bn, i) : i;
		int je = c >= 0 ? subject_end(ce, cn, j) : j;

		visit(b, o, c <= 0 ? be[i].subject : ce[j].subject, be + i, ie - i, ce + j, je - j);
		i = ie;
		j = je;
	}
}

/* Merge the whats of one subject: calls pair(bentry or NULL, centry or NULL). */
#define FOR_EACH_WHAT(be, bn, ce, cn, bx, cx)                                                           \
	for (int _i = 0, _j = 0, _c; (_i < (bn) || _j < (cn)) &&                                        \
				     ((_c = _i >= (bn) ? 1 : _j >= (cn) ? -1 : strcmp((be)[_i].what, (ce)[_j].what)), \
				      (bx) = _c <= 0 ? &(be)[_i] : NULL, (cx) = _c >= 0 ? &(ce)[_j] : NULL, 1); \
	     _i += _c <= 0, _j += _c >= 0)

static void visit_episodes(struct builder *b, const struct ot_diff_opts *o, const char *subject,
			   const struct ot_tally_entry *be, int bn, const struct ot_tally_entry *ce, int cn)
{
	const struct ot_tally_entry *x, *y;
	bool shape_changed = false, count_changed = false;
	uint64_t base = 0, cand = 0;
	int first = b->d->nshapes;

	b->d->subjects++;
	FOR_EACH_WHAT(be, bn, ce, cn, x, y) {
		uint64_t bc = x ? x->count : 0, cc = y ? y->count : 0;

		shape_changed |= !bc || !cc;
		count_changed |= bc != cc;
		base += bc;
		cand += cc;
		if (add_shape(b, x ? x->what : y->what, bc, cc))
			return;
	}
	if (!shape_changed && !count_changed) {
		b->d->nshapes = first;	/* nothing to show */
		b->d->subjects_same++;
		return;
	}
	struct ot_diff_finding *f = add_finding(b, shape_changed ? OT_DIFF_SEQUENCE_CHANGE : OT_DIFF_COUNT_CHANGE, o);

	if (!f)
		return;
	f->subject = subject;
	f->base = base;
	f->cand = cand;
	f->first_shape = first;
	f->nshapes = b->d->nshapes - first;
}

static void visit_anomalies(struct builder *b, const struct ot_diff_opts *o, const char *subject,
			    const struct ot_tally_entry *be, int bn, const struct ot_tally_entry *ce, int cn)
{
	const struct ot_tally_entry *x, *y;

	FOR_EACH_WHAT(be, bn, ce, cn, x, y) {
		uint64_t bc = x ? x->count : 0, cc = y ? y->count : 0;
		struct ot_diff_finding *f;

		if (bc == cc)
			continue;
		f = add_finding(b, cc > bc ? OT_DIFF_NEW_ANOMALY : OT_DIFF_GONE_ANOMALY, o);
		if (!f)
			return;
		f->subject = subject;
		f->what = x ? x->what : y->what;
		f->example = cc > bc ? y->example : x->example;
		f->base = bc;
		f->cand = cc;
	}
}

/* change > max, and by more than the noise floor */
static bool regressed(uint64_t base, uint64_t cand, double max, uint64_t min_change_ns)
{
	if (max < 0 || cand <= base || cand - base < min_change_ns)
		return false;
	return base == 0 || (double)(cand - base) / (double)base > max;
}

static double growth(const struct ot_diff_latency *l)
{
	double r50 = l->base_p50 ? (double)l->cand_p50 / (double)l->base_p50 : 0;
	double r99 = l->base_p99 ? (double)l->cand_p99 / (double)l->base_p99 : 0;

	return r50 > r99 ? r50 : r99;
}

static void compare_latency(struct builder *b, const struct ot_diff_opts *o, struct ot_hist_table *bt,
			    struct ot_hist_table *ct)
{
	int bn = ot_hist_table_count(bt), cn = ot_hist_table_count(ct), i = 0, j = 0;

	b->d->latency = calloc(bn < cn ? bn + 1 : cn + 1, sizeof(*b->d->latency));
	if (!b->d->latency) {
		b->failed = -ENOMEM;
		return;
	}
	while (i < bn && j < cn) {
		int bk, ck, c;
		const char *bkey, *ckey;
		struct ot_hist *bh = ot_hist_table_get(bt, i, &bk, &bkey), *ch = ot_hist_table_get(ct, j, &ck, &ckey);
		struct ot_hist_stats bs, cs;

		c = bk != ck ? bk - ck : strcmp(bkey, ckey);
		if (c) {
			i += c < 0;
			j += c > 0;
			continue;
		}
		i++, j++;
		if (ot_hist_stats(bh, &bs) || ot_hist_stats(ch, &cs))
			continue;	/* a side with no samples: the shapes tell the story */
		struct ot_diff_latency *l = &b->d->latency[b->d->nlatency];

		*l = (struct ot_diff_latency){
			.kind = ot_hist_kind_names[bk], .name = bkey,
			.base_n = bs.count, .cand_n = cs.count,
			.base_p50 = bs.p50_ns, .cand_p50 = cs.p50_ns, .base_p99 = bs.p99_ns, .cand_p99 = cs.p99_ns,
			.enough = bs.count >= o->min_samples && cs.count >= o->min_samples,
		};
		l->enough_p99 = l->enough && bs.count >= OT_DIFF_P99_SAMPLES && cs.count >= OT_DIFF_P99_SAMPLES;
		if (l->enough)
			l->p50_regressed = regressed(bs.p50_ns, cs.p50_ns, o->max_p50_regress, o->min_change_ns);
		if (l->enough_p99)
			l->p99_regressed = regressed(bs.p99_ns, cs.p99_ns, o->max_p99_regress, o->min_change_ns);
		if (!l->enough || l->p50_regressed || l->p99_regressed) {
			struct ot_diff_finding *f = add_finding(b, l->enough ? OT_DIFF_LATENCY : OT_DIFF_INCONCLUSIVE, o);

			if (!f)
				return;
			f->subject = l->name;
			f->what = l->kind;
			f->base = l->base_n;
			f->cand = l->cand_n;
			f->latency = b->d->nlatency;
			f->growth = growth(l);
		}
		b->d->nlatency++;
	}
}

/* By category (importance), the worst latency first, else in subject order. */
static int finding_cmp(const void *a, const void *b)
{
	const struct ot_diff_finding *x = a, *y = b;

	if (x->category != y->category)
		return (int)x->category - (int)y->category;
	if (x->growth != y->growth)
		return x->growth < y->growth ? 1 : -1;
	return x->order - y->order;
}

int ot_diff_compare(struct ot_profile *base, struct ot_profile *cand, const struct ot_diff_opts *opts,
		    struct ot_diff *out)
{
	struct builder b = { .d = out };
	const struct ot_tally_entry *be, *ce;
	int bn, cn;

	memset(out, 0, sizeof(*out));
	/* with no events on a side, every sequence of the other would look gone */
	out->ownership_compared = ot_profile_event_count(base) && ot_profile_event_count(cand);
	if (out->ownership_compared) {
		be = ot_profile_anomalies(base, &bn);
		ce = ot_profile_anomalies(cand, &cn);
		walk_subjects(&b, opts, be, bn, ce, cn, visit_anomalies);
		be = ot_profile_episodes(base, &bn);
		ce = ot_profile_episodes(cand, &cn);
		walk_subjects(&b, opts, be, bn, ce, cn, visit_episodes);
	}
	if (!b.failed)
		compare_latency(&b, opts, ot_profile_latency(base), ot_profile_latency(cand));
	if (b.failed) {
		ot_diff_free(out);
		return b.failed;
	}
	qsort(out->findings, out->nfindings, sizeof(*out->findings), finding_cmp);
	return 0;
}

void ot_diff_free(struct ot_diff *d)
{
	free(d->findings);
	free(d->shapes);
	free(d->latency);
	memset(d, 0, sizeof(*d));
}

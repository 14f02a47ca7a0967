// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/diff.h"
#include "util/grow.h"
#include "analysis/hist.h"
#include "util/json.h"

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

/* ---- reporting ---------------------------------------------------------- */

static const char *fmt_ns(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000000)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else if (ns < 10000000000ULL)
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", ns / 1e9);
	return buf;
}

static const char *fmt_change(uint64_t base, uint64_t cand, char *buf, size_t len)
{
	if (!base)
		snprintf(buf, len, "%s", cand ? "new" : "=");
	else
		snprintf(buf, len, "%+.0f%%", ((double)cand - (double)base) * 100.0 / (double)base);
	return buf;
}

static const char *const section_titles[OT_DIFF_CATEGORY_COUNT] = {
	[OT_DIFF_NEW_ANOMALY] = "NEW ANOMALIES",
	[OT_DIFF_SEQUENCE_CHANGE] = "OWNERSHIP SEQUENCES THAT CHANGED SHAPE",
	[OT_DIFF_LATENCY] = "LATENCY REGRESSIONS",
	[OT_DIFF_COUNT_CHANGE] = "SAME SEQUENCES, OTHER COUNTS",
	[OT_DIFF_GONE_ANOMALY] = "ANOMALIES GONE (better)",
	[OT_DIFF_INCONCLUSIVE] = "LATENCY NOT COMPARED",
};

static void print_latency_line(FILE *f, const struct ot_diff_latency *l, const struct ot_diff_opts *o)
{
	char b50[24], c50[24], b99[24], c99[24], ch50[16], ch99[16];

	if (!l->enough) {
		fprintf(f, "  %-13s %-18s too few samples to conclude: %" PRIu64 " and %" PRIu64 " calls (--min-samples %u)\n",
			l->kind, l->name, l->base_n, l->cand_n, o->min_samples);
		return;
	}
	fprintf(f, "  %-13s %-18s p50 %s -> %s (%s)%s  %s %s -> %s (%s)%s  n %" PRIu64 "/%" PRIu64 "\n", l->kind,
		l->name, fmt_ns(l->base_p50, b50, sizeof(b50)), fmt_ns(l->cand_p50, c50, sizeof(c50)),
		fmt_change(l->base_p50, l->cand_p50, ch50, sizeof(ch50)), l->p50_regressed ? " !" : "",
		l->enough_p99 ? "p99" : "max", fmt_ns(l->base_p99, b99, sizeof(b99)), fmt_ns(l->cand_p99, c99, sizeof(c99)),
		fmt_change(l->base_p99, l->cand_p99, ch99, sizeof(ch99)), l->p99_regressed ? " !" : "", l->base_n,
		l->cand_n);
}

static void print_finding(FILE *f, const struct ot_diff *d, const struct ot_diff_finding *x,
			  const struct ot_diff_opts *o)
{
	switch (x->category) {
	case OT_DIFF_NEW_ANOMALY:
	case OT_DIFF_GONE_ANOMALY:
		fprintf(f, "  %-24s %s: %" PRIu64 " (baseline %" PRIu64 ")\n", x->what, x->subject, x->cand, x->base);
		if (x->example)
			fprintf(f, "      %s\n", x->example);
		break;
	case OT_DIFF_SEQUENCE_CHANGE:
	case OT_DIFF_COUNT_CHANGE:
	{
		int width = (int)strlen(x->subject) - 4;	/* the shapes column, at least as wide as the subject */

		for (int i = x->first_shape; i < x->first_shape + x->nshapes; i++)
			if ((int)strlen(d->shapes[i].shape) > width)
				width = (int)strlen(d->shapes[i].shape);
		fprintf(f, "  %-*s baseline candidate\n", width + 4, x->subject);
		for (int i = x->first_shape; i < x->first_shape + x->nshapes; i++) {
			const struct ot_diff_shape *s = &d->shapes[i];
			char mark = !s->base ? '+' : !s->cand ? '-' : s->base != s->cand ? '~' : ' ';

			fprintf(f, "    %c %-*s %8" PRIu64 " %9" PRIu64 "\n", mark, width, s->shape, s->base, s->cand);
		}
		break;
	}
	case OT_DIFF_LATENCY:
	case OT_DIFF_INCONCLUSIVE:
		print_latency_line(f, &d->latency[x->latency], o);
		break;
	default:
		break;
	}
}

static void print_gate(FILE *f, const struct ot_diff_opts *o)
{
	char floor[24];
	const char *sep = "";

	fprintf(f, "  gate:      fail on ");
	for (int c = 0; c < OT_DIFF_CATEGORY_COUNT; c++)
		if ((o->fail_on >> c) & 1) {
			fprintf(f, "%s%s", sep, category_names[c]);
			sep = ",";
		}
	if (!*sep)
		fprintf(f, "nothing (report only)");
	fprintf(f, "; latency: ");
	if (o->max_p50_regress >= 0)
		fprintf(f, "p50 +%.0f%%, ", o->max_p50_regress * 100);
	if (o->max_p99_regress >= 0)
		fprintf(f, "p99 +%.0f%%, ", o->max_p99_regress * 100);
	fprintf(f, "growth >= %s, >= %u samples (p99: %d)\n", fmt_ns(o->min_change_ns, floor, sizeof(floor)),
		o->min_samples, o->min_samples > OT_DIFF_P99_SAMPLES ? (int)o->min_samples : OT_DIFF_P99_SAMPLES);
}

void ot_diff_print(FILE *f, const struct ot_diff *d, const struct ot_diff_opts *o, const struct ot_diff_side *base,
		   const struct ot_diff_side *cand, int max_rows)
{
	const char *sep = "";
	int i = 0;

	fprintf(f, "ownertrace diff: %s", d->fail ? "FAIL" : "PASS");
	for (int c = 0; c < OT_DIFF_CATEGORY_COUNT; c++)
		if (d->gated[c]) {
			fprintf(f, "%s %d %s", *sep ? "," : " -", d->gated[c], category_names[c]);
			sep = ",";
		}
	fprintf(f, "\n  baseline:  %s (kernel %s, %" PRIu64 " events)\n", base->label,
		base->kernel && *base->kernel ? base->kernel : "unknown", base->events);
	fprintf(f, "  candidate: %s (kernel %s, %" PRIu64 " events)\n", cand->label,
		cand->kernel && *cand->kernel ? cand->kernel : "unknown", cand->events);
	print_gate(f, o);
	if (!d->ownership_compared)
		fprintf(f, "  ownership sequences and anomalies not compared: %s has no events "
			   "(a --hist-only recording); latency only\n",
			base->events ? "the candidate" : "the baseline");
	while (i < d->nfindings) {
		enum ot_diff_category c = d->findings[i].category;
		int shown = 0, start = i;

		fprintf(f, "\n%s%s\n", section_titles[c],
			(OT_DIFF_GATEABLE >> c & 1) && !(o->fail_on >> c & 1) ? " (not gated)" : "");
		for (; i < d->nfindings && d->findings[i].category == c; i++)
			if (shown < max_rows || max_rows <= 0) {
				print_finding(f, d, &d->findings[i], o);
				shown++;
			}
		if (i - start > shown)
			fprintf(f, "  ... and %d more (--json lists all)\n", i - start - shown);
	}
	fprintf(f, "\n%d devices and groups compared, %d unchanged; %d latency series compared, %d regressed.\n",
		d->subjects, d->subjects_same, d->nlatency, d->gated[OT_DIFF_LATENCY]);
}

static void json_counts_shape(FILE *f, const struct ot_diff_shape *s)
{
	fputs("{\"shape\":", f);
	ot_json_write_string(f, s->shape, strlen(s->shape));
	fprintf(f, ",\"baseline\":%" PRIu64 ",\"candidate\":%" PRIu64 "}", s->base, s->cand);
}

static void json_latency(FILE *f, const struct ot_diff_latency *l)
{
	fputs("{\"kind\":", f);
	ot_json_write_string(f, l->kind, strlen(l->kind));
	fputs(",\"name\":", f);
	ot_json_write_string(f, l->name, strlen(l->name));
	fprintf(f, ",\"baseline\":{\"count\":%" PRIu64 ",\"p50_s\":%.9f,\"p99_s\":%.9f}", l->base_n, l->base_p50 / 1e9,
		l->base_p99 / 1e9);
	fprintf(f, ",\"candidate\":{\"count\":%" PRIu64 ",\"p50_s\":%.9f,\"p99_s\":%.9f}", l->cand_n, l->cand_p50 / 1e9,
		l->cand_p99 / 1e9);
	fprintf(f, ",\"enough_samples\":%s,\"enough_samples_p99\":%s,\"p50_regressed\":%s,\"p99_regressed\":%s}",
		l->enough ? "true" : "false", l->enough_p99 ? "true" : "false", l->p50_regressed ? "true" : "false",
		l->p99_regressed ? "true" : "false");
}

static void json_side(FILE *f, const char *key, const struct ot_diff_side *s)
{
	fprintf(f, ",\"%s\":{\"source\":", key);
	ot_json_write_string(f, s->label, strlen(s->label));
	fputs(",\"kernel\":", f);
	ot_json_write_string(f, s->kernel ? s->kernel : "", s->kernel ? strlen(s->kernel) : 0);
	fprintf(f, ",\"events\":%" PRIu64 "}", s->events);
}

void ot_diff_print_json(FILE *f, const struct ot_diff *d, const struct ot_diff_opts *o,
			const struct ot_diff_side *base, const struct ot_diff_side *cand)
{
	const char *sep = "";

	fprintf(f, "{\"type\":\"diff\",\"schema\":%d,\"verdict\":\"%s\",\"failed_by\":{", OT_JSONL_SCHEMA_VERSION,
		d->fail ? "fail" : "pass");
	for (int c = 0; c < OT_DIFF_CATEGORY_COUNT; c++)
		if (d->gated[c]) {
			fprintf(f, "%s\"%s\":%d", sep, category_names[c], d->gated[c]);
			sep = ",";
		}
	fputs("}", f);
	json_side(f, "baseline", base);
	json_side(f, "candidate", cand);
	fputs(",\"gate\":{\"fail_on\":[", f);
	sep = "";
	for (int c = 0; c < OT_DIFF_CATEGORY_COUNT; c++)
		if ((o->fail_on >> c) & 1) {
			fprintf(f, "%s\"%s\"", sep, category_names[c]);
			sep = ",";
		}
	fputs("]", f);
	if (o->max_p50_regress >= 0)
		fprintf(f, ",\"max_p50_regress\":%.4f", o->max_p50_regress);
	if (o->max_p99_regress >= 0)
		fprintf(f, ",\"max_p99_regress\":%.4f", o->max_p99_regress);
	fprintf(f, ",\"min_change_s\":%.9f,\"min_samples\":%u}", o->min_change_ns / 1e9, o->min_samples);
	fputs(",\"findings\":[", f);
	for (int i = 0; i < d->nfindings; i++) {
		const struct ot_diff_finding *x = &d->findings[i];

		fprintf(f, "%s{\"category\":\"%s\",\"gated\":%s,\"subject\":", i ? "," : "", category_names[x->category],
			x->gated ? "true" : "false");
		ot_json_write_string(f, x->subject, strlen(x->subject));
		if (x->what) {
			fputs(",\"what\":", f);
			ot_json_write_string(f, x->what, strlen(x->what));
		}
		if (x->example) {
			fputs(",\"example\":", f);
			ot_json_write_string(f, x->example, strlen(x->example));
		}
		fprintf(f, ",\"baseline\":%" PRIu64 ",\"candidate\":%" PRIu64, x->base, x->cand);
		if (x->nshapes) {
			fputs(",\"shapes\":[", f);
			for (int s = 0; s < x->nshapes; s++) {
				if (s)
					fputc(',', f);
				json_counts_shape(f, &d->shapes[x->first_shape + s]);
			}
			fputc(']', f);
		}
		if (x->latency >= 0) {
			fputs(",\"latency\":", f);
			json_latency(f, &d->latency[x->latency]);
		}
		fputc('}', f);
	}
	fputs("],\"latency\":[", f);
	for (int i = 0; i < d->nlatency; i++) {
		if (i)
			fputc(',', f);
		json_latency(f, &d->latency[i]);
	}
	fprintf(f, "],\"ownership_compared\":%s,\"subjects\":%d,\"subjects_unchanged\":%d}\n",
		d->ownership_compared ? "true" : "false", d->subjects, d->subjects_same);
}

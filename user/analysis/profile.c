// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/grow.h"
#include "util/hashmap.h"
#include "analysis/hist.h"
#include "core/event.h"
#include "core/points.h"
#include "analysis/profile.h"

/* ---- tally: (subject, what) -> count, in order of first appearance ------- */

struct tally {
	struct ot_tally_entry *entries;
	int count;
	size_t cap;
	struct ot_hashmap index;	/* (subject, what) -> entry number */
};

/* A (subject, what) pair to look up, and the entries the map's numbers refer to. */
struct pair_probe {
	const struct tally *t;
	const char *subject, *what;
};

static uint64_t hash_pair(const char *subject, const char *what)
{
	/* the subject's NUL separates the two: ("ab", "c") is not ("a", "bc") */
	return ot_hash_mix(ot_hash_more(ot_hash_more(OT_HASH_SEED, subject, strlen(subject) + 1), what, strlen(what)));
}

static bool match_pair(const struct ot_hashmap_slot *slot, const void *probe)
{
	const struct pair_probe *p = probe;
	const struct ot_tally_entry *e = &p->t->entries[slot->value];

	return !strcmp(e->subject, p->subject) && !strcmp(e->what, p->what);
}

/* Add n to (subject, what); a new entry keeps example (copied) if given. */
static struct ot_tally_entry *tally_add(struct tally *t, const char *subject, const char *what, uint64_t n,
					const char *example)
{
	struct pair_probe probe = { t, subject, what };
	struct ot_hashmap_slot *slot;
	struct ot_tally_entry *e;
	bool added;

	slot = ot_hashmap_add(&t->index, hash_pair(subject, what), match_pair, &probe, &added);
	if (!slot)
		return NULL;
	if (!added) {
		e = &t->entries[slot->value];
		e->count += n;
		return e;
	}
	if (ot_grow(&t->entries, &t->cap, (size_t)t->count + 1, sizeof(*t->entries), 32))
		goto undo;
	e = &t->entries[t->count];
	*e = (struct ot_tally_entry){ .subject = strdup(subject), .what = strdup(what), .count = n,
				      .example = example ? strdup(example) : NULL };
	if (!e->subject || !e->what || (example && !e->example)) {
		free(e->subject), free(e->what), free(e->example);
		goto undo;
	}
	slot->value = (uint64_t)t->count++;
	return e;
undo:
	ot_hashmap_remove(&t->index, slot);
	return NULL;
}

static void tally_free(struct tally *t)
{
	for (int i = 0; i < t->count; i++)
		free(t->entries[i].subject), free(t->entries[i].what), free(t->entries[i].example);
	free(t->entries);
	ot_hashmap_free(&t->index);
	memset(t, 0, sizeof(*t));
}

static int entry_cmp(const void *a, const void *b)
{
	const struct ot_tally_entry *x = a, *y = b;
	int c = strcmp(x->subject, y->subject);

	return c ? c : strcmp(x->what, y->what);
}

/* ---- episodes in progress, per task ------------------------------------- */

#define MAX_NESTING 4		/* as deep as the BPF side follows nested spans */
#define SHAPE_LEN 480

struct open_span {
	char subject[OT_DEV_NAME_LEN + OT_DRV_NAME_LEN + 16];
	char shape[SHAPE_LEN];	/* "probe{" and the calls so far */
	size_t len;
	bool first_call;
};

struct task_spans {
	uint32_t tid;
	int depth;
	struct open_span span[MAX_NESTING];
};

struct ot_profile {
	struct tally episodes, anomalies;
	struct tally members;	/* ("group#N", device name): who is in each group */
	struct ot_hist_table *latency;
	struct task_spans *tasks;
	int ntasks;
	size_t tasks_cap;
	uint64_t events, unfinished, lost_episodes;
	int failed;		/* -ENOMEM seen while feeding */
	bool finished;
};

struct ot_profile *ot_profile_new(void)
{
	struct ot_profile *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->latency = ot_hist_table_new(ot_hist_kind_names, OT_HIST_KIND_COUNT);
	if (!p->latency) {
		free(p);
		return NULL;
	}
	return p;
}

void ot_profile_free(struct ot_profile *p)
{
	if (!p)
		return;
	tally_free(&p->episodes);
	tally_free(&p->anomalies);
	tally_free(&p->members);
	ot_hist_table_free(p->latency);
	free(p->tasks);
	free(p);
}

static struct task_spans *task_of(struct ot_profile *p, uint32_t tid, bool create)
{
	for (int i = 0; i < p->ntasks; i++)
		if (p->tasks[i].tid == tid)
			return &p->tasks[i];
	if (!create)
		return NULL;
	/* reuse the slot of a task with nothing open */
	for (int i = 0; i < p->ntasks; i++)
		if (!p->tasks[i].depth) {
			p->tasks[i].tid = tid;
			return &p->tasks[i];
		}
	if (ot_grow(&p->tasks, &p->tasks_cap, (size_t)p->ntasks + 1, sizeof(*p->tasks), 16))
		return NULL;
	p->tasks[p->ntasks] = (struct task_spans){ .tid = tid };
	return &p->tasks[p->ntasks++];
}

/* "0000:00:03.0 (e1000)"; group-level calls: "group#N", named at finish. */
static void subject_of(const struct ot_event *ev, char *buf, size_t len)
{
	if (ev->device[0])
		snprintf(buf, len, "%.*s (%.*s)", (int)sizeof(ev->device), ev->device,
			 ev->driver[0] ? (int)sizeof(ev->driver) : 9, ev->driver[0] ? ev->driver : "no driver");
	else if (ev->group_id >= 0)
		snprintf(buf, len, "group#%d", ev->group_id);
	else
		snprintf(buf, len, "(no device, no group)");
}

/* "use_default_domain=0", "group_claim=-16 (EBUSY)", "unuse_default_domain" */
static void call_text(const struct ot_event *ev, char *buf, size_t len)
{
	char ret[48];

	ot_format_ret(ev, ret, sizeof(ret));
	snprintf(buf, len, "%s%s%s", ot_point_desc(ev->point)->kind, ret[0] ? "=" : "", ret);
}

static void span_append(struct open_span *s, const char *text)
{
	int n;

	if (s->len >= SHAPE_LEN - 1)
		return;
	n = snprintf(s->shape + s->len, SHAPE_LEN - s->len, "%s%s", s->first_call ? "" : ", ", text);
	s->first_call = false;
	s->len += n;
	if (s->len >= SHAPE_LEN - 1) {
		/* so long a shape is a sequence change anyway; keep it comparable */
		memcpy(s->shape + SHAPE_LEN - 5, "...", 4);
		s->len = SHAPE_LEN - 1;
	}
}

static void tally_or_fail(struct ot_profile *p, struct tally *t, const char *subject, const char *what,
			  const char *example)
{
	if (!tally_add(t, subject, what, 1, example))
		p->failed = -ENOMEM;
}

static void on_event(void *ctx, const struct ot_event *ev)
{
	struct ot_profile *p = ctx;
	const struct ot_point_desc *desc;
	struct task_spans *task;
	char subject[sizeof(((struct open_span *)0)->subject)], text[160];
	int kind;

	if (p->finished || ev->point >= OT_POINT_COUNT)
		return;
	p->events++;
	desc = ot_point_desc(ev->point);
	if (ev->device[0] && ev->group_id >= 0) {
		char group[24], device[OT_DEV_NAME_LEN + 1];

		snprintf(group, sizeof(group), "group#%d", ev->group_id);
		snprintf(device, sizeof(device), "%.*s", (int)sizeof(ev->device), ev->device);
		tally_or_fail(p, &p->members, group, device, NULL);
	}
	kind = ot_hist_kind_of(ev);
	if (kind >= 0 && ev->ts_ns >= ev->entry_ns) {
		char key[OT_DRV_NAME_LEN + 1];

		/* claims come from user space: name them after the claiming program */
		if (ev->driver[0])
			snprintf(key, sizeof(key), "%.*s", (int)sizeof(ev->driver), ev->driver);
		else
			snprintf(key, sizeof(key), "%.*s", (int)sizeof(ev->comm), ev->comm);
		if (ot_hist_table_add(p->latency, kind, key, ev->ts_ns - ev->entry_ns) == -ENOMEM)
			p->failed = -ENOMEM;
	}

	if ((desc->flags & OT_PF_SPAN) && ev->phase == OT_PHASE_ENTER) {
		task = task_of(p, ev->tid, true);
		if (!task) {
			p->failed = -ENOMEM;
			return;
		}
		if (task->depth == MAX_NESTING) {
			p->lost_episodes++;
			return;
		}
		struct open_span *s = &task->span[task->depth++];

		subject_of(ev, s->subject, sizeof(s->subject));
		s->len = (size_t)snprintf(s->shape, sizeof(s->shape), "%s{", desc->kind);
		s->first_call = true;
		return;
	}
	task = task_of(p, ev->tid, false);
	if (desc->flags & OT_PF_SPAN) {	/* the exit of a probe or remove: the episode is complete */
		if (!task || !task->depth)
			return;	/* its entry came before the trace started */
		struct open_span *s = &task->span[--task->depth];

		/* "probe{...}=0": the span's own return value after the braces */
		call_text(ev, text, sizeof(text));
		const char *ret = strchr(text, '=');

		if (s->len < SHAPE_LEN - 1)
			snprintf(s->shape + s->len, SHAPE_LEN - s->len, "}%s", ret ? ret : "");
		tally_or_fail(p, &p->episodes, s->subject, s->shape, NULL);
		return;
	}
	call_text(ev, text, sizeof(text));
	if (task && task->depth) {
		span_append(&task->span[task->depth - 1], text);
		return;
	}
	subject_of(ev, subject, sizeof(subject));
	tally_or_fail(p, &p->episodes, subject, text, NULL);
}

static void on_anomaly(void *ctx, const struct ot_anomaly *an)
{
	struct ot_profile *p = ctx;
	char subject[sizeof(((struct open_span *)0)->subject)];
	struct ot_event who = { .group_id = an->group };

	if (p->finished)
		return;
	memcpy(who.device, an->device, sizeof(who.device));
	memcpy(who.driver, an->driver, sizeof(who.driver));
	subject_of(&who, subject, sizeof(subject));
	tally_or_fail(p, &p->anomalies, subject, ot_anomaly_kind_name(an->kind), an->message);
}

/* Durations of a histogram-only recording, which has no events. */
static void on_sample(void *ctx, const struct ot_sample *s)
{
	struct ot_profile *p = ctx;
	char name[OT_DEV_NAME_LEN + 1];

	if (p->finished || s->kind >= OT_HIST_KIND_COUNT)
		return;
	snprintf(name, sizeof(name), "%.*s", (int)sizeof(s->name), s->name);
	if (ot_hist_table_add(p->latency, s->kind, name, s->duration_ns) == -ENOMEM)
		p->failed = -ENOMEM;
}

struct ot_sink ot_profile_sink(struct ot_profile *p)
{
	return (struct ot_sink){ .ctx = p, .event = on_event, .anomaly = on_anomaly, .sample = on_sample };
}

/* "group of 0000:01:00.0+0000:01:01.0": group numbers differ between boots, members do not. */
static int group_name(const struct tally *members, const char *group, char *buf, size_t len)
{
	const char *names[64];
	int n = 0;
	size_t used;

	for (int i = 0; i < members->count && n < 64; i++)
		if (!strcmp(members->entries[i].subject, group))
			names[n++] = members->entries[i].what;
	if (!n) {
		snprintf(buf, len, "group with no device seen");
		return 0;
	}
	for (int i = 1; i < n; i++)	/* insertion sort: a group has few devices */
		for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			const char *t = names[j];

			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	used = (size_t)snprintf(buf, len, "group of %s", names[0]);
	for (int i = 1; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "+%s", names[i]);
	return 0;
}

/* Rename group#N subjects after their devices, merging what then coincides. */
static int resolve_groups(const struct tally *members, struct tally *t)
{
	struct tally named = { 0 };
	char subject[512];

	for (int i = 0; i < t->count; i++) {
		const struct ot_tally_entry *e = &t->entries[i];
		const char *s = e->subject;

		if (!strncmp(s, "group#", 6)) {
			group_name(members, s, subject, sizeof(subject));
			s = subject;
		}
		if (!tally_add(&named, s, e->what, e->count, e->example)) {
			tally_free(&named);
			return -ENOMEM;
		}
	}
	tally_free(t);
	*t = named;
	qsort(t->entries, t->count, sizeof(*t->entries), entry_cmp);
	/* the index is stale after sorting and no longer needed */
	ot_hashmap_free(&t->index);
	return 0;
}

int ot_profile_finish(struct ot_profile *p)
{
	if (p->finished)
		return p->failed;
	p->finished = true;
	for (int i = 0; i < p->ntasks; i++)
		p->unfinished += p->tasks[i].depth;
	if (!p->failed)
		p->failed = resolve_groups(&p->members, &p->episodes);
	if (!p->failed)
		p->failed = resolve_groups(&p->members, &p->anomalies);
	return p->failed;
}

const struct ot_tally_entry *ot_profile_episodes(const struct ot_profile *p, int *count)
{
	*count = p->episodes.count;
	return p->episodes.entries;
}

const struct ot_tally_entry *ot_profile_anomalies(const struct ot_profile *p, int *count)
{
	*count = p->anomalies.count;
	return p->anomalies.entries;
}

struct ot_hist_table *ot_profile_latency(struct ot_profile *p)
{
	return p->latency;
}

uint64_t ot_profile_event_count(const struct ot_profile *p)
{
	return p->events;
}

uint64_t ot_profile_unfinished(const struct ot_profile *p)
{
	return p->unfinished + p->lost_episodes;
}

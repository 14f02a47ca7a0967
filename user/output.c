// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "errnames.h"
#include "json.h"
#include "ksyms.h"
#include "output.h"
#include "owner_tokens.h"

static bool has_return_value(const struct ot_event *ev)
{
	unsigned int p = ev->point;

	if (ev->phase != OT_PHASE_EXIT)
		return false;
	return p == OT_POINT_REALLY_PROBE || p == OT_POINT_USE_DEFAULT_DOMAIN ||
	       p == OT_POINT_GROUP_CLAIM || p == OT_POINT_DEVICE_CLAIM || ot_point_is_configure(p);
}

/*
 * really_probe() hands a driver's probe error back *positive*
 * (drivers/base/dd.c: ret = -ret), everything else is a negative errno.
 */
static const char *errno_of(const struct ot_event *ev)
{
	if (!has_return_value(ev) || ev->ret == 0)
		return NULL;
	return ot_errno_name(ev->ret < 0 ? -ev->ret : ev->ret);
}

const char *ot_format_ret(const struct ot_event *ev, char *buf, size_t len)
{
	const char *name = errno_of(ev);

	if (!has_return_value(ev))
		snprintf(buf, len, "%s", "");
	else if (name)
		snprintf(buf, len, "%" PRId64 " (%s)", (int64_t)ev->ret, name);
	else
		snprintf(buf, len, "%" PRId64, (int64_t)ev->ret);
	return buf;
}

static double rel_seconds(const struct ot_output *o, uint64_t ts)
{
	return ts >= o->start_ns ? (double)(ts - o->start_ns) / 1e9 : -(double)(o->start_ns - ts) / 1e9;
}

static void format_duration(uint64_t ns, char *buf, size_t len)
{
	if (ns < 10000)
		snprintf(buf, len, "%" PRIu64 "ns", ns);
	else if (ns < 10000000)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else
		snprintf(buf, len, "%.1fms", ns / 1e6);
}

static void print_header(struct ot_output *o)
{
	fprintf(o->out, "%-12s %3s %7s %-15s %-20s %-14s %-8s %-14s %5s %-9s %-19s %-14s %s\n",
		"TIME(s)", "CPU", "TID", "COMM", "EVENT", "DEVICE", "BUS", "DRIVER", "GROUP",
		"OWNER_CNT", "OWNER", "RET", "DURATION");
	o->header_done = true;
}

static void print_human(struct ot_output *o, const struct ot_event *ev, const uint64_t *ips, int nips)
{
	char cnt[24], owner[72], before[32], after[32], ret[48], dur[24] = "", group[16];

	if (!o->header_done)
		print_header(o);

	if (ev->phase == OT_PHASE_EXIT && ev->owner_cnt_before != ev->owner_cnt_after)
		snprintf(cnt, sizeof(cnt), "%u->%u", ev->owner_cnt_before, ev->owner_cnt_after);
	else
		snprintf(cnt, sizeof(cnt), "%u", ev->owner_cnt_before);

	ot_owner_format(o->tokens, ev->owner_before, o->raw_pointers, before, sizeof(before));
	if (ev->phase == OT_PHASE_EXIT && ev->owner_before != ev->owner_after) {
		/* "-" alone means "no owner"; in a transition spell it out */
		ot_owner_format(o->tokens, ev->owner_after, o->raw_pointers, after, sizeof(after));
		snprintf(owner, sizeof(owner), "%s->%s", ev->owner_before ? before : "none",
			 ev->owner_after ? after : "none");
	} else {
		snprintf(owner, sizeof(owner), "%s", before);
	}

	if (ev->group_id >= 0)
		snprintf(group, sizeof(group), "%d", ev->group_id);
	else
		snprintf(group, sizeof(group), "-");
	if (ev->phase == OT_PHASE_EXIT && !(ev->flags & OT_EVF_NO_ENTRY))
		format_duration(ev->ts_ns - ev->entry_ns, dur, sizeof(dur));

	fprintf(o->out, "%12.6f %3u %7u %-15.*s %-20s %-14.*s %-8.*s %-14.*s %5s %-9s %-19s %-14s %s\n",
		rel_seconds(o, ev->ts_ns), ev->cpu, ev->tid,
		OT_COMM_LEN, ev->comm, ot_event_name(ev->point, ev->phase),
		OT_DEV_NAME_LEN, ev->device[0] ? ev->device : "-",
		OT_BUS_NAME_LEN, ev->bus[0] ? ev->bus : "-",
		OT_DRV_NAME_LEN, ev->driver[0] ? ev->driver : "-",
		group, cnt, owner, ot_format_ret(ev, ret, sizeof(ret)), dur);

	for (int i = 0; i < nips; i++) {
		char sym[256];

		if (ot_ksyms_is_text(o->ksyms, ips[i]))
			fprintf(o->out, "%17s%s\n", "", ot_ksyms_format(o->ksyms, ips[i], sym, sizeof(sym)));
	}
}

static void json_owner(struct ot_output *o, struct ot_json *j, const char *key, uint64_t owner)
{
	char buf[32];

	if (!owner)
		ot_json_null(j, key);
	else
		ot_json_str(j, key, ot_owner_format(o->tokens, owner, o->raw_pointers, buf, sizeof(buf)));
}

static void print_json(struct ot_output *o, const struct ot_event *ev, const uint64_t *ips, int nips)
{
	struct ot_json j;
	const char *func = o->bindings ? ot_point_function(o->bindings, ev->point) : "";

	ot_json_begin(&j, o->out);
	ot_json_str(&j, "type", "event");
	ot_json_uint(&j, "ts_ns", ev->ts_ns);
	ot_json_double(&j, "time", rel_seconds(o, ev->ts_ns));
	ot_json_str(&j, "event", ot_event_name(ev->point, ev->phase));
	ot_json_str(&j, "phase", ev->phase == OT_PHASE_EXIT ? "exit" : "enter");
	ot_json_str(&j, "function", func && func[0] ? func : NULL);
	ot_json_uint(&j, "cpu", ev->cpu);
	ot_json_uint(&j, "pid", ev->pid);
	ot_json_uint(&j, "tid", ev->tid);
	ot_json_strn(&j, "comm", ev->comm, OT_COMM_LEN);
	ot_json_strn(&j, "device", ev->device[0] ? ev->device : NULL, OT_DEV_NAME_LEN);
	ot_json_strn(&j, "bus", ev->bus[0] ? ev->bus : NULL, OT_BUS_NAME_LEN);
	ot_json_strn(&j, "driver", ev->driver[0] ? ev->driver : NULL, OT_DRV_NAME_LEN);
	if (ev->group_id >= 0)
		ot_json_int(&j, "group", ev->group_id);
	else
		ot_json_null(&j, "group");
	ot_json_uint(&j, "owner_cnt_before", ev->owner_cnt_before);
	ot_json_uint(&j, "owner_cnt_after", ev->owner_cnt_after);
	json_owner(o, &j, "owner_before", ev->owner_before);
	json_owner(o, &j, "owner_after", ev->owner_after);
	if (has_return_value(ev)) {
		ot_json_int(&j, "ret", ev->ret);
		ot_json_str(&j, "errno", errno_of(ev));
	} else {
		ot_json_null(&j, "ret");
		ot_json_null(&j, "errno");
	}
	if (ev->phase == OT_PHASE_EXIT && !(ev->flags & OT_EVF_NO_ENTRY))
		ot_json_uint(&j, "duration_ns", ev->ts_ns - ev->entry_ns);
	else
		ot_json_null(&j, "duration_ns");
	if (ev->stack_id >= 0)
		ot_json_int(&j, "stack_id", ev->stack_id);
	else
		ot_json_null(&j, "stack_id");
	if (o->stacks) {
		fputs(",\"stack\":[", o->out);
		bool first = true;

		for (int i = 0; i < nips; i++) {
			char sym[256];

			if (!ot_ksyms_is_text(o->ksyms, ips[i]))
				continue;	/* BPF programs and trampolines */
			if (!first)
				fputc(',', o->out);
			first = false;
			ot_json_write_string(o->out, ot_ksyms_format(o->ksyms, ips[i], sym, sizeof(sym)),
					     sizeof(sym));
		}
		fputc(']', o->out);
	}
	ot_json_end(&j);
}

void ot_output_event(struct ot_output *o, const struct ot_event *ev, const uint64_t *ips, int nips)
{
	if (!o->stacks)
		nips = 0;
	if (o->json)
		print_json(o, ev, ips, nips);
	else
		print_human(o, ev, ips, nips);
}

void ot_stats_count(struct ot_stats *s, const struct ot_event *ev)
{
	if (ev->point < OT_POINT_COUNT)
		s->events[ev->point][ev->phase == OT_PHASE_EXIT]++;
}

/* Bus slots fold into one "dma_configure"/"dma_cleanup" line each. */
struct named_count {
	const char *name;
	uint64_t count;
};

static int collect_counts(const struct ot_stats *s, struct named_count *out, int max)
{
	int n = 0;

	for (unsigned int p = 0; p < OT_POINT_COUNT; p++) {
		for (int phase = 0; phase < 2; phase++) {
			const char *name = ot_event_name(p, phase ? OT_PHASE_EXIT : OT_PHASE_ENTER);
			int i;

			if (!ot_point_desc(p)->span && !phase)
				continue;
			for (i = 0; i < n; i++)
				if (!strcmp(out[i].name, name))
					break;
			if (i == n) {
				if (n == max)
					continue;
				out[n].name = name;
				out[n++].count = 0;
			}
			out[i].count += s->events[p][phase];
		}
	}
	return n;
}

void ot_output_summary(struct ot_output *o, FILE *human, const struct ot_stats *s)
{
	struct named_count counts[OT_POINT_COUNT * 2];
	int n = collect_counts(s, counts, OT_POINT_COUNT * 2);
	uint64_t total = 0;

	for (int i = 0; i < n; i++)
		total += counts[i].count;

	if (o->json) {
		struct ot_json j;

		ot_json_begin(&j, o->out);
		ot_json_str(&j, "type", "summary");
		ot_json_str(&j, "mode", s->mode);
		ot_json_double(&j, "duration_s", s->duration_s);
		ot_json_uint(&j, "events_total", total);
		ot_json_uint(&j, "events_shown", s->shown);
		fputs(",\"events\":{", o->out);
		for (int i = 0; i < n; i++) {
			fprintf(o->out, "%s", i ? "," : "");
			ot_json_write_string(o->out, counts[i].name, SIZE_MAX);
			fprintf(o->out, ":%" PRIu64, counts[i].count);
		}
		fputc('}', o->out);
		ot_json_uint(&j, "ringbuf_drops", s->bpf[OT_CNT_RINGBUF_DROPS]);
		ot_json_uint(&j, "inflight_full", s->bpf[OT_CNT_STASH_FULL]);
		ot_json_uint(&j, "exit_without_entry", s->bpf[OT_CNT_EXIT_WITHOUT_ENTRY]);
		ot_json_uint(&j, "stack_failures", s->bpf[OT_CNT_STACK_FAILED]);
		if (s->kretprobe_misses >= 0)
			ot_json_int(&j, "kretprobe_misses", s->kretprobe_misses);
		else
			ot_json_null(&j, "kretprobe_misses");
		ot_json_end(&j);
	}
	if (!human)
		return;
	fprintf(human, "\nownertrace summary: %.1f s, mode %s, %" PRIu64 " events (%" PRIu64 " shown)\n",
		s->duration_s, s->mode ? s->mode : "-", total, s->shown);
	for (int i = 0; i < n; i++)
		if (counts[i].count)
			fprintf(human, "  %-22s %10" PRIu64 "\n", counts[i].name, counts[i].count);
	fprintf(human, "  lost: %" PRIu64 " ring-buffer drops, %" PRIu64 " calls not tracked (in-flight table full), ",
		s->bpf[OT_CNT_RINGBUF_DROPS], s->bpf[OT_CNT_STASH_FULL]);
	if (s->kretprobe_misses >= 0)
		fprintf(human, "%" PRId64 " kretprobe misses\n", s->kretprobe_misses);
	else
		fprintf(human, "kretprobe misses %s\n",
			s->mode && !strcmp(s->mode, "kprobe") ? "not measurable (no tracefs)" : "n/a");
	if (s->bpf[OT_CNT_EXIT_WITHOUT_ENTRY])
		fprintf(human, "  %" PRIu64 " returns without a traced entry (calls already running at start)\n",
			s->bpf[OT_CNT_EXIT_WITHOUT_ENTRY]);
	if (s->bpf[OT_CNT_STACK_FAILED])
		fprintf(human, "  %" PRIu64 " kernel stacks could not be captured\n", s->bpf[OT_CNT_STACK_FAILED]);
}

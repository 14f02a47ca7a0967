// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "util/errnames.h"
#include "util/json.h"
#include "output/output.h"
#include "core/owner_tokens.h"
#include "core/stacks.h"

static bool has_return_value(const struct ot_event *ev)
{
	return ev->phase == OT_PHASE_EXIT && (ot_point_flags(ev->point) & OT_PF_RETURNS);
}

/*
 * really_probe() hands a driver's probe error back *positive*
 * (drivers/base/dd.c: ret = -ret), everything else is a negative errno.
 */
static const char *errno_of(const struct ot_event *ev)
{
	if (!has_return_value(ev) || ev->ret == 0)
		return NULL;
	return ot_errno_name(ot_errno_of(ev->ret));
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

static void print_frames(FILE *f, const char *const *frames, int n, int indent)
{
	for (int i = 0; i < n; i++)
		fprintf(f, "%*s%s\n", indent, "", frames[i]);
}

static void print_human(struct ot_output *o, const struct ot_event *ev, const char *const *frames, int nframes,
			const char *note)
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
	if (ev->phase == OT_PHASE_EXIT)
		format_duration(ev->ts_ns - ev->entry_ns, dur, sizeof(dur));

	fprintf(o->out, "%12.6f %3u %7u %-15.*s %-20s %-14.*s %-8.*s %-14.*s %5s %-9s %-19s %-14s %s\n",
		rel_seconds(o, ev->ts_ns), ev->cpu, ev->tid,
		OT_COMM_LEN, ev->comm, ot_event_name(ev->point, ev->phase),
		OT_DEV_NAME_LEN, ev->device[0] ? ev->device : "-",
		OT_BUS_NAME_LEN, ev->bus[0] ? ev->bus : "-",
		OT_DRV_NAME_LEN, ev->driver[0] ? ev->driver : "-",
		group, cnt, owner, ot_format_ret(ev, ret, sizeof(ret)), dur);

	if (note)
		fprintf(o->out, "%17snote: %s\n", "", note);
	print_frames(o->out, frames, nframes, 17);
}

static void json_owner(struct ot_output *o, struct ot_json *j, const char *key, uint64_t owner)
{
	char buf[32];

	if (!owner)
		ot_json_null(j, key);
	else
		ot_json_str(j, key, ot_owner_format(o->tokens, owner, o->raw_pointers, buf, sizeof(buf)));
}

static void print_json(struct ot_output *o, const struct ot_event *ev, const char *const *frames, int nframes,
		       const char *note)
{
	struct ot_json j;
	const char *func = o->bindings ? ot_point_function(o->bindings, ev->point) : "";

	ot_json_begin_record(&j, o->out, "event");
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
	if (ev->phase == OT_PHASE_EXIT)
		ot_json_uint(&j, "duration_ns", ev->ts_ns - ev->entry_ns);
	else
		ot_json_null(&j, "duration_ns");
	if (ev->stack_id >= 0)
		ot_json_int(&j, "stack_id", ev->stack_id);
	else
		ot_json_null(&j, "stack_id");
	ot_json_bool(&j, "concurrent", ev->flags & OT_EVF_CONCURRENT);
	ot_json_str(&j, "note", note);
	if (o->stacks)
		ot_json_str_array(&j, "stack", frames, nframes, OT_FRAME_LEN);
	ot_json_end(&j);
}

void ot_output_event(struct ot_output *o, const struct ot_event *ev, const char *const *frames, int nframes,
		     const char *note)
{
	if (!o->stacks)
		nframes = 0;
	if (o->json)
		print_json(o, ev, frames, nframes, note);
	else
		print_human(o, ev, frames, nframes, note);
}

void ot_output_anomaly(struct ot_output *o, const struct ot_anomaly *an, const char *const *frames, int nframes,
		       const char *const *pair_frames, int npair)
{
	char owner[32];

	ot_owner_format(o->tokens, an->owner, o->raw_pointers, owner, sizeof(owner));
	if (o->json) {
		struct ot_json j;

		ot_json_begin_record(&j, o->out, "anomaly");
		ot_json_str(&j, "kind", ot_anomaly_kind_name(an->kind));
		ot_json_uint(&j, "ts_ns", an->ts_ns);
		ot_json_double(&j, "time", rel_seconds(o, an->ts_ns));
		if (an->group >= 0)
			ot_json_int(&j, "group", an->group);
		else
			ot_json_null(&j, "group");
		ot_json_strn(&j, "device", an->device[0] ? an->device : NULL, OT_DEV_NAME_LEN);
		ot_json_strn(&j, "driver", an->driver[0] ? an->driver : NULL, OT_DRV_NAME_LEN);
		ot_json_strn(&j, "other_device", an->other_device[0] ? an->other_device : NULL, OT_DEV_NAME_LEN);
		ot_json_strn(&j, "other_driver", an->other_driver[0] ? an->other_driver : NULL, OT_DRV_NAME_LEN);
		ot_json_str(&j, "owner", an->owner ? owner : NULL);
		ot_json_strn(&j, "comm", an->comm, OT_COMM_LEN);
		ot_json_uint(&j, "pid", an->pid);
		ot_json_uint(&j, "tid", an->tid);
		ot_json_uint(&j, "cpu", an->cpu);
		ot_json_str(&j, "message", an->message);
		fputs(",\"timeline\":[", o->out);
		for (int i = 0; i < an->ntimeline; i++) {
			fprintf(o->out, "%s{\"time\":%.9f,\"tid\":%u,\"text\":", i ? "," : "",
				rel_seconds(o, an->timeline[i].ts_ns), an->timeline[i].tid);
			ot_json_write_string(o->out, an->timeline[i].text, sizeof(an->timeline[i].text));
			fputc('}', o->out);
		}
		fputc(']', o->out);
		if (an->stack_id >= 0)
			ot_json_int(&j, "stack_id", an->stack_id);
		else
			ot_json_null(&j, "stack_id");
		ot_json_str_array(&j, "stack", frames, nframes, OT_FRAME_LEN);
		if (an->pair_stack_id >= 0)
			ot_json_int(&j, "pair_stack_id", an->pair_stack_id);
		else
			ot_json_null(&j, "pair_stack_id");
		ot_json_str_array(&j, "pair_stack", pair_frames, npair, OT_FRAME_LEN);
		ot_json_end(&j);
		return;
	}
	fprintf(o->out, "!! ANOMALY %s: group %d, %s%.*s%s%.*s, %s, task %.*s (tid %u, cpu %u) at %.6f s\n",
		ot_anomaly_kind_name(an->kind), an->group, an->device[0] ? "device " : "no device",
		OT_DEV_NAME_LEN, an->device, an->driver[0] ? " driver " : "", OT_DRV_NAME_LEN, an->driver,
		an->owner ? owner : "no owner", OT_COMM_LEN, an->comm, an->tid, an->cpu, rel_seconds(o, an->ts_ns));
	fprintf(o->out, "   %s\n", an->message);
	if (an->ntimeline) {
		fprintf(o->out, "   timeline:\n");
		for (int i = 0; i < an->ntimeline; i++)
			fprintf(o->out, "     %12.6f  tid %-7u %s\n", rel_seconds(o, an->timeline[i].ts_ns),
				an->timeline[i].tid, an->timeline[i].text);
	}
	if (nframes) {
		fprintf(o->out, "   stack of this call:\n");
		print_frames(o->out, frames, nframes, 5);
	}
	if (npair) {
		fprintf(o->out, "   stack of the call it pairs with%s%.*s:\n", an->other_device[0] ? " on " : "",
			OT_DEV_NAME_LEN, an->other_device);
		print_frames(o->out, pair_frames, npair, 5);
	}
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

			if (!(ot_point_flags(p) & OT_PF_SPAN) && !phase)
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

uint64_t ot_stats_anomalies(const struct ot_stats *s)
{
	uint64_t total = 0;

	for (int k = 0; k < OT_AN_KIND_COUNT; k++)
		total += s->anomalies[k];
	return total;
}

#define OT_SUMMARY_MAX_ITEMS 256

void ot_output_summary(struct ot_output *o, FILE *human, const struct ot_stats *s, const struct ot_analysis *a,
		       struct ot_stacks *stacks, uint64_t end_ns)
{
	static struct ot_outstanding_claim claims[OT_SUMMARY_MAX_ITEMS];
	static struct ot_outstanding_use uses[OT_SUMMARY_MAX_ITEMS];
	int nclaims = a ? ot_analysis_outstanding_claims(a, claims, OT_SUMMARY_MAX_ITEMS) : 0;
	int nuses = a ? ot_analysis_outstanding_uses(a, uses, OT_SUMMARY_MAX_ITEMS) : 0;
	uint64_t nanom = ot_stats_anomalies(s);
	char owner[32];

	struct named_count counts[OT_POINT_COUNT * 2];
	int n = collect_counts(s, counts, OT_POINT_COUNT * 2);
	uint64_t total = 0;

	for (int i = 0; i < n; i++)
		total += counts[i].count;

	if (o->json) {
		struct ot_json j;

		ot_json_begin_record(&j, o->out, "summary");
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
		ot_json_uint(&j, "anomalies_total", nanom);
		fputs(",\"anomalies\":{", o->out);
		for (int k = 0; k < OT_AN_KIND_COUNT; k++)
			fprintf(o->out, "%s\"%s\":%" PRIu64, k ? "," : "", ot_anomaly_kind_name(k), s->anomalies[k]);
		fputs("},\"outstanding_claims\":[", o->out);
		for (int i = 0; i < nclaims; i++) {
			struct ot_json c;
			int nf = 0;
			const char *const *frames = stacks ? ot_stacks_get(stacks, claims[i].stack_id, &nf) : NULL;

			if (i)
				fputc(',', o->out);
			ot_json_begin(&c, o->out);
			ot_json_int(&c, "group", claims[i].group);
			ot_json_str(&c, "owner", ot_owner_format(o->tokens, claims[i].owner, o->raw_pointers, owner,
								 sizeof(owner)));
			ot_json_uint(&c, "depth", claims[i].depth);
			ot_json_bool(&c, "before_trace", claims[i].baseline);
			if (claims[i].baseline)
				ot_json_null(&c, "age_s");
			else
				ot_json_double(&c, "age_s", (double)(end_ns - claims[i].since_ns) / 1e9);
			ot_json_strn(&c, "comm", claims[i].comm[0] ? claims[i].comm : NULL, OT_COMM_LEN);
			ot_json_strn(&c, "in_probe_of", claims[i].device[0] ? claims[i].device : NULL, OT_DEV_NAME_LEN);
			ot_json_strn(&c, "driver", claims[i].driver[0] ? claims[i].driver : NULL, OT_DRV_NAME_LEN);
			ot_json_str_array(&c, "stack", frames, nf, OT_FRAME_LEN);
			ot_json_close(&c);
		}
		fputs("],\"outstanding_uses\":[", o->out);
		for (int i = 0; i < nuses; i++) {
			fprintf(o->out, "%s{\"group\":%d,\"device\":", i ? "," : "", uses[i].group);
			ot_json_write_string(o->out, uses[i].device, OT_DEV_NAME_LEN);
			fputs(",\"driver\":", o->out);
			ot_json_write_string(o->out, uses[i].driver, OT_DRV_NAME_LEN);
			fputc('}', o->out);
		}
		fputc(']', o->out);
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
	if (s->bpf[OT_CNT_RINGBUF_DROPS] || s->bpf[OT_CNT_STASH_FULL])
		fprintf(human, "  WARNING: events were lost; the ownership analysis may be incomplete\n");
	fprintf(human, "  anomalies: %" PRIu64, nanom);
	for (int k = 0, first = 1; k < OT_AN_KIND_COUNT; k++)
		if (s->anomalies[k]) {
			fprintf(human, "%s%s %" PRIu64, first ? " (" : ", ", ot_anomaly_kind_name(k), s->anomalies[k]);
			first = 0;
		}
	fprintf(human, "%s\n", nanom ? ")" : "");
	fprintf(human, "  outstanding claims: %d\n", nclaims);
	for (int i = 0; i < nclaims; i++) {
		int nf = 0;
		const char *const *frames = stacks ? ot_stacks_get(stacks, claims[i].stack_id, &nf) : NULL;

		ot_owner_format(o->tokens, claims[i].owner, o->raw_pointers, owner, sizeof(owner));
		if (claims[i].baseline)
			fprintf(human, "    group %d by %s (depth %u): held since before the trace started\n",
				claims[i].group, owner, claims[i].depth);
		else
			fprintf(human, "    group %d by %s (depth %u): held for %.3f s, claimed by %s%s%s%s%s\n",
				claims[i].group, owner, claims[i].depth, (double)(end_ns - claims[i].since_ns) / 1e9,
				claims[i].comm, claims[i].device[0] ? " in the probe of " : "", claims[i].device,
				claims[i].driver[0] ? " by " : "", claims[i].driver);
		print_frames(human, frames, nf < 6 ? nf : 6, 6);
	}
	fprintf(human, "  outstanding default-domain uses seen taken: %d", nuses);
	for (int i = 0; i < nuses && i < 8; i++)
		fprintf(human, "%s%s (%s, group %d)", i ? ", " : ": ", uses[i].device, uses[i].driver, uses[i].group);
	fprintf(human, "%s\n", nuses > 8 ? ", ..." : "");
}


FILE *ot_output_open(const char *path)
{
	FILE *f;

	if (!path)
		return stdout;
	f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "ownertrace: cannot write %s: %s\n", path, strerror(errno));
	return f;
}

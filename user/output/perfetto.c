// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/atomic_file.h"
#include "util/grow.h"
#include "util/json.h"
#include "analysis/shadow.h"
#include "core/event.h"
#include "core/owner_tokens.h"
#include "output/perfetto.h"
#include "core/run.h"
#include "core/sink.h"
#include "core/points.h"
#include "core/stacks.h"

/* Viewers reserve pid/tid 0, and a tid must be unique across processes
 * (Perfetto takes a tid seen under another pid for a reused thread). */
#define PF_GROUP_PID(group) ((uint32_t)(group) + 1)
#define PF_UNGROUPED_PID_BASE (1u << 20)
#define PF_TID_BASE (1u << 24)
/* culprit stacks in anomaly args: the frames that name the caller */
#define PF_ANOMALY_FRAMES 12

/* One timeline track: a device of a group, or a group's group-wide track (device ""). */
struct pf_track {
	int group;			/* -1: none */
	char device[OT_DEV_NAME_LEN];
	uint32_t pid, tid;
	uint32_t sort_index;		/* within its process: group-wide track first */
};

/* A probe/remove whose ENTER was seen and whose EXIT was not (yet). */
struct pf_open_call {
	struct ot_event enter;
};

/* A successful claim not released yet. */
struct pf_claim {
	struct ot_event claim;		/* the claim's exit record */
};

struct ot_perfetto {
	const struct ot_run *run;	/* start, tokens, bindings and stacks of the run */
	char *path;
	struct ot_atomic_file file;	/* the trace grows here until the end */
	FILE *f;			/* file.f */
	struct ot_buf buf;		/* what is written goes through here to f */
	uint64_t nwritten;		/* trace events so far: a comma before every later one */
	int error;			/* errno of the first failure to remember state */

	struct pf_track *tracks;
	int ntracks;
	size_t cap_tracks;
	uint32_t ungrouped_processes;

	struct pf_open_call *calls;
	int ncalls;
	size_t cap_calls;

	struct pf_claim *claims;
	int nclaims;
	size_t cap_claims;
};

static uint64_t rel_ns(const struct ot_perfetto *pf, uint64_t ts)
{
	uint64_t start = pf->run->start_ns;

	/* a call running before the trace began starts at its start */
	return ts > start ? ts - start : 0;
}

/* Length of [from, to] as written: the same clamping as the ts of each end. */
static uint64_t span_ns(const struct ot_perfetto *pf, uint64_t from, uint64_t to)
{
	return to > from ? rel_ns(pf, to) - rel_ns(pf, from) : 0;
}

/* One element of the traceEvents array, on a line of its own. */
static void begin_element(struct ot_perfetto *pf, struct ot_json *j)
{
	ot_buf_puts(&pf->buf, pf->nwritten++ ? ",\n" : "\n");
	ot_json_begin(j, &pf->buf);
}

/* Opens one trace event ({"name":..,"ph":..,"ts":..,"pid":..,"tid":..); the caller adds and closes. */
static void begin_trace_event(struct ot_perfetto *pf, struct ot_json *j, const char *name, const char *cat,
			      const char *ph, uint64_t ts_ns, const struct pf_track *t)
{
	begin_element(pf, j);
	ot_json_str(j, "name", name);
	if (cat)
		ot_json_str(j, "cat", cat);
	ot_json_str(j, "ph", ph);
	ot_json_ns_as_us(j, "ts", rel_ns(pf, ts_ns));
	ot_json_uint(j, "pid", t->pid);
	ot_json_uint(j, "tid", t->tid);
}

static struct pf_track *track_of(struct ot_perfetto *pf, int group, const char *device)
{
	struct pf_track *t;
	uint32_t in_process = 0;

	if (group < 0)
		group = -1;
	for (int i = 0; i < pf->ntracks; i++) {
		t = &pf->tracks[i];
		if (t->group == group && !strncmp(t->device, device, OT_DEV_NAME_LEN))
			return t;
		if (group >= 0 && t->group == group)
			in_process++;
	}
	if (ot_grow(&pf->tracks, &pf->cap_tracks, (size_t)pf->ntracks + 1, sizeof(*pf->tracks), 16)) {
		pf->error = ENOMEM;
		return NULL;
	}
	t = &pf->tracks[pf->ntracks];
	memset(t, 0, sizeof(*t));
	t->group = group;
	snprintf(t->device, sizeof(t->device), "%.*s", OT_DEV_NAME_LEN - 1, device);
	t->tid = PF_TID_BASE + (uint32_t)pf->ntracks;
	t->pid = group >= 0 ? PF_GROUP_PID(group) : PF_UNGROUPED_PID_BASE + pf->ungrouped_processes++;
	/* the group-wide track sorts first; devices in order of appearance */
	t->sort_index = device[0] ? in_process + 1 : 0;
	pf->ntracks++;
	return t;
}

static void owner_arg(struct ot_perfetto *pf, struct ot_json *j, const char *key, uint64_t owner)
{
	char buf[32];

	if (owner)
		ot_json_str(j, key, ot_owner_format(pf->run->tokens, owner, pf->run->raw_pointers, buf,
						    sizeof(buf)));
	else
		ot_json_null(j, key);
}

/* What one call did, as the args of its span. */
static void call_args(struct ot_perfetto *pf, struct ot_json *j, const struct ot_event *ev)
{
	const struct ot_bindings *b = pf->run->bindings;
	const char *func = b ? ot_point_function(b, ev->point) : "";
	char ret[48], note[200];

	ot_json_str(j, "function", func && func[0] ? func : ot_point_desc(ev->point)->kind);
	ot_json_strn(j, "device", ev->device[0] ? ev->device : NULL, OT_DEV_NAME_LEN);
	ot_json_strn(j, "bus", ev->bus[0] ? ev->bus : NULL, OT_BUS_NAME_LEN);
	ot_json_strn(j, "driver", ev->driver[0] ? ev->driver : NULL, OT_DRV_NAME_LEN);
	ot_json_strn(j, "comm", ev->comm, OT_COMM_LEN);
	ot_json_uint(j, "task_pid", ev->pid);
	ot_json_uint(j, "task_tid", ev->tid);
	ot_json_uint(j, "cpu", ev->cpu);
	if (ev->phase != OT_PHASE_EXIT)
		return;
	ot_json_uint(j, "owner_cnt_before", ev->owner_cnt_before);
	ot_json_uint(j, "owner_cnt_after", ev->owner_cnt_after);
	owner_arg(pf, j, "owner_before", ev->owner_before);
	owner_arg(pf, j, "owner_after", ev->owner_after);
	ot_format_ret(ev, ret, sizeof(ret));
	if (ret[0])
		ot_json_str(j, "ret", ret);
	ot_json_uint(j, "duration_ns", ev->ts_ns - ev->entry_ns);
	if (ev->flags & OT_EVF_CONCURRENT)
		ot_json_bool(j, "concurrent", true);
	if (ot_explain_refusal(ev, note, sizeof(note)))
		ot_json_str(j, "note", note);
}

/* A finished call: from its entry to its exit, on its device's track. */
static void write_call(struct ot_perfetto *pf, const struct ot_event *ev)
{
	struct pf_track *t = track_of(pf, ev->group_id, ev->device);
	struct ot_json j, args;

	if (!t)
		return;
	begin_trace_event(pf, &j, ot_point_desc(ev->point)->kind, "call", "X", ev->entry_ns, t);
	ot_json_ns_as_us(&j, "dur", span_ns(pf, ev->entry_ns, ev->ts_ns));
	ot_json_begin_object(&j, "args", &args);
	call_args(pf, &args, ev);
	if (ev->entry_ns < pf->run->start_ns)
		ot_json_bool(&args, "began_before_trace", true);
	ot_json_close(&args);
	ot_json_close(&j);
}

/* A probe/remove still running when the trace ended: up to the end, marked. */
static void write_unfinished_call(struct ot_perfetto *pf, const struct ot_event *enter, uint64_t end_ns)
{
	struct pf_track *t = track_of(pf, enter->group_id, enter->device);
	struct ot_json j, args;

	if (!t)
		return;
	begin_trace_event(pf, &j, ot_point_desc(enter->point)->kind, "call", "X", enter->ts_ns, t);
	ot_json_ns_as_us(&j, "dur", span_ns(pf, enter->ts_ns, end_ns));
	ot_json_begin_object(&j, "args", &args);
	call_args(pf, &args, enter);
	ot_json_bool(&args, "unfinished", true);
	ot_json_close(&args);
	ot_json_close(&j);
}

/*
 * The interval a claim was held, on its group's group-wide track: from the
 * claim's return to the release's return (release NULL: still held at
 * end_ns). claim NULL: released, but claimed before the trace started.
 */
static void write_claim_held(struct ot_perfetto *pf, int group, const struct ot_event *claim,
			     const struct ot_event *release, uint64_t end_ns)
{
	struct pf_track *t = track_of(pf, group, "");
	uint64_t since = claim ? claim->ts_ns : pf->run->start_ns;
	uint64_t until = release ? release->ts_ns : end_ns;
	struct ot_json j, args;

	if (!t)
		return;
	begin_trace_event(pf, &j, "claim held", "ownership", "X", since, t);
	ot_json_ns_as_us(&j, "dur", span_ns(pf, since, until));
	ot_json_begin_object(&j, "args", &args);
	ot_json_int(&args, "group", group);
	owner_arg(pf, &args, "owner", claim ? claim->owner_after : release->owner_before);
	if (claim) {
		ot_json_str(&args, "claimed_by", ot_point_desc(claim->point)->kind);
		ot_json_strn(&args, "claim_comm", claim->comm, OT_COMM_LEN);
		ot_json_uint(&args, "claim_task_tid", claim->tid);
		ot_json_strn(&args, "claim_device", claim->device[0] ? claim->device : NULL, OT_DEV_NAME_LEN);
		ot_json_uint(&args, "depth", claim->owner_cnt_after);
	} else {
		ot_json_bool(&args, "claimed_before_trace", true);
	}
	if (release) {
		ot_json_str(&args, "released_by", ot_point_desc(release->point)->kind);
		ot_json_strn(&args, "release_comm", release->comm, OT_COMM_LEN);
		ot_json_uint(&args, "release_task_tid", release->tid);
	} else {
		ot_json_bool(&args, "held_at_end", true);
	}
	ot_json_close(&args);
	ot_json_close(&j);
}

static bool same_call(const struct ot_event *enter, const struct ot_event *exit)
{
	return enter->tid == exit->tid && enter->point == exit->point &&
	       !strncmp(enter->device, exit->device, OT_DEV_NAME_LEN);
}

static void forget_open_call(struct ot_perfetto *pf, const struct ot_event *exit)
{
	for (int i = pf->ncalls - 1; i >= 0; i--) {
		if (same_call(&pf->calls[i].enter, exit)) {
			pf->calls[i] = pf->calls[--pf->ncalls];
			return;
		}
	}
}

/* Claims and releases of a group pair up last-in first-out, so nested claims nest on the track. */
static void track_ownership(struct ot_perfetto *pf, const struct ot_event *ev)
{
	if (ev->group_id < 0)
		return;
	if ((ot_point_flags(ev->point) & OT_PF_CLAIM) && ev->ret == 0) {
		if (ot_grow(&pf->claims, &pf->cap_claims, (size_t)pf->nclaims + 1, sizeof(*pf->claims), 16)) {
			pf->error = ENOMEM;
			return;
		}
		pf->claims[pf->nclaims++].claim = *ev;
		return;
	}
	if (!(ot_point_flags(ev->point) & OT_PF_RELEASE))
		return;
	for (int i = pf->nclaims - 1; i >= 0; i--) {
		if (pf->claims[i].claim.group_id == ev->group_id) {
			write_claim_held(pf, ev->group_id, &pf->claims[i].claim, ev, 0);
			memmove(&pf->claims[i], &pf->claims[i + 1], (size_t)(pf->nclaims - i - 1) * sizeof(*pf->claims));
			pf->nclaims--;
			return;
		}
	}
	/* nothing claimed in the trace: held from before it, unless this is
	 * an underflow (nothing held at all; the anomaly says so) */
	if (ev->owner_cnt_before > 0)
		write_claim_held(pf, ev->group_id, NULL, ev, 0);
}

static void on_event(void *ctx, const struct ot_event *ev)
{
	struct ot_perfetto *pf = ctx;

	if (ev->point >= OT_POINT_COUNT)
		return;
	if (ev->phase == OT_PHASE_ENTER) {
		if (ot_grow(&pf->calls, &pf->cap_calls, (size_t)pf->ncalls + 1, sizeof(*pf->calls), 16)) {
			pf->error = ENOMEM;
			return;
		}
		pf->calls[pf->ncalls++].enter = *ev;
		return;
	}
	if (ot_point_flags(ev->point) & OT_PF_SPAN)
		forget_open_call(pf, ev);
	write_call(pf, ev);
	track_ownership(pf, ev);
}

static void stack_arg(struct ot_perfetto *pf, struct ot_json *j, int32_t stack_id)
{
	int n = 0;
	const char *const *frames = pf->run->stacks ? ot_stacks_get(pf->run->stacks, stack_id, &n) : NULL;

	if (frames)
		ot_json_str_array(j, "stack", frames, n < PF_ANOMALY_FRAMES ? n : PF_ANOMALY_FRAMES, OT_FRAME_LEN);
}

/* An anomaly: an instant on the culprit's device track, else across its group. */
static void on_anomaly(void *ctx, const struct ot_anomaly *an)
{
	struct ot_perfetto *pf = ctx;
	struct pf_track *t = track_of(pf, an->group, an->device);
	struct ot_json j, args, culprit, other;
	char owner[32];

	if (!t)
		return;
	begin_trace_event(pf, &j, ot_anomaly_kind_name(an->kind), "anomaly", "i", an->ts_ns, t);
	ot_json_str(&j, "s", an->device[0] ? "t" : "p");
	ot_json_begin_object(&j, "args", &args);
	ot_json_str(&args, "kind", ot_anomaly_kind_name(an->kind));
	ot_json_str(&args, "message", an->message);
	if (an->group >= 0)
		ot_json_int(&args, "group", an->group);
	else
		ot_json_null(&args, "group");
	ot_json_str(&args, "owner", an->owner ? ot_owner_format(pf->run->tokens, an->owner,
								  pf->run->raw_pointers, owner, sizeof(owner)) : NULL);
	ot_json_begin_object(&args, "culprit", &culprit);
	ot_json_strn(&culprit, "device", an->device[0] ? an->device : NULL, OT_DEV_NAME_LEN);
	ot_json_strn(&culprit, "driver", an->driver[0] ? an->driver : NULL, OT_DRV_NAME_LEN);
	ot_json_strn(&culprit, "comm", an->comm, OT_COMM_LEN);
	ot_json_uint(&culprit, "task_pid", an->pid);
	ot_json_uint(&culprit, "task_tid", an->tid);
	ot_json_uint(&culprit, "cpu", an->cpu);
	stack_arg(pf, &culprit, an->stack_id);
	ot_json_close(&culprit);
	if (an->other_device[0] || an->pair_stack_id >= 0) {
		ot_json_begin_object(&args, "paired_call", &other);
		ot_json_strn(&other, "device", an->other_device[0] ? an->other_device : NULL, OT_DEV_NAME_LEN);
		ot_json_strn(&other, "driver", an->other_driver[0] ? an->other_driver : NULL, OT_DRV_NAME_LEN);
		stack_arg(pf, &other, an->pair_stack_id);
		ot_json_close(&other);
	}
	if (an->ntimeline) {
		const char *lines[OT_TIMELINE_MAX];
		char text[OT_TIMELINE_MAX][sizeof(an->timeline[0].text) + 48];

		for (int i = 0; i < an->ntimeline; i++) {
			uint64_t at = rel_ns(pf, an->timeline[i].ts_ns);

			snprintf(text[i], sizeof(text[i]), "%" PRIu64 ".%03u us, tid %u: %.*s", at / 1000,
				 (unsigned int)(at % 1000), an->timeline[i].tid, (int)sizeof(an->timeline[i].text),
				 an->timeline[i].text);
			lines[i] = text[i];
		}
		ot_json_str_array(&args, "timeline", lines, an->ntimeline, sizeof(text[0]));
	}
	ot_json_close(&args);
	ot_json_close(&j);
}

static void write_metadata(struct ot_perfetto *pf, const char *name, const struct pf_track *t, const char *key,
			   const char *text, uint32_t number)
{
	struct ot_json j, args;

	begin_element(pf, &j);
	ot_json_str(&j, "name", name);
	ot_json_str(&j, "ph", "M");
	ot_json_uint(&j, "pid", t->pid);
	ot_json_uint(&j, "tid", t->tid);
	ot_json_begin_object(&j, "args", &args);
	if (text)
		ot_json_str(&args, key, text);
	else
		ot_json_uint(&args, key, number);
	ot_json_close(&args);
	ot_json_close(&j);
}

/* Names and order of every process and thread used, written once at the end. */
static void write_all_metadata(struct ot_perfetto *pf)
{
	char name[OT_DEV_NAME_LEN + 40];

	for (int i = 0; i < pf->ntracks; i++) {
		const struct pf_track *t = &pf->tracks[i];
		bool first_of_process = true;

		for (int k = 0; k < i; k++)
			first_of_process &= pf->tracks[k].pid != t->pid;
		if (first_of_process) {
			if (t->group >= 0)
				snprintf(name, sizeof(name), "IOMMU group %d", t->group);
			else
				snprintf(name, sizeof(name), "%.*s (no IOMMU group)", OT_DEV_NAME_LEN,
					 t->device[0] ? t->device : "no device");
			write_metadata(pf, "process_name", t, "name", name, 0);
			write_metadata(pf, "process_sort_index", t, "sort_index", NULL,
				       t->group >= 0 ? (uint32_t)t->group : t->pid);
		}
		if (t->device[0])
			snprintf(name, sizeof(name), "%.*s", OT_DEV_NAME_LEN, t->device);
		else
			snprintf(name, sizeof(name), "group-wide: claims held, group calls");
		write_metadata(pf, "thread_name", t, "name", name, 0);
		write_metadata(pf, "thread_sort_index", t, "sort_index", NULL, t->sort_index);
	}
}

static int fail(struct ot_perfetto *pf, const char *what, int err)
{
	fprintf(stderr, "ownertrace: cannot write the Perfetto trace %s: %s: %s\n", pf->path, what, strerror(err));
	return 1;
}

static int finish(void *ctx, const struct ot_run *run, uint64_t end_ns)
{
	struct ot_perfetto *pf = ctx;
	struct ot_json other;
	const char *step;
	int err;

	(void)run;
	for (int i = 0; i < pf->ncalls; i++)
		write_unfinished_call(pf, &pf->calls[i].enter, end_ns);
	pf->ncalls = 0;
	for (int i = 0; i < pf->nclaims; i++)
		write_claim_held(pf, pf->claims[i].claim.group_id, &pf->claims[i].claim, NULL, end_ns);
	pf->nclaims = 0;
	if (pf->error)
		return fail(pf, "out of memory for its tracks", pf->error);
	write_all_metadata(pf);
	ot_buf_puts(&pf->buf, "\n],\n\"displayTimeUnit\":\"ms\",\n");
	ot_buf_puts(&pf->buf, "\"otherData\":");
	ot_json_begin(&other, &pf->buf);
	ot_json_str(&other, "generator", "ownertrace");
	ot_json_str(&other, "clock", "CLOCK_MONOTONIC; ts is microseconds since trace_start_ns");
	ot_json_uint(&other, "trace_start_ns", pf->run->start_ns);
	ot_json_uint(&other, "trace_end_ns", end_ns);
	ot_json_close(&other);
	ot_buf_puts(&pf->buf, "\n}\n");
	if (ot_buf_fini(&pf->buf))
		return fail(pf, "writing it failed (disk full, or out of memory)", EIO);
	pf->f = NULL;
	err = ot_atomic_file_commit(&pf->file, pf->path, &step);
	if (err)
		return fail(pf, !strcmp(step, "rename") ? "cannot rename the temporary file into place" :
				"writing it failed (disk full?)", -err);
	return 0;
}

struct ot_perfetto *ot_perfetto_new(const struct ot_run *run, const char *path)
{
	struct ot_perfetto *pf = calloc(1, sizeof(*pf));
	int err;

	if (!pf || !(pf->path = strdup(path))) {
		fprintf(stderr, "ownertrace: out of memory\n");
		ot_perfetto_free(pf);
		return NULL;
	}
	pf->run = run;
	err = ot_atomic_file_open(&pf->file, path);
	if (err) {
		fprintf(stderr, "ownertrace: cannot write the Perfetto trace %s: %s (does its directory exist, "
				"and may this user write there?)\n", path, strerror(-err));
		ot_perfetto_free(pf);
		return NULL;
	}
	pf->f = pf->file.f;
	ot_buf_init(&pf->buf, pf->f);
	ot_buf_puts(&pf->buf, "{\"traceEvents\":[");
	return pf;
}

struct ot_sink ot_perfetto_sink(struct ot_perfetto *pf)
{
	return (struct ot_sink){ .ctx = pf, .event = on_event, .anomaly = on_anomaly, .finish = finish };
}

void ot_perfetto_free(struct ot_perfetto *pf)
{
	if (!pf)
		return;
	ot_buf_fini(&pf->buf);
	ot_atomic_file_abort(&pf->file);	/* nothing left to abort once committed */
	free(pf->path);
	free(pf->tracks);
	free(pf->calls);
	free(pf->claims);
	free(pf);
}

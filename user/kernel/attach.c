// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>
#include "util/clock.h"
#include "util/errnames.h"
#include "kernel/attach.h"
#include "kernel/discovery.h"
#include "kernel/ksyms.h"
#include "ownertrace.skel.h"

/* BPF program base name of each point, from OT_ROW_POINTS: the macro the BPF
 * side names its programs with, so the two cannot disagree. */
#define PROG_BASE_(base, point) [point] = #base,
#define PROG_BASE_ROW_(shape, NAME, prog, ...) OT_ROW_POINTS(PROG_BASE_, shape, NAME, prog)
static const char *const prog_base[OT_POINT_COUNT] = { OT_POINTS(PROG_BASE_ROW_) };

struct bpf_program *ot_find_program(struct bpf_object *obj, unsigned int point, enum ot_mode mode, bool exit)
{
	/* the flavours OT_ATTACH_POINT generates */
	static const char *const suffix[2][2] = {
		[OT_MODE_FENTRY] = { "fentry", "fexit" },
		[OT_MODE_KPROBE] = { "kprobe", "kretprobe" },
	};
	char name[64];

	if (point >= OT_POINT_COUNT)
		return NULL;
	snprintf(name, sizeof(name), "%s_%s", prog_base[point], suffix[mode][exit]);
	return bpf_object__find_program_by_name(obj, name);
}

static bool wanted(const struct ot_tracer *t, unsigned int point)
{
	enum ot_bind_state s = t->bindings.point[point].state;

	return s == OT_BIND_FOUND || s == OT_BIND_ATTACHED || s == OT_BIND_REFUSED;
}

/*
 * Create only the maps this run uses: the events ring buffer only when
 * events are streamed, the samples ring buffer (durations) only when they
 * are not (--hist-only), hists and its zero template only for --hist.
 *
 * The programs reference them only behind `if (stream_events)` and
 * `if (hist_enabled)`. Those are rodata, which libbpf freezes before load,
 * and the verifier reads a frozen read-only map's contents as constants
 * (kernel 5.5+; ownertrace needs 5.19 anyway), so it never walks the other
 * branch. libbpf turns each reference to an uncreated map into an invalid
 * call that fails the load only if the verifier reaches it (libbpf 1.1.2,
 * Debian bookworm's, does: "poisoning insn ... that loads map"); a
 * reference outside those branches would fail every load with "BPF map
 * 'samples' is referenced but wasn't created".
 */
static void skip_unused_maps(struct ownertrace_bpf *skel)
{
	/* a run has one ring buffer: events, or, with --hist-only, durations */
	bpf_map__set_autocreate(skel->rodata->stream_events ? skel->maps.samples : skel->maps.events, false);
	if (!skel->rodata->hist_enabled) {
		bpf_map__set_autocreate(skel->maps.hists, false);
		bpf_map__set_autocreate(skel->maps.empty_hist, false);
	}
}

/* Open and load the object with only the programs of this mode and these points. */
static int load(struct ot_tracer *t, const struct ot_tracer_opts *opts, enum ot_mode mode)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .btf_custom_path = opts->btf_path);
	struct bpf_program *prog;
	int err;

	t->skel = ownertrace_bpf__open_opts(&open_opts);
	if (!t->skel)
		return -errno;
	if (opts->ringbuf_bytes)
		bpf_map__set_max_entries(t->skel->maps.events, opts->ringbuf_bytes);
	t->skel->rodata->stream_events = !opts->hist_only;
	t->skel->rodata->hist_enabled = opts->hist || opts->hist_only;
	t->skel->rodata->all_stacks = opts->all_stacks;
	t->skel->rodata->hist_by = opts->hist_by;
	t->skel->rodata->hist_unit_ns = opts->hist_unit_ns ? opts->hist_unit_ns : 1000;
	skip_unused_maps(t->skel);

	bpf_object__for_each_program(prog, t->skel->obj)
		bpf_program__set_autoload(prog, false);

	for (unsigned int p = 0; p < OT_POINT_COUNT; p++) {
		if (!wanted(t, p))
			continue;
		for (int exit = 0; exit < 2; exit++) {
			prog = ot_find_program(t->skel->obj, p, mode, exit);
			if (!prog)
				return -ENOENT;
			bpf_program__set_autoload(prog, true);
			if (mode == OT_MODE_FENTRY) {
				err = bpf_program__set_attach_target(prog, 0, t->bindings.point[p].function);
				if (err)
					return err;
			}
		}
	}
	err = ownertrace_bpf__load(t->skel);
	return err;
}

static void destroy_links(struct ot_tracer *t)
{
	for (unsigned int p = 0; p < OT_POINT_COUNT; p++)
		for (int i = 0; i < 2; i++) {
			bpf_link__destroy(t->links[p][i]);
			t->links[p][i] = NULL;
		}
}

/* ---- tracefs kretprobes ------------------------------------------------ */

static void find_tracefs(struct ot_tracer *t)
{
	static const char *const candidates[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[128];

	t->tracefs[0] = '\0';
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		snprintf(path, sizeof(path), "%s/kprobe_events", candidates[i]);
		if (access(path, W_OK) == 0) {
			snprintf(t->tracefs, sizeof(t->tracefs), "%s", candidates[i]);
			return;
		}
	}
}

static int write_kprobe_events(const struct ot_tracer *t, const char *line)
{
	char path[128];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/kprobe_events", t->tracefs);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, line, strlen(line)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* Remove probes left by an ownertrace that was SIGKILLed. */
static void remove_stale_retprobes(const struct ot_tracer *t)
{
	char path[128], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/kprobe_events", t->tracefs);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char event[128], cmd[160];
		int pid;

		/* "r64:ownertrace_1234/really_probe_ret really_probe" */
		if (sscanf(line, "%*[^:]:%127s", event) != 1 || sscanf(event, "ownertrace_%d/", &pid) != 1)
			continue;
		if (pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(cmd, sizeof(cmd), "-:%s\n", event);
		write_kprobe_events(t, cmd);
	}
	fclose(f);
}

static int read_event_id(const struct ot_tracer *t, const char *event, long *id)
{
	char path[256];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/events/%s/id", t->tracefs, event);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	ok = fscanf(f, "%ld", id) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

static struct bpf_link *attach_retprobe_tracefs(struct ot_tracer *t, unsigned int point, struct bpf_program *prog,
						unsigned int maxactive)
{
	struct ot_retprobe *rp = &t->retprobes[point];
	const char *func = t->bindings.point[point].function;
	struct perf_event_attr attr = { .size = sizeof(attr), .type = PERF_TYPE_TRACEPOINT,
					.sample_period = 1, .wakeup_events = 1 };
	char cmd[256];
	struct bpf_link *link;
	long id;
	int err, pfd;

	snprintf(rp->event, sizeof(rp->event), "ownertrace_%d/ot%d_p%u_ret", getpid(), getpid(), point);
	snprintf(cmd, sizeof(cmd), "r%u:%s %s\n", maxactive, rp->event, func);
	err = write_kprobe_events(t, cmd);
	if (err) {
		errno = -err;
		return NULL;
	}
	rp->created = true;
	err = read_event_id(t, rp->event, &id);
	if (err) {
		errno = -err;
		return NULL;
	}
	attr.config = id;
	pfd = syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return NULL;
	link = bpf_program__attach_perf_event(prog, pfd);
	if (!link) {
		err = errno;
		close(pfd);
		errno = err;
	}
	return link;
}

static void remove_retprobes(struct ot_tracer *t)
{
	for (unsigned int p = 0; p < OT_POINT_COUNT; p++) {
		struct ot_retprobe *rp = &t->retprobes[p];
		char cmd[128];

		if (!rp->created)
			continue;
		snprintf(cmd, sizeof(cmd), "-:%s\n", rp->event);
		write_kprobe_events(t, cmd);
		rp->created = false;
	}
}

uint64_t ot_tracer_skipped_runs(const struct ot_tracer *t)
{
	struct bpf_program *prog;
	uint64_t total = 0;

	if (!t->skel)
		return 0;
	bpf_object__for_each_program(prog, t->skel->obj) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
			total += info.recursion_misses;
	}
	return total;
}

int64_t ot_tracer_kretprobe_misses(const struct ot_tracer *t)
{
	char path[128], line[512];
	int64_t total = 0;
	bool any = false;
	FILE *f;

	if (t->mode != OT_MODE_KPROBE || !t->tracefs[0])
		return -1;
	snprintf(path, sizeof(path), "%s/kprobe_profile", t->tracefs);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char name[128];
		unsigned long long hits, misses;

		if (sscanf(line, "%127s %llu %llu", name, &hits, &misses) != 3)
			continue;
		for (unsigned int p = 0; p < OT_POINT_COUNT; p++) {
			/* kprobe_profile lists the event name without its group */
			const char *ev = strchr(t->retprobes[p].event, '/');

			if (t->retprobes[p].created && ev && !strcmp(name, ev + 1)) {
				total += misses;
				any = true;
			}
		}
	}
	fclose(f);
	return any ? total : -1;
}

/* libbpf uses the kprobe PMU, or tracefs kprobe_events on old kernels. */
static bool kprobes_supported(const struct ot_tracer *t)
{
	return access("/sys/bus/event_source/devices/kprobe/type", R_OK) == 0 || t->tracefs[0];
}

/* ---- attaching ---------------------------------------------------------- */

/* kallsyms, read the first time a function may be untraceable */
static const struct ot_ksyms *explain_ksyms(struct ot_tracer *t)
{
	if (!t->ksyms)
		t->ksyms = ot_ksyms_load_running();
	return t->ksyms;
}

/*
 * The kernel said ENOENT for this point's function. It means "no symbol by
 * that name" only if kallsyms agrees (ENOENT also comes from a missing
 * kprobe facility): then the point is marked missing, and true.
 */
static bool mark_if_untraceable(struct ot_tracer *t, struct ot_binding *b)
{
	const struct ot_ksyms *ks = explain_ksyms(t);

	if (!ks || ot_ksyms_find_exact(ks, b->function))
		return false;
	ot_explain_untraceable(b, ks);
	return true;
}


static bool is_fentry_refusal(int err)
{
	err = err < 0 ? -err : err;
	return err == EPERM || err == EACCES || err == OT_ENOTSUPP || err == EOPNOTSUPP || err == ENODEV ||
	       err == EINVAL || err == ENOSYS;
}

static void set_refused(struct ot_binding *b, const char *what, int err)
{
	b->state = OT_BIND_REFUSED;
	snprintf(b->why, sizeof(b->why), "%s: %s", what, ot_strerror(err));
}

static int attach_point(struct ot_tracer *t, unsigned int point, const struct ot_tracer_opts *opts)
{
	struct ot_binding *b = &t->bindings.point[point];
	struct bpf_program *entry = ot_find_program(t->skel->obj, point, t->mode, false);
	struct bpf_program *exit = ot_find_program(t->skel->obj, point, t->mode, true);

	if (t->mode == OT_MODE_FENTRY) {
		t->links[point][0] = bpf_program__attach_trace(entry);
		if (!t->links[point][0])
			return -errno;
		t->links[point][1] = bpf_program__attach_trace(exit);
		if (!t->links[point][1])
			return -errno;
		return 0;
	}

	t->links[point][0] = bpf_program__attach_kprobe(entry, false, b->function);
	if (!t->links[point][0])
		return -errno;
	if (t->tracefs[0])
		t->links[point][1] = attach_retprobe_tracefs(t, point, exit, opts->maxactive);
	else
		t->links[point][1] = bpf_program__attach_kprobe(exit, true, b->function);
	if (!t->links[point][1])
		return -errno;
	return 0;
}

/* Attach every loaded point. A refusal of the very first fentry attach
 * means the whole mechanism is unavailable: report it to the caller. */
static int attach_all(struct ot_tracer *t, const struct ot_tracer_opts *opts)
{
	bool first = true;

	t->attached = 0;
	for (unsigned int p = 0; p < OT_POINT_COUNT; p++) {
		struct ot_binding *b = &t->bindings.point[p];
		int err;

		if (!wanted(t, p))
			continue;
		err = attach_point(t, p, opts);
		if (err) {
			if (first && t->mode == OT_MODE_FENTRY && is_fentry_refusal(err))
				return err;
			if (!(t->mode == OT_MODE_KPROBE && err == -ENOENT && kprobes_supported(t) &&
			      mark_if_untraceable(t, b)))
				set_refused(b, t->mode == OT_MODE_FENTRY ? "fentry/fexit attach" : "kprobe attach", err);
			if (t->mode == OT_MODE_KPROBE && !t->kprobe_error[0])
				snprintf(t->kprobe_error, sizeof(t->kprobe_error), "%s: %s", b->function, b->why);
			bpf_link__destroy(t->links[p][0]);
			bpf_link__destroy(t->links[p][1]);
			t->links[p][0] = t->links[p][1] = NULL;
		} else {
			b->state = OT_BIND_ATTACHED;
			b->why[0] = '\0';
			t->attached++;
		}
		first = false;
	}
	return 0;
}

static void unload(struct ot_tracer *t)
{
	destroy_links(t);
	remove_retprobes(t);
	ownertrace_bpf__destroy(t->skel);
	t->skel = NULL;
}

/*
 * An fentry/fexit load fails with ENOENT when a program's target has no
 * address ("The address of function ... cannot be found": in BTF, but
 * inlined or only a compiler clone). libbpf loads programs in object
 * order and stops at the first failure: the first wanted program without
 * an fd is the one. Its point is marked missing (if kallsyms agrees that
 * its function has no symbol); 0 when one was.
 */
static int drop_unloadable_point(struct ot_tracer *t)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, t->skel->obj) {
		if (!bpf_program__autoload(prog) || bpf_program__fd(prog) >= 0)
			continue;
		for (unsigned int p = 0; p < OT_POINT_COUNT; p++)
			for (int exit = 0; exit < 2; exit++)
				if (wanted(t, p) && ot_find_program(t->skel->obj, p, t->mode, exit) == prog)
					return mark_if_untraceable(t, &t->bindings.point[p]) ? 0 : -ENOENT;
		break;
	}
	return -ENOENT;
}

static void describe_errno(char *buf, size_t len, const char *what, int err)
{
	snprintf(buf, len, "%s failed: %s", what, ot_strerror(err));
}

static int try_mode(struct ot_tracer *t, const struct ot_tracer_opts *opts, enum ot_mode mode)
{
	uint64_t begin = ot_now_ns();
	struct bpf_program *prog;
	int err;

	t->mode = mode;
	for (;;) {
		err = load(t, opts, mode);
		if (err != -ENOENT || mode != OT_MODE_FENTRY || !t->skel || drop_unloadable_point(t))
			break;
		ownertrace_bpf__destroy(t->skel);	/* again, without that point */
		t->skel = NULL;
	}
	t->load_ns = ot_now_ns() - begin;
	if (err) {
		describe_errno(mode == OT_MODE_FENTRY ? t->fentry_error : t->kprobe_error,
			       sizeof(t->fentry_error), mode == OT_MODE_FENTRY ? "loading fentry/fexit programs"
									     : "loading kprobe programs", err);
		unload(t);
		return err;
	}
	t->programs = 0;
	t->verified_insns = 0;
	bpf_object__for_each_program(prog, t->skel->obj) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		if (!bpf_program__autoload(prog))
			continue;
		t->programs++;
		if (!bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			t->verified_insns += info.verified_insns;
	}
	begin = ot_now_ns();
	err = attach_all(t, opts);
	t->attach_ns = ot_now_ns() - begin;
	if (err) {	/* only for a refused first fentry attach */
		describe_errno(t->fentry_error, sizeof(t->fentry_error), "attaching fentry/fexit", err);
		unload(t);
		return err;
	}
	return 0;
}

int ot_tracer_bind(struct ot_tracer *t, const struct btf *btf, char *err, size_t errlen)
{
	int found = 0;

	memset(t, 0, sizeof(*t));
	t->final_misses = -1;
	ot_bind_points(&t->bindings, btf, NULL);
	for (unsigned int p = 0; p < OT_POINT_COUNT; p++)
		found += t->bindings.point[p].state == OT_BIND_FOUND;
	if (!found) {
		snprintf(err, errlen,
			 "none of the DMA-ownership functions exists in this kernel (it predates 5.19, or "
			 "CONFIG_IOMMU_API is off); nothing to trace");
		return -ENOENT;
	}
	return 0;
}

int ot_tracer_start(struct ot_tracer *t, const struct ot_tracer_opts *opts, char *err, size_t errlen)
{
	int ret;

	find_tracefs(t);
	if (t->tracefs[0])
		remove_stale_retprobes(t);

	if (!opts->force_kprobes) {
		ret = try_mode(t, opts, OT_MODE_FENTRY);
		if (!ret && t->attached)
			return 0;
		if (!ret) {	/* loaded, but every point refused */
			snprintf(t->fentry_error, sizeof(t->fentry_error), "no fentry/fexit attach succeeded");
			unload(t);
		}
		/* forget per-point refusals of the failed mode */
		for (unsigned int p = 0; p < OT_POINT_COUNT; p++)
			if (t->bindings.point[p].state == OT_BIND_REFUSED)
				t->bindings.point[p].state = OT_BIND_FOUND;
	} else {
		snprintf(t->fentry_error, sizeof(t->fentry_error), "not tried (--kprobes)");
	}

	ret = try_mode(t, opts, OT_MODE_KPROBE);
	if (!ret && t->attached)
		return 0;
	if (!ret)
		unload(t);
	if (!kprobes_supported(t))
		snprintf(t->kprobe_error, sizeof(t->kprobe_error),
			 "this kernel has no kprobe support (no 'kprobe' PMU in /sys/bus/event_source/devices "
			 "and no kprobe_events in tracefs)");
	snprintf(err, errlen,
		 "the kernel refused every way to trace:\n"
		 "  fentry/fexit: %s\n"
		 "  kprobes:      %s\n"
		 "This kernel does not allow BPF tracing programs here (lockdown, a BPF LSM policy, "
		 "missing CONFIG_KPROBES / CONFIG_FUNCTION_TRACER, or a container without CAP_BPF/CAP_PERFMON). "
		 "Run `ownertrace --dry-run --verbose` for per-function detail, or run the trace in a VM: "
		 "`make demo`.",
		 t->fentry_error[0] ? t->fentry_error : "-",
		 t->kprobe_error[0] ? t->kprobe_error : "no attach point accepted a kprobe");
	return ret ? ret : -EPERM;
}

struct ot_ksyms *ot_tracer_take_ksyms(struct ot_tracer *t)
{
	struct ot_ksyms *ks = t->ksyms;

	t->ksyms = NULL;
	return ks;
}

void ot_tracer_detach(struct ot_tracer *t)
{
	destroy_links(t);
}

void ot_tracer_stop(struct ot_tracer *t)
{
	ot_ksyms_free(t->ksyms);
	t->ksyms = NULL;
	if (!t->skel)
		return;
	t->final_misses = ot_tracer_kretprobe_misses(t);
	t->final_skipped = ot_tracer_skipped_runs(t);
	unload(t);
}

int ot_tracer_ringbuf_fd(const struct ot_tracer *t)
{
	if (!bpf_map__autocreate(t->skel->maps.events))	/* --hist-only: see skip_unused_maps() */
		return -ENOENT;
	return bpf_map__fd(t->skel->maps.events);
}

int ot_tracer_samples_fd(const struct ot_tracer *t)
{
	if (!bpf_map__autocreate(t->skel->maps.samples))	/* not --hist-only: see skip_unused_maps() */
		return -ENOENT;
	return bpf_map__fd(t->skel->maps.samples);
}

int ot_tracer_hist_counts(const struct ot_tracer *t, uint64_t counts[])
{
	struct ot_hist_key key, next;
	struct ot_hist_val val;
	void *prev = NULL;
	int fd;

	for (int k = 0; k < OT_HIST_KIND_COUNT; k++)
		counts[k] = 0;
	if (!bpf_map__autocreate(t->skel->maps.hists))	/* no --hist: see skip_unused_maps() */
		return -ENOENT;
	fd = bpf_map__fd(t->skel->maps.hists);
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (bpf_map_lookup_elem(fd, &next, &val) == 0 && next.kind < OT_HIST_KIND_COUNT)
			counts[next.kind] += val.count;
		key = next;
		prev = &key;
	}
	return 0;
}

int ot_tracer_read_counters(const struct ot_tracer *t, uint64_t out[])
{
	int ncpus = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(t->skel->maps.counters);
	uint64_t *vals;

	if (ncpus <= 0)
		return ncpus;
	vals = calloc(ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (uint32_t k = 0; k < OT_CNT_COUNT; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int c = 0; c < ncpus; c++)
			out[k] += vals[c];
	}
	free(vals);
	return 0;
}

void ot_tracer_print_points(const struct ot_tracer *t, FILE *f)
{
	const char *attached_as = t->mode == OT_MODE_FENTRY ? "attached (fentry/fexit)"
							    : (t->tracefs[0] ? "attached (kprobe/kretprobe)"
									     : "attached (kprobe/kretprobe via perf)");

	fprintf(f, "%-22s %-36s %s\n", "POINT", "FUNCTION", "STATUS");
	for (unsigned int p = 0; p < OT_POINT_COUNT; p++) {
		const struct ot_binding *b = &t->bindings.point[p];
		const char *name = ot_point_desc(p)->kind;

		if (b->state == OT_BIND_UNUSED && !b->function[0])
			continue;
		switch (b->state) {
		case OT_BIND_ATTACHED:
			fprintf(f, "%-22s %-36s %s\n", name, b->function, attached_as);
			break;
		case OT_BIND_FOUND:
			fprintf(f, "%-22s %-36s present, not attached\n", name, b->function);
			break;
		default:
			fprintf(f, "%-22s %-36s %s: %s\n", name, b->function[0] ? b->function : "-",
				ot_bind_state_name(b->state), b->why);
		}
	}
	for (int i = 0; i < t->bindings.extra_count; i++)
		fprintf(f, "%-22s %-36s skipped: more bus callbacks than the %d BPF slots\n", "dma_configure",
			t->bindings.extra[i], OT_BUS_SLOTS);
	if (t->mode == OT_MODE_KPROBE && t->fentry_error[0])
		fprintf(f, "fentry/fexit not used: %s\n", t->fentry_error);
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The live commands (trace, record, run, daemon): check what the host
 * allows, load and attach the BPF programs, then feed every ring-buffer
 * record through the session until Ctrl-C, --duration, the interval count
 * or the end of the command under `run`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "analysis/profile.h"
#include "cli/cli.h"
#include "cmd/cmd.h"
#include "core/event.h"
#include "core/recording.h"
#include "kernel/attach.h"
#include "util/errnames.h"
#include "kernel/live_stacks.h"
#include "kernel/preflight.h"
#include "kernel/vmlinux_btf.h"
#include "session/gate.h"
#include "session/session.h"
#include "util/clock.h"
#include "util/self_memory.h"
#include "session/census.h"
#include "kernel/census.h"
#include "analysis/census.h"
#include "util/sdnotify.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* ---- live run ---------------------------------------------------------- */

struct live {
	const struct ot_cli *cli;
	struct ot_tracer tracer;
	struct ot_session *session;
	struct ot_live_stacks *live_stacks;
	struct ot_profile *baseline;	/* --baseline: the gate's first side; the session profiles the second */
	struct ot_diff_side baseline_side;
	char baseline_kernel[65];
	bool intervals_done;	/* -i SECONDS COUNT ran out: nothing left to print */
	int intervals;		/* intervals printed */
	struct ot_census_taker *taker;	/* open while audits are due; NULL: no census */
	struct ot_census census;
	uint64_t audit_ns;	/* --audit-interval; 0: no audits */
	uint32_t drops_seen;	/* the highest ring-buffer drop count received (ot_kevent.drops) */
	uint32_t *group_drops;	/* per group id: the highest drops_at_entry of its records */
	size_t ngroup_drops;
};

#define OT_GAP_GROUP_IDS 65536	/* groups tracked one by one; a larger id is flagged at every drop */

/*
 * The gap marks (OT_EVF_GAP, OT_EVF_GROUP_GAP) from the drop counts the
 * kernel put in the record: see struct ot_kevent.
 */
static void mark_gaps(struct live *lv, const struct ot_kevent *kev, struct ot_event *ev)
{
	int32_t g = ev->group_id;

	if ((int32_t)(kev->drops - lv->drops_seen) > 0) {
		lv->drops_seen = kev->drops;
		ev->flags |= OT_EVF_GAP;
	}
	if (g < 0)
		return;
	if (g >= OT_GAP_GROUP_IDS) {
		if (kev->drops_at_entry)
			ev->flags |= OT_EVF_GROUP_GAP;
		return;
	}
	if ((size_t)g >= lv->ngroup_drops) {
		size_t n = (size_t)g + 64 < OT_GAP_GROUP_IDS ? (size_t)g + 64 : OT_GAP_GROUP_IDS;
		uint32_t *grown = realloc(lv->group_drops, n * sizeof(*grown));

		if (!grown) {
			ev->flags |= OT_EVF_GROUP_GAP;	/* cannot tell: assume the worst */
			return;
		}
		memset(grown + lv->ngroup_drops, 0, (n - lv->ngroup_drops) * sizeof(*grown));
		lv->group_drops = grown;
		lv->ngroup_drops = n;
	}
	/* every group starts at 0, the count when tracing (and the census) began */
	if ((int32_t)(kev->drops_at_entry - lv->group_drops[g]) > 0) {
		lv->group_drops[g] = kev->drops_at_entry;
		ev->flags |= OT_EVF_GROUP_GAP;
	}
}

/*
 * A census through the pipeline: recorded, seeding the shadow at the start,
 * its violations reported as anomalies. One that cannot be taken is a
 * warning: the trace goes on, learning each group from its events.
 */
static void take_census(struct live *lv, uint32_t reason)
{
	unsigned int totals[OT_CV_COUNT] = { 0 };
	char err[512];

	if (!lv->taker)
		return;
	if (ot_census_take(lv->taker, reason, &lv->census, err, sizeof(err))) {
		fprintf(stderr, "ownertrace: warning: census %s failed: %s\n", ot_census_reason_name(reason), err);
		return;
	}
	if (ot_session_census(lv->session, &lv->census)) {
		fprintf(stderr, "ownertrace: warning: out of memory judging the census\n");
		return;
	}
	if (reason == OT_CENSUS_AUDIT)
		return;	/* the daemon's journal gets its drift anomalies, not a line a minute */
	for (int i = 0; i < lv->census.ngroups; i++) {
		struct ot_census_judgement j;

		ot_census_judge(&lv->census.groups[i], &j);
		totals[j.verdict]++;
	}
	fprintf(stderr, "ownertrace: census at %s (%s): %d IOMMU %s", ot_census_reason_name(reason),
		ot_mode_name(ot_census_taker_mode(lv->taker)), lv->census.ngroups,
		lv->census.ngroups == 1 ? "group" : "groups");
	for (int v = 0, first = 1; v < OT_CV_COUNT; v++)
		if (totals[v]) {
			fprintf(stderr, "%s%u %s", first ? ": " : ", ", totals[v], ot_census_verdict_name(v));
			first = 0;
		}
	fprintf(stderr, "%s\n", totals[OT_CV_LEAKED] || totals[OT_CV_MISSING] ? " (see the anomalies)" : "");
}

/* The census at the start; the taker stays open only when audits are due. */
static void start_census(struct live *lv)
{
	const struct ot_cli *cli = lv->cli;
	struct ot_census_taker_opts opts = {
		.force_kprobes = cli->force_kprobes || lv->tracer.mode == OT_MODE_KPROBE, .btf_path = cli->btf_path,
	};
	double audit_s = cli->audit_interval_s >= 0 ? cli->audit_interval_s
			 : cli->command == OT_CMD_DAEMON ? OT_AUDIT_DEFAULT_S : 0;
	char err[1024];

	if (cli->no_census || cli->hist_only)
		return;	/* hist-only runs do no ownership analysis */
	if (ot_census_taker_open(&lv->taker, &opts, err, sizeof(err))) {
		fprintf(stderr, "ownertrace: warning: no census (%s): each group's state is learned from its first "
				"traced call\n", err);
		return;
	}
	lv->audit_ns = (uint64_t)(audit_s * 1e9);
	take_census(lv, OT_CENSUS_START);
	if (!lv->audit_ns) {
		ot_census_taker_close(lv->taker);
		lv->taker = NULL;
	}
}

static int handle_event(void *ctx, void *data, size_t size)
{
	const struct ot_kevent *kev = data;
	struct live *lv = ctx;
	struct ot_event ev;

	if (size < sizeof(*kev))
		return 0;
	ev = kev->ev;
	mark_gaps(lv, kev, &ev);	/* records lost before it: the shadow must resync, not judge */
	ev.stack_id = ot_live_stacks_intern(lv->live_stacks, (const uint64_t *)kev->ips,
					    kev->nframes < OT_KSTACK_FRAMES ? kev->nframes : OT_KSTACK_FRAMES);
	lv->session->run.stats.stacks_dropped = ot_live_stacks_dropped(lv->live_stacks);
	ot_session_event(lv->session, &ev);
	return 0;
}

static int handle_sample(void *ctx, void *data, size_t size)
{
	struct live *lv = ctx;

	if (size >= sizeof(struct ot_sample))
		ot_session_sample(lv->session, data);
	return 0;
}


/*
 * The in-kernel histograms count every finished call; the exact durations
 * behind the percentiles travel through a ring buffer. A difference means
 * durations were lost: say so rather than show percentiles of a subset.
 */
static void check_hist_counts(struct live *lv)
{
	uint64_t kernel[OT_HIST_KIND_COUNT];

	if (ot_tracer_hist_counts(&lv->tracer, kernel))
		return;
	for (int k = 0; k < OT_HIST_KIND_COUNT; k++)
		if (kernel[k] > lv->session->hist_samples[k])
			fprintf(stderr, "ownertrace: WARNING: %llu of %llu %s calls counted in the kernel have no exact "
					"duration (lost in the ring buffer); their percentiles are of the rest\n",
				(unsigned long long)(kernel[k] - lv->session->hist_samples[k]), (unsigned long long)kernel[k],
				ot_hist_kind_names[k]);
}

static void report_missing_points(const struct ot_tracer *t)
{
	for (unsigned int p = 0; p < OT_POINT_COUNT; p++) {
		const struct ot_binding *b = &t->bindings.point[p];

		if (b->state == OT_BIND_MISSING || b->state == OT_BIND_REFUSED)
			fprintf(stderr, "ownertrace: skipping %s (%s): %s\n", ot_point_desc(p)->kind,
				b->function, b->why);
	}
	for (int i = 0; i < t->bindings.extra_count; i++)
		fprintf(stderr, "ownertrace: skipping %s: more bus callbacks than BPF slots (%d)\n",
			t->bindings.extra[i], OT_BUS_SLOTS);
}

/*
 * --baseline: this run is the candidate. Its verdict replaces the anomaly
 * verdict: anomalies the baseline has too are not a regression.
 */
static int gate_on_baseline(struct live *lv, FILE *out)
{
	const struct ot_writer_ops *format = ot_cmd_format(lv->cli);
	struct ot_profile *profile = ot_session_take_profile(lv->session);
	struct utsname uts;
	static char kernel[sizeof(uts.release)];
	struct ot_diff_side side = { .label = "this run", .kernel = kernel };
	int ret;

	if (!uname(&uts))
		snprintf(kernel, sizeof(kernel), "%s", uts.release);
	if (ot_profile_finish(profile)) {
		fprintf(stderr, "ownertrace: out of memory comparing with the baseline\n");
		ot_profile_free(profile);
		return OT_EXIT_CANNOT_RUN;
	}
	side.events = ot_profile_event_count(profile);
	/* the report follows the summary: a record of a machine-readable stream, else for the person */
	ret = ot_gate_report(&lv->cli->diff, format, format->machine ? out : stderr, lv->baseline, &lv->baseline_side,
			     profile, &side);
	ot_profile_free(profile);
	return ret;
}

/* Start CMD once tracing is attached, so nothing it does is missed. */
static pid_t start_command(char **argv)
{
	int status_pipe[2];
	pid_t pid;
	int child_errno = 0;

	if (pipe2(status_pipe, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execvp(argv[0], argv);
		child_errno = errno;
		if (write(status_pipe[1], &child_errno, sizeof(child_errno)) < 0)
			_exit(127);
		_exit(127);
	}
	close(status_pipe[1]);
	if (read(status_pipe[0], &child_errno, sizeof(child_errno)) == sizeof(child_errno)) {
		close(status_pipe[0]);
		waitpid(pid, NULL, 0);
		errno = child_errno;
		return -2;
	}
	close(status_pipe[0]);
	return pid;
}

/* Poll until stopped: by signal, --duration, or the end of CMD. */
static int trace_loop(struct live *lv, pid_t child, int *child_status, uint64_t start)
{
	const struct ot_cli *cli = lv->cli;
	struct ring_buffer *rb;
	uint64_t last_check = start, reported_drops = 0;
	struct ot_stats *stats = &lv->session->run.stats;	/* kept current for the --prometheus file */
	bool child_signalled = false;
	int err = 0;

	uint64_t next_interval = start + (uint64_t)(cli->interval_s * 1e9);
	uint64_t next_audit = ot_now_ns() + lv->audit_ns;

	/* histogram-only runs read exact durations, never events */
	if (cli->hist_only)
		rb = ring_buffer__new(ot_tracer_samples_fd(&lv->tracer), handle_sample, lv, NULL);
	else
		rb = ring_buffer__new(ot_tracer_ringbuf_fd(&lv->tracer), handle_event, lv, NULL);
	if (!rb) {
		fprintf(stderr, "ownertrace: cannot open the BPF ring buffer: %s\n", ot_strerror(errno));
		return -errno;
	}
	for (;;) {
		err = ring_buffer__poll(rb, 100);
		/* output is block-buffered (no write per event); flushing once a
		 * poll keeps it live, piped or not, within 100 ms */
		ot_session_flush(lv->session);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "ownertrace: reading events failed: %s\n", ot_strerror(err));
			break;
		}
		err = 0;
		uint64_t now = ot_now_ns();

		ot_session_tick(lv->session, now);

		if (child > 0) {
			if (waitpid(child, child_status, WNOHANG) == child)
				break;
			if (stop_requested && !child_signalled) {
				kill(child, SIGTERM);	/* let the command end; we stop when it does */
				child_signalled = true;
			}
		} else if (stop_requested) {
			break;
		}
		if (cli->duration_s > 0 && (double)(now - start) / 1e9 >= cli->duration_s)
			break;
		if (cli->interval_s > 0 && now >= next_interval) {
			ring_buffer__consume(rb);
			ot_session_print_hists(lv->session, ++lv->intervals, (double)(now - start) / 1e9);
			next_interval += (uint64_t)(cli->interval_s * 1e9);
			if (cli->interval_count && (unsigned long)lv->intervals >= cli->interval_count) {
				lv->intervals_done = true;
				break;
			}
		}
		if (lv->taker && now >= next_audit) {
			ring_buffer__consume(rb);	/* the shadow first has what happened before */
			take_census(lv, OT_CENSUS_AUDIT);
			next_audit = ot_now_ns() + lv->audit_ns;
		}
		if (now - last_check >= 1000000000ULL) {
			last_check = now;
			stats->kretprobe_misses = ot_tracer_kretprobe_misses(&lv->tracer);
			stats->skipped_runs = ot_tracer_skipped_runs(&lv->tracer);
			if (!ot_tracer_read_counters(&lv->tracer, stats->bpf) &&
			    stats->bpf[OT_CNT_RINGBUF_DROPS] > reported_drops) {
				reported_drops = stats->bpf[OT_CNT_RINGBUF_DROPS];
				fprintf(stderr,
					"ownertrace: WARNING: %llu events lost so far (ring buffer full); "
					"try a larger --ringbuf-size\n",
					(unsigned long long)reported_drops);
			}
			if (cli->command == OT_CMD_RECORD)
				fprintf(stderr, "\rownertrace: recorded %llu events",
					(unsigned long long)lv->session->recorder->events);
		}
	}
	/* drain what is already in the buffer before detaching */
	ring_buffer__consume(rb);
	if (lv->taker) {	/* the audit at the end, while the calls are still traced */
		take_census(lv, OT_CENSUS_END);
		ring_buffer__consume(rb);
	}
	/* then stop adding: every record is now received or counted as dropped,
	 * so received + drops is every traced call, exactly */
	ot_tracer_detach(&lv->tracer);
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	if (cli->command == OT_CMD_RECORD)
		fprintf(stderr, "\rownertrace: recorded %llu events\n", (unsigned long long)lv->session->recorder->events);
	return err;
}



/* Where the live run's outputs go: stream, recording, session, stack table. */
static int open_outputs(struct live *lv, FILE *out, struct ot_rec_writer *writer, uint64_t start)
{
	const struct ot_cli *cli = lv->cli;
	struct ot_rec_header header;
	struct ot_session_opts opts;
	int rc;

	if (cli->write_path) {
		ot_rec_header_init(&header, lv->tracer.mode, start);
		rc = ot_rec_writer_open(writer, cli->write_path, &header);
		if (rc) {
			fprintf(stderr, "ownertrace: cannot create recording %s: %s%s\n", cli->write_path, strerror(-rc),
				rc == -EEXIST ? " (it exists; ownertrace never overwrites a recording)" : "");
			return -1;
		}
		ot_rec_write_points(writer, &lv->tracer.bindings);
	}
	ot_cmd_session_opts(cli, out, start, &opts);
	opts.print_events = cli->command != OT_CMD_RECORD && cli->command != OT_CMD_DAEMON && !cli->hist_only;
	opts.bounded = cli->command == OT_CMD_DAEMON;
	opts.profile = lv->baseline != NULL;
	opts.recorder = cli->write_path ? writer : NULL;
	opts.live = true;
	lv->session = ot_session_new(&opts);
	if (!lv->session)
		return -1;
	lv->session->bindings = lv->tracer.bindings;
	lv->session->run.stats.kretprobe_misses = ot_tracer_kretprobe_misses(&lv->tracer);
	lv->live_stacks = ot_live_stacks_new_running(lv->session->run.stacks);
	if (!lv->live_stacks) {
		fprintf(stderr, "ownertrace: out of memory\n");
		return -1;
	}
	if (cli->command == OT_CMD_DAEMON)
		ot_live_stacks_set_limit(lv->live_stacks, OT_BOUND_STACKS);
	return 0;
}

/* The command under `run`: its status joins the verdict. */
static int command_verdict(int ret, int child_status)
{
	bool failed = !WIFEXITED(child_status) || WEXITSTATUS(child_status) != 0;

	if (WIFEXITED(child_status))
		fprintf(stderr, "ownertrace: command exited with status %d\n", WEXITSTATUS(child_status));
	else if (WIFSIGNALED(child_status))
		fprintf(stderr, "ownertrace: command killed by signal %d\n", WTERMSIG(child_status));
	return ret == OT_EXIT_CLEAN && failed ? OT_EXIT_CMD_FAILED : ret;
}

/*
 * How long ago this process was forked (0 if unknown): /proc/self/stat's
 * starttime is in clock ticks of CLOCK_BOOTTIME. Under systemd, fork to exec
 * is the sandbox being set up, which the attach time alone does not show.
 */
static double process_age_s(void)
{
	char buf[1024], *p;
	unsigned long long start = 0;
	struct timespec now;
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	long hz = sysconf(_SC_CLK_TCK);

	if (f)
		fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* the command name may hold spaces */
	/* after ") ": state, then fields 4..21, then starttime (field 22) */
	if (!p || hz <= 0 || sscanf(p + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
				   &start) != 1 || clock_gettime(CLOCK_BOOTTIME, &now))
		return 0;
	return (double)now.tv_sec + now.tv_nsec / 1e9 - (double)start / (double)hz;
}

/* VmHWM, the peak resident set so far, in KiB (0 if unreadable). */
static long peak_rss_kb(void)
{
	struct ot_self_memory m;

	ot_self_memory(&m);
	return m.peak_kib;
}

/* Where start-up went, for --verbose: what someone chasing a slow start (or
 * a large one) needs to know before anything else. */
struct startup {
	uint64_t btf_ns;
	long rss_btf_kb;
};

static void print_startup(const struct startup *su, const struct live *lv)
{
	const struct ot_tracer *t = &lv->tracer;

	fprintf(stderr, "ownertrace: start-up: BTF %.3f s (vmlinux BTF parsed %d time%s%s), load %.3f s "
		"(%d programs, %llu instructions verified), attach %.3f s; peak RSS %ld KiB after BTF, %ld attached\n",
		su->btf_ns / 1e9, ot_vmlinux_btf_parses(), ot_vmlinux_btf_parses() == 1 ? "" : "s",
		ot_vmlinux_btf_mapped() ? ", copied from its mapping" : "", t->load_ns / 1e9,
		t->programs, (unsigned long long)t->verified_insns, t->attach_ns / 1e9, su->rss_btf_kb, peak_rss_kb());
}

/*
 * kallsyms is read once attached, not before; whether it
 * will be of use is known from its first page: unreadable, or every
 * address zero (kptr_restrict; the first lines are per-CPU offsets, most
 * of them nonzero when shown).
 */
static void warn_if_no_kallsyms(void)
{
	char buf[4096];
	FILE *f = fopen("/proc/kallsyms", "re");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	bool shown = false;

	if (!f) {
		fprintf(stderr, "ownertrace: warning: cannot read /proc/kallsyms (%s): stacks print as addresses\n",
			strerror(errno));
		return;
	}
	fclose(f);
	buf[n] = '\0';
	for (char *line = buf; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		if (strtoull(line, NULL, 16))
			shown = true;
	if (!shown)
		fprintf(stderr, "ownertrace: warning: /proc/kallsyms shows zero addresses (kptr_restrict); "
				"stacks print as addresses\n");
}

int ot_cmd_live(const struct ot_cli *cli)
{
	struct startup su = { 0 };
	static struct live lv;
	struct ot_tracer_opts topts;
	struct ot_rec_writer writer;
	struct ot_stats *stats;
	struct btf *btf = NULL;
	FILE *out = NULL;
	char err[1024];
	int ret = OT_EXIT_CANNOT_RUN, child_status = 0, rc;
	pid_t child = 0;
	uint64_t begin = ot_now_ns(), start, end;
	char status[160];

	lv.cli = cli;
	/* Big buffers (BTF, ~5 MB, parsed by us and then by libbpf; kallsyms)
	 * live briefly one after another: keep them mmapped, so each free gives
	 * its pages back. glibc would otherwise raise its mmap threshold past
	 * the first one freed, and serve the next from a heap that keeps them. */
	mallopt(M_MMAP_THRESHOLD, 256 << 10);
	/* a baseline that cannot be read is known before anything is attached */
	if (cli->baseline_path &&
	    !(lv.baseline = ot_gate_load(cli->baseline_path, &lv.baseline_side, lv.baseline_kernel)))
		return OT_EXIT_CANNOT_RUN;
	if (ot_check_privileges(err, sizeof(err)) || ot_check_btf(cli->btf_path, err, sizeof(err))) {
		fprintf(stderr, "ownertrace: %s\n", err);
		goto out;
	}
	su.btf_ns = ot_now_ns();
	btf = cli->btf_path ? btf__parse(cli->btf_path, NULL) : ot_vmlinux_btf_load();
	su.btf_ns = ot_now_ns() - su.btf_ns;
	su.rss_btf_kb = peak_rss_kb();
	if (!btf) {
		fprintf(stderr, "ownertrace: cannot parse BTF %s: %s\n",
			cli->btf_path ? cli->btf_path : "/sys/kernel/btf/vmlinux", strerror(errno));
		goto out;
	}
	if (ot_tracer_bind(&lv.tracer, btf, err, sizeof(err))) {
		fprintf(stderr, "ownertrace: %s\n", err);
		goto out;
	}
	if (cli->btf_path)
		btf__free(btf);		/* --btf is for CO-RE: libbpf attaches by the kernel's own BTF */
	else
		ot_vmlinux_btf_share(btf);	/* the loads of the tracer and the census read it */
	btf = NULL;
	warn_if_no_kallsyms();

	topts = (struct ot_tracer_opts){
		.force_kprobes = cli->force_kprobes,
		.btf_path = cli->btf_path,
		.maxactive = cli->maxactive,
		.ringbuf_bytes = cli->ringbuf_bytes,
		.hist = cli->hist,
		.hist_only = cli->hist_only,
		/* printed or recorded: a recording replays with --stacks later */
		.all_stacks = cli->stacks || cli->write_path,
		.hist_by = cli->hist_by,
		.hist_unit_ns = ot_hist_unit_ns(cli->unit),
	};
	rc = ot_tracer_start(&lv.tracer, &topts, err, sizeof(err));
	if (rc) {
		if (cli->dry_run)
			ot_tracer_print_points(&lv.tracer, stdout);
		fprintf(stderr, "ownertrace: %s\n", err);
		goto out;
	}
	if (cli->verbose)
		print_startup(&su, &lv);
	if (cli->dry_run) {
		ot_tracer_print_points(&lv.tracer, stdout);
		printf("mode: %s; %d attach points attached; dry run, detaching\n",
		       ot_mode_name(lv.tracer.mode), lv.tracer.attached);
		ret = OT_EXIT_CLEAN;
		goto out;
	}
	report_missing_points(&lv.tracer);

	out = ot_output_open(cli->output_path);
	if (!out)
		goto out;
	start = ot_now_ns();
	memset(&writer, 0, sizeof(writer));
	if (open_outputs(&lv, out, &writer, start))
		goto out;
	stats = &lv.session->run.stats;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	start_census(&lv);
	ot_vmlinux_btf_unshare();	/* no more loads (audits reuse the census's) */
	if (!cli->hist_only)	/* attached, not yet reading: see live_stacks.h */
		ot_live_stacks_load(lv.live_stacks, ot_tracer_take_ksyms(&lv.tracer));
	snprintf(status, sizeof(status), "tracing %d attach points with %s (attached in %.1f s; process started "
		 "%.1f s ago)", lv.tracer.attached, lv.tracer.mode == OT_MODE_FENTRY ? "fentry/fexit" : "kprobe/kretprobe",
		 (double)(start - begin) / 1e9, process_age_s());
	fprintf(stderr, "ownertrace: %s; %s\n", status,
		cli->command == OT_CMD_RUN ? "running the command" :
		cli->duration_s > 0 ? "stops after --duration or Ctrl-C" : "Ctrl-C to stop");
	/* under systemd's Type=notify the unit counts as started only now, so
	 * what is ordered after it (udev's coldplug) happens under the trace;
	 * the command of `run` does not inherit the socket */
	{
		char note[200];

		snprintf(note, sizeof(note), "READY=1\nSTATUS=%s", status);
		if (ot_sd_notify(note))
			fprintf(stderr, "ownertrace: warning: cannot tell systemd it is ready ($NOTIFY_SOCKET)\n");
		unsetenv("NOTIFY_SOCKET");
	}
	if (cli->command == OT_CMD_RUN) {
		child = start_command(cli->run_argv);
		if (child < 0) {
			fprintf(stderr, "ownertrace: cannot run %s: %s\n", cli->run_argv[0], strerror(errno));
			ret = OT_EXIT_CMD_FAILED;
			goto detach;
		}
	}
	rc = trace_loop(&lv, child, &child_status, start);
	ret = rc ? OT_EXIT_CANNOT_RUN : (ot_stats_anomalies(stats) ? OT_EXIT_ANOMALIES : OT_EXIT_CLEAN);
detach:
	ot_sd_notify("STOPPING=1");
	ot_tracer_read_counters(&lv.tracer, stats->bpf);
	if (cli->hist)
		check_hist_counts(&lv);
	ot_tracer_stop(&lv.tracer);
	end = ot_now_ns();
	stats->kretprobe_misses = lv.tracer.final_misses;
	stats->skipped_runs = lv.tracer.final_skipped;
	stats->mode = ot_mode_name(lv.tracer.mode);
	stats->duration_s = (double)(end - start) / 1e9;
	ot_session_flush(lv.session);
	if (cli->write_path) {
		struct ot_rec_end rec_end = { .kretprobe_misses = stats->kretprobe_misses, .end_ns = end };

		memcpy(rec_end.bpf, stats->bpf, sizeof(rec_end.bpf));
		ot_rec_write_end(&writer, &rec_end);
		rc = ot_rec_writer_close(&writer);
		if (rc) {
			fprintf(stderr, "ownertrace: writing recording %s failed: %s\n", cli->write_path, strerror(-rc));
			ret = OT_EXIT_CANNOT_RUN;
		} else {
			fprintf(stderr, "ownertrace: recorded %llu events in %s\n",
				(unsigned long long)writer.events, cli->write_path);
		}
	}
	if (!lv.intervals_done)
		ot_session_print_hists(lv.session, cli->interval_s > 0 ? lv.intervals + 1 : 0, stats->duration_s);
	if (ot_session_end(lv.session, end))
		ret = OT_EXIT_CANNOT_RUN;
	if (lv.baseline && ret != OT_EXIT_CANNOT_RUN)
		ret = gate_on_baseline(&lv, out);
	if (cli->command == OT_CMD_RUN && child > 0)
		ret = command_verdict(ret, child_status);
out:
	ot_vmlinux_btf_unshare();
	ot_census_taker_close(lv.taker);
	lv.taker = NULL;
	ot_census_free(&lv.census);
	free(lv.group_drops);
	ot_session_free(lv.session);
	ot_live_stacks_free(lv.live_stacks);
	if (out && out != stdout)
		fclose(out);
	ot_profile_free(lv.baseline);
	ot_tracer_stop(&lv.tracer);
	btf__free(btf);
	return ret;
}

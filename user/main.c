// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ownertrace: trace the IOMMU DMA-ownership lifecycle (struct iommu_group
 * owner_cnt/owner) across driver probe/remove and VFIO/iommufd claims, and
 * report where it goes wrong.
 *
 *   ownertrace [trace] [OPTIONS]        live
 *   ownertrace record [OPTIONS] FILE    live, into a recording
 *   ownertrace replay [OPTIONS] FILE    analyse a recording
 *   ownertrace run [OPTIONS] -- CMD...  trace while CMD runs (CI gate)
 */
#define _GNU_SOURCE
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "attach.h"
#include "clock.h"
#include "filter.h"
#include "hist.h"
#include "ksyms.h"
#include "live_stacks.h"
#include "owner_tokens.h"
#include "pipeline.h"
#include "preflight.h"
#include "recording.h"
#include "stacks.h"

/* Exit statuses (documented in README.md and --help). */
enum {
	OT_EXIT_CLEAN = 0,
	OT_EXIT_CANNOT_RUN = 1,
	OT_EXIT_USAGE = 2,
	OT_EXIT_ANOMALIES = 3,
	OT_EXIT_CMD_FAILED = 4,
};

enum command { CMD_TRACE, CMD_RECORD, CMD_REPLAY, CMD_RUN };

static struct env {
	enum command command;
	bool json;
	bool stacks;
	bool raw_pointers;
	bool dry_run;
	bool verbose;
	bool force_kprobes;
	double duration_s;
	const char *btf_path;
	const char *output_path;
	const char *write_path;		/* recording to write (record FILE, or -w) */
	const char *replay_path;
	char **run_argv;		/* run: the command after -- */
	unsigned int maxactive;
	size_t ringbuf_bytes;
	struct ot_filter filter;
	bool hist;			/* latency histograms at the end (and per interval) */
	bool hist_only;			/* histograms only: no events streamed, no analysis */
	unsigned int hist_by;		/* enum ot_hist_by */
	enum ot_hist_unit unit;
	double interval_s;		/* -i: print and reset histograms every interval */
	unsigned long interval_count;	/* stop after this many intervals, 0 = no limit */
} env = {
	.maxactive = 64,
	.ringbuf_bytes = 4 << 20,
};

#define OT_VERSION "0.3"

/* --version: ours, and the libbpf statically linked in (it decides what loads). */
static void print_version(FILE *f, struct argp_state *state)
{
	(void)state;
	fprintf(f, "ownertrace %s (libbpf %u.%u, recording format %u)\n", OT_VERSION, libbpf_major_version(),
		libbpf_minor_version(), OT_REC_VERSION);
}

void (*argp_program_version_hook)(FILE *, struct argp_state *) = print_version;
const char *argp_program_bug_address = "the ownertrace issue tracker";
static const char args_doc[] =
	"\n"
	"record FILE\n"
	"replay FILE\n"
	"run -- CMD [ARG...]";
static const char doc[] =
	"Trace the IOMMU DMA-ownership lifecycle of every device (driver probe and remove, bus "
	"dma_configure/dma_cleanup, default-domain uses, VFIO/iommufd claims of struct iommu_group) and "
	"report unbalanced owner_cnt, leaks, underflows and release-timing races.\n"
	"\n"
	"  ownertrace [trace]        stream events and anomalies until Ctrl-C\n"
	"  ownertrace record FILE    record into FILE (prints anomalies and the summary)\n"
	"  ownertrace replay FILE    analyse a recording: same output as the live run\n"
	"  ownertrace run -- CMD     trace while CMD runs, then exit with a verdict\n"
	"\n"
	"Tracing needs root and a kernel with BTF; fentry/fexit is used, kprobe/kretprobe the fallback.\n"
	"\n"
	"Exit status: 0 clean; 1 could not run (privileges, BTF, kernel refused, unreadable recording); "
	"2 bad usage; 3 anomalies found; 4 (run) CMD failed, no anomalies.\n"
	"\n"
	"EXAMPLES:\n"
	"  ownertrace -d 0000:01:00.0 -s        one device, with kernel stacks\n"
	"  ownertrace --json -t 30 -w t.otr     JSON Lines for 30 s, recorded too\n"
	"  ownertrace replay --json t.otr       the same JSON again, offline\n"
	"  ownertrace run -- ./bind-test.sh     CI: exit 3 if ownership went wrong\n"
	"  ownertrace --dry-run                 what can be attached here, then exit\n"
	"\n"
	"OPTIONS:";

enum {
	OPT_RAW_POINTERS = 1000,
	OPT_DRY_RUN,
	OPT_BTF,
	OPT_MAXACTIVE,
	OPT_RINGBUF,
	OPT_HIST,
	OPT_HIST_ONLY,
	OPT_HIST_BY,
	OPT_UNIT,
};

static const struct argp_option options[] = {
	{ "json", 'j', NULL, 0, "JSON Lines: one object per event and anomaly, then a summary object", 0 },
	{ "output", 'o', "FILE", 0, "Write events, anomalies and the JSON summary to FILE instead of stdout", 0 },
	{ "write", 'w', "FILE", 0, "Also record the run into FILE (trace, run)", 0 },
	{ "device", 'd', "NAME", 0, "Only this device (e.g. 0000:01:00.0); repeatable", 0 },
	{ "driver", 'D', "NAME", 0, "Only this driver (e.g. vfio-pci); repeatable", 0 },
	{ "group", 'g', "ID", 0, "Only this IOMMU group; repeatable", 0 },
	{ "duration", 't', "SECONDS", 0, "Stop after SECONDS (trace, record)", 0 },
	{ "stacks", 's', NULL, 0, "Print the symbolized kernel stack of every event", 0 },
	{ "kprobes", 'k', NULL, 0, "Use kprobe/kretprobe even where fentry/fexit would work", 0 },
	{ "dry-run", OPT_DRY_RUN, NULL, 0, "Attach, print every attach point and its status, detach", 0 },
	{ "raw-pointers", OPT_RAW_POINTERS, NULL, 0,
	  "Print owner cookies as kernel addresses instead of owner#N tokens (leaks KASLR)", 0 },
	{ "btf", OPT_BTF, "FILE", 0, "BTF of the running kernel, when /sys/kernel/btf/vmlinux is missing", 0 },
	{ "maxactive", OPT_MAXACTIVE, "N", 0, "kretprobe instances in flight per function (default 64)", 0 },
	{ "ringbuf-size", OPT_RINGBUF, "KIB", 0, "Ring buffer size in KiB, a power of two (default 4096)", 0 },
	{ "hist", OPT_HIST, NULL, 0, "Latency histograms of probe, remove, dma_configure, claim, release", 0 },
	{ "hist-only", OPT_HIST_ONLY, NULL, 0,
	  "Histograms only: no events streamed, no ownership analysis, one duration per call", 0 },
	{ "hist-by", OPT_HIST_BY, "KEY", 0, "Histogram key: driver (default), bus or device", 0 },
	{ "unit", OPT_UNIT, "UNIT", 0, "Histogram unit: usec (default) or msec", 0 },
	{ "msec", 'm', NULL, 0, "Same as --unit msec", 0 },
	{ "interval", 'i', "SECONDS", 0, "Print and reset the histograms every SECONDS; an optional COUNT "
	  "argument after it stops after COUNT intervals", 0 },
	{ "verbose", 'v', NULL, 0, "Show libbpf's log", 0 },
	{},
};

static bool parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max || s[0] == '-')
		return false;
	*out = v;
	return true;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	unsigned long v;
	char *end;

	switch (key) {
	case 'j':
		env.json = true;
		break;
	case 's':
		env.stacks = true;
		break;
	case 'k':
		env.force_kprobes = true;
		break;
	case 'v':
		env.verbose = true;
		break;
	case 'o':
		env.output_path = arg;
		break;
	case 'w':
		env.write_path = arg;
		break;
	case OPT_DRY_RUN:
		env.dry_run = true;
		break;
	case OPT_HIST:
		env.hist = true;
		break;
	case OPT_HIST_ONLY:
		env.hist = env.hist_only = true;
		break;
	case OPT_HIST_BY:
		if (!strcmp(arg, "driver"))
			env.hist_by = OT_HIST_BY_DRIVER;
		else if (!strcmp(arg, "bus"))
			env.hist_by = OT_HIST_BY_BUS;
		else if (!strcmp(arg, "device"))
			env.hist_by = OT_HIST_BY_DEVICE;
		else
			argp_error(state, "--hist-by wants driver, bus or device, got '%s'", arg);
		break;
	case OPT_UNIT:
		if (!strcmp(arg, "usec") || !strcmp(arg, "us"))
			env.unit = OT_UNIT_USEC;
		else if (!strcmp(arg, "msec") || !strcmp(arg, "ms"))
			env.unit = OT_UNIT_MSEC;
		else
			argp_error(state, "--unit wants usec or msec, got '%s'", arg);
		break;
	case 'm':
		env.unit = OT_UNIT_MSEC;
		break;
	case 'i':
		errno = 0;
		env.interval_s = strtod(arg, &end);
		if (errno || end == arg || *end || env.interval_s <= 0)
			argp_error(state, "--interval wants a positive number of seconds, got '%s'", arg);
		env.hist = true;
		break;
	case OPT_RAW_POINTERS:
		env.raw_pointers = true;
		break;
	case OPT_BTF:
		env.btf_path = arg;
		break;
	case 'd':
		if (ot_filter_add_device(&env.filter, arg))
			argp_error(state, "at most %d --device filters", OT_FILTER_MAX);
		break;
	case 'D':
		if (ot_filter_add_driver(&env.filter, arg))
			argp_error(state, "at most %d --driver filters", OT_FILTER_MAX);
		break;
	case 'g':
		if (!parse_ulong(arg, 0, INT_MAX, &v))
			argp_error(state, "--group wants a group number (as in /sys/kernel/iommu_groups), got '%s'", arg);
		if (ot_filter_add_group(&env.filter, (int)v))
			argp_error(state, "at most %d --group filters", OT_FILTER_MAX);
		break;
	case 't':
		errno = 0;
		env.duration_s = strtod(arg, &end);
		if (errno || end == arg || *end || env.duration_s <= 0)
			argp_error(state, "--duration wants a positive number of seconds, got '%s'", arg);
		break;
	case OPT_MAXACTIVE:
		if (!parse_ulong(arg, 1, 4096, &v))
			argp_error(state, "--maxactive wants a number from 1 to 4096, got '%s'", arg);
		env.maxactive = v;
		break;
	case OPT_RINGBUF:
		if (!parse_ulong(arg, 4, 1 << 20, &v) || (v & (v - 1)))
			argp_error(state, "--ringbuf-size wants a power of two from 4 to 1048576 (KiB), got '%s'", arg);
		env.ringbuf_bytes = (size_t)v << 10;
		break;
	case ARGP_KEY_ARG:
		if (state->arg_num == 0 && env.command == CMD_TRACE) {
			if (!strcmp(arg, "trace"))
				break;
			if (!strcmp(arg, "record") || !strcmp(arg, "replay")) {
				env.command = arg[2] == 'c' ? CMD_RECORD : CMD_REPLAY;
				break;
			}
			if (!strcmp(arg, "run")) {
				env.command = CMD_RUN;
				break;
			}
		}
		if (env.interval_s > 0 && !env.interval_count && parse_ulong(arg, 1, ULONG_MAX, &v)) {
			env.interval_count = v;	/* -i SECONDS COUNT */
			break;
		}
		if ((env.command == CMD_RECORD && !env.write_path) ||
		    (env.command == CMD_REPLAY && !env.replay_path)) {
			*(env.command == CMD_RECORD ? &env.write_path : &env.replay_path) = arg;
			break;
		}
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (env.command == CMD_RECORD && !env.write_path)
			argp_error(state, "record needs a FILE to write");
		if (env.command == CMD_REPLAY && !env.replay_path)
			argp_error(state, "replay needs a recording FILE");
		if (env.command == CMD_RUN && !env.run_argv)
			argp_error(state, "run needs a command after --, e.g. `ownertrace run -- ./test.sh`");
		if (env.command != CMD_RUN && env.run_argv)
			argp_error(state, "a command after -- is only for `ownertrace run`");
		if (env.command == CMD_REPLAY && (env.dry_run || env.force_kprobes || env.duration_s > 0))
			argp_error(state, "--dry-run, --kprobes and --duration do not apply to replay");
		if (env.command == CMD_RUN && env.duration_s > 0)
			argp_error(state, "run stops when the command exits; --duration does not apply");
		if (env.command == CMD_REPLAY && env.interval_s > 0)
			argp_error(state, "--interval does not apply to replay");

		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* libbpf explains every failure at length; during the fentry attempt that
 * is expected noise, so it is shown only with --verbose. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (!env.verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* ---- live run ---------------------------------------------------------- */

struct live {
	struct ot_tracer tracer;
	struct ot_pipeline pipe;
	struct ot_ksyms *ksyms;		/* until handed to live_stacks */
	struct ot_live_stacks *live_stacks;
	bool intervals_done;	/* -i SECONDS COUNT ran out: nothing left to print */
	int intervals;		/* intervals printed */
};

static int handle_event(void *ctx, void *data, size_t size)
{
	const struct ot_kevent *kev = data;
	struct live *lv = ctx;
	struct ot_event ev;

	if (size < sizeof(*kev))
		return 0;
	ev = kev->ev;
	ev.stack_id = ot_live_stacks_intern(lv->live_stacks, (const uint64_t *)kev->ips,
					    kev->nframes < OT_KSTACK_FRAMES ? kev->nframes : OT_KSTACK_FRAMES);
	ot_pipeline_event(&lv->pipe, &ev);
	return 0;
}

static int handle_sample(void *ctx, void *data, size_t size)
{
	struct live *lv = ctx;

	if (size >= sizeof(struct ot_sample))
		ot_pipeline_sample(&lv->pipe, data);
	return 0;
}

/* Histograms so far (interval > 0: the interval's, numbered), then reset. */
static void print_histograms(struct ot_pipeline *p, int interval, double at_s)
{
	FILE *out = p->out.out;
	bool any = false;

	for (int i = 0; i < ot_hist_table_count(p->hists) && !any; i++)
		any = ot_hist_count(ot_hist_table_get(p->hists, i, NULL, NULL)) > 0;
	if (p->out.json) {
		if (interval)
			fprintf(out, "{\"type\":\"interval\",\"n\":%d,\"time\":%.6f}\n", interval, at_s);
		ot_hist_table_print_json(out, p->hists, ot_hist_by_name(p->hist_by), env.unit);
	} else {
		if (interval)
			fprintf(out, "\n--- interval %d, %.1f s ---\n", interval, at_s);
		if (any)
			ot_hist_table_print(out, p->hists, ot_hist_by_name(p->hist_by), env.unit);
		else
			fprintf(out, "\nno probe, remove, dma_configure, claim or release finished%s\n",
				interval ? " in this interval" : "");
	}
	fflush(out);
	ot_hist_table_reset(p->hists);
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
		if (kernel[k] > lv->pipe.hist_samples[k])
			fprintf(stderr, "ownertrace: WARNING: %llu of %llu %s calls counted in the kernel have no exact "
					"duration (lost in the ring buffer); their percentiles are of the rest\n",
				(unsigned long long)(kernel[k] - lv->pipe.hist_samples[k]), (unsigned long long)kernel[k],
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
	struct ring_buffer *rb;
	uint64_t last_check = start, reported_drops = 0;
	uint64_t counters[OT_CNT_COUNT];
	bool child_signalled = false;
	int err = 0;

	uint64_t next_interval = start + (uint64_t)(env.interval_s * 1e9);

	/* histogram-only runs read exact durations, never events */
	if (env.hist_only)
		rb = ring_buffer__new(ot_tracer_samples_fd(&lv->tracer), handle_sample, lv, NULL);
	else
		rb = ring_buffer__new(ot_tracer_ringbuf_fd(&lv->tracer), handle_event, lv, NULL);
	if (!rb) {
		fprintf(stderr, "ownertrace: cannot open the BPF ring buffer: %s\n", strerror(errno));
		return -errno;
	}
	for (;;) {
		err = ring_buffer__poll(rb, 100);
		/* output is block-buffered (no write per event); flushing once a
		 * poll keeps it live, piped or not, within 100 ms */
		fflush(lv->pipe.out.out);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "ownertrace: reading events failed: %s\n", strerror(-err));
			break;
		}
		err = 0;
		uint64_t now = ot_now_ns();

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
		if (env.duration_s > 0 && (double)(now - start) / 1e9 >= env.duration_s)
			break;
		if (env.interval_s > 0 && now >= next_interval) {
			ring_buffer__consume(rb);
			print_histograms(&lv->pipe, ++lv->intervals, (double)(now - start) / 1e9);
			next_interval += (uint64_t)(env.interval_s * 1e9);
			if (env.interval_count && (unsigned long)lv->intervals >= env.interval_count) {
				lv->intervals_done = true;
				break;
			}
		}
		if (now - last_check >= 1000000000ULL) {
			last_check = now;
			if (!ot_tracer_read_counters(&lv->tracer, counters) &&
			    counters[OT_CNT_RINGBUF_DROPS] > reported_drops) {
				reported_drops = counters[OT_CNT_RINGBUF_DROPS];
				fprintf(stderr,
					"ownertrace: WARNING: %llu events lost so far (ring buffer full); "
					"try a larger --ringbuf-size\n",
					(unsigned long long)reported_drops);
			}
			if (env.command == CMD_RECORD)
				fprintf(stderr, "\rownertrace: recorded %llu events",
					(unsigned long long)lv->pipe.recorder->events);
		}
	}
	/* drain what is already in the buffer before detaching */
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	if (env.command == CMD_RECORD)
		fprintf(stderr, "\rownertrace: recorded %llu events\n", (unsigned long long)lv->pipe.recorder->events);
	return err;
}

static int verdict(const struct ot_stats *stats)
{
	return ot_stats_anomalies(stats) ? OT_EXIT_ANOMALIES : OT_EXIT_CLEAN;
}

static FILE *open_output(void)
{
	FILE *f;

	if (!env.output_path)
		return stdout;
	f = fopen(env.output_path, "w");
	if (!f)
		fprintf(stderr, "ownertrace: cannot write %s: %s\n", env.output_path, strerror(errno));
	return f;
}

static int run_live(void)
{
	static struct live lv;
	struct ot_tracer_opts topts;
	struct ot_rec_writer writer;
	struct ot_rec_header header;
	struct btf *btf = NULL;
	FILE *out = NULL;
	char err[1024];
	int ret = OT_EXIT_CANNOT_RUN, child_status = 0, rc;
	pid_t child = 0;
	uint64_t start, end;

	if (ot_check_privileges(err, sizeof(err)) || ot_check_btf(env.btf_path, err, sizeof(err))) {
		fprintf(stderr, "ownertrace: %s\n", err);
		return OT_EXIT_CANNOT_RUN;
	}
	btf = env.btf_path ? btf__parse(env.btf_path, NULL) : btf__load_vmlinux_btf();
	if (!btf) {
		fprintf(stderr, "ownertrace: cannot parse BTF %s: %s\n",
			env.btf_path ? env.btf_path : "/sys/kernel/btf/vmlinux", strerror(errno));
		return OT_EXIT_CANNOT_RUN;
	}
	lv.ksyms = ot_ksyms_load_running();
	if (!lv.ksyms)
		fprintf(stderr, "ownertrace: warning: cannot read /proc/kallsyms (%s): inlined functions are "
				"detected from BTF only and stacks print as addresses\n", strerror(errno));
	else if (ot_ksyms_addresses_hidden(lv.ksyms))
		fprintf(stderr, "ownertrace: warning: /proc/kallsyms shows zero addresses (kptr_restrict); "
				"stacks print as addresses\n");

	topts = (struct ot_tracer_opts){
		.force_kprobes = env.force_kprobes,
		.btf_path = env.btf_path,
		.maxactive = env.maxactive,
		.ringbuf_bytes = env.ringbuf_bytes,
		.hist = env.hist,
		.hist_only = env.hist_only,
		.hist_by = env.hist_by,
		.hist_unit_ns = env.unit == OT_UNIT_MSEC ? 1000000 : 1000,
	};
	if (ot_tracer_start(&lv.tracer, &topts, btf, lv.ksyms, err, sizeof(err))) {
		if (env.dry_run)
			ot_tracer_print_points(&lv.tracer, stdout);
		fprintf(stderr, "ownertrace: %s\n", err);
		goto out;
	}
	if (env.dry_run) {
		ot_tracer_print_points(&lv.tracer, stdout);
		printf("mode: %s; %d attach points attached; dry run, detaching\n",
		       ot_mode_name(lv.tracer.mode), lv.tracer.attached);
		ret = OT_EXIT_CLEAN;
		goto out;
	}
	report_missing_points(&lv.tracer);

	out = open_output();
	if (!out)
		goto out;
	start = ot_now_ns();
	if (env.write_path) {
		ot_rec_header_init(&header, lv.tracer.mode, start);
		rc = ot_rec_writer_open(&writer, env.write_path, &header);
		if (rc) {
			fprintf(stderr, "ownertrace: cannot create recording %s: %s%s\n", env.write_path, strerror(-rc),
				rc == -EEXIST ? " (it exists; ownertrace never overwrites a recording)" : "");
			goto out;
		}
		ot_rec_write_points(&writer, &lv.tracer.bindings);
		lv.pipe.recorder = &writer;
	}
	lv.pipe.stacks = ot_stacks_new();
	lv.live_stacks = lv.pipe.stacks ? ot_live_stacks_new(lv.pipe.stacks, lv.ksyms) : NULL;
	if (lv.live_stacks)
		lv.ksyms = NULL;	/* owned by live_stacks now */
	lv.pipe.filter = &env.filter;
	lv.pipe.print_events = env.command != CMD_RECORD && !env.hist_only;
	lv.pipe.hist_by = env.hist_by;
	if (env.hist) {
		lv.pipe.hists = ot_hist_table_new(ot_hist_kind_names, OT_HIST_KIND_COUNT);
		if (!lv.pipe.hists) {
			fprintf(stderr, "ownertrace: out of memory\n");
			goto out;
		}
	}
	lv.pipe.out = (struct ot_output){
		.out = out, .json = env.json, .stacks = env.stacks, .raw_pointers = env.raw_pointers,
		.start_ns = start, .tokens = ot_owner_tokens_new(), .bindings = &lv.tracer.bindings,
	};
	if (!lv.live_stacks || !lv.pipe.out.tokens || ot_pipeline_init(&lv.pipe)) {
		fprintf(stderr, "ownertrace: out of memory\n");
		goto out;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "ownertrace: tracing %d attach points with %s; %s\n", lv.tracer.attached,
		lv.tracer.mode == OT_MODE_FENTRY ? "fentry/fexit" : "kprobe/kretprobe",
		env.command == CMD_RUN ? "running the command" :
		env.duration_s > 0 ? "stops after --duration or Ctrl-C" : "Ctrl-C to stop");
	if (env.command == CMD_RUN) {
		child = start_command(env.run_argv);
		if (child < 0) {
			fprintf(stderr, "ownertrace: cannot run %s: %s\n", env.run_argv[0], strerror(errno));
			ret = OT_EXIT_CMD_FAILED;
			goto detach;
		}
	}
	rc = trace_loop(&lv, child, &child_status, start);
	ret = rc ? OT_EXIT_CANNOT_RUN : verdict(&lv.pipe.stats);
detach:
	ot_tracer_read_counters(&lv.tracer, lv.pipe.stats.bpf);
	if (env.hist)
		check_hist_counts(&lv);
	ot_tracer_stop(&lv.tracer);
	end = ot_now_ns();
	lv.pipe.stats.kretprobe_misses = lv.tracer.final_misses;
	lv.pipe.stats.mode = ot_mode_name(lv.tracer.mode);
	lv.pipe.stats.duration_s = (double)(end - start) / 1e9;
	fflush(out);
	if (lv.pipe.recorder) {
		struct ot_rec_end rec_end = { .kretprobe_misses = lv.pipe.stats.kretprobe_misses, .end_ns = end };

		memcpy(rec_end.bpf, lv.pipe.stats.bpf, sizeof(rec_end.bpf));
		ot_rec_write_end(&writer, &rec_end);
		rc = ot_rec_writer_close(&writer);
		if (rc) {
			fprintf(stderr, "ownertrace: writing recording %s failed: %s\n", env.write_path, strerror(-rc));
			ret = OT_EXIT_CANNOT_RUN;
		} else {
			fprintf(stderr, "ownertrace: recorded %llu events in %s\n",
				(unsigned long long)writer.events, env.write_path);
		}
	}
	if (env.hist && !lv.intervals_done)
		print_histograms(&lv.pipe, env.interval_s > 0 ? lv.intervals + 1 : 0, lv.pipe.stats.duration_s);
	ot_output_summary(&lv.pipe.out, stderr, &lv.pipe.stats, lv.pipe.analysis, lv.pipe.stacks, end);
	if (env.command == CMD_RUN && child > 0) {
		bool failed = !WIFEXITED(child_status) || WEXITSTATUS(child_status) != 0;

		if (WIFEXITED(child_status))
			fprintf(stderr, "ownertrace: command exited with status %d\n", WEXITSTATUS(child_status));
		else if (WIFSIGNALED(child_status))
			fprintf(stderr, "ownertrace: command killed by signal %d\n", WTERMSIG(child_status));
		if (ret == OT_EXIT_CLEAN && failed)
			ret = OT_EXIT_CMD_FAILED;
	}
	ot_pipeline_fini(&lv.pipe);
	ot_owner_tokens_free(lv.pipe.out.tokens);
	ot_live_stacks_free(lv.live_stacks);
	ot_stacks_free(lv.pipe.stacks);
	ot_hist_table_free(lv.pipe.hists);
out:
	if (out && out != stdout)
		fclose(out);
	ot_tracer_stop(&lv.tracer);
	ot_ksyms_free(lv.ksyms);
	btf__free(btf);
	return ret;
}

static int run_replay(void)
{
	static struct ot_pipeline pipe;
	static struct ot_bindings bindings;
	static struct ot_rec_item item;
	struct ot_rec_reader reader;
	char err[512];
	FILE *out;
	int rc, ret;

	if (ot_rec_reader_open_file(&reader, env.replay_path, err, sizeof(err))) {
		fprintf(stderr, "ownertrace: %s: %s\n", env.replay_path, err);
		return OT_EXIT_CANNOT_RUN;
	}
	out = open_output();
	if (!out) {
		ot_rec_reader_close(&reader);
		return OT_EXIT_CANNOT_RUN;
	}
	fprintf(stderr, "ownertrace: replaying %s (kernel %s, %s mode)\n", env.replay_path,
		reader.header.kernel_release[0] ? reader.header.kernel_release : "unknown",
		ot_mode_name(reader.header.attach_mode));
	pipe.stacks = ot_stacks_new();
	pipe.filter = &env.filter;
	pipe.print_events = !env.hist_only;
	pipe.hist_by = env.hist_by;
	if (env.hist && !(pipe.hists = ot_hist_table_new(ot_hist_kind_names, OT_HIST_KIND_COUNT))) {
		fprintf(stderr, "ownertrace: out of memory\n");
		ot_rec_reader_close(&reader);
		return OT_EXIT_CANNOT_RUN;
	}
	pipe.out = (struct ot_output){
		.out = out, .json = env.json, .stacks = env.stacks, .raw_pointers = env.raw_pointers,
		.start_ns = reader.header.start_ns, .tokens = ot_owner_tokens_new(), .bindings = &bindings,
	};
	if (!pipe.stacks || !pipe.out.tokens || ot_pipeline_init(&pipe)) {
		fprintf(stderr, "ownertrace: out of memory\n");
		ot_rec_reader_close(&reader);
		return OT_EXIT_CANNOT_RUN;
	}
	while ((rc = ot_rec_next(&reader, &item, err, sizeof(err))) > 0) {
		switch (item.type) {
		case OT_REC_POINTS:
			for (unsigned int p = 0; p < OT_POINT_COUNT; p++)
				memcpy(bindings.point[p].function, item.functions[p], OT_FUNC_NAME_LEN);
			break;
		case OT_REC_STACK:
			ot_stacks_put(pipe.stacks, item.stack_id, item.frames, item.nframes);
			break;
		case OT_REC_EVENT:
			ot_pipeline_event(&pipe, &item.event);
			break;
		case OT_REC_SAMPLE:
			ot_pipeline_sample(&pipe, &item.sample);
			break;
		case OT_REC_END:
			break;
		}
	}
	pipe.stats.mode = ot_mode_name(reader.header.attach_mode);
	memcpy(pipe.stats.bpf, reader.end.bpf, sizeof(pipe.stats.bpf));
	pipe.stats.kretprobe_misses = reader.ended ? reader.end.kretprobe_misses : -1;
	pipe.stats.duration_s = reader.ended ? (double)(reader.end.end_ns - reader.header.start_ns) / 1e9 : 0;
	fflush(out);
	if (env.hist)
		print_histograms(&pipe, 0, pipe.stats.duration_s);
	ot_output_summary(&pipe.out, stderr, &pipe.stats, pipe.analysis, pipe.stacks,
			  reader.ended ? reader.end.end_ns : reader.header.start_ns);
	ret = verdict(&pipe.stats);
	if (rc < 0) {
		fprintf(stderr, "ownertrace: %s: %s\n", env.replay_path, err);
		ret = OT_EXIT_CANNOT_RUN;
	}
	ot_pipeline_fini(&pipe);
	ot_owner_tokens_free(pipe.out.tokens);
	ot_stacks_free(pipe.stacks);
	ot_hist_table_free(pipe.hists);
	ot_rec_reader_close(&reader);
	if (out != stdout)
		fclose(out);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { .options = options, .parser = parse_arg, .args_doc = args_doc, .doc = doc };

	/* `run [OPTIONS] -- CMD...`: everything after the first -- is the command */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			env.run_argv = &argv[i + 1];
			if (!argv[i + 1]) {
				fprintf(stderr, "ownertrace: nothing to run after --\n");
				return OT_EXIT_USAGE;
			}
			argc = i;
			break;
		}
	}
	argp_err_exit_status = OT_EXIT_USAGE;
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return OT_EXIT_USAGE;
	libbpf_set_print(libbpf_print);
	if (env.command == CMD_REPLAY)
		return run_replay();
	return run_live();
}

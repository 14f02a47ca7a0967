// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ownertrace: trace the IOMMU DMA-ownership lifecycle (struct iommu_group
 * owner_cnt/owner) across driver probe/remove and VFIO/iommufd claims.
 */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "attach.h"
#include "filter.h"
#include "ksyms.h"
#include "output.h"
#include "owner_tokens.h"
#include "preflight.h"

/* Exit statuses (documented in README.md and --help). */
enum {
	OT_EXIT_OK = 0,
	OT_EXIT_CANNOT_TRACE = 1,
	OT_EXIT_USAGE = 2,
};

#define OT_MAX_STACK_DEPTH 127

static struct env {
	bool json;
	bool stacks;
	bool raw_pointers;
	bool dry_run;
	bool verbose;
	bool force_kprobes;
	double duration_s;
	const char *btf_path;
	unsigned int maxactive;
	size_t ringbuf_bytes;
	struct ot_filter filter;
} env = {
	.maxactive = 64,
	.ringbuf_bytes = 4 << 20,
};

const char *argp_program_version = "ownertrace 0.1";
const char *argp_program_bug_address = "the ownertrace issue tracker";
static const char doc[] =
	"Trace the IOMMU DMA-ownership lifecycle of every device: driver probe and remove, "
	"bus dma_configure/dma_cleanup, default-domain use counts, and VFIO/iommufd claims of "
	"struct iommu_group (owner_cnt and owner, before and after each call).\n"
	"\n"
	"Needs root and a kernel with BTF. Uses fentry/fexit and falls back to "
	"kprobe/kretprobe automatically.\n"
	"\n"
	"Exit status: 0 traced (or --dry-run found something to attach), 1 the tracer could "
	"not run (privileges, BTF, kernel refused), 2 bad usage.\n"
	"\n"
	"EXAMPLES:\n"
	"  ownertrace                        # stream events until Ctrl-C\n"
	"  ownertrace --json -t 30           # JSON Lines for 30 seconds\n"
	"  ownertrace -d 0000:01:00.0 -s     # one device, with kernel stacks\n"
	"  ownertrace --dry-run              # show what can be attached, then exit\n"
	"\n"
	"OPTIONS:";

enum {
	OPT_RAW_POINTERS = 1000,
	OPT_DRY_RUN,
	OPT_BTF,
	OPT_MAXACTIVE,
	OPT_RINGBUF,
};

static const struct argp_option options[] = {
	{ "json", 'j', NULL, 0, "Print JSON Lines (one object per event, then a summary object)", 0 },
	{ "device", 'd', "NAME", 0, "Only events of this device (e.g. 0000:01:00.0); repeatable", 0 },
	{ "driver", 'D', "NAME", 0, "Only events of this driver (e.g. vfio-pci); repeatable", 0 },
	{ "group", 'g', "ID", 0, "Only events of this IOMMU group; repeatable", 0 },
	{ "duration", 't', "SECONDS", 0, "Stop after SECONDS (default: until SIGINT/SIGTERM)", 0 },
	{ "stacks", 's', NULL, 0, "Print the symbolized kernel stack of every event", 0 },
	{ "kprobes", 'k', NULL, 0, "Use kprobe/kretprobe even where fentry/fexit would work", 0 },
	{ "dry-run", OPT_DRY_RUN, NULL, 0, "Attach, print every attach point and its status, detach", 0 },
	{ "raw-pointers", OPT_RAW_POINTERS, NULL, 0,
	  "Print owner cookies as kernel addresses instead of owner#N tokens (leaks KASLR)", 0 },
	{ "btf", OPT_BTF, "FILE", 0, "BTF of the running kernel, when /sys/kernel/btf/vmlinux is missing", 0 },
	{ "maxactive", OPT_MAXACTIVE, "N", 0, "kretprobe instances in flight per function (default 64)", 0 },
	{ "ringbuf-size", OPT_RINGBUF, "KIB", 0, "Ring buffer size in KiB, a power of two (default 4096)", 0 },
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
	case OPT_DRY_RUN:
		env.dry_run = true;
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
		argp_error(state, "unexpected argument '%s'", arg);
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

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

struct run {
	struct ot_tracer tracer;
	struct ot_output out;
	struct ot_stats stats;
	int stacks_fd;
	struct ot_ksyms *ksyms;
	uint64_t ksyms_loaded_ns;
};

static uint64_t now_ns(void);

static struct ot_ksyms *load_symbols(void)
{
	struct ot_ksyms *ks = ot_ksyms_load("/proc/kallsyms");

	if (ks)
		ot_ksyms_load_modules(ks, "/proc/modules");
	return ks;
}

/* A frame outside every known text range is a BPF trampoline, or code of a
 * module loaded after start: reload (at most every 2 s) to tell them apart. */
static void refresh_symbols_for(struct run *run, const uint64_t *ips, int nips)
{
	struct ot_ksyms *fresh;
	uint64_t now = now_ns();
	int i;

	for (i = 0; i < nips && ot_ksyms_is_text(run->ksyms, ips[i]); i++)
		;
	if (i == nips || now - run->ksyms_loaded_ns < 2000000000ULL)
		return;
	run->ksyms_loaded_ns = now;
	fresh = load_symbols();
	if (!fresh)
		return;
	ot_ksyms_free(run->ksyms);
	run->ksyms = fresh;
	run->out.ksyms = fresh;
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct run *run = ctx;
	const struct ot_event *ev = data;
	uint64_t ips[OT_MAX_STACK_DEPTH];
	int nips = 0;

	if (size < sizeof(*ev))
		return 0;
	ot_stats_count(&run->stats, ev);
	if (!ot_filter_match(&env.filter, ev)) {
		run->stats.filtered_out++;
		return 0;
	}
	if (env.stacks && ev->stack_id >= 0) {
		uint32_t id = ev->stack_id;

		memset(ips, 0, sizeof(ips));
		if (bpf_map_lookup_elem(run->stacks_fd, &id, ips) == 0)
			while (nips < OT_MAX_STACK_DEPTH && ips[nips])
				nips++;
		if (run->ksyms)
			refresh_symbols_for(run, ips, nips);
	}
	ot_output_event(&run->out, ev, ips, nips);
	run->stats.shown++;
	return 0;
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

static int trace(struct run *run)
{
	struct ring_buffer *rb;
	uint64_t start = now_ns(), last_check = start, reported_drops = 0;
	uint64_t counters[OT_CNT_COUNT];
	int err = 0;

	rb = ring_buffer__new(ot_tracer_ringbuf_fd(&run->tracer), handle_event, run, NULL);
	if (!rb) {
		fprintf(stderr, "ownertrace: cannot open the BPF ring buffer: %s\n", strerror(errno));
		return -errno;
	}
	run->out.start_ns = start;
	fprintf(stderr, "ownertrace: tracing %d attach points with %s; %s\n", run->tracer.attached,
		run->tracer.mode == OT_MODE_FENTRY ? "fentry/fexit" : "kprobe/kretprobe",
		env.duration_s > 0 ? "stops after --duration or Ctrl-C" : "Ctrl-C to stop");

	while (!stop_requested) {
		err = ring_buffer__poll(rb, 100);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "ownertrace: reading events failed: %s\n", strerror(-err));
			break;
		}
		err = 0;
		uint64_t now = now_ns();
		if (env.duration_s > 0 && (double)(now - start) / 1e9 >= env.duration_s)
			break;
		if (now - last_check >= 1000000000ULL) {
			last_check = now;
			if (!ot_tracer_read_counters(&run->tracer, counters) &&
			    counters[OT_CNT_RINGBUF_DROPS] > reported_drops) {
				reported_drops = counters[OT_CNT_RINGBUF_DROPS];
				fprintf(stderr,
					"ownertrace: WARNING: %llu events lost so far (ring buffer full); "
					"try a larger --ringbuf-size\n",
					(unsigned long long)reported_drops);
			}
		}
	}
	/* drain what is already in the buffer before detaching */
	ring_buffer__consume(rb);
	run->stats.duration_s = (double)(now_ns() - start) / 1e9;
	ring_buffer__free(rb);
	return err;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { .options = options, .parser = parse_arg, .doc = doc };
	static struct run run;
	struct ot_tracer_opts topts;
	struct ot_ksyms *ksyms = NULL;
	struct btf *btf = NULL;
	char err[1024];
	int ret = OT_EXIT_CANNOT_TRACE;

	argp_err_exit_status = OT_EXIT_USAGE;
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return OT_EXIT_USAGE;
	/* events must appear as they happen even when piped (VM console, CI logs) */
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_print);

	if (ot_check_privileges(err, sizeof(err)) || ot_check_btf(env.btf_path, err, sizeof(err))) {
		fprintf(stderr, "ownertrace: %s\n", err);
		return OT_EXIT_CANNOT_TRACE;
	}
	btf = env.btf_path ? btf__parse(env.btf_path, NULL) : btf__load_vmlinux_btf();
	if (!btf) {
		fprintf(stderr, "ownertrace: cannot parse BTF %s: %s\n",
			env.btf_path ? env.btf_path : "/sys/kernel/btf/vmlinux", strerror(errno));
		return OT_EXIT_CANNOT_TRACE;
	}
	ksyms = load_symbols();
	if (!ksyms)
		fprintf(stderr, "ownertrace: warning: cannot read /proc/kallsyms (%s): inlined functions are "
				"detected from BTF only and stacks print as addresses\n", strerror(errno));
	else if (ot_ksyms_addresses_hidden(ksyms))
		fprintf(stderr, "ownertrace: warning: /proc/kallsyms shows zero addresses (kptr_restrict); "
				"stacks print as addresses\n");

	topts = (struct ot_tracer_opts){
		.force_kprobes = env.force_kprobes,
		.btf_path = env.btf_path,
		.maxactive = env.maxactive,
		.ringbuf_bytes = env.ringbuf_bytes,
	};
	if (ot_tracer_start(&run.tracer, &topts, btf, ksyms, err, sizeof(err))) {
		if (env.dry_run)
			ot_tracer_print_points(&run.tracer, stdout);
		fprintf(stderr, "ownertrace: %s\n", err);
		goto out;
	}

	if (env.dry_run) {
		ot_tracer_print_points(&run.tracer, stdout);
		printf("mode: %s; %d attach points attached; dry run, detaching\n",
		       ot_mode_name(run.tracer.mode), run.tracer.attached);
		ret = OT_EXIT_OK;
		goto out;
	}
	report_missing_points(&run.tracer);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	run.out = (struct ot_output){
		.out = stdout,
		.json = env.json,
		.stacks = env.stacks,
		.raw_pointers = env.raw_pointers,
		.tokens = ot_owner_tokens_new(),
		.bindings = &run.tracer.bindings,
		.ksyms = ksyms,
	};
	run.stacks_fd = ot_tracer_stacks_fd(&run.tracer);
	run.ksyms = ksyms;
	run.ksyms_loaded_ns = now_ns();
	if (!run.out.tokens) {
		fprintf(stderr, "ownertrace: out of memory\n");
		goto out;
	}
	ret = trace(&run) ? OT_EXIT_CANNOT_TRACE : OT_EXIT_OK;

	ot_tracer_read_counters(&run.tracer, run.stats.bpf);
	ot_tracer_stop(&run.tracer);
	run.stats.kretprobe_misses = run.tracer.final_misses;
	run.stats.mode = ot_mode_name(run.tracer.mode);
	fflush(stdout);
	ot_output_summary(&run.out, stderr, &run.stats);
	ot_owner_tokens_free(run.out.tokens);
	ksyms = run.ksyms;	/* may have been reloaded */
out:
	ot_tracer_stop(&run.tracer);
	ot_ksyms_free(ksyms);
	btf__free(btf);
	return ret;
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The command line: argp options, --help and --version, and every check of
 * what a command accepts. Produces a struct ot_cli; runs nothing.
 *
 *   ownertrace [trace] [OPTIONS]        live
 *   ownertrace record [OPTIONS] FILE    live, into a recording
 *   ownertrace replay [OPTIONS] FILE    analyse a recording
 *   ownertrace run [OPTIONS] -- CMD...  trace while CMD runs (CI gate)
 *   ownertrace daemon [OPTIONS]         long-running: anomalies and metrics only
 */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "cli/cli.h"
#include "core/recording.h"

static struct ot_cli env = {
	.maxactive = 64,
	.ringbuf_bytes = 2 << 20,	/* mapped twice by libbpf: 4 MiB resident; ~4,500 records of burst */
	.audit_interval_s = -1,
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
	"run -- CMD [ARG...]\n"
	"diff BASELINE CANDIDATE\n"
	"daemon\n"
	"groups";
static const char doc[] =
	"Trace the IOMMU DMA-ownership lifecycle of every device (driver probe and remove, bus "
	"dma_configure/dma_cleanup, default-domain uses, VFIO/iommufd claims of struct iommu_group) and "
	"report unbalanced owner_cnt, leaks, underflows and release-timing races.\n"
	"\n"
	"  ownertrace [trace]        stream events and anomalies until Ctrl-C\n"
	"  ownertrace record FILE    record into FILE (prints anomalies and the summary)\n"
	"  ownertrace replay FILE    analyse a recording: same output as the live run\n"
	"  ownertrace run -- CMD     trace while CMD runs, then exit with a verdict\n"
	"  ownertrace diff BASE CAND compare two recordings: did ownership or latency regress?\n"
	"  ownertrace daemon         run as a service: print only anomalies, keep memory bounded, write "
	"--prometheus metrics\n"
	"  ownertrace groups         every IOMMU group's ownership now, owner_cnt held against the count "
	"recalculated from its devices\n"
	"\n"
	"Tracing needs root and a kernel with BTF; fentry/fexit is used, kprobe/kretprobe the fallback. "
	"Live runs start with a census of every IOMMU group (as `groups`), so a count leaked before the "
	"trace is reported at once (preexisting_leak).\n"
	"\n"
	"Exit status: 0 clean; 1 could not run (privileges, BTF, kernel refused, unreadable recording); "
	"2 bad usage; 3 anomalies found (diff, --baseline: the candidate regressed; groups: a leaked or "
	"missing count); 4 (run) CMD failed, no anomalies.\n"
	"\n"
	"EXAMPLES:\n"
	"  ownertrace -d 0000:01:00.0 -s        one device, with kernel stacks\n"
	"  ownertrace --json -t 30 -w t.otr     JSON Lines for 30 s, recorded too\n"
	"  ownertrace replay --json t.otr       the same JSON again, offline\n"
	"  ownertrace --json | jq -c 'select(.type == \"anomaly\")'\n"
	"                                       anomalies only (schema: ownertrace(8))\n"
	"  ownertrace --perfetto t.json -t 30   a timeline to open in ui.perfetto.dev\n"
	"  ownertrace replay --perfetto t.json t.otr\n"
	"                                       the timeline of a recording\n"
	"  ownertrace run -- ./bind-test.sh     CI: exit 3 if ownership went wrong\n"
	"  ownertrace --dry-run                 what can be attached here, then exit\n"
	"  ownertrace diff good.otr new.otr     CI gate: exit 3 if new.otr regressed\n"
	"  ownertrace run --baseline good.otr -w new.otr -- ./bind-test.sh\n"
	"                                       the same gate on a live run\n"
	"  ownertrace daemon --prometheus /var/lib/prometheus/node-exporter/ownertrace.prom\n"
	"  ownertrace groups                    every group: owner_cnt, recalculated, verdict\n"
	"  ownertrace groups --json -g 5        one group as a JSON Lines census record\n"
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
	OPT_BASELINE,
	OPT_FAIL_ON,
	OPT_MAX_P50,
	OPT_MAX_P99,
	OPT_MIN_SAMPLES,
	OPT_MIN_CHANGE,
	OPT_PERFETTO,
	OPT_PROMETHEUS,
	OPT_METRICS_INTERVAL,
	OPT_AUDIT_INTERVAL,
	OPT_NO_CENSUS,
};

static const struct argp_option options[] = {
	{ "json", 'j', NULL, 0, "JSON Lines: one object per event and anomaly, then a summary object", 0 },
	{ "output", 'o', "FILE", 0, "Write events, anomalies and the JSON summary to FILE instead of stdout", 0 },
	{ "write", 'w', "FILE", 0, "Also record the run into FILE (trace, run)", 0 },
	{ "perfetto", OPT_PERFETTO, "FILE", 0, "Also write a timeline for ui.perfetto.dev / chrome://tracing to FILE "
	  "(trace-event JSON; replaced at the end of the run)", 0 },
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
	{ "ringbuf-size", OPT_RINGBUF, "KIB", 0, "Ring buffer size in KiB, a power of two (default 2048)", 0 },
	{ "hist", OPT_HIST, NULL, 0, "Latency histograms of probe, remove, dma_configure, claim, release", 0 },
	{ "hist-only", OPT_HIST_ONLY, NULL, 0,
	  "Histograms only: no events streamed, no ownership analysis, one duration per call", 0 },
	{ "hist-by", OPT_HIST_BY, "KEY", 0, "Histogram key: driver (default), bus or device", 0 },
	{ "unit", OPT_UNIT, "UNIT", 0, "Histogram unit: usec (default) or msec", 0 },
	{ "msec", 'm', NULL, 0, "Same as --unit msec", 0 },
	{ "interval", 'i', "SECONDS", 0, "Print and reset the histograms every SECONDS; an optional COUNT "
	  "argument after it stops after COUNT intervals", 0 },
	{ "prometheus", OPT_PROMETHEUS, "FILE", 0, "Keep FILE updated with metrics in the Prometheus text format "
	  "(for node_exporter's textfile collector), rewritten atomically every --metrics-interval and at the end", 0 },
	{ "metrics-interval", OPT_METRICS_INTERVAL, "SECONDS", 0, "Rewrite the --prometheus file every SECONDS "
	  "(default 15)", 0 },
	{ "audit-interval", OPT_AUDIT_INTERVAL, "SECONDS", 0, "Take a census of every IOMMU group every SECONDS "
	  "and at the end, and report a group that drifted from its recalculated count (daemon: default 60; "
	  "trace, record, run: default 0 = never)", 0 },
	{ "no-census", OPT_NO_CENSUS, NULL, 0, "Do not take the census at the start of a live run: the shadow "
	  "learns each group from its first traced call", 0 },
	{ "verbose", 'v', NULL, 0, "Show libbpf's log, and where start-up went", 0 },
	{ NULL, 0, NULL, 0, "Regression gate (diff, or a live run with --baseline):", 1 },
	{ "baseline", OPT_BASELINE, "FILE", 0, "Compare this live run (trace, record, run) with the recording FILE "
	  "and exit 3 if it regressed", 1 },
	{ "fail-on", OPT_FAIL_ON, "LIST", 0, "What fails the gate, comma-separated: new-anomaly, sequence-change, "
	  "latency, count-change, all, none (default new-anomaly,sequence-change,latency)", 1 },
	{ "max-p50-regress", OPT_MAX_P50, "PCT", 0, "Fail when a driver's median probe/remove/... time grows by "
	  "more than PCT percent (default 50; off to not gate)", 1 },
	{ "max-p99-regress", OPT_MAX_P99, "PCT", 0, "The same for the 99th percentile (default 100; off)", 1 },
	{ "min-samples", OPT_MIN_SAMPLES, "N", 0, "Compare latency only with at least N calls in each run "
	  "(default 5)", 1 },
	{ "min-change", OPT_MIN_CHANGE, "TIME", 0, "Ignore latency growth smaller than TIME, e.g. 500us, 2ms "
	  "(default 1ms)", 1 },
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

/* "20", "20%", "12.5%" -> 0.2...; "off" -> -1 (not gated) */
static bool parse_percent(const char *s, double *out)
{
	char *end;
	double v;

	if (!strcmp(s, "off") || !strcmp(s, "none")) {
		*out = -1;
		return true;
	}
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0 || (*end && strcmp(end, "%")))
		return false;
	*out = v / 100.0;
	return true;
}

/* "500us", "2ms", "1.5s", "0" -> nanoseconds */
static bool parse_duration(const char *s, uint64_t *out)
{
	static const struct { const char *unit; double ns; } units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
	};
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return false;
	if (!*end && v == 0) {
		*out = 0;
		return true;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit)) {
			*out = (uint64_t)(v * units[i].ns + 0.5);
			return true;
		}
	return false;
}

static bool diff_option_given;

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
	case OPT_PERFETTO:
		env.perfetto_path = arg;
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
	case OPT_PROMETHEUS:
		env.prometheus_path = arg;
		break;
	case OPT_METRICS_INTERVAL:
		errno = 0;
		env.metrics_interval_s = strtod(arg, &end);
		if (errno || end == arg || *end || !(env.metrics_interval_s >= 0.1 && env.metrics_interval_s <= 86400))
			argp_error(state, "--metrics-interval wants seconds from 0.1 to 86400, got '%s'", arg);
		break;
	case OPT_AUDIT_INTERVAL:
		errno = 0;
		env.audit_interval_s = strtod(arg, &end);
		if (errno || end == arg || *end || !(env.audit_interval_s == 0 ||
						     (env.audit_interval_s >= 1 && env.audit_interval_s <= 86400)))
			argp_error(state, "--audit-interval wants 0 (never) or seconds from 1 to 86400, got '%s'", arg);
		break;
	case OPT_NO_CENSUS:
		env.no_census = true;
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
	case OPT_BASELINE:
		env.baseline_path = arg;
		break;
	case OPT_FAIL_ON: {
		char bad[64];

		if (ot_diff_parse_fail_on(arg, &env.diff.fail_on, bad, sizeof(bad)))
			argp_error(state, "--fail-on: unknown '%s' (want new-anomaly, sequence-change, latency, "
				   "count-change, all or none)", bad);
		diff_option_given = true;
		break;
	}
	case OPT_MAX_P50:
	case OPT_MAX_P99:
		if (!parse_percent(arg, key == OPT_MAX_P50 ? &env.diff.max_p50_regress : &env.diff.max_p99_regress))
			argp_error(state, "--%s wants a percentage such as 20 or 20%%, or off, got '%s'",
				   key == OPT_MAX_P50 ? "max-p50-regress" : "max-p99-regress", arg);
		diff_option_given = true;
		break;
	case OPT_MIN_SAMPLES:
		if (!parse_ulong(arg, 1, UINT_MAX, &v))
			argp_error(state, "--min-samples wants a number >= 1, got '%s'", arg);
		env.diff.min_samples = v;
		diff_option_given = true;
		break;
	case OPT_MIN_CHANGE:
		if (!parse_duration(arg, &env.diff.min_change_ns))
			argp_error(state, "--min-change wants a time with a unit (ns, us, ms, s), e.g. 500us, got '%s'", arg);
		diff_option_given = true;
		break;
	case ARGP_KEY_ARG:
		if (state->arg_num == 0 && env.command == OT_CMD_TRACE) {
			if (!strcmp(arg, "trace"))
				break;
			if (!strcmp(arg, "record") || !strcmp(arg, "replay")) {
				env.command = arg[2] == 'c' ? OT_CMD_RECORD : OT_CMD_REPLAY;
				break;
			}
			if (!strcmp(arg, "run")) {
				env.command = OT_CMD_RUN;
				break;
			}
			if (!strcmp(arg, "diff")) {
				env.command = OT_CMD_DIFF;
				break;
			}
			if (!strcmp(arg, "daemon")) {
				env.command = OT_CMD_DAEMON;
				break;
			}
			if (!strcmp(arg, "groups")) {
				env.command = OT_CMD_GROUPS;
				break;
			}
		}
		if (env.interval_s > 0 && !env.interval_count && parse_ulong(arg, 1, ULONG_MAX, &v)) {
			env.interval_count = v;	/* -i SECONDS COUNT */
			break;
		}
		if (env.command == OT_CMD_DIFF && (!env.baseline_path || !env.candidate_path)) {
			*(env.baseline_path ? &env.candidate_path : &env.baseline_path) = arg;
			break;
		}
		if ((env.command == OT_CMD_RECORD && !env.write_path) ||
		    (env.command == OT_CMD_REPLAY && !env.replay_path)) {
			*(env.command == OT_CMD_RECORD ? &env.write_path : &env.replay_path) = arg;
			break;
		}
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (env.command == OT_CMD_RECORD && !env.write_path)
			argp_error(state, "record needs a FILE to write");
		if (env.command == OT_CMD_REPLAY && !env.replay_path)
			argp_error(state, "replay needs a recording FILE");
		if (env.command == OT_CMD_DIFF && !env.candidate_path)
			argp_error(state, "diff needs two recordings: BASELINE CANDIDATE");
		if (env.command == OT_CMD_DIFF && (env.dry_run || env.force_kprobes || env.duration_s > 0 ||
						   env.interval_s > 0 || env.write_path || env.hist ||
						   env.perfetto_path || env.prometheus_path ||
						   ot_filter_active(&env.filter)))
			argp_error(state, "diff compares whole recordings; only --json, --output and the gate "
					  "options apply");
		/* the candidate's profile sees only what the filters pass; the baseline has everything */
		if (env.baseline_path && ot_filter_active(&env.filter))
			argp_error(state, "--baseline compares whole runs; --device, --driver and --group would "
					  "make everything else look gone");
		if (env.command == OT_CMD_REPLAY && env.baseline_path)
			argp_error(state, "to compare a recording with a baseline: ownertrace diff BASELINE FILE");
		if (diff_option_given && env.command != OT_CMD_DIFF && !env.baseline_path)
			argp_error(state, "--fail-on, --max-p50-regress, --max-p99-regress, --min-samples and "
					  "--min-change set the gate of diff or --baseline");
		if (env.command == OT_CMD_RUN && !env.run_argv)
			argp_error(state, "run needs a command after --, e.g. `ownertrace run -- ./test.sh`");
		if (env.command != OT_CMD_RUN && env.run_argv)
			argp_error(state, "a command after -- is only for `ownertrace run`");
		if (env.command == OT_CMD_REPLAY && (env.dry_run || env.force_kprobes || env.duration_s > 0))
			argp_error(state, "--dry-run, --kprobes and --duration do not apply to replay");
		if (env.command == OT_CMD_RUN && env.duration_s > 0)
			argp_error(state, "run stops when the command exits; --duration does not apply");
		if (env.command == OT_CMD_REPLAY && env.interval_s > 0)
			argp_error(state, "--interval does not apply to replay");
		if (env.perfetto_path && (env.dry_run || env.hist_only))
			argp_error(state, "--perfetto draws events; --dry-run and --hist-only have none");
		if (env.metrics_interval_s > 0 && !env.prometheus_path)
			argp_error(state, "--metrics-interval needs --prometheus FILE");
		if (env.command == OT_CMD_REPLAY && env.metrics_interval_s > 0)
			argp_error(state, "replay writes the --prometheus file once, at the end; --metrics-interval "
					  "does not apply");
		/* the daemon's memory must stay bounded: nothing that keeps every duration or event */
		if (env.command == OT_CMD_DAEMON && (env.baseline_path || env.perfetto_path))
			argp_error(state, "daemon keeps its memory and files bounded; --baseline (every duration "
					  "kept for the comparison) and --perfetto (a timeline growing until the end) "
					  "belong to runs that end: trace -t, record, run");
		if (env.command == OT_CMD_GROUPS &&
		    (env.dry_run || env.duration_s > 0 || env.interval_s > 0 || env.write_path || env.hist ||
		     env.perfetto_path || env.prometheus_path || env.baseline_path || env.stacks ||
		     env.no_census || env.audit_interval_s >= 0))
			argp_error(state, "groups takes one census and prints it: only --json, --output, --group, "
					  "--device, --driver, --raw-pointers, --kprobes, --btf and --verbose apply");
		if ((env.command == OT_CMD_REPLAY || env.command == OT_CMD_DIFF) &&
		    (env.no_census || env.audit_interval_s >= 0))
			argp_error(state, "--no-census and --audit-interval are for live runs; a recording replays "
					  "the censuses it has");
		if (env.no_census && env.audit_interval_s > 0)
			argp_error(state, "--no-census with --audit-interval: the audits need the census");
		if (env.command == OT_CMD_DAEMON && (env.hist || env.write_path))
			argp_error(state, "daemon keeps its memory bounded, so --hist, --hist-only, --interval "
					  "(exact durations) and --write (a growing recording) do not apply; its "
					  "latency histograms are in the --prometheus file");

		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int ot_cli_parse(int argc, char **argv, struct ot_cli *cli)
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
	ot_diff_opts_default(&env.diff);
	argp_err_exit_status = OT_EXIT_USAGE;
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return OT_EXIT_USAGE;
	*cli = env;
	return 0;
}

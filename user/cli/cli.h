/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the command line asked for. cli/options.c parses it; each command
 * under cmd/ runs from it and calls nothing back in here.
 */
#ifndef OT_CLI_H
#define OT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "core/filter.h"
#include "util/exit.h"
#include "analysis/diff.h"
#include "analysis/hist.h"


enum ot_command { OT_CMD_TRACE, OT_CMD_RECORD, OT_CMD_REPLAY, OT_CMD_RUN, OT_CMD_DIFF, OT_CMD_DAEMON, OT_CMD_GROUPS };

struct ot_cli {
	enum ot_command command;
	bool json;
	bool stacks;
	bool raw_pointers;
	bool dry_run;
	bool verbose;
	bool force_kprobes;
	double duration_s;
	const char *btf_path;
	const char *output_path;
	const char *perfetto_path;	/* --perfetto: timeline for ui.perfetto.dev */
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
	double interval_s;		/* -i: print and reset the histograms every interval */
	unsigned long interval_count;	/* stop after this many intervals, 0 = no limit */
	const char *baseline_path;	/* diff BASELINE, or a live run's --baseline */
	const char *candidate_path;	/* diff CANDIDATE */
	struct ot_diff_opts diff;
	const char *prometheus_path;	/* --prometheus FILE: node_exporter textfile metrics */
	double metrics_interval_s;	/* rewrite it this often (0: the default) */
	bool no_census;			/* --no-census: no census at the start of a live run */
	double audit_interval_s;	/* --audit-interval: census every this often, and at the end; 0 never,
					 * < 0 not given (daemon: OT_AUDIT_DEFAULT_S, others: never) */
};

#define OT_AUDIT_DEFAULT_S 60.0

/*
 * Parse argv into *cli: 0, or the exit status to leave with (--help and
 * --version exit inside argp; bad usage is OT_EXIT_USAGE after saying why).
 */
int ot_cli_parse(int argc, char **argv, struct ot_cli *cli);

#endif

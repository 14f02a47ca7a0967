/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the command line asked for, shared by the commands. main.c parses
 * it; live.c, replay.c and the other commands each run one command from it.
 */
#ifndef OT_CLI_H
#define OT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "filter.h"
#include "diff.h"
#include "hist.h"

/* Exit statuses (documented in --help, README.md and ownertrace(8)). */
enum {
	OT_EXIT_CLEAN = 0,
	OT_EXIT_CANNOT_RUN = 1,
	OT_EXIT_USAGE = 2,
	OT_EXIT_ANOMALIES = 3,
	OT_EXIT_CMD_FAILED = 4,
};

enum ot_command { OT_CMD_TRACE, OT_CMD_RECORD, OT_CMD_REPLAY, OT_CMD_RUN, OT_CMD_DIFF, OT_CMD_DAEMON };

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
};

/* -o FILE, or stdout; NULL (and said why) when FILE cannot be written. */
FILE *ot_cli_open_output(const struct ot_cli *cli);

int ot_run_live(const struct ot_cli *cli);
int ot_run_replay(const struct ot_cli *cli);
int ot_run_diff(const struct ot_cli *cli);

/*
 * A recording's profile for diff; NULL after saying why. side gets the
 * file name, its kernel (copied into kernel[65]) and its event count.
 */
struct ot_profile *ot_load_profile(const char *path, struct ot_diff_side *side, char kernel[65]);
/* Compare, print the report (-o/--json as asked), return the exit status. */
int ot_diff_report(const struct ot_cli *cli, FILE *out, struct ot_profile *base, const struct ot_diff_side *bside,
		   struct ot_profile *cand, const struct ot_diff_side *cside);

#endif

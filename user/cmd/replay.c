// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * replay FILE: feed a recording through the same pipeline as the live run,
 * so it prints what the live run printed.
 */
#include <stdio.h>
#include <string.h>
#include "kernel/attach.h"
#include "cli/cli.h"
#include "cmd/cmd.h"
#include "analysis/hist.h"
#include "core/owner_tokens.h"
#include "output/perfetto.h"
#include "session/session.h"
#include "output/prometheus.h"
#include "core/recording.h"
#include "core/stacks.h"

int ot_cmd_replay(const struct ot_cli *cli)
{
	static struct ot_pipeline pipe;
	static struct ot_bindings bindings;
	struct ot_filter filter = cli->filter;
	struct ot_rec_reader reader;
	struct ot_perfetto *perfetto = NULL;
	struct ot_prom *prom = NULL;
	char err[512];
	FILE *out;
	int rc, ret, ret_sinks = 0;

	if (ot_rec_reader_open_file(&reader, cli->replay_path, err, sizeof(err))) {
		fprintf(stderr, "ownertrace: %s: %s\n", cli->replay_path, err);
		return OT_EXIT_CANNOT_RUN;
	}
	out = ot_output_open(cli->output_path);
	if (!out) {
		ot_rec_reader_close(&reader);
		return OT_EXIT_CANNOT_RUN;
	}
	fprintf(stderr, "ownertrace: replaying %s (kernel %s, %s mode)\n", cli->replay_path,
		reader.header.kernel_release[0] ? reader.header.kernel_release : "unknown",
		ot_mode_name(reader.header.attach_mode));
	pipe.stacks = ot_stacks_new();
	pipe.filter = &filter;	/* a copy: matching learns groups */
	pipe.print_events = !cli->hist_only;
	pipe.hist_by = cli->hist_by;
	if (cli->hist && !(pipe.hists = ot_hist_table_new(ot_hist_kind_names, OT_HIST_KIND_COUNT))) {
		fprintf(stderr, "ownertrace: out of memory\n");
		ot_rec_reader_close(&reader);
		return OT_EXIT_CANNOT_RUN;
	}
	pipe.out = (struct ot_output){
		.out = out, .json = cli->json, .stacks = cli->stacks, .raw_pointers = cli->raw_pointers,
		.start_ns = reader.header.start_ns, .tokens = ot_owner_tokens_new(), .bindings = &bindings,
	};
	if (!pipe.stacks || !pipe.out.tokens || ot_pipeline_init(&pipe)) {
		fprintf(stderr, "ownertrace: out of memory\n");
		ot_rec_reader_close(&reader);
		return OT_EXIT_CANNOT_RUN;
	}
	if (cli->perfetto_path && !(perfetto = ot_perfetto_attach(&pipe, cli->perfetto_path))) {
		ot_rec_reader_close(&reader);
		return OT_EXIT_CANNOT_RUN;
	}
	if (cli->prometheus_path &&
	    !(prom = ot_prom_add_sink(&pipe, cli->prometheus_path, 0, cli->hist_by))) {
		ot_rec_reader_close(&reader);
		return OT_EXIT_CANNOT_RUN;
	}
	rc = ot_pipeline_feed_recording(&pipe, &reader, &bindings, err, sizeof(err));
	pipe.stats.mode = ot_mode_name(reader.header.attach_mode);
	memcpy(pipe.stats.bpf, reader.end.bpf, sizeof(pipe.stats.bpf));
	pipe.stats.kretprobe_misses = reader.ended ? reader.end.kretprobe_misses : -1;
	pipe.stats.duration_s = reader.ended ? (double)(reader.end.end_ns - reader.header.start_ns) / 1e9 : 0;
	fflush(out);
	if (cli->hist)
		ot_pipeline_print_hists(&pipe, cli->unit, 0, pipe.stats.duration_s);
	if (ot_pipeline_finish(&pipe, reader.ended ? reader.end.end_ns : reader.header.start_ns))
		ret_sinks = OT_EXIT_CANNOT_RUN;
	ot_output_summary(&pipe.out, stderr, &pipe.stats, pipe.analysis, pipe.stacks,
			  reader.ended ? reader.end.end_ns : reader.header.start_ns);
	ret = ot_stats_anomalies(&pipe.stats) ? OT_EXIT_ANOMALIES : OT_EXIT_CLEAN;
	if (rc < 0) {
		fprintf(stderr, "ownertrace: %s: %s\n", cli->replay_path, err);
		ret = OT_EXIT_CANNOT_RUN;
	}
	if (ret_sinks)
		ret = ret_sinks;
	ot_perfetto_free(perfetto);
	ot_pipeline_fini(&pipe);
	ot_owner_tokens_free(pipe.out.tokens);
	ot_stacks_free(pipe.stacks);
	ot_hist_table_free(pipe.hists);
	ot_prom_free(prom);
	ot_rec_reader_close(&reader);
	if (out != stdout)
		fclose(out);
	return ret;
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What the live and replay commands both build from the command line. */
#include "cli/cli.h"
#include "cmd/cmd.h"

const struct ot_writer_ops *ot_cmd_format(const struct ot_cli *cli)
{
	return cli->json ? &ot_jsonl_writer : &ot_text_writer;
}

void ot_cmd_session_opts(const struct ot_cli *cli, FILE *out, uint64_t start_ns, struct ot_session_opts *o)
{
	*o = (struct ot_session_opts){
		.format = ot_cmd_format(cli),
		.out = out,
		.human = stderr,
		.start_ns = start_ns,
		.print_events = !cli->hist_only,
		.stacks = cli->stacks,
		.raw_pointers = cli->raw_pointers,
		.filter = cli->filter,
		.hist = cli->hist,
		.hist_by = cli->hist_by,
		.unit = cli->unit,
		.perfetto_path = cli->perfetto_path,
		.prometheus_path = cli->prometheus_path,
		.metrics_interval_s = cli->metrics_interval_s,
	};
}

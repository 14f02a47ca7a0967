// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * replay FILE: feed a recording through the same session as the live run,
 * so it prints what the live run printed.
 */
#include <stdio.h>
#include "cli/cli.h"
#include "cmd/cmd.h"
#include "core/recording.h"
#include "session/session.h"

int ot_cmd_replay(const struct ot_cli *cli)
{
	struct ot_session_opts opts;
	struct ot_rec_reader reader;
	char err[512];
	FILE *out;
	int ret;

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
	ot_cmd_session_opts(cli, out, reader.header.start_ns, &opts);
	ret = ot_session_run_replay(&opts, &reader, err, sizeof(err));
	if (err[0])	/* after the summary: what was read before the damage was replayed */
		fprintf(stderr, "ownertrace: %s: %s\n", cli->replay_path, err);
	ot_rec_reader_close(&reader);
	if (out != stdout)
		fclose(out);
	return ret;
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * diff BASELINE CANDIDATE: the CI regression gate. Each recording is
 * replayed, quietly, into a profile (profile.h); the two profiles are
 * compared (diff.h) and the verdict is the exit status.
 */
#include <stdio.h>
#include "cli/cli.h"
#include "cmd/cmd.h"
#include "analysis/profile.h"
#include "output/writer.h"
#include "session/gate.h"

int ot_cmd_diff(const struct ot_cli *cli)
{
	struct ot_profile *base, *cand = NULL;
	struct ot_diff_side bside, cside;
	char bkernel[65], ckernel[65];
	FILE *out = NULL;
	int ret = OT_EXIT_CANNOT_RUN;

	base = ot_gate_load(cli->baseline_path, &bside, bkernel);
	if (base)
		cand = ot_gate_load(cli->candidate_path, &cside, ckernel);
	if (cand)
		out = ot_output_open(cli->output_path);
	if (out) {
		ret = ot_gate_report(&cli->diff, ot_cmd_format(cli), out, base, &bside, cand, &cside);
		if (out != stdout)
			fclose(out);
	}
	ot_profile_free(base);
	ot_profile_free(cand);
	return ret;
}

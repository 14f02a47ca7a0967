// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * groups: one census of every IOMMU group, printed as a table (or JSON
 * Lines "census" records), with a verdict per group. Like lspci, for DMA
 * ownership: exit 0 when every group is consistent (or claimed, unsettled,
 * truncated), 3 when a count is leaked or missing, 1 when the census could
 * not be taken.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/census.h"
#include "cli/cli.h"
#include "cmd/cmd.h"
#include "core/owner_tokens.h"
#include "kernel/census.h"
#include "kernel/preflight.h"
#include "output/writer.h"
#include "util/clock.h"

/* The groups the filters pass: the group itself, or one of its devices or drivers. */
static bool group_wanted(struct ot_filter *f, const struct ot_census_group *g)
{
	struct ot_event probe = { .group_id = g->snap.head.group_id };
	bool any = false;

	if (!ot_filter_active(f))
		return true;
	if (!g->snap.head.ndevices)
		return ot_filter_match(f, &probe);
	for (uint32_t d = 0; d < g->snap.head.ndevices && d < OT_CENSUS_MAX_DEVICES; d++) {
		memcpy(probe.device, g->snap.dev[d].name, sizeof(probe.device));
		memcpy(probe.driver, g->snap.dev[d].driver, sizeof(probe.driver));
		any |= ot_filter_match(f, &probe);
	}
	return any;
}

int ot_cmd_groups(const struct ot_cli *cli)
{
	struct ot_census_taker_opts opts = { .force_kprobes = cli->force_kprobes, .btf_path = cli->btf_path };
	struct ot_filter filter = cli->filter;
	struct ot_census_taker *taker = NULL;
	static struct ot_census census;
	struct ot_run run = { .raw_pointers = cli->raw_pointers };
	struct ot_writer w;
	bool *shown = NULL;
	int ret = OT_EXIT_CANNOT_RUN, violations = 0, nshown = 0;
	char err[1024];
	FILE *out = NULL;
	uint64_t t0, t1;

	if (ot_check_privileges(err, sizeof(err)) || ot_check_btf(cli->btf_path, err, sizeof(err))) {
		fprintf(stderr, "ownertrace: %s\n", err);
		return OT_EXIT_CANNOT_RUN;
	}
	t0 = ot_now_ns();
	if (ot_census_taker_open(&taker, &opts, err, sizeof(err))) {
		fprintf(stderr, "ownertrace: %s\n", err);
		return OT_EXIT_CANNOT_RUN;
	}
	t1 = ot_now_ns();
	if (ot_census_take(taker, OT_CENSUS_GROUPS, &census, err, sizeof(err))) {
		fprintf(stderr, "ownertrace: %s\n", err);
		goto out;
	}
	if (cli->verbose)
		fprintf(stderr, "ownertrace: census program on %s (%s), loaded in %.0f ms; %d groups read in %.0f ms\n",
			ot_census_taker_function(taker), ot_mode_name(ot_census_taker_mode(taker)), (t1 - t0) / 1e6,
			census.ngroups, (ot_now_ns() - t1) / 1e6);
	ot_census_taker_close(taker);
	taker = NULL;
	out = ot_output_open(cli->output_path);
	run.tokens = ot_owner_tokens_new();
	shown = calloc((size_t)census.ngroups + 1, sizeof(*shown));
	if (!out || !run.tokens || !shown) {
		if (out)
			fprintf(stderr, "ownertrace: out of memory\n");
		goto out;
	}
	for (int i = 0; i < census.ngroups; i++) {
		struct ot_census_judgement j;

		ot_owner_token(run.tokens, census.groups[i].snap.head.owner);
		shown[i] = group_wanted(&filter, &census.groups[i]);
		if (!shown[i])
			continue;
		nshown++;
		ot_census_judge(&census.groups[i], &j);
		violations += ot_census_is_violation(j.verdict);
	}
	if (!census.ngroups)
		fprintf(stderr, "ownertrace: no IOMMU groups on this host (no IOMMU, or it is off: "
				"intel_iommu=on / amd_iommu=on); nothing to check\n");
	else if (!nshown)
		fprintf(stderr, "ownertrace: no IOMMU group matches the --group/--device/--driver filters\n");
	ot_writer_init(&w, ot_cmd_format(cli), out, &run);
	if (nshown)
		ot_write_census(&w, &(struct ot_census_record){ .census = &census, .shown = shown });
	if (ot_writer_fini(&w)) {
		fprintf(stderr, "ownertrace: writing the census failed\n");
		goto out;
	}
	ret = violations ? OT_EXIT_ANOMALIES : OT_EXIT_CLEAN;
out:
	free(shown);
	ot_owner_tokens_free(run.tokens);
	if (out && out != stdout)
		fclose(out);
	ot_census_taker_close(taker);
	ot_census_free(&census);
	return ret;
}

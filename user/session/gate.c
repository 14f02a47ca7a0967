// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The regression gate's two halves, shared by `diff` and a live run's
 * --baseline: a recording replayed, quietly, into a profile (profile.h),
 * and two profiles compared (diff.h) into a report and a verdict.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "analysis/diff.h"
#include "analysis/profile.h"
#include "core/owner_tokens.h"
#include "core/recording.h"
#include "core/stacks.h"
#include "session/gate.h"
#include "session/session.h"
#include "util/exit.h"

/* Rows per section of the text report: one screen; --json has everything. */
#define DIFF_MAX_ROWS 8

struct ot_profile *ot_gate_load(const char *path, struct ot_diff_side *side, char kernel[65])
{
	static struct ot_bindings bindings;
	struct ot_pipeline pipe;
	struct ot_rec_reader reader;
	struct ot_profile *profile = NULL;
	struct ot_sink sink;
	char err[512];
	int rc;

	if (ot_rec_reader_open_file(&reader, path, err, sizeof(err))) {
		fprintf(stderr, "ownertrace: %s: %s\n", path, err);
		return NULL;
	}
	/* the pipeline runs the ownership analysis; the profile is its only output */
	memset(&pipe, 0, sizeof(pipe));
	pipe.stacks = ot_stacks_new();
	pipe.out.tokens = ot_owner_tokens_new();
	pipe.out.bindings = &bindings;
	profile = ot_profile_new();
	if (!pipe.stacks || !pipe.out.tokens || !profile || ot_pipeline_init(&pipe)) {
		fprintf(stderr, "ownertrace: out of memory reading %s\n", path);
		goto fail;
	}
	sink = ot_profile_sink(profile);
	ot_pipeline_add_sink(&pipe, &sink);
	rc = ot_pipeline_feed_recording(&pipe, &reader, &bindings, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "ownertrace: %s: %s\n", path, err);
		goto fail;
	}
	if (!reader.ended)
		fprintf(stderr, "ownertrace: warning: %s ends without its END record (the recorder was killed?); "
				"comparing the events it has\n", path);
	if (ot_profile_finish(profile)) {
		fprintf(stderr, "ownertrace: out of memory reading %s\n", path);
		goto fail;
	}
	snprintf(kernel, 65, "%s", reader.header.kernel_release);
	*side = (struct ot_diff_side){ .label = path, .kernel = kernel, .events = ot_profile_event_count(profile) };
	if (ot_profile_unfinished(profile))
		fprintf(stderr, "ownertrace: note: %llu probe/remove calls in %s were still running when it ended; "
				"they are not compared\n", (unsigned long long)ot_profile_unfinished(profile), path);
	ot_pipeline_fini(&pipe);
	ot_owner_tokens_free(pipe.out.tokens);
	ot_stacks_free(pipe.stacks);
	ot_rec_reader_close(&reader);
	return profile;
fail:
	ot_pipeline_fini(&pipe);
	ot_owner_tokens_free(pipe.out.tokens);
	ot_stacks_free(pipe.stacks);
	ot_profile_free(profile);
	ot_rec_reader_close(&reader);
	return NULL;
}

int ot_gate_report(const struct ot_diff_opts *opts, bool json, FILE *out, struct ot_profile *base, const struct ot_diff_side *bside,
		   struct ot_profile *cand, const struct ot_diff_side *cside)
{
	struct ot_diff d;

	if (ot_diff_compare(base, cand, opts, &d)) {
		fprintf(stderr, "ownertrace: out of memory comparing the runs\n");
		return OT_EXIT_CANNOT_RUN;
	}
	if (json)
		ot_diff_print_json(out, &d, opts, bside, cside);
	else
		ot_diff_print(out, &d, opts, bside, cside, DIFF_MAX_ROWS);
	fflush(out);
	int ret = d.fail ? OT_EXIT_ANOMALIES : OT_EXIT_CLEAN;

	ot_diff_free(&d);
	return ret;
}


// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The regression gate's two halves, shared by `diff` and a live run's
 * --baseline: a recording replayed, quietly, into a profile (profile.h),
 * and two profiles compared (diff.h) into a report and a verdict.
 */
#include <stdio.h>
#include "analysis/diff.h"
#include "analysis/profile.h"
#include "core/recording.h"
#include "output/writer.h"
#include "session/gate.h"
#include "session/session.h"
#include "util/exit.h"

/* Rows per section of the text report: one screen; --json has everything. */
#define DIFF_MAX_ROWS 8

struct ot_profile *ot_gate_load(const char *path, struct ot_diff_side *side, char kernel[65])
{
	/* a quiet replay: the session runs the ownership analysis; the profile is its only output */
	struct ot_session_opts opts = { .profile = true };
	struct ot_session *session = NULL;
	struct ot_profile *profile = NULL;
	struct ot_rec_reader reader;
	char err[512];

	if (ot_rec_reader_open_file(&reader, path, err, sizeof(err))) {
		fprintf(stderr, "ownertrace: %s: %s\n", path, err);
		return NULL;
	}
	opts.start_ns = reader.header.start_ns;
	session = ot_session_new(&opts);
	if (!session)
		goto out;
	if (ot_session_replay(session, &reader, err, sizeof(err))) {
		fprintf(stderr, "ownertrace: %s: %s\n", path, err);
		goto out;
	}
	if (!reader.ended)
		fprintf(stderr, "ownertrace: warning: %s ends without its END record (the recorder was killed?); "
				"comparing the events it has\n", path);
	profile = ot_session_take_profile(session);
	if (ot_profile_finish(profile)) {
		fprintf(stderr, "ownertrace: out of memory reading %s\n", path);
		ot_profile_free(profile);
		profile = NULL;
		goto out;
	}
	snprintf(kernel, 65, "%s", reader.header.kernel_release);
	*side = (struct ot_diff_side){ .label = path, .kernel = kernel, .events = ot_profile_event_count(profile) };
	if (ot_profile_unfinished(profile))
		fprintf(stderr, "ownertrace: note: %llu probe/remove calls in %s were still running when it ended; "
				"they are not compared\n", (unsigned long long)ot_profile_unfinished(profile), path);
out:
	ot_session_free(session);
	ot_rec_reader_close(&reader);
	return profile;
}

int ot_gate_report(const struct ot_diff_opts *opts, const struct ot_writer_ops *format, FILE *out,
		   struct ot_profile *base, const struct ot_diff_side *bside, struct ot_profile *cand,
		   const struct ot_diff_side *cside)
{
	struct ot_diff d;
	struct ot_writer w;
	int ret;

	if (ot_diff_compare(base, cand, opts, &d)) {
		fprintf(stderr, "ownertrace: out of memory comparing the runs\n");
		return OT_EXIT_CANNOT_RUN;
	}
	ot_writer_init(&w, format, out, NULL);
	ot_write_diff(&w, &(struct ot_diff_record){ .diff = &d, .opts = opts, .base = bside, .cand = cside,
						 .max_rows = DIFF_MAX_ROWS });
	ret = d.fail ? OT_EXIT_ANOMALIES : OT_EXIT_CLEAN;
	if (ot_writer_fini(&w)) {
		fprintf(stderr, "ownertrace: writing the report failed\n");
		ret = OT_EXIT_CANNOT_RUN;
	}
	ot_diff_free(&d);
	return ret;
}

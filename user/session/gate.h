/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The regression gate: a recording's profile, and the comparison of two. */
#ifndef OT_GATE_H
#define OT_GATE_H

#include <stdbool.h>
#include <stdio.h>
#include "analysis/diff.h"
#include "output/writer.h"

/*
 * A recording's profile for diff; NULL after saying why. side gets the
 * file name, its kernel (copied into kernel[65]) and its event count.
 */
struct ot_profile *ot_gate_load(const char *path, struct ot_diff_side *side, char kernel[65]);
/* Compare, write the report in that format to out, return the exit status. */
int ot_gate_report(const struct ot_diff_opts *opts, const struct ot_writer_ops *format, FILE *out,
		   struct ot_profile *base, const struct ot_diff_side *bside, struct ot_profile *cand,
		   const struct ot_diff_side *cside);

#endif

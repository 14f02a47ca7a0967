/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The commands, one file each; main() picks one. Each returns the exit
 * status (OT_EXIT_* in util/exit.h). */
#ifndef OT_CMD_H
#define OT_CMD_H

#include <stdint.h>
#include <stdio.h>
#include "session/session.h"

struct ot_cli;

int ot_cmd_live(const struct ot_cli *cli);	/* trace, record, run, daemon: cmd/live.c */
int ot_cmd_replay(const struct ot_cli *cli);	/* cmd/replay.c */
int ot_cmd_diff(const struct ot_cli *cli);	/* cmd/diff.c */
int ot_cmd_groups(const struct ot_cli *cli);	/* cmd/groups.c */

/* cmd/session_opts.c: the stream's format (--json or text), and the session a command line asks for. */
const struct ot_writer_ops *ot_cmd_format(const struct ot_cli *cli);
void ot_cmd_session_opts(const struct ot_cli *cli, FILE *out, uint64_t start_ns, struct ot_session_opts *o);

#endif

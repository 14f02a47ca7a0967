/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The commands, one file each; main() picks one. Each returns the exit
 * status (OT_EXIT_* in cli/cli.h). */
#ifndef OT_CMD_H
#define OT_CMD_H

struct ot_cli;

int ot_cmd_live(const struct ot_cli *cli);	/* trace, record, run, daemon: cmd/live.c */
int ot_cmd_replay(const struct ot_cli *cli);	/* cmd/replay.c */
int ot_cmd_diff(const struct ot_cli *cli);	/* cmd/diff.c */
int ot_cmd_groups(const struct ot_cli *cli);	/* cmd/groups.c */

#endif

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Exit statuses of every command (documented in --help, README.md and ownertrace(8)). */
#ifndef OT_EXIT_H
#define OT_EXIT_H

enum {
	OT_EXIT_CLEAN = 0,
	OT_EXIT_CANNOT_RUN = 1,
	OT_EXIT_USAGE = 2,
	OT_EXIT_ANOMALIES = 3,
	OT_EXIT_CMD_FAILED = 4,
};

#endif

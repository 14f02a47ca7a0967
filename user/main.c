// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ownertrace: trace the IOMMU DMA-ownership lifecycle (struct iommu_group
 * owner_cnt/owner) across driver probe/remove and VFIO/iommufd claims, and
 * report where it goes wrong.
 *
 * The command line is parsed in cli/; each command runs in its own file
 * under cmd/.
 */
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "cli/cli.h"
#include "cmd/cmd.h"

static bool verbose;

/* libbpf explains every failure at length; during the fentry attempt that
 * is expected noise, so it is shown only with --verbose. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (!verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

int main(int argc, char **argv)
{
	struct ot_cli cli;
	int rc = ot_cli_parse(argc, argv, &cli);

	if (rc)
		return rc;
	verbose = cli.verbose;
	libbpf_set_print(libbpf_print);
	switch (cli.command) {
	case OT_CMD_REPLAY:
		return ot_cmd_replay(&cli);
	case OT_CMD_DIFF:
		return ot_cmd_diff(&cli);
	case OT_CMD_GROUPS:
		return ot_cmd_groups(&cli);
	default:
		return ot_cmd_live(&cli);
	}
}

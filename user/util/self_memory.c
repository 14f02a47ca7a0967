// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include "util/self_memory.h"

bool ot_self_memory(struct ot_self_memory *m)
{
	char line[128];
	int found = 0;
	FILE *f = fopen("/proc/self/status", "re");

	m->rss_kib = m->peak_kib = 0;
	if (!f)
		return false;
	while (found < 2 && fgets(line, sizeof(line), f))
		found += sscanf(line, "VmHWM: %ld kB", &m->peak_kib) == 1 || sscanf(line, "VmRSS: %ld kB", &m->rss_kib) == 1;
	fclose(f);
	if (found < 2)
		m->rss_kib = m->peak_kib = 0;
	return found == 2;
}

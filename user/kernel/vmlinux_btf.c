// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <bpf/btf.h>
#include "kernel/vmlinux_btf.h"

static struct btf *lent;
static int parses;

/* libbpf's real function, as --wrap=btf__load_vmlinux_btf names it. */
struct btf *__real_btf__load_vmlinux_btf(void);
struct btf *__wrap_btf__load_vmlinux_btf(void);

struct btf *__wrap_btf__load_vmlinux_btf(void)
{
	struct btf *btf = lent;

	if (btf) {
		lent = NULL;
		return btf;
	}
	parses++;
	return __real_btf__load_vmlinux_btf();
}

struct btf *ot_vmlinux_btf_load(void)
{
	parses++;
	return __real_btf__load_vmlinux_btf();
}

void ot_vmlinux_btf_lend(struct btf *btf)
{
	btf__free(lent);
	lent = btf;
}

struct btf *ot_vmlinux_btf_reclaim(void)
{
	struct btf *btf = lent;

	lent = NULL;
	return btf;
}

int ot_vmlinux_btf_parses(void)
{
	return parses;
}

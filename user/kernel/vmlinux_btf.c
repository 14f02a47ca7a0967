// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <bpf/btf.h>
#include "kernel/vmlinux_btf.h"

static struct btf *shared;
static int parses;

/* libbpf's own functions, as -Wl,--wrap names them. */
struct btf *__real_btf__load_vmlinux_btf(void);
void __real_btf__free(struct btf *btf);
struct btf *__wrap_btf__load_vmlinux_btf(void);
void __wrap_btf__free(struct btf *btf);

struct btf *__wrap_btf__load_vmlinux_btf(void)
{
	if (shared)
		return shared;
	parses++;
	return __real_btf__load_vmlinux_btf();
}

void __wrap_btf__free(struct btf *btf)
{
	if (btf && btf == shared)
		return;		/* a load is done with it; the next one reads it again */
	__real_btf__free(btf);
}

struct btf *ot_vmlinux_btf_load(void)
{
	parses++;
	return __real_btf__load_vmlinux_btf();
}

void ot_vmlinux_btf_share(struct btf *btf)
{
	ot_vmlinux_btf_unshare();
	shared = btf;
}

void ot_vmlinux_btf_unshare(void)
{
	struct btf *btf = shared;

	shared = NULL;
	__real_btf__free(btf);
}

int ot_vmlinux_btf_parses(void)
{
	return parses;
}

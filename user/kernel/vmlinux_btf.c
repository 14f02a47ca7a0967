// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/btf.h>
#include "kernel/vmlinux_btf.h"

#define SYSFS_VMLINUX_BTF "/sys/kernel/btf/vmlinux"

static struct btf *shared;
static int parses, mapped;

/* libbpf's own functions, as -Wl,--wrap names them. */
struct btf *__real_btf__load_vmlinux_btf(void);
void __real_btf__free(struct btf *btf);
struct btf *__wrap_btf__load_vmlinux_btf(void);
void __wrap_btf__free(struct btf *btf);

/*
 * libbpf 1.1 reads the file into a buffer, then copies that into the
 * struct btf, holding two copies for a moment (5.4 MB each on 7.2): that
 * moment was the peak of a live run's memory. Kernels since 6.16 let the
 * file be mapped read-only: the mapping is the kernel's own copy (a PFN
 * map, not counted in our RSS), and btf__new() makes the one copy from it.
 * Where mapping is refused (older kernels), libbpf reads it as before.
 */
static struct btf *parse(void)
{
	int fd = open(SYSFS_VMLINUX_BTF, O_RDONLY | O_CLOEXEC);
	struct btf *btf = NULL;
	struct stat st;
	void *map;

	parses++;
	if (fd >= 0 && !fstat(fd, &st) && st.st_size > 0) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map != MAP_FAILED) {
			btf = btf__new(map, (__u32)st.st_size);
			munmap(map, (size_t)st.st_size);
		}
	}
	if (fd >= 0)
		close(fd);
	if (btf) {
		mapped++;
		return btf;
	}
	return __real_btf__load_vmlinux_btf();
}

struct btf *__wrap_btf__load_vmlinux_btf(void)
{
	if (shared)
		return shared;
	return parse();
}

void __wrap_btf__free(struct btf *btf)
{
	if (btf && btf == shared)
		return;		/* a load is done with it; the next one reads it again */
	__real_btf__free(btf);
}

struct btf *ot_vmlinux_btf_load(void)
{
	return parse();
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

int ot_vmlinux_btf_mapped(void)
{
	return mapped;
}

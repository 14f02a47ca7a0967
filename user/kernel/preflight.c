// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include "kernel/preflight.h"

#define OT_CAP_SYS_ADMIN 21
#define OT_CAP_PERFMON 38
#define OT_CAP_BPF 39

static int effective_caps(uint64_t *caps)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	*caps = (uint64_t)data[1].effective << 32 | data[0].effective;
	return 0;
}

static bool has(uint64_t caps, int cap)
{
	return caps & (1ULL << cap);
}

int ot_check_privileges(char *err, size_t len)
{
	uint64_t caps = 0;

	if (effective_caps(&caps)) {
		snprintf(err, len, "cannot read process capabilities (capget: %s)", strerror(errno));
		return -EPERM;
	}
	/* CAP_BPF + CAP_PERFMON since 5.8; CAP_SYS_ADMIN covers both everywhere */
	if (has(caps, OT_CAP_SYS_ADMIN) || (has(caps, OT_CAP_BPF) && has(caps, OT_CAP_PERFMON)))
		return 0;
	snprintf(err, len,
		 "ownertrace needs root to load BPF tracing programs (CAP_SYS_ADMIN, or CAP_BPF and "
		 "CAP_PERFMON); %s. Run it with sudo, e.g. `sudo ownertrace`.",
		 geteuid() == 0 ? "running as uid 0 but without those capabilities (a restricted container?)"
				: "running as an unprivileged user");
	return -EPERM;
}

int ot_check_btf(const char *btf_path, char *err, size_t len)
{
	const char *path = btf_path ? btf_path : "/sys/kernel/btf/vmlinux";

	if (access(path, R_OK) == 0)
		return 0;
	if (btf_path)
		snprintf(err, len, "cannot read the BTF file given with --btf (%s: %s)", path, strerror(errno));
	else
		snprintf(err, len,
			 "this kernel exposes no BTF (%s: %s). ownertrace reads struct iommu_group "
			 "through BTF (CO-RE), so it needs a kernel built with CONFIG_DEBUG_INFO_BTF=y "
			 "(Debian, Fedora and Ubuntu kernels have it), or --btf FILE pointing at this "
			 "kernel's BTF (for example extracted with pahole).",
			 path, strerror(errno));
	return -ENOENT;
}

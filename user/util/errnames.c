// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stddef.h>
#include <string.h>
#include "util/errnames.h"

/* Kernel numbers (asm-generic, which x86 and arm64 use), not this libc's. */
static const char *const names[] = {
	[1] = "EPERM", [2] = "ENOENT", [3] = "ESRCH", [4] = "EINTR", [5] = "EIO",
	[6] = "ENXIO", [7] = "E2BIG", [9] = "EBADF", [11] = "EAGAIN", [12] = "ENOMEM",
	[13] = "EACCES", [14] = "EFAULT", [16] = "EBUSY", [17] = "EEXIST", [19] = "ENODEV",
	[22] = "EINVAL", [24] = "EMFILE", [28] = "ENOSPC", [34] = "ERANGE", [38] = "ENOSYS",
	[61] = "ENODATA", [62] = "ETIME", [95] = "EOPNOTSUPP", [110] = "ETIMEDOUT",
	[OT_ERESTARTSYS] = "ERESTARTSYS", [OT_EPROBE_DEFER] = "EPROBE_DEFER", [OT_ENOTSUPP] = "ENOTSUPP",
};

long ot_errno_of(int64_t ret)
{
	if (ret > 0 && ret < 4096)
		return (long)ret;
	if (ret < 0 && ret > -4096)
		return (long)-ret;
	return 0;
}

const char *ot_errno_name(long err)
{
	if (err <= 0 || (unsigned long)err >= sizeof(names) / sizeof(names[0]))
		return NULL;
	return names[err];
}

const char *ot_ret_errno_name(int64_t ret, const char *fallback)
{
	const char *name = ot_errno_name(ot_errno_of(ret));

	return name ? name : fallback;
}

const char *ot_strerror(int err)
{
	err = err < 0 ? -err : err;
	switch (err) {
	case OT_ERESTARTSYS: return "interrupted by a signal, to be restarted (ERESTARTSYS)";
	case OT_EPROBE_DEFER: return "probe deferred, to be retried (EPROBE_DEFER)";
	case OT_ENOTSUPP: return "not supported by this kernel (ENOTSUPP)";
	default: return strerror(err);
	}
}

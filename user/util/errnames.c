// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stddef.h>
#include "util/errnames.h"

static const char *const names[] = {
	[1] = "EPERM", [2] = "ENOENT", [3] = "ESRCH", [4] = "EINTR", [5] = "EIO",
	[6] = "ENXIO", [7] = "E2BIG", [9] = "EBADF", [11] = "EAGAIN", [12] = "ENOMEM",
	[13] = "EACCES", [14] = "EFAULT", [16] = "EBUSY", [17] = "EEXIST", [19] = "ENODEV",
	[22] = "EINVAL", [24] = "EMFILE", [28] = "ENOSPC", [34] = "ERANGE", [38] = "ENOSYS",
	[61] = "ENODATA", [62] = "ETIME", [95] = "EOPNOTSUPP", [110] = "ETIMEDOUT",
	[512] = "ERESTARTSYS", [517] = "EPROBE_DEFER", [524] = "ENOTSUPP",
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

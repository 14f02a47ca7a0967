/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Kernel errno names, including the kernel-internal ones (EPROBE_DEFER,
 * ENOTSUPP) that libc does not know. */
#ifndef OT_ERRNAMES_H
#define OT_ERRNAMES_H

/* "EBUSY" for 16, NULL if unknown. Takes a positive number. */
const char *ot_errno_name(long err);

#endif

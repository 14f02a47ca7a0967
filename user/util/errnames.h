/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Kernel errno names and texts, including the kernel-internal errnos
 * (EPROBE_DEFER, ENOTSUPP) that libc does not know: the one place that
 * knows them, for recorded return values and for errors of BPF calls. */
#ifndef OT_ERRNAMES_H
#define OT_ERRNAMES_H

#include <stdint.h>

/* Kernel-internal errnos (include/linux/errno.h): never meant for user
 * space, but they are what traced functions return, and the BPF syscall
 * hands ENOTSUPP out as it is. */
#define OT_ERESTARTSYS 512
#define OT_EPROBE_DEFER 517	/* "driver requests probe retry" */
#define OT_ENOTSUPP 524		/* "operation not supported", not EOPNOTSUPP */

/* "EBUSY" for 16, NULL if unknown. Takes a positive number. */
const char *ot_errno_name(long err);

/*
 * The errno a return value stands for, whichever its sign (really_probe()
 * returns driver errors positive): 1..4095, or 0 when the value is not an
 * errno at all (0, or garbage from a damaged recording).
 */
long ot_errno_of(int64_t ret);

/* The name of the errno a return value stands for ("EBUSY" for -16 and 16), or fallback. */
const char *ot_ret_errno_name(int64_t ret, const char *fallback);

/* strerror() of an errno of either sign, with texts for the kernel-internal ones. */
const char *ot_strerror(int err);

#endif

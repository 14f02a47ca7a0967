/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Kernel errno names, including the kernel-internal ones (EPROBE_DEFER,
 * ENOTSUPP) that libc does not know. */
#ifndef OT_ERRNAMES_H
#define OT_ERRNAMES_H

#include <stdint.h>

/* "EBUSY" for 16, NULL if unknown. Takes a positive number. */
const char *ot_errno_name(long err);

/*
 * The errno a return value stands for, whichever its sign (really_probe()
 * returns driver errors positive): 1..4095, or 0 when the value is not an
 * errno at all (0, or garbage from a damaged recording).
 */
long ot_errno_of(int64_t ret);

#endif

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Checks run before touching BPF, each failing with a sentence that says
 * what is missing and what the user can do about it. */
#ifndef OT_PREFLIGHT_H
#define OT_PREFLIGHT_H

#include <stddef.h>

/* 0 if we may load tracing BPF programs, else -EPERM and a message. */
int ot_check_privileges(char *err, size_t len);
/* 0 if BTF is available (btf_path or the kernel's), else -ENOENT and a message. */
int ot_check_btf(const char *btf_path, char *err, size_t len);

#endif

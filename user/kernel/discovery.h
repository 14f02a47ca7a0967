/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Which kernel function each attach point is bound to on the running kernel. */
#ifndef OT_DISCOVERY_H
#define OT_DISCOVERY_H

#include "core/points.h"

struct btf;
struct ot_ksyms;

/*
 * Bind every point to a function of the running kernel: fixed points by
 * name, bus slots by scanning BTF for int <bus>_dma_configure(struct device *)
 * and void <bus>_dma_cleanup(struct device *). A function counts as present
 * only if BTF describes it and kallsyms has an out-of-line symbol by that
 * exact name (ksyms may be NULL: BTF alone then decides, and the kernel
 * tells at load or attach, see ot_explain_untraceable).
 */
void ot_bind_points(struct ot_bindings *b, const struct btf *btf, const struct ot_ksyms *ksyms);

/* A function BTF describes but the kernel cannot trace by name: state
 * MISSING, and why (a compiler clone of it in ksyms, or inlined). */
struct ot_binding;
void ot_explain_untraceable(struct ot_binding *bind, const struct ot_ksyms *ksyms);

#endif

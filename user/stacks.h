/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Symbolized kernel stacks by stack id. Live runs fill it from the BPF stack
 * map and kallsyms, replays from the recording; output, analysis reports and
 * the recorder only ever see the strings, so a recording carries no kernel
 * addresses and prints the same stacks anywhere. */
#ifndef OT_STACKS_H
#define OT_STACKS_H

#include <stdbool.h>
#include <stdint.h>

#define OT_STACK_MAX_FRAMES 127
#define OT_FRAME_LEN 128

struct ot_stacks;

/* resolve(ctx, id, frames, max) -> number of frames written, <0 unknown */
typedef int (*ot_stack_resolver)(void *ctx, int32_t id, char (*frames)[OT_FRAME_LEN], int max);

struct ot_stacks *ot_stacks_new(ot_stack_resolver resolve, void *ctx);
void ot_stacks_free(struct ot_stacks *s);

/* Store the frames of a stack id (replay, tests). Replaces nothing: first wins. */
int ot_stacks_put(struct ot_stacks *s, int32_t id, const char *const *frames, int n);
/* Frames of id; resolves through the resolver on first use. n=0 if unknown. */
const char *const *ot_stacks_get(struct ot_stacks *s, int32_t id, int *n);
bool ot_stacks_has(const struct ot_stacks *s, int32_t id);

#endif

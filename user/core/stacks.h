/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Symbolized kernel stacks by stack id. Live runs fill it as live_stacks
 * interns each new stack, replays from the recording; output, analysis
 * reports and the recorder only ever see the strings, so a recording
 * carries no kernel addresses and prints the same stacks anywhere. */
#ifndef OT_STACKS_H
#define OT_STACKS_H

#include <stdbool.h>
#include <stdint.h>

#define OT_STACK_MAX_FRAMES 127
#define OT_FRAME_LEN 128

struct ot_stacks;

struct ot_stacks *ot_stacks_new(void);
void ot_stacks_free(struct ot_stacks *s);

/* Store the frames of a stack id. Replaces nothing: first wins. */
int ot_stacks_put(struct ot_stacks *s, int32_t id, const char *const *frames, int n);
/* Frames of id, NULL and n=0 if unknown. */
const char *const *ot_stacks_get(struct ot_stacks *s, int32_t id, int *n);
bool ot_stacks_has(const struct ot_stacks *s, int32_t id);

#endif

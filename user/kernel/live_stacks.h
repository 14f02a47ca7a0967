/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Raw kernel stacks from live events -> stack ids. Each distinct stack (by
 * content, compared exactly) gets the next id and is symbolized once into
 * the stack cache; frames of BPF programs and trampolines are dropped. */
#ifndef OT_LIVE_STACKS_H
#define OT_LIVE_STACKS_H

#include <stddef.h>
#include <stdint.h>

struct ot_stacks;
struct ot_ksyms;
struct ot_live_stacks;

/* Takes ownership of ksyms (may be NULL: frames print as addresses). */
struct ot_live_stacks *ot_live_stacks_new(struct ot_stacks *cache, struct ot_ksyms *ksyms);
/* The running kernel's symbols from /proc/kallsyms, read by
 * ot_live_stacks_load() after attaching (or, if it was not called, at the
 * first stack), not before: attaching does not need them. */
struct ot_live_stacks *ot_live_stacks_new_running(struct ot_stacks *cache);
/* Read them now (after attaching, before the first record): a read at the
 * first stack stalls the consumer for as long as a burst needs to fill the ring.
 * read: the running kernel's symbols if attaching already read them (taken
 * over, so that a run holds one table), else NULL. */
void ot_live_stacks_load(struct ot_live_stacks *ls, struct ot_ksyms *read);
void ot_live_stacks_free(struct ot_live_stacks *ls);

/* The id of this stack, interning it on first sight; -1 if n == 0 or out of memory. */
int32_t ot_live_stacks_intern(struct ot_live_stacks *ls, const uint64_t *ips, uint32_t n);

/*
 * Keep at most max distinct stacks (0, the default: no limit). Past it, a
 * new stack is not stored: its events get one shared stack whose single
 * frame says the stack was dropped. Stacks already kept still resolve.
 */
void ot_live_stacks_set_limit(struct ot_live_stacks *ls, size_t max);
size_t ot_live_stacks_count(const struct ot_live_stacks *ls);		/* distinct stacks kept */
uint64_t ot_live_stacks_dropped(const struct ot_live_stacks *ls);	/* events given the dropped stack */

#endif

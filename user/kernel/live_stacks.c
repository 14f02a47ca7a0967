// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/clock.h"
#include "util/hashmap.h"
#include "kernel/ksyms.h"
#include "kernel/live_stacks.h"
#include "core/stacks.h"

/* A stack as the map keeps it: its addresses, compared exactly. */
struct raw_stack {
	uint32_t n;
	uint64_t ips[];
};

/* A stack as an event brings it, to look up without copying it first. */
struct raw_probe {
	const uint64_t *ips;
	uint32_t n;
};

struct ot_live_stacks {
	struct ot_stacks *cache;
	struct ot_ksyms *ksyms;
	uint64_t ksyms_loaded_ns;
	bool ksyms_pending;	/* the running kernel's, read at the first stack */
	struct ot_hashmap ids;	/* struct raw_stack * -> stack id */
	int32_t next_id;
	size_t limit;		/* most distinct stacks kept, 0 = no limit */
	int32_t dropped_id;	/* the "stack dropped" stack, -1 until needed */
	uint64_t dropped;	/* events whose new stack was not kept */
};

struct ot_live_stacks *ot_live_stacks_new(struct ot_stacks *cache, struct ot_ksyms *ksyms)
{
	struct ot_live_stacks *ls = calloc(1, sizeof(*ls));

	if (!ls)
		return NULL;
	ls->cache = cache;
	ls->ksyms = ksyms;
	ls->dropped_id = -1;
	ls->ksyms_loaded_ns = ot_now_ns();
	return ls;
}

struct ot_live_stacks *ot_live_stacks_new_running(struct ot_stacks *cache)
{
	struct ot_live_stacks *ls = ot_live_stacks_new(cache, NULL);

	if (ls)
		ls->ksyms_pending = true;
	return ls;
}

/* The running kernel's symbols, once: read (already read, taken over) or
 * read now, at the load after attaching or at the first stack. */
static void load_pending(struct ot_live_stacks *ls, struct ot_ksyms *read)
{
	if (!ls->ksyms_pending) {
		ot_ksyms_free(read);
		return;
	}
	ls->ksyms_pending = false;
	ls->ksyms = read ? read : ot_ksyms_load_running();
	ls->ksyms_loaded_ns = ot_now_ns();
	if (!ls->ksyms)
		fprintf(stderr, "ownertrace: warning: cannot read /proc/kallsyms (%s): stacks print as addresses\n",
			strerror(errno));
}

void ot_live_stacks_load(struct ot_live_stacks *ls, struct ot_ksyms *read)
{
	load_pending(ls, read);
}

void ot_live_stacks_free(struct ot_live_stacks *ls)
{
	if (!ls)
		return;
	ot_hashmap_for_each(&ls->ids, slot)
		free((void *)slot->key_ptr);
	ot_hashmap_free(&ls->ids);
	ot_ksyms_free(ls->ksyms);
	free(ls);
}

static bool match_raw(const struct ot_hashmap_slot *slot, const void *probe)
{
	const struct raw_stack *kept = slot->key_ptr;
	const struct raw_probe *p = probe;

	return kept->n == p->n && !memcmp(kept->ips, p->ips, p->n * sizeof(*p->ips));
}

/*
 * A frame outside every known text range is a BPF trampoline (ours), or
 * code of a module loaded after start: reload symbols (at most every 2 s)
 * to tell them apart, then drop what is still unknown.
 */
static void refresh_if_unknown(struct ot_live_stacks *ls, const uint64_t *ips, uint32_t n)
{
	struct ot_ksyms *fresh;

	if (!ls->ksyms || ot_now_ns() - ls->ksyms_loaded_ns < 2000000000ULL)
		return;
	for (uint32_t i = 0; i < n; i++) {
		if (ot_ksyms_is_text(ls->ksyms, ips[i]))
			continue;
		ls->ksyms_loaded_ns = ot_now_ns();
		fresh = ot_ksyms_load_running();
		if (fresh) {
			ot_ksyms_free(ls->ksyms);
			ls->ksyms = fresh;
		}
		return;
	}
}

/*
 * The return address an fentry/fexit trampoline leaves behind. A traced
 * function starts with a patched call to its trampoline (x86-64: `call` at
 * +0, or at +4 after ENDBR64, so the return address is +5 or +9; arm64:
 * `mov x9, x30; bl` after an optional BTI, +8 or +12). With fexit the
 * trampoline calls the function's body itself, so the stack of anything
 * the body calls holds the function twice: its body frame
 * (really_probe+0x7f), the trampoline (not kernel text, dropped), then this
 * entry-patch return address (really_probe+0x5), which names no call site.
 * It is dropped when it repeats the frame just kept; on its own (the first
 * frame, or a function whose body frame the unwinder skipped) it is the
 * only trace of that function and stays.
 */
#define FENTRY_RET_MAX 16

/* sym resolves ip; kept: the start of the symbol of the frame kept last (0: none) */
static bool trampoline_return(const struct ot_ksym *sym, uint64_t ip, uint64_t kept)
{
	return sym && sym->addr == kept && ip - sym->addr > 0 && ip - sym->addr <= FENTRY_RET_MAX;
}

static int symbolize(struct ot_live_stacks *ls, int32_t id, const uint64_t *ips, uint32_t n)
{
	static char frames[OT_STACK_MAX_FRAMES][OT_FRAME_LEN];
	const char *ptrs[OT_STACK_MAX_FRAMES];
	bool named = ls->ksyms && !ot_ksyms_addresses_hidden(ls->ksyms);
	uint64_t kept = 0;
	int nf = 0;

	load_pending(ls, NULL);
	refresh_if_unknown(ls, ips, n);
	for (uint32_t i = 0; i < n && nf < OT_STACK_MAX_FRAMES; i++) {
		struct ot_ksym sym;
		bool known;

		if (ls->ksyms && !ot_ksyms_is_text(ls->ksyms, ips[i]))
			continue;	/* BPF programs and trampolines */
		/* one lookup per frame: the name's block is inflated once */
		known = named && ot_ksyms_resolve(ls->ksyms, ips[i], &sym);
		if (trampoline_return(known ? &sym : NULL, ips[i], kept))
			continue;
		kept = known ? sym.addr : 0;
		ot_ksym_format(known ? &sym : NULL, ips[i], frames[nf], OT_FRAME_LEN);
		ptrs[nf] = frames[nf];
		nf++;
	}
	return ot_stacks_put(ls->cache, id, ptrs, nf);
}

/* One shared stack stands for every stack past the limit, so output says why it has none. */
static int32_t stack_dropped(struct ot_live_stacks *ls)
{
	static const char frame[] = "(stack dropped: ownertrace keeps a limited number of distinct stacks)";
	const char *frames[] = { frame };

	ls->dropped++;
	if (ls->dropped_id < 0) {
		if (ot_stacks_put(ls->cache, ls->next_id, frames, 1))
			return -1;
		ls->dropped_id = ls->next_id++;
	}
	return ls->dropped_id;
}

void ot_live_stacks_set_limit(struct ot_live_stacks *ls, size_t max)
{
	ls->limit = max;
}

size_t ot_live_stacks_count(const struct ot_live_stacks *ls)
{
	return ot_hashmap_count(&ls->ids);
}

uint64_t ot_live_stacks_dropped(const struct ot_live_stacks *ls)
{
	return ls->dropped;
}

int32_t ot_live_stacks_intern(struct ot_live_stacks *ls, const uint64_t *ips, uint32_t n)
{
	struct raw_probe probe = { ips, n };
	struct ot_hashmap_slot *slot;
	struct raw_stack *kept;
	uint64_t hash;
	int32_t id;
	bool added;

	if (!n)
		return -1;
	hash = ot_hash_mix(ot_hash_more(OT_HASH_SEED, ips, n * sizeof(*ips)));
	slot = ot_hashmap_find(&ls->ids, hash, match_raw, &probe);
	if (slot)
		return (int32_t)slot->value;
	if (ls->limit && ot_hashmap_count(&ls->ids) >= ls->limit)
		return stack_dropped(ls);
	slot = ot_hashmap_add(&ls->ids, hash, match_raw, &probe, &added);
	if (!slot)
		return -1;
	kept = malloc(sizeof(*kept) + n * sizeof(*ips));
	if (!kept) {
		ot_hashmap_remove(&ls->ids, slot);
		return -1;
	}
	kept->n = n;
	memcpy(kept->ips, ips, n * sizeof(*ips));
	slot->key_ptr = kept;
	slot->value = (uint64_t)(id = ls->next_id++);
	if (symbolize(ls, id, ips, n))
		return -1;
	return id;
}

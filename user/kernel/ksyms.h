/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Kernel symbols from /proc/kallsyms: presence checks for attach points and
 * address -> "function+off" for stacks. */
#ifndef OT_KSYMS_H
#define OT_KSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A symbol as ot_ksyms_resolve() gives it (the table keeps it smaller). */
struct ot_ksym {
	uint64_t addr;
	const char *name;	/* "func" or "func [module]", valid until the next lookup in the table */
};

struct ot_ksyms;

/* Parse a kallsyms-format file; NULL with errno set on failure. */
struct ot_ksyms *ot_ksyms_load(const char *path);
/* Parse kallsyms text from memory (used by tests and by recordings). */
struct ot_ksyms *ot_ksyms_parse(const char *text, size_t len);
void ot_ksyms_free(struct ot_ksyms *ks);
/* The running kernel's symbols: /proc/kallsyms plus module extents from
 * /proc/modules (see ot_ksyms_is_text). NULL with errno set on failure. */
struct ot_ksyms *ot_ksyms_load_running(void);

size_t ot_ksyms_count(const struct ot_ksyms *ks);
/* True when every address is zero: kptr_restrict hides them from us. */
bool ot_ksyms_addresses_hidden(const struct ot_ksyms *ks);

/* A text symbol with exactly this name (no module suffix)? */
bool ot_ksyms_find_exact(const struct ot_ksyms *ks, const char *name);
/* A compiler clone such as name.isra.0 / name.constprop.0; copies its name. */
bool ot_ksyms_find_clone(const struct ot_ksyms *ks, const char *name, char *out, size_t outlen);

/*
 * Text ranges: the core kernel (_stext.._etext) and, once added from
 * /proc/modules, every module. Addresses outside them in a stack are BPF
 * programs and trampolines (ours included), which kallsyms read before
 * attaching cannot name.
 */
int ot_ksyms_add_modules(struct ot_ksyms *ks, const char *proc_modules_text, size_t len);
int ot_ksyms_load_modules(struct ot_ksyms *ks, const char *path);
bool ot_ksyms_is_text(const struct ot_ksyms *ks, uint64_t addr);

/* The symbol containing addr (the closest one at or below it) into out; false if none. */
bool ot_ksyms_resolve(const struct ot_ksyms *ks, uint64_t addr, struct ot_ksym *out);
/* "func+0x1a [module]" style, or "0x..." when unknown or the addresses are hidden; returns buf. */
const char *ot_ksyms_format(const struct ot_ksyms *ks, uint64_t addr, char *buf, size_t len);
/* The same for a symbol already resolved (sym: what ot_ksyms_resolve() gave for addr, or NULL). */
const char *ot_ksym_format(const struct ot_ksym *sym, uint64_t addr, char *buf, size_t len);

#endif

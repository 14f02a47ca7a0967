// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Binding attach points to the running kernel's functions: the fixed ones
 * by name, the bus dma_configure/dma_cleanup callbacks by their BTF
 * prototype; kallsyms says which are really out of line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include "kernel/discovery.h"
#include "kernel/ksyms.h"

/* Is this BTF FUNC "RET name(struct device *)"? want_int: RET is int, else void. */
static bool is_bus_callback_proto(const struct btf *btf, const struct btf_type *func, bool want_int)
{
	const struct btf_type *proto = btf__type_by_id(btf, func->type);
	const struct btf_type *t;
	const struct btf_param *param;

	if (!proto || !btf_is_func_proto(proto) || btf_vlen(proto) != 1)
		return false;
	t = btf__type_by_id(btf, proto->type);
	if (want_int) {
		if (!proto->type || !t || !btf_is_int(t) || strcmp(btf__name_by_offset(btf, t->name_off), "int"))
			return false;
	} else if (proto->type) {
		return false;
	}
	param = btf_params(proto);
	t = btf__type_by_id(btf, param->type);
	while (t && (btf_is_mod(t) || btf_is_typedef(t)))
		t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_ptr(t))
		return false;
	t = btf__type_by_id(btf, t->type);
	while (t && btf_is_mod(t))
		t = btf__type_by_id(btf, t->type);
	return t && btf_is_struct(t) && !strcmp(btf__name_by_offset(btf, t->name_off), "device");
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls > lx && !strcmp(s + ls - lx, suffix);
}

void ot_explain_untraceable(struct ot_binding *bind, const struct ot_ksyms *ksyms)
{
	char clone[OT_FUNC_NAME_LEN];

	bind->state = OT_BIND_MISSING;
	if (ksyms && ot_ksyms_find_clone(ksyms, bind->function, clone, sizeof(clone)))
		snprintf(bind->why, sizeof(bind->why),
			 "only a compiler clone %s is in kallsyms; not traceable by name", clone);
	else
		snprintf(bind->why, sizeof(bind->why), "in BTF but not in /proc/kallsyms (inlined?)");
}

/* Present = described by BTF and (when ksyms is given) an out-of-line
 * symbol of that exact name. */
static void bind_function(struct ot_binding *bind, const char *name, bool in_btf,
			  const struct ot_ksyms *ksyms, const char *absent_why)
{
	snprintf(bind->function, sizeof(bind->function), "%s", name);
	if (!in_btf) {
		bind->state = OT_BIND_MISSING;
		snprintf(bind->why, sizeof(bind->why), "not a function in this kernel's BTF%s%s%s",
			 absent_why ? " (" : "", absent_why ? absent_why : "", absent_why ? ")" : "");
		return;
	}
	if (ksyms && !ot_ksyms_find_exact(ksyms, name)) {
		ot_explain_untraceable(bind, ksyms);
		return;
	}
	bind->state = OT_BIND_FOUND;
	bind->why[0] = '\0';
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* pci first: it is the bus users care about, and slot order is output order. */
static int cmp_bus_names(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	bool xp = !strncmp(x, "pci_", 4), yp = !strncmp(y, "pci_", 4);

	if (xp != yp)
		return xp ? -1 : 1;
	return cmp_names(a, b);
}

#define OT_MAX_BUS_SCAN 64

/* What one pass over the kernel's BTF finds (btf__find_by_name_kind() is a
 * linear scan too, so looking each name up separately costs a pass each). */
struct btf_scan {
	bool fixed[OT_POINT_COUNT];	/* a fixed point's function exists */
	const char *configures[OT_MAX_BUS_SCAN];	/* int <bus>_dma_configure(struct device *) */
	int nconf;
	const char *cleanups[OT_MAX_BUS_SCAN];		/* void <bus>_dma_cleanup(struct device *) */
	int nclean;
};

static void scan_btf(struct btf_scan *sc, const struct btf *btf)
{
	int n = btf__type_cnt(btf);

	memset(sc, 0, sizeof(*sc));
	for (int id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *name;

		if (!btf_is_func(t))
			continue;
		name = btf__name_by_offset(btf, t->name_off);
		for (unsigned int p = 0; p < OT_POINT_COUNT; p++) {
			const char *fixed = ot_point_desc(p)->function;	/* NULL: a bus slot */

			if (fixed && !sc->fixed[p] && !strcmp(name, fixed))
				sc->fixed[p] = true;
		}
		if (sc->nconf < OT_MAX_BUS_SCAN && ends_with(name, "_dma_configure") &&
		    is_bus_callback_proto(btf, t, true))
			sc->configures[sc->nconf++] = name;
		else if (sc->nclean < OT_MAX_BUS_SCAN && ends_with(name, "_dma_cleanup") &&
			 is_bus_callback_proto(btf, t, false))
			sc->cleanups[sc->nclean++] = name;
	}
}

static bool has_cleanup(const struct btf_scan *sc, const char *name)
{
	for (int i = 0; i < sc->nclean; i++)
		if (!strcmp(sc->cleanups[i], name))
			return true;
	return false;
}

void ot_bind_points(struct ot_bindings *b, const struct btf *btf, const struct ot_ksyms *ksyms)
{
	struct btf_scan sc;
	unsigned int point;
	int slot = 0;

	memset(b, 0, sizeof(*b));
	scan_btf(&sc, btf);
	for (point = 0; point < OT_POINT_COUNT; point++) {
		const struct ot_point_desc *d = ot_point_desc(point);

		if (d->function)
			bind_function(&b->point[point], d->function, sc.fixed[point], ksyms, d->absent_why);
	}

	qsort(sc.configures, sc.nconf, sizeof(sc.configures[0]), cmp_bus_names);
	for (int i = 0; i < sc.nconf; i++) {
		char cleanup[OT_FUNC_NAME_LEN];
		size_t prefix = strlen(sc.configures[i]) - strlen("_dma_configure");
		struct ot_binding *conf, *clean;

		if (ksyms && !ot_ksyms_find_exact(ksyms, sc.configures[i]))
			continue;	/* inlined everywhere: nothing to hook */
		if (slot >= OT_BUS_SLOTS) {
			if (b->extra_count < OT_MAX_EXTRA_BUS_FUNCS)
				snprintf(b->extra[b->extra_count++], OT_FUNC_NAME_LEN, "%s", sc.configures[i]);
			continue;
		}
		conf = &b->point[OT_POINT_DMA_CONFIGURE_FIRST + slot];
		clean = &b->point[OT_POINT_DMA_CLEANUP_FIRST + slot];
		bind_function(conf, sc.configures[i], true, ksyms, NULL);

		/* A bus without dma_cleanup (vmbus, old host1x) never takes ownership. */
		snprintf(cleanup, sizeof(cleanup), "%.*s_dma_cleanup", (int)prefix, sc.configures[i]);
		if (has_cleanup(&sc, cleanup)) {
			bind_function(clean, cleanup, true, ksyms, NULL);
		} else {
			clean->state = OT_BIND_UNUSED;
			snprintf(clean->function, sizeof(clean->function), "%s", cleanup);
			snprintf(clean->why, sizeof(clean->why), "bus has no dma_cleanup callback");
		}
		slot++;
	}
	for (; slot < OT_BUS_SLOTS; slot++) {
		b->point[OT_POINT_DMA_CONFIGURE_FIRST + slot].state = OT_BIND_UNUSED;
		b->point[OT_POINT_DMA_CLEANUP_FIRST + slot].state = OT_BIND_UNUSED;
	}
}

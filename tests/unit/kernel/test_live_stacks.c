/* Live stack interning: equal stacks share an id, different ones do not,
 * and frames outside kernel/module text (BPF trampolines) are dropped. */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "kernel/ksyms.h"
#include "kernel/live_stacks.h"
#include "core/stacks.h"

int main(void)
{
	static const char syms[] =
		"ffffffff81000000 T _stext\n"
		"ffffffff81100000 t really_probe\n"
		"ffffffff81200000 T iommu_device_use_default_domain\n"
		"ffffffff81300000 t pci_dma_configure\n"
		"ffffffff81400000 t __driver_probe_device\n"
		"ffffffff81500000 t walk\n"
		"ffffffff82000000 T _etext\n";
	struct ot_stacks *cache = ot_stacks_new();
	struct ot_live_stacks *ls = ot_live_stacks_new(cache, ot_ksyms_parse(syms, sizeof(syms) - 1));
	/* a BPF program and a trampoline first, as fentry captures them */
	uint64_t a[] = { 0xffffffffa0001000ULL, 0xffffffffa0002000ULL, 0xffffffff81200009ULL, 0xffffffff81100010ULL };
	uint64_t b[] = { 0xffffffff81200009ULL, 0xffffffff81100020ULL };
	uint64_t a_copy[4];
	const char *const *f;
	int n;

	memcpy(a_copy, a, sizeof(a));
	int32_t ia = ot_live_stacks_intern(ls, a, 4);
	int32_t ib = ot_live_stacks_intern(ls, b, 2);
	CHECK(ia >= 0 && ib >= 0 && ia != ib);
	CHECK(ot_live_stacks_intern(ls, a_copy, 4) == ia);	/* by content */
	CHECK(ot_live_stacks_intern(ls, a, 3) != ia);		/* a prefix is another stack */
	CHECK(ot_live_stacks_intern(ls, a, 0) == -1);
	f = ot_stacks_get(cache, ia, &n);
	CHECK(n == 2);
	CHECK_STR(f[0], "iommu_device_use_default_domain+0x9");
	CHECK_STR(f[1], "really_probe+0x10");
	/* fexit trampolines, as 6.1 captured them under pci_dma_configure: each
	 * traced function's entry-patch return address (+0x5) right after its
	 * own body frame is dropped, and kept where it is the only frame of that
	 * function (the call's own function, a body frame the unwinder skipped) */
	uint64_t tr[] = { 0xffffffffa0001000ULL, 0xffffffffa0002000ULL, 0xffffffff81200005ULL,
			  0xffffffff81300005ULL, 0xffffffffa0003000ULL, 0xffffffff8110007fULL,
			  0xffffffffa0004000ULL, 0xffffffff81100005ULL, 0xffffffff81400084ULL };
	f = ot_stacks_get(cache, ot_live_stacks_intern(ls, tr, 9), &n);
	CHECK(n == 4);
	if (n == 4) {
		CHECK_STR(f[0], "iommu_device_use_default_domain+0x5");
		CHECK_STR(f[1], "pci_dma_configure+0x5");
		CHECK_STR(f[2], "really_probe+0x7f");
		CHECK_STR(f[3], "__driver_probe_device+0x84");
	}
	/* the probe's own entry stack starts at its entry patch: kept; with
	 * ENDBR64 before the patch (IBT kernels) the return address is +0x9 */
	uint64_t entry[] = { 0xffffffffa0001000ULL, 0xffffffff81100009ULL, 0xffffffff81400084ULL };
	f = ot_stacks_get(cache, ot_live_stacks_intern(ls, entry, 3), &n);
	CHECK(n == 2 && !strcmp(f[0], "really_probe+0x9"));
	uint64_t ibt[] = { 0xffffffff8110007fULL, 0xffffffffa0004000ULL, 0xffffffff81100009ULL, 0xffffffff81400084ULL };
	f = ot_stacks_get(cache, ot_live_stacks_intern(ls, ibt, 4), &n);
	CHECK(n == 2 && !strcmp(f[0], "really_probe+0x7f") && !strcmp(f[1], "__driver_probe_device+0x84"));
	/* real recursion repeats a function at call sites, not at the entry patch: kept */
	uint64_t rec[] = { 0xffffffff81500040ULL, 0xffffffff81500080ULL, 0xffffffff81500080ULL };
	f = ot_stacks_get(cache, ot_live_stacks_intern(ls, rec, 3), &n);
	CHECK(n == 3);
	/* many distinct stacks: ids stay unique and stable across growth */
	int32_t first = -1;
	for (uint64_t i = 0; i < 2000; i++) {
		uint64_t s[2] = { 0xffffffff81100000ULL + i, 0xffffffff81200000ULL };
		int32_t id = ot_live_stacks_intern(ls, s, 2);

		if (i == 0)
			first = id;
		CHECK(id >= 0);
	}
	uint64_t again[2] = { 0xffffffff81100000ULL, 0xffffffff81200000ULL };
	CHECK(ot_live_stacks_intern(ls, again, 2) == first);
	CHECK(ot_live_stacks_intern(ls, b, 2) == ib);
	/* past the limit a new stack gets the shared "dropped" stack; kept ones still resolve */
	size_t kept = ot_live_stacks_count(ls);
	uint64_t c[2] = { 0xffffffff81100000ULL, 0xffffffff81300000ULL }, d[2] = { 0xffffffff81100001ULL, 1 };

	ot_live_stacks_set_limit(ls, kept);
	int32_t ic = ot_live_stacks_intern(ls, c, 2);
	CHECK(ic >= 0 && ot_live_stacks_intern(ls, d, 2) == ic && ot_live_stacks_dropped(ls) == 2);
	f = ot_stacks_get(cache, ic, &n);
	CHECK(n == 1 && f && strstr(f[0], "stack dropped"));
	CHECK(ot_live_stacks_intern(ls, again, 2) == first && ot_live_stacks_intern(ls, a_copy, 4) == ia);
	CHECK(ot_live_stacks_count(ls) == kept && ot_live_stacks_dropped(ls) == 2);
	ot_live_stacks_set_limit(ls, 0);
	int32_t id_c = ot_live_stacks_intern(ls, c, 2);
	CHECK(id_c >= 0 && id_c != ic && ot_live_stacks_count(ls) == kept + 1);
	ot_live_stacks_free(ls);
	ot_stacks_free(cache);
	return unit_report("test_live_stacks");
}

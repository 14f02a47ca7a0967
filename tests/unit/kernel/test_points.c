/* Binding attach points to functions: fixed names, bus callbacks discovered
 * by prototype, absent and inlined/cloned functions reported. Uses a
 * synthetic BTF so it runs anywhere. And the loader's program names against
 * the real BPF object (opened, never loaded). */
#include <stdlib.h>
#include <bpf/btf.h>
#include "unit.h"
#include "kernel/ksyms.h"
#include "kernel/discovery.h"
#include "kernel/attach.h"
#include "ownertrace.skel.h"

static int add_func(struct btf *btf, const char *name, int proto)
{
	return btf__add_func(btf, name, BTF_FUNC_GLOBAL, proto);
}

static struct btf *make_btf(void)
{
	struct btf *btf = btf__new_empty();
	int int_id = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	int dev = btf__add_struct(btf, "device", 8);
	int other = btf__add_struct(btf, "device_node", 8);
	int dev_ptr = btf__add_ptr(btf, dev);
	int other_ptr = btf__add_ptr(btf, other);
	int int_of_dev, void_of_dev, int_of_other, int_of_two;

	int_of_dev = btf__add_func_proto(btf, int_id);
	btf__add_func_param(btf, "dev", dev_ptr);
	void_of_dev = btf__add_func_proto(btf, 0);
	btf__add_func_param(btf, "dev", dev_ptr);
	int_of_other = btf__add_func_proto(btf, int_id);
	btf__add_func_param(btf, "np", other_ptr);
	int_of_two = btf__add_func_proto(btf, int_id);
	btf__add_func_param(btf, "dev", dev_ptr);
	btf__add_func_param(btf, "np", other_ptr);

	add_func(btf, "really_probe", int_of_two);
	add_func(btf, "device_release_driver_internal", void_of_dev);
	add_func(btf, "device_unbind_cleanup", void_of_dev);	/* only a clone in kallsyms */
	add_func(btf, "iommu_device_use_default_domain", int_of_dev);
	add_func(btf, "iommu_device_unuse_default_domain", void_of_dev);
	add_func(btf, "iommu_group_claim_dma_owner", int_of_two);
	add_func(btf, "iommu_group_release_dma_owner", void_of_dev);
	/* no iommu_device_{claim,release}_dma_owner: a 6.1 kernel */
	add_func(btf, "platform_dma_configure", int_of_dev);
	add_func(btf, "platform_dma_cleanup", void_of_dev);
	add_func(btf, "pci_dma_configure", int_of_dev);
	add_func(btf, "pci_dma_cleanup", void_of_dev);
	add_func(btf, "vmbus_dma_configure", int_of_dev);	/* bus without cleanup */
	add_func(btf, "of_dma_configure", int_of_two);		/* not a bus callback */
	add_func(btf, "weird_dma_configure", int_of_other);	/* wrong argument type */
	add_func(btf, "gone_dma_configure", int_of_dev);	/* in BTF, not in kallsyms */
	return btf;
}

static const char kallsyms[] =
	"ffffffff81000000 t really_probe\n"
	"ffffffff81000100 T device_release_driver_internal\n"
	"ffffffff81000200 t device_unbind_cleanup.isra.0\n"
	"ffffffff81000300 T iommu_device_use_default_domain\n"
	"ffffffff81000400 T iommu_device_unuse_default_domain\n"
	"ffffffff81000500 T iommu_group_claim_dma_owner\n"
	"ffffffff81000600 T iommu_group_release_dma_owner\n"
	"ffffffff81000700 t platform_dma_configure\n"
	"ffffffff81000800 t platform_dma_cleanup\n"
	"ffffffff81000900 t pci_dma_configure\n"
	"ffffffff81000a00 t pci_dma_cleanup\n"
	"ffffffff81000b00 t vmbus_dma_configure\n"
	"ffffffff81000c00 t weird_dma_configure\n";

static void test_binding(void)
{
	struct btf *btf = make_btf();
	struct ot_ksyms *ks = ot_ksyms_parse(kallsyms, sizeof(kallsyms) - 1);
	struct ot_bindings b;
	const unsigned int c0 = OT_POINT_DMA_CONFIGURE_FIRST, k0 = OT_POINT_DMA_CLEANUP_FIRST;

	ot_bind_points(&b, btf, ks);
	CHECK(b.point[OT_POINT_REALLY_PROBE].state == OT_BIND_FOUND);
	CHECK(b.point[OT_POINT_GROUP_CLAIM].state == OT_BIND_FOUND);
	CHECK(b.point[OT_POINT_DEVICE_CLAIM].state == OT_BIND_MISSING);
	CHECK_CONTAINS(b.point[OT_POINT_DEVICE_CLAIM].why, "since 6.2");
	CHECK(b.point[OT_POINT_UNBIND_CLEANUP].state == OT_BIND_MISSING);
	CHECK_CONTAINS(b.point[OT_POINT_UNBIND_CLEANUP].why, "device_unbind_cleanup.isra.0");

	/* pci first, then alphabetical; the wrong-prototype and vanished ones are left out */
	CHECK_STR(b.point[c0 + 0].function, "pci_dma_configure");
	CHECK_STR(b.point[k0 + 0].function, "pci_dma_cleanup");
	CHECK(b.point[k0 + 0].state == OT_BIND_FOUND);
	CHECK_STR(b.point[c0 + 1].function, "platform_dma_configure");
	CHECK_STR(b.point[k0 + 1].function, "platform_dma_cleanup");
	CHECK_STR(b.point[c0 + 2].function, "vmbus_dma_configure");
	CHECK(b.point[c0 + 2].state == OT_BIND_FOUND);
	CHECK(b.point[k0 + 2].state == OT_BIND_UNUSED);
	CHECK_CONTAINS(b.point[k0 + 2].why, "no dma_cleanup");
	CHECK(b.point[c0 + 3].state == OT_BIND_UNUSED);
	for (unsigned int p = c0; p < OT_POINT_COUNT; p++) {
		CHECK(strcmp(b.point[p].function, "of_dma_configure") != 0);
		CHECK(strcmp(b.point[p].function, "weird_dma_configure") != 0);
		CHECK(strcmp(b.point[p].function, "gone_dma_configure") != 0);
	}

	/* without kallsyms, BTF alone decides */
	ot_bind_points(&b, btf, NULL);
	CHECK(b.point[OT_POINT_UNBIND_CLEANUP].state == OT_BIND_FOUND);
	CHECK_STR(b.point[c0 + 1].function, "gone_dma_configure");

	ot_ksyms_free(ks);
	btf__free(btf);
}

static void test_too_many_buses(void)
{
	struct btf *btf = btf__new_empty();
	int int_id = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	int dev_ptr = btf__add_ptr(btf, btf__add_struct(btf, "device", 8));
	int proto = btf__add_func_proto(btf, int_id);
	struct ot_bindings b;
	char name[64];

	btf__add_func_param(btf, "dev", dev_ptr);
	for (int i = 0; i < OT_BUS_SLOTS + 2; i++) {
		snprintf(name, sizeof(name), "bus%d_dma_configure", i);
		btf__add_func(btf, name, BTF_FUNC_STATIC, proto);
	}
	ot_bind_points(&b, btf, NULL);
	CHECK(b.extra_count == 2);
	CHECK_STR(b.extra[1], "bus7_dma_configure");
	/* nothing fixed exists: every fixed point says missing */
	CHECK(b.point[OT_POINT_REALLY_PROBE].state == OT_BIND_MISSING);
	btf__free(btf);
}

/* The loader finds both programs of every point in either mode in the real
 * object, and the object has no program the loader would never find. */
static void test_programs(void)
{
	struct ownertrace_bpf *skel = ownertrace_bpf__open();
	struct bpf_program *prog;
	int found = 0, total = 0;

	CHECK(skel != NULL);
	if (!skel)
		return;
	for (unsigned int p = 0; p < OT_POINT_COUNT; p++)
		for (int mode = OT_MODE_FENTRY; mode <= OT_MODE_KPROBE; mode++)
			for (int exit = 0; exit < 2; exit++)
				found += ot_find_program(skel->obj, p, mode, exit) != NULL;
	bpf_object__for_each_program(prog, skel->obj)
		total++;
	CHECK(found == OT_POINT_COUNT * 4);
	CHECK(total == OT_POINT_COUNT * 4);
	CHECK_STR(bpf_program__name(ot_find_program(skel->obj, OT_POINT_DMA_CLEANUP_FIRST + 5, OT_MODE_KPROBE, true)),
		  "dma_cleanup_5_kretprobe");
	CHECK(ot_find_program(skel->obj, OT_POINT_COUNT, OT_MODE_FENTRY, false) == NULL);
	ownertrace_bpf__destroy(skel);
}

int main(void)
{
	test_binding();
	test_too_many_buses();
	test_programs();
	return unit_report("test_points");
}

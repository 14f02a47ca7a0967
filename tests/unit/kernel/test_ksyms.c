/* kallsyms parsing and symbolization. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "unit.h"
#include "kernel/ksyms.h"

static const char kallsyms[] =
	"ffffffff81000000 T _stext\n"
	"ffffffff81100000 t really_probe\n"
	"ffffffff81100400 t __driver_probe_device\n"
	"ffffffff81200000 T device_release_driver_internal\n"
	"ffffffff81300000 t vfio_device_remove_group.isra.0\t[vfio]\n"
	"ffffffff81300100 d some_data\n"
	"ffffffff81400000 t e1000_probe\t[e1000]\n";

static void test_ksyms(void)
{
	struct ot_ksyms *ks = ot_ksyms_parse(kallsyms, sizeof(kallsyms) - 1);
	char buf[128];

	CHECK(ks != NULL);
	CHECK(ot_ksyms_count(ks) == 6);	/* data symbol skipped */
	CHECK(ot_ksyms_find_exact(ks, "really_probe"));
	CHECK(!ot_ksyms_find_exact(ks, "really"));
	CHECK(!ot_ksyms_find_exact(ks, "vfio_device_remove_group"));
	CHECK(ot_ksyms_find_clone(ks, "vfio_device_remove_group", buf, sizeof(buf)));
	CHECK_CONTAINS(buf, "vfio_device_remove_group.isra.0");
	CHECK_STR(ot_ksyms_format(ks, 0xffffffff81100010ULL, buf, sizeof(buf)), "really_probe+0x10");
	CHECK_STR(ot_ksyms_format(ks, 0xffffffff81400022ULL, buf, sizeof(buf)), "e1000_probe+0x22 [e1000]");
	CHECK_STR(ot_ksyms_format(ks, 0x1000, buf, sizeof(buf)), "0x1000");
	CHECK(!ot_ksyms_addresses_hidden(ks));
	ot_ksyms_free(ks);

	/* kptr_restrict: every address zero -> never symbolize */
	static const char hidden[] = "0000000000000000 T a\n0000000000000000 t b\n";
	ks = ot_ksyms_parse(hidden, sizeof(hidden) - 1);
	CHECK(ot_ksyms_addresses_hidden(ks));
	CHECK_STR(ot_ksyms_format(ks, 0xffffffff81000000ULL, buf, sizeof(buf)), "0xffffffff81000000");
	ot_ksyms_free(ks);

	/* garbage lines are ignored, not fatal */
	static const char junk[] = "nonsense\n\n zz T\nffffffff81000000 T ok\n";
	ks = ot_ksyms_parse(junk, sizeof(junk) - 1);
	CHECK(ks && ot_ksyms_count(ks) == 1);
	ot_ksyms_free(ks);
}

static void test_text_ranges(void)
{
	static const char syms[] =
		"ffffffff81000000 T _stext\n"
		"ffffffff81100000 t really_probe\n"
		"ffffffff82000000 T _etext\n"
		"ffffffffc0a00000 t e1000_probe\t[e1000]\n";
	static const char modules[] =
		"e1000 163840 0 - Live 0xffffffffc0a00000\n"
		"vfio_pci 16384 0 - Live 0xffffffffc0b00000 (E)\n"
		"garbage line\n";
	struct ot_ksyms *ks = ot_ksyms_parse(syms, sizeof(syms) - 1);

	/* without module ranges only the core is known */
	CHECK(ot_ksyms_is_text(ks, 0xffffffff81100010ULL));
	CHECK(!ot_ksyms_is_text(ks, 0xffffffffc0a00010ULL));
	CHECK(ot_ksyms_add_modules(ks, modules, sizeof(modules) - 1) == 0);
	CHECK(ot_ksyms_is_text(ks, 0xffffffffc0a00010ULL));
	CHECK(ot_ksyms_is_text(ks, 0xffffffffc0b03fffULL));
	CHECK(!ot_ksyms_is_text(ks, 0xffffffffc0b04000ULL));	/* past vfio_pci: a trampoline */
	CHECK(!ot_ksyms_is_text(ks, 0xffffffffa0000000ULL));	/* BPF JIT area */
	CHECK(!ot_ksyms_is_text(ks, 0xffffffff82000000ULL));	/* _etext is exclusive */
	ot_ksyms_free(ks);
	/* no _stext/_etext known: keep every frame rather than lose real ones */
	ks = ot_ksyms_parse("ffffffff81000000 t x\n", 21);
	CHECK(ot_ksyms_is_text(ks, 0x1234));
	ot_ksyms_free(ks);
}

/* arm64: _etext is a 'D' symbol in kallsyms; the text range must still end there */
static void test_text_ranges_arm64(void)
{
	static const char syms[] =
		"ffff800080000000 T _text\n"
		"ffff800080010000 T _stext\n"
		"ffff8000801a0000 t really_probe\n"
		"ffff800081180000 D _etext\n"
		"ffff800081180000 d some_data\n";
	struct ot_ksyms *ks = ot_ksyms_parse(syms, sizeof(syms) - 1);
	char buf[128];

	CHECK(ot_ksyms_count(ks) == 3);	/* _etext bounds the text, it is not a symbol */
	CHECK(ot_ksyms_is_text(ks, 0xffff8000801a0010ULL));
	CHECK(!ot_ksyms_is_text(ks, 0xffff800081180000ULL));	/* _etext is exclusive */
	CHECK(!ot_ksyms_is_text(ks, 0xffff80007a00da6cULL));	/* a BPF trampoline below the kernel */
	CHECK(!ot_ksyms_is_text(ks, 0xffff800081190000ULL));	/* above it, not a module */
	CHECK_STR(ot_ksyms_format(ks, 0xffff8000801a007cULL, buf, sizeof(buf)), "really_probe+0x7c");
	ot_ksyms_free(ks);
}

/* A file read in chunks gives the table parsing it whole does: lines cut
 * at every chunk boundary, a last line without its newline. */
static void test_load_in_chunks(void)
{
	char path[] = "/tmp/ot-test-ksyms-XXXXXX", buf[128], name[64];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct ot_ksyms *ks;
	const int n = 6000;	/* ~250 KB: several 64 KiB chunks */

	CHECK(f != NULL);
	for (int i = 0; i < n; i++)
		fprintf(f, "ffffffff8%07x t func_%d%s\n", i * 16, i, i % 7 == 5 ? "\t[mod]" : "");
	fprintf(f, "ffffffff8%07x T last_without_newline", n * 16);
	fclose(f);
	ks = ot_ksyms_load(path);
	unlink(path);
	CHECK(ks != NULL);
	CHECK(ot_ksyms_count(ks) == (size_t)n + 1);
	for (int i = 0; i < n; i += 997) {
		if (i % 7 == 5)
			continue;	/* a module's: "func_i [mod]" */
		snprintf(name, sizeof(name), "func_%d", i);
		CHECK(ot_ksyms_find_exact(ks, name));
	}
	CHECK(ot_ksyms_find_exact(ks, "last_without_newline"));
	CHECK_STR(ot_ksyms_format(ks, 0xffffffff80000000ULL + 4321 * 16 + 3, buf, sizeof(buf)), "func_4321+0x3");
	ot_ksyms_free(ks);
}

/* Symbols out of address order (a module listed below the one before it)
 * and far from the others (outside the 4 GiB the compact entries reach)
 * resolve as in-order ones do, whichever list holds the closest. */
static void test_unsorted_and_far(void)
{
	static const char syms[] =
		"ffffffff81000000 T _stext\n"
		"ffffffff81100000 t really_probe\n"
		"ffffffffc0b00000 t vfio_pci_probe\t[vfio_pci]\n"
		"ffffffffc0a00000 t e1000_probe\t[e1000]\n"		/* below the line before */
		"ffffffffc0a00100 t e1000_remove\t[e1000]\n"
		"ffffffff00000000 t far_below\n"			/* more than 2 GiB below _stext */
		"ffffffff81100000 t really_probe_alias\n";		/* same address, read later */
	struct ot_ksyms *ks = ot_ksyms_parse(syms, sizeof(syms) - 1);
	struct ot_ksym sym;
	char buf[128];

	CHECK(ks && ot_ksyms_count(ks) == 7);
	CHECK_STR(ot_ksyms_format(ks, 0xffffffffc0a00010ULL, buf, sizeof(buf)), "e1000_probe+0x10 [e1000]");
	CHECK_STR(ot_ksyms_format(ks, 0xffffffffc0a00104ULL, buf, sizeof(buf)), "e1000_remove+0x4 [e1000]");
	CHECK_STR(ot_ksyms_format(ks, 0xffffffffc0b00008ULL, buf, sizeof(buf)), "vfio_pci_probe+0x8 [vfio_pci]");
	CHECK_STR(ot_ksyms_format(ks, 0xffffffff00000040ULL, buf, sizeof(buf)), "far_below+0x40");
	CHECK_STR(ot_ksyms_format(ks, 0xffffffff81000010ULL, buf, sizeof(buf)), "_stext+0x10");
	CHECK(ot_ksyms_resolve(ks, 0xffffffff81100004ULL, &sym) && sym.addr == 0xffffffff81100000ULL);
	CHECK(!ot_ksyms_resolve(ks, 0xfffffffe00000000ULL, &sym));	/* below every symbol */
	CHECK(ot_ksyms_find_exact(ks, "far_below") && ot_ksyms_find_exact(ks, "e1000_remove [e1000]"));
	ot_ksyms_free(ks);
}

int main(void)
{
	test_ksyms();
	test_text_ranges();
	test_text_ranges_arm64();
	test_load_in_chunks();
	test_unsorted_and_far();
	return unit_report("test_ksyms");
}

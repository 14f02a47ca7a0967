// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include "util/grow.h"
#include "kernel/ksyms.h"

struct ot_ksyms {
	struct ot_ksym *syms;	/* sorted by address */
	size_t count;
	size_t cap;
	char *strings;		/* one arena for every name */
	size_t strings_len;
	size_t strings_cap;
	bool all_zero;
	uint64_t stext, etext;	/* core kernel text, 0 if unknown */
	struct range { uint64_t start, end; } *modules;
	size_t nmodules, modules_cap;
};

static int push_string(struct ot_ksyms *ks, const char *s, size_t n, size_t *off)
{
	if (ot_grow(&ks->strings, &ks->strings_cap, ks->strings_len + n + 1, 1, 1 << 20))
		return -ENOMEM;
	memcpy(ks->strings + ks->strings_len, s, n);
	ks->strings[ks->strings_len + n] = '\0';
	*off = ks->strings_len;
	ks->strings_len += n + 1;
	return 0;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct ot_ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * One line: "ffffffff81000000 T _stext" or "... t e1000_probe\t[e1000]".
 * Only text symbols matter. Parsed by hand: kallsyms has ~120k lines and
 * sscanf() was most of ownertrace's start-up time.
 */
static int parse_line(struct ot_ksyms *ks, const char *line, size_t len)
{
	const char *p = line, *end = line + len;
	unsigned long long addr = 0;
	int digits = 0, d;
	size_t name_len, off;
	char type, *name;

	while (p < end && (d = hex_digit(*p)) >= 0) {
		addr = addr << 4 | (unsigned int)d;
		digits++;
		p++;
	}
	if (!digits || digits > 16 || end - p < 4 || p[0] != ' ' || p[2] != ' ')
		return 0;
	type = p[1];
	p += 3;
	name_len = end - p;
	if (type != 't' && type != 'T') {
		/* arm64 lists _etext as a data symbol ('D'): keep the text
		 * range it ends (BPF frames are told apart by it), not the symbol */
		if (name_len == 6 && !memcmp(p, "_etext", 6))
			ks->etext = addr;
		else if (name_len == 6 && !memcmp(p, "_stext", 6))
			ks->stext = addr;
		return 0;
	}
	if (!name_len || name_len > 255 || *p == ' ' || *p == '\t')
		return 0;
	if (ot_grow(&ks->syms, &ks->cap, ks->count + 1, sizeof(*ks->syms), 16384))
		return -ENOMEM;
	if (push_string(ks, p, name_len, &off))
		return -ENOMEM;
	name = ks->strings + off;
	/* "name\t[module]" -> "name [module]" */
	for (char *c = name; *c; c++)
		if (*c == '\t')
			*c = ' ';
	if (!strcmp(name, "_stext"))
		ks->stext = addr;
	else if (!strcmp(name, "_etext"))
		ks->etext = addr;
	ks->syms[ks->count].addr = addr;
	ks->syms[ks->count].name = (const char *)(uintptr_t)off;	/* fixed up later */
	ks->count++;
	if (addr)
		ks->all_zero = false;
	return 0;
}

static struct ot_ksyms *finish(struct ot_ksyms *ks)
{
	for (size_t i = 0; i < ks->count; i++)
		ks->syms[i].name = ks->strings + (uintptr_t)ks->syms[i].name;
	qsort(ks->syms, ks->count, sizeof(ks->syms[0]), cmp_addr);
	return ks;
}

/* The complete lines of text[0..len) into ks; returns how many bytes they took. */
static ssize_t parse_lines(struct ot_ksyms *ks, const char *text, size_t len, bool last)
{
	size_t start = 0;

	for (size_t i = 0; i < len || (last && i == len); i++) {
		if (i == len || text[i] == '\n') {
			if (i > start && parse_line(ks, text + start, i - start))
				return -1;
			start = i + 1;
		}
	}
	return (ssize_t)(start < len ? start : len);
}

struct ot_ksyms *ot_ksyms_parse(const char *text, size_t len)
{
	struct ot_ksyms *ks = calloc(1, sizeof(*ks));

	if (!ks)
		return NULL;
	ks->all_zero = true;
	if (parse_lines(ks, text, len, true) < 0) {
		ot_ksyms_free(ks);
		errno = ENOMEM;
		return NULL;
	}
	return finish(ks);
}

/*
 * Read in chunks, parsing each chunk's complete lines: kallsyms is several
 * MB of text (three times the table made of it), and holding it whole,
 * read after attaching, was most of a trace's memory after start-up.
 */
struct ot_ksyms *ot_ksyms_load(const char *path)
{
	static char chunk[1 << 16];
	struct ot_ksyms *ks;
	size_t have = 0, n;
	ssize_t used;
	FILE *f = fopen(path, "re");

	if (!f)
		return NULL;
	ks = calloc(1, sizeof(*ks));
	if (!ks) {
		fclose(f);
		return NULL;
	}
	ks->all_zero = true;
	do {
		n = fread(chunk + have, 1, sizeof(chunk) - have, f);
		have += n;
		used = parse_lines(ks, chunk, have, n == 0);
		if (used == 0 && have == sizeof(chunk))
			used = (ssize_t)have;	/* a line longer than the chunk is no kallsyms line */
		if (used < 0) {
			fclose(f);
			ot_ksyms_free(ks);
			errno = ENOMEM;
			return NULL;
		}
		memmove(chunk, chunk + used, have - used);
		have -= used;
	} while (n);
	if (ferror(f)) {
		fclose(f);
		ot_ksyms_free(ks);
		errno = EIO;
		return NULL;
	}
	fclose(f);
	return finish(ks);
}

struct ot_ksyms *ot_ksyms_load_running(void)
{
	struct ot_ksyms *ks = ot_ksyms_load("/proc/kallsyms");

	if (ks)
		ot_ksyms_load_modules(ks, "/proc/modules");
	return ks;
}

void ot_ksyms_free(struct ot_ksyms *ks)
{
	if (!ks)
		return;
	free(ks->syms);
	free(ks->strings);
	free(ks->modules);
	free(ks);
}

size_t ot_ksyms_count(const struct ot_ksyms *ks)
{
	return ks ? ks->count : 0;
}

bool ot_ksyms_addresses_hidden(const struct ot_ksyms *ks)
{
	return ks && ks->count && ks->all_zero;
}

const struct ot_ksym *ot_ksyms_find_exact(const struct ot_ksyms *ks, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < ks->count; i++) {
		const char *s = ks->syms[i].name;

		if (!strncmp(s, name, n) && s[n] == '\0')
			return &ks->syms[i];
	}
	return NULL;
}

bool ot_ksyms_find_clone(const struct ot_ksyms *ks, const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < ks->count; i++) {
		const char *s = ks->syms[i].name;

		if (!strncmp(s, name, n) && s[n] == '.') {
			snprintf(out, outlen, "%s", s);
			return true;
		}
	}
	return false;
}

const struct ot_ksym *ot_ksyms_resolve(const struct ot_ksyms *ks, uint64_t addr)
{
	size_t lo = 0, hi;

	if (!ks || !ks->count || addr < ks->syms[0].addr)
		return NULL;
	hi = ks->count;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return &ks->syms[lo];
}

const char *ot_ksyms_format(const struct ot_ksyms *ks, uint64_t addr, char *buf, size_t len)
{
	const struct ot_ksym *sym = ot_ksyms_addresses_hidden(ks) ? NULL : ot_ksyms_resolve(ks, addr);
	const char *module;

	if (!sym) {
		snprintf(buf, len, "0x%" PRIx64, addr);
		return buf;
	}
	/* "func [mod]" prints as "func+0x10 [mod]" */
	module = strchr(sym->name, ' ');
	if (module)
		snprintf(buf, len, "%.*s+0x%" PRIx64 "%s", (int)(module - sym->name), sym->name,
			 addr - sym->addr, module);
	else
		snprintf(buf, len, "%s+0x%" PRIx64, sym->name, addr - sym->addr);
	return buf;
}

/* /proc/modules: "name size refcount deps state address [taint]" */
int ot_ksyms_add_modules(struct ot_ksyms *ks, const char *text, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		char line[512], name[128];
		unsigned long long size, addr;

		if (i < len && text[i] != '\n')
			continue;
		if (i - start < sizeof(line)) {
			memcpy(line, text + start, i - start);
			line[i - start] = '\0';
			if (sscanf(line, "%127s %llu %*s %*s %*s %llx", name, &size, &addr) == 3 && addr && size) {
				if (ot_grow(&ks->modules, &ks->modules_cap, ks->nmodules + 1, sizeof(*ks->modules), 64))
					return -ENOMEM;
				ks->modules[ks->nmodules].start = addr;
				ks->modules[ks->nmodules++].end = addr + size;
			}
		}
		start = i + 1;
	}
	return 0;
}

int ot_ksyms_load_modules(struct ot_ksyms *ks, const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r");
	int err;

	if (!f)
		return -errno;
	{
		FILE *mem = open_memstream(&buf, &len);
		char chunk[4096];
		size_t n;

		if (!mem) {
			fclose(f);
			return -ENOMEM;
		}
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, n, mem);
		fclose(mem);
	}
	fclose(f);
	err = ot_ksyms_add_modules(ks, buf, len);
	free(buf);
	return err;
}

bool ot_ksyms_is_text(const struct ot_ksyms *ks, uint64_t addr)
{
	if (!ks || !ks->stext || !ks->etext)
		return true;	/* cannot tell: keep the frame */
	if (addr >= ks->stext && addr < ks->etext)
		return true;
	for (size_t i = 0; i < ks->nmodules; i++)
		if (addr >= ks->modules[i].start && addr < ks->modules[i].end)
			return true;
	return false;
}

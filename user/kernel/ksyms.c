// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <zlib.h>
#include "util/grow.h"
#include "kernel/ksyms.h"

/*
 * The table is kept small, since a live trace holds it for as long as it
 * runs: ~120k text symbols. kallsyms lists the core kernel's in address
 * order, and so does most of each module, so most entries arrive already
 * sorted and take 8 bytes each (an offset from the first symbol's address,
 * which the kernel and its modules sit within 4 GiB of, and the name's
 * offset); the rest (a module listed below the previous one, an address
 * outside that window) are kept whole and sorted apart. No sort of the big
 * run, so no sort buffer the size of the table either.
 *
 * The names (3 MB of text) are kept deflated in blocks of NAMES_PER_BLOCK, in
 * the order read: neighbours in address order come from one source file and
 * share most of their letters, so a block shrinks about 5x. Names are looked
 * up rarely (a new stack's frames, an untraceable function's explanation):
 * one block is inflated for a lookup, and the last one is kept.
 */
struct sorted_sym {
	uint32_t off;		/* addr - ks->base */
	uint32_t name;		/* the name's index in read order */
};

struct other_sym {
	uint64_t addr;
	uint32_t name;
};

#define NAMES_PER_BLOCK 256
#define NAME_MAX_LEN 255	/* longer lines are no kallsyms symbol */
#define BLOCK_RAW_MAX (NAMES_PER_BLOCK * (NAME_MAX_LEN + 1))

struct name_blocks {
	unsigned char *z;	/* the deflated blocks, one after another */
	size_t zlen, zcap;
	uint32_t *starts;	/* block i is z[starts[i] .. starts[i + 1]) */
	size_t nstarts, starts_cap;
	uint32_t count;		/* names so far */
	char *pending;		/* the block being filled, NUL-separated */
	size_t pending_len;
	z_stream deflater;	/* while reading only */
	bool deflating;
	char *inflated;		/* the block last looked up */
	size_t inflated_len;
	ssize_t inflated_block;	/* -1: none */
};

#define WINDOW_BELOW (1ULL << 31)	/* the window starts this far below the first symbol */

struct ot_ksyms {
	struct sorted_sym *sorted;	/* ascending, in the order read */
	size_t nsorted, sorted_cap;
	struct other_sym *others;	/* sorted by address in finish() */
	size_t nothers, others_cap;
	uint64_t base;		/* set by the first symbol */
	bool have_base;
	struct name_blocks names;
	bool all_zero;
	uint64_t stext, etext;	/* core kernel text, 0 if unknown */
	struct range { uint64_t start, end; } *modules;
	size_t nmodules, modules_cap;
};

/* Deflate the pending names as one block (raw deflate: no header, no checksum). */
static int flush_names(struct name_blocks *nb)
{
	size_t bound;

	if (!nb->pending_len)
		return 0;
	if (!nb->deflating) {
		/* blocks are a few KB: a small window and state, ~64 KB while reading */
		if (deflateInit2(&nb->deflater, 6, Z_DEFLATED, -13, 6, Z_DEFAULT_STRATEGY) != Z_OK)
			return -ENOMEM;
		nb->deflating = true;
	}
	bound = deflateBound(&nb->deflater, (uLong)nb->pending_len);
	if (ot_grow(&nb->z, &nb->zcap, nb->zlen + bound, 1, 1 << 16) ||
	    ot_grow(&nb->starts, &nb->starts_cap, nb->nstarts + 2, sizeof(*nb->starts), 512))
		return -ENOMEM;
	if (nb->zlen + bound > UINT32_MAX)
		return -ENOMEM;
	if (!nb->nstarts)
		nb->starts[nb->nstarts++] = 0;
	nb->deflater.next_in = (Bytef *)nb->pending;
	nb->deflater.avail_in = (uInt)nb->pending_len;
	nb->deflater.next_out = nb->z + nb->zlen;
	nb->deflater.avail_out = (uInt)bound;
	if (deflate(&nb->deflater, Z_FINISH) != Z_STREAM_END)
		return -EIO;
	nb->zlen = (size_t)(nb->deflater.next_out - nb->z);
	nb->starts[nb->nstarts++] = (uint32_t)nb->zlen;
	deflateReset(&nb->deflater);
	nb->pending_len = 0;
	return 0;
}

/* Append a name; its index (in read order) into *index. */
static int push_name(struct name_blocks *nb, const char *s, size_t n, uint32_t *index)
{
	if (!nb->pending && !(nb->pending = malloc(BLOCK_RAW_MAX)))
		return -ENOMEM;
	memcpy(nb->pending + nb->pending_len, s, n);
	nb->pending[nb->pending_len + n] = '\0';
	nb->pending_len += n + 1;
	*index = nb->count++;
	if (nb->count % NAMES_PER_BLOCK == 0)
		return flush_names(nb);
	return 0;
}

/* Done reading: the last block out, the reading buffers freed. */
static int seal_names(struct name_blocks *nb)
{
	int err = flush_names(nb);

	if (nb->deflating)
		deflateEnd(&nb->deflater);
	nb->deflating = false;
	free(nb->pending);
	nb->pending = NULL;
	if (nb->zcap > nb->zlen && nb->zlen) {	/* the growth slack back */
		unsigned char *fit = realloc(nb->z, nb->zlen);

		if (fit) {
			nb->z = fit;
			nb->zcap = nb->zlen;
		}
	}
	return err;
}

/* Block b inflated into nb->inflated (kept for the next lookup); false if corrupt. */
static bool inflate_block(struct name_blocks *nb, size_t b)
{
	z_stream in = { 0 };
	int ret;

	if ((ssize_t)b == nb->inflated_block)
		return true;
	nb->inflated_block = -1;
	if (b + 1 >= nb->nstarts)
		return false;
	if (!nb->inflated && !(nb->inflated = malloc(BLOCK_RAW_MAX)))
		return false;
	if (inflateInit2(&in, -13) != Z_OK)
		return false;
	in.next_in = nb->z + nb->starts[b];
	in.avail_in = nb->starts[b + 1] - nb->starts[b];
	in.next_out = (Bytef *)nb->inflated;
	in.avail_out = BLOCK_RAW_MAX;
	ret = inflate(&in, Z_FINISH);
	nb->inflated_len = BLOCK_RAW_MAX - in.avail_out;
	inflateEnd(&in);
	if (ret != Z_STREAM_END)
		return false;
	nb->inflated_block = (ssize_t)b;
	return true;
}

/* Name number index; valid until the next lookup in the table. */
static const char *name_at(struct name_blocks *nb, uint32_t index)
{
	const char *p;

	if (index >= nb->count || !inflate_block(nb, index / NAMES_PER_BLOCK))
		return "?";
	p = nb->inflated;
	for (uint32_t k = index % NAMES_PER_BLOCK; k; k--)
		p += strlen(p) + 1;
	return p;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct other_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name;	/* read order among equals: stable */
}

static uint64_t sorted_addr(const struct ot_ksyms *ks, size_t i)
{
	return ks->base + ks->sorted[i].off;
}

/* Keep one symbol: in the sorted run if it extends it, else with the others. */
static int add_symbol(struct ot_ksyms *ks, uint64_t addr, uint32_t name)
{
	if (!ks->have_base) {
		ks->base = addr > WINDOW_BELOW ? addr - WINDOW_BELOW : 0;
		ks->have_base = true;
	}
	if (addr >= ks->base && addr - ks->base <= UINT32_MAX &&
	    (!ks->nsorted || addr >= sorted_addr(ks, ks->nsorted - 1))) {
		if (ot_grow(&ks->sorted, &ks->sorted_cap, ks->nsorted + 1, sizeof(*ks->sorted), 16384))
			return -ENOMEM;
		ks->sorted[ks->nsorted].off = (uint32_t)(addr - ks->base);
		ks->sorted[ks->nsorted++].name = name;
		return 0;
	}
	if (ot_grow(&ks->others, &ks->others_cap, ks->nothers + 1, sizeof(*ks->others), 256))
		return -ENOMEM;
	ks->others[ks->nothers].addr = addr;
	ks->others[ks->nothers++].name = name;
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
	char type, name[NAME_MAX_LEN + 1];
	size_t name_len;
	uint32_t index;

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
	if (!name_len || name_len > NAME_MAX_LEN || *p == ' ' || *p == '\t')
		return 0;
	if (ks->names.count == UINT32_MAX)
		return -ENOMEM;
	/* "name\t[module]" -> "name [module]" */
	memcpy(name, p, name_len);
	name[name_len] = '\0';
	for (char *c = name; *c; c++)
		if (*c == '\t')
			*c = ' ';
	if (!strcmp(name, "_stext"))
		ks->stext = addr;
	else if (!strcmp(name, "_etext"))
		ks->etext = addr;
	if (push_name(&ks->names, name, name_len, &index) || add_symbol(ks, addr, index))
		return -ENOMEM;
	if (addr)
		ks->all_zero = false;
	return 0;
}

/* Reading is over: NULL with errno set (ks freed) if the last block could not be kept. */
static struct ot_ksyms *finish(struct ot_ksyms *ks)
{
	if (seal_names(&ks->names)) {
		ot_ksyms_free(ks);
		errno = ENOMEM;
		return NULL;
	}
	if (ks->nothers > 1)
		qsort(ks->others, ks->nothers, sizeof(ks->others[0]), cmp_addr);
	return ks;
}

static struct ot_ksyms *new_table(void)
{
	struct ot_ksyms *ks = calloc(1, sizeof(*ks));

	if (ks) {
		ks->all_zero = true;
		ks->names.inflated_block = -1;
	}
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
	struct ot_ksyms *ks = new_table();

	if (!ks)
		return NULL;
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
	ks = new_table();
	if (!ks) {
		fclose(f);
		return NULL;
	}
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
	free(ks->sorted);
	free(ks->others);
	if (ks->names.deflating)
		deflateEnd(&ks->names.deflater);
	free(ks->names.pending);
	free(ks->names.z);
	free(ks->names.starts);
	free(ks->names.inflated);
	free(ks->modules);
	free(ks);
}

size_t ot_ksyms_count(const struct ot_ksyms *ks)
{
	return ks ? ks->nsorted + ks->nothers : 0;
}

bool ot_ksyms_addresses_hidden(const struct ot_ksyms *ks)
{
	return ks && ot_ksyms_count(ks) && ks->all_zero;
}

/*
 * The first name (in read order) that starts with name and continues with
 * next ('\0': exactly it; '.': a clone), copied into out; every block is
 * inflated in turn, which is fine for the few explanations that ask.
 */
static bool find_name(const struct ot_ksyms *ks, const char *name, char next, char *out, size_t outlen)
{
	struct name_blocks *nb = (struct name_blocks *)&ks->names;	/* its lookup cache only */
	size_t n = strlen(name);

	for (size_t b = 0; b + 1 < nb->nstarts; b++) {
		if (!inflate_block(nb, b))
			return false;
		for (const char *s = nb->inflated, *end = s + nb->inflated_len; s < end; s += strlen(s) + 1)
			if (!strncmp(s, name, n) && s[n] == next) {
				if (out)
					snprintf(out, outlen, "%s", s);
				return true;
			}
	}
	return false;
}

bool ot_ksyms_find_exact(const struct ot_ksyms *ks, const char *name)
{
	return find_name(ks, name, '\0', NULL, 0);
}

bool ot_ksyms_find_clone(const struct ot_ksyms *ks, const char *name, char *out, size_t outlen)
{
	return find_name(ks, name, '.', out, outlen);
}

static uint64_t other_addr(const struct ot_ksyms *ks, size_t i)
{
	return ks->others[i].addr;
}

/* Index of the last of n ascending addresses at or below addr, or -1. */
static ssize_t last_at_or_below(const struct ot_ksyms *ks, size_t n,
				uint64_t (*addr_of)(const struct ot_ksyms *, size_t), uint64_t addr)
{
	ssize_t lo = -1, hi = (ssize_t)n;

	while (hi - lo > 1) {
		ssize_t mid = lo + (hi - lo) / 2;

		if (addr_of(ks, (size_t)mid) <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

bool ot_ksyms_resolve(const struct ot_ksyms *ks, uint64_t addr, struct ot_ksym *out)
{
	struct name_blocks *names;
	ssize_t i, j;

	if (!ks)
		return false;
	names = (struct name_blocks *)&ks->names;	/* its lookup cache only */
	i = last_at_or_below(ks, ks->nsorted, sorted_addr, addr);
	j = last_at_or_below(ks, ks->nothers, other_addr, addr);
	if (j >= 0 && (i < 0 || ks->others[j].addr > sorted_addr(ks, (size_t)i))) {
		out->addr = ks->others[j].addr;
		out->name = name_at(names, ks->others[j].name);
		return true;
	}
	if (i < 0)
		return false;
	out->addr = sorted_addr(ks, (size_t)i);
	out->name = name_at(names, ks->sorted[i].name);
	return true;
}

const char *ot_ksym_format(const struct ot_ksym *sym, uint64_t addr, char *buf, size_t len)
{
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

const char *ot_ksyms_format(const struct ot_ksyms *ks, uint64_t addr, char *buf, size_t len)
{
	struct ot_ksym sym;
	bool known = !ot_ksyms_addresses_hidden(ks) && ot_ksyms_resolve(ks, addr, &sym);

	return ot_ksym_format(known ? &sym : NULL, addr, buf, len);
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

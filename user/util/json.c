// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <string.h>
#include <stdint.h>
#include "util/json.h"

void ot_json_write_string(FILE *f, const char *s, size_t maxlen)
{
	fputc('"', f);
	for (size_t i = 0; i < maxlen && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			/* control bytes and non-ASCII (kernel names are not
			 * guaranteed UTF-8) are escaped so every line parses */
			if (c < 0x20 || c >= 0x7f)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

void ot_json_begin(struct ot_json *j, FILE *out)
{
	j->out = out;
	j->first = true;
	fputc('{', out);
}

void ot_json_begin_record(struct ot_json *j, FILE *out, const char *type)
{
	ot_json_begin(j, out);
	ot_json_str(j, "type", type);
	ot_json_uint(j, "schema", OT_JSONL_SCHEMA_VERSION);
}

void ot_json_end(struct ot_json *j)
{
	fputs("}\n", j->out);
}

void ot_json_close(struct ot_json *j)
{
	fputc('}', j->out);
}

static void key(struct ot_json *j, const char *k)
{
	if (!j->first)
		fputc(',', j->out);
	j->first = false;
	ot_json_write_string(j->out, k, SIZE_MAX);
	fputc(':', j->out);
}

void ot_json_begin_object(struct ot_json *outer, const char *k, struct ot_json *inner)
{
	key(outer, k);
	ot_json_begin(inner, outer->out);
}

void ot_json_strn(struct ot_json *j, const char *k, const char *val, size_t maxlen)
{
	key(j, k);
	if (val)
		ot_json_write_string(j->out, val, maxlen);
	else
		fputs("null", j->out);
}

void ot_json_str(struct ot_json *j, const char *k, const char *val)
{
	ot_json_strn(j, k, val, SIZE_MAX);
}

void ot_json_int(struct ot_json *j, const char *k, int64_t val)
{
	key(j, k);
	fprintf(j->out, "%" PRId64, val);
}

void ot_json_uint(struct ot_json *j, const char *k, uint64_t val)
{
	key(j, k);
	fprintf(j->out, "%" PRIu64, val);
}

void ot_json_double(struct ot_json *j, const char *k, double val)
{
	key(j, k);
	fprintf(j->out, "%.9f", val);
}

void ot_json_bool(struct ot_json *j, const char *k, bool val)
{
	key(j, k);
	fputs(val ? "true" : "false", j->out);
}

void ot_json_null(struct ot_json *j, const char *k)
{
	key(j, k);
	fputs("null", j->out);
}

void ot_json_ns_as_us(struct ot_json *j, const char *k, uint64_t ns)
{
	key(j, k);
	fprintf(j->out, "%" PRIu64 ".%03u", ns / 1000, (unsigned int)(ns % 1000));
}

void ot_json_str_array(struct ot_json *j, const char *k, const char *const *items, int n, size_t maxlen)
{
	key(j, k);
	fputc('[', j->out);
	for (int i = 0; i < n; i++) {
		if (i)
			fputc(',', j->out);
		ot_json_write_string(j->out, items[i], maxlen);
	}
	fputc(']', j->out);
}

void ot_json_raw(struct ot_json *j, const char *k, const char *json)
{
	key(j, k);
	fputs(json, j->out);
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdint.h>
#include <string.h>
#include "util/json.h"

static const char hex[] = "0123456789abcdef";

/* 1 for the bytes a JSON string cannot carry as they are */
static const unsigned char needs_escape[256] = {
	[0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x7f ... 0xff] = 1,
};

void ot_json_write_string(struct ot_buf *b, const char *s, size_t maxlen)
{
	size_t i = 0, run = 0;

	ot_buf_putc(b, '"');
	for (; i < maxlen && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = { '\\', 0 };
		size_t n = 2;

		/* control bytes and non-ASCII (kernel names are not guaranteed
		 * UTF-8) are escaped so every line parses */
		if (!needs_escape[c])
			continue;
		ot_buf_put(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		ot_buf_put(b, esc, n);
	}
	ot_buf_put(b, s + run, i - run);
	ot_buf_putc(b, '"');
}

void ot_json_begin(struct ot_json *j, struct ot_buf *b)
{
	j->b = b;
	j->first = true;
	ot_buf_putc(b, '{');
}

void ot_json_begin_record(struct ot_json *j, struct ot_buf *b, const char *type)
{
	ot_json_begin(j, b);
	ot_json_str(j, "type", type);
	ot_json_uint(j, "schema", OT_JSONL_SCHEMA_VERSION);
}

void ot_json_end(struct ot_json *j)
{
	ot_buf_put(j->b, "}\n", 2);
}

void ot_json_close(struct ot_json *j)
{
	ot_buf_putc(j->b, '}');
}

void ot_json_begin_object(struct ot_json *outer, const char *k, struct ot_json *inner)
{
	ot_json_key(outer, k);
	ot_json_begin(inner, outer->b);
}

void ot_json_strn(struct ot_json *j, const char *k, const char *val, size_t maxlen)
{
	ot_json_key(j, k);
	if (val)
		ot_json_write_string(j->b, val, maxlen);
	else
		ot_buf_put(j->b, "null", 4);
}

void ot_json_str(struct ot_json *j, const char *k, const char *val)
{
	ot_json_strn(j, k, val, SIZE_MAX);
}

void ot_json_int(struct ot_json *j, const char *k, int64_t val)
{
	ot_json_key(j, k);
	ot_buf_i64(j->b, val);
}

void ot_json_uint(struct ot_json *j, const char *k, uint64_t val)
{
	ot_json_key(j, k);
	ot_buf_u64(j->b, val);
}

void ot_json_double(struct ot_json *j, const char *k, double val)
{
	ot_json_key(j, k);
	ot_buf_printf(j->b, "%.9f", val);
}

void ot_json_fixed(struct ot_json *j, const char *k, int64_t v, int scale)
{
	ot_json_key(j, k);
	ot_buf_fixed(j->b, v, scale, scale, 0);
}

void ot_json_bool(struct ot_json *j, const char *k, bool val)
{
	ot_json_key(j, k);
	ot_buf_puts(j->b, val ? "true" : "false");
}

void ot_json_null(struct ot_json *j, const char *k)
{
	ot_json_key(j, k);
	ot_buf_put(j->b, "null", 4);
}

void ot_json_ns_as_us(struct ot_json *j, const char *k, uint64_t ns)
{
	char frac[4] = { (char)('0' + ns % 1000 / 100), (char)('0' + ns % 100 / 10), (char)('0' + ns % 10), 0 };

	ot_json_key(j, k);
	ot_buf_u64(j->b, ns / 1000);
	ot_buf_putc(j->b, '.');
	ot_buf_put(j->b, frac, 3);
}

void ot_json_str_array(struct ot_json *j, const char *k, const char *const *items, int n, size_t maxlen)
{
	ot_json_key(j, k);
	ot_buf_putc(j->b, '[');
	for (int i = 0; i < n; i++) {
		if (i)
			ot_buf_putc(j->b, ',');
		ot_json_write_string(j->b, items[i], maxlen);
	}
	ot_buf_putc(j->b, ']');
}

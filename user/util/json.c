// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdint.h>
#include <string.h>
#include "util/json.h"

static const char hex[] = "0123456789abcdef";

/* 1 for the bytes a JSON string cannot carry as they are */
static const unsigned char needs_escape[256] = {
	[0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x7f ... 0xff] = 1,
};

/* The escape of one byte that needs it, at p. */
static char *put_escape(char *p, unsigned char c)
{
	*p++ = '\\';
	switch (c) {
	case '"': *p++ = '"'; break;
	case '\\': *p++ = '\\'; break;
	case '\n': *p++ = 'n'; break;
	case '\r': *p++ = 'r'; break;
	case '\t': *p++ = 't'; break;
	default:
		memcpy(p, "u00", 3);
		p[3] = hex[c >> 4];
		p[4] = hex[c & 15];
		p += 5;
	}
	return p;
}

/*
 * Bytes i.. of s (up to its NUL or max) at p, escaped; the closing quote.
 * Control bytes and non-ASCII (kernel names are not guaranteed UTF-8) are
 * escaped so every line parses.
 */
char *ot_json_put_escaped_from(char *p, const char *s, size_t i, size_t max)
{
	for (; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (needs_escape[c])
			p = put_escape(p, c);
		else
			*p++ = (char)c;
	}
	*p++ = '"';
	return p;
}

void ot_json_write_string(struct ot_buf *b, const char *s, size_t maxlen)
{
	size_t n = strnlen(s, maxlen);
	char *p = ot_buf_begin(b, OT_JSON_STRING_MAX(n));

	if (!p)
		return;
	*p++ = '"';
	ot_buf_commit(b, ot_json_put_escaped_from(p, s, 0, n));
}

char *ot_json_put_cstr(char *p, const char *s)
{
	*p++ = '"';
	return ot_json_put_escaped_from(p, s, 0, SIZE_MAX);
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

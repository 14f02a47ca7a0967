/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Minimal JSON writer into an output buffer: JSON Lines records (one
 * object per line), and the objects and arrays nested in them or in a JSON
 * document; correct string escaping. */
#ifndef OT_JSON_H
#define OT_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "util/outbuf.h"

/*
 * Version of the JSON Lines schema, docs/schema/ownertrace-jsonl.schema.json:
 * every record ownertrace prints carries it as "schema". Bump it (and the
 * schema file) whenever a record gains, loses or changes a member.
 */
#define OT_JSONL_SCHEMA_VERSION 2

struct ot_json {
	struct ot_buf *b;
	bool first;		/* no comma before the next member */
};

void ot_json_begin(struct ot_json *j, struct ot_buf *b);
/* A top-level JSON Lines record: {"type":TYPE,"schema":OT_JSONL_SCHEMA_VERSION ... */
void ot_json_begin_record(struct ot_json *j, struct ot_buf *b, const char *type);
void ot_json_end(struct ot_json *j);	/* closes the object and the line */
void ot_json_close(struct ot_json *j);	/* closes the object, not the line */
/* "key":{ ... as inner, closed with ot_json_close(inner). */
void ot_json_begin_object(struct ot_json *outer, const char *key, struct ot_json *inner);
/*
 * "key": with the value left to the caller (an array, a nested value).
 * Keys are ours, plain ASCII with nothing to escape; inline so a literal's
 * length is known at compile time.
 */
static inline void ot_json_key(struct ot_json *j, const char *key)
{
	size_t n = strlen(key);
	char *p = ot_buf_reserve(j->b, n + 4);

	if (!p)
		return;
	if (!j->first)
		*p++ = ',';
	j->first = false;
	*p++ = '"';
	memcpy(p, key, n);
	p += n;
	*p++ = '"';
	*p++ = ':';
	j->b->len = (size_t)(p - j->b->data);
}

void ot_json_str(struct ot_json *j, const char *key, const char *val);	/* NULL -> null */
void ot_json_strn(struct ot_json *j, const char *key, const char *val, size_t maxlen);
void ot_json_int(struct ot_json *j, const char *key, int64_t val);
void ot_json_uint(struct ot_json *j, const char *key, uint64_t val);
void ot_json_double(struct ot_json *j, const char *key, double val);	/* %.9f */
/* v units of 10^-scale with that many decimals: (1500, 3) -> 1.500; the digits of %.Nf */
void ot_json_fixed(struct ot_json *j, const char *key, int64_t v, int scale);
void ot_json_bool(struct ot_json *j, const char *key, bool val);
void ot_json_null(struct ot_json *j, const char *key);
/* ns as microseconds, exact: 1234567 -> 1234.567 */
void ot_json_ns_as_us(struct ot_json *j, const char *key, uint64_t ns);
/* "key":["a","b"]: each string at most maxlen bytes. */
void ot_json_str_array(struct ot_json *j, const char *key, const char *const *items, int n, size_t maxlen);

/* Escape s (at most maxlen bytes) as a JSON string literal into b. */
void ot_json_write_string(struct ot_buf *b, const char *s, size_t maxlen);

/*
 * The same at a cursor (util/outbuf.h), for the per-event writer: room for
 * OT_JSON_STRING_MAX(n) bytes for a string of at most n bytes. _field takes
 * a fixed-size name field (a char array and its size: it reads whole words
 * of it), _cstr a NUL-terminated string.
 */
#define OT_JSON_STRING_MAX(n) (6 * (n) + 2)
char *ot_json_put_cstr(char *p, const char *s);
/* Bytes i.. of s (up to its NUL or max) at p, escaped, and the closing quote. */
char *ot_json_put_escaped_from(char *p, const char *s, size_t i, size_t max);

/* Inline: an event has six of these, most of them plain names. */
static inline char *ot_json_put_field(char *p, const char *s, size_t size)
{
	size_t i = 0;

	*p++ = '"';
#ifdef __SSE2__
	/* 16 bytes at a time while none ends the string or needs escaping: a plain name */
	for (; i + 16 <= size; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(s + i));
		/* signed: below 0x20 are the control bytes and NUL, and non-ASCII (negative) */
		__m128i special = _mm_or_si128(
			_mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)), _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))),
			_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
		unsigned int hit = (unsigned int)_mm_movemask_epi8(special);

		_mm_storeu_si128((__m128i *)(p + i), v);
		if (hit) {
			i += (size_t)__builtin_ctz(hit);
			break;
		}
	}
	if (i < size && !s[i]) {	/* its NUL: done */
		p[i] = '"';
		return p + i + 1;
	}
#endif
	return ot_json_put_escaped_from(p + i, s, i, size);
}

#endif

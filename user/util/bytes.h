/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Comparing and copying fixed-size byte runs and name fields on the
 * per-event path, where a memcmp, strncmp or strnlen call costs more than
 * the work. A name field is a char array that holds a name up to its NUL
 * or its end (kernel names need not be terminated); these read it 16
 * bytes at a time, so pass the whole array and its size.
 */
#ifndef OT_BYTES_H
#define OT_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Whether n bytes (a multiple of 16) at a and b are equal; inline, so a fixed n unrolls. */
static inline bool ot_bytes_equal16n(const void *a, const void *b, size_t n)
{
#ifdef __SSE2__
	const unsigned char *x = a, *y = b;
	__m128i same = _mm_set1_epi8(-1);

	for (size_t i = 0; i < n; i += 16)
		same = _mm_and_si128(same, _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(x + i)),
							  _mm_loadu_si128((const __m128i *)(y + i))));
	return _mm_movemask_epi8(same) == 0xffff;
#else
	return memcmp(a, b, n) == 0;
#endif
}

/* Whether name fields a and b (size bytes each) hold the same name: strncmp(a, b, size) == 0. */
static inline bool ot_name_equal(const char *a, const char *b, size_t size)
{
	size_t i = 0;

#ifdef __SSE2__
	for (; i + 16 <= size; i += 16) {
		__m128i va = _mm_loadu_si128((const __m128i *)(a + i)), vb = _mm_loadu_si128((const __m128i *)(b + i));
		/* the first byte that differs or ends a: the names are equal if it is a's NUL, and b's */
		unsigned int stop = (unsigned int)(_mm_movemask_epi8(_mm_cmpeq_epi8(va, vb)) ^ 0xffff) |
				    (unsigned int)_mm_movemask_epi8(_mm_cmpeq_epi8(va, _mm_setzero_si128()));

		if (stop) {
			i += (size_t)__builtin_ctz(stop);
			return a[i] == b[i];
		}
	}
#endif
	return i == size || strncmp(a + i, b + i, size - i) == 0;
}

/* Copy name field s (at most max bytes, up to its NUL) to dst; its length. Whole 16-byte pieces are copied within max. */
static inline size_t ot_name_copy(char *dst, const char *s, size_t max)
{
	size_t i = 0;

#ifdef __SSE2__
	for (; i + 16 <= max; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(s + i));
		unsigned int nul = (unsigned int)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128()));

		_mm_storeu_si128((__m128i *)(dst + i), v);
		if (nul)
			return i + (size_t)__builtin_ctz(nul);
	}
#endif
	for (; i < max && s[i]; i++)
		dst[i] = s[i];
	return i;
}

#endif

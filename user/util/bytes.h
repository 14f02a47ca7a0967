/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Comparing fixed-size byte runs on the per-event path, where a memcmp call costs more than the compare. */
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

#endif

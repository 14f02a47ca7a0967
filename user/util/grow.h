/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Room in an array that doubles as it fills: the one growth helper of
 * every growing array (elements appended one at a time, or bytes appended
 * to a buffer), so that appending costs amortized O(1) everywhere. */
#ifndef OT_GROW_H
#define OT_GROW_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/*
 * *arrayp has room for *cap elements of elem bytes; make room for need:
 * double *cap (the first time: first, which must be > 0) until need fits.
 * 0, or -ENOMEM with the array and *cap intact, also when the size would
 * overflow. Appending one element: ot_grow(&a, &cap, n + 1, sizeof(*a), 16).
 */
static inline int ot_grow(void *arrayp, size_t *cap, size_t need, size_t elem, size_t first)
{
	void **array = arrayp;
	size_t want;
	void *grown;

	if (need <= *cap)
		return 0;
	/* from a non-empty array at least one doubling, since need > *cap */
	for (want = *cap ? *cap : first; want < need; want *= 2)
		if (want > SIZE_MAX / 2)
			return -ENOMEM;
	if (want > SIZE_MAX / elem)
		return -ENOMEM;
	grown = realloc(*array, want * elem);
	if (!grown)
		return -ENOMEM;
	*array = grown;
	*cap = want;
	return 0;
}

#endif

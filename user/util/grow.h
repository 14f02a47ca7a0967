/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Room for one more element in an array that doubles as it fills. */
#ifndef OT_GROW_H
#define OT_GROW_H

#include <errno.h>
#include <stdlib.h>

/*
 * *arrayp holds count elements of elem bytes in room for *cap; when full,
 * double it (first: the initial room). 0, or -ENOMEM with the array intact.
 */
static inline int ot_grow(void *arrayp, int *cap, int count, size_t elem, int first)
{
	void **array = arrayp;
	int want;
	void *grown;

	if (count < *cap)
		return 0;
	want = *cap ? *cap * 2 : first;
	grown = realloc(*array, (size_t)want * elem);
	if (!grown)
		return -ENOMEM;
	*array = grown;
	*cap = want;
	return 0;
}

#endif

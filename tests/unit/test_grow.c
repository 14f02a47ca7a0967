/* util/grow.h: the first room, doubling, a jump past one doubling, and
 * sizes that would overflow refused with the array intact. */
#include <stdint.h>
#include <stdlib.h>
#include "unit.h"
#include "util/grow.h"

int main(void)
{
	int *a = NULL;
	size_t cap = 0;
	int wrong = 0;

	CHECK(ot_grow(&a, &cap, 0, sizeof(*a), 16) == 0 && a == NULL && cap == 0);	/* nothing needed */
	CHECK(ot_grow(&a, &cap, 1, sizeof(*a), 16) == 0 && a && cap == 16);
	for (int i = 0; i < 1000; i++) {
		size_t before = cap;

		if (ot_grow(&a, &cap, (size_t)i + 1, sizeof(*a), 16)) {
			wrong++;
			break;
		}
		wrong += cap != before && cap != 2 * before;	/* only ever doubles */
		a[i] = i;
	}
	CHECK(wrong == 0 && cap == 1024);
	for (int i = 0; i < 1000; i++)
		wrong += a[i] != i;	/* contents move along */
	CHECK(wrong == 0);
	/* a buffer that needs much more at once doubles as often as it takes */
	CHECK(ot_grow(&a, &cap, 5000, sizeof(*a), 16) == 0 && cap == 8192 && a[999] == 999);
	/* a first room smaller than the need doubles too */
	{
		char *b = NULL;
		size_t bcap = 0;

		CHECK(ot_grow(&b, &bcap, 100, 1, 16) == 0 && bcap == 128);
		free(b);
	}
	/* overflow: refused, nothing changed */
	{
		int *keep = a;

		CHECK(ot_grow(&a, &cap, SIZE_MAX, sizeof(*a), 16) == -ENOMEM && a == keep && cap == 8192);
		CHECK(ot_grow(&a, &cap, 8193, SIZE_MAX / 4, 16) == -ENOMEM && a == keep && cap == 8192);
	}
	free(a);
	return unit_report("test_grow");
}

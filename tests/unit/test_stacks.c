/* The stack cache: put/get, lazy resolution, growth, and freeing a cache
 * with empty slots (run under valgrind by tests/test_unit.py). */
#include <stdlib.h>
#include "unit.h"
#include "stacks.h"

static int resolved;

static int resolver(void *ctx, int32_t id, char (*frames)[OT_FRAME_LEN], int max)
{
	(void)ctx;
	resolved++;
	if (id == 404)
		return -1;
	for (int i = 0; i < 3 && i < max; i++)
		snprintf(frames[i], OT_FRAME_LEN, "func%d_of_%d+0x%x", i, id, i);
	return 3;
}

int main(void)
{
	struct ot_stacks *s = ot_stacks_new(resolver, NULL);
	const char *const *f;
	const char *two[] = { "a+0x1", "b+0x2" };
	int n;

	ot_stacks_free(ot_stacks_new(NULL, NULL));	/* empty cache */
	CHECK(ot_stacks_put(s, 5, two, 2) == 0);
	f = ot_stacks_get(s, 5, &n);
	CHECK(n == 2);
	CHECK_STR(f[1], "b+0x2");
	CHECK(resolved == 0);
	f = ot_stacks_get(s, 9, &n);
	CHECK(n == 3 && resolved == 1);
	CHECK_STR(f[2], "func2_of_9+0x2");
	ot_stacks_get(s, 9, &n);
	CHECK(resolved == 1);	/* cached */
	CHECK(ot_stacks_get(s, 404, &n) == NULL && n == 0);
	CHECK(ot_stacks_get(s, -1, &n) == NULL);
	CHECK(ot_stacks_put(s, -3, two, 2) != 0);
	for (int id = 1000; id < 3000; id++)	/* forces several rehashes */
		ot_stacks_get(s, id, &n);
	f = ot_stacks_get(s, 5, &n);
	CHECK(n == 2 && !strcmp(f[0], "a+0x1"));
	f = ot_stacks_get(s, 2999, &n);
	CHECK(n == 3 && !strcmp(f[0], "func0_of_2999+0x0"));
	CHECK(ot_stacks_has(s, 1500) && !ot_stacks_has(s, 77));
	ot_stacks_free(s);
	return unit_report("test_stacks");
}

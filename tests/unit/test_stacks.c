/* The stack cache: put/get, first put wins, growth, and freeing a cache
 * with empty slots (run under valgrind by tests/test_unit.py). */
#include <stdlib.h>
#include "unit.h"
#include "core/stacks.h"

/* frames of a synthetic stack id, as live_stacks would put them */
static void put_synthetic(struct ot_stacks *s, int32_t id)
{
	char frames[3][OT_FRAME_LEN];
	const char *ptrs[3];

	for (int i = 0; i < 3; i++) {
		snprintf(frames[i], OT_FRAME_LEN, "func%d_of_%d+0x%x", i, id, i);
		ptrs[i] = frames[i];
	}
	CHECK(ot_stacks_put(s, id, ptrs, 3) == 0);
}

int main(void)
{
	struct ot_stacks *s = ot_stacks_new();
	const char *const *f;
	const char *two[] = { "a+0x1", "b+0x2" };
	int n;

	ot_stacks_free(ot_stacks_new());	/* empty cache */
	CHECK(ot_stacks_put(s, 5, two, 2) == 0);
	f = ot_stacks_get(s, 5, &n);
	CHECK(n == 2);
	CHECK_STR(f[1], "b+0x2");
	CHECK(ot_stacks_put(s, 5, two + 1, 1) == 0);	/* first put wins */
	f = ot_stacks_get(s, 5, &n);
	CHECK(n == 2 && !strcmp(f[0], "a+0x1"));
	put_synthetic(s, 9);
	f = ot_stacks_get(s, 9, &n);
	CHECK(n == 3);
	CHECK_STR(f[2], "func2_of_9+0x2");
	CHECK(ot_stacks_get(s, 404, &n) == NULL && n == 0);
	CHECK(ot_stacks_get(s, -1, &n) == NULL);
	CHECK(ot_stacks_put(s, -3, two, 2) != 0);
	for (int id = 1000; id < 3000; id++)	/* forces several rehashes */
		put_synthetic(s, id);
	f = ot_stacks_get(s, 5, &n);
	CHECK(n == 2 && !strcmp(f[0], "a+0x1"));
	f = ot_stacks_get(s, 2999, &n);
	CHECK(n == 3 && !strcmp(f[0], "func0_of_2999+0x0"));
	CHECK(ot_stacks_has(s, 1500) && !ot_stacks_has(s, 77));
	ot_stacks_free(s);
	return unit_report("test_stacks");
}

/* The device/driver/group display filter. */
#include <stdlib.h>
#include "unit.h"
#include "core/filter.h"

static struct ot_event ev_of(const char *dev, const char *drv, int group)
{
	struct ot_event ev = { .group_id = group };

	if (dev)
		strcpy(ev.device, dev);
	if (drv)
		strcpy(ev.driver, drv);
	return ev;
}

static void test_filter(void)
{
	struct ot_filter f = {};
	struct ot_event e;

	CHECK(!ot_filter_active(&f));
	e = ev_of("0000:01:02.0", "e1000", 3);
	CHECK(ot_filter_match(&f, &e));

	ot_filter_add_device(&f, "0000:01:01.0");
	CHECK(ot_filter_active(&f));
	/* group-level claim before the device was seen: unknown group, hidden */
	e = ev_of(NULL, NULL, 3);
	CHECK(!ot_filter_match(&f, &e));
	e = ev_of("0000:01:02.0", "e1000", 3);
	CHECK(!ot_filter_match(&f, &e));
	e = ev_of("0000:01:01.0", "vfio-pci", 3);
	CHECK(ot_filter_match(&f, &e));
	/* now group 3 is known to belong to the device: its claims show */
	e = ev_of(NULL, NULL, 3);
	CHECK(ot_filter_match(&f, &e));
	e = ev_of(NULL, NULL, 4);
	CHECK(!ot_filter_match(&f, &e));
	/* prefix is not a match */
	e = ev_of("0000:01:01.00", "x", 3);
	CHECK(!ot_filter_match(&f, &e));

	struct ot_filter g = {};
	ot_filter_add_group(&g, 5);
	ot_filter_add_driver(&g, "vfio-pci");
	e = ev_of("a", "vfio-pci", 5);
	CHECK(ot_filter_match(&g, &e));
	e = ev_of("a", "vfio-pci", 6);
	CHECK(!ot_filter_match(&g, &e));
	e = ev_of("a", "e1000", 5);
	CHECK(!ot_filter_match(&g, &e));

	struct ot_filter full = {};
	for (int i = 0; i < OT_FILTER_MAX; i++)
		CHECK(ot_filter_add_group(&full, i) == 0);
	CHECK(ot_filter_add_group(&full, 99) == -1);
}

int main(void)
{
	test_filter();
	return unit_report("test_filter");
}

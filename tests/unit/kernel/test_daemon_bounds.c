/*
 * The daemon's memory bound: a long synthetic run (every device, group,
 * owner, driver and stack new, some probes never returning, some uses and
 * claims never given back) through the session in daemon configuration,
 * with the --prometheus sink. Every structure that grows with time is
 * counted through its accessor at checkpoints and must stay under its cap;
 * detection must still work at the end.
 *
 *	test_daemon_bounds [EVENTS [MAX_RSS_KIB]]
 *
 * Under valgrind (tests/test_unit.py) it runs the default 100000 events;
 * tests/test_daemon.py runs millions natively and adds the RSS bound.
 */
#include <malloc.h>
#include <stdlib.h>
#include "unit.h"
#include "synth.h"
#include "kernel/live_stacks.h"
#include "core/owner_tokens.h"
#include "output/prometheus.h"

static int leaks_reported;

static void count_leaks(void *ctx, const struct ot_anomaly *an)
{
	(void)ctx;
	leaks_reported += an->kind == OT_AN_REMOVE_KEPT_USE;
}

/*
 * Peak RSS of this program image: VmHWM, not getrusage(): ru_maxrss keeps
 * the peak of the image before execve(), i.e. of the pytest that started us.
 */
static long peak_rss_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

static struct ot_session *p;
static struct ot_live_stacks *ls;
static struct ot_prom *prom;

static void check_bounds(void)
{
	struct ot_analysis_footprint fp;

	ot_analysis_footprint(p->shadow, &fp);
	CHECK(fp.groups <= OT_BOUND_GROUPS);
	CHECK(fp.uses <= OT_BOUND_GROUPS * OT_BOUND_USES_PER_GROUP);
	CHECK(fp.spans <= OT_BOUND_SPANS);
	CHECK(ot_owner_tokens_live(p->run.tokens) <= OT_BOUND_OWNERS);
	CHECK(ot_live_stacks_count(ls) <= OT_BOUND_STACKS);
	CHECK(ot_prom_label_count(prom) <= 2 * (OT_PROM_MAX_LABELS + 1));
}

/*
 * One device's life: bound (a use) and unbound, its group claimed and
 * released by a new owner. Returns the number of events fed.
 */
static int cycle(uint64_t i, uint64_t *now)
{
	char dev[24], drv[24];
	uint64_t ips[2] = { 0xffffffff81000000ULL + i * 64, 0xffffffff82000000ULL };
	int32_t stack = ot_live_stacks_intern(ls, ips, 2);
	/* devices that stay bound share one big group (behind a PCIe switch); group ids of the
	 * others are reused by the kernel, but slowly */
	int group = i % 11 == 0 ? 1 : (int)(i % 100000) + 2;
	int n = 0;
	uint64_t owner = 0xffff888000000000ULL + i * 4096;
	uint32_t tid = (uint32_t)(i % 30000) + 1;

	p->run.stats.stacks_dropped = ot_live_stacks_dropped(ls);	/* as the live loop keeps it */
	snprintf(dev, sizeof(dev), "0000:%07llx", (unsigned long long)i);
	snprintf(drv, sizeof(drv), "drv%llu", (unsigned long long)i);
#define EVG(...) do { n++; SYNTH(p, .ts_ns = (*now += 100000000), .duration_ns = 1000, .tid = tid, .group = group, \
				    .stack_id = stack, __VA_ARGS__); } while (0)
#define EV(...) EVG(.dev = dev, .drv = drv, __VA_ARGS__)
	EV(.point = OT_POINT_REALLY_PROBE, .phase = OT_PHASE_ENTER);
	EV(.point = OT_POINT_USE_DEFAULT_DOMAIN, .before = 0, .after = 1);
	if (i % 7 == 0)
		return n;		/* the probe's exit is lost: a span and a use left behind */
	EV(.point = OT_POINT_REALLY_PROBE);
	if (i % 11 == 0)
		return n;		/* still bound when the run ends: its use is held */
	EV(.point = OT_POINT_RELEASE_DRIVER, .phase = OT_PHASE_ENTER, .before = 1, .after = 1);
	EV(.point = OT_POINT_UNUSE_DEFAULT_DOMAIN, .before = 1, .after = 0);
	EV(.point = OT_POINT_RELEASE_DRIVER);
	EVG(.point = OT_POINT_GROUP_CLAIM, .after = 1, .owner_after = owner);
	if (i % 13 == 0)
		return n;	/* the claim is kept */
	EVG(.point = OT_POINT_GROUP_RELEASE, .before = 1, .owner_before = owner);
#undef EV
#undef EVG
	return n;
}

int main(int argc, char **argv)
{
	uint64_t events = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
	long max_rss_kib = argc > 2 ? atol(argv[2]) : 0;
	struct ot_sink leaks = { .anomaly = count_leaks };
	uint64_t forgotten[OT_FORGOT_COUNT], now = 1000000000ULL, i = 0, fed = 0;
	struct ot_sink sink;

	p = synth_session_bounded(true);
	CHECK(p != NULL);
	ot_session_add_sink(p, &leaks);	/* counting what the shadow reports */
	ls = ot_live_stacks_new(p->run.stacks, NULL);
	ot_live_stacks_set_limit(ls, OT_BOUND_STACKS);
	prom = ot_prom_new("/nonexistent/bounds.prom", 15, OT_HIST_BY_DRIVER, false);
	sink = ot_prom_sink(prom);
	ot_session_add_sink(p, &sink);

	for (int checkpoint = 1; checkpoint <= 10; checkpoint++) {
		while (fed < events * checkpoint / 10)
			fed += cycle(i++, &now);
		check_bounds();
	}
	/* every kind of state was created without bound, so every limit had to act */
	ot_session_forgotten(p, forgotten);
	for (int k = 0; k < OT_FORGOT_COUNT; k++) {
		if (!forgotten[k])
			fprintf(stderr, "nothing forgotten of %s: the run did not reach its cap\n", ot_forgotten_names[k]);
		CHECK(forgotten[k] > 0);
	}
	/* what is new is still tracked: a remove that keeps its use is reported */
	leaks_reported = 0;
	SYNTH(p, .point = OT_POINT_USE_DEFAULT_DOMAIN, .ts_ns = now += 1000, .tid = 1, .dev = "0000:ff:00.0",
	      .drv = "late", .group = 424242, .after = 1);
	SYNTH(p, .point = OT_POINT_RELEASE_DRIVER, .ts_ns = now += 1000, .tid = 1, .dev = "0000:ff:00.0",
	      .drv = "late", .group = 424242, .before = 1, .after = 1);
	CHECK(leaks_reported == 1);

	/* the file renders from bounded state too */
	{
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		ot_prom_render(prom, &p->run, f);
		fclose(f);
		CHECK(len < 4u << 20);
		free(text);
	}
	if (max_rss_kib) {
		struct mallinfo2 mi = mallinfo2();
		long rss = peak_rss_kib();

		printf("%llu events, %llu cycles; heap in use %zu KiB; peak RSS %ld KiB (bound %ld KiB)\n",
		       (unsigned long long)fed, (unsigned long long)i, mi.uordblks >> 10, rss, max_rss_kib);
		CHECK(rss > 0 && rss <= max_rss_kib);
	}
	ot_prom_free(prom);
	ot_live_stacks_free(ls);
	synth_session_free(p);
	return unit_report("test_daemon_bounds");
}

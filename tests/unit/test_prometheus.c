/* --prometheus: the text format, label escaping, cumulative histograms and
 * counters across writes, the label cap, and the atomic rewrite. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "synth.h"
#include "output/prometheus.h"
#include "util/self_memory.h"

static char buf[1 << 18];

static const char *render(struct ot_prom *m, struct ot_session *p)
{
	CAPTURE(buf, sizeof(buf), f, ot_prom_render(m, &p->run, f));
	return buf;
}

/* A probe of DRV that took NS. */
static void probe(struct ot_session *p, uint64_t *now, const char *drv, uint64_t ns, long ret)
{
	*now += 20000000000ULL;
	SYNTH(p, .point = OT_POINT_REALLY_PROBE, .phase = OT_PHASE_ENTER, .ts_ns = *now - ns, .tid = 1,
	      .dev = "0000:01:00.0", .drv = drv, .group = 3);
	SYNTH(p, .point = OT_POINT_REALLY_PROBE, .ts_ns = *now, .duration_ns = ns, .tid = 1, .dev = "0000:01:00.0",
	      .drv = drv, .group = 3, .ret = ret);
}

static void test_escape(void)
{
	char out[32];
	const char raw[] = "a\"b\\c\nd\x01\xc3\xa9";

	ot_prom_escape(out, sizeof(out), raw, sizeof(raw));
	CHECK_STR(out, "a\\\"b\\\\c\\nd???");
	/* never cut inside an escape */
	ot_prom_escape(out, 4, "ab\"", 3);
	CHECK_STR(out, "ab");
	/* names are fixed-size fields, not always terminated */
	ot_prom_escape(out, sizeof(out), "e1000xyz", 5);
	CHECK_STR(out, "e1000");
}

static void test_format_and_cumulative_histograms(void)
{
	struct ot_session *p = synth_session();
	struct ot_prom *m = ot_prom_new("/nonexistent/x.prom", 15, OT_HIST_BY_DRIVER, false);
	struct ot_sink sink = ot_prom_sink(m);
	uint64_t now = 0;
	const char *s;

	CHECK(p && m);
	CHECK(ot_session_add_sink(p, &sink) == 0);
	s = render(m, p);
	/* every anomaly kind from the start, at 0, and HELP/TYPE everywhere */
	CHECK_CONTAINS(s, "# HELP ownertrace_anomalies_total ");
	CHECK_CONTAINS(s, "# TYPE ownertrace_anomalies_total counter\n");
	for (int k = 0; k < OT_AN_KIND_COUNT; k++) {
		char line[128];

		snprintf(line, sizeof(line), "\nownertrace_anomalies_total{kind=\"%s\"} 0\n", ot_anomaly_kind_name(k));
		CHECK_CONTAINS(s, line);
	}
	CHECK_CONTAINS(s, "# TYPE ownertrace_probe_duration_seconds histogram\n");
	CHECK_CONTAINS(s, "\nownertrace_ringbuf_drops_total 0\n");
	CHECK_CONTAINS(s, "\nownertrace_forgotten_total{what=\"stack\"} 0\n");
	CHECK(!strstr(s, "_bucket"));	/* no histogram series before the first duration */
	CHECK_CONTAINS(s, "\nownertrace_kretprobe_misses_total 0\n");
	CHECK(!strstr(s, "resident_memory") && !strstr(s, "skipped_runs"));	/* not live: only what was fed */
	p->run.stats.kretprobe_misses = -1;	/* fentry mode: not measurable, so no series rather than a false 0 */
	CHECK(!strstr(render(m, p), "kretprobe"));

	probe(p, &now, "e1000", 10000, 0);		/* exactly on the first bound: le is inclusive */
	probe(p, &now, "e1000", 10001, 0);		/* just above: the next bucket */
	probe(p, &now, "e1000", 20000000000ULL, 0);	/* 20 s: only +Inf */
	probe(p, &now, "e1000", 3000000, -16);		/* a failed probe has its own series */
	s = render(m, p);
	CHECK_CONTAINS(s, "ownertrace_probe_duration_seconds_bucket{driver=\"e1000\",result=\"ok\",le=\"1e-05\"} 1\n");
	CHECK_CONTAINS(s, "ownertrace_probe_duration_seconds_bucket{driver=\"e1000\",result=\"ok\",le=\"2.5e-05\"} 2\n");
	CHECK_CONTAINS(s, "ownertrace_probe_duration_seconds_bucket{driver=\"e1000\",result=\"ok\",le=\"10\"} 2\n");
	CHECK_CONTAINS(s, "ownertrace_probe_duration_seconds_bucket{driver=\"e1000\",result=\"ok\",le=\"+Inf\"} 3\n");
	CHECK_CONTAINS(s, "ownertrace_probe_duration_seconds_sum{driver=\"e1000\",result=\"ok\"} 20.000020001\n");
	CHECK_CONTAINS(s, "ownertrace_probe_duration_seconds_count{driver=\"e1000\",result=\"ok\"} 3\n");
	CHECK_CONTAINS(s, "ownertrace_probe_duration_seconds_bucket{driver=\"e1000\",result=\"error\",le=\"0.0025\"} 0\n");
	CHECK_CONTAINS(s, "ownertrace_probe_duration_seconds_bucket{driver=\"e1000\",result=\"error\",le=\"0.005\"} 1\n");
	CHECK_CONTAINS(s, "ownertrace_events_total{point=\"probe_exit\",driver=\"e1000\"} 4\n");
	CHECK_CONTAINS(s, "ownertrace_events_total{point=\"probe_enter\",driver=\"e1000\"} 4\n");
	/* the groups the shadow knows, claimed or not */
	CHECK(!strstr(s, "ownertrace_group_claims{"));	/* probes alone touch no group */

	/* later: counts go on from where they were (never reset between writes) */
	probe(p, &now, "e1000", 10000, 0);
	s = render(m, p);
	CHECK_CONTAINS(s, "ownertrace_probe_duration_seconds_bucket{driver=\"e1000\",result=\"ok\",le=\"1e-05\"} 2\n");
	CHECK_CONTAINS(s, "ownertrace_probe_duration_seconds_count{driver=\"e1000\",result=\"ok\"} 4\n");
	CHECK_CONTAINS(s, "ownertrace_events_total{point=\"probe_exit\",driver=\"e1000\"} 5\n");

	/* the shadow's gauges, and an anomaly: an unuse with nothing held */
	SYNTH(p, .point = OT_POINT_USE_DEFAULT_DOMAIN, .ts_ns = ++now, .tid = 2, .dev = "0000:02:00.0",
	      .drv = "nvme", .group = 5, .before = 0, .after = 1);
	SYNTH(p, .point = OT_POINT_GROUP_CLAIM, .ts_ns = ++now, .tid = 3, .group = 7, .after = 1,
	      .owner_after = 0xffff888000001000ULL);
	SYNTH(p, .point = OT_POINT_UNUSE_DEFAULT_DOMAIN, .ts_ns = ++now, .tid = 2, .dev = "0000:09:00.0",
	      .drv = "ahci", .group = 9);
	s = render(m, p);
	CHECK_CONTAINS(s, "\nownertrace_group_claims{group=\"5\"} 0\nownertrace_group_claims{group=\"7\"} 1\n");
	CHECK_CONTAINS(s, "\nownertrace_group_default_domain_uses{group=\"5\"} 1\n");
	CHECK_CONTAINS(s, "\nownertrace_anomalies_total{kind=\"underflow\"} 1\n");
	/* group-level calls name no driver */
	CHECK_CONTAINS(s, "ownertrace_events_total{point=\"group_claim\",driver=\"\"} 1\n");
	ot_prom_free(m);
	synth_session_free(p);
}

static void test_label_cap(void)
{
	struct ot_session *p = synth_session();
	struct ot_prom *m = ot_prom_new("/nonexistent/x.prom", 15, OT_HIST_BY_DRIVER, false);
	struct ot_sink sink = ot_prom_sink(m);
	uint64_t now = 0;
	char drv[32];
	const char *s;

	ot_session_add_sink(p, &sink);
	for (int i = 0; i < OT_PROM_MAX_LABELS + 44; i++) {
		snprintf(drv, sizeof(drv), "drv%04d", i);
		probe(p, &now, drv, 1000, 0);
	}
	/* 256 drivers + "(other)" in each of the two tables */
	CHECK(ot_prom_label_count(m) == 2 * (OT_PROM_MAX_LABELS + 1));
	s = render(m, p);
	CHECK_CONTAINS(s, "ownertrace_events_total{point=\"probe_exit\",driver=\"drv0255\"} 1\n");
	CHECK(!strstr(s, "drv0256"));
	CHECK_CONTAINS(s, "ownertrace_events_total{point=\"probe_exit\",driver=\"(other)\"} 44\n");
	CHECK_CONTAINS(s, "ownertrace_probe_duration_seconds_count{driver=\"(other)\",result=\"ok\"} 44\n");
	ot_prom_free(m);
	synth_session_free(p);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_atomic_write_and_interval(void)
{
	char dir[] = "/tmp/ot-prom-XXXXXX", path[64], tmp[80];
	struct ot_session *p = synth_session();
	struct ot_prom *m;
	struct ot_sink sink;
	struct stat st;
	uint64_t now = 0;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/ownertrace.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	m = ot_prom_new(path, 15, OT_HIST_BY_DRIVER, false);
	sink = ot_prom_sink(m);
	ot_session_add_sink(p, &sink);

	ot_session_tick(p, 1000000000ULL);	/* the first tick writes */
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
	CHECK(access(tmp, F_OK) != 0);	/* renamed into place, nothing left behind */
	CHECK_CONTAINS(slurp(path), "ownertrace_anomalies_total{kind=\"divergence\"} 0\n");

	probe(p, &now, "e1000", 5000, 0);
	ot_session_tick(p, 15000000000ULL);	/* 14 s later: not yet */
	CHECK(!strstr(slurp(path), "e1000"));
	ot_session_tick(p, 16000000000ULL);	/* 15 s: rewritten */
	CHECK_CONTAINS(slurp(path), "ownertrace_events_total{point=\"probe_exit\",driver=\"e1000\"} 1\n");

	probe(p, &now, "e1000", 5000, 0);
	CHECK(ot_session_end(p, 17000000000ULL) == 0);	/* the end always writes */
	CHECK_CONTAINS(slurp(path), "ownertrace_events_total{point=\"probe_exit\",driver=\"e1000\"} 2\n");
	unlink(path);
	rmdir(dir);

	/* a directory that is gone: the write fails with errno, and says so (once) */
	CHECK(ot_prom_write(m, &p->run) == -ENOENT);
	CHECK(ot_session_end(p, 18000000000ULL) != 0);
	ot_prom_free(m);
	synth_session_free(p);
}

/* A live run's file reports the runs the kernel skipped and this process's own memory (/proc/self/status). */
static void test_live_reports_own_memory(void)
{
	struct ot_session *p = synth_session();
	struct ot_prom *m = ot_prom_new("/nonexistent/x.prom", 15, OT_HIST_BY_DRIVER, true);
	struct ot_self_memory before, after;
	long rss = -1, peak = -1;
	const char *s, *at;

	CHECK(p && m);
	p->run.stats.skipped_runs = 7;
	CHECK(ot_self_memory(&before));
	s = render(m, p);
	CHECK_CONTAINS(s, "# TYPE ownertrace_skipped_runs_total counter\nownertrace_skipped_runs_total 7\n");
	CHECK(ot_self_memory(&after));
	CHECK_CONTAINS(s, "# TYPE ownertrace_resident_memory_bytes gauge\n");
	CHECK_CONTAINS(s, "# TYPE ownertrace_peak_resident_memory_bytes gauge\n");
	at = strstr(s, "\nownertrace_resident_memory_bytes ");
	CHECK(at && sscanf(at, "\nownertrace_resident_memory_bytes %ld", &rss) == 1);
	at = strstr(s, "\nownertrace_peak_resident_memory_bytes ");
	CHECK(at && sscanf(at, "\nownertrace_peak_resident_memory_bytes %ld", &peak) == 1);
	/* bytes, not KiB, and read between the two readings around the render */
	CHECK(rss > 0 && rss % 1024 == 0 && rss <= peak);
	CHECK(peak >= before.peak_kib * 1024 && peak <= after.peak_kib * 1024);
	ot_prom_free(m);
	synth_session_free(p);
}

int main(void)
{
	test_escape();
	test_format_and_cumulative_histograms();
	test_label_cap();
	test_live_reports_own_memory();
	test_atomic_write_and_interval();
	return unit_report("test_prometheus");
}

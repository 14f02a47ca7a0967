/* The census record of recordings (round trip, corrupt and newer layouts),
 * its rendering as text and JSON Lines, and a census through the pipeline
 * as live runs and replays feed it. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>
#include "unit.h"
#include "synth.h"
#include "analysis/census.h"
#include "core/recording.h"
#include "output/census.h"
#include "output/prometheus.h"
#include "session/census.h"
#include "core/owner_tokens.h"
#include "writers.h"
#include "census_synth.h"

/* ---- the census record of recordings ----------------------------------------------- */

static char path[] = "/tmp/ot_test_censusXXXXXX";

static void test_recording(void)
{
	static struct ot_census_group gs[2];
	static struct ot_rec_item item;
	struct ot_rec_writer w;
	struct ot_rec_header h;
	struct ot_rec_reader r;
	struct ot_rec_end end = { .end_ns = 9000 };
	struct ot_census c;
	char err[256];
	int fd = mkstemp(path), n = 0;
	FILE *f;
	unsigned char *buf;
	long len;

	close(fd);
	unlink(path);
	gs[0] = *group(2, 1, 0, 0, 3, bridge_e1000_edu);
	gs[1] = *group(8, 1, X, 0, 1, (const struct dspec[]){ { "0000:00:06.0", "vfio-pci", "m" } });
	snprintf(gs[1].holder, sizeof(gs[1].holder), "pid 77 (qemu), with /dev/vfio/8 open");
	gs[1].snapshots = 3;
	c = census_of(OT_CENSUS_START, 2, gs);
	ot_rec_header_init(&h, 0, 1000);
	CHECK(ot_rec_writer_open(&w, path, &h) == 0);
	ot_rec_write_census(&w, &c);
	ot_rec_write_end(&w, &end);
	CHECK(ot_rec_writer_close(&w) == 0);

	CHECK(ot_rec_reader_open_file(&r, path, err, sizeof(err)) == 0);
	while (ot_rec_next(&r, &item, err, sizeof(err)) > 0)
		if (item.type == OT_REC_CENSUS) {
			n++;
			CHECK(item.census.ngroups == 2 && item.census.reason == OT_CENSUS_START && item.census.ts_ns == 4000);
			CHECK(ot_census_same(&item.census.groups[0].snap, &gs[0].snap));
			CHECK(ot_census_same(&item.census.groups[1].snap, &gs[1].snap));
			CHECK(item.census.groups[0].snap.head.flags == gs[0].snap.head.flags);
			CHECK(item.census.groups[1].snapshots == 3);
			CHECK_STR(item.census.groups[1].holder, "pid 77 (qemu), with /dev/vfio/8 open");
			CHECK_STR(item.census.groups[0].snap.dev[1].driver, "e1000");
		}
	CHECK(n == 1 && r.ended);
	ot_rec_reader_close(&r);

	f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len + 64);
	CHECK(fread(buf, 1, (size_t)len, f) == (size_t)len);
	fclose(f);
	{
		size_t at = sizeof(struct ot_rec_header);	/* the census record header */
		uint32_t rlen, groups, gsize;

		memcpy(&rlen, buf + at + 4, 4);
		/* a device count past the bound */
		{
			uint32_t bad = OT_CENSUS_MAX_DEVICES + 1;
			size_t nd = at + 8 + sizeof(struct ot_rec_census) + offsetof(struct ot_census_head, ndevices);
			uint32_t keep;

			memcpy(&keep, buf + nd, 4);
			memcpy(buf + nd, &bad, 4);
			CHECK(ot_rec_reader_open_mem(&r, buf, (size_t)len, err, sizeof(err)) == 0);
			CHECK(ot_rec_next(&r, &item, err, sizeof(err)) == -1);
			CHECK_CONTAINS(err, "census group 0 with 65 devices");
			ot_rec_reader_close(&r);
			memcpy(buf + nd, &keep, 4);
		}
		/* more groups than the record holds */
		memcpy(&groups, buf + at + 8 + 12, 4);
		groups++;
		memcpy(buf + at + 8 + 12, &groups, 4);
		CHECK(ot_rec_reader_open_mem(&r, buf, (size_t)len, err, sizeof(err)) == 0);
		CHECK(ot_rec_next(&r, &item, err, sizeof(err)) == -1);
		CHECK_CONTAINS(err, "census group 2 runs past its record");
		ot_rec_reader_close(&r);
		groups--;
		memcpy(buf + at + 8 + 12, &groups, 4);
		/* a group part smaller than any writer's */
		memcpy(&gsize, buf + at + 8 + 16, 4);
		{
			uint32_t small = 16;

			memcpy(buf + at + 8 + 16, &small, 4);
			CHECK(ot_rec_reader_open_mem(&r, buf, (size_t)len, err, sizeof(err)) == 0);
			CHECK(ot_rec_next(&r, &item, err, sizeof(err)) == -1);
			CHECK_CONTAINS(err, "corrupt recording: census of 2 groups");
			ot_rec_reader_close(&r);
			memcpy(buf + at + 8 + 16, &gsize, 4);
		}
		(void)rlen;
	}
	free(buf);
	unlink(path);
}

/* A newer writer's record: groups and devices with fields appended; this reader skips them. */
static void test_recording_newer_layout(void)
{
	static unsigned char buf[8192];
	static struct ot_rec_item item;
	struct ot_rec_header h;
	struct ot_rec_census rc = { .ts_ns = 1, .reason = 7, .ngroups = 1,
				    .group_size = sizeof(struct ot_rec_census_group) + 8,
				    .device_size = sizeof(struct ot_census_device) + 4 };
	struct ot_rec_census_group rg = { 0 };
	struct ot_census_device d = { 0 };
	struct ot_rec_reader r;
	struct ot_rec_end end = { .end_ns = 2 };
	uint32_t hdr[2];
	size_t off = 0;
	char err[256];

	ot_rec_header_init(&h, 0, 1);
	memcpy(buf, &h, sizeof(h));
	off = sizeof(h);
	hdr[0] = OT_REC_CENSUS;
	hdr[1] = sizeof(rc) + rc.group_size + 2 * rc.device_size;
	memcpy(buf + off, hdr, 8);
	off += 8;
	memcpy(buf + off, &rc, sizeof(rc));
	off += sizeof(rc);
	rg.head.group_id = 3;
	rg.head.owner_cnt = 1;
	rg.head.ndevices = 2;
	memcpy(buf + off, &rg, sizeof(rg));
	memset(buf + off + sizeof(rg), 0xee, 8);
	off += rc.group_size;
	for (int i = 0; i < 2; i++) {
		memset(&d, 0, sizeof(d));
		snprintf(d.name, sizeof(d.name), "dev%d", i);
		memset(d.driver, 'x', sizeof(d.driver));	/* unterminated: made so */
		d.state = OT_CDEV_KERNEL_DMA;
		memcpy(buf + off, &d, sizeof(d));
		memset(buf + off + sizeof(d), 0xee, 4);
		off += rc.device_size;
	}
	hdr[0] = OT_REC_END;
	hdr[1] = sizeof(end);
	memcpy(buf + off, hdr, 8);
	memcpy(buf + off + 8, &end, sizeof(end));
	off += 8 + sizeof(end);
	CHECK(ot_rec_reader_open_mem(&r, buf, off, err, sizeof(err)) == 0);
	CHECK(ot_rec_next(&r, &item, err, sizeof(err)) == 1 && item.type == OT_REC_CENSUS);
	CHECK(item.census.ngroups == 1 && item.census.groups[0].snap.head.group_id == 3);
	CHECK(item.census.groups[0].snap.head.ndevices == 2);
	CHECK_STR(item.census.groups[0].snap.dev[1].name, "dev1");
	CHECK(strlen(item.census.groups[0].snap.dev[1].driver) == OT_DRV_NAME_LEN - 1);
	CHECK(!strcmp(ot_census_reason_name(item.census.reason), "unknown"));
	CHECK(ot_rec_next(&r, &item, err, sizeof(err)) == 1 && item.type == OT_REC_END);
	CHECK(ot_rec_next(&r, &item, err, sizeof(err)) == 0);
	ot_rec_reader_close(&r);
}

/* ---- rendering and the session ------------------------------------------------------ */

static void test_render(void)
{
	static struct ot_census_group gs[2];
	static char out[8192];
	struct ot_owner_tokens *tokens = ot_owner_tokens_new();
	struct ot_census_style style = { .tokens = tokens };
	bool shown[2] = { true, false };
	struct ot_census c;

	gs[0] = *group(1, 1, 0, 0, 1, (const struct dspec[]){ { "0000:00:02.0", NULL, "-" } });
	gs[1] = *group(8, 1, X, OT_CF_DOMAIN_BLOCKING, 1, (const struct dspec[]){ { "0000:00:06.0", "vfio-pci", "m" } });
	gs[1].snap.head.flags &= ~OT_CF_DOMAIN_DEFAULT;
	c = census_of(OT_CENSUS_GROUPS, 2, gs);
	CAPTURE(out, sizeof(out), f, write_census_to(f, false, &c, &style));
	CHECK_CONTAINS(out, "GROUP TYPE");
	CHECK_CONTAINS(out, "leaked");
	CHECK_CONTAINS(out, "group 1: leaked: owner_cnt is 1 but 0 devices are bound");
	CHECK_CONTAINS(out, "vfio-pci         0 (driver_managed_dma)");
	CHECK_CONTAINS(out, "owner#1");
	CHECK_CONTAINS(out, "blocking");
	CHECK_CONTAINS(out, "2 IOMMU groups: 1 leaked, 1 claimed (violations found)");
	CAPTURE(out, sizeof(out), f, write_census_to(f, true, &c, &style));
	CHECK_CONTAINS(out, "{\"type\":\"census\",\"schema\":");
	CHECK_CONTAINS(out, "\"reason\":\"groups\"");
	CHECK_CONTAINS(out, "\"time\":null,\"group\":1,\"verdict\":\"leaked\",\"violation\":true");
	CHECK_CONTAINS(out, "\"suspects\":[\"0000:00:02.0\"]");
	CHECK_CONTAINS(out, "\"owner\":\"owner#1\"");
	CHECK_CONTAINS(out, "\"driver_managed_dma\":true,\"state\":\"driver_managed_dma\",\"counts\":false");
	/* a filter: only the shown groups */
	style.shown = shown;
	CAPTURE(out, sizeof(out), f, write_census_to(f, true, &c, &style));
	CHECK(!strstr(out, "\"group\":8"));
	CAPTURE(out, sizeof(out), f, write_census_to(f, false, &c, &style));
	CHECK_CONTAINS(out, "1 IOMMU group: 1 leaked (violations found)");
	style.raw_pointers = true;
	style.shown = NULL;
	CAPTURE(out, sizeof(out), f, write_census_to(f, true, &c, &style));
	CHECK_CONTAINS(out, "\"owner\":\"0xffff888011110000\"");
	ot_owner_tokens_free(tokens);
}

/* Through the session, as live and replay: anomalies counted, filtered, printed; the shadow seeded. */
static void test_pipeline(void)
{
	static struct ot_census_group gs[2];
	static char out[16384];
	FILE *f = fmemopen(out, sizeof(out), "w");
	struct ot_session_opts opts = { .format = &ot_jsonl_writer, .out = f, .print_events = true, .start_ns = 1000 };
	struct ot_session *p = ot_session_new(&opts);
	struct ot_census c;

	CHECK(p != NULL);
	if (!p)
		return;
	gs[0] = *group(1, 1, 0, 0, 1, (const struct dspec[]){ { "0000:00:02.0", NULL, "-" } });
	gs[1] = *group(2, 1, 0, 0, 3, bridge_e1000_edu);
	c = census_of(OT_CENSUS_START, 2, gs);
	CHECK(ot_session_census(p, &c) == 0);
	ot_session_flush(p);
	CHECK(p->run.stats.anomalies[OT_AN_PREEXISTING_LEAK] == 1);
	CHECK_CONTAINS(out, "\"type\":\"census\"");
	CHECK_CONTAINS(out, "\"time\":0.000004000");
	CHECK_CONTAINS(out, "\"kind\":\"preexisting_leak\"");
	CHECK(strstr(out, "\"type\":\"census\"") < strstr(out, "\"kind\":\"preexisting_leak\""));
	/* the seed: the e1000 bound before the trace is unbound, silently */
	SYNTH(p, .point = OT_POINT_UNUSE_DEFAULT_DOMAIN, .ts_ns = 9000, .duration_ns = 10, .tid = 5,
	      .dev = "0000:01:01.0", .drv = "e1000", .group = 2, .before = 1, .after = 0);
	CHECK(ot_stats_anomalies(&p->run.stats) == 1);
	ot_session_free(p);
	fclose(f);

	/* a display filter on another group: the census anomaly is not shown, not counted */
	ot_filter_add_group(&opts.filter, 2);
	opts.out = NULL;
	p = ot_session_new(&opts);
	CHECK(p != NULL);
	if (!p)
		return;
	gs[0] = *group(1, 1, 0, 0, 1, (const struct dspec[]){ { "0000:00:02.0", NULL, "-" } });
	c = census_of(OT_CENSUS_START, 1, gs);
	CHECK(ot_session_census(p, &c) == 0);
	CHECK(ot_stats_anomalies(&p->run.stats) == 0);
	ot_session_free(p);
}

/* --prometheus: per-group gauges of the last census, the violations counted over censuses */
static void test_prometheus(void)
{
	static struct ot_census_group gs[3];
	static char out[1 << 16];
	struct ot_session *p = synth_session();
	struct ot_prom *m = ot_prom_new("/nonexistent/x.prom", 15, OT_HIST_BY_DRIVER, false);
	struct ot_census c;

	CHECK(p && m);
	if (!p || !m)
		return;
	CAPTURE(out, sizeof(out), f, ot_prom_render(m, &p->run, f));
	CHECK(!strstr(out, "ownertrace_group_owner_cnt"));	/* no census yet, no family */
	gs[0] = *group(1, 1, 0, 0, 1, (const struct dspec[]){ { "0000:00:02.0", NULL, "-" } });
	gs[1] = *group(2, 1, 0, 0, 3, bridge_e1000_edu);
	gs[2] = *group(3, 4, 0, OT_CF_DEVICE_LOCKED, 3, bridge_e1000_edu);	/* unsettled: left out */
	c = census_of(OT_CENSUS_START, 3, gs);
	CHECK(ot_session_census(p, &c) == 0);
	c = census_of(OT_CENSUS_AUDIT, 3, gs);
	CHECK(ot_session_census(p, &c) == 0);
	CAPTURE(out, sizeof(out), f, ot_prom_render(m, &p->run, f));
	CHECK_CONTAINS(out, "# TYPE ownertrace_group_owner_cnt gauge\n");
	CHECK_CONTAINS(out, "\nownertrace_group_owner_cnt{group=\"1\"} 1\nownertrace_group_owner_cnt{group=\"2\"} 1\n# HELP");
	CHECK_CONTAINS(out, "\nownertrace_group_owner_cnt_recalculated{group=\"1\"} 0\n");
	CHECK_CONTAINS(out, "\nownertrace_group_owner_cnt_recalculated{group=\"2\"} 1\n");
	CHECK_CONTAINS(out, "\nownertrace_group_census_violation{group=\"1\"} 1\n");
	CHECK_CONTAINS(out, "\nownertrace_group_census_violation{group=\"2\"} 0\n");
	CHECK(!strstr(out, "group=\"3\""));
	CHECK_CONTAINS(out, "# TYPE ownertrace_census_violations_total counter\nownertrace_census_violations_total 2\n");
	CHECK_CONTAINS(out, "\nownertrace_censuses_total 2\n");
	CHECK_CONTAINS(out, "\nownertrace_anomalies_total{kind=\"preexisting_leak\"} 1\n");
	CHECK_CONTAINS(out, "\nownertrace_anomalies_total{kind=\"audit_drift\"} 0\n");
	ot_prom_free(m);
	synth_session_free(p);
}

int main(void)
{
	test_recording();
	test_recording_newer_layout();
	test_render();
	test_pipeline();
	test_prometheus();
	return unit_report("census_record");
}

/* --perfetto on synthetic events fed through the real session: spans on the
 * right tracks, claims held across events, what is still open at the end
 * closed and marked, anomalies as instants, the file replaced atomically.
 *
 * With an argument, the trace of the main scenario is kept at that path:
 * tests/test_perfetto.py runs it so and checks the file against the
 * trace-event format. */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "core/owner_tokens.h"
#include "output/perfetto.h"
#include "session/session.h"

#define START 1000000000ULL	/* CLOCK_MONOTONIC of the trace start */
#define OWNER 0xffff888011110000ULL

static char dir[] = "/tmp/ot-perfetto-XXXXXX";

struct evspec {
	unsigned int point, phase;
	uint64_t entry_us, exit_us;	/* since START */
	const char *dev, *drv;
	int group;
	uint32_t before, after;
	uint64_t owner_before, owner_after;
	long ret;
	uint32_t tid;
};

static struct ot_event make(struct evspec s)
{
	struct ot_event ev = {
		.ts_ns = START + (s.phase == OT_PHASE_ENTER ? s.entry_us : s.exit_us) * 1000,
		.entry_ns = START + s.entry_us * 1000,
		.pid = s.tid ? s.tid : 100, .tid = s.tid ? s.tid : 100, .group_id = s.group,
		.owner_cnt_before = s.before, .owner_cnt_after = s.after,
		.owner_before = s.owner_before, .owner_after = s.owner_after,
		.ret = s.ret, .stack_id = -1, .point = s.point,
		.phase = s.phase ? s.phase : OT_PHASE_EXIT, .flags = s.group >= 0 ? OT_EVF_HAS_GROUP : 0,
	};
	snprintf(ev.comm, sizeof(ev.comm), "task%u", ev.tid);
	if (s.dev)
		snprintf(ev.device, sizeof(ev.device), "%s", s.dev);
	if (s.drv)
		snprintf(ev.driver, sizeof(ev.driver), "%s", s.drv);
	return ev;
}

struct fixture {
	struct ot_session *pipe;
	FILE *out;
	char sink_out[1 << 14];		/* the printed stream: not under test */
};

/* A session like replay's with --json --perfetto path; NULL when the session refuses the path. */
static struct ot_session *session_init(struct fixture *fx, const char *path)
{
	struct ot_session_opts opts = { .format = &ot_jsonl_writer, .start_ns = START, .print_events = true,
					.perfetto_path = path };

	memset(fx, 0, sizeof(*fx));
	fx->out = opts.out = fmemopen(fx->sink_out, sizeof(fx->sink_out), "w");
	CHECK(fx->out != NULL);
	fx->pipe = ot_session_new(&opts);
	return fx->pipe;
}

static void session_fini(struct fixture *fx)
{
	ot_session_free(fx->pipe);
	fclose(fx->out);
}

static void feed(struct fixture *fx, struct evspec s)
{
	struct ot_event ev = make(s);

	ot_session_event(fx->pipe, &ev);
}

static char *slurp(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	buf[0] = 0;
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	return buf;
}

static int files_in(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* One of everything: the scenario the format check runs on too. */
static void test_timeline(const char *keep)
{
	struct fixture fx;
	char path[256];
	const char *json;

	snprintf(path, sizeof(path), "%s/t.json", dir);
	CHECK(session_init(&fx, keep ? keep : path) != NULL);
	/* e1000 probe in group 5: use + configure inside the probe span */
	feed(&fx, (struct evspec){ .point = OT_POINT_REALLY_PROBE, .phase = OT_PHASE_ENTER, .entry_us = 10,
				   .dev = "0000:00:01.0", .drv = "e1000", .group = 5 });
	feed(&fx, (struct evspec){ .point = OT_POINT_USE_DEFAULT_DOMAIN, .entry_us = 20, .exit_us = 25,
				   .dev = "0000:00:01.0", .drv = "e1000", .group = 5, .after = 1 });
	feed(&fx, (struct evspec){ .point = OT_POINT_DMA_CONFIGURE_FIRST, .entry_us = 15, .exit_us = 30,
				   .dev = "0000:00:01.0", .drv = "e1000", .group = 5, .after = 1 });
	feed(&fx, (struct evspec){ .point = OT_POINT_REALLY_PROBE, .entry_us = 10, .exit_us = 40,
				   .dev = "0000:00:01.0", .drv = "e1000", .group = 5, .after = 1 });
	/* group 6 claimed for its group, then by the same owner for a device
	 * (nested), the device's claim released: one claim held at the end */
	feed(&fx, (struct evspec){ .point = OT_POINT_GROUP_CLAIM, .entry_us = 100, .exit_us = 110, .group = 6,
				   .after = 1, .owner_after = OWNER, .tid = 200 });
	feed(&fx, (struct evspec){ .point = OT_POINT_DEVICE_CLAIM, .entry_us = 120, .exit_us = 130, .group = 6,
				   .dev = "0000:00:06.0", .before = 1, .after = 2, .owner_before = OWNER,
				   .owner_after = OWNER, .tid = 200 });
	feed(&fx, (struct evspec){ .point = OT_POINT_DEVICE_RELEASE, .entry_us = 300, .exit_us = 310, .group = 6,
				   .dev = "0000:00:06.0", .before = 2, .after = 1, .owner_before = OWNER,
				   .owner_after = OWNER, .tid = 200 });
	/* a refused claim holds nothing */
	feed(&fx, (struct evspec){ .point = OT_POINT_GROUP_CLAIM, .entry_us = 320, .exit_us = 330, .group = 6,
				   .before = 1, .after = 1, .owner_before = OWNER, .owner_after = OWNER, .ret = -16,
				   .tid = 201 });
	/* a device without a group, its probe still running at the end */
	feed(&fx, (struct evspec){ .point = OT_POINT_REALLY_PROBE, .phase = OT_PHASE_ENTER, .entry_us = 400,
				   .dev = "platform-x", .drv = "pdrv", .group = -1 });
	/* a release of a claim taken before the trace */
	feed(&fx, (struct evspec){ .point = OT_POINT_GROUP_RELEASE, .entry_us = 500, .exit_us = 510, .group = 9,
				   .before = 1, .owner_before = OWNER + 64 });
	/* an unuse of nothing: the analysis reports an underflow */
	feed(&fx, (struct evspec){ .point = OT_POINT_UNUSE_DEFAULT_DOMAIN, .entry_us = 600, .exit_us = 605,
				   .dev = "0000:00:04.0", .drv = "d", .group = 7 });
	CHECK(fx.pipe->run.stats.anomalies[OT_AN_UNDERFLOW] == 1);
	CHECK(fx.pipe->run.stats.anomalies[OT_AN_NESTED_CLAIM] == 1);
	CHECK(ot_stats_anomalies(&fx.pipe->run.stats) == 2);
	CHECK(files_in(dir) == (keep ? 0 : 1));		/* only the temporary file so far */
	CHECK(ot_session_end(fx.pipe, START + 1000000) == 0);
	session_fini(&fx);
	CHECK(files_in(dir) == (keep ? 0 : 1));		/* renamed, nothing left behind */

	json = slurp(keep ? keep : path);
	CHECK(!strncmp(json, "{\"traceEvents\":[", 16));
	CHECK_CONTAINS(json, "\"displayTimeUnit\":\"ms\"");
	/* spans: ts and dur in microseconds since the start, on the device's track in its group's process */
	CHECK_CONTAINS(json, "{\"name\":\"probe\",\"cat\":\"call\",\"ph\":\"X\",\"ts\":10.000,\"pid\":6,"
			     "\"tid\":16777216,\"dur\":30.000,\"args\":{\"function\":\"probe\",\"device\":\"0000:00:01.0\"");
	CHECK_CONTAINS(json, "{\"name\":\"dma_configure\",\"cat\":\"call\",\"ph\":\"X\",\"ts\":15.000,\"pid\":6,"
			     "\"tid\":16777216,\"dur\":15.000,");
	CHECK_CONTAINS(json, "{\"name\":\"use_default_domain\",\"cat\":\"call\",\"ph\":\"X\",\"ts\":20.000,\"pid\":6,");
	CHECK_CONTAINS(json, "\"owner_cnt_before\":0,\"owner_cnt_after\":1");
	/* claims: the inner one released at 310 us, the outer one still held at the end (1 s) */
	CHECK_CONTAINS(json, "{\"name\":\"claim held\",\"cat\":\"ownership\",\"ph\":\"X\",\"ts\":130.000,\"pid\":7,"
			     "\"tid\":16777217,\"dur\":180.000,\"args\":{\"group\":6,\"owner\":\"owner#1\","
			     "\"claimed_by\":\"device_claim\",\"claim_comm\":\"task200\",\"claim_task_tid\":200,"
			     "\"claim_device\":\"0000:00:06.0\",\"depth\":2,\"released_by\":\"device_release\"");
	CHECK_CONTAINS(json, "{\"name\":\"claim held\",\"cat\":\"ownership\",\"ph\":\"X\",\"ts\":110.000,\"pid\":7,"
			     "\"tid\":16777217,\"dur\":890.000,\"args\":{\"group\":6,\"owner\":\"owner#1\",\"claimed_by\":\"group_claim\",");
	CHECK_CONTAINS(json, "\"depth\":1,\"held_at_end\":true}");
	CHECK_CONTAINS(json, "\"ret\":\"-16 (EBUSY)\"");
	CHECK(!strstr(json, "\"claim held\",\"cat\":\"ownership\",\"ph\":\"X\",\"ts\":330.000"));
	/* held before the trace: from its start */
	CHECK_CONTAINS(json, "{\"name\":\"claim held\",\"cat\":\"ownership\",\"ph\":\"X\",\"ts\":0.000,\"pid\":10,");
	CHECK_CONTAINS(json, "\"owner\":\"owner#2\",\"claimed_before_trace\":true,");
	/* the unfinished probe of the group-less device: its own process, up to the end */
	CHECK_CONTAINS(json, "{\"name\":\"probe\",\"cat\":\"call\",\"ph\":\"X\",\"ts\":400.000,\"pid\":1048576,");
	CHECK_CONTAINS(json, "\"dur\":600.000,");
	CHECK_CONTAINS(json, "\"unfinished\":true}");
	CHECK_CONTAINS(json, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1048576,\"tid\":16777221,"
			     "\"args\":{\"name\":\"platform-x (no IOMMU group)\"}}");
	/* the anomaly: an instant on the culprit's track with its explanation */
	CHECK_CONTAINS(json, "{\"name\":\"underflow\",\"cat\":\"anomaly\",\"ph\":\"i\",\"ts\":605.000,\"pid\":8,\"tid\":16777220,");
	CHECK_CONTAINS(json, "\"s\":\"t\",\"args\":{\"kind\":\"underflow\",\"message\":\"");
	CHECK_CONTAINS(json, "\"culprit\":{\"device\":\"0000:00:04.0\",\"driver\":\"d\",\"comm\":\"task100\"");
	/* names and order of every process and thread */
	CHECK_CONTAINS(json, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":6,\"tid\":16777216,"
			     "\"args\":{\"name\":\"IOMMU group 5\"}}");
	CHECK_CONTAINS(json, "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":6,\"tid\":16777216,"
			     "\"args\":{\"name\":\"0000:00:01.0\"}}");
	CHECK_CONTAINS(json, "{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":7,\"tid\":16777217,"
			     "\"args\":{\"sort_index\":0}}");
	CHECK_CONTAINS(json, "\"otherData\":{\"generator\":\"ownertrace\",");
	CHECK_CONTAINS(json, "\"trace_start_ns\":1000000000,\"trace_end_ns\":1001000000}\n}\n");
	if (!keep)
		unlink(path);
}

/* No events: still a complete, valid document. */
static void test_empty_trace_is_complete(void)
{
	struct fixture fx;
	char path[256];

	snprintf(path, sizeof(path), "%s/empty.json", dir);
	CHECK(session_init(&fx, path) != NULL);
	CHECK(ot_session_end(fx.pipe, START + 5) == 0);
	session_fini(&fx);
	CHECK_CONTAINS(slurp(path), "{\"traceEvents\":[\n],\n\"displayTimeUnit\":\"ms\",");
	unlink(path);
}

/* An existing file is replaced, and only once the trace is complete. */
static void test_replaces_existing_file_at_the_end(void)
{
	struct fixture fx;
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/old.json", dir);
	f = fopen(path, "w");
	fputs("old", f);
	fclose(f);
	CHECK(session_init(&fx, path) != NULL);
	feed(&fx, (struct evspec){ .point = OT_POINT_DMA_CONFIGURE_FIRST, .entry_us = 15, .exit_us = 30,
				   .dev = "0000:00:01.0", .drv = "e1000", .group = 5, .after = 1 });
	CHECK_STR(slurp(path), "old");
	CHECK(ot_session_end(fx.pipe, START + 100000) == 0);
	CHECK_CONTAINS(slurp(path), "\"dma_configure\"");
	session_fini(&fx);
	unlink(path);
}

static void test_failures_leave_nothing_behind(void)
{
	struct fixture fx;
	char path[256], inner[300];
	FILE *f;

	/* a directory that does not exist: refused before any event */
	CHECK(session_init(&fx, "/nonexistent-ot-dir/t.json") == NULL);
	session_fini(&fx);
	/* the path turns out to be a non-empty directory at the end: the rename fails */
	snprintf(path, sizeof(path), "%s/busy", dir);
	snprintf(inner, sizeof(inner), "%s/file", path);
	CHECK(mkdir(path, 0700) == 0);
	f = fopen(inner, "w");
	fclose(f);
	CHECK(session_init(&fx, path) != NULL);
	feed(&fx, (struct evspec){ .point = OT_POINT_DMA_CONFIGURE_FIRST, .entry_us = 15, .exit_us = 30,
				   .dev = "0000:00:01.0", .drv = "e1000", .group = 5, .after = 1 });
	CHECK(ot_session_end(fx.pipe, START + 100000) != 0);
	session_fini(&fx);
	CHECK(files_in(dir) == 1);	/* the directory; no temporary file left */
	unlink(inner);
	rmdir(path);
}

int main(int argc, char **argv)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_timeline(argc > 1 ? argv[1] : NULL);
	test_empty_trace_is_complete();
	test_replaces_existing_file_at_the_end();
	test_failures_leave_nothing_behind();
	rmdir(dir);
	return unit_report("test_perfetto");
}

/* Recording round trip, and a reader that refuses truncated, corrupt and
 * foreign input with a clear sentence instead of crashing. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include "unit.h"
#include "core/recording.h"

static char path[] = "/tmp/ot_test_recXXXXXX";

static size_t write_sample(void)
{
	struct ot_rec_writer w;
	struct ot_rec_header h;
	struct ot_bindings b = {};
	struct ot_event ev = { .point = OT_POINT_GROUP_CLAIM, .phase = OT_PHASE_EXIT, .group_id = 4,
			       .owner_cnt_after = 1, .owner_after = 0xffff888000001000ULL, .stack_id = 7 };
	const char *frames[] = { "iommu_group_claim_dma_owner+0x5", "vfio_container_attach_group+0x9a [vfio]" };
	struct ot_rec_end end = { .bpf = { 3, 0, 0, 1 }, .kretprobe_misses = -1, .end_ns = 5000 };
	FILE *f;
	long size;

	int fd = mkstemp(path);
	close(fd);
	unlink(path);
	ot_rec_header_init(&h, 1, 1000);
	CHECK(ot_rec_writer_open(&w, path, &h) == 0);
	strcpy(b.point[OT_POINT_GROUP_CLAIM].function, "iommu_group_claim_dma_owner");
	ot_rec_write_points(&w, &b);
	ot_rec_write_stack(&w, 7, frames, 2);
	strcpy(ev.comm, "vfio_group_open");
	ot_rec_write_event(&w, &ev);
	ev.point = OT_POINT_GROUP_RELEASE;
	ot_rec_write_event(&w, &ev);
	ot_rec_write_end(&w, &end);
	CHECK(ot_rec_writer_close(&w) == 0);
	/* never overwrite */
	CHECK(ot_rec_writer_open(&w, path, &h) == -EEXIST);
	f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fclose(f);
	return size;
}

static unsigned char *slurp(size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;

	fseek(f, 0, SEEK_END);
	*len = ftell(f);
	rewind(f);
	buf = malloc(*len);
	CHECK(fread(buf, 1, *len, f) == *len);
	fclose(f);
	return buf;
}

/* Read everything; return items read, -1 on error (err filled). */
static int read_all(const void *buf, size_t len, char *err, size_t errlen, struct ot_rec_reader *r)
{
	static struct ot_rec_item it;
	int n = 0, rc;

	if (ot_rec_reader_open_mem(r, buf, len, err, errlen))
		return -1;
	while ((rc = ot_rec_next(r, &it, err, errlen)) > 0)
		n++;
	return rc < 0 ? -1 : n;
}

static void test_round_trip(void)
{
	static struct ot_rec_item it;
	struct ot_rec_reader r;
	char err[256];
	int types[8], n = 0;

	write_sample();
	CHECK(ot_rec_reader_open_file(&r, path, err, sizeof(err)) == 0);
	CHECK_STR(r.header.magic[0] == 'O' ? "ok" : "bad", "ok");
	CHECK(r.header.start_ns == 1000 && r.header.attach_mode == 1);
	while (n < 8 && ot_rec_next(&r, &it, err, sizeof(err)) > 0) {
		types[n++] = it.type;
		if (it.type == OT_REC_STACK) {
			CHECK(it.stack_id == 7 && it.nframes == 2);
			CHECK_STR(it.frames[1], "vfio_container_attach_group+0x9a [vfio]");
		}
		if (it.type == OT_REC_POINTS)
			CHECK_STR(it.functions[OT_POINT_GROUP_CLAIM], "iommu_group_claim_dma_owner");
		if (it.type == OT_REC_EVENT && r.events == 1) {
			CHECK(it.event.group_id == 4 && it.event.owner_after == 0xffff888000001000ULL);
			CHECK_STR(it.event.comm, "vfio_group_open");
		}
	}
	CHECK(n == 5);
	CHECK(types[0] == OT_REC_POINTS && types[1] == OT_REC_STACK && types[2] == OT_REC_EVENT &&
	      types[4] == OT_REC_END);
	CHECK(r.ended && r.end.bpf[0] == 3 && r.end.end_ns == 5000 && r.events == 2);
	ot_rec_reader_close(&r);
}

static void test_every_truncation_is_an_error(void)
{
	size_t len;
	unsigned char *buf = slurp(&len);
	struct ot_rec_reader r;
	char err[256];
	int crashes = 0;

	for (size_t cut = 0; cut < len; cut++) {
		err[0] = '\0';
		if (read_all(buf, cut, err, sizeof(err), &r) != -1)
			crashes++;	/* a cut file must never read as complete */
		if (!err[0])
			crashes++;
	}
	CHECK(crashes == 0);
	read_all(buf, len - 3, err, sizeof(err), &r);
	CHECK_CONTAINS(err, "truncated recording");
	read_all(buf, len - sizeof(struct ot_rec_end) - 8, err, sizeof(err), &r);
	CHECK_CONTAINS(err, "without its end record");
	CHECK(read_all(buf, len, err, sizeof(err), &r) == 5);
	free(buf);
}

static void test_corrupt_and_foreign(void)
{
	size_t len;
	unsigned char *buf = slurp(&len), *copy = malloc(len + 16);
	struct ot_rec_reader r;
	char err[256];
	uint32_t v;
	size_t first_rec = sizeof(struct ot_rec_header);

	CHECK(read_all("hello world, not a trace", 24, err, sizeof(err), &r) == -1);
	CHECK_CONTAINS(err, "not an ownertrace recording");
	CHECK(read_all("", 0, err, sizeof(err), &r) == -1);

	memcpy(copy, buf, len);
	v = 99;
	memcpy(copy + offsetof(struct ot_rec_header, version), &v, 4);
	CHECK(read_all(copy, len, err, sizeof(err), &r) == -1);
	CHECK_CONTAINS(err, "version 99");

	memcpy(copy, buf, len);
	v = 12;	/* event records smaller than ours */
	memcpy(copy + offsetof(struct ot_rec_header, event_size), &v, 4);
	CHECK(read_all(copy, len, err, sizeof(err), &r) == -1);
	CHECK_CONTAINS(err, "12-byte events");

	memcpy(copy, buf, len);
	v = 77;	/* unknown record type */
	memcpy(copy + first_rec, &v, 4);
	CHECK(read_all(copy, len, err, sizeof(err), &r) == -1);
	CHECK_CONTAINS(err, "unknown record type 77");

	memcpy(copy, buf, len);
	v = 0xfffffff0u;	/* record length past the end */
	memcpy(copy + first_rec + 4, &v, 4);
	CHECK(read_all(copy, len, err, sizeof(err), &r) == -1);
	CHECK_CONTAINS(err, "runs past the end");

	/* data after the end record */
	memcpy(copy, buf, len);
	memset(copy + len, 0, 16);
	CHECK(read_all(copy, len + 16, err, sizeof(err), &r) == -1);
	CHECK_CONTAINS(err, "after the end record");

	/* an END record from a version with fewer loss counters still reads */
	{
		struct ot_rec_header h;
		unsigned char old[sizeof(h) + 8 + 3 * 8 + 16];
		uint32_t rec[2] = { OT_REC_END, 3 * 8 + 16 };
		uint64_t payload[5] = { 7, 8, 9, (uint64_t)-1, 4242 };
		struct ot_rec_item it;

		ot_rec_header_init(&h, 0, 1);
		memcpy(old, &h, sizeof(h));
		memcpy(old + sizeof(h), rec, 8);
		memcpy(old + sizeof(h) + 8, payload, sizeof(payload));
		CHECK(ot_rec_reader_open_mem(&r, old, sizeof(old), err, sizeof(err)) == 0);
		CHECK(ot_rec_next(&r, &it, err, sizeof(err)) == 1 && r.ended);
		CHECK(r.end.bpf[0] == 7 && r.end.bpf[2] == 9 && r.end.bpf[3] == 0);
		CHECK(r.end.kretprobe_misses == -1 && r.end.end_ns == 4242);
		CHECK(ot_rec_next(&r, &it, err, sizeof(err)) == 0);
	}

	/* an attach-point table from a writer with fewer points still reads; a torn one does not */
	{
		struct ot_rec_header h;
		enum { OLD_POINTS = 9 };
		unsigned char old[sizeof(h) + 8 + OLD_POINTS * OT_FUNC_NAME_LEN];
		uint32_t rec[2] = { OT_REC_POINTS, OLD_POINTS * OT_FUNC_NAME_LEN };
		static struct ot_rec_item it;

		ot_rec_header_init(&h, 0, 1);
		memcpy(old, &h, sizeof(h));
		memcpy(old + sizeof(h), rec, 8);
		memset(old + sizeof(h) + 8, 0, OLD_POINTS * OT_FUNC_NAME_LEN);
		strcpy((char *)old + sizeof(h) + 8, "really_probe");
		memset(&it, 'x', sizeof(it));
		CHECK(ot_rec_reader_open_mem(&r, old, sizeof(old), err, sizeof(err)) == 0);
		CHECK(ot_rec_next(&r, &it, err, sizeof(err)) == 1 && it.type == OT_REC_POINTS);
		CHECK_STR(it.functions[0], "really_probe");
		CHECK_STR(it.functions[OT_POINT_COUNT - 1], "");	/* points it did not have: none */
		rec[1] = OLD_POINTS * OT_FUNC_NAME_LEN - 1;
		memcpy(old + sizeof(h), rec, 8);
		CHECK(read_all(old, sizeof(old) - 1, err, sizeof(err), &r) == -1);
		CHECK_CONTAINS(err, "attach-point table of");
	}

	CHECK(ot_rec_reader_open_file(&r, "/nonexistent/x.otr", err, sizeof(err)) == -1);
	CHECK_CONTAINS(err, "cannot open");
	CHECK(ot_rec_reader_open_file(&r, "/tmp", err, sizeof(err)) == -1);
	CHECK_CONTAINS(err, "not a regular file");
	free(copy);
	free(buf);
	unlink(path);
}

int main(void)
{
	test_round_trip();
	test_every_truncation_is_an_error();
	test_corrupt_and_foreign();
	return unit_report("test_recording");
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include "core/recording.h"

/* ---- writing ------------------------------------------------------------ */

void ot_rec_header_init(struct ot_rec_header *h, unsigned int mode, uint64_t start_ns)
{
	struct timespec ts;
	struct utsname u;

	memset(h, 0, sizeof(*h));
	memcpy(h->magic, OT_REC_MAGIC, sizeof(h->magic));
	h->version = OT_REC_VERSION;
	h->header_size = sizeof(*h);
	h->event_size = sizeof(struct ot_event);
	h->attach_mode = mode;
	h->start_ns = start_ns;
	clock_gettime(CLOCK_REALTIME, &ts);
	h->start_realtime_ns = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	if (uname(&u) == 0)
		snprintf(h->kernel_release, sizeof(h->kernel_release), "%s", u.release);
}

static void put(struct ot_rec_writer *w, const void *data, size_t len)
{
	if (w->error || !len)
		return;
	if (fwrite(data, 1, len, w->f) != len)
		w->error = errno ? -errno : -EIO;
}

static void put_record(struct ot_rec_writer *w, uint32_t type, const void *payload, uint32_t len)
{
	uint32_t hdr[2] = { type, len };

	put(w, hdr, sizeof(hdr));
	put(w, payload, len);
}

int ot_rec_writer_open(struct ot_rec_writer *w, const char *path, const struct ot_rec_header *h)
{
	memset(w, 0, sizeof(*w));
	w->f = fopen(path, "wbx");	/* never overwrite an earlier recording */
	if (!w->f)
		return -errno;
	setvbuf(w->f, NULL, _IOFBF, 1 << 20);
	put(w, h, sizeof(*h));
	return w->error;
}

void ot_rec_write_points(struct ot_rec_writer *w, const struct ot_bindings *b)
{
	char names[OT_POINT_COUNT][OT_FUNC_NAME_LEN];

	memset(names, 0, sizeof(names));
	for (unsigned int p = 0; p < OT_POINT_COUNT; p++)
		snprintf(names[p], OT_FUNC_NAME_LEN, "%s", ot_point_function(b, p));
	put_record(w, OT_REC_POINTS, names, sizeof(names));
}

void ot_rec_write_event(struct ot_rec_writer *w, const struct ot_event *ev)
{
	put_record(w, OT_REC_EVENT, ev, sizeof(*ev));
	w->events++;
}

void ot_rec_write_stack(struct ot_rec_writer *w, int32_t id, const char *const *frames, int n)
{
	uint32_t len = 8, nframes = n;

	for (int i = 0; i < n; i++)
		len += strnlen(frames[i], OT_FRAME_LEN - 1) + 1;
	uint32_t hdr[2] = { OT_REC_STACK, len };
	put(w, hdr, sizeof(hdr));
	put(w, &id, sizeof(id));
	put(w, &nframes, sizeof(nframes));
	for (int i = 0; i < n; i++) {
		put(w, frames[i], strnlen(frames[i], OT_FRAME_LEN - 1));
		put(w, "", 1);
	}
}

void ot_rec_write_sample(struct ot_rec_writer *w, const struct ot_sample *s)
{
	put_record(w, OT_REC_SAMPLE, s, sizeof(*s));
}

void ot_rec_write_census(struct ot_rec_writer *w, const struct ot_census *c)
{
	struct ot_rec_census head = {
		.ts_ns = c->ts_ns, .reason = c->reason, .ngroups = (uint32_t)c->ngroups,
		.group_size = sizeof(struct ot_rec_census_group), .device_size = sizeof(struct ot_census_device),
	};
	uint64_t len = sizeof(head);
	uint32_t hdr[2] = { OT_REC_CENSUS, 0 };

	for (int i = 0; i < c->ngroups; i++) {
		uint32_t nd = c->groups[i].snap.head.ndevices;

		len += sizeof(struct ot_rec_census_group) +
		       (uint64_t)(nd < OT_CENSUS_MAX_DEVICES ? nd : OT_CENSUS_MAX_DEVICES) * sizeof(struct ot_census_device);
	}
	if (len > UINT32_MAX) {
		w->error = w->error ? w->error : -EFBIG;
		return;
	}
	hdr[1] = (uint32_t)len;
	put(w, hdr, sizeof(hdr));
	put(w, &head, sizeof(head));
	for (int i = 0; i < c->ngroups; i++) {
		const struct ot_census_group *g = &c->groups[i];
		struct ot_rec_census_group rg;
		uint32_t nd = g->snap.head.ndevices < OT_CENSUS_MAX_DEVICES ? g->snap.head.ndevices
									    : OT_CENSUS_MAX_DEVICES;

		memset(&rg, 0, sizeof(rg));
		rg.head = g->snap.head;
		rg.head.ndevices = nd;
		rg.snapshots = g->snapshots;
		memcpy(rg.holder, g->holder, sizeof(rg.holder));
		put(w, &rg, sizeof(rg));
		put(w, g->snap.dev, nd * sizeof(struct ot_census_device));
	}
}

void ot_rec_write_end(struct ot_rec_writer *w, const struct ot_rec_end *end)
{
	put_record(w, OT_REC_END, end, sizeof(*end));
}

int ot_rec_writer_close(struct ot_rec_writer *w)
{
	int err = w->error;

	if (!w->f)
		return err;
	if (fflush(w->f) && !err)
		err = -errno;
	if (fsync(fileno(w->f)) && !err && errno != EINVAL)
		err = -errno;
	if (fclose(w->f) && !err)
		err = -errno;
	w->f = NULL;
	return err;
}

/* ---- reading ------------------------------------------------------------ */

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int ot_rec_reader_open_mem(struct ot_rec_reader *r, const void *buf, size_t len, char *err, size_t errlen)
{
	const struct ot_rec_header *h = buf;

	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->len = len;
	if (len < sizeof(h->magic) || memcmp(h->magic, OT_REC_MAGIC, sizeof(h->magic)))
		return fail(err, errlen, "not an ownertrace recording (bad magic)");
	if (len < offsetof(struct ot_rec_header, version) + sizeof(uint32_t))
		return fail(err, errlen, "truncated recording: the header is cut short (%zu bytes)", len);
	memcpy(&r->header.version, &h->version, sizeof(uint32_t));
	if (r->header.version != OT_REC_VERSION)
		return fail(err, errlen, "recording format version %u; this ownertrace reads version %u",
			    r->header.version, OT_REC_VERSION);
	if (len < sizeof(struct ot_rec_header))
		return fail(err, errlen, "truncated recording: the header is cut short (%zu bytes)", len);
	memcpy(&r->header, buf, sizeof(r->header));
	r->header.kernel_release[sizeof(r->header.kernel_release) - 1] = '\0';
	if (r->header.header_size < sizeof(struct ot_rec_header) || r->header.header_size > len)
		return fail(err, errlen, "corrupt recording: header size %u", r->header.header_size);
	if (r->header.event_size < sizeof(struct ot_event) || r->header.event_size > 65536)
		return fail(err, errlen,
			    "recording has %u-byte events; this ownertrace needs at least %zu (written by an "
			    "incompatible version?)", r->header.event_size, sizeof(struct ot_event));
	if (r->header.attach_mode > 1)
		return fail(err, errlen, "corrupt recording: attach mode %u", r->header.attach_mode);
	r->off = r->header.header_size;
	return 0;
}

int ot_rec_reader_open_file(struct ot_rec_reader *r, const char *path, char *err, size_t errlen)
{
	struct stat st;
	void *map;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return fail(err, errlen, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st)) {
		int e = errno;

		close(fd);
		return fail(err, errlen, "cannot stat %s: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return fail(err, errlen, "%s is not a regular file", path);
	}
	if (st.st_size == 0) {
		close(fd);
		return fail(err, errlen, "%s is empty: not an ownertrace recording", path);
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return fail(err, errlen, "cannot map %s: %s", path, strerror(errno));
	if (ot_rec_reader_open_mem(r, map, st.st_size, err, errlen)) {
		munmap(map, st.st_size);
		return -1;
	}
	r->mapping = map;
	r->mapping_len = st.st_size;
	return 0;
}

void ot_rec_reader_close(struct ot_rec_reader *r)
{
	if (r->mapping)
		munmap(r->mapping, r->mapping_len);
	r->mapping = NULL;
	free(r->census_groups);
	r->census_groups = NULL;
	r->census_cap = 0;
}

static int parse_stack(struct ot_rec_item *it, const uint8_t *p, uint32_t len, char *err, size_t errlen,
		       size_t at)
{
	uint32_t nframes;
	size_t off = 8;

	if (len < 8)
		return fail(err, errlen, "corrupt recording: stack record of %u bytes at offset %zu", len, at);
	memcpy(&it->stack_id, p, 4);
	memcpy(&nframes, p + 4, 4);
	if (it->stack_id < 0 || nframes > OT_STACK_MAX_FRAMES)
		return fail(err, errlen, "corrupt recording: stack %d with %u frames at offset %zu", it->stack_id,
			    nframes, at);
	for (uint32_t i = 0; i < nframes; i++) {
		const void *nul = memchr(p + off, '\0', len - off);

		if (!nul)
			return fail(err, errlen, "corrupt recording: stack %d frame %u runs past its record at "
				    "offset %zu", it->stack_id, i, at);
		it->frames[i] = (const char *)p + off;
		off = (const uint8_t *)nul - p + 1;
	}
	if (off != len)
		return fail(err, errlen, "corrupt recording: stack %d record has %zu stray bytes at offset %zu",
			    it->stack_id, (size_t)(len - off), at);
	it->nframes = nframes;
	return 0;
}

/* Names from a file need not be terminated: make them so. */
static void terminate_device(struct ot_census_device *d)
{
	d->name[sizeof(d->name) - 1] = '\0';
	d->bus[sizeof(d->bus) - 1] = '\0';
	d->driver[sizeof(d->driver) - 1] = '\0';
}

/*
 * A census record: its sizes say how long each group part and device is,
 * so fields appended later are skipped and a shorter (older) part is read
 * as far as it goes; everything must add up to the record's length.
 */
static int parse_census(struct ot_rec_reader *r, struct ot_rec_item *it, const uint8_t *p, uint32_t len,
			char *err, size_t errlen, size_t at)
{
	struct ot_rec_census h;
	size_t off = sizeof(h), gmin = offsetof(struct ot_rec_census_group, holder) + OT_CENSUS_HOLDER_LEN;

	if (len < sizeof(h))
		return fail(err, errlen, "corrupt recording: census record of %u bytes at offset %zu", len, at);
	memcpy(&h, p, sizeof(h));
	if (h.group_size < gmin || h.group_size > 65536 || h.device_size < sizeof(struct ot_census_device) ||
	    h.device_size > 65536 || h.ngroups > 65536)
		return fail(err, errlen, "corrupt recording: census of %u groups (%u-byte groups, %u-byte devices) "
			    "at offset %zu", h.ngroups, h.group_size, h.device_size, at);
	if ((int)h.ngroups > r->census_cap) {
		void *g = realloc(r->census_groups, (size_t)h.ngroups * sizeof(*r->census_groups));

		if (!g)
			return fail(err, errlen, "out of memory reading a census of %u groups", h.ngroups);
		r->census_groups = g;
		r->census_cap = (int)h.ngroups;
	}
	for (uint32_t i = 0; i < h.ngroups; i++) {
		struct ot_census_group *g = &r->census_groups[i];
		struct ot_rec_census_group rg;

		if (len - off < h.group_size)
			return fail(err, errlen, "corrupt recording: census group %u runs past its record at offset %zu",
				    i, at);
		memset(&rg, 0, sizeof(rg));
		memcpy(&rg, p + off, h.group_size < sizeof(rg) ? h.group_size : sizeof(rg));
		off += h.group_size;
		if (rg.head.ndevices > OT_CENSUS_MAX_DEVICES ||
		    (len - off) / h.device_size < rg.head.ndevices)
			return fail(err, errlen, "corrupt recording: census group %u with %u devices at offset %zu", i,
				    rg.head.ndevices, at);
		memset(g, 0, sizeof(*g));
		g->snap.head = rg.head;
		g->snapshots = rg.snapshots;
		memcpy(g->holder, rg.holder, sizeof(g->holder));
		g->holder[sizeof(g->holder) - 1] = '\0';
		for (uint32_t d = 0; d < rg.head.ndevices; d++) {
			memcpy(&g->snap.dev[d], p + off, sizeof(g->snap.dev[d]));
			terminate_device(&g->snap.dev[d]);
			off += h.device_size;
		}
	}
	if (off != len)
		return fail(err, errlen, "corrupt recording: census record has %zu stray bytes at offset %zu",
			    (size_t)(len - off), at);
	it->census = (struct ot_census){
		.ts_ns = h.ts_ns, .reason = h.reason, .ngroups = (int)h.ngroups, .capgroups = (int)h.ngroups,
		.groups = r->census_groups,
	};
	return 0;
}

int ot_rec_next_record(struct ot_rec_reader *r, struct ot_rec_item *it, char *err, size_t errlen)
{
	uint32_t hdr[2], type, len;
	const uint8_t *p;
	size_t at = r->off;

	if (r->off == r->len) {
		if (!r->ended)
			return fail(err, errlen,
				    "truncated recording: it ends after %llu events without its end record (the "
				    "recorder was killed, or the file was cut)", (unsigned long long)r->events);
		return 0;
	}
	if (r->ended)
		return fail(err, errlen, "corrupt recording: data after the end record at offset %zu", at);
	if (r->len - r->off < sizeof(hdr))
		return fail(err, errlen, "truncated recording: a record header is cut short at offset %zu "
			    "(after %llu events)", at, (unsigned long long)r->events);
	memcpy(hdr, r->buf + r->off, sizeof(hdr));
	type = hdr[0];
	len = hdr[1];
	if (len > r->len - r->off - sizeof(hdr))
		return fail(err, errlen, "truncated recording: a %u-byte record at offset %zu runs past the end "
			    "of the file (after %llu events)", len, at, (unsigned long long)r->events);
	p = r->buf + r->off + sizeof(hdr);
	/* an event fills the event only: not clearing the rest keeps replay's hot path short */
	if (type != OT_REC_EVENT)
		memset(it, 0, offsetof(struct ot_rec_item, frames));
	it->type = type;
	switch (type) {
	case OT_REC_POINTS:
		/* points are only ever appended: an older writer's table is shorter,
		 * a newer one's names points this reader does not know */
		if (!len || len % OT_FUNC_NAME_LEN)
			return fail(err, errlen, "corrupt recording: attach-point table of %u bytes at offset %zu",
				    len, at);
		memset(it->functions, 0, sizeof(it->functions));
		memcpy(it->functions, p, len < sizeof(it->functions) ? len : sizeof(it->functions));
		for (unsigned int i = 0; i < OT_POINT_COUNT; i++)
			it->functions[i][OT_FUNC_NAME_LEN - 1] = '\0';
		break;
	case OT_REC_EVENT:
		if (len != r->header.event_size)
			return fail(err, errlen, "corrupt recording: %u-byte event at offset %zu (expected %u)", len,
				    at, r->header.event_size);
		memcpy(&it->event, p, sizeof(it->event));	/* newer writers only append fields */
		if (!ot_rec_event_valid(&it->event))
			return fail(err, errlen, "corrupt recording: event %llu at offset %zu has point %u phase %u",
				    (unsigned long long)r->events, at, it->event.point, it->event.phase);
		ot_rec_terminate_strings(&it->event);
		r->events++;
		break;
	case OT_REC_STACK:
		if (parse_stack(it, p, len, err, errlen, at))
			return -1;
		break;
	case OT_REC_SAMPLE:
		if (len != sizeof(it->sample))
			return fail(err, errlen, "corrupt recording: %u-byte sample at offset %zu", len, at);
		memcpy(&it->sample, p, len);
		if (it->sample.kind >= OT_HIST_KIND_COUNT)
			return fail(err, errlen, "corrupt recording: sample of kind %u at offset %zu",
				    it->sample.kind, at);
		it->sample.name[sizeof(it->sample.name) - 1] = '\0';
		break;
	case OT_REC_CENSUS:
		if (parse_census(r, it, p, len, err, errlen, at))
			return -1;
		break;
	case OT_REC_END: {
		/* N loss counters, then misses and end time: N grows as counters are
		 * added; older files have fewer (read as 0), newer more (ignored) */
		uint32_t n = (len - 2 * sizeof(uint64_t)) / sizeof(uint64_t);

		if (len < 2 * sizeof(uint64_t) || len % sizeof(uint64_t) || n > 64)
			return fail(err, errlen, "corrupt recording: end record of %u bytes at offset %zu", len, at);
		memset(&r->end, 0, sizeof(r->end));
		memcpy(r->end.bpf, p, (n < OT_CNT_COUNT ? n : OT_CNT_COUNT) * sizeof(uint64_t));
		memcpy(&r->end.kretprobe_misses, p + n * sizeof(uint64_t), sizeof(int64_t));
		memcpy(&r->end.end_ns, p + (n + 1) * sizeof(uint64_t), sizeof(uint64_t));
		r->ended = true;
		break;
	}
	default:
		return fail(err, errlen, "corrupt recording: unknown record type %u at offset %zu", type, at);
	}
	r->off += sizeof(hdr) + len;
	return 1;
}

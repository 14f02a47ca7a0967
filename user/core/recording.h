/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The recording format (`ownertrace record`, `ownertrace replay`).
 *
 *   header   struct ot_rec_header (magic, format version, kernel release,
 *            attach mode, start time, event record size)
 *   records  { u32 type; u32 len; u8 payload[len] } ...
 *     POINTS  the function each attach point was bound to (char[64] each)
 *     EVENT   one struct ot_event (len = header.event_size)
 *     STACK   i32 id, u32 nframes, nframes NUL-terminated symbolized frames
 *     END     u64 loss counters[N], i64 kretprobe misses, u64 end time: present
 *             iff the run ended cleanly; N is whatever the writer had (older
 *             files fewer: read as 0, newer more: ignored)
 *     SAMPLE  struct ot_sample: one exact duration (histogram-only runs)
 *     CENSUS  every IOMMU group's state (core/census.h): struct
 *             ot_rec_census, then per group struct ot_rec_census_group
 *             (group_size bytes) and its head.ndevices struct
 *             ot_census_device (device_size bytes each); the sizes let a
 *             reader skip fields appended later and read shorter old ones
 *
 * Little-endian, fixed-width fields. Stacks are stored symbolized, so a
 * recording needs no kallsyms to replay and leaks no kernel addresses.
 * The reader validates every length and never trusts the file.
 */
#ifndef OT_RECORDING_H
#define OT_RECORDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include "ownertrace.h"
#include "core/points.h"
#include "core/stacks.h"
#include "core/census.h"

#define OT_REC_MAGIC "OTRACE\r\n"	/* \r\n: catches text-mode mangling */
#define OT_REC_VERSION 1

enum ot_rec_type {
	OT_REC_POINTS = 1,
	OT_REC_EVENT = 2,
	OT_REC_STACK = 3,
	OT_REC_END = 4,
	OT_REC_SAMPLE = 5,	/* struct ot_sample: an exact duration (histogram-only runs) */
	OT_REC_CENSUS = 6,	/* a census of every IOMMU group (the start of a live run, audits) */
};

struct ot_rec_census {
	uint64_t ts_ns;
	uint32_t reason;		/* enum ot_census_reason */
	uint32_t ngroups;
	uint32_t group_size;		/* bytes of each group part */
	uint32_t device_size;		/* bytes of each device */
	uint32_t pad[2];
};

struct ot_rec_census_group {
	struct ot_census_head head;
	uint32_t snapshots;
	uint32_t pad;
	char holder[OT_CENSUS_HOLDER_LEN];
};

struct ot_rec_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint32_t event_size;
	uint32_t attach_mode;		/* enum ot_mode */
	uint64_t start_ns;		/* CLOCK_MONOTONIC origin of relative times */
	uint64_t start_realtime_ns;
	char kernel_release[65];
	char pad[7];
};

struct ot_rec_end {
	uint64_t bpf[OT_CNT_COUNT];
	int64_t kretprobe_misses;
	uint64_t end_ns;
};

/* ---- writing ---- */

struct ot_rec_writer {
	FILE *f;
	uint64_t events;
	int error;		/* first errno, sticky */
};

int ot_rec_writer_open(struct ot_rec_writer *w, const char *path, const struct ot_rec_header *h);
void ot_rec_write_points(struct ot_rec_writer *w, const struct ot_bindings *b);
void ot_rec_write_event(struct ot_rec_writer *w, const struct ot_event *ev);
void ot_rec_write_stack(struct ot_rec_writer *w, int32_t id, const char *const *frames, int n);
void ot_rec_write_end(struct ot_rec_writer *w, const struct ot_rec_end *end);
void ot_rec_write_sample(struct ot_rec_writer *w, const struct ot_sample *s);
void ot_rec_write_census(struct ot_rec_writer *w, const struct ot_census *c);
/* Flush and close; 0 or the first write error (negative errno). */
int ot_rec_writer_close(struct ot_rec_writer *w);

/* Fill a header for a run starting now. */
void ot_rec_header_init(struct ot_rec_header *h, unsigned int mode, uint64_t start_ns);

/* ---- reading ---- */

struct ot_rec_reader {
	const uint8_t *buf;
	size_t len;
	size_t off;
	struct ot_rec_header header;
	uint64_t events;
	bool ended;		/* END record seen */
	struct ot_rec_end end;
	void *mapping;		/* from ot_rec_reader_open_file */
	size_t mapping_len;
	struct ot_census_group *census_groups;	/* the groups of the last CENSUS item */
	int census_cap;
};

struct ot_rec_item {
	enum ot_rec_type type;
	struct ot_event event;			/* EVENT */
	struct ot_sample sample;		/* SAMPLE */
	struct ot_census census;		/* CENSUS: groups valid until the next item */
	int32_t stack_id;			/* STACK */
	int nframes;
	const char *frames[OT_STACK_MAX_FRAMES];
	char functions[OT_POINT_COUNT][OT_FUNC_NAME_LEN];	/* POINTS */
};

/* 0 or -1 with a sentence in err. */
int ot_rec_reader_open_mem(struct ot_rec_reader *r, const void *buf, size_t len, char *err, size_t errlen);
int ot_rec_reader_open_file(struct ot_rec_reader *r, const char *path, char *err, size_t errlen);
void ot_rec_reader_close(struct ot_rec_reader *r);
/* The general reader of ot_rec_next(): every record type, every error. */
int ot_rec_next_record(struct ot_rec_reader *r, struct ot_rec_item *item, char *err, size_t errlen);

/* An event's point and phase are ones this reader knows. */
static inline bool ot_rec_event_valid(const struct ot_event *ev)
{
	return ev->point < OT_POINT_COUNT && (ev->phase == OT_PHASE_ENTER || ev->phase == OT_PHASE_EXIT);
}

/* Fixed-size name fields from a file need not be terminated: make them so. */
static inline void ot_rec_terminate_strings(struct ot_event *ev)
{
	ev->comm[sizeof(ev->comm) - 1] = '\0';
	ev->device[sizeof(ev->device) - 1] = '\0';
	ev->bus[sizeof(ev->bus) - 1] = '\0';
	ev->driver[sizeof(ev->driver) - 1] = '\0';
}

/*
 * 1: an item; 0: clean end of file; -1: corrupt or truncated (err says where).
 * Inline for the record replay reads millions of, a well-formed event;
 * anything else (and every error) goes to ot_rec_next_record().
 */
static inline int ot_rec_next(struct ot_rec_reader *r, struct ot_rec_item *item, char *err, size_t errlen)
{
	uint32_t hdr[2];

	if (!r->ended && r->len - r->off >= sizeof(hdr) + r->header.event_size) {
		memcpy(hdr, r->buf + r->off, sizeof(hdr));
		if (hdr[0] == OT_REC_EVENT && hdr[1] == r->header.event_size) {
			/* newer writers only append fields (event_size >= sizeof, checked at open) */
			memcpy(&item->event, r->buf + r->off + sizeof(hdr), sizeof(item->event));
			if (ot_rec_event_valid(&item->event)) {
				item->type = OT_REC_EVENT;
				ot_rec_terminate_strings(&item->event);
				r->events++;
				r->off += sizeof(hdr) + hdr[1];
				return 1;
			}
		}
	}
	return ot_rec_next_record(r, item, err, errlen);
}

#endif

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * gen_recording EVENTS FILE: write a recording of EVENTS events for the
 * replay throughput benchmark.
 *
 * The events are what a healthy machine produces: DEVICES e1000-like PCI
 * devices in GROUPS IOMMU groups, unbound and rebound over and over, with
 * owner_cnt kept consistent per group, and one stack per kind of call. The
 * analysis therefore has real work to do (shadow ownership per group, span
 * matching per thread) and finds nothing, which is the common case a replay
 * has to be fast for. Written with the recorder's own writer, so the file is
 * exactly what `ownertrace record` would produce.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/recording.h"
#include "core/points.h"

#define DEVICES 8
#define GROUPS 3

struct sim_device {
	char name[OT_DEV_NAME_LEN];
	int group;
	int pid;
};

struct sim {
	struct ot_rec_writer w;
	unsigned long long left;	/* events still to write */
	uint64_t now_ns;
	uint32_t owner_cnt[GROUPS];
};

/* One stack per point, stored symbolized like a real recording. */
static void write_stacks(struct sim *s, const struct ot_bindings *b)
{
	static const char *const common[] = {
		"driver_probe_device+0x23", "__driver_attach+0x9b", "bus_for_each_dev+0x80",
		"bind_store+0xf3", "kernfs_fop_write_iter+0x11c", "vfs_write+0x2b5",
		"ksys_write+0x6b", "do_syscall_64+0x58", "entry_SYSCALL_64_after_hwframe+0x63",
	};
	const char *frames[16];

	for (unsigned int p = 0; p < OT_POINT_COUNT; p++) {
		frames[0] = ot_point_function(b, p)[0] ? ot_point_function(b, p) : "unknown";
		memcpy(frames + 1, common, sizeof(common));
		ot_rec_write_stack(&s->w, p, frames, 1 + sizeof(common) / sizeof(common[0]));
	}
}

static void emit(struct sim *s, const struct sim_device *d, unsigned int point, unsigned int phase,
		 int cnt_delta, uint64_t entry_ns)
{
	struct ot_event ev = { 0 };
	uint32_t *cnt = &s->owner_cnt[d->group];

	if (!s->left)
		return;
	s->left--;
	s->now_ns += 1000 + (s->left % 7) * 100;
	ev.ts_ns = s->now_ns;
	ev.entry_ns = phase == OT_PHASE_ENTER ? s->now_ns : entry_ns;
	ev.pid = ev.tid = d->pid;
	ev.cpu = d->pid % 2;
	ev.group_id = d->group;
	ev.flags = OT_EVF_HAS_GROUP;
	ev.owner_cnt_before = *cnt;
	*cnt += cnt_delta;
	ev.owner_cnt_after = *cnt;
	ev.point = point;
	ev.phase = phase;
	ev.stack_id = point;
	snprintf(ev.comm, sizeof(ev.comm), "sh");
	memcpy(ev.device, d->name, sizeof(ev.device));
	snprintf(ev.bus, sizeof(ev.bus), "pci");
	snprintf(ev.driver, sizeof(ev.driver), "e1000");
	ot_rec_write_event(&s->w, &ev);
}

/* What the kernel does for `echo BDF > unbind` then `echo BDF > bind`. */
static void unbind_bind(struct sim *s, const struct sim_device *d)
{
	uint64_t start = s->now_ns + 1000;

	emit(s, d, OT_POINT_RELEASE_DRIVER, OT_PHASE_ENTER, 0, 0);
	emit(s, d, OT_POINT_UNUSE_DEFAULT_DOMAIN, OT_PHASE_EXIT, -1, s->now_ns);
	emit(s, d, OT_POINT_DMA_CLEANUP_FIRST, OT_PHASE_EXIT, 0, s->now_ns);
	emit(s, d, OT_POINT_UNBIND_CLEANUP, OT_PHASE_EXIT, 0, s->now_ns);
	emit(s, d, OT_POINT_RELEASE_DRIVER, OT_PHASE_EXIT, 0, start);
	start = s->now_ns + 1000;
	emit(s, d, OT_POINT_REALLY_PROBE, OT_PHASE_ENTER, 0, 0);
	emit(s, d, OT_POINT_DMA_CONFIGURE_FIRST, OT_PHASE_EXIT, 0, s->now_ns);
	emit(s, d, OT_POINT_USE_DEFAULT_DOMAIN, OT_PHASE_EXIT, +1, s->now_ns);
	emit(s, d, OT_POINT_REALLY_PROBE, OT_PHASE_EXIT, 0, start);
}

int main(int argc, char **argv)
{
	static struct ot_bindings bindings;
	struct sim_device devices[DEVICES];
	struct ot_rec_header header;
	struct ot_rec_end end = { 0 };
	struct sim s = { 0 };
	char *endp;

	if (argc != 3) {
		fprintf(stderr, "usage: %s EVENTS FILE\n", argv[0]);
		return 2;
	}
	s.left = strtoull(argv[1], &endp, 10);
	if (*endp || !s.left) {
		fprintf(stderr, "gen_recording: EVENTS must be a positive number, got '%s'\n", argv[1]);
		return 2;
	}
	for (unsigned int p = 0; p < OT_POINT_COUNT; p++) {
		const struct ot_point_desc *desc = ot_point_desc(p);

		if (desc->function)
			snprintf(bindings.point[p].function, OT_FUNC_NAME_LEN, "%s", desc->function);
		bindings.point[p].state = desc->function ? OT_BIND_ATTACHED : OT_BIND_UNUSED;
	}
	snprintf(bindings.point[OT_POINT_DMA_CONFIGURE_FIRST].function, OT_FUNC_NAME_LEN, "pci_dma_configure");
	snprintf(bindings.point[OT_POINT_DMA_CLEANUP_FIRST].function, OT_FUNC_NAME_LEN, "pci_dma_cleanup");

	for (int i = 0; i < DEVICES; i++) {
		snprintf(devices[i].name, sizeof(devices[i].name), "0000:0%d:%02x.0", 1 + i % GROUPS, i);
		devices[i].group = i % GROUPS;
		devices[i].pid = 1000 + i;
		s.owner_cnt[devices[i].group]++;	/* every device starts bound */
	}

	ot_rec_header_init(&header, 0, 1000000000ULL);
	s.now_ns = header.start_ns;
	if (ot_rec_writer_open(&s.w, argv[2], &header)) {
		perror(argv[2]);
		return 1;
	}
	ot_rec_write_points(&s.w, &bindings);
	write_stacks(&s, &bindings);
	for (unsigned long long i = 0; s.left; i++)
		unbind_bind(&s, &devices[i % DEVICES]);
	end.end_ns = s.now_ns + 1000;
	ot_rec_write_end(&s.w, &end);
	if (ot_rec_writer_close(&s.w)) {
		fprintf(stderr, "gen_recording: writing %s failed\n", argv[2]);
		return 1;
	}
	return 0;
}

/* A session as replay sets it up (printing to /dev/null), and synthetic
 * events to feed it: shared by the tests of outputs beside the stream. */
#ifndef OT_SYNTH_H
#define OT_SYNTH_H

#include <stdio.h>
#include <string.h>
#include "session/session.h"

static FILE *synth_devnull;

/* bounded: the daemon's memory bound */
static struct ot_session *synth_session_bounded(bool bounded)
{
	struct ot_session_opts opts = { .bounded = bounded };

	synth_devnull = fopen("/dev/null", "w");
	if (!synth_devnull)
		return NULL;
	opts.out = synth_devnull;
	return ot_session_new(&opts);
}

static inline struct ot_session *synth_session(void)
{
	return synth_session_bounded(false);
}

static void synth_session_free(struct ot_session *s)
{
	ot_session_free(s);
	fclose(synth_devnull);
}

/* One event: at ts_ns, having started duration_ns earlier. */
struct synth {
	unsigned int point, phase;	/* phase 0: exit */
	uint64_t ts_ns, duration_ns;
	uint32_t tid;
	const char *dev, *drv;
	int group;
	uint32_t before, after;
	uint64_t owner_before, owner_after;
	long ret;
	int32_t stack_id;
};

static struct ot_event synth_event(struct synth s)
{
	struct ot_event ev = {
		.ts_ns = s.ts_ns, .entry_ns = s.ts_ns - s.duration_ns, .pid = s.tid, .tid = s.tid,
		.group_id = s.group, .owner_cnt_before = s.before, .owner_cnt_after = s.after,
		.owner_before = s.owner_before, .owner_after = s.owner_after, .ret = s.ret,
		.stack_id = s.stack_id, .point = (uint16_t)s.point,
		.phase = s.phase ? (uint8_t)s.phase : OT_PHASE_EXIT, .flags = OT_EVF_HAS_GROUP,
	};

	snprintf(ev.comm, sizeof(ev.comm), "task%u", s.tid);
	snprintf(ev.bus, sizeof(ev.bus), "pci");
	if (s.dev)
		snprintf(ev.device, sizeof(ev.device), "%s", s.dev);
	if (s.drv)
		memcpy(ev.driver, s.drv, strnlen(s.drv, sizeof(ev.driver)));
	return ev;
}

#define SYNTH(P, ...) do { struct ot_event e_ = synth_event((struct synth){ __VA_ARGS__ }); ot_session_event(P, &e_); } while (0)

#endif

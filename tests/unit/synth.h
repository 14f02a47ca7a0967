/* A pipeline as replay sets it up (printing to /dev/null), and synthetic
 * events to feed it: shared by the tests of outputs beside the stream. */
#ifndef OT_SYNTH_H
#define OT_SYNTH_H

#include <stdio.h>
#include <string.h>
#include "core/owner_tokens.h"
#include "session/session.h"
#include "core/stacks.h"

static struct ot_pipeline *synth_pipeline(void)
{
	static struct ot_pipeline p;

	memset(&p, 0, sizeof(p));
	p.stacks = ot_stacks_new();
	p.out = (struct ot_output){ .out = fopen("/dev/null", "w"), .tokens = ot_owner_tokens_new() };
	if (!p.stacks || !p.out.out || !p.out.tokens || ot_pipeline_init(&p))
		return NULL;
	return &p;
}

static void synth_pipeline_free(struct ot_pipeline *p)
{
	ot_pipeline_fini(p);
	ot_owner_tokens_free(p->out.tokens);
	ot_stacks_free(p->stacks);
	fclose(p->out.out);
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

#define SYNTH(P, ...) do { struct ot_event e_ = synth_event((struct synth){ __VA_ARGS__ }); ot_pipeline_event(P, &e_); } while (0)

#endif

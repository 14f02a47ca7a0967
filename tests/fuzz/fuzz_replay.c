/*
 * libFuzzer target: the recording reader and everything a replay feeds
 * with what it reads (stack cache, ownership analysis, both output
 * formats). Build and run: make fuzz (FUZZ_SECONDS=N).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "session/session.h"
#include "core/owner_tokens.h"
#include "core/recording.h"
#include "session/census.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ot_pipeline pipe;
	static struct ot_bindings bindings;
	static struct ot_rec_item item;
	struct ot_rec_reader reader;
	char err[512];
	FILE *sink = fopen("/dev/null", "w");

	if (!sink)
		return 0;
	if (ot_rec_reader_open_mem(&reader, data, size, err, sizeof(err)) == 0) {
		pipe.stacks = ot_stacks_new();
		pipe.print_events = true;
		pipe.out = (struct ot_output){ .out = sink, .json = size & 1, .stacks = true,
					       .start_ns = reader.header.start_ns,
					       .tokens = ot_owner_tokens_new(), .bindings = &bindings };
		ot_pipeline_init(&pipe);
		while (ot_rec_next(&reader, &item, err, sizeof(err)) > 0) {
			if (item.type == OT_REC_STACK)
				ot_stacks_put(pipe.stacks, item.stack_id, item.frames, item.nframes);
			else if (item.type == OT_REC_EVENT)
				ot_pipeline_event(&pipe, &item.event);
			else if (item.type == OT_REC_CENSUS)
				ot_pipeline_census(&pipe, &item.census);
			else if (item.type == OT_REC_POINTS)
				for (unsigned int p = 0; p < OT_POINT_COUNT; p++)
					memcpy(bindings.point[p].function, item.functions[p], OT_FUNC_NAME_LEN);
		}
		ot_output_summary(&pipe.out, sink, &pipe.stats, pipe.analysis, pipe.stacks, reader.end.end_ns);
		ot_pipeline_fini(&pipe);
		ot_owner_tokens_free(pipe.out.tokens);
		ot_stacks_free(pipe.stacks);
		ot_rec_reader_close(&reader);	/* frees what it read a census into */
	}
	fclose(sink);
	return 0;
}

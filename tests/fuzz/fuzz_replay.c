/*
 * libFuzzer target: the recording reader and replay's whole path on what
 * it reads (ot_session_run_replay: stack cache, ownership analysis, both
 * output formats with stacks and histograms, the Perfetto timeline and the
 * Prometheus file). Build and run: make fuzz (FUZZ_SECONDS=N).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/recording.h"
#include "session/session.h"

/* tmpfs where there is one: the sinks fsync their file at every end */
static char sink_dir[] = "/dev/shm/ot-fuzz-XXXXXX";
static char perfetto_path[64], prometheus_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!mkdtemp(sink_dir)) {
		memcpy(sink_dir, "/tmp", 4);
		if (!mkdtemp(sink_dir))
			abort();
	}
	snprintf(perfetto_path, sizeof(perfetto_path), "%s/t.json", sink_dir);
	snprintf(prometheus_path, sizeof(prometheus_path), "%s/m.prom", sink_dir);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ot_rec_reader reader;
	struct ot_session_opts opts;
	char err[512];
	FILE *devnull = fopen("/dev/null", "w");

	if (!devnull)
		return 0;
	if (ot_rec_reader_open_mem(&reader, data, size, err, sizeof(err)) == 0) {
		/* the input's low bits pick the options, so every combination is reached */
		opts = (struct ot_session_opts){
			.format = size & 1 ? &ot_jsonl_writer : &ot_text_writer,
			.out = devnull,
			.human = devnull,
			.print_events = true,
			.stacks = true,
			.hist = size & 2,
			.hist_by = (unsigned int)(size >> 2) % 3,
			/* a file each at its end: a quarter of the inputs each, or they would dominate */
			.perfetto_path = (size >> 3) % 4 == 0 ? perfetto_path : NULL,
			.prometheus_path = (size >> 3) % 4 == 1 ? prometheus_path : NULL,
		};
		ot_session_run_replay(&opts, &reader, err, sizeof(err));
		ot_rec_reader_close(&reader);
	}
	fclose(devnull);
	return 0;
}

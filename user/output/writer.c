// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include "output/writer.h"

void ot_writer_init(struct ot_writer *w, const struct ot_writer_ops *ops, FILE *f, const struct ot_run *run)
{
	memset(w, 0, sizeof(*w));
	w->ops = ops;
	w->run = run;
	ot_buf_init(&w->buf, f);
}

int ot_writer_flush(struct ot_writer *w)
{
	return ot_buf_flush(&w->buf);
}

int ot_writer_fini(struct ot_writer *w)
{
	return ot_buf_fini(&w->buf);
}

FILE *ot_output_open(const char *path)
{
	FILE *f;

	if (!path)
		return stdout;
	f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "ownertrace: cannot write %s: %s\n", path, strerror(errno));
	return f;
}

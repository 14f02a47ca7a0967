/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A file that readers see whole or not at all (a Perfetto trace, a
 * Prometheus textfile): written under a temporary name beside it, so the
 * rename cannot cross file systems, then synced, renamed over it, and its
 * directory synced so the rename survives a crash.
 */
#ifndef OT_ATOMIC_FILE_H
#define OT_ATOMIC_FILE_H

#include <stdio.h>

struct ot_atomic_file {
	FILE *f;		/* write here; NULL when not open */
	char *tmp_path;		/* "PATH.XXXXXX", unique */
};

/* 0 or -errno. The file will get the mode a new file would (0666 & ~umask). */
int ot_atomic_file_open(struct ot_atomic_file *af, const char *path);
/*
 * Flush, sync, close, rename over path. 0, or -errno with *step naming
 * what failed ("write" or "rename"); on failure the temporary is removed.
 */
int ot_atomic_file_commit(struct ot_atomic_file *af, const char *path, const char **step);
/* Close and remove the temporary, if open; path is untouched. */
void ot_atomic_file_abort(struct ot_atomic_file *af);

#endif

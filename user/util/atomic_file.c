// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "util/atomic_file.h"

int ot_atomic_file_open(struct ot_atomic_file *af, const char *path)
{
	mode_t mask;
	int fd, err;

	af->f = NULL;
	if (asprintf(&af->tmp_path, "%s.XXXXXX", path) < 0) {
		af->tmp_path = NULL;
		return -ENOMEM;
	}
	fd = mkostemp(af->tmp_path, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		free(af->tmp_path);
		af->tmp_path = NULL;
		return err;
	}
	/* mkstemp makes it 0600; the finished file gets what a new file would */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) || !(af->f = fdopen(fd, "w"))) {
		err = -errno;
		close(fd);
		ot_atomic_file_abort(af);
		return err;
	}
	return 0;
}

/* The rename is only durable once the directory is synced too. */
static void sync_directory_of(const char *path)
{
	char *copy = strdup(path);
	int fd;

	if (!copy)
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);	/* a failure only weakens crash safety: the file is in place */
		close(fd);
	}
	free(copy);
}

int ot_atomic_file_commit(struct ot_atomic_file *af, const char *path, const char **step)
{
	int err = 0;

	*step = "write";
	if (fflush(af->f) || ferror(af->f) || fsync(fileno(af->f)))
		err = -(errno ? errno : EIO);
	if (fclose(af->f) && !err)
		err = -errno;
	af->f = NULL;
	if (!err && rename(af->tmp_path, path)) {
		*step = "rename";
		err = -errno;
	}
	if (err) {
		ot_atomic_file_abort(af);
		return err;
	}
	free(af->tmp_path);
	af->tmp_path = NULL;
	sync_directory_of(path);
	return 0;
}

void ot_atomic_file_abort(struct ot_atomic_file *af)
{
	if (af->f)
		fclose(af->f);
	af->f = NULL;
	if (af->tmp_path)
		unlink(af->tmp_path);
	free(af->tmp_path);
	af->tmp_path = NULL;
}

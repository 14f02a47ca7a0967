// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Taking a census. See kernel/census.h.
 *
 * Why a sysfs read as the trigger: the kernel keeps no list of IOMMU groups
 * a BPF program could walk safely, but it hands every group to the show
 * function of its sysfs attributes, with a reference held for the read. So
 * ownertrace reads /sys/kernel/iommu_groups/N/type for each N and the
 * program on iommu_group_show_type() snapshots exactly that group, on every
 * kernel since the ownership API exists (5.19), with no new kernel feature
 * and nothing left running afterwards.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "analysis/census.h"
#include "kernel/census.h"
#include "util/clock.h"
#include "util/grow.h"
#include "census.skel.h"

#define OT_CENSUS_FUNCTION "iommu_group_show_type"
#define OT_IOMMU_GROUPS "/sys/kernel/iommu_groups"
#define OT_CENSUS_SETTLE_NS 2000000000ULL	/* how long a group may stay in flight */
#define OT_CENSUS_MAX_SNAPSHOTS 40

struct ot_census_taker {
	struct ot_census_bpf *skel;
	struct bpf_link *link;
	struct ring_buffer *rb;
	enum ot_mode mode;
	char root[128];
	struct ot_census_snap got;	/* what the last read produced */
	int records;
};

static int on_snap(void *ctx, void *data, size_t size)
{
	struct ot_census_taker *t = ctx;

	if (size < sizeof(struct ot_census_snap))
		return 0;
	memcpy(&t->got, data, sizeof(t->got));
	t->records++;
	return 0;
}

static void destroy(struct ot_census_taker *t)
{
	ring_buffer__free(t->rb);
	bpf_link__destroy(t->link);
	ot_census_bpf__destroy(t->skel);
	t->rb = NULL;
	t->link = NULL;
	t->skel = NULL;
}

/* The test-only walk bound (tests/vm/test_census_vm.py proves the truncation with it). */
static unsigned int walk_max(void)
{
	const char *s = getenv("OT_TEST_CENSUS_WALK_MAX");
	long v = s ? strtol(s, NULL, 10) : 0;

	return v > 0 && v < OT_CENSUS_MAX_DEVICES ? (unsigned int)v : OT_CENSUS_MAX_DEVICES;
}

static int try_mode(struct ot_census_taker *t, const struct ot_census_taker_opts *o, enum ot_mode mode)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .btf_custom_path = o->btf_path);
	struct bpf_program *prog;
	int err;

	t->mode = mode;
	t->skel = ot_census_bpf__open_opts(&open_opts);
	if (!t->skel)
		return -errno;
	t->skel->rodata->target_tgid = (__u32)getpid();
	t->skel->rodata->walk_max = walk_max();
	prog = mode == OT_MODE_FENTRY ? t->skel->progs.census_fentry : t->skel->progs.census_kprobe;
	bpf_program__set_autoload(mode == OT_MODE_FENTRY ? t->skel->progs.census_kprobe
							 : t->skel->progs.census_fentry, false);
	if (mode == OT_MODE_FENTRY && (err = bpf_program__set_attach_target(prog, 0, OT_CENSUS_FUNCTION)))
		goto fail;
	err = ot_census_bpf__load(t->skel);
	if (err)
		goto fail;
	t->link = mode == OT_MODE_FENTRY ? bpf_program__attach_trace(prog)
					 : bpf_program__attach_kprobe(prog, false, OT_CENSUS_FUNCTION);
	if (!t->link) {
		err = -errno;
		goto fail;
	}
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.snaps), on_snap, t, NULL);
	if (!t->rb) {
		err = -errno;
		goto fail;
	}
	return 0;
fail:
	destroy(t);
	return err ? err : -EINVAL;
}

int ot_census_taker_open(struct ot_census_taker **out, const struct ot_census_taker_opts *opts, char *err,
			 size_t errlen)
{
	struct ot_census_taker *t = calloc(1, sizeof(*t));
	int fentry_err = 0, kprobe_err;

	*out = NULL;
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(t->root, sizeof(t->root), "%s", opts->sysfs_root ? opts->sysfs_root : OT_IOMMU_GROUPS);
	if (!opts->force_kprobes && !(fentry_err = try_mode(t, opts, OT_MODE_FENTRY))) {
		*out = t;
		return 0;
	}
	kprobe_err = try_mode(t, opts, OT_MODE_KPROBE);
	if (!kprobe_err) {
		*out = t;
		return 0;
	}
	snprintf(err, errlen,
		 "cannot attach the census program to %s (fentry: %s; kprobe: %s); the kernel does not let "
		 "ownertrace read its IOMMU groups (see --verbose)", OT_CENSUS_FUNCTION,
		 opts->force_kprobes ? "not tried (--kprobes)" : strerror(-fentry_err), strerror(-kprobe_err));
	free(t);
	return kprobe_err;
}

void ot_census_taker_close(struct ot_census_taker *t)
{
	if (!t)
		return;
	destroy(t);
	free(t);
}

enum ot_mode ot_census_taker_mode(const struct ot_census_taker *t)
{
	return t->mode;
}

const char *ot_census_taker_function(const struct ot_census_taker *t)
{
	(void)t;
	return OT_CENSUS_FUNCTION;
}

/* ---- snapshots ------------------------------------------------------------- */

static int cmp_int(const void *a, const void *b)
{
	return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* The group ids, from the directory names (only the trigger: the state comes from the kernel). */
static int list_groups(const char *root, int **ids, int *n)
{
	DIR *d = opendir(root);
	struct dirent *e;
	size_t cap = 0;

	*ids = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : -errno;	/* no IOMMU: no groups */
	while ((e = readdir(d))) {
		char *end;
		long id = strtol(e->d_name, &end, 10);

		if (!isdigit((unsigned char)e->d_name[0]) || *end || id < 0 || id > INT32_MAX)
			continue;
		if (ot_grow(ids, &cap, (size_t)*n + 1, sizeof(**ids), 32)) {
			closedir(d);
			return -ENOMEM;
		}
		(*ids)[(*n)++] = (int)id;
	}
	closedir(d);
	if (*n > 1)
		qsort(*ids, (size_t)*n, sizeof(**ids), cmp_int);
	return 0;
}

/* Read group id's type file once: 0 with the snapshot, -ENOENT if the group went away. */
static int snapshot(struct ot_census_taker *t, int id, struct ot_census_snap *out)
{
	char path[192], buf[64];
	int fd, before = t->records;
	ssize_t rd;

	snprintf(path, sizeof(path), "%s/%d/type", t->root, id);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rd = read(fd, buf, sizeof(buf));
	close(fd);
	if (rd < 0)
		return -errno;
	ring_buffer__consume(t->rb);
	if (t->records == before || t->got.head.group_id != id)
		return -ENODATA;
	*out = t->got;
	return 0;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000ULL, .tv_nsec = ns % 1000000000ULL };

	nanosleep(&ts, NULL);
}

/*
 * Snapshot a group until it can be judged: settled (no lock held, nothing
 * changed while it was read), and a violation seen twice alike. Otherwise
 * the last snapshot stays, marked in flight.
 */
static int settle(struct ot_census_taker *t, int id, struct ot_census_group *g)
{
	static struct ot_census_snap snap, prev;
	uint64_t deadline = ot_now_ns() + OT_CENSUS_SETTLE_NS, backoff = 5000000;
	bool have_prev = false;
	int err;

	for (g->snapshots = 0; g->snapshots < OT_CENSUS_MAX_SNAPSHOTS;) {
		struct ot_census_judgement j;

		err = snapshot(t, id, &snap);
		if (err)
			return err;
		g->snapshots++;
		g->snap = snap;
		if (!(snap.head.flags & OT_CF_UNSETTLED)) {
			ot_census_judge(g, &j);
			if (!ot_census_is_violation(j.verdict))
				return 0;
			if (have_prev && ot_census_same(&prev, &snap))
				return 0;	/* the same violation twice, nothing in flight either time */
			prev = snap;
			have_prev = true;
		} else {
			have_prev = false;
		}
		if (ot_now_ns() >= deadline)
			break;
		sleep_ns(backoff);
		if (backoff < 200000000)
			backoff *= 2;
	}
	/* never judged settled: a violation seen once only is not reported as one */
	if (!(g->snap.head.flags & OT_CF_UNSETTLED))
		g->snap.head.flags |= OT_CF_CHANGED;
	return 0;
}

/* ---- who holds a claim ------------------------------------------------------ */

/* /dev/vfio/N (group) or /dev/vfio/devices/vfioX (a device cdev): the group id, else -1. */
static int vfio_group_of(const char *target)
{
	char path[256], link[256];
	const char *slash;
	ssize_t n;

	if (strncmp(target, "/dev/vfio/", 10))
		return -1;
	target += 10;
	if (isdigit((unsigned char)target[0]))
		return atoi(target);
	if (strncmp(target, "devices/", 8))
		return -1;
	snprintf(path, sizeof(path), "/sys/class/vfio-dev/%s/device/iommu_group", target + 8);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -1;
	link[n] = '\0';
	slash = strrchr(link, '/');
	return slash ? atoi(slash + 1) : -1;
}

struct holder {
	int pid;
	int others;
	char comm[32];
	char file[48];
};

static void read_comm(int pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	buf[0] = '\0';
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* Processes with a VFIO file of a claimed group open: the VFIO users holding it. */
static void find_vfio_holders(struct ot_census *c, struct holder *h)
{
	DIR *proc = opendir("/proc");
	struct dirent *p;

	if (!proc)
		return;
	while ((p = readdir(proc))) {
		char fddir[64];
		struct dirent *f;
		DIR *fds;
		int pid = atoi(p->d_name);

		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(fddir, sizeof(fddir), "/proc/%d/fd", pid);
		fds = opendir(fddir);
		if (!fds)
			continue;
		while ((f = readdir(fds))) {
			char path[320], target[160];
			ssize_t n;
			int id;

			if (f->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", fddir, f->d_name);
			n = readlink(path, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			if ((id = vfio_group_of(target)) < 0)
				continue;
			for (int i = 0; i < c->ngroups; i++) {
				if (c->groups[i].snap.head.group_id != id || !c->groups[i].snap.head.owner)
					continue;
				if (h[i].pid && h[i].pid != pid) {
					h[i].others++;
				} else if (!h[i].pid) {
					h[i].pid = pid;
					read_comm(pid, h[i].comm, sizeof(h[i].comm));
					snprintf(h[i].file, sizeof(h[i].file), "%.47s", target);
				}
			}
		}
		closedir(fds);
	}
	closedir(proc);
}

/* An owner cookie that is a kernel or module data symbol (a driver's own claim). */
static bool owner_symbol(uint64_t owner, char *buf, size_t len)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	char line[256];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char type, name[128], mod[64] = "";
		unsigned long long addr;

		if (sscanf(line, "%llx %c %127s %63s", &addr, &type, name, mod) < 3 || addr != owner || !addr)
			continue;
		if (strchr("dDbBrRgGsS", type)) {
			snprintf(buf, len, "kernel object %.48s%s%.30s", name, mod[0] ? " " : "", mod);
			found = true;
		}
	}
	fclose(f);
	return found;
}

static void find_holders(struct ot_census *c)
{
	struct holder *h;
	bool any = false;

	for (int i = 0; i < c->ngroups; i++)
		any |= c->groups[i].snap.head.owner != 0;
	if (!any || !(h = calloc((size_t)c->ngroups, sizeof(*h))))
		return;
	find_vfio_holders(c, h);
	for (int i = 0; i < c->ngroups; i++) {
		struct ot_census_group *g = &c->groups[i];

		if (!g->snap.head.owner)
			continue;
		if (h[i].pid && h[i].others)
			snprintf(g->holder, sizeof(g->holder), "pid %d (%.20s) and %d more, with %.40s open", h[i].pid,
				 h[i].comm, h[i].others, h[i].file);
		else if (h[i].pid)
			snprintf(g->holder, sizeof(g->holder), "pid %d (%.20s), with %.40s open", h[i].pid, h[i].comm,
				 h[i].file);
		else
			owner_symbol(g->snap.head.owner, g->holder, sizeof(g->holder));
	}
	free(h);
}

int ot_census_take(struct ot_census_taker *t, uint32_t reason, struct ot_census *out, char *err, size_t errlen)
{
	int *ids, n, rc;

	ot_census_clear(out);
	out->ts_ns = ot_now_ns();
	out->reason = reason;
	rc = list_groups(t->root, &ids, &n);
	if (rc) {
		snprintf(err, errlen, "cannot list %s: %s", t->root, strerror(-rc));
		return rc;
	}
	for (int i = 0; i < n; i++) {
		struct ot_census_group *g = ot_census_add(out);

		if (!g) {
			rc = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			break;
		}
		rc = settle(t, ids[i], g);
		if (rc == -ENOENT) {	/* the group went away since the listing */
			out->ngroups--;
			rc = 0;
			continue;
		}
		if (rc) {
			if (rc == -ENODATA)
				snprintf(err, errlen, "reading %s/%d/type produced no snapshot: the census program "
					 "did not run", t->root, ids[i]);
			else
				snprintf(err, errlen, "cannot read %s/%d/type: %s", t->root, ids[i], strerror(-rc));
			break;
		}
	}
	free(ids);
	if (!rc)
		find_holders(out);
	return rc;
}

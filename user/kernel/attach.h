/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Loading the BPF object and attaching it to the kernel, with automatic
 * fallback from fentry/fexit to kprobe/kretprobe. */
#ifndef OT_ATTACH_H
#define OT_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "core/points.h"

struct ot_tracer_opts {
	bool force_kprobes;
	const char *btf_path;		/* custom BTF for CO-RE; NULL = the kernel's */
	unsigned int maxactive;		/* kretprobe instances per CPU-less call site */
	size_t ringbuf_bytes;		/* power of two, >= page size */
	bool hist_only;			/* aggregate latencies, stream no events */
	bool all_stacks;		/* every event's stack, not only those anomalies may cite */
	bool hist;			/* in-kernel latency histograms */
	unsigned int hist_by;		/* enum ot_hist_by */
	uint64_t hist_unit_ns;		/* histogram slot unit: 1000 usecs, 1000000 msecs */
};

/* kretprobes made through tracefs so maxactive is ours and misses readable */
struct ot_retprobe {
	char event[96];			/* "group/name" in kprobe_events */
	bool created;
};

struct ownertrace_bpf;
struct bpf_object;
struct bpf_program;
struct bpf_link;
struct btf;
struct ot_ksyms;

struct ot_tracer {
	struct ownertrace_bpf *skel;
	enum ot_mode mode;
	struct ot_bindings bindings;
	struct bpf_link *links[OT_POINT_COUNT][2];	/* [point][0 entry, 1 exit] */
	struct ot_retprobe retprobes[OT_POINT_COUNT];
	char tracefs[64];		/* "" when tracefs is not mounted */
	int attached;			/* points with both halves attached */
	char fentry_error[256];		/* why fentry/fexit was not used */
	char kprobe_error[256];		/* first kprobe failure */
	int64_t final_misses;		/* kretprobe misses read at stop, -1 unknown */
	uint64_t final_skipped;		/* program runs the kernel skipped, read at stop */
	struct ot_ksyms *ksyms;		/* read only to explain an untraceable function */
	uint64_t load_ns, attach_ns;	/* the mode in use: open + verify, attach (--verbose) */
	int programs;			/* programs loaded in that mode */
	uint64_t verified_insns;	/* the verifier's work on them (kernel 5.16+; 0 unknown) */
};

/*
 * Bind every point to a function of the running kernel from its BTF (which
 * the caller may free afterwards: libbpf parses its own copy at load, and
 * both at once would double the peak memory). Whether the kernel can trace
 * each one by name (kallsyms) is left to the load and attach, which say so
 * without reading all of /proc/kallsyms first. Returns 0 when any point is
 * found; otherwise -ENOENT with a sentence for the user in err.
 */
int ot_tracer_bind(struct ot_tracer *t, const struct btf *btf, char *err, size_t errlen);
/*
 * Load and attach the bound points. Returns 0 when at least one point is
 * attached; otherwise a negative errno with a sentence for the user in err.
 */
int ot_tracer_start(struct ot_tracer *t, const struct ot_tracer_opts *opts, char *err, size_t errlen);
/* The kallsyms table attaching read to explain an untraceable function, if
 * it read one (NULL otherwise); the caller owns it: a run reads it once. */
struct ot_ksyms *ot_tracer_take_ksyms(struct ot_tracer *t);
/* The entry or exit program of a point in the object (NULL if it has none). */
struct bpf_program *ot_find_program(struct bpf_object *obj, unsigned int point, enum ot_mode mode, bool exit);

/* Detach the programs, keep the maps: what is in the ring buffer and the
 * counters can still be read, and nothing is added to them. */
void ot_tracer_detach(struct ot_tracer *t);
/* Detach everything and remove tracefs probes; safe to call twice. */
void ot_tracer_stop(struct ot_tracer *t);

/* The events ring buffer; -ENOENT in a --hist-only run, which streams none. */
int ot_tracer_ringbuf_fd(const struct ot_tracer *t);
/* The durations ring buffer of a --hist-only run; -ENOENT in any other run. */
int ot_tracer_samples_fd(const struct ot_tracer *t);
/* Total count of calls in the in-kernel histograms, per kind (enum ot_hist_kind);
 * -ENOENT (and zero counts) without --hist. */
int ot_tracer_hist_counts(const struct ot_tracer *t, uint64_t counts[]);
/* Sum the per-CPU BPF counters. */
int ot_tracer_read_counters(const struct ot_tracer *t, uint64_t out[]);
/* kretprobe misses so far; -1 when not measurable (fentry mode, no tracefs). */
int64_t ot_tracer_kretprobe_misses(const struct ot_tracer *t);
/*
 * Runs of our programs the kernel skipped so far (bpf_prog_info's
 * recursion_misses, summed): a program is not entered on a CPU where a run
 * of it is already in progress. On a kernel that preempts BPF programs
 * (PREEMPT_LAZY, 7.x's default, or full preemption) that run may be another
 * task's, preempted mid-program, and the call it skipped goes untraced.
 */
uint64_t ot_tracer_skipped_runs(const struct ot_tracer *t);

/* The attach-point table (what --dry-run prints, and start-up notes). */
void ot_tracer_print_points(const struct ot_tracer *t, FILE *f);

#endif

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Prometheus text-format metrics. See prometheus.h; the format is
 * https://prometheus.io/docs/instrumenting/exposition_formats/ and the
 * names follow https://prometheus.io/docs/practices/naming/ (ownertrace_
 * prefix, _total counters, seconds).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/shadow.h"
#include "analysis/census.h"
#include "util/atomic_file.h"
#include "util/self_memory.h"
#include "core/event.h"
#include "util/grow.h"
#include "core/points.h"
#include "output/prometheus.h"

/*
 * Histogram bucket bounds: 10 us to 10 s, 1-2.5-5 per decade. A probe
 * takes from tens of microseconds (a stub driver) to seconds (firmware
 * load, link training); a remove is usually faster. The bounds are
 * integers in ns so a duration lands in its bucket exactly, and the le
 * texts are Go's strconv.FormatFloat(le, 'g', -1, 64), what client_golang
 * would print for the same bounds.
 */
static const uint64_t bucket_ns[] = {
	10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
	25000000, 50000000, 100000000, 250000000, 500000000, 1000000000, 2500000000ULL, 5000000000ULL,
	10000000000ULL,
};
static const char *const bucket_le[] = {
	"1e-05", "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
	"0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
};
#define NBUCKETS (sizeof(bucket_ns) / sizeof(bucket_ns[0]))
_Static_assert(NBUCKETS == sizeof(bucket_le) / sizeof(bucket_le[0]), "a le text per bound");

/* The histograms exported: kinds of ot_hist_kind_of() that are probes or removes. */
enum { LAT_PROBE_OK, LAT_PROBE_FAIL, LAT_REMOVE, LAT_COUNT };

struct latency {
	uint64_t in_bucket[NBUCKETS + 1];	/* not cumulative; [NBUCKETS]: above the last bound */
	uint64_t count;
	uint64_t sum_ns;			/* 2^64 ns is 584 years */
};

/* An escaped name is at most twice as long as a kernel name (48 bytes). */
#define LABEL_LEN (2 * OT_DEV_NAME_LEN + 1)

struct label_head {
	char value[LABEL_LEN];	/* escaped, ready to print between quotes */
};

struct driver_entry {
	struct label_head head;
	uint64_t events[OT_POINT_COUNT][2];	/* [point][phase == exit] */
};

struct latency_entry {
	struct label_head head;
	struct latency lat[LAT_COUNT];
};

/* Label values in sorted order (stable output), each entry starting with its head. */
struct label_table {
	struct label_head **entries;
	int n;
	size_t cap;
	size_t entry_size;
};

struct ot_prom {
	char *path;
	uint64_t interval_ns;
	uint64_t next_write_ns;
	unsigned int hist_by;
	bool live;		/* also what only a live run knows: skipped runs, our own memory */
	bool failing;		/* the last write failed (and said so) */
	struct label_table drivers;	/* struct driver_entry: events by driver */
	struct label_table keys;	/* struct latency_entry: histograms by --hist-by key */
};

void ot_prom_escape(char *dst, size_t len, const char *src, size_t srclen)
{
	size_t o = 0;

	for (size_t i = 0; i < srclen && src[i]; i++) {
		unsigned char c = (unsigned char)src[i];
		const char *esc = c == '\\' ? "\\\\" : c == '"' ? "\\\"" : c == '\n' ? "\\n" : NULL;
		size_t need = esc ? 2 : 1;

		if (o + need >= len)
			break;
		if (esc) {
			memcpy(dst + o, esc, 2);
		} else {
			dst[o] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
		}
		o += need;
	}
	if (len)
		dst[o] = '\0';
}

/* The entry of a label value, created on first use; past OT_PROM_MAX_LABELS, the "(other)" entry. */
static void *label_entry(struct label_table *t, const char *raw, size_t rawlen)
{
	char value[LABEL_LEN];
	int lo = 0, hi = t->n;

	ot_prom_escape(value, sizeof(value), raw, rawlen);
	for (;;) {
		while (lo < hi) {
			int mid = (lo + hi) / 2, c = strcmp(t->entries[mid]->value, value);

			if (!c)
				return t->entries[mid];
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		/* room for OT_PROM_MAX_LABELS names plus the "(other)" one */
		if (t->n < OT_PROM_MAX_LABELS || !strcmp(value, OT_PROM_OTHER_LABEL))
			break;
		snprintf(value, sizeof(value), "%s", OT_PROM_OTHER_LABEL);
		lo = 0, hi = t->n;
	}
	if (ot_grow(&t->entries, &t->cap, (size_t)t->n + 1, sizeof(*t->entries), 16))
		return NULL;
	struct label_head *h = calloc(1, t->entry_size);

	if (!h)
		return NULL;
	memcpy(h->value, value, sizeof(value));
	memmove(&t->entries[lo + 1], &t->entries[lo], (size_t)(t->n - lo) * sizeof(*t->entries));
	t->entries[lo] = h;
	t->n++;
	return h;
}

static void label_table_free(struct label_table *t)
{
	for (int i = 0; i < t->n; i++)
		free(t->entries[i]);
	free(t->entries);
}

struct ot_prom *ot_prom_new(const char *path, double interval_s, unsigned int hist_by, bool live)
{
	struct ot_prom *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->path = strdup(path);
	if (!m->path) {
		ot_prom_free(m);
		return NULL;
	}
	m->interval_ns = (uint64_t)((interval_s > 0 ? interval_s : OT_PROM_DEFAULT_INTERVAL_S) * 1e9);
	m->hist_by = hist_by;
	m->live = live;
	m->drivers.entry_size = sizeof(struct driver_entry);
	m->keys.entry_size = sizeof(struct latency_entry);
	return m;
}

void ot_prom_free(struct ot_prom *m)
{
	if (!m)
		return;
	label_table_free(&m->drivers);
	label_table_free(&m->keys);
	free(m->path);
	free(m);
}

int ot_prom_label_count(const struct ot_prom *m)
{
	return m->drivers.n + m->keys.n;
}

/* ---- accumulating ------------------------------------------------------ */

static int latency_of_kind(int hist_kind)
{
	switch (hist_kind) {
	case OT_HIST_PROBE_OK: return LAT_PROBE_OK;
	case OT_HIST_PROBE_FAIL: return LAT_PROBE_FAIL;
	case OT_HIST_REMOVE: return LAT_REMOVE;
	default: return -1;
	}
}

static void add_duration(struct ot_prom *m, int hist_kind, const char *key, size_t keylen, uint64_t ns)
{
	int lat = latency_of_kind(hist_kind);
	struct latency_entry *e;
	struct latency *l;
	size_t b = 0;

	if (lat < 0 || !(e = label_entry(&m->keys, key, keylen)))
		return;
	l = &e->lat[lat];
	while (b < NBUCKETS && ns > bucket_ns[b])
		b++;
	l->in_bucket[b]++;
	l->count++;
	l->sum_ns += ns;
}

static void on_event(void *ctx, const struct ot_event *ev)
{
	struct ot_prom *m = ctx;
	struct driver_entry *d;
	const char *key;
	size_t keylen;

	if (ev->point >= OT_POINT_COUNT)
		return;
	d = label_entry(&m->drivers, ev->driver, sizeof(ev->driver));
	if (d)
		d->events[ev->point][ev->phase == OT_PHASE_EXIT]++;
	if (ev->ts_ns < ev->entry_ns)
		return;
	key = ot_hist_key_of(ev, m->hist_by, &keylen);
	add_duration(m, ot_hist_kind_of(ev), key, keylen, ev->ts_ns - ev->entry_ns);
}

/* hist-only runs: the durations come without their events, already keyed by --hist-by */
static void on_sample(void *ctx, const struct ot_sample *s)
{
	struct ot_prom *m = ctx;

	add_duration(m, (int)s->kind, s->name, sizeof(s->name), s->duration_ns);
}

/* ---- rendering --------------------------------------------------------- */

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_events(struct ot_prom *m, FILE *f)
{
	header(f, "ownertrace_events_total", "counter",
	       "Traced calls by event (probe_enter, use_default_domain, ...) and driver; only those the "
	       "display filters pass.");
	for (int i = 0; i < m->drivers.n; i++) {
		struct driver_entry *d = (struct driver_entry *)m->drivers.entries[i];
		const char *done[OT_POINT_COUNT * 2];
		int ndone = 0;

		/* bus slots share one event name: one series each, summed */
		for (unsigned int p = 0; p < OT_POINT_COUNT; p++)
			for (int phase = 0; phase < 2; phase++) {
				const char *name = ot_event_name(p, phase ? OT_PHASE_EXIT : OT_PHASE_ENTER);
				uint64_t sum = 0;
				bool seen = false;

				for (int k = 0; k < ndone && !seen; k++)
					seen = !strcmp(done[k], name);
				if (seen)
					continue;
				done[ndone++] = name;
				for (unsigned int q = p; q < OT_POINT_COUNT; q++)
					for (int qphase = 0; qphase < 2; qphase++)
						if (!strcmp(ot_event_name(q, qphase ? OT_PHASE_EXIT : OT_PHASE_ENTER), name))
							sum += d->events[q][qphase];
				if (sum)
					fprintf(f, "ownertrace_events_total{point=\"%s\",driver=\"%s\"} %" PRIu64 "\n", name,
						d->head.value, sum);
			}
	}
}

static void render_anomalies(const struct ot_run *p, FILE *f)
{
	header(f, "ownertrace_anomalies_total", "counter",
	       "Anomalies reported, by kind (see ownertrace(8), ANOMALIES); only those the display filters pass.");
	for (int k = 0; k < OT_AN_KIND_COUNT; k++)
		fprintf(f, "ownertrace_anomalies_total{kind=\"%s\"} %" PRIu64 "\n", ot_anomaly_kind_name(k),
			p->stats.anomalies[k]);
}

static void render_losses(const struct ot_prom *m, const struct ot_run *p, FILE *f)
{
	static const struct {
		int counter;
		const char *name, *help;
	} losses[] = {
		{ OT_CNT_RINGBUF_DROPS, "ownertrace_ringbuf_drops_total",
		  "Events lost because the BPF ring buffer was full (try a larger --ringbuf-size)." },
		{ OT_CNT_STASH_FULL, "ownertrace_inflight_full_total",
		  "Calls not traced because the in-kernel table of calls in flight was full." },
		{ OT_CNT_EXIT_WITHOUT_ENTRY, "ownertrace_exit_without_entry_total",
		  "Function returns whose entry was never seen (started before tracing, or lost)." },
		{ OT_CNT_STACK_FAILED, "ownertrace_stack_failures_total", "Kernel stacks bpf_get_stack() could not take." },
		{ OT_CNT_SAMPLE_DROPS, "ownertrace_sample_drops_total",
		  "Exact durations lost because the sample ring buffer was full (--hist-only)." },
	};
	for (size_t i = 0; i < sizeof(losses) / sizeof(losses[0]); i++) {
		header(f, losses[i].name, "counter", losses[i].help);
		fprintf(f, "%s %" PRIu64 "\n", losses[i].name, p->stats.bpf[losses[i].counter]);
	}
	if (p->stats.kretprobe_misses >= 0) {	/* measurable in kprobe mode only */
		header(f, "ownertrace_kretprobe_misses_total", "counter",
		       "Function returns missed because every kretprobe instance was busy (try a larger --maxactive).");
		fprintf(f, "ownertrace_kretprobe_misses_total %" PRId64 "\n", p->stats.kretprobe_misses);
	}
	if (m->live) {	/* the kernel's count: a recording does not keep it */
		header(f, "ownertrace_skipped_runs_total", "counter",
		       "Runs of ownertrace's programs the kernel skipped because a run of the same program was in "
		       "progress on that CPU (a preempted one): their calls were not traced.");
		fprintf(f, "ownertrace_skipped_runs_total %" PRIu64 "\n", p->stats.skipped_runs);
	}
	header(f, "ownertrace_forgotten_total", "counter",
	       "State the daemon forgot to keep its memory bounded, by what (see ownertrace(8), DAEMON).");
	for (int i = 0; i < OT_FORGOT_COUNT; i++)
		fprintf(f, "ownertrace_forgotten_total{what=\"%s\"} %" PRIu64 "\n", ot_forgotten_names[i], p->forgotten[i]);
}

static int by_group(const void *a, const void *b)
{
	const struct ot_group_state *x = a, *y = b;

	return (x->group > y->group) - (x->group < y->group);
}

static void render_groups(const struct ot_run *p, FILE *f)
{
	struct ot_analysis_footprint fp;
	struct ot_group_state *g = NULL;
	int n = 0;

	ot_analysis_footprint(p->shadow, &fp);
	if (fp.groups && (g = calloc((size_t)fp.groups, sizeof(*g)))) {
		n = ot_analysis_groups(p->shadow, g, fp.groups);
		qsort(g, (size_t)n, sizeof(*g), by_group);
	}
	/* a family's samples must follow its own HELP/TYPE: one loop each */
	header(f, "ownertrace_group_claims", "gauge",
	       "DMA-ownership claims (VFIO/iommufd) of the IOMMU group held now, as ownertrace's shadow sees them.");
	for (int i = 0; i < n; i++)
		fprintf(f, "ownertrace_group_claims{group=\"%d\"} %u\n", g[i].group, g[i].claims);
	header(f, "ownertrace_group_default_domain_uses", "gauge",
	       "Default-domain uses (kernel drivers bound) of the IOMMU group seen taken and held now.");
	for (int i = 0; i < n; i++)
		fprintf(f, "ownertrace_group_default_domain_uses{group=\"%d\"} %u\n", g[i].group, g[i].uses);
	free(g);
}

/*
 * The last census (the start of the run, then every --audit-interval): the
 * kernel's cached owner_cnt and the count recalculated from the devices,
 * for every group judged (an unsettled or truncated one is left out).
 */
static void render_census(const struct ot_run *p, FILE *f)
{
	const struct ot_census_gauge *g;
	int n = 0;
	static const struct {
		const char *name, *help;
	} gauges[] = {
		{ "ownertrace_group_owner_cnt", "owner_cnt of the IOMMU group as the kernel caches it, at the last census." },
		{ "ownertrace_group_owner_cnt_recalculated", "Devices of the IOMMU group bound to kernel DMA drivers at "
		  "the last census: what owner_cnt must be while no claim is held (a claim's owner_cnt counts claims)." },
		{ "ownertrace_group_census_violation", "1 if the last census found the IOMMU group's owner_cnt leaked "
		  "or missing against its devices, else 0." },
	};

	if (!p->census || !ot_census_track_censuses(p->census))
		return;
	g = ot_census_track_gauges(p->census, &n);
	for (size_t k = 0; k < sizeof(gauges) / sizeof(gauges[0]); k++) {
		header(f, gauges[k].name, "gauge", gauges[k].help);
		for (int i = 0; i < n; i++)
			fprintf(f, "%s{group=\"%d\"} %u\n", gauges[k].name, g[i].group,
				k == 0 ? g[i].cached : k == 1 ? g[i].recalculated : (unsigned int)g[i].violation);
	}
	header(f, "ownertrace_census_violations_total", "counter",
	       "IOMMU groups found with a leaked or missing owner_cnt, summed over every census of the run.");
	fprintf(f, "ownertrace_census_violations_total %" PRIu64 "\n", ot_census_track_violations(p->census));
	header(f, "ownertrace_censuses_total", "counter", "Censuses of every IOMMU group taken (start and audits).");
	fprintf(f, "ownertrace_censuses_total %" PRIu64 "\n", ot_census_track_censuses(p->census));
}

static void render_histogram(struct ot_prom *m, FILE *f, const char *name, int lat, const char *extra)
{
	const char *label = ot_hist_by_name(m->hist_by);

	for (int i = 0; i < m->keys.n; i++) {
		struct latency_entry *e = (struct latency_entry *)m->keys.entries[i];
		const struct latency *l = &e->lat[lat];
		uint64_t cumulative = 0;

		if (!l->count)
			continue;
		for (size_t b = 0; b < NBUCKETS; b++) {
			cumulative += l->in_bucket[b];
			fprintf(f, "%s_bucket{%s=\"%s\"%s,le=\"%s\"} %" PRIu64 "\n", name, label, e->head.value, extra,
				bucket_le[b], cumulative);
		}
		fprintf(f, "%s_bucket{%s=\"%s\"%s,le=\"+Inf\"} %" PRIu64 "\n", name, label, e->head.value, extra,
			l->count);
		fprintf(f, "%s_sum{%s=\"%s\"%s} %" PRIu64 ".%09" PRIu64 "\n", name, label, e->head.value, extra,
			l->sum_ns / UINT64_C(1000000000), l->sum_ns % UINT64_C(1000000000));
		fprintf(f, "%s_count{%s=\"%s\"%s} %" PRIu64 "\n", name, label, e->head.value, extra, l->count);
	}
}

/*
 * Our own footprint, read at each write: a fleet alerts on a daemon that
 * grows. Not process_resident_memory_bytes: node_exporter exports its own
 * under that name, and the textfile collector refuses a duplicate.
 */
static void render_self(FILE *f)
{
	struct ot_self_memory mem;

	if (!ot_self_memory(&mem))
		return;
	header(f, "ownertrace_resident_memory_bytes", "gauge",
	       "Resident memory of this ownertrace process (VmRSS) when the file was written.");
	fprintf(f, "ownertrace_resident_memory_bytes %ld\n", mem.rss_kib * 1024);
	header(f, "ownertrace_peak_resident_memory_bytes", "gauge",
	       "Most resident memory of this ownertrace process since it started (VmHWM).");
	fprintf(f, "ownertrace_peak_resident_memory_bytes %ld\n", mem.peak_kib * 1024);
}

void ot_prom_render(struct ot_prom *m, const struct ot_run *p, FILE *f)
{
	render_events(m, f);
	render_anomalies(p, f);
	render_losses(m, p, f);
	render_groups(p, f);
	render_census(p, f);
	header(f, "ownertrace_probe_duration_seconds", "histogram",
	       "Time in really_probe, by --hist-by key (driver by default) and result (ok: returned 0).");
	render_histogram(m, f, "ownertrace_probe_duration_seconds", LAT_PROBE_OK, ",result=\"ok\"");
	render_histogram(m, f, "ownertrace_probe_duration_seconds", LAT_PROBE_FAIL, ",result=\"error\"");
	header(f, "ownertrace_remove_duration_seconds", "histogram",
	       "Time in device_release_driver_internal (driver unbind), by --hist-by key (driver by default).");
	render_histogram(m, f, "ownertrace_remove_duration_seconds", LAT_REMOVE, "");
	if (m->live)
		render_self(f);
}

/* ---- writing ----------------------------------------------------------- */

int ot_prom_write(struct ot_prom *m, const struct ot_run *p)
{
	struct ot_atomic_file file;
	const char *step = "create";
	int err;

	err = ot_atomic_file_open(&file, m->path);
	if (!err) {
		ot_prom_render(m, p, file.f);
		err = ot_atomic_file_commit(&file, m->path, &step);
	}
	if (!err) {
		if (m->failing)
			fprintf(stderr, "ownertrace: metrics written to %s again\n", m->path);
		m->failing = false;
		return 0;
	}
	if (!m->failing)
		fprintf(stderr, "ownertrace: cannot %s metrics file %s: %s; check that the directory exists and "
				"ownertrace may write there (the systemd unit needs it in ReadWritePaths=)\n",
			step, m->path, strerror(-err));
	m->failing = true;
	return err;
}

static void on_tick(void *ctx, const struct ot_run *p, uint64_t now_ns)
{
	struct ot_prom *m = ctx;

	if (now_ns < m->next_write_ns)
		return;
	ot_prom_write(m, p);	/* a failure said why; the next interval retries */
	m->next_write_ns = now_ns + m->interval_ns;
}

static int on_finish(void *ctx, const struct ot_run *p, uint64_t end_ns)
{
	(void)end_ns;
	return ot_prom_write(ctx, p) ? -1 : 0;
}

struct ot_sink ot_prom_sink(struct ot_prom *m)
{
	return (struct ot_sink){
		.ctx = m, .event = on_event, .sample = on_sample, .tick = on_tick, .finish = on_finish,
	};
}

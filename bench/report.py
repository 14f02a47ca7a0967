#!/usr/bin/python3
"""Write BENCHMARKS.md from build/bench/results.json (bench/run.py).

Everything between the ANALYSIS markers is hand-written and kept as it is;
the rest, including which targets were missed and by how much, is
regenerated from the numbers and the TARGETS below.
"""
import json
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "build" / "bench" / "results.json"
DOC = REPO / "BENCHMARKS.md"
BEGIN, END = "<!-- ANALYSIS:BEGIN (hand-written, kept by bench/report.py) -->", "<!-- ANALYSIS:END -->"

# (ownertrace configuration, bpftrace configuration) compared per metric
PAIRS = [("ot-fentry", "bt-kfunc", "fentry/fexit"), ("ot-kprobe", "bt-kprobe", "kprobe/kretprobe")]
TARGETS = {  # metric -> (limit, the target as the issue states it)
    "cost": (1 / 3, "BPF cost per program run <= 1/3 of bpftrace's"),
    "startup": (1 / 10, "exec-to-attached <= 1/10 of bpftrace's"),
    "rss": (1 / 10, "peak RSS <= 1/10 of bpftrace's"),
    "overhead": (1.02, "traced bind/unbind cycle <= 1.02x untraced"),
    "replay": (5e6, "replay >= 5 M events/s (one core)"),
    "storm": (0, "storm: received == expected, zero drops, zero anomalies"),
}


def fmt(x, digits=3):
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return f"{x:.{digits}g}" if abs(x) < 1000 else f"{x:,.0f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def verdict(v):
    return {"met": "**met**", "missed": "**MISSED**", "unclear": "**not clear**"}[v]


def spread(xs):
    """median, min, max, and the quartiles (statistics' exclusive method) of xs"""
    xs = sorted(xs)
    q = statistics.quantiles(xs, n=4) if len(xs) >= 2 else [xs[0]] * 3
    return {"median": statistics.median(xs), "min": xs[0], "max": xs[-1], "q1": q[0], "q3": q[2], "n": len(xs)}


def judge(sp, limit, at_most=True):
    """met only when the whole spread is on the right side of the limit;
    missed when the whole spread is on the wrong side; else not clear"""
    lo, hi = sp["min"], sp["max"]
    if at_most:
        return "met" if hi <= limit else "missed" if lo > limit else "unclear"
    return "met" if lo >= limit else "missed" if hi < limit else "unclear"


def fmt_spread(sp, digits=3):
    return (f"{sp['median']:.{digits}f} ({sp['min']:.{digits}f}–{sp['max']:.{digits}f}, "
            f"IQR {sp['q1']:.{digits}f}–{sp['q3']:.{digits}f}, n={sp['n']})")


def round_ratios(o, b, key):
    """ownertrace / bpftrace per round: rounds are interleaved, round i of one
    tool ran next to round i of the other"""
    return [x[key] / y[key] for x, y in zip(o["rounds"], b["rounds"]) if x.get(key) and y.get(key)]


def target_rows(r):
    """(target, what, value text, limit text, verdict, miss explanation) for every target."""
    rows = []
    for kernel, v in vms(r):
        tools = v["tools"]
        for ot, bt, mode in PAIRS:
            if ot not in tools or bt not in tools:
                continue
            o, b = tools[ot], tools[bt]
            for metric, key, unit in (("cost", "ns_per_run", "ns/run"), ("startup", "attach_ms", "ms"),
                                      ("rss", "vm_hwm_kb", "KiB")):
                limit, text = TARGETS[metric]
                ratios = round_ratios(o, b, key)
                if not ratios:
                    continue
                sp = spread(ratios)
                v_ = judge(sp, limit)
                rows.append((text, f"{kernel} {mode}: ownertrace {fmt(o[key])} {unit} vs bpftrace {fmt(b[key])} {unit}",
                             fmt_spread(sp), f"<= {limit:.3f}", v_,
                             f"median ratio {sp['median']:.3f} ({sp['median'] / limit:.2f}x the limit), "
                             f"rounds {sp['min']:.3f}–{sp['max']:.3f}"))
            limit, text = TARGETS["overhead"]
            ratios = [x["traced_cycle_ms"] / x["untraced_cycle_ms"] for x in o["rounds"]]
            sp = spread(ratios)
            rows.append((text, f"{kernel} {mode}: ownertrace {fmt(o['traced_cycle_ms'])} ms vs untraced "
                         f"{fmt(o['untraced_cycle_ms'])} ms (bpftrace: {b['cycle_ratio']:.3f}x)",
                         fmt_spread(sp), f"<= {limit}", judge(sp, limit),
                         f"median {(sp['median'] - 1) * 100:.1f}% slower, rounds "
                         f"{(sp['min'] - 1) * 100:.1f}% to {(sp['max'] - 1) * 100:.1f}%, limit {(limit - 1) * 100:.0f}%"))
    if "replay" in r:
        limit, text = TARGETS["replay"]
        for name in ("human", "json"):
            x = r["replay"][name]
            sp = spread([r["replay"]["events"] / t / 1e6 for t in x["seconds"]])
            eps = x["events_per_s"]
            rows.append((text, f"`replay{' --json' if name == 'json' else ''}`", fmt_spread(sp, 2) + " M/s",
                         ">= 5 M/s", judge(sp, limit / 1e6, at_most=False),
                         f"{eps / 1e6:.2f} M/s, {limit / eps:.1f}x too slow"))
    for kernel, v in vms(r):
        s = v["storm"]
        ok = (not s["mismatches"] and s["events_expected"] == s["events_received"] and s["ringbuf_drops"] == 0
              and s["inflight_full"] == 0 and s["anomalies"] == 0 and s["loop_failures"] == 0)
        rows.append((TARGETS["storm"][1], f"{kernel}: {s['events_received']} of {s['events_expected']} events, "
                     f"{s['ringbuf_drops']} drops, {s['anomalies']} anomalies",
                     "", "exact", "met" if ok else "missed",
                     f"{len(s['mismatches'])} mismatching counts, {s['ringbuf_drops']} drops, "
                     f"{s['anomalies']} anomalies, {s['loop_failures']} loop failures"))
    return rows


def vms(r):
    """(kernel, VM results) of every kernel benchmarked (BENCH_KERNELS)"""
    return list(r.get("vms", {}).items())


def render(r, analysis):
    h, L = r.get("host", {}), []
    L += ["# ownertrace benchmarks", "",
          "Generated by `make bench` (bench/run.py measures, bench/report.py writes this file from",
          "`build/bench/results.json`); only the Analysis section is hand-written. Re-running",
          "`make bench` regenerates everything else. Parameters: `BENCH_T` (storm seconds), `BENCH_N`",
          "(e1000s in the shared IOMMU group), `BENCH_VFIO`, `BENCH_REPEATS`, `BENCH_CYCLES`,",
          "`BENCH_TOOLS`, `BENCH_KERNELS` (e.g. `\"6.1 6.12 7.2\"`, one boot each), `BENCH_ICOUNT`",
          "(QEMU `-icount` suboptions, `off` for plain TCG), `BENCH_SMP`, `BENCH_REPLAY_EVENTS`,",
          "`BENCH_REPLAY_RUNS`, `BENCH_ONLY=vm|replay`.", ""]
    L += ["## Machine", "",
          f"- Host: {h.get('uname', '?')}, {h.get('cpus', '?')} CPUs, run {h.get('date', '?')}; "
          f"load average {fmt(h.get('load_at_start'))} at start, {fmt(h.get('load_at_end'))} at end "
          "(the host is shared with other VM test runs).",]
    for kernel, v in vms(r):
        p = v["params"]
        clock = (f"**icount** (`-icount {p['icount']}`): guest time counts guest instructions, so BPF run "
                 "times are instruction counts, the same whatever the host's load"
                 if p.get("icount") not in (None, "", "off") else
                 "wall-clock guest time: host load inflates BPF run times")
        L += [f"- VM ({kernel}): QEMU **TCG** (software emulation, no KVM), q35 + intel-iommu, {p['smp']} vCPU(s), "
              f"{p['memory']}, Debian kernel {v['kernel']}; {clock}. Absolute times are TCG's and mean",
              "  little: **the ratios between tools measured in the same VM run are what matter**.",
              f"  Functions traced by both tools ({len(v['functions'])}): {', '.join(v['functions'])}."]
    if vms(r):
        L += ["- bpftrace: Debian bookworm's 0.17 (the host's, run in the guest from the host root shared",
              "  read-only over 9p + chroot). One warm-up launch per tool precedes the measured rounds, so",
              "  bpftrace's files are in the guest page cache, not read over 9p, when it is timed.", ""]
    L += ["## Targets", "",
          "Ratios are per round (round i of ownertrace against round i of bpftrace, which ran next to",
          "it): median (min–max, interquartile range, rounds). A target is **met** only when every",
          "round is within the limit, **MISSED** when none is, **not clear** when the rounds straddle it.", "",
          "| target | measured (medians) | ratio: median (min–max, IQR, n) | limit | |", "|---|---|---|---|---|"]
    rows = target_rows(r)
    for text, what, val, limit, ok, _ in rows:
        L.append(f"| {text} | {what} | {val} | {limit} | {verdict(ok)} |")
    missed = [(t, w, why) for t, w, _, _, ok, why in rows if ok != "met"]
    L += ["", "### Missed targets (generated)", ""]
    L += [f"- {t} — {w}: {why}." for t, w, why in missed] or ["None."]
    L += ["", "Why, and what would close each gap: see Analysis below.", ""]
    for kernel, v in vms(r):
        p = v["params"]
        L += [f"## Per tool (VM {kernel}, medians)", "",
              f"{p['repeats']} rounds per tool, tools interleaved; each round: {p['cycles']} untraced "
              f"unbind/bind cycles of one e1000, start the tracer, {p['cycles']} traced cycles, read",
              "bpf_stats of the programs the tracer loaded, read VmHWM, SIGINT. \"Attached\" = the",
              "process holds one BPF link (or perf_event) per entry and exit hook, the same yardstick for",
              "every tool (`benchtool launch`). BPF cost = sum of run_time_ns / sum of run_cnt over the",
              "tool's programs (`kernel.bpf_stats_enabled=1`), both tools hooking the same calls.", "",
              "\"per round\" is the rounds' BPF ns/run, lowest–highest.", "",
              "| tool | BPF ns/run | per round | runs/round | exec-to-attached ms | first (warm-up) ms | VmHWM KiB "
              "| untraced cycle ms | traced cycle ms | traced/untraced |",
              "|---|---|---|---|---|---|---|---|---|---|"]
        for name, t in v["tools"].items():
            c = spread([x["ns_per_run"] for x in t["rounds"] if x["ns_per_run"]])
            L.append(f"| {name} | {fmt(t['ns_per_run'])} | {fmt(c['min'])}–{fmt(c['max'])} | {fmt(t['runs_per_round'])} | {fmt(t['attach_ms'])} | "
                     f"{fmt(t['first_attach_ms'])} | {fmt(t['vm_hwm_kb'])} | {fmt(t['untraced_cycle_ms'])} | "
                     f"{fmt(t['traced_cycle_ms'])} | {t['cycle_ratio']:.3f} |")
        L += ["", "Per program (all rounds pooled; names as the kernel stores them, 15 characters):", "",
              "| tool | program | ns/run | runs |", "|---|---|---|---|"]
        for name, t in v["tools"].items():
            for prog, c in t["per_program"].items():
                if c["runs"]:
                    L.append(f"| {name} | `{prog}` | {fmt(c['ns_per_run'])} | {c['runs']} |")
        s = v["storm"]
        L += ["", f"## Storm ({kernel})", "",
              f"{p['storm_seconds']} s; {p['e1000_loops']} parallel e1000 unbind/bind loops "
              f"({p['shared_group_e1000']} of them in one IOMMU group) and {p['vfio_loops']} VFIO "
              "open/set-container/close loop(s), under `ownertrace --json` at the default ring size. Expected",
              "events are computed from the loops' own success counts (per successful unbind: remove",
              "enter/exit, unbind_cleanup, unuse_default_domain, dma_cleanup; per bind: probe enter/exit,",
              "dma_configure, use_default_domain; per VFIO open/close: group_claim, group_release) and",
              "compared per event kind and device/group with what ownertrace emitted.", "",
              f"- events expected {s['events_expected']}, received {s['events_received']}, mismatching "
              f"counts {len(s['mismatches'])}",
              f"- ring-buffer drops {s['ringbuf_drops']}, in-flight table full {s['inflight_full']}, "
              f"exits without entry {s['exit_without_entry']}",
              f"- anomalies {s['anomalies']} {s['anomaly_kinds'] or ''}",
              f"- loops: " + "; ".join(
                  f"{l['bdf']} {l['unbinds']}/{l['binds']} unbinds/binds" if "bdf" in l
                  else f"VFIO group {l['group']} {l['opens']} opens" for l in s["loops"])
              + f"; failures {s['loop_failures']}", ""]
        for m in s["mismatches"]:
            L.append(f"  - {m['event']} {m['subject']}: expected {m['expected']}, received {m['received']}")
    if "replay" in r:
        rp = r["replay"]
        L += ["## Replay (host)", "",
              f"`build/ownertrace replay [--json] -o /dev/null FILE` pinned to CPU {rp['cpu']} (`taskset`), "
              f"a generated {rp['events']:,}-event recording ({rp['file_bytes'] / 1e9:.2f} GB, "
              "`build/bench/gen_recording`: e1000-like unbind/bind cycles over 8 devices in 3 groups, no",
              f"anomalies), median of {rp['runs']} runs, wall clock, page cache warm.", "",
              "| output | median s | M events/s | runs (s) |", "|---|---|---|---|"]
        for name in ("human", "json"):
            x = rp[name]
            L.append(f"| {name} | {x['median_s']:.2f} | {x['events_per_s'] / 1e6:.2f} | "
                     f"{', '.join(f'{t:.2f}' for t in x['seconds'])} |")
        L.append("")
    L += ["## Analysis", "", BEGIN, analysis.strip("\n"), END, ""]
    return "\n".join(L)


def main():
    if not RESULTS.exists():
        sys.exit(f"report: {RESULTS} missing: run `make bench` (or bench/run.py) first")
    r = json.loads(RESULTS.read_text())
    analysis = "\n(no analysis written yet)\n"
    if DOC.exists():
        text = DOC.read_text()
        if BEGIN in text and END in text:
            analysis = text.split(BEGIN, 1)[1].split(END, 1)[0]
    DOC.write_text(render(r, analysis))
    print(f"report: wrote {DOC}", file=sys.stderr)


if __name__ == "__main__":
    main()

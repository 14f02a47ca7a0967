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

# the default --ringbuf-size (2 MiB) in records: struct ot_kevent (456 bytes) + the ring's 8-byte header
DEFAULT_RING_RECORDS = (2 << 20) // (456 + 8)
# the daemon's VmRSS may grow this much from its first drained storm to its last and still be "flat"
DAEMON_GROWTH_KIB = 1024

# (ownertrace configuration, bpftrace configuration) compared per metric
PAIRS = [("ot-fentry", "bt-kfunc", "fentry/fexit"), ("ot-kprobe", "bt-kprobe", "kprobe/kretprobe")]
TARGETS = {  # metric -> (limit, the target as the issue states it)
    "cost": (1 / 3, "BPF cost per program run <= 1/3 of bpftrace's"),
    "startup": (1 / 20, "exec-to-attached <= 1/20 of bpftrace's"),
    "rss": (1 / 10, "peak RSS <= 1/10 of bpftrace's"),
    "overhead": (1.02, "traced bind/unbind cycle <= 1.02x untraced"),
    "replay": (5e6, "replay >= 5 M events/s (one core)"),
    "storm": (0, "storm: received == expected, zero drops, zero anomalies"),
    "pressure": (0, "pressure storm: received + counted drops == generated, zero anomalies, each ring size; "
                    "a pace with zero drops at the default ring"),
    "daemon": (DAEMON_GROWTH_KIB, "daemon's steady RSS over a long storm: reported, flat "
                                  f"(VmRSS grows <= {DAEMON_GROWTH_KIB} KiB from the first storm to the last)"),
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
            # judged on CPU time: what one core does, without the waits for
            # the CPU that other load on a shared host adds to wall clock
            cpu = "cpu_seconds" in x
            runs = x["cpu_seconds"] if cpu else x["seconds"]
            sp = spread([r["replay"]["events"] / t / 1e6 for t in runs])
            eps = x["cpu_events_per_s"] if cpu else x["events_per_s"]
            clock = f"CPU time; wall clock {x['events_per_s'] / 1e6:.2f} M/s" if cpu else "wall clock"
            rows.append((text, f"`replay{' --json' if name == 'json' else ''}` ({clock})",
                         fmt_spread(sp, 2) + " M/s", ">= 5 M/s", judge(sp, limit / 1e6, at_most=False),
                         f"median {eps / 1e6:.2f} M/s, runs {sp['min']:.2f}–{sp['max']:.2f} M/s"))
    for kernel, v in vms(r):
        s = v["storm"]
        ok = (not s["mismatches"] and s["events_expected"] == s["events_received"] and s["ringbuf_drops"] == 0
              and not s.get("skipped_runs") and s["inflight_full"] == 0 and s["anomalies"] == 0 and s["loop_failures"] == 0)
        skipped = f", {s['skipped_runs']} program runs skipped by the kernel" if s.get("skipped_runs") else ""
        rows.append((TARGETS["storm"][1], f"{kernel}: {s['events_received']} of {s['events_expected']} events, "
                     f"{s['ringbuf_drops']} drops{skipped}, {s['anomalies']} anomalies",
                     "", "exact", "met" if ok else "missed",
                     f"{len(s['mismatches'])} mismatching counts, {s['ringbuf_drops']} drops, "
                     f"{s['anomalies']} anomalies, {s['loop_failures']} loop failures"))
    if "pressure" in r:
        ph = r["pressure"]["phases"]
        traced = [n for n in ("storm-default", "storm-tiny") if n in ph]
        default_ring = [n for n in ph if n == "storm-default" or n.startswith("storm-default-g")]
        ok = all(ph[n]["accounted"] and ph[n]["anomalies"] == 0 and ph[n]["inflight_full"] == 0
                 for n in traced + default_ring)
        ok = ok and any(ph[n]["ringbuf_drops"] == 0 for n in default_ring) and ph["storm-tiny"]["ringbuf_drops"] > 0
        what = "; ".join(f"{n[6:]}: {ph[n]['received']:,} + {ph[n]['ringbuf_drops']:,} drops of {ph[n]['calls']:,}, "
                         f"{ph[n]['anomalies']} anomalies" for n in traced)
        rows.append((TARGETS["pressure"][1], what, "", "exact", "met" if ok else "missed",
                     "counts or anomalies off (or the tiny ring forced no drop): see Pressure storm"))
        dm = r["pressure"].get("daemon")
        if dm and dm["rss_kib"]:
            growth = dm["rss_kib"][-1] - dm["rss_kib"][0]
            ok = growth <= DAEMON_GROWTH_KIB and dm["accounted"] and dm["anomalies"] == 0
            rows.append((TARGETS["daemon"][1],
                         f"{r['pressure']['kernel']}: VmRSS {dm['rss_kib'][0]:,} KiB after storm 1, "
                         f"{dm['rss_kib'][-1]:,} after storm {len(dm['rss_kib'])} "
                         f"(max {max(dm['rss_kib']):,}; {dm['calls']:,} calls), VmHWM {dm['hwm_kib']:,}",
                         f"{growth:+,} KiB", f"<= {DAEMON_GROWTH_KIB:,} KiB", "met" if ok else "missed",
                         f"grew {growth:,} KiB; accounted {dm['accounted']}, {dm['anomalies']} anomalies"))
    return rows


def vms(r):
    """(kernel, VM results) of every kernel benchmarked (BENCH_KERNELS)"""
    return list(r.get("vms", {}).items())


def render_pressure(r):
    """The Pressure storm section (a list of lines)."""
    pr = r["pressure"]
    ph = pr["phases"]
    L = ["## Pressure storm", "",
         f"`tests/scenarios/mod-storm.sh` in one TCG boot ({pr['smp']} vCPUs, Debian kernel {pr['kernel']}): "
         f"ot_testmod's storm, one kthread per vCPU, each doing {pr['storm_n']:,} claim/release pairs",
         "(`iommu_group_claim_dma_owner` + `iommu_group_release_dma_owner`) back to back on its own idle",
         "IOMMU group (an edu alone on pcie.0). The module counts its calls (each one traced exit event);",
         "ownertrace `--json` reports what it received and the ring-buffer drops it counted. The same storm",
         f"untraced, traced at the default ring (2 MiB), with `--hist-only`, and at a {pr['tiny_kib']} KiB ring;",
         "if the default ring dropped at full speed, again with a sleep of N µs between pairs",
         "(`storm_gap_us`, phases default-gN) until a pace had no drops.",
         "Rates are guest wall-clock over the whole storm, under TCG (absolute values are slow; compare",
         "the phases with each other).", "",
         "| phase | calls | received | drops | received + drops = calls | anomalies | storm s | "
         "µs per call | events/s received |",
         "|---|---|---|---|---|---|---|---|---|"]
    ladder = sorted((n for n in ph if n.startswith("storm-default-g")), key=lambda n: ph[n]["gap_us"])
    for name in ["storm-untraced", "storm-default", "storm-hist-only", "storm-tiny"] + ladder:
        if name not in ph:
            continue
        p = ph[name]
        if "received" in p:
            rec = f"{p['received']:,}" if name != "storm-hist-only" else "0 (none streamed)"
            acc = "yes" if p["accounted"] else ("n/a" if name == "storm-hist-only" else "**NO**")
            L.append(f"| {name[6:]} | {p['calls']:,} | {rec} | {p['ringbuf_drops']:,} | {acc} | {p['anomalies']} | "
                     f"{p['seconds']:.2f} | {p['ns_per_call'] / 1e3:.1f} | "
                     f"{fmt(p['received_per_s']) if name != 'storm-hist-only' else '-'} |")
        else:
            L.append(f"| {name[6:]} | {p['calls']:,} | - | - | - | - | {p['seconds']:.2f} | "
                     f"{p['ns_per_call'] / 1e3:.1f} | - |")
    L.append("")
    d = ph.get("storm-default")
    if d and d["ringbuf_drops"]:
        L.append(f"- At full speed the default ring dropped {d['ringbuf_drops']:,} of {d['calls']:,} "
                 f"({d['calls_per_s']:,.0f} calls/s generated; all accounted for: "
                 f"{'yes' if d['accounted'] else 'NO'}, {d['anomalies']} anomalies).")
    kept = [ph[n] for n in ["storm-default"] + ladder if n in ph and ph[n]["ringbuf_drops"] == 0]
    if kept:
        k = kept[0]
        L.append(f"- **Sustained with zero drops:** {k['received_per_s']:,.0f} events/s for {k['seconds']:.1f} s "
                 f"({k['received']:,} events, {k['received'] / DEFAULT_RING_RECORDS:.1f}x what the default ring "
                 "holds at once), " + ("the guest's full claim/release speed on every vCPU." if not k["gap_us"]
                                       else f"pairs paced {k['gap_us']} µs apart."))
    elif d:
        L.append("- No pace tried kept the default ring free of drops.")
    t = ph.get("storm-tiny")
    if t:
        L.append(f"- **Forced drops:** at {pr['tiny_kib']} KiB, {t['ringbuf_drops']:,} of {t['calls']:,} events "
                 f"dropped, every one counted ({t['received']:,} + {t['ringbuf_drops']:,} = {t['calls']:,}: "
                 f"{'exact' if t['accounted'] else 'NOT exact'}), {t['anomalies']} anomalies: the shadow "
                 "resynced after each gap instead of reporting the calls it missed.")
    u, h = ph.get("storm-untraced"), ph.get("storm-hist-only")
    if u and d and h:
        od, oh = d["ns_per_call"] - u["ns_per_call"], h["ns_per_call"] - u["ns_per_call"]
        L.append(f"- **`--hist-only` overhead:** {oh / 1e3:.1f} µs per call over untraced, against "
                 f"{od / 1e3:.1f} µs for the default streaming mode "
                 f"({oh / od:.2f} of it)." if od > 0 else
                 f"- **`--hist-only` overhead:** {oh / 1e3:.1f} µs per call over untraced; the default mode "
                 f"measured {od / 1e3:.1f} µs (noise exceeds the overhead at this size).")
    dm = pr.get("daemon")
    if dm and dm["rss_kib"]:
        L.append(f"- **The daemon over {len(dm['rounds'])} storms in a row** (`ownertrace daemon --prometheus`, "
                 f"{dm['calls']:,} calls: {dm['events']:,} events + {dm['ringbuf_drops']:,} counted drops, "
                 f"{'exact' if dm['accounted'] else 'NOT exact'}; {dm['anomalies']} anomalies, "
                 f"{dm['printed']} lines printed): VmRSS after each storm, once its metrics accounted for every "
                 f"call, {', '.join(f'{k:,}' for k in dm['rss_kib'])} KiB; VmHWM {dm['hwm_kib']:,} KiB"
                 + (" (reached at start-up, above every steady reading)" if dm["hwm_kib"] > max(dm["rss_kib"]) else "")
                 + ". Its own gauge `ownertrace_resident_memory_bytes` read "
                 f"{dm['rounds'][-1]['prom_rss_bytes'] // 1024:,} KiB at the last storm's last write.")
    L.append("")
    return L


def sections(doc):
    """The "## " sections of a report by heading: the lines up to the next one."""
    out, cur = {}, None
    for line in doc.splitlines():
        if line.startswith("## "):
            cur = out.setdefault(line, [])
        elif cur is not None:
            cur.append(line)
    return out


def carried_vm(doc):
    """What a replay-only run (BENCH_ONLY=replay) did not measure, kept from the last report
    as it was: the VM's machine lines, target rows and missed targets, and its sections."""
    sec = sections(doc)
    machine = [l for l in sec.get("## Machine", []) if l.strip()]
    targets = sec.get("## Targets", [])
    rows = [l for l in targets if l.startswith("| ") and not l.startswith(("| target ", "| replay "))]
    missed = [l for l in targets if l.startswith("- ") and not l.startswith("- replay ")]
    return {"machine": machine[1:] if machine and machine[0].startswith("- Host:") else machine,
            "rows": [l for l in rows if not l.startswith("| storm")],
            "storm_rows": [l for l in rows if l.startswith("| storm")], "missed": missed,
            "sections": [(h, sec[h]) for h in sec if "(VM" in h or h.startswith("## Storm")],
            "pressure": [("## Pressure storm", sec["## Pressure storm"])] if "## Pressure storm" in sec else []}


def render(r, analysis, carried=None):
    """The report; carried (carried_vm()) stands in for the VM part when r has none."""
    carried = carried if not vms(r) and carried else None
    h, L = r.get("host", {}), []
    L += ["# ownertrace benchmarks", "",
          "Generated by `make bench` (bench/run.py measures, bench/report.py writes this file from",
          "`build/bench/results.json`); only the Analysis section is hand-written. Re-running",
          "`make bench` regenerates everything else. Parameters: `BENCH_T` (storm seconds), `BENCH_N`",
          "(e1000s in the shared IOMMU group), `BENCH_VFIO`, `BENCH_REPEATS`, `BENCH_CYCLES`,",
          "`BENCH_TOOLS`, `BENCH_KERNELS` (e.g. `\"6.1 6.12 7.2\"`, one boot each), `BENCH_ICOUNT`",
          "(QEMU `-icount` suboptions, `off` for plain TCG), `BENCH_SMP`, `BENCH_STORM_N`, `BENCH_TINY_KIB`,",
          "`BENCH_DAEMON_ROUNDS` (the pressure storm's), `BENCH_REPLAY_EVENTS`, `BENCH_REPLAY_RUNS`,",
          "`BENCH_ONLY=vm|pressure|replay`.", ""]
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
    elif carried:
        L += ["- This run measured replay only (`BENCH_ONLY=replay`): the VM figures are the last full "
              "`make bench`'s, carried over."] + [l for l in carried["machine"] if not l.startswith("- This run")] + [""]
    L += ["## Targets", "",
          "Ratios are per round (round i of ownertrace against round i of bpftrace, which ran next to",
          "it): median (min–max, interquartile range, rounds). A target is **met** only when every",
          "round is within the limit, **MISSED** when none is, **not clear** when the rounds straddle it.", "",
          "| target | measured (medians) | ratio: median (min–max, IQR, n) | limit | |", "|---|---|---|---|---|"]
    rows = target_rows(r)
    L += carried["rows"] if carried else []
    for text, what, val, limit, ok, _ in rows:
        L.append(f"| {text} | {what} | {val} | {limit} | {verdict(ok)} |")
    L += carried["storm_rows"] if carried else []
    missed = [(t, w, why) for t, w, _, _, ok, why in rows if ok != "met"]
    L += ["", "### Missed targets (generated)", ""]
    missed_lines = (carried["missed"] if carried else []) + [f"- {t} — {w}: {why}." for t, w, why in missed]
    L += missed_lines or ["None."]
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
              f"exits without entry {s['exit_without_entry']}"
              + (f", program runs skipped by the kernel {s['skipped_runs']}" if "skipped_runs" in s else ""),
              f"- anomalies {s['anomalies']} {s['anomaly_kinds'] or ''}",
              f"- loops: " + "; ".join(
                  f"{l['bdf']} {l['unbinds']}/{l['binds']} unbinds/binds" if "bdf" in l
                  else f"VFIO group {l['group']} {l['opens']} opens" for l in s["loops"])
              + f"; failures {s['loop_failures']}", ""]
        for m in s["mismatches"]:
            L.append(f"  - {m['event']} {m['subject']}: expected {m['expected']}, received {m['received']}")
        if s["mismatches"]:
            L.append("")
    for heading, lines in carried["sections"] if carried else []:
        L += [heading] + lines
    if "pressure" in r:
        L += render_pressure(r)
    else:   # a run without the pressure part keeps the last one's section
        for heading, lines in (carried or {}).get("pressure", []):
            L += [heading] + lines
    if "replay" in r:
        rp = r["replay"]
        L += ["## Replay (host)", "",
              f"`build/ownertrace replay [--json] -o /dev/null FILE` pinned to CPU {rp['cpu']} (`taskset`), "
              f"a generated {rp['events']:,}-event recording ({rp['file_bytes'] / 1e9:.2f} GB, "
              f"{rp['file_bytes'] / rp['events']:.0f} bytes per event, "
              "`build/bench/gen_recording`: e1000-like unbind/bind cycles over 8 devices in 3 groups, no",
              f"anomalies), median of {rp['runs']} runs, page cache warm. Wall clock is what the target "
              "asks; CPU time",
              "(user + system, the child's rusage) is what one core spends, without the waits for the CPU "
              "that other",
              "load on the shared host adds; instructions per event (callgrind, replay of a generated "
              f"{rp.get('callgrind_events') or 0:,}-event",
              "recording) do not depend on the load at all.", "",
              "| output | median wall s | M events/s (wall) | median CPU s | M events/s (CPU) "
              "| instructions/event | runs, wall s | runs, CPU s |", "|---|---|---|---|---|---|---|---|"]
        for name in ("human", "json"):
            x = rp[name]
            ipe = x.get("instructions_per_event")
            cpu = x.get("cpu_seconds")
            L.append(f"| {name} | {x['median_s']:.2f} | {x['events_per_s'] / 1e6:.2f} | "
                     + (f"{x['median_cpu_s']:.2f} | {x['cpu_events_per_s'] / 1e6:.2f} | " if cpu else "n/a | n/a | ")
                     + (f"{ipe:,.0f} | " if ipe else "n/a | ")
                     + f"{', '.join(f'{t:.2f}' for t in x['seconds'])} | "
                     + (f"{', '.join(f'{t:.2f}' for t in cpu)} |" if cpu else "n/a |"))
        L.append("")
    L += ["## Analysis", "", BEGIN, analysis.strip("\n"), END, ""]
    return "\n".join(L)


def update_pressure_only(text, r):
    """The document as it was, with the Pressure storm section and its target rows replaced."""
    lines = text.split("\n")
    mine = (TARGETS["pressure"][1], TARGETS["daemon"][1])
    rows = [x for x in target_rows({"pressure": r["pressure"]}) if x[0] in mine]
    lines = [l for l in lines if not l.startswith(tuple(f"| {t} |" for t in mine))]
    at = max(i for i, l in enumerate(lines) if l.startswith("| ") and i < lines.index("### Missed targets (generated)"))
    lines[at + 1:at + 1] = [f"| {t} | {what} | {val} | {limit} | {verdict(ok)} |" for t, what, val, limit, ok, _ in rows]
    if "## Pressure storm" in lines:
        a = lines.index("## Pressure storm")
        b = next(i for i in range(a + 1, len(lines)) if lines[i].startswith("## "))
        del lines[a:b]
    at = next(i for i, l in enumerate(lines) if l in ("## Replay (host)", "## Analysis"))
    lines[at:at] = render_pressure(r)
    h = r["host"]
    return "\n".join(lines).replace("\n## Pressure storm\n\n", "\n## Pressure storm\n\n"
                                    f"Measured {h['date']} (load average {fmt(h['load_at_start'])} at start), "
                                    "separately from the sections above (`BENCH_ONLY=pressure`).\n\n", 1)


def main():
    if not RESULTS.exists():
        sys.exit(f"report: {RESULTS} missing: run `make bench` (or bench/run.py) first")
    r = json.loads(RESULTS.read_text())
    analysis, carried = "\n(no analysis written yet)\n", None
    text = DOC.read_text() if DOC.exists() else ""
    if BEGIN in text and END in text:
        analysis = text.split(BEGIN, 1)[1].split(END, 1)[0]
    if text:
        carried = carried_vm(text.split(BEGIN, 1)[0])
    if "pressure" in r and not (vms(r) and "replay" in r) and "## Targets" in text:
        # a BENCH_ONLY=pressure run: only its section and its target row are new
        DOC.write_text(update_pressure_only(text, r))
    else:
        DOC.write_text(render(r, analysis, carried))
    print(f"report: wrote {DOC}", file=sys.stderr)


if __name__ == "__main__":
    main()

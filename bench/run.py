#!/usr/bin/python3
"""ownertrace benchmarks: `make bench` runs this, then bench/report.py.

Three parts, all written to build/bench/results.json:
  vm        one boot of the TCG testbed (tests/vm/harness.py) running
            bench/guest/bench.sh: storm, BPF cost, startup, RSS, bind/unbind
            overhead, for ownertrace and bpftrace side by side;
  pressure  one boot running tests/scenarios/mod-storm.sh: ot_testmod's
            claim/release storm on every vCPU, untraced, under ownertrace at
            the default ring size, under --hist-only and at a tiny ring;
  replay    on the host: events/s of `ownertrace replay` over a generated
            recording, human and --json output, one core: wall and CPU time,
            and callgrind's instructions per event (load-independent).
Every parameter has a BENCH_* environment twin so `make bench` can pass them.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "vm"))
import harness  # noqa: E402
import vmrun  # noqa: E402 (puts tests/ on the path too)
import promtext  # noqa: E402

BUILD = REPO / "build"
OUT = Path(os.environ.get("BENCH_OUT", BUILD / "bench"))   # results, guest files, the VM run
TOOLS_DIR = BUILD / "bench"                                 # benchtool, gen_recording
TOOLS = "ot-fentry ot-kprobe bt-kfunc bt-kprobe"


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def env(name, default):
    return os.environ.get(f"BENCH_{name}", default)


# --------------------------------------------------------------------------
# VM part

def topology(shared_e1000: int, vfio_edus: int, results_dir: Path) -> list:
    """The default topology plus: more e1000s behind the bridge (one shared
    IOMMU group), edus on pcie.0 (a group each, for VFIO), the host root
    read-only (bpftrace runs from it) and the results directory, over 9p."""
    args = []
    for i in range(shared_e1000 - 1):          # the default topology has one
        nd, addr = f"bn{i}", 0x3 + i
        args += ["-netdev", f"user,id={nd},restrict=on",
                 "-device", f"e1000,netdev={nd},bus=br0,addr={addr:#x},mac=52:54:00:00:02:{addr:02x}"]
    for i in range(vfio_edus):
        args += ["-device", f"edu,bus=pcie.0,addr={0x10 + i:#x}"]
    args += ["-fsdev", "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap",
             "-device", "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot,bus=pcie.0,addr=0x8",
             "-fsdev", f"local,id=results,path={results_dir},security_model=none",
             "-device", "virtio-9p-pci,fsdev=results,mount_tag=results,bus=pcie.0,addr=0x9"]
    return args


def boot(what: str, also_see, **run_args):
    """One benchmark guest (harness.run); exits the bench, saying where to
    look, if it failed or the kernel splatted."""
    t0 = time.monotonic()
    res = harness.run(**run_args)
    log(f"{what} {'passed' if res.ok else 'FAILED'} in {time.monotonic() - t0:.0f}s: {res.reason}")
    see = f"{res.out_dir}/console.log" + (f" and {also_see}" if also_see else "")
    if not res.ok:
        print(res.failure_report(), file=sys.stderr)
        sys.exit(f"bench: the {what} failed; see {see}")
    if res.splats:
        sys.exit(f"bench: kernel splats in the {what}: {res.splats[:3]}; see {see}")
    return res


def run_vm(a) -> Path:
    guest = OUT / "guest"
    guest.mkdir(parents=True, exist_ok=True)
    for f in guest.iterdir():
        f.unlink()
    conf = OUT / "ot-bench.conf"
    conf.write_text(f"STORM_SECONDS={a.seconds}\nSTORM_VFIO={a.vfio}\nREPEATS={a.repeats}\n"
                    f"CYCLES={a.cycles}\nTOOLS='{a.tools}'\n")
    needed = [harness.ownertrace_binary(),     # OT_BINARY: a build to compare
              BUILD / "helpers" / "vfio_group_open", TOOLS_DIR / "benchtool"]
    for f in needed:
        if not f.is_file():
            sys.exit(f"bench: {f} missing: run `make bench` (it builds everything first)")
    if not Path("/usr/bin/bpftrace").is_file():
        sys.exit("bench: /usr/bin/bpftrace missing on the host: `make bench-deps` (apt-get install bpftrace)")
    # warm-up launch + rounds, each a few bind cycles and one or two tracer
    # starts (bpftrace's take ~10-60 s under TCG), plus the storm
    ntools = len(a.tools.split())
    timeout = 240 + a.seconds + ntools * (a.repeats + 1) * (150 + a.cycles * 3)
    if a.icount not in ("", "off"):
        timeout *= 4    # one slower host thread, not several; guest seconds are instructions
    icount = [] if a.icount in ("", "off") else ["-icount", a.icount]
    log(f"VM run: kernel {a.kernel}, smp {a.smp}, icount {a.icount or 'off'}, storm {a.seconds}s with {a.shared_e1000 + 1} e1000 loops "
        f"({a.shared_e1000} in one group) + {a.vfio} VFIO loops; {a.repeats} rounds x {a.cycles} cycles "
        f"of {a.tools} (guest limit {timeout}s)")
    boot("VM run", f"{guest}/", kernel=a.kernel, scenario=str(REPO / "bench" / "guest" / "bench.sh"),
         smp=a.smp, timeout=timeout, memory=a.memory,
         qemu_args=icount + topology(a.shared_e1000, a.vfio, guest),
         modules=["9p", "9pnet_virtio", "virtio_pci"],
         guest_files=[(TOOLS_DIR / "benchtool", "/bin/benchtool"),
                      (BUILD / "helpers" / "vfio_group_open", "/bin/vfio_group_open"),
                      (REPO / "bench" / "guest" / "gen-bpftrace.sh", "/lib/ot/bench/gen-bpftrace.sh"),
                      (conf, "/etc/ot-bench.conf")],
         out_dir=OUT / "vm-run")
    return guest


def read_json(path: Path):
    return json.loads(path.read_text())


def read_launch(path: Path) -> dict:
    return dict(kv.split("=") for kv in path.read_text().split())


def read_rss_kb(path: Path) -> dict:
    out = {}
    for line in path.read_text().splitlines():
        k, v = line.split(":", 1)
        out[k] = int(v.split()[0])
    return out


def attached_functions(dry_run: Path) -> list:
    return [l.split()[1] for l in dry_run.read_text().splitlines()
            if len(l.split()) > 2 and l.split()[2] == "attached"]


def analyse_storm(g: Path) -> dict:
    """Expected events from the loops' own counts vs what ownertrace sent."""
    attached = set(attached_functions(g / "dry-run-fentry.txt"))
    summary, received = None, {}
    for line in (g / "storm.jsonl").read_text().splitlines():
        o = json.loads(line)
        if o.get("type") == "event":
            subject = o["device"] if o.get("device") else f"group {o['group']}"
            key = (o["event"], subject)
            received[key] = received.get(key, 0) + 1
        elif o.get("type") == "summary":
            summary = o
    if summary is None:
        raise SystemExit(f"bench: {g}/storm.jsonl has no summary: the tracer did not finish cleanly")
    # what the kernel calls, per successful sysfs unbind / bind / VFIO open+close
    per_unbind = {"remove_enter": "device_release_driver_internal", "remove_exit": "device_release_driver_internal",
                  "unbind_cleanup": "device_unbind_cleanup", "unuse_default_domain": "iommu_device_unuse_default_domain",
                  "dma_cleanup": "pci_dma_cleanup"}
    per_bind = {"probe_enter": "really_probe", "probe_exit": "really_probe",
                "use_default_domain": "iommu_device_use_default_domain", "dma_configure": "pci_dma_configure"}
    per_vfio = {"group_claim": "iommu_group_claim_dma_owner", "group_release": "iommu_group_release_dma_owner"}
    expected, loops, failures = {}, [], 0
    for f in sorted(g.glob("storm-cycles-*.json")):
        c = read_json(f)
        loops.append({k: c[k] for k in ("bdf", "cycles", "unbinds", "binds", "failures")})
        failures += c["failures"]
        for ev, fn in per_unbind.items():
            if fn in attached:
                expected[(ev, c["bdf"])] = c["unbinds"]
        for ev, fn in per_bind.items():
            if fn in attached:
                expected[(ev, c["bdf"])] = c["binds"]
    for f in sorted(g.glob("storm-vfio-*.json")):
        v = read_json(f)
        loops.append({"group": v["group"], "opens": v["opens"], "failures": v["failures"]})
        failures += v["failures"]
        for ev, fn in per_vfio.items():
            if fn in attached:
                expected[(ev, f"group {v['group']}")] = v["opens"]
    mismatches = [{"event": k[0], "subject": k[1], "expected": expected.get(k, 0), "received": received.get(k, 0)}
                  for k in sorted(set(expected) | set(received)) if expected.get(k, 0) != received.get(k, 0)]
    return {
        "loops": loops, "loop_failures": failures,
        "events_expected": sum(expected.values()), "events_received": sum(received.values()),
        "mismatches": mismatches,
        "ringbuf_drops": summary["ringbuf_drops"], "inflight_full": summary["inflight_full"],
        "exit_without_entry": summary["exit_without_entry"],
        # runs the kernel skipped (a preempted run of the same program): in the text summary only
        "skipped_runs": int(m.group(1)) if (m := re.search(r"^  (\d+) program runs skipped by the kernel",
                                                            (g / "storm.err").read_text(), re.M)) else 0,
        "anomalies": summary["anomalies_total"], "anomaly_kinds": {k: v for k, v in summary["anomalies"].items() if v},
        "duration_s": summary["duration_s"],
        "launch": read_launch(g / "storm.launch"),
    }


def new_progs(before: Path, after: Path) -> list:
    """The tool's programs: loaded between the two snapshots."""
    old = {json.loads(l)["id"] for l in before.read_text().splitlines() if l}
    return [p for p in map(json.loads, after.read_text().splitlines()) if p and p["id"] not in old]


def median(xs):
    return statistics.median(xs) if xs else None


def analyse_tool(g: Path, tool: str, repeats: int) -> dict:
    rounds, untraced, traced = [], [], []
    per_prog = {}
    for rep in range(1, repeats + 1):
        p = f"{tool}-{rep}"
        progs = new_progs(g / f"{p}.progs-before.jsonl", g / f"{p}.progs-after.jsonl")
        run_ns = sum(x["run_time_ns"] for x in progs)
        run_cnt = sum(x["run_cnt"] for x in progs)
        for x in progs:
            acc = per_prog.setdefault(x["name"], [0, 0])
            acc[0] += x["run_time_ns"]
            acc[1] += x["run_cnt"]
        u, t = read_json(g / f"{p}.untraced.json"), read_json(g / f"{p}.traced.json")
        untraced += u["cycle_ns"]
        traced += t["cycle_ns"]
        launch = read_launch(g / f"{p}.launch")
        rss = read_rss_kb(g / f"{p}.rss")
        rounds.append({
            "programs": len(progs), "bpf_run_ns": run_ns, "bpf_run_cnt": run_cnt,
            "ns_per_run": run_ns / run_cnt if run_cnt else None,
            "attach_ms": int(launch["attach_ns"]) / 1e6, "vm_hwm_kb": rss.get("VmHWM"),
            "untraced_cycle_ms": median(u["cycle_ns"]) / 1e6, "traced_cycle_ms": median(t["cycle_ns"]) / 1e6,
        })
    warm = g / f"warmup-{tool}.launch"
    return {
        "rounds": rounds,
        "ns_per_run": median([r["ns_per_run"] for r in rounds if r["ns_per_run"]]),
        "runs_per_round": median([r["bpf_run_cnt"] for r in rounds]),
        "attach_ms": median([r["attach_ms"] for r in rounds]),
        "first_attach_ms": int(read_launch(warm)["attach_ns"]) / 1e6 if warm.exists() else None,
        "vm_hwm_kb": median([r["vm_hwm_kb"] for r in rounds]),
        "untraced_cycle_ms": median(untraced) / 1e6, "traced_cycle_ms": median(traced) / 1e6,
        "cycle_ratio": median(traced) / median(untraced),
        "per_program": {n: {"ns_per_run": v[0] / v[1] if v[1] else None, "runs": v[1]}
                        for n, v in sorted(per_prog.items())},
    }


def analyse_vm(g: Path, a) -> dict:
    return {
        "kernel": (g / "kernel").read_text().strip(), "guest_cpus": int((g / "cpus").read_text()),
        "functions": attached_functions(g / "dry-run-fentry.txt"),
        "params": {"storm_seconds": a.seconds, "e1000_loops": a.shared_e1000 + 1,
                   "shared_group_e1000": a.shared_e1000, "vfio_loops": a.vfio,
                   "repeats": a.repeats, "cycles": a.cycles, "smp": a.smp, "memory": a.memory,
                   "icount": a.icount},
        "storm": analyse_storm(g),
        "tools": {t: analyse_tool(g, t, a.repeats) for t in a.tools.split()},
    }


# --------------------------------------------------------------------------
# pressure part

PRESSURE_PHASES = "storm-untraced storm-default storm-hist-only storm-tiny storm-ladder storm-daemon"


def run_pressure(a) -> dict:
    a.kernel = a.kernels.split()[0]             # the first BENCH_KERNELS one
    ko, why = vmrun.build_module(a.kernel)
    if ko is None:
        sys.exit(f"bench: {why}")
    conf = OUT / "ot-storm.conf"
    conf.write_text(f"STORM_N={a.storm_n}\nSTORM_PHASES='{PRESSURE_PHASES}'\nSTORM_TINY_KIB={a.tiny_kib}\n"
                    f"STORM_DAEMON_ROUNDS={a.daemon_rounds}\n")
    edus = []
    for i in range(a.pressure_smp):             # one idle group per storm thread
        edus += ["-device", f"edu,bus=pcie.0,addr={0x10 + i:#x}"]
    log(f"pressure VM run: kernel {a.kernel}, smp {a.pressure_smp}, {a.storm_n} claim/release pairs per vCPU, "
        f"phases {PRESSURE_PHASES}, tiny ring {a.tiny_kib} KiB, {a.daemon_rounds} storms under the daemon")
    res = boot("pressure VM run", None, kernel=a.kernel, scenario=str(REPO / "tests" / "scenarios" / "mod-storm.sh"),
               smp=a.pressure_smp, timeout=2400, memory=a.memory, qemu_args=edus,
               guest_files=[(ko, "/lib/ot/ot_testmod.ko"), (vmrun.MODULE_GUEST_LIB, "/lib/ot/mod-lib.sh"),
                            (conf, "/etc/ot-storm.conf")],
               out_dir=OUT / "pressure-run")
    phases = {}
    names = sorted((n[:-len(".storm")] for n in res.artifacts if n.endswith(".storm")),
                   key=lambda n: (not n.startswith("storm-default-g"), int(n.rsplit("-g", 1)[1])
                                  if n.startswith("storm-default-g") else 0, n))
    for name in names:
        counts = {k: int(v) for k, v in (l.split("=", 1) for l in
                                         Path(res.artifacts[f"{name}.storm"]).read_text().split())}
        p = {"gap_us": int(name.rsplit("-g", 1)[1]) if name.startswith("storm-default-g") else 0,
             "calls": counts["calls"], "refused": counts["refused"], "threads": counts["threads"],
             "seconds": counts["ns"] / 1e9, "ns_per_call": counts["ns"] / counts["calls"],
             "calls_per_s": counts["calls"] / (counts["ns"] / 1e9)}
        if f"{name}.summary.jsonl" in res.artifacts:
            objs = [json.loads(l) for l in Path(res.artifacts[f"{name}.summary.jsonl"]).read_text().splitlines()]
            sm = objs[-1]
            p.update({"received": sm["events_total"], "event_lines": counts["event_lines"],
                      "ringbuf_drops": sm["ringbuf_drops"], "inflight_full": sm["inflight_full"],
                      "anomalies": sm["anomalies_total"],
                      "accounted": sm["events_total"] + sm["ringbuf_drops"] == counts["calls"],
                      "received_per_s": sm["events_total"] / (counts["ns"] / 1e9)})
        phases[name] = p
    return {"kernel": res.release, "smp": a.pressure_smp, "storm_n": a.storm_n, "tiny_kib": a.tiny_kib,
            "phases": phases, "daemon": analyse_daemon(res.artifacts, phases.get("storm-daemon"))}


def analyse_daemon(artifacts, phase) -> dict:
    """storm-daemon: the daemon's memory after each storm (drained), and what its metrics accounted for;
    phase: its NAME.storm counts, as read for every phase."""
    if phase is None or "storm-daemon.rss" not in artifacts:
        return None
    rounds = [{k: int(v) for k, v in (kv.split("=", 1) for kv in line.split())}
              for line in Path(artifacts["storm-daemon.rss"]).read_text().splitlines()]
    prom = promtext.parse(Path(artifacts["storm-daemon.prom"]).read_text())
    calls = phase["calls"]
    events = int(promtext.total(prom, "ownertrace_events_total"))
    drops = int(promtext.get(prom, "ownertrace_ringbuf_drops_total"))
    return {"rounds": rounds, "calls": calls, "events": events, "ringbuf_drops": drops,
            "accounted": events + drops == calls,
            "anomalies": int(promtext.total(prom, "ownertrace_anomalies_total")),
            "printed": Path(artifacts["storm-daemon.out"]).read_text().count("\n"),
            "rss_kib": [r["vmrss_kib"] for r in rounds], "hwm_kib": rounds[-1]["vmhwm_kib"] if rounds else None}


# --------------------------------------------------------------------------
# replay part

def generated_recording(events: int) -> Path:
    rec = OUT / f"replay-{events}.otr"
    if not rec.exists():
        log(f"generating a {events}-event recording ({rec})")
        subprocess.run([str(TOOLS_DIR / "gen_recording"), str(events), str(rec) + ".tmp"], check=True)
        os.replace(str(rec) + ".tmp", rec)
    return rec


def timed(cmd) -> tuple:
    """Wall seconds and CPU seconds (user + system, from the child's rusage) of one run."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = p.stderr.read()
    p.stderr.close()
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if p.returncode != 0:
        sys.exit(f"bench: replay exited {p.returncode}: {err[-500:]}")
    return dt, ru.ru_utime + ru.ru_stime


def instructions_per_event(extra: list, events: int):
    """callgrind's instruction count of one replay over a smaller recording, per event: unlike
    seconds, it does not depend on what else the shared host is running. None without valgrind."""
    if not events or not shutil.which("valgrind"):
        return None
    rec = generated_recording(events)
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                        str(BUILD / "ownertrace"), "replay", *extra, "-o", "/dev/null", str(rec)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    m = re.search(r"Collected : (\d+)", p.stderr)
    if p.returncode != 0 or not m:
        log(f"callgrind failed: {p.stderr[-300:]}")
        return None
    return int(m.group(1)) / events


def run_replay(a) -> dict:
    rec = generated_recording(a.replay_events)
    result = {"events": a.replay_events, "file_bytes": rec.stat().st_size, "runs": a.replay_runs,
              "bytes_per_event": rec.stat().st_size / a.replay_events,
              "cpu": os.environ.get("BENCH_REPLAY_CPU", "0"), "callgrind_events": a.replay_callgrind_events}
    for name, extra in (("human", []), ("json", ["--json"])):
        times, cpu = [], []
        for i in range(a.replay_runs):
            cmd = ["taskset", "-c", result["cpu"], str(BUILD / "ownertrace"), "replay", *extra,
                   "-o", "/dev/null", str(rec)]
            dt, ct = timed(cmd)
            times.append(dt)
            cpu.append(ct)
            log(f"replay {name} run {i + 1}/{a.replay_runs}: {dt:.2f}s wall, {ct:.2f}s CPU "
                f"({a.replay_events / dt / 1e6:.2f} M events/s wall, {a.replay_events / ct / 1e6:.2f} on CPU)")
        result[name] = {"seconds": times, "median_s": median(times),
                        "events_per_s": a.replay_events / median(times),
                        "cpu_seconds": cpu, "median_cpu_s": median(cpu),
                        "cpu_events_per_s": a.replay_events / median(cpu),
                        "instructions_per_event": instructions_per_event(extra, a.replay_callgrind_events)}
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernels", default=env("KERNELS", env("KERNEL", "6.1")),
                    help="kernels to boot one after another (tests/vm kernel names: 6.1 6.12 7.2)")
    ap.add_argument("--seconds", type=int, default=int(env("T", "30")), help="storm duration T")
    ap.add_argument("--shared-e1000", type=int, default=int(env("N", "3")),
                    help="e1000s sharing the bridge's IOMMU group (plus one alone: M = N+1 loops)")
    ap.add_argument("--vfio", type=int, default=int(env("VFIO", "1")), help="VFIO open/close loops")
    ap.add_argument("--repeats", type=int, default=int(env("REPEATS", "3")))
    ap.add_argument("--cycles", type=int, default=int(env("CYCLES", "10")), help="bind/unbind cycles per measurement")
    ap.add_argument("--tools", default=env("TOOLS", TOOLS))
    # one vCPU: under icount vCPUs take turns on one thread anyway, and this
    # QEMU (7.2) hangs bringing up a second one with sleep=off
    ap.add_argument("--smp", type=int, default=int(env("SMP", "1")))
    # the pressure storm is a race of vCPUs against the reader: plain TCG, several vCPUs
    ap.add_argument("--pressure-smp", type=int, default=int(env("PRESSURE_SMP", "2")))
    ap.add_argument("--memory", default=env("MEMORY", "2G"))
    # Guest time counts guest instructions (a fixed shift: 2^shift ns each),
    # not host time: a vCPU the loaded host deschedules mid-program no longer
    # inflates bpf_stats' run_time_ns. sleep=off skips idle time instead of
    # waiting for it; align=off never slows the guest to the host's clock.
    # shift=4 (16 ns an instruction), not 0: busy-waits (udelay in e1000's
    # bit-banged EEPROM reads, at every boot and bind) spin for a number of
    # instructions proportional to 2^-shift, and at shift=0 made the boot
    # alone take ~10 G instructions (tens of minutes on a loaded host).
    # Costs single-threaded TCG (vCPUs take turns). "off": plain TCG.
    ap.add_argument("--icount", default=env("ICOUNT", "shift=4,sleep=off,align=off"))
    ap.add_argument("--replay-events", type=int, default=int(env("REPLAY_EVENTS", "10000000")))
    ap.add_argument("--replay-runs", type=int, default=int(env("REPLAY_RUNS", "5")))
    ap.add_argument("--replay-callgrind-events", type=int, default=int(env("REPLAY_CALLGRIND_EVENTS", "200000")),
                    help="events of the recording callgrind counts instructions on (0: skip)")
    ap.add_argument("--daemon-rounds", type=int, default=int(env("DAEMON_ROUNDS", "10")),
                    help="pressure: storms in a row under `ownertrace daemon`, its memory read after each")
    ap.add_argument("--storm-n", type=int, default=int(env("STORM_N", "5000")),
                    help="pressure: claim/release pairs per vCPU (default 5000: 2x the default ring on 2 vCPUs)")
    ap.add_argument("--tiny-kib", type=int, default=int(env("TINY_KIB", "4")), help="pressure: the tiny ring, KiB")
    ap.add_argument("--only", choices=["vm", "pressure", "replay"], default=env("ONLY", None) or None)
    ap.add_argument("--reuse-guest", action="store_true",
                    help="analyse build/bench/guest from the last VM run instead of booting")
    a = ap.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    results_file = OUT / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    results["host"] = {"cpus": os.cpu_count(), "load_at_start": os.getloadavg()[0],
                       "uname": " ".join(os.uname()), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if a.only in (None, "replay"):
        results["replay"] = run_replay(a)
    if a.only in (None, "pressure"):
        results["pressure"] = run_pressure(a)
    if a.only in (None, "vm"):
        results.pop("vm", None)         # one kernel's results, before BENCH_KERNELS
        vms = results.setdefault("vms", {})
        for kernel in a.kernels.split():
            a.kernel = kernel
            guest = OUT / "guest" if a.reuse_guest else run_vm(a)
            vms[kernel] = analyse_vm(guest, a)
            results_file.write_text(json.dumps(results, indent=1) + "\n")   # a kernel done is kept
    results["host"]["load_at_end"] = os.getloadavg()[0]
    results_file.write_text(json.dumps(results, indent=1) + "\n")
    log(f"results: {results_file}")


if __name__ == "__main__":
    main()

"""Smoke scenarios of the core tracer on every kernel of the matrix, x86
and arm64.

One boot per kernel runs tests/scenarios/trace-smoke.sh, which traces
(a) an e1000 unbind + bind and (b) a VFIO group claim + release, each once in
the default attach mode and once with --kprobes (c). The assertions here
check the recorded JSON Lines: sequence, owner_cnt before/after, owner
tokens, return values, names, stacks and the summary. The recordings replay
on the host's (x86) binary exactly as the guest printed them live, so an
arm64 recording is proven to replay identically on x86; the arm64 guests
replay an x86 recording for the reverse direction.

    OT_KERNELS=6.1 /usr/bin/python3 -m pytest -v tests/vm/test_smoke.py
    OT_KERNELS=6.12-arm64 /usr/bin/python3 -m pytest -v tests/vm/test_smoke.py
"""
import re

import pytest

import harness
from vmrun import (ARM64_KERNELS, KERNELS, X86_RECORDING, cached_run, default_mode, facts, jsonl,
                   replay_json, text, vfio_helper)

ALL = KERNELS + ARM64_KERNELS

MODES = ["default", "kprobes"]
OWNERSHIP_EVENTS = {"use_default_domain", "unuse_default_domain", "dma_configure", "dma_cleanup",
                    "group_claim", "group_release", "device_claim", "device_release"}
NO_STACK_BY_DEFAULT = {"dma_cleanup", "unbind_cleanup"}


def smoke_run(kernel):
    files = [vfio_helper(kernel)]
    if harness.arch_of(kernel) == "arm64":
        files.append(f"{X86_RECORDING}:/lib/ot/cross.otr")
    return cached_run("trace-smoke.sh", kernel, timeout=240, guest_files=files)


def vcpus(res):
    """The guest's vCPU count, from the QEMU command the harness ran."""
    m = re.search(r"(?:^| )-smp (\d+)\b", (res.out_dir / "qemu.cmd").read_text())
    assert m, "no -smp in qemu.cmd"
    return int(m.group(1))


def load_trace(res, name):
    """(events, summary, stderr) of one traced workload; exit status must be 0."""
    err = text(res, f"{name}.err")
    assert "exit=0" in err, err
    events, summaries = [], []
    for obj in jsonl(text(res, f"{name}.jsonl")):
        if obj["type"] == "census":
            continue  # the state at the start: tests/vm/test_census_vm.py checks it
        (summaries if obj["type"] == "summary" else events).append(obj)
    assert len(summaries) == 1, summaries
    return events, summaries[0], err


def of_device(events, dev):
    return [e for e in events if e["device"] == dev]


def only(events, name):
    found = [e for e in events if e["event"] == name]
    assert len(found) == 1, f"want one {name}, got {len(found)}: {found}"
    return found[0]


def check_common(events, summary, mode, kernel, cpus, all_stacks):
    want_mode = "kprobe" if mode == "kprobes" else default_mode(kernel)
    assert summary["mode"] == want_mode
    assert summary["ringbuf_drops"] == 0
    assert summary["inflight_full"] == 0
    if want_mode == "kprobe":
        assert summary["kretprobe_misses"] == 0
    assert summary["events_total"] == len(events)
    # correct flows: the ownership analysis must stay silent
    assert summary["anomalies_total"] == 0, summary
    assert not any(e["type"] == "anomaly" for e in events)
    times = [e["ts_ns"] for e in events]
    assert times == sorted(times), "events out of order"
    for e in events:
        assert e["comm"] and e["pid"] > 0 and e["cpu"] < cpus, (cpus, e)
        # never a raw kernel pointer
        for k in ("owner_before", "owner_after"):
            assert e[k] is None or re.fullmatch(r"owner#\d+", e[k]), e
        # stacks are walked where an anomaly may cite them (OT_PF_STACK), the
        # cleanups' only with --stacks or a recording
        if e["event"] in NO_STACK_BY_DEFAULT and not all_stacks:
            assert e["stack_id"] is None, f"cleanup with a stack without --stacks or a recording: {e}"
        elif e["event"] in OWNERSHIP_EVENTS:
            assert e["stack_id"] is not None, f"ownership event without a stack: {e}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kernel", ALL)
def test_rebind_sequence(kernel, mode):
    """(a) e1000 unbind then bind: remove gives the default-domain use back,
    probe takes it again; owner_cnt 1 -> 0 -> 1 and no owner."""
    res = smoke_run(kernel)
    f = facts(res)
    events, summary, _ = load_trace(res, f"rebind-{mode}")
    check_common(events, summary, mode, kernel, vcpus(res), all_stacks=True)   # --stacks
    dev = of_device(events, f["e1000"])
    names = [e["event"] for e in dev]
    assert names == ["remove_enter", "unuse_default_domain", "dma_cleanup", "unbind_cleanup", "remove_exit",
                     "probe_enter", "use_default_domain", "dma_configure", "probe_exit"], names
    group = int(f["group"])
    for e in dev:
        assert e["group"] == group and e["bus"] == "pci" and e["driver"] == "e1000", e
        assert e["owner_before"] is None and e["owner_after"] is None
    unuse = only(dev, "unuse_default_domain")
    assert (unuse["owner_cnt_before"], unuse["owner_cnt_after"]) == (1, 0)
    cleanup = only(dev, "dma_cleanup")
    assert cleanup["function"] == "pci_dma_cleanup"
    assert (cleanup["owner_cnt_before"], cleanup["owner_cnt_after"]) == (1, 0)
    use = only(dev, "use_default_domain")
    assert (use["owner_cnt_before"], use["owner_cnt_after"], use["ret"]) == (0, 1, 0)
    conf = only(dev, "dma_configure")
    assert conf["function"] == "pci_dma_configure"
    assert (conf["owner_cnt_before"], conf["owner_cnt_after"], conf["ret"]) == (0, 1, 0)
    probe = only(dev, "probe_exit")
    assert probe["ret"] == 0 and probe["errno"] is None and probe["duration_ns"] > 0
    remove = only(dev, "remove_exit")
    assert (remove["owner_cnt_before"], remove["owner_cnt_after"]) == (1, 0)
    # the configure nests inside the probe; the use inside the configure
    assert probe["ts_ns"] - probe["duration_ns"] <= conf["ts_ns"] - conf["duration_ns"] <= use["ts_ns"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kernel", ALL)
def test_vfio_claim_release(kernel, mode):
    """(b) VFIO: vfio-pci's bind does not touch owner_cnt (driver_managed_dma);
    attaching the group to a container claims it 0 -> 1 with an owner token,
    closing releases 1 -> 0 with the same token."""
    res = smoke_run(kernel)
    f = facts(res)
    events, summary, _ = load_trace(res, f"vfio-{mode}")
    # the default mode's run is recorded (trace-smoke.sh): every stack
    check_common(events, summary, mode, kernel, vcpus(res), all_stacks=mode == "default")
    group = int(f["group"])

    edu = of_device(events, f["edu"])
    edu_probe = [e for e in edu if e["event"] in ("probe_enter", "probe_exit")]
    assert [e["driver"] for e in edu_probe] == ["vfio-pci", "vfio-pci"], edu_probe
    assert only(edu, "probe_exit")["ret"] == 0
    conf = only(edu, "dma_configure")
    assert (conf["owner_cnt_before"], conf["owner_cnt_after"], conf["ret"]) == (0, 0, 0)
    assert not [e for e in edu if e["event"] in ("use_default_domain", "unuse_default_domain")]

    claim = only(events, "group_claim")
    release = only(events, "group_release")
    for e in (claim, release):
        assert e["group"] == group and e["device"] is None and e["comm"] == "vfio_group_open", e
    assert claim["ret"] == 0
    assert (claim["owner_cnt_before"], claim["owner_cnt_after"]) == (0, 1)
    assert claim["owner_before"] is None and claim["owner_after"] is not None
    assert (release["owner_cnt_before"], release["owner_cnt_after"]) == (1, 0)
    assert release["owner_before"] == claim["owner_after"] and release["owner_after"] is None
    assert claim["ts_ns"] < release["ts_ns"]

    # the sibling e1000 gave its use back before, and took it again after
    sib = of_device(events, f["e1000"])
    assert (only(sib, "unuse_default_domain")["owner_cnt_after"]) == 0
    use = only(sib, "use_default_domain")
    assert (use["owner_cnt_before"], use["owner_cnt_after"]) == (0, 1)
    assert use["ts_ns"] > release["ts_ns"]


@pytest.mark.parametrize("kernel", ALL)
def test_verbose_says_where_start_up_went(kernel):
    """--verbose prints the start-up line: each phase's time, how often
    vmlinux BTF was parsed, the programs loaded (two per attached point) and
    the verifier's work on them, which stays bounded (an unrolled loop over the in-flight calls once made it
    ~7,400 instructions per program, most of ownertrace's load time)."""
    out = text(smoke_run(kernel), "startup")
    m = re.search(r"start-up: BTF ([\d.]+) s \(vmlinux BTF parsed (\d+) times?(, copied from its mapping)?\), "
                  r"load ([\d.]+) s "
                  r"\((\d+) programs, (\d+) instructions verified\), "
                  r"attach ([\d.]+) s; peak RSS (\d+) KiB after BTF, (\d+) attached", out)
    assert m, out
    # libbpf's loads (both attempts where fentry is refused) read the copy discovery parsed
    assert int(m.group(2)) == 1, out
    # 6.16+ lets /sys/kernel/btf/vmlinux be mapped: the one copy is made from the
    # kernel's own, not from a second one read into our memory
    version = tuple(int(x) for x in kernel.split("-")[0].split("."))
    assert bool(m.group(3)) == (version >= (6, 16)), out
    points = re.search(r"(\d+) attach points attached", out)
    assert points, out
    programs, verified = int(m.group(5)), int(m.group(6))
    assert programs == 2 * int(points.group(1)), out
    assert 0 < verified <= 3000 * programs, out
    assert int(m.group(9)) >= int(m.group(8)) > 0, out


@pytest.mark.parametrize("kernel", ALL)
def test_dry_run_reports_every_point(kernel):
    """--dry-run attaches, prints each point's status and detaches. Device-
    centric claims exist from 6.2 on; bus callbacks come from BTF discovery."""
    res = smoke_run(kernel)
    out = text(res, "dry-run")
    assert "exit=0" in out, out
    status = {}
    for line in out.splitlines():
        m = re.match(r"(\S+)\s+(\S+)\s+(attached|missing|refused|present)", line)
        if m:
            status[m.group(2)] = m.group(3)
    for func in ("really_probe", "device_release_driver_internal", "device_unbind_cleanup",
                 "iommu_device_use_default_domain", "iommu_device_unuse_default_domain",
                 "iommu_group_claim_dma_owner", "iommu_group_release_dma_owner",
                 "pci_dma_configure", "pci_dma_cleanup", "platform_dma_configure", "platform_dma_cleanup"):
        assert status.get(func) == "attached", (func, out)
    series = kernel.split("-")[0]
    device_centric = "missing" if series == "6.1" else "attached"
    for func in ("iommu_device_claim_dma_owner", "iommu_device_release_dma_owner"):
        assert status.get(func) == device_centric, (func, out)
    if series == "6.1":
        assert "exists since 6.2" in out
    if harness.arch_of(kernel) == "arm64":
        # the arm64 buses behind an SMMU, found by BTF discovery like the others
        for func in ("amba_dma_configure", "amba_dma_cleanup", "fsl_mc_dma_configure", "fsl_mc_dma_cleanup"):
            assert status.get(func) == "attached", (func, out)
    mode = default_mode(kernel)
    if mode == "kprobe":
        # Debian's arm64 6.1 lacks DYNAMIC_FTRACE_WITH_DIRECT_CALLS: said, then kprobes
        assert re.search(r"fentry/fexit not used: .*not supported by this kernel", out), out
        assert "attached (kprobe/kretprobe" in out
    else:
        assert "attached (fentry/fexit)" in out
    assert re.search(rf"mode: {mode}; \d+ attach points attached; dry run", out)


@pytest.mark.parametrize("kernel", ALL)
def test_device_filter_and_duration(kernel):
    """--device keeps that device's events and its group's claims; --duration
    ends the run by itself with exit 0 and a summary."""
    res = smoke_run(kernel)
    f = facts(res)
    events, summary, err = load_trace(res, "filtered")
    assert events, err
    assert {e["device"] for e in events} <= {f["e1000"], None}
    assert any(e["event"] == "group_claim" for e in events), "group claim of the device's group hidden"
    assert summary["events_total"] > summary["events_shown"] == len(events)
    # duration_s includes the detach; on arm64 under TCG detaching the fentry
    # trampolines alone took 3.7 s idle and 9 s at a load of 8 on 2 cores, and
    # make check runs two guests at once: the bound tells "ended by itself"
    # from "ran until the scenario's timeout killed it", not speed
    assert 7.5 <= summary["duration_s"] <= 8 + 20, summary


@pytest.mark.parametrize("kernel", ALL)
def test_human_output_with_stacks(kernel):
    """Aligned human output, symbolized stacks, clean stop on SIGTERM."""
    res = smoke_run(kernel)
    out = text(res, "human.out")
    err = text(res, "human.err")
    assert "exit=0" in err, err
    assert "ownertrace summary:" in err and "ring-buffer drops" in err
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["TIME(s)", "CPU", "TID", "COMM", "EVENT"]
    use = [l for l in lines if " use_default_domain " in l]
    assert len(use) == 1 and " 0->1 " in use[0], out
    # the stack printed under the use names the bus callback and the probe
    idx = lines.index(use[0])
    stack = []
    for l in lines[idx + 1:]:
        if not l.startswith(" " * 17):
            break
        stack.append(l.strip())
    # ownertrace's own BPF program and trampoline frames are gone and every
    # frame is a named symbol of the real call chain
    assert all(re.fullmatch(r"[\w.]+\+0x[0-9a-f]+( \[\w+\])?", s) for s in stack), stack
    chain = ["iommu_device_use_default_domain+", "pci_dma_configure+", "really_probe+"]
    assert any(stack[0].startswith(c) for c in chain), stack
    assert any(s.startswith("really_probe+") for s in stack), stack
    # really_probe's fexit trampoline leaves its entry-patch return address
    # (really_probe+0x5) right after the body frame (really_probe+0x7f):
    # dropped, so really_probe is there once and its real caller follows
    funcs = [s.split("+")[0] for s in stack]
    assert funcs.count("really_probe") == 1, stack
    assert funcs[funcs.index("really_probe") + 1] == "__driver_probe_device", stack
    if kernel == "6.1" or harness.arch_of(kernel) == "arm64":
        # 6.1's unwinder steps through fentry trampolines, and so does
        # arm64's (6.12), once the trampoline frames are dropped; arm64 6.1
        # traces with kprobes, where the caller comes from the link register:
        # the full chain, starting in the traced function itself
        assert stack[0].startswith(chain[0]) and stack[1].startswith(chain[1]), stack


# the first frames of the stack of a use_default_domain (caller: the bus
# callback) and of a probe_enter (caller: __driver_probe_device) in each mode
CALLERS = {"use_default_domain": ("iommu_device_use_default_domain+", "pci_dma_configure+"),
           "probe_enter": ("really_probe+", "__driver_probe_device+")}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kernel", ARM64_KERNELS)
def test_stacks_name_the_immediate_caller(kernel, mode):
    """arm64, --stacks in JSON, in both attach modes: every frame a symbol
    (arm64's _etext is a data symbol: the BPF program and trampoline frames
    must still be dropped), no kretprobe trampoline, and the stack starts
    traced function, immediate caller (a function-entry kprobe finds the
    return address only in the link register, or, when our kretprobe ran
    first, in its instance). x86 stacks are checked by
    test_human_output_with_stacks; in x86 kprobe mode a tail call whose
    caller is kretprobed leaves arch_rethook_trampoline+0x0 in its place
    (README, Known limits)."""
    res = smoke_run(kernel)
    f = facts(res)
    events, _, _ = load_trace(res, f"rebind-{mode}")
    for name, (func, caller) in CALLERS.items():
        ev = [e for e in of_device(events, f["e1000"]) if e["event"] == name]
        assert len(ev) == 1, (name, ev)
        stack = ev[0]["stack"]
        assert stack and all(re.fullmatch(r"[\w.]+\+0x[0-9a-f]+( \[\w+\])?", s) for s in stack), stack
        assert not any("kretprobe_trampoline" in s or "rethook" in s for s in stack), stack
        assert stack[0].startswith(func) and stack[1].startswith(caller), (name, mode, stack)
        assert any(s.startswith("really_probe+") for s in stack), stack


@pytest.mark.parametrize("kernel", ALL)
def test_replay_prints_what_live_printed(kernel, tmp_path):
    """A recording replayed on the host gives byte-identical JSON Lines:
    events, owner tokens, relative times, summary."""
    res = smoke_run(kernel)
    rec = res.artifacts["vfio-default.otr"]
    live = text(res, "vfio-default.jsonl")
    out = tmp_path / "replay.jsonl"
    p = replay_json(rec, out)
    assert p.returncode == 0, p.stderr
    assert out.read_text() == live
    assert "replaying" in p.stderr and "ownertrace summary" in p.stderr
    # and the guest's own binary replays it the same (on arm64: the host's
    # x86 binary and the arm64 one agree byte for byte)
    assert text(res, "vfio-default.replay.jsonl") == live


@pytest.mark.parametrize("kernel", ARM64_KERNELS)
def test_x86_recording_replays_on_arm64(kernel, tmp_path):
    """The reverse direction: tests/data/vfio-6.1.otr, recorded on x86
    (Debian 6.1 amd64), replayed by the arm64 binary in the arm64 guest,
    prints what the host's x86 binary prints."""
    res = smoke_run(kernel)
    out = tmp_path / "host.jsonl"
    p = replay_json(X86_RECORDING, out)
    assert p.returncode == 0, p.stderr
    assert text(res, "cross.replay.jsonl") == out.read_text()
    jsonl(out.read_text())

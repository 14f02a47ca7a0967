"""The deliberately buggy test module (tests/module/ot_testmod.c) on the VM matrix.

For every kernel in OT_KERNELS (default "6.1 6.12 7.2 6.1-arm64 6.12-arm64"):
  * test_build: tests/module/build.sh KERNEL builds ot_testmod.ko against the
    Debian headers of exactly that kernel (vermagic must match its release);
  * test_scenario: every tests/scenarios/mod-*.sh runs in one VM boot each
    (mod-concurrent with 2 vCPUs). Asserted: the verdict (the scenarios check
    what the KERNEL did: dmesg lines, bind results, owner_cnt back to 0 ...),
    the kernel splats (none, except the one WARN of mod-double-release), and
    the raw events of ownertrace's JSON Lines artifact, and its verdict:
    every buggy mode flagged with the right kind and culprit, zero anomalies
    for the correct flows, and every kernel WARN matched by a flagged call.

  * arm64 only, test_platform: tests/scenarios/mod-platform.sh, the module
    as a platform driver of the DTB's ot-test node (an `iommus` property:
    behind the SMMU): its first probe, during which the group appears, has
    the group on every event; probe_fail, claim_leak and double_release on
    platform_dma_configure/platform_dma_cleanup, flagged like on PCI.

    OT_KERNELS=6.1 /usr/bin/python3 -m pytest -v tests/vm/test_module_build.py
"""
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
import harness  # noqa: E402
import vmrun  # noqa: E402

from vmrun import ARM64_KERNELS, KERNELS, exit_status, facts, jsonl, text  # noqa: E402
SCENARIO_DIR = REPO / "tests" / "scenarios"
ALL = KERNELS + ARM64_KERNELS
# mod-latency.sh belongs to tests/vm/test_latency_vm.py, mod-gate.sh to tests/vm/test_gate_vm.py,
# mod-storm.sh to tests/vm/test_storm_vm.py, mod-platform.sh (arm64) to test_platform below
OWN_TEST_FILE = {"mod-latency", "mod-gate", "mod-storm", "mod-platform"}
SCENARIOS = sorted(p.stem[len("mod-"):] for p in SCENARIO_DIR.glob("mod-*.sh") if p.stem not in OWN_TEST_FILE)
EXPECTED_WARN = re.compile(r"WARNING: .*(iommu_group_release_dma_owner|__iommu_release_dma_ownership)")
EBUSY = -16



def build_module(kernel):
    ko, why = vmrun.build_module(kernel)
    if ko is None:
        pytest.fail(why, pytrace=False)
    return ko


@pytest.mark.parametrize("kernel", ALL)
def test_build(kernel):
    ko = build_module(kernel)
    release = (harness.fetch_kernel(kernel) / "release").read_text().strip()
    vermagic = subprocess.run(["modinfo", "-F", "vermagic", str(ko)], stdout=subprocess.PIPE,
                              text=True).stdout.strip()
    assert vermagic.split()[0] == release, f"vermagic {vermagic!r} vs kernel {release}"
    lic = subprocess.run(["modinfo", "-F", "license", str(ko)], stdout=subprocess.PIPE, text=True).stdout
    assert lic.strip() == "GPL"


# --------------------------------------------------------------------------
# helpers on the artifacts

def events_of(res, name):
    evs = [o for o in jsonl(text(res, f"{name}.jsonl")) if o["type"] == "event"]
    assert evs, f"{name}.jsonl has no events; ownertrace stderr:\n" + text(res, f"{name}.err")
    return sorted(evs, key=lambda e: e["ts_ns"])


def analysis_of(res, name):
    """(anomalies, summary, exit status) of one traced part of a scenario."""
    objs = jsonl(text(res, f"{name}.jsonl"))
    assert objs and objs[-1]["type"] == "summary", "the run did not end with a summary"
    return [o for o in objs if o["type"] == "anomaly"], objs[-1], exit_status(res, name)


def kinds(anomalies):
    out = {}
    for a in anomalies:
        out[a["kind"]] = out.get(a["kind"], 0) + 1
    return out


def only_kind(anomalies, kind):
    found = [a for a in anomalies if a["kind"] == kind]
    assert len(found) == 1, (kind, anomalies)
    a = found[0]
    assert a["message"] and a["stack"], a  # a sentence and the offending call's stack
    return a


def assert_clean(res, name):
    """A correct flow: no anomaly, exit status 0."""
    anomalies, summary, status = analysis_of(res, name)
    assert not anomalies, [(a["kind"], a["message"]) for a in anomalies]
    assert summary["anomalies_total"] == 0 and status == 0, (summary, status)


def pick(evs, event, **kw):
    return [e for e in evs if e["event"] == event and all(e.get(k) == v for k, v in kw.items())]



# --------------------------------------------------------------------------
# per-scenario checks of the raw events (f = facts: edu sib group lone lgroup)

def check_claim_leak(res, f):
    evs = events_of(res, "claim-leak")
    lg = int(f["lgroup"])
    claims = pick(evs, "group_claim", group=lg)
    assert len(claims) == 1 and claims[0]["ret"] == 0, claims
    assert claims[0]["owner_cnt_before"] == 0 and claims[0]["owner_cnt_after"] == 1, claims
    assert not pick(evs, "group_release", group=lg), "the leaked claim was released during the trace"
    blocked = pick(evs, "probe_exit", device=f["lone"], driver="e1000")
    assert blocked and blocked[-1]["ret"] == EBUSY, blocked
    assert blocked[-1]["ts_ns"] > claims[0]["ts_ns"]
    # verdict: the claim made in the edu's probe outlived its remove, and it
    # is what made the lone e1000's probe fail
    anomalies, summary, status = analysis_of(res, "claim-leak")
    assert kinds(anomalies) == {"leaked_claim": 1, "probe_blocked": 1}, kinds(anomalies)
    assert status == 3
    leak = only_kind(anomalies, "leaked_claim")
    assert (leak["group"], leak["device"], leak["driver"]) == (lg, f["edu"], "ot_testmod"), leak
    # the claiming stack names the culprit module (on kernels whose unwinder
    # skips fentry-traced frames it starts right there, in do_claim)
    assert leak["owner"] and any(fr.endswith("[ot_testmod]") for fr in leak["pair_stack"]), leak["pair_stack"]
    blocked = only_kind(anomalies, "probe_blocked")
    assert (blocked["device"], blocked["other_device"], blocked["other_driver"]) == \
        (f["lone"], f["edu"], "ot_testmod"), blocked
    assert len(blocked["timeline"]) == 5
    held = summary["outstanding_claims"]
    assert len(held) == 1 and held[0]["in_probe_of"] == f["edu"] and held[0]["driver"] == "ot_testmod", held


def check_double_release(res, f):
    evs = events_of(res, "double-release")
    lg = int(f["lgroup"])
    claims = pick(evs, "group_claim", group=lg)
    assert len(claims) == 2 and all(c["ret"] == 0 for c in claims), claims
    rel = pick(evs, "group_release", group=lg)
    assert len(rel) == 4, rel
    for first, second in (rel[0:2], rel[2:4]):
        assert first["owner_cnt_before"] == 1 and first["owner_cnt_after"] == 0, first
        assert second["owner_cnt_before"] == 0 and second["owner_cnt_after"] == 0, second
        assert second["owner_before"] is None, second
    ok = pick(evs, "probe_exit", device=f["lone"], driver="e1000")
    assert len(ok) == 2 and all(e["ret"] == 0 for e in ok), ok
    # the second pair ran inside the edu's remove
    removes = pick(evs, "remove_exit", device=f["edu"], driver="ot_testmod")
    assert len(removes) == 2 and removes[1]["ts_ns"] > rel[3]["ts_ns"] > rel[2]["ts_ns"] > removes[0]["ts_ns"]
    # verdict: each second release is the underflow the kernel WARNed on,
    # charged to the edu and ot_testmod: the probe that made it, then the remove
    anomalies, summary, status = analysis_of(res, "double-release")
    assert kinds(anomalies) == {"underflow": 2}, kinds(anomalies)
    assert status == 3
    under = sorted((a for a in anomalies if a["kind"] == "underflow"), key=lambda a: a["ts_ns"])
    warns = [l for l in res.splats if EXPECTED_WARN.search(l)]
    assert len(warns) == 2, res.splats
    for u, second, first, where, warn in zip(under, (rel[1], rel[3]), (rel[0], rel[2]), ("probe", "remove"), warns):
        assert u["group"] == lg and u["pid"] == second["pid"] and u["ts_ns"] == second["ts_ns"], u
        assert (u["device"], u["driver"]) == (f["edu"], "ot_testmod"), u
        assert f"in the {where} of {f['edu']} (driver ot_testmod)" in u["message"], u["message"]
        assert u["other_device"] == f["edu"], u
        assert u["pair_stack_id"] == first["stack_id"], "paired with the first release"
        assert u["stack"] and any(fr.endswith("[ot_testmod]") for fr in u["stack"]), u["stack"]
        assert_real_callers(u["stack"])
        # the WARN in the guest log is the same call
        assert warn_pid(warn) == u["pid"], (warn, u["pid"])
    # the remove's release is called from the driver core's unbind path
    assert any(fr.startswith("device_release_driver_internal+") for fr in under[1]["stack"]), under[1]["stack"]


def assert_real_callers(stack):
    """No function twice in a row: the fexit trampoline's entry-patch return
    address (really_probe+0x5 after really_probe+0x7f) is dropped, so each
    frame is followed by its real caller."""
    funcs = [fr.split("+")[0] for fr in stack]
    assert all(a != b for a, b in zip(funcs, funcs[1:])), stack


def warn_pid(line):
    """The task a kernel WARNING line names: "WARNING: CPU: 0 PID: 123 at ..."
    up to 6.x, "WARNING: file:line at func+0x.., CPU#0: comm/123" on 7.x."""
    m = re.search(r"\bPID: (\d+) at ", line) or re.search(r", CPU#\d+: .*/(\d+)\s*$", line)
    assert m, f"no task in the WARNING line: {line!r}"
    return int(m.group(1))


def check_late_release(res, f):
    evs = events_of(res, "late-release")
    lg = int(f["lgroup"])
    claims = pick(evs, "group_claim", group=lg)
    assert len(claims) == 1 and claims[0]["ret"] == 0, claims
    remove = pick(evs, "remove_exit", device=f["edu"], driver="ot_testmod")
    assert remove, "no remove_exit of the edu"
    probes = pick(evs, "probe_exit", device=f["lone"], driver="e1000")
    assert [p["ret"] for p in probes] == [EBUSY, 0], probes
    rel = pick(evs, "group_release", group=lg)
    assert len(rel) == 1, rel
    # remove returned -> e1000 probe -EBUSY -> (delayed) release -> e1000 probe ok
    assert remove[-1]["ts_ns"] < probes[0]["ts_ns"] < rel[0]["ts_ns"] < probes[1]["ts_ns"]
    assert rel[0]["comm"] != "sh", f"release should come from a kworker: {rel[0]}"
    # verdict: leak at the edu's remove, the e1000 probe blocked by it, the
    # kworker's late release; a sibling race exactly when the release landed
    # inside another task's probe/remove of a device of that group
    anomalies, summary, status = analysis_of(res, "late-release")
    k = kinds(anomalies)
    assert status == 3
    for kind in ("leaked_claim", "probe_blocked", "late_release"):
        assert k.get(kind) == 1, k
    late = only_kind(anomalies, "late_release")
    assert (late["other_device"], late["other_driver"], late["tid"]) == (f["edu"], "ot_testmod", rel[0]["tid"])
    times = [t["time"] for t in late["timeline"]]
    assert times == sorted(times) and len(times) >= 3
    spans = {}
    raced = False
    for e in evs:
        key = (e["tid"], e["device"])
        if e["event"] in ("probe_enter", "remove_enter"):
            spans[key] = e
        elif e["event"] in ("probe_exit", "remove_exit"):
            spans.pop(key, None)
        elif e is rel[0]:
            raced = any(s["group"] == lg and tid != e["tid"] and dev != f["edu"] for (tid, dev), s in spans.items())
    assert k.get("sibling_race", 0) == (1 if raced else 0), (raced, k)
    assert set(k) <= {"leaked_claim", "probe_blocked", "late_release", "sibling_race"}, k


def check_probe_fail(res, f):
    evs = events_of(res, "probe-fail")
    fails = pick(evs, "probe_exit", device=f["edu"], driver="ot_testmod")
    # driver probe errors come back from really_probe() positive
    assert [e["ret"] for e in fails] == [6, 5], fails
    cleanups = pick(evs, "dma_cleanup", device=f["edu"])
    assert len(cleanups) == 2, cleanups
    for e in cleanups:
        assert e["owner_cnt_after"] == e["owner_cnt_before"] - 1, e
    # a failed probe that cleans up is correct
    assert_clean(res, "probe-fail")


def slept_ns(res, what, dev):
    """How long the module's msleep() took, by its own CLOCK_MONOTONIC (dmesg)."""
    m = re.search(rf"ot_testmod: {what} {re.escape(dev)} slept (\d+) ns", text(res, "dmesg-sleep"))
    assert m, f"no '{what} slept' line in dmesg-sleep"
    return int(m.group(1))


def check_sleep(res, f):
    evs = events_of(res, "sleep")
    p = pick(evs, "probe_exit", device=f["edu"], driver="ot_testmod")
    r = pick(evs, "remove_exit", device=f["edu"], driver="ot_testmod")
    assert len(p) == 1 and p[0]["ret"] == 0, p
    assert len(r) == 1, r
    # the probe/remove span contains the sleep, measured on the same clock
    # (CLOCK_MONOTONIC) by the module itself; and the sleep was about as long
    # as asked (msleep counts jiffies: under TCG the guest's tick can drift a
    # few percent from its clock, hence 95 %, not 100 %)
    for ev, what, want in ((p[0], "probe", 1_500_000_000), (r[0], "remove", 1_200_000_000)):
        slept = slept_ns(res, what, f["edu"])
        assert slept >= want * 0.95, (what, slept)
        assert ev["duration_ns"] >= slept, (what, ev["duration_ns"], slept)
    assert_clean(res, "sleep")


def check_concurrent(res, f):
    evs = events_of(res, "concurrent")
    timing = dict(l.split("=", 1) for l in text(res, "timing").split())
    n = int(timing["iterations"])
    edu = pick(evs, "probe_exit", device=f["edu"], driver="ot_testmod")
    sib = pick(evs, "probe_exit", device=f["sib"], driver="e1000")
    assert len(edu) >= n and all(e["ret"] == 0 for e in edu), [e["ret"] for e in edu]
    assert len(sib) >= n and all(e["ret"] == 0 for e in sib), [e["ret"] for e in sib]
    # two tasks on two vCPUs binding devices of one group: correct, and the
    # racy snapshots must not look like divergence
    assert_clean(res, "concurrent")
    # prove the loops really overlapped: a probe/remove of one device open
    # while the other device's probe/remove ran on another task
    open_spans, overlaps = {}, 0
    for e in evs:
        key = (e["tid"], e["device"])
        if e["event"] in ("probe_enter", "remove_enter"):
            overlaps += any(t != e["tid"] and d != e["device"] for (t, d) in open_spans)
            open_spans[key] = e
        elif e["event"] in ("probe_exit", "remove_exit"):
            open_spans.pop(key, None)
    assert overlaps > 0, "the two loops never overlapped: not a concurrency test"


CHECKS = {
    "claim-leak": check_claim_leak, "double-release": check_double_release,
    "late-release": check_late_release, "probe-fail": check_probe_fail,
    "sleep": check_sleep, "concurrent": check_concurrent,
}


def test_every_scenario_has_its_checks():
    """No boot: the mod-*.sh scenarios found are exactly those CHECKS knows.
    An empty glob would leave test_scenario with no cases, which pytest
    skips rather than fails; a check without its scenario would never run."""
    assert SCENARIOS, f"no mod-*.sh in {SCENARIO_DIR}"
    assert SCENARIOS == sorted(CHECKS), (SCENARIOS, sorted(CHECKS))


def guest_binary(kernel):
    owt = harness.ownertrace_binary(harness.arch_of(kernel))
    if not owt.is_file():
        pytest.fail(f"{owt} missing: run `make` (arm64: `make arm64`) first", pytrace=False)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("kernel", ALL)
def test_scenario(kernel, scenario):
    build_module(kernel)
    guest_binary(kernel)
    res = harness.run(kernel=kernel, scenario=str(SCENARIO_DIR / f"mod-{scenario}.sh"),
                      smp=2 if scenario == "concurrent" else 1, timeout=300,
                      guest_files=vmrun.module_guest_files(kernel))
    print(res.summary())
    assert res.ok, res.failure_report()
    if scenario == "double-release":
        assert res.splats and all(EXPECTED_WARN.search(s) for s in res.splats), \
            f"want exactly the release WARN, got: {res.splats}"
    else:
        assert not res.splats, f"kernel splats: {res.splats}\n{res.failure_report()}"
    check = CHECKS.get(scenario)
    assert check, f"no event checks for mod-{scenario}.sh (add one to CHECKS)"
    check(res, facts(res))


# --------------------------------------------------------------------------
# arm64: the platform bus with a real IOMMU group

def platform_events(res, name, plat):
    return [e for e in events_of(res, name) if e["device"] == plat]


def check_platform_callbacks(evs, pgroup):
    """Every event of the platform device: its bus, its driver, its group,
    and the platform bus callbacks (never the PCI ones)."""
    assert evs
    for e in evs:
        assert (e["bus"], e["driver"], e["group"]) == ("platform", "ot_testmod", pgroup), e
    for e in evs:
        if e["event"] == "dma_configure":
            assert e["function"] == "platform_dma_configure", e
        if e["event"] == "dma_cleanup":
            assert e["function"] == "platform_dma_cleanup", e


@pytest.mark.parametrize("kernel", ARM64_KERNELS)
def test_platform(kernel):
    build_module(kernel)
    guest_binary(kernel)
    res = harness.run(kernel=kernel, scenario=str(SCENARIO_DIR / "mod-platform.sh"), timeout=300,
                      guest_files=vmrun.module_guest_files(kernel))
    print(res.summary())
    assert res.ok, res.failure_report()
    assert res.splats and all(EXPECTED_WARN.search(s) for s in res.splats), \
        f"want exactly the release WARN of plat-double-release, got: {res.splats}"
    f = facts(res)
    plat, pgroup, lg = f["plat"], int(f["pgroup"]), int(f["lgroup"])

    # 1. the first probe: the group appears inside platform_dma_configure, and
    #    every event of that probe carries it (the enter record was held back)
    evs = platform_events(res, "plat-first", plat)
    assert [e["event"] for e in evs] == ["probe_enter", "use_default_domain", "dma_configure", "probe_exit"], evs
    check_platform_callbacks(evs, pgroup)
    conf = pick(evs, "dma_configure")[0]
    assert (conf["owner_cnt_before"], conf["owner_cnt_after"], conf["ret"]) == (0, 1, 0), conf
    assert pick(evs, "probe_exit")[0]["ret"] == 0
    assert_clean(res, "plat-first")

    # 2. probe failure: the default-domain use is given back on the failure path
    evs = platform_events(res, "plat-probe-fail", plat)
    check_platform_callbacks(evs, pgroup)
    assert [e["ret"] for e in pick(evs, "probe_exit")] == [6], evs
    cleanup = pick(evs, "dma_cleanup")
    assert len(cleanup) == 1 and (cleanup[0]["owner_cnt_before"], cleanup[0]["owner_cnt_after"]) == (1, 0)
    assert_clean(res, "plat-probe-fail")

    # 3. the claim made in the platform device's probe leaks, and blocks the lone e1000
    evs = events_of(res, "plat-claim-leak")
    check_platform_callbacks([e for e in evs if e["device"] == plat], pgroup)
    claims = pick(evs, "group_claim", group=lg)
    assert len(claims) == 1 and claims[0]["ret"] == 0, claims
    anomalies, summary, status = analysis_of(res, "plat-claim-leak")
    assert kinds(anomalies) == {"leaked_claim": 1, "probe_blocked": 1}, kinds(anomalies)
    assert status == 3
    leak = only_kind(anomalies, "leaked_claim")
    assert (leak["group"], leak["device"], leak["driver"]) == (lg, plat, "ot_testmod"), leak
    assert any(fr.endswith("[ot_testmod]") for fr in leak["pair_stack"]), leak["pair_stack"]
    blocked = only_kind(anomalies, "probe_blocked")
    assert (blocked["device"], blocked["other_device"], blocked["other_driver"]) == \
        (f["lone"], plat, "ot_testmod"), blocked

    # 4. double release in the platform device's probe: the underflow the kernel WARNed on
    evs = events_of(res, "plat-double-release")
    check_platform_callbacks([e for e in evs if e["device"] == plat], pgroup)
    rel = pick(evs, "group_release", group=lg)
    assert len(rel) == 2 and (rel[1]["owner_cnt_before"], rel[1]["owner_cnt_after"]) == (0, 0), rel
    anomalies, summary, status = analysis_of(res, "plat-double-release")
    assert kinds(anomalies) == {"underflow": 1}, kinds(anomalies)
    assert status == 3
    under = only_kind(anomalies, "underflow")
    assert under["group"] == lg and under["ts_ns"] == rel[1]["ts_ns"], under
    assert any(fr.endswith("[ot_testmod]") for fr in under["stack"]), under["stack"]

"""The regression gate on real kernels (tests/scenarios/mod-gate.sh): one
workload recorded with ot_testmod correct, correct again, slow (30 ms
probe sleep) and buggy (a claim leaked from probe). The live --baseline gate
runs in the guest; `ownertrace diff` runs here on the guest's recordings,
as a CI job would on artifacts.

    OT_KERNELS=6.1 /usr/bin/python3 -m pytest -v tests/vm/test_gate_vm.py
"""
import subprocess

import pytest

from conftest import BUILD
from vmrun import KERNELS, cached_run, exit_status, jsonl, module_guest_files, text

NOISE = ["--min-change", "10ms"]   # TCG jitter; see the scenario


def gate_run(kernel):
    return cached_run("mod-gate.sh", kernel, timeout=400, guest_files=module_guest_files(kernel))


def diff(res, tmp_path, base, cand, *options):
    paths = []
    for name in (base, cand):
        p = tmp_path / f"{name}.otr"
        p.write_bytes(res.artifacts[f"{name}.otr"].read_bytes())
        paths.append(str(p))
    proc = subprocess.run([str(BUILD / "ownertrace"), "diff", *options, *paths], capture_output=True, text=True,
                          timeout=60)
    return proc


def diff_json(res, tmp_path, base, cand, *options):
    proc = diff(res, tmp_path, base, cand, "--json", *options)
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout + proc.stderr
    return proc.returncode, jsonl(lines[0])[0]   # parsed and checked against the JSON Lines schema


def gated(report, category):
    return [f for f in report["findings"] if f["category"] == category and f["gated"]]


@pytest.mark.parametrize("kernel", KERNELS)
def test_workload_ran_each_time(kernel):
    res = gate_run(kernel)
    assert res.ok, res.summary()
    for name in ("gate-base", "gate-again", "gate-slow", "gate-bug"):
        assert "bound=6" in text(res, f"{name}.out"), (name, text(res, f"{name}.out"), text(res, f"{name}.err"))


@pytest.mark.parametrize("kernel", KERNELS)
def test_same_scenario_twice_passes(kernel, tmp_path):
    """Recorded twice with the driver unchanged: the live gate and diff pass."""
    res = gate_run(kernel)
    assert exit_status(res, "gate-base") == 0, text(res, "gate-base.err")
    assert exit_status(res, "gate-again") == 0, text(res, "gate-again.err")
    assert "ownertrace diff: PASS" in text(res, "gate-again.err")
    rc, report = diff_json(res, tmp_path, "gate-base", "gate-again", *NOISE)
    assert rc == 0 and report["verdict"] == "pass", report
    # the edu's probes and removes were compared, and found identical
    assert report["subjects"] >= 2 and report["subjects_unchanged"] == report["subjects"], report
    probe = [l for l in report["latency"] if l["kind"] == "probe_ok" and l["name"] == "ot_testmod"]
    assert probe and probe[0]["enough_samples"] and probe[0]["baseline"]["count"] == 6, report["latency"]


@pytest.mark.parametrize("kernel", KERNELS)
def test_slow_probe_fails_on_latency(kernel, tmp_path):
    """A 30 ms sleep in probe: the live gate exits 3 with a latency finding
    for ot_testmod's probe; the ownership sequences did not change. (Sleep
    mode also calls msleep(0) in remove, which is a jiffy or two, ~10 ms
    under TCG: remove may be flagged too, rightly.)"""
    res = gate_run(kernel)
    assert exit_status(res, "gate-slow") == 3, text(res, "gate-slow.err")
    # the workload's own "bound=6" shares stdout with the JSON stream
    stream = "\n".join(l for l in text(res, "gate-slow.out").splitlines() if l.startswith("{"))
    live = [o for o in jsonl(stream) if o.get("type") == "diff"]
    assert len(live) == 1, text(res, "gate-slow.out")[-2000:]
    for report in (live[0], diff_json(res, tmp_path, "gate-base", "gate-slow", *NOISE)[1]):
        assert report["verdict"] == "fail" and set(report["failed_by"]) == {"latency"}, report
        slow = gated(report, "latency")
        assert {f["subject"] for f in slow} == {"ot_testmod"}, slow
        assert "probe_ok" in {f["what"] for f in slow} and {f["what"] for f in slow} <= {"probe_ok", "remove"}, slow
        lat = [f for f in slow if f["what"] == "probe_ok"][0]["latency"]
        assert lat["candidate"]["p50_s"] - lat["baseline"]["p50_s"] >= 0.030 * 0.75, lat   # TCG: see test_latency_vm
    assert diff(res, tmp_path, "gate-base", "gate-slow", *NOISE).returncode == 3
    # without the latency gate the same pair passes: nothing else differs
    assert diff(res, tmp_path, "gate-base", "gate-slow", "--fail-on", "new-anomaly,sequence-change").returncode == 0


@pytest.mark.parametrize("kernel", KERNELS)
def test_claim_leak_fails_on_anomaly_and_sequence(kernel, tmp_path):
    """The buggy driver claims a group in probe and never releases it: the
    diff fails with the new leaked_claim and the edu's changed probe shape."""
    res = gate_run(kernel)
    assert exit_status(res, "gate-bug") == 3, text(res, "gate-bug.err")
    proc = diff(res, tmp_path, "gate-base", "gate-bug", *NOISE)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("ownertrace diff: FAIL - ") and "new-anomaly" in first, proc.stdout
    assert proc.stdout.index("NEW ANOMALIES") < proc.stdout.index("OWNERSHIP SEQUENCES"), proc.stdout
    rc, report = diff_json(res, tmp_path, "gate-base", "gate-bug", *NOISE)
    assert rc == 3
    assert "leaked_claim" in {f["what"] for f in gated(report, "new-anomaly")}, report["findings"]
    edu = [f for f in gated(report, "sequence-change") if f["subject"].endswith("(ot_testmod)")]
    assert len(edu) == 1, report["findings"]
    added = [s["shape"] for s in edu[0]["shapes"] if s["baseline"] == 0]
    assert any(s.startswith("probe{") and "group_claim=0" in s for s in added), edu[0]["shapes"]

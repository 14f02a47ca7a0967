"""The ownership census on real kernels (tests/scenarios/census-*.sh), one
boot per scenario and kernel, in fentry and kprobe modes:

  census-leak    a count leaked by ot_testmod (mode=use_leak) before any
                 ownertrace runs: `groups` exits 3 naming the group and the
                 device; `trace` reports preexisting_leak before any event and
                 follows the kernel's count exactly; its recording replays
                 byte for byte; a missing count; everything repaired: exit 0
  census-clean   e1000s bound, an edu on vfio-pci held open by
                 vfio_group_open: consistent everywhere, the claim "claimed"
                 and held by the helper; a trace started while held is clean;
                 a test-only walk bound of 2 makes 3-device groups truncated
  census-storm   censuses and a daemon's audits during a bind/unbind storm in
                 one group: never a violation, at most unsettled, then
                 consistent (2 vCPUs)
  census-daemon  owner_cnt written directly (ot_testmod poke, no function
                 called): the daemon's audit reports audit_drift once, and its
                 metrics show cached and recalculated counts apart

Every --json output is checked against the JSON Lines schema (vmrun.jsonl).

    OT_KERNELS=6.1 /usr/bin/python3 -m pytest -v tests/vm/test_census_vm.py
"""
import re
import shutil
import subprocess
import sys

import pytest

from vmrun import (KERNELS, REPO, cached_run, exit_status, facts, jsonl, module_guest_files, replay_json, text,
                   vfio_helper)

sys.path.insert(0, str(REPO / "tests"))
from promtext import get, parse  # noqa: E402

EDU2_QEMU = ["-device", "edu,bus=pcie.0,addr=0x6"]


def leak_run(kernel):
    return cached_run("census-leak.sh", kernel, timeout=300, guest_files=module_guest_files(kernel))


def clean_run(kernel):
    return cached_run("census-clean.sh", kernel, timeout=240, guest_files=[vfio_helper()], qemu_args=EDU2_QEMU)


def storm_run(kernel):
    return cached_run("census-storm.sh", kernel, timeout=300, smp=2, guest_files=module_guest_files(kernel))


def daemon_run(kernel):
    return cached_run("census-daemon.sh", kernel, timeout=240, guest_files=module_guest_files(kernel))


def records(res, name):
    return jsonl(text(res, name))


def census_of(res, name):
    """{group: census record} of a --json output; every line matches the schema."""
    recs = [r for r in records(res, name) if r["type"] == "census"]
    assert recs, f"{name} has no census records"
    by_group = {r["group"]: r for r in recs}
    assert len(by_group) == len(recs), "a group twice in one census"
    return by_group


def groups_status(res, name):
    m = re.search(r"^exit=(\d+)$", text(res, f"{name}.err"), re.M)
    assert m, text(res, f"{name}.err")
    return int(m.group(1))


# ---- a count leaked before ownertrace starts --------------------------------------

@pytest.mark.parametrize("kernel", KERNELS)
def test_groups_names_a_count_leaked_before_tracing(kernel):
    res = leak_run(kernel)
    f = facts(res)
    lg, lone = int(f["lgroup"]), f["lone"]
    for name in ("groups-leak", "groups-leak-json", "groups-leak-kprobes"):
        assert groups_status(res, name) == 3, text(res, f"{name}.err")
    table = text(res, "groups-leak.out")
    assert re.search(rf"^group {lg}: leaked: owner_cnt is 1 but 0 devices .* left by the last driver of "
                     rf"{re.escape(lone)}$", table, re.M), table
    for name in ("groups-leak-json", "groups-leak-kprobes"):
        groups = census_of(res, name + ".out")
        g = groups[lg]
        assert (g["verdict"], g["violation"], g["owner_cnt"], g["recalculated"], g["excess"]) == \
            ("leaked", True, 1, 0, 1), g
        assert g["suspects"] == [lone] and g["owner"] is None and g["reason"] == "groups", g
        assert [(d["device"], d["driver"], d["counts"]) for d in g["devices"]] == [(lone, None, False)]
        assert g["snapshots"] >= 2, "a violation is confirmed by a second snapshot"
        others = {k: v["verdict"] for k, v in groups.items() if k != lg}
        assert others and set(others.values()) == {"consistent"}, others
        # the shared group, read from group->devices: bridge, e1000 (counted), edu
        shared = groups[int(f["group"])]
        assert {d["device"]: d["counts"] for d in shared["devices"]} == \
            {f["sib"]: True, f["edu"]: False, **{d["device"]: False for d in shared["devices"]
                                                 if d["device"] not in (f["sib"], f["edu"])}}
        assert len(shared["devices"]) == 3 and shared["owner_cnt"] == shared["recalculated"] == 1


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("mode", ["fentry", "kprobe"])
def test_trace_reports_the_leak_at_start(kernel, mode):
    res = leak_run(kernel)
    f = facts(res)
    lg, lone = int(f["lgroup"]), f["lone"]
    name = "trace-leak" if mode == "fentry" else "trace-leak-kprobes"
    err = text(res, f"{name}.err")
    assert f"census at start ({mode}): " in err and "1 leaked" in err, err
    assert exit_status(res, name) == 3, err
    recs = records(res, f"{name}.jsonl")
    types = [r["type"] for r in recs]
    anomalies = [r for r in recs if r["type"] == "anomaly"]
    assert [a["kind"] for a in anomalies] == ["preexisting_leak"], anomalies
    a = anomalies[0]
    # the second trace runs after the first one's e1000 bind: the leak is the same, the device bound now
    driver = None if mode == "fentry" else "e1000"
    assert (a["group"], a["device"], a["driver"], a["comm"]) == (lg, lone, driver, "(census)"), a
    assert "already before tracing started" in a["message"]
    assert f"{lone} ({driver or 'no driver'})" in a["message"], a["message"]
    # the census first, then its anomaly, then the events
    first_event = types.index("event") if "event" in types else len(types)
    assert types.index("census") < types.index("anomaly") < first_event
    assert census_of(res, f"{name}.jsonl")[lg]["reason"] == "start"
    summary = recs[-1]
    assert summary["type"] == "summary" and summary["anomalies_total"] == 1
    assert summary["anomalies"]["preexisting_leak"] == 1


@pytest.mark.parametrize("kernel", KERNELS)
def test_record_and_run_report_the_leak_at_start(kernel, tmp_path):
    """record prints anomalies, not census records (as it prints no events),
    but keeps the census: its replay prints both; run exits 3 on the leak
    although the command succeeded."""
    res = leak_run(kernel)
    lg = int(facts(res)["lgroup"])
    for name in ("record-leak", "run-leak"):
        assert "census at start (fentry)" in text(res, f"{name}.err")
        assert groups_status(res, name) == 3, text(res, f"{name}.err")
        recs = records(res, f"{name}.out")
        assert [(r["kind"], r["group"]) for r in recs if r["type"] == "anomaly"] == [("preexisting_leak", lg)]
    assert not [r for r in records(res, "record-leak.out") if r["type"] in ("census", "event")]
    assert census_of(res, "run-leak.out")[lg]["verdict"] == "leaked"
    dest = tmp_path / "replay.jsonl"
    p = replay_json(res.artifacts["record-leak.otr"], dest)
    assert p.returncode == 3, p.stderr
    replayed = jsonl(dest.read_text())
    assert {r["group"]: r["verdict"] for r in replayed if r["type"] == "census"}[lg] == "leaked"
    assert [r["kind"] for r in replayed if r["type"] == "anomaly"] == ["preexisting_leak"]


@pytest.mark.parametrize("kernel", KERNELS)
def test_trace_follows_the_kernel_count_from_the_census(kernel):
    """The e1000 bound during the trace takes owner_cnt 1 -> 2: the shadow
    started from the census's 1, so there is no divergence to report."""
    res = leak_run(kernel)
    f = facts(res)
    evs = [r for r in records(res, "trace-leak.jsonl") if r["type"] == "event"]
    uses = [e for e in evs if e["event"] == "use_default_domain" and e["device"] == f["lone"]]
    assert len(uses) == 1 and (uses[0]["owner_cnt_before"], uses[0]["owner_cnt_after"], uses[0]["ret"]) == (1, 2, 0)
    assert not [r for r in records(res, "trace-leak.jsonl") if r["type"] == "anomaly" and r["kind"] == "divergence"]


@pytest.mark.parametrize("kernel", KERNELS)
def test_replay_reproduces_the_census(kernel, tmp_path):
    res = leak_run(kernel)
    dest = tmp_path / "replay.jsonl"
    p = replay_json(res.artifacts["trace-leak.otr"], dest)
    assert p.returncode == 3, p.stderr
    assert dest.read_text() == text(res, "trace-leak.jsonl")


@pytest.mark.parametrize("kernel", KERNELS)
def test_groups_finds_a_missing_count(kernel):
    """ot_testmod bound to the edu with driver_managed_dma, flipped off while bound."""
    res = leak_run(kernel)
    f = facts(res)
    assert groups_status(res, "groups-missing") == 3
    groups = census_of(res, "groups-missing.out")
    g = groups[int(f["group"])]
    assert (g["verdict"], g["owner_cnt"], g["recalculated"], g["excess"]) == ("missing", 0, 1, -1), g
    assert g["suspects"] == [f["edu"]]
    edu = [d for d in g["devices"] if d["device"] == f["edu"]][0]
    assert (edu["driver"], edu["driver_managed_dma"], edu["counts"]) == ("ot_testmod", False, True)
    # the lone group still carries its leak under the e1000 bound meanwhile
    lg = groups[int(f["lgroup"])]
    assert (lg["verdict"], lg["owner_cnt"], lg["recalculated"]) == ("leaked", 2, 1), lg


@pytest.mark.parametrize("kernel", KERNELS)
def test_repaired_host_is_consistent(kernel):
    res = leak_run(kernel)
    assert groups_status(res, "groups-repaired") == 0
    assert {g["verdict"] for g in census_of(res, "groups-repaired.out").values()} == {"consistent"}
    assert groups_status(res, "groups-final") == 0
    final = text(res, "groups-final.out")
    assert re.search(r"^\d+ IOMMU groups: \d+ consistent$", final, re.M), final


# ---- a clean host with a VFIO claim held --------------------------------------------

@pytest.mark.parametrize("kernel", KERNELS)
def test_clean_host_is_consistent(kernel):
    res = clean_run(kernel)
    assert groups_status(res, "clean-text") == 0 and groups_status(res, "clean-json") == 0
    groups = census_of(res, "clean-json.out")
    assert {g["verdict"] for g in groups.values()} == {"consistent"}
    counted = [d["driver"] for g in groups.values() for d in g["devices"] if d["counts"]]
    assert counted == ["e1000", "e1000"], counted
    assert "violations" not in text(res, "clean-text.out")


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("name", ["held-json", "held-kprobes"])
def test_vfio_claim_shown_held(kernel, name):
    res = clean_run(kernel)
    f = facts(res)
    assert groups_status(res, name) == 0, text(res, f"{name}.err")
    groups = census_of(res, f"{name}.out")
    g = groups[int(f["g2"])]
    assert (g["verdict"], g["violation"], g["owner_cnt"], g["claims"], g["recalculated"]) == \
        ("claimed", False, 1, 1, 0), g
    # blocking while only claimed; the container's own domain once VFIO_SET_IOMMU attached it
    assert re.fullmatch(r"owner#\d+", g["owner"]) and g["domain"] in ("blocking", "unmanaged"), g
    assert re.fullmatch(r"pid \d+ \(vfio_group_open\), with /dev/vfio/%s open" % f["g2"], g["held_by"]), g
    assert [(d["device"], d["driver"], d["driver_managed_dma"], d["counts"]) for d in g["devices"]] == \
        [(f["edu2"], "vfio-pci", True, False)]
    assert {v["verdict"] for k, v in groups.items() if k != int(f["g2"])} == {"consistent"}


@pytest.mark.parametrize("kernel", KERNELS)
def test_vfio_claim_in_the_table(kernel):
    res = clean_run(kernel)
    f = facts(res)
    table = text(res, "held-text.out")
    assert re.search(rf"^group {f['g2']}: claimed: owner_cnt 1: 1 claim for the group's 1 device, held by pid \d+ "
                     rf"\(vfio_group_open\)", table,
                     re.M), table
    assert re.search(r"IOMMU groups: \d+ consistent, 1 claimed$", table, re.M), table


@pytest.mark.parametrize("kernel", KERNELS)
def test_trace_started_while_held_is_clean(kernel):
    res = clean_run(kernel)
    f = facts(res)
    assert exit_status(res, "held-trace") == 0, text(res, "held-trace.err")
    recs = records(res, "held-trace.jsonl")
    assert not [r for r in recs if r["type"] == "anomaly"]
    assert census_of(res, "held-trace.jsonl")[int(f["g2"])]["verdict"] == "claimed"
    release = [r for r in recs if r["type"] == "event" and r["event"] == "group_release"]
    assert len(release) == 1 and release[0]["group"] == int(f["g2"]) and release[0]["owner_cnt_before"] == 1
    # the owner token of the census is the one the release carries
    assert release[0]["owner_before"] == census_of(res, "held-trace.jsonl")[int(f["g2"])]["owner"]
    summary = recs[-1]
    assert summary["anomalies_total"] == 0 and summary["outstanding_claims"] == []
    assert groups_status(res, "released-json") == 0
    assert {g["verdict"] for g in census_of(res, "released-json.out").values()} == {"consistent"}


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("name", ["walk2-json", "walk2-kprobes"])
def test_walk_bound_truncates_never_misjudges(kernel, name):
    """OT_TEST_CENSUS_WALK_MAX=2: groups of 3 devices are truncated (2 read),
    not judged and not violations; smaller groups are judged as usual."""
    res = clean_run(kernel)
    assert groups_status(res, name) == 0, text(res, f"{name}.err")
    full = census_of(res, "released-json.out")
    bounded = census_of(res, f"{name}.out")
    assert set(full) == set(bounded)
    big = [k for k, g in full.items() if len(g["devices"]) > 2]
    assert big, "no group with more than 2 devices in the topology"
    for k, g in bounded.items():
        if k in big:
            assert (g["verdict"], g["truncated"], g["violation"], len(g["devices"])) == \
                ("truncated", True, False, 2), g
            assert [d["device"] for d in g["devices"]] == [d["device"] for d in full[k]["devices"][:2]]
        else:
            assert (g["verdict"], g["truncated"]) == ("consistent", False), g


# ---- a census during a bind/unbind storm ---------------------------------------------

@pytest.mark.parametrize("kernel", KERNELS)
def test_storm_gives_no_false_violation(kernel):
    res = storm_run(kernel)
    seen_in_flight = 0
    verdicts = set()
    for k in range(1, 7):
        assert groups_status(res, f"storm-{k}") == 0, text(res, f"storm-{k}.err")
        for g in census_of(res, f"storm-{k}.jsonl").values():
            assert not g["violation"], g
            verdicts.add(g["verdict"])
            seen_in_flight += g["snapshots"] > 1 or g["verdict"] == "unsettled"
    assert verdicts <= {"consistent", "unsettled"}, verdicts
    assert seen_in_flight, "no census caught the storm in flight: the storm proves nothing"
    assert int(text(res, "storm.rounds")) >= 3
    assert groups_status(res, "after") == 0
    assert {g["verdict"] for g in census_of(res, "after.jsonl").values()} == {"consistent"}


@pytest.mark.parametrize("kernel", KERNELS)
def test_storm_daemon_audits_report_nothing(kernel):
    res = storm_run(kernel)
    err = text(res, "storm-daemon.err")
    assert exit_status(res, "storm-daemon") == 0, err
    recs = records(res, "storm-daemon.jsonl")
    assert not [r for r in recs if r["type"] == "anomaly"], [r for r in recs if r["type"] == "anomaly"]
    assert "census at end" in err


# ---- the daemon's audits find a writer nobody traces ---------------------------------

@pytest.mark.parametrize("kernel", KERNELS)
def test_daemon_audit_reports_an_unseen_writer(kernel):
    res = daemon_run(kernel)
    f = facts(res)
    lg = int(f["lgroup"])
    assert exit_status(res, "daemon") == 3, text(res, "daemon.err")
    recs = records(res, "daemon.jsonl")
    assert not [r for r in recs if r["type"] in ("event", "census")], "the daemon prints anomalies only"
    anomalies = [r for r in recs if r["type"] == "anomaly"]
    assert [(a["kind"], a["group"]) for a in anomalies] == [("audit_drift", lg)], anomalies
    assert "drifted since the last audit" in anomalies[0]["message"]
    assert "owner_cnt is 1 but 0 devices" in anomalies[0]["message"]
    assert anomalies[0]["device"] == f["lone"]
    assert recs[-1]["type"] == "summary" and recs[-1]["anomalies"]["audit_drift"] == 1


@pytest.mark.parametrize("kernel", KERNELS)
def test_daemon_metrics_show_the_drift(kernel):
    res = daemon_run(kernel)
    lg = facts(res)["lgroup"]
    before, during, after = (parse(text(res, f"{n}.prom")) for n in ("before", "during", "after"))
    assert get(before, "ownertrace_group_owner_cnt", group=lg) == 0
    assert get(before, "ownertrace_group_census_violation", group=lg) == 0
    assert get(during, "ownertrace_group_owner_cnt", group=lg) == 1
    assert get(during, "ownertrace_group_owner_cnt_recalculated", group=lg) == 0
    assert get(during, "ownertrace_group_census_violation", group=lg) == 1
    assert get(during, "ownertrace_anomalies_total", kind="audit_drift") == 1
    assert get(after, "ownertrace_group_owner_cnt", group=lg) == 0
    assert get(after, "ownertrace_group_census_violation", group=lg) == 0
    v0, v1, v2 = (get(s, "ownertrace_census_violations_total") for s in (before, during, after))
    assert v0 == 0 < v1 <= v2
    assert get(before, "ownertrace_censuses_total") < get(during, "ownertrace_censuses_total") < \
        get(after, "ownertrace_censuses_total")
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing (scripts/install-deps.sh installs it)"
    p = subprocess.run([promtool, "check", "metrics"], input=text(res, "during.prom"), capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0 and not (p.stdout + p.stderr).strip(), p.stdout + p.stderr

"""--perfetto live on a real kernel (tests/scenarios/perfetto-smoke.sh): the
timelines written under trace, record and run pass the trace-event format
check and hold exactly the calls of the JSON stream printed beside them;
claims held across events become "claim held" spans (one still held when
the trace stopped, marked so); a recording replays to the same timeline.
All JSON output is checked against the JSON Lines schema (vmrun.jsonl).

    OT_KERNELS=6.1 /usr/bin/python3 -m pytest -v tests/vm/test_perfetto_vm.py
"""
import re
import subprocess
from collections import Counter
from decimal import Decimal

import pytest

from vmrun import KERNELS, OWNERTRACE, cached_run, exit_status, facts, jsonl, text, vfio_helper
import trace_event_format as tef


def perfetto_run(kernel):
    return cached_run("perfetto-smoke.sh", kernel, timeout=480, guest_files=[vfio_helper()])


def timeline(res, name):
    assert name in res.artifacts, f"missing artifact {name}: {sorted(res.artifacts)}"
    doc = tef.load(res.artifacts[name])
    errors = tef.validate(doc)
    assert not errors, "\n".join(errors[:20])
    return doc


def call_spans(doc):
    """Counter of (call, device) over the X spans of traced calls."""
    return Counter((e["name"], e["args"]["device"]) for e in doc["traceEvents"]
                   if e["ph"] == "X" and e.get("cat") == "call")


def calls_in(records):
    """The same Counter from the JSON stream: one span per exit, one per probe/remove without its exit."""
    exits = Counter((e["event"].removesuffix("_exit"), e["device"]) for e in records
                    if e["type"] == "event" and e["phase"] == "exit")
    enters = Counter((e["event"].removesuffix("_enter"), e["device"]) for e in records
                     if e["type"] == "event" and e["phase"] == "enter")
    return exits + (enters - exits)


@pytest.mark.parametrize("kernel", KERNELS)
def test_live_timeline_holds_the_stream(kernel):
    res = perfetto_run(kernel)
    f = facts(res)
    assert exit_status(res, "live") == 0
    records = jsonl(text(res, "live.jsonl"))
    doc = timeline(res, "live.json")
    assert call_spans(doc) == calls_in(records)
    spans = tef.spans_by_name(doc)
    assert sum(1 for s in spans["probe"] if s["args"]["device"] == f["e1000"]) == 1
    assert sum(1 for s in spans["remove"] if s["args"]["device"] == f["e1000"]) == 2

    processes = {m["pid"]: m["args"]["name"] for m in doc["traceEvents"] if m["name"] == "process_name"}
    threads = {(m["pid"], m["tid"]): m["args"]["name"] for m in doc["traceEvents"] if m["name"] == "thread_name"}
    for s in spans["probe"] + spans["remove"]:
        if s["args"]["device"] in (f["e1000"], f["edu"]):
            assert processes[s["pid"]] == f"IOMMU group {f['group']}"
            assert threads[(s["pid"], s["tid"])] == s["args"]["device"]

    # two claims: one released after >= 300 ms, one still held when the trace stopped
    held = sorted(spans["claim held"], key=lambda s: s["ts"])
    claims = [e for e in records if e["type"] == "event" and e["event"].endswith("_claim") and e["ret"] == 0]
    assert len(held) == len(claims) == 2, held
    assert processes[held[0]["pid"]] == f"IOMMU group {f['group']}"
    assert held[0]["dur"] >= 300_000 and "held_at_end" not in held[0]["args"]
    assert held[1]["args"].get("held_at_end") is True
    end_us = Decimal(doc["otherData"]["trace_end_ns"] - doc["otherData"]["trace_start_ns"]) / 1000
    assert held[1]["ts"] + held[1]["dur"] == end_us
    assert all(re.fullmatch(r"owner#\d+", s["args"]["owner"]) for s in held), held
    # the summary agrees: the claim held at the end is outstanding
    summary = [r for r in records if r["type"] == "summary"][0]
    assert len(summary["outstanding_claims"]) == 1 and summary["anomalies_total"] == 0


@pytest.mark.parametrize("kernel", KERNELS)
def test_record_timeline_equals_replay(kernel, tmp_path):
    """record --perfetto in the guest, replay --perfetto of the recording
    here: one pipeline, so the same timeline."""
    res = perfetto_run(kernel)
    assert exit_status(res, "rec") == 0
    live = timeline(res, "rec.json")
    assert call_spans(live), "the recorded workload left no spans"
    out = tmp_path / "replay.json"
    p = subprocess.run([str(OWNERTRACE), "replay", "--perfetto", str(out), res.artifacts["rec.otr"]],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert tef.load(out) == live


@pytest.mark.parametrize("kernel", KERNELS)
def test_run_timeline(kernel):
    res = perfetto_run(kernel)
    f = facts(res)
    assert exit_status(res, "run") == 0, text(res, "run.err")
    doc = timeline(res, "run.json")
    assert call_spans(doc) == calls_in(jsonl(text(res, "run.jsonl")))
    spans = tef.spans_by_name(doc)
    assert [s["args"]["device"] for s in spans["remove"]] == [f["e1000"]]
    assert [s["args"]["device"] for s in spans["probe"]] == [f["e1000"]]


@pytest.mark.parametrize("kernel", KERNELS)
def test_interval_records_match_schema(kernel):
    res = perfetto_run(kernel)
    assert exit_status(res, "intervals") == 0, text(res, "intervals.err")
    records = jsonl(text(res, "intervals.jsonl"))
    assert [r["n"] for r in records if r["type"] == "interval"] == [1, 2]


@pytest.mark.parametrize("kernel", KERNELS)
def test_unwritable_path_exits_1(kernel):
    res = perfetto_run(kernel)
    err = text(res, "unwritable.err")
    assert exit_status(res, "unwritable") == 1, err
    assert "cannot write the Perfetto trace /nonexistent/t.json" in err

"""--perfetto on this host: the golden recording replayed into a timeline
that passes the trace-event format check and holds exactly the recording's
calls and claims; the unit test's synthetic timeline (anomalies, unfinished
calls, claims held at the end) passes it too; unwritable paths fail cleanly.
The format checker itself is tested on broken traces first."""
import json
import subprocess
from decimal import Decimal

import pytest

from conftest import BUILD, REPO
import trace_event_format as tef

GOLDEN = REPO / "tests" / "data" / "vfio-6.1.otr"
CALL_SPANS = {"probe", "remove", "dma_configure", "dma_cleanup", "use_default_domain", "unuse_default_domain",
              "unbind_cleanup", "group_claim", "group_release", "device_claim", "device_release"}


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=120, **kw)


def meta(kind, pid, tid, **args):
    return {"name": kind, "ph": "M", "pid": pid, "tid": tid, "args": args}


def named(*tracks):
    out = []
    for pid, tid in tracks:
        out += [meta("process_name", pid, tid, name="p"), meta("thread_name", pid, tid, name="t")]
    return out


def x(ts, dur, tid=2, pid=1, name="s"):
    return {"name": name, "ph": "X", "ts": Decimal(ts), "dur": Decimal(dur), "pid": pid, "tid": tid}


@pytest.mark.parametrize("events,problem", [
    ([{"name": "a", "ph": "B", "ts": 1, "pid": 1, "tid": 2}], "B never closed"),
    ([{"name": "a", "ph": "E", "ts": 1, "pid": 1, "tid": 2}], "E without an open B"),
    ([{"name": "a", "ph": "B", "ts": 5, "pid": 1, "tid": 2}, {"name": "a", "ph": "E", "ts": 4, "pid": 1, "tid": 2}],
     "before the previous B/E"),
    ([x("1", "-1")], "dur >= 0"),
    ([x("1", "10"), x("5", "10")], "without nesting"),
    ([{"name": "a", "ph": "X", "ts": 1, "pid": 1, "tid": 2}], "X needs a dur"),
    ([{"name": "a", "ph": "i", "ts": 1, "pid": 1, "tid": 2, "s": "x"}], "instant scope"),
    ([{"name": "a", "ph": "i", "pid": 1, "tid": 2}], "ts must be a number"),
    ([{"ph": "i", "ts": 1, "pid": 1, "tid": 2}], "missing name"),
    ([x("1", "1", tid=2, pid=1), x("1", "1", tid=2, pid=3)], "used under pids"),
])
def test_format_checker_finds(events, problem):
    doc = {"traceEvents": events + named((1, 2), (3, 2))}
    errors = tef.validate(doc)
    assert any(problem in e for e in errors), errors


def test_format_checker_wants_names_and_accepts_nesting():
    spans = [x("1", "10"), x("2", "3"), x("5", "6"), x("11", "1"),   # nested, touching
             {"name": "a", "ph": "B", "ts": 20, "pid": 1, "tid": 2}, {"name": "a", "ph": "E", "ts": 21, "pid": 1, "tid": 2}]
    assert tef.validate({"traceEvents": spans + named((1, 2))}) == []
    errors = tef.validate({"traceEvents": spans})
    assert "pid 1 has no process_name metadata" in errors and "track (1, 2) has no thread_name metadata" in errors
    assert tef.validate({"events": []}) and tef.validate({"traceEvents": [], "displayTimeUnit": "s"})


def replay(tmp_path, *args):
    trace = tmp_path / "t.json"
    p = run([BUILD / "ownertrace", "replay", *args, "--perfetto", trace, GOLDEN])
    assert p.returncode == 0, p.stderr   # the golden recording is clean: no anomaly, exit 0
    return p, tef.load(trace)


def test_replay_timeline_matches_the_recording(ownertrace, tmp_path):
    """Every call of `replay --json` is one span, at its exact entry time and
    duration, on its device's track inside its group's process; the claim is
    one "claim held" span from the claim's return to the release's return."""
    p, doc = replay(tmp_path, "--json")
    assert tef.validate(doc) == []
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    events = [e for e in lines if e["type"] == "event"]
    start = doc["otherData"]["trace_start_ns"]
    assert doc["displayTimeUnit"] == "ms"

    def us(ns):
        return Decimal(ns - start) / 1000

    want = sorted((e["event"].removesuffix("_exit"), us(e["ts_ns"] - e["duration_ns"]), Decimal(e["duration_ns"]) / 1000,
                   e["device"], e["group"]) for e in events if e["phase"] == "exit")
    spans = tef.spans_by_name(doc)
    threads = {(m["pid"], m["tid"]): m["args"]["name"] for m in doc["traceEvents"] if m["name"] == "thread_name"}
    processes = {m["pid"]: m["args"]["name"] for m in doc["traceEvents"] if m["name"] == "process_name"}
    got = sorted((s["name"], s["ts"], s["dur"], s["args"]["device"], int(processes[s["pid"]].split()[-1]))
                 for name in CALL_SPANS for s in spans.get(name, []))
    assert got == want
    assert len(spans["probe"]) == 2 and len(spans["remove"]) == 2
    for s in (s for name in CALL_SPANS for s in spans.get(name, [])):
        track = threads[(s["pid"], s["tid"])]
        assert track == s["args"]["device"] if s["args"]["device"] else track.startswith("group-wide"), s
        assert processes[s["pid"]] == "IOMMU group 2"

    claims = [e for e in events if e["event"] in ("group_claim", "device_claim") and e["ret"] == 0]
    releases = [e for e in events if e["event"] in ("group_release", "device_release")]
    assert len(claims) == len(releases) == 1
    held = spans["claim held"]
    assert len(held) == len(claims)
    assert held[0]["ts"] == us(claims[0]["ts_ns"])
    assert held[0]["ts"] + held[0]["dur"] == us(releases[0]["ts_ns"])
    assert held[0]["args"]["owner"] == claims[0]["owner_after"] == "owner#1"
    assert threads[(held[0]["pid"], held[0]["tid"])].startswith("group-wide")
    assert "held_at_end" not in held[0]["args"]
    # no anomaly in this recording, so no instants
    assert not [e for e in doc["traceEvents"] if e["ph"] == "i"]


def test_replay_timeline_same_with_or_without_other_outputs(ownertrace, tmp_path):
    """The timeline does not depend on how the stream is printed."""
    _, with_json = replay(tmp_path, "--json", "--stacks")
    _, human = replay(tmp_path)
    assert with_json == human


def test_synthetic_timeline_is_valid(tmp_path):
    """The unit test's timeline: anomalies as instants with their
    explanation, a probe unfinished at the end, a claim held at the end,
    a claim held from before the trace, a device without a group."""
    trace = tmp_path / "unit.json"
    p = run([BUILD / "tests" / "test_perfetto", trace])
    assert p.returncode == 0, p.stdout + p.stderr
    doc = tef.load(trace)
    assert tef.validate(doc) == []
    instants = [e for e in doc["traceEvents"] if e["ph"] == "i"]
    assert sorted(e["name"] for e in instants) == ["nested_claim", "underflow"]
    for e in instants:
        assert e["args"]["kind"] == e["name"] and e["args"]["message"] and e["args"]["culprit"]["comm"]
    held = tef.spans_by_name(doc)["claim held"]
    assert sum(1 for s in held if s["args"].get("held_at_end")) == 1
    assert sum(1 for s in held if s["args"].get("claimed_before_trace")) == 1
    assert [s["args"].get("unfinished") for s in tef.spans_by_name(doc)["probe"]].count(True) == 1


@pytest.mark.parametrize("path", ["/nonexistent-dir/t.json", "/proc/version/t.json"])
def test_unwritable_path_fails_before_anything_else(ownertrace, path):
    p = run([ownertrace, "replay", "--perfetto", path, GOLDEN])
    assert p.returncode == 1, p.stderr
    assert f"cannot write the Perfetto trace {path}" in p.stderr
    assert "does its directory exist" in p.stderr
    assert "summary" not in p.stderr   # refused before replaying anything


def test_existing_file_is_replaced_and_no_temporary_left(ownertrace, tmp_path):
    trace = tmp_path / "t.json"
    trace.write_text("old")
    p = run([ownertrace, "replay", "--perfetto", trace, GOLDEN])
    assert p.returncode == 0, p.stderr
    assert tef.validate(tef.load(trace)) == []
    assert [f.name for f in tmp_path.iterdir()] == ["t.json"]


def test_trace_replaced_only_when_complete(ownertrace, tmp_path):
    """A recording cut short fails the replay (exit 1), but the timeline of
    what it had is still written whole -- never half a file."""
    cut = tmp_path / "cut.otr"
    cut.write_bytes(GOLDEN.read_bytes()[:-40])
    trace = tmp_path / "t.json"
    p = run([ownertrace, "replay", "--perfetto", trace, cut])
    assert p.returncode == 1 and "truncated recording" in p.stderr
    assert tef.validate(tef.load(trace)) == []


@pytest.mark.parametrize("extra", [["--hist-only"], ["--dry-run"]])
def test_perfetto_needs_events(ownertrace, tmp_path, extra):
    p = run([ownertrace, *extra, "--perfetto", tmp_path / "t.json"])
    assert p.returncode == 2 and "--perfetto draws events" in p.stderr, p.stderr

#!/usr/bin/python3
"""Checks a file against the Chrome trace-event format (JSON Object Format),
as ui.perfetto.dev and chrome://tracing read it, strictly enough that a file
passing here opens with every track named and every span where it belongs.

    python3 tests/trace_event_format.py FILE     # prints the problems, exit 1 if any

What is checked:
  * valid JSON: an object with a "traceEvents" array (and, if present, a
    "displayTimeUnit" of "ms" or "ns");
  * every event has name, ph, pid and tid; every event but metadata a
    numeric ts >= 0; "X" a numeric dur >= 0; "i"/"I" a scope s of g, p or t;
  * B/E balanced per track (pid, tid): every E closes the latest open B of
    its track, and nothing is left open at the end;
  * order: the format lets events come in any order (viewers sort by ts),
    and ownertrace writes a span when it ends, so a parent comes after its
    children. What must hold per track is what a viewer's per-thread stack
    needs: B/E in file order with non-decreasing ts (E is matched to the
    latest B in file order), and X spans that nest -- two spans of one
    track either are disjoint or one contains the other (touching ends
    allowed). Instants have no order;
  * metadata: a process_name for every pid used, a thread_name for every
    (pid, tid) used; tids unique across processes (Perfetto takes a tid seen
    under another pid for a reused thread and splits its track).

Timestamps are compared exactly (parsed as Decimal), not as floats.
"""
import json
import sys
from collections import defaultdict
from decimal import Decimal

PHASES = set("BEXiIMCbenstfPOND(") | {"R"}
METADATA = {"process_name", "process_sort_index", "process_labels", "thread_name", "thread_sort_index"}


def load(path):
    with open(path) as f:
        return json.load(f, parse_float=Decimal)


def _num(v):
    return isinstance(v, (int, Decimal)) and not isinstance(v, bool)


def validate(doc):
    """Every problem found in a parsed trace (empty list: the trace is valid)."""
    errors = []
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        return ["not a JSON Object Format trace: want an object with a traceEvents array"]
    if "displayTimeUnit" in doc and doc["displayTimeUnit"] not in ("ms", "ns"):
        errors.append(f"displayTimeUnit {doc['displayTimeUnit']!r}: want ms or ns")

    open_b = defaultdict(list)          # track -> names of open B
    last_be_ts = {}                     # track -> ts of the last B/E
    spans = defaultdict(list)           # track -> (ts, end, index) of X
    used_tracks, named_pids, named_threads = set(), set(), set()
    pid_of_tid = {}

    for i, ev in enumerate(doc["traceEvents"]):
        where = f"event {i} ({ev.get('name') if isinstance(ev, dict) else ev!r})"
        if not isinstance(ev, dict):
            errors.append(f"{where}: not an object")
            continue
        missing = [k for k in ("name", "ph", "pid", "tid") if k not in ev]
        if missing:
            errors.append(f"{where}: missing {', '.join(missing)}")
            continue
        ph, track = ev["ph"], (ev["pid"], ev["tid"])
        if ph not in PHASES:
            errors.append(f"{where}: unknown ph {ph!r}")
            continue
        if not isinstance(ev["name"], str) or not _num(ev["pid"]) or not _num(ev["tid"]):
            errors.append(f"{where}: name must be a string, pid and tid numbers")
            continue
        if ph == "M":
            if ev["name"] not in METADATA:
                errors.append(f"{where}: unknown metadata {ev['name']!r}")
            args = ev.get("args", {})
            if ev["name"] in ("process_name", "thread_name") and not isinstance(args.get("name"), str):
                errors.append(f"{where}: {ev['name']} without args.name")
            if ev["name"].endswith("sort_index") and not _num(args.get("sort_index")):
                errors.append(f"{where}: {ev['name']} without a numeric args.sort_index")
            if ev["name"] == "process_name":
                named_pids.add(ev["pid"])
            if ev["name"] == "thread_name":
                named_threads.add(track)
            continue
        if not _num(ev.get("ts")) or ev["ts"] < 0:
            errors.append(f"{where}: ts must be a number >= 0, got {ev.get('ts')!r}")
            continue
        used_tracks.add(track)
        if pid_of_tid.setdefault(ev["tid"], ev["pid"]) != ev["pid"]:
            errors.append(f"{where}: tid {ev['tid']} used under pids {pid_of_tid[ev['tid']]} and {ev['pid']}")
        ts = ev["ts"]
        if ph == "X":
            if not _num(ev.get("dur")) or ev["dur"] < 0:
                errors.append(f"{where}: X needs a dur >= 0, got {ev.get('dur')!r}")
                continue
            spans[track].append((ts, ts + ev["dur"], i))
        elif ph in ("B", "E"):
            if track in last_be_ts and ts < last_be_ts[track]:
                errors.append(f"{where}: {ph} at {ts} before the previous B/E of its track at {last_be_ts[track]}")
            last_be_ts[track] = ts
            if ph == "B":
                open_b[track].append(ev["name"])
            elif not open_b[track]:
                errors.append(f"{where}: E without an open B on track {track}")
            else:
                began = open_b[track].pop()
                if ev["name"] and began and ev["name"] != began:
                    errors.append(f"{where}: E {ev['name']!r} closes B {began!r}")
        elif ph in ("i", "I"):
            if ev.get("s", "t") not in ("g", "p", "t"):
                errors.append(f"{where}: instant scope {ev['s']!r}: want g, p or t")

    for track, names in open_b.items():
        if names:
            errors.append(f"track {track}: B never closed: {names}")
    for track, items in spans.items():
        stack = []                      # enclosing spans: (end, index)
        for ts, end, i in sorted(items, key=lambda s: (s[0], -s[1], s[2])):
            while stack and stack[-1][0] <= ts:
                stack.pop()
            if stack and end > stack[-1][0]:
                errors.append(f"track {track}: X event {i} [{ts}, {end}] overlaps X event {stack[-1][1]} "
                              f"ending at {stack[-1][0]} without nesting in it")
            stack.append((end, i))
    for pid in sorted({p for p, _ in used_tracks} - named_pids):
        errors.append(f"pid {pid} has no process_name metadata")
    for track in sorted(used_tracks - named_threads):
        errors.append(f"track {track} has no thread_name metadata")
    return errors


def spans_by_name(doc):
    """{name: [X events]} of a trace, for tests that count them."""
    out = defaultdict(list)
    for ev in doc["traceEvents"]:
        if ev.get("ph") == "X":
            out[ev["name"]].append(ev)
    return out


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        errors = validate(load(argv[1]))
    except (OSError, ValueError) as e:
        errors = [f"cannot read: {e}"]
    for e in errors:
        print(f"{argv[1]}: {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""`ownertrace diff` on this host: the command line, its exit statuses and
the report on the committed recording (the comparison itself is unit-tested
in tests/unit/test_diff.c, and on real kernels in tests/vm/test_gate_vm.py)."""
import json
import subprocess

import pytest

import jsonl_schema
from conftest import REPO

GOLDEN = REPO / "tests" / "data" / "vfio-6.1.otr"


def run(cmd):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args,needle", [
    (["diff"], "diff needs two recordings"),
    (["diff", "a.otr"], "diff needs two recordings"),
    (["diff", "a", "b", "c"], "unexpected argument 'c'"),
    (["diff", "--fail-on", "latency,typo", "a", "b"], "--fail-on: unknown 'typo'"),
    (["diff", "--max-p99-regress", "lots", "a", "b"], "wants a percentage"),
    (["diff", "--min-change", "5", "a", "b"], "with a unit"),
    (["diff", "--min-samples", "0", "a", "b"], "--min-samples wants a number >= 1"),
    (["diff", "-d", "0000:00:03.0", "a", "b"], "only --json, --output and the gate options apply"),
    (["replay", "--baseline", "a", "b"], "ownertrace diff BASELINE FILE"),
    (["trace", "--fail-on", "all"], "set the gate of diff or --baseline"),
    (["diff", "--prometheus", "m.prom", "a", "b"], "only --json, --output and the gate options apply"),
    (["daemon", "--baseline", "a.otr"], "--baseline (every duration kept"),
    (["run", "--baseline", "a.otr", "-D", "e1000", "--", "true"], "--baseline compares whole runs"),
])
def test_diff_usage_errors_exit_2(ownertrace, args, needle):
    p = run([ownertrace] + args)
    assert p.returncode == 2, p.stderr
    assert needle in p.stderr


def test_unreadable_recording_exits_1(ownertrace, tmp_path):
    bad = tmp_path / "bad.otr"
    bad.write_bytes(b"GIF89a")
    p = run([ownertrace, "diff", GOLDEN, bad])
    assert p.returncode == 1 and "not an ownertrace recording" in p.stderr, p.stderr
    p = run([ownertrace, "diff", tmp_path / "missing.otr", GOLDEN])
    assert p.returncode == 1 and "missing.otr" in p.stderr, p.stderr


def test_unreadable_baseline_refused_before_tracing(ownertrace, tmp_path):
    """A live run with a bad --baseline stops before it needs root or BPF."""
    p = run([ownertrace, "run", "--baseline", tmp_path / "missing.otr", "--", "true"])
    assert p.returncode == 1 and "missing.otr" in p.stderr and "refused" not in p.stderr, p.stderr


def test_recording_against_itself_passes(ownertrace):
    p = run([ownertrace, "diff", GOLDEN, GOLDEN])
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.startswith("ownertrace diff: PASS\n")
    assert "3 devices and groups compared, 3 unchanged" in p.stdout
    # one call of each: too few to judge latency, and said so
    assert "too few samples to conclude: 1 and 1 calls" in p.stdout


def test_json_is_one_object(ownertrace, tmp_path):
    out = tmp_path / "diff.json"
    p = run([ownertrace, "diff", "--json", "-o", out, "--fail-on", "all", "--max-p50-regress", "20%",
             "--max-p99-regress", "off", "--min-samples", "1", "--min-change", "0", GOLDEN, GOLDEN])
    assert p.returncode == 0, p.stderr
    lines = out.read_text().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    jsonl_schema.check_records([report], "diff --json")
    assert report["type"] == "diff" and report["verdict"] == "pass" and report["failed_by"] == {}
    assert report["gate"] == {"fail_on": ["new-anomaly", "sequence-change", "latency", "count-change"],
                              "max_p50_regress": 0.2, "min_change_s": 0.0, "min_samples": 1}
    # with one sample allowed, every series is compared, and equal
    assert report["latency"] and all(l["enough_samples"] for l in report["latency"])
    assert not report["findings"]

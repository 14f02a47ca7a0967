"""The census on this host, without a VM: what `groups`, --audit-interval
and --no-census accept, and a host that refuses tracing programs (this
development machine's case) told why. The census itself runs in the VM:
tests/vm/test_census_vm.py."""
import json
import re
import subprocess

import pytest

from conftest import REPO


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=120, **kw)


@pytest.mark.parametrize("args,needle", [
    (["groups", "-w", "x.otr"], "groups takes one census and prints it"),
    (["groups", "--hist"], "groups takes one census"),
    (["groups", "-t", "5"], "groups takes one census"),
    (["groups", "--audit-interval", "5"], "groups takes one census"),
    (["groups", "--no-census"], "groups takes one census"),
    (["groups", "--prometheus", "/tmp/x.prom"], "groups takes one census"),
    (["groups", "extra"], "unexpected argument"),
    (["--audit-interval", "0.5"], "--audit-interval wants 0 (never) or seconds from 1"),
    (["--audit-interval", "abc"], "--audit-interval wants"),
    (["daemon", "--audit-interval", "-1"], "--audit-interval wants"),
    (["--no-census", "--audit-interval", "5"], "the audits need the census"),
    (["replay", "--no-census", "x.otr"], "for live runs"),
    (["replay", "--audit-interval", "5", "x.otr"], "for live runs"),
])
def test_census_usage_errors_exit_2(ownertrace, args, needle):
    p = run([ownertrace] + args)
    assert p.returncode == 2, p.stderr
    assert needle in p.stderr


def test_help_names_the_census(ownertrace):
    out = run([ownertrace, "--help"]).stdout
    for word in ("ownertrace groups", "--audit-interval", "--no-census", "preexisting_leak", "groups: a leaked"):
        assert word in out, word


def test_groups_on_a_host_that_refuses_says_why(ownertrace):
    """Where the kernel refuses tracing programs, groups exits 1 naming the
    function and both mechanisms; where it does not, it prints a census."""
    p = run([ownertrace, "groups"])
    if p.returncode in (0, 3):
        assert re.search(r"^\d+ IOMMU groups?: ", p.stdout, re.M) or "no IOMMU groups" in p.stderr, p.stdout
        return
    assert p.returncode == 1, p.stdout + p.stderr
    assert "Segmentation" not in p.stderr
    if "needs root" in p.stderr:
        pytest.fail("test suite must run as root (CI does)")
    assert "iommu_group_show_type" in p.stderr and "fentry:" in p.stderr and "kprobe:" in p.stderr, p.stderr
    assert p.stdout == ""
    p = run([ownertrace, "groups", "--kprobes"])
    assert p.returncode == 1 and "fentry: not tried (--kprobes)" in p.stderr, p.stderr


def test_census_recording_replays(ownertrace, tmp_path):
    """The committed recording with a census (tests/data/census-leak-6.1.otr,
    from tests/scenarios/census-leak.sh) replays its verdicts: the census
    records, then preexisting_leak before any event, exit 3."""
    rec = REPO / "tests" / "data" / "census-leak-6.1.otr"
    out = tmp_path / "r.jsonl"
    p = run([ownertrace, "replay", "--json", "-o", out, rec])
    assert p.returncode == 3, p.stderr
    types = [line.split('"type":"', 1)[1].split('"', 1)[0] for line in out.read_text().splitlines()]
    assert types[0] == "census" and "anomaly" in types
    assert types.index("anomaly") < types.index("event")
    assert "preexisting_leak" in out.read_text()
    # filtered to another group: neither its census records nor its anomaly
    p = run([ownertrace, "replay", "--json", "-g", "0", "-o", out, rec])
    assert p.returncode == 0, p.stderr
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["group"] for r in recs if r["type"] == "census"] == [0]
    assert not [r for r in recs if r["type"] == "anomaly"] and recs[-1]["anomalies"]["preexisting_leak"] == 0

"""Ownership analysis on real kernels: CI exit statuses, and correct flows
that must produce zero anomalies.

    OT_KERNELS=6.1 /usr/bin/python3 -m pytest -v tests/vm/test_analysis_vm.py
"""
import pytest

from vmrun import KERNELS, cached_run, exit_status, facts, jsonl, replay_json, text, vfio_helper


def ci_run(kernel):
    return cached_run("ci-run.sh", kernel, timeout=240, guest_files=[vfio_helper()])


@pytest.mark.parametrize("kernel", KERNELS)
def test_run_exit_statuses(kernel):
    """run -- CMD: 0 clean, 4 when CMD fails or cannot be started; the
    summary always ends the run."""
    res = ci_run(kernel)
    assert exit_status(res, "run-clean") == 0, text(res, "run-clean.err")
    objs = jsonl(text(res, "run-clean.out"))
    assert objs[-1]["type"] == "summary" and objs[-1]["anomalies_total"] == 0
    assert sum(1 for o in objs if o["type"] == "event") >= 9
    assert "command exited with status 0" in text(res, "run-clean.err")
    assert exit_status(res, "run-false") == 4
    assert "command exited with status 1" in text(res, "run-false.err")
    assert exit_status(res, "run-missing") == 4
    assert "cannot run /nonexistent/cmd" in text(res, "run-missing.err")
    # SIGTERM is passed on to the command; ownertrace ends with it, summary
    # and verdict included (killed command = failed command)
    term = text(res, "run-term.err")
    assert "command killed by signal 15" in term and "ownertrace summary" in term, term
    assert exit_status(res, "run-term") == 4
    # -o and -w: the output file and the recording, stdout left to the command
    assert exit_status(res, "run-output") == 0
    assert text(res, "run-output.out") == ""
    out = jsonl(text(res, "run-output.jsonl"))
    assert out[-1]["type"] == "summary"


@pytest.mark.parametrize("kernel", KERNELS)
def test_run_recording_replays_identically(kernel, tmp_path):
    res = ci_run(kernel)
    dest = tmp_path / "r.jsonl"
    p = replay_json(res.artifacts["run-output.otr"], dest)
    assert p.returncode == 0, p.stderr
    assert dest.read_text() == text(res, "run-output.jsonl")


@pytest.mark.parametrize("kernel", KERNELS)
def test_tracer_started_while_vfio_group_held(kernel):
    """The shadow learns a claim it never saw taken: its release is not an
    underflow, the refused e1000 bind is explained, not flagged."""
    res = ci_run(kernel)
    f = facts(res)
    assert exit_status(res, "held") == 0, text(res, "held.err")
    objs = jsonl(text(res, "held.jsonl"))
    summary = objs[-1]
    assert summary["type"] == "summary" and summary["anomalies_total"] == 0, summary
    assert not [o for o in objs if o["type"] == "anomaly"]
    events = [o for o in objs if o["type"] == "event"]
    release = [e for e in events if e["event"] == "group_release"]
    assert len(release) == 1 and release[0]["owner_cnt_before"] == 1 and release[0]["owner_before"]
    assert release[0]["group"] == int(f["group"])
    refused = [e for e in events if e["event"] == "use_default_domain" and e["ret"] == -16]
    assert refused, "the e1000 bind while held should be refused with EBUSY"
    assert "claimed for user-space DMA" in refused[0]["note"]
    probe_fail = [e for e in events if e["event"] == "probe_exit" and e["device"] == f["e1000"] and e["ret"] != 0]
    assert probe_fail and probe_fail[0]["errno"] == "EBUSY"
    assert summary["outstanding_claims"] == []

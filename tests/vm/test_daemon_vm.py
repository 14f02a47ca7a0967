"""`ownertrace daemon --prometheus` live in the guest: the metrics file is
there before tracing starts, refreshed during the run with what happened
(an e1000 unbind + bind), parses and lints, and the daemon prints no events.

    OT_KERNELS=6.1 /usr/bin/python3 -m pytest -v tests/vm/test_daemon_vm.py
"""
import shutil
import subprocess
import sys

import pytest

from vmrun import KERNELS, REPO, cached_run, facts, text

sys.path.insert(0, str(REPO / "tests"))
from promtext import get, parse  # noqa: E402


def daemon_run(kernel):
    return cached_run("daemon-metrics.sh", kernel, timeout=240)


def events(series, point, driver):
    return series.get(("ownertrace_events_total", tuple(sorted({"point": point, "driver": driver}.items()))), 0)


@pytest.mark.parametrize("kernel", KERNELS)
def test_metrics_refreshed_during_the_run(kernel):
    res = daemon_run(kernel)
    err = text(res, "daemon.err")
    assert "exit=0" in err, err
    before, during, final = (text(res, f"{n}.prom") for n in ("before", "during", "final"))
    assert before != during, "the file was not rewritten during the run"
    s0, s1, s2 = parse(before), parse(during), parse(final)
    # nothing of the rebind yet at start; all of it one interval later
    assert events(s0, "remove_exit", "e1000") == 0
    assert events(s1, "remove_exit", "e1000") == 1 and events(s1, "probe_exit", "e1000") == 1
    assert get(s1, "ownertrace_probe_duration_seconds_count", driver="e1000", result="ok") == 1
    assert get(s1, "ownertrace_remove_duration_seconds_count", driver="e1000") == 1
    assert 0 < get(s1, "ownertrace_probe_duration_seconds_sum", driver="e1000", result="ok") < 60
    group = facts(res)["group"]
    assert get(s1, "ownertrace_group_default_domain_uses", group=group) == 1
    assert get(s1, "ownertrace_group_claims", group=group) == 0
    # counters never go down between writes
    for key, value in s1.items():
        if key[0].endswith(("_total", "_count", "_bucket", "_sum")):
            assert s2.get(key, 0) >= value, key
    for kind in ("leaked_claim", "underflow", "divergence"):
        assert get(s2, "ownertrace_anomalies_total", kind=kind) == 0
    assert get(s2, "ownertrace_ringbuf_drops_total") == 0
    assert "ownertrace.prom.tmp" not in text(res, "metrics-dir.txt")


@pytest.mark.parametrize("kernel", KERNELS)
def test_daemon_prints_no_events(kernel):
    res = daemon_run(kernel)
    assert text(res, "daemon.jsonl").strip() == "", "the daemon printed events or anomalies on a clean rebind"


@pytest.mark.parametrize("kernel", KERNELS)
def test_live_files_lint_clean(kernel):
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing (scripts/install-deps.sh installs it)"
    res = daemon_run(kernel)
    for name in ("before", "during", "final"):
        p = subprocess.run([promtool, "check", "metrics"], input=text(res, f"{name}.prom"),
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0 and not (p.stdout + p.stderr).strip(), f"{name}: {p.stdout}{p.stderr}"

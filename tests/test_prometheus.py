"""--prometheus against the real consumers: Debian's node_exporter serves the
file through its textfile collector (no scrape error, every series with the
value the JSON output of the same replay implies), and promtool's linter
accepts it. Both come from scripts/install-deps.sh; missing is a failure."""
import json
import shutil
import socket
import subprocess
import time
import urllib.request
from collections import defaultdict

import pytest

from conftest import REPO
from promtext import get, parse

RECORDING = REPO / "tests" / "data" / "vfio-6.1.otr"
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def node_exporter(tmp_path):
    binary = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
    assert binary, "prometheus-node-exporter missing (scripts/install-deps.sh installs it)"
    port = free_port()
    textdir = tmp_path / "textfile"
    textdir.mkdir()
    proc = subprocess.Popen([binary, f"--web.listen-address=127.0.0.1:{port}", "--collector.disable-defaults",
                             "--collector.textfile", f"--collector.textfile.directory={textdir}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/metrics"
    deadline = time.monotonic() + 15
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            break
        except OSError:
            assert proc.poll() is None, f"node_exporter exited: {proc.stderr.read()}"
            assert time.monotonic() < deadline, "node_exporter did not answer within 15 s"
            time.sleep(0.2)
    yield textdir, url
    proc.terminate()
    proc.wait(timeout=10)


def replay_json():
    p = subprocess.run([str(REPO / "build" / "ownertrace"), "replay", "--json", str(RECORDING)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    objs = [json.loads(l) for l in p.stdout.splitlines()]
    return [o for o in objs if o["type"] == "event"], next(o for o in objs if o["type"] == "summary")


def test_node_exporter_serves_the_replay_metrics(ownertrace, node_exporter):
    textdir, url = node_exporter
    prom = textdir / "ownertrace.prom"
    p = subprocess.run([ownertrace, "replay", "--prometheus", str(prom), str(RECORDING)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert not (textdir / "ownertrace.prom.tmp").exists(), "the temporary file was left behind"
    scraped = urllib.request.urlopen(url, timeout=10).read().decode()
    series = parse(scraped)
    assert get(series, "node_textfile_scrape_error") == 0, scraped
    events, summary = replay_json()
    assert summary["events_total"] > 10 and summary["events_shown"] == summary["events_total"]

    # counters: events by name (summed over drivers) and by driver, as in the JSON
    by_name = defaultdict(float)
    for (name, labels), value in series.items():
        if name == "ownertrace_events_total":
            by_name[dict(labels)["point"]] += value
    assert {k: v for k, v in by_name.items()} == {k: v for k, v in summary["events"].items() if v}
    by_driver = defaultdict(int)
    for e in events:
        by_driver[(e["event"], e["driver"] or "")] += 1
    for (event, driver), n in by_driver.items():
        assert get(series, "ownertrace_events_total", point=event, driver=driver) == n
    for kind, n in summary["anomalies"].items():
        assert get(series, "ownertrace_anomalies_total", kind=kind) == n
    for metric, key in (("ringbuf_drops", "ringbuf_drops"), ("inflight_full", "inflight_full"),
                        ("exit_without_entry", "exit_without_entry"), ("stack_failures", "stack_failures")):
        assert get(series, f"ownertrace_{metric}_total") == summary[key]

    # gauges from the shadow: what the summary lists as outstanding
    groups = {e["group"] for e in events if e["group"] is not None and e["event"] not in ("probe_enter", "probe_exit",
                                                                                          "remove_enter", "unbind_cleanup")}
    for g in groups:
        claims = sum(1 for c in summary["outstanding_claims"] if c["group"] == g)
        uses = sum(1 for u in summary["outstanding_uses"] if u["group"] == g)
        assert get(series, "ownertrace_group_claims", group=str(g)) == claims
        assert get(series, "ownertrace_group_default_domain_uses", group=str(g)) == uses
    assert any(u["group"] == 2 for u in summary["outstanding_uses"])  # the data really has a held use

    # histograms: count and sum from the exact durations of the events, cumulative buckets
    for event, metric, extra in (("probe_exit", "ownertrace_probe_duration_seconds", {"result": "ok"}),
                                 ("remove_exit", "ownertrace_remove_duration_seconds", {})):
        durations = defaultdict(list)
        for e in events:
            if e["event"] == event and (event != "probe_exit" or e["ret"] == 0):
                durations[e["driver"]].append(e["duration_ns"])
        assert durations, f"no {event} in the recording"
        for driver, ns in durations.items():
            assert get(series, metric + "_count", driver=driver, **extra) == len(ns)
            assert get(series, metric + "_sum", driver=driver, **extra) == pytest.approx(sum(ns) / 1e9, abs=1e-9)
            buckets = sorted(((float(dict(l)["le"]), v) for (n, l), v in series.items()
                              if n == metric + "_bucket" and dict(l).get("driver") == driver
                              and all(dict(l).get(k) == v for k, v in extra.items())))
            assert buckets[-1] == (float("inf"), len(ns))
            counts = [v for _, v in buckets]
            assert counts == sorted(counts), f"buckets not cumulative: {buckets}"
            for le, v in buckets:
                assert v == sum(1 for d in ns if d / 1e9 <= le), (driver, le, v, ns)


def test_promtool_accepts_the_file(ownertrace, tmp_path):
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing (Debian's prometheus package; scripts/install-deps.sh installs it)"
    prom = tmp_path / "ownertrace.prom"
    p = subprocess.run([ownertrace, "replay", "--prometheus", str(prom), str(RECORDING)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    text = prom.read_text()
    assert "ownertrace_probe_duration_seconds_bucket" in text
    lint = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert lint.returncode == 0 and not lint.stdout.strip() and not lint.stderr.strip(), lint.stdout + lint.stderr


def test_unwritable_metrics_path_fails_clearly(ownertrace, tmp_path):
    p = subprocess.run([ownertrace, "replay", "--prometheus", str(tmp_path / "missing" / "x.prom"), str(RECORDING)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, p.stderr
    assert "cannot create metrics file" in p.stderr and "directory exists" in p.stderr

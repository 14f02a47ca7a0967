"""Replay and the recording reader on this host (no kernel needed): the
committed recordings replay cleanly, and a bounded libFuzzer run finds no
crash in the reader and everything behind it."""
import subprocess

import pytest

from conftest import BUILD, REPO

DATA = REPO / "tests" / "data"
FUZZER = BUILD / "fuzz" / "fuzz_replay"


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300, **kw)


@pytest.mark.parametrize("args,needle", [
    (["replay"], "replay needs a recording FILE"),
    (["record"], "record needs a FILE"),
    (["run"], "run needs a command after --"),
    (["replay", "--kprobes", "x.otr"], "do not apply to replay"),
    (["trace", "--", "true"], "only for `ownertrace run`"),
])
def test_subcommand_usage(ownertrace, args, needle):
    p = run([ownertrace] + args)
    assert p.returncode == 2, p.stderr
    assert needle in p.stderr


@pytest.mark.parametrize("content,needle", [
    (b"", "is empty"),
    (b"GIF89a not a trace at all", "not an ownertrace recording"),
    (b"OTRACE\r\n\x02\x00\x00\x00", "format version 2"),
    (b"OTRACE\r\n\x01\x00\x00\x00" + b"\x00" * 20, "header is cut short"),
])
def test_replay_refuses_bad_files(ownertrace, tmp_path, content, needle):
    f = tmp_path / "bad.otr"
    f.write_bytes(content)
    p = run([ownertrace, "replay", f])
    assert p.returncode >= 0, f"killed by signal {-p.returncode}"
    assert p.returncode == 1, p.stderr
    assert needle in p.stderr


def test_replay_missing_file(ownertrace):
    p = run([ownertrace, "replay", "/nonexistent/trace.otr"])
    assert p.returncode == 1 and "cannot open" in p.stderr


def recordings():
    return sorted(DATA.glob("*.otr"))


# The exit status each committed recording replays to: 0 clean, 3 anomalies.
EXIT_STATUS = {"vfio-6.1.otr": 0, "vfio-6.12-arm64.otr": 0, "census-leak-6.1.otr": 3}  # the census one holds a preexisting_leak


def test_recordings_exist():
    assert recordings(), "tests/data has no recordings"
    assert sorted(EXIT_STATUS) == [r.name for r in recordings()], "add each recording's exit status to EXIT_STATUS"


@pytest.mark.parametrize("rec", recordings(), ids=lambda p: p.name)
def test_replay_matches_golden(ownertrace, rec, tmp_path):
    """Committed recordings from the VM replay to the committed JSON, and a
    cut-short copy replays what it has, then fails with a clear error."""
    golden = rec.with_suffix(".jsonl")
    out = tmp_path / "out.jsonl"
    p = run([ownertrace, "replay", "--json", "-o", out, rec])
    assert p.returncode == EXIT_STATUS[rec.name], p.stderr
    assert out.read_text() == golden.read_text()
    cut = tmp_path / "cut.otr"
    cut.write_bytes(rec.read_bytes()[:-40])
    p = run([ownertrace, "replay", cut])
    assert p.returncode == 1 and "truncated recording" in p.stderr, p.stderr


def test_fuzz_reader_briefly(tmp_path):
    """A bounded fuzz run (make fuzz runs longer) over the committed recordings."""
    assert FUZZER.exists(), "fuzzer not built: make build/fuzz/fuzz_replay"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    p = run([FUZZER, "-max_total_time=20", "-timeout=5", "-rss_limit_mb=2048",
             f"-artifact_prefix={tmp_path}/", corpus, DATA])
    assert p.returncode == 0, p.stderr[-3000:]
    assert "Done" in p.stderr, p.stderr[-2000:]

"""The binary on this host, without a VM: usage errors, privileges, BTF,
and a kernel that refuses tracing (this development machine's case)."""
import os
import re
import shutil
from pathlib import Path
import subprocess

import pytest

import hostcaps

ROOT = os.geteuid() == 0
# The binary checks privileges first, so without root every tracing path
# below ends at "needs root": those tests run as root (CI does) and skip
# otherwise, all on this one condition.
needs_root = pytest.mark.skipif(not ROOT, reason="needs root (the binary's privilege check comes first)")


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


def test_help_tells_the_truth(ownertrace):
    p = run([ownertrace, "--help"])
    assert p.returncode == 0
    for opt in ("--json", "--device", "--driver", "--group", "--duration", "--kprobes",
                "--dry-run", "--raw-pointers", "--stacks", "Exit status"):
        assert opt in p.stdout, opt


@pytest.mark.parametrize("args,needle", [
    (["--group", "abc"], "--group wants a group number"),
    (["--duration", "-3"], "--duration wants a positive number"),
    (["--ringbuf-size", "1000"], "power of two"),
    (["--ringbuf-size", "2"], "power of two from 4 to 1048576"),
    (["--ringbuf-size", "4k"], "power of two from 4 to 1048576"),
    (["--maxactive", "0"], "--maxactive wants"),
    (["--no-such-flag"], "unrecognized option"),
    (["extra"], "unexpected argument"),
])
def test_usage_errors_exit_2(ownertrace, args, needle):
    p = run([ownertrace] + args)
    assert p.returncode == 2, p.stderr
    assert needle in p.stderr


def test_static_binary(ownertrace):
    out = run(["file", ownertrace]).stdout
    assert "statically linked" in out, out


def test_unprivileged_user_is_told_to_use_root(ownertrace):
    """As root, drop to nobody with setpriv; already unprivileged, run as is."""
    if ROOT:
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) missing"
        p = run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", ownertrace, "-t", "1"])
    else:
        p = run([ownertrace, "-t", "1"])
    assert p.returncode == 1, p.stderr
    assert "needs root" in p.stderr and "sudo" in p.stderr
    assert "unprivileged user" in p.stderr


@pytest.mark.skipif(not ROOT, reason="needs root to drop capabilities")
def test_root_without_capabilities(ownertrace):
    p = run(["setpriv", "--inh-caps=-all", "--bounding-set=-all", ownertrace, "-t", "1"])
    assert p.returncode == 1, p.stderr
    assert "CAP_BPF" in p.stderr and "without those capabilities" in p.stderr


@needs_root
def test_bad_btf_path(ownertrace):
    p = run([ownertrace, "--btf", "/nonexistent/vmlinux", "-t", "1"])
    assert p.returncode == 1, p.stderr
    assert "cannot read the BTF file given with --btf" in p.stderr


@pytest.mark.skipif(not ROOT, reason="needs root for a mount namespace")
def test_kernel_without_btf(ownertrace):
    # Hide /sys/kernel/btf in a private mount namespace: the same view a
    # kernel built without CONFIG_DEBUG_INFO_BTF gives.
    p = run(["unshare", "-m", "sh", "-c",
             f"mount -t tmpfs none /sys/kernel/btf && exec {ownertrace} -t 1"])
    assert p.returncode == 1, p.stdout + p.stderr
    assert "exposes no BTF" in p.stderr
    assert "CONFIG_DEBUG_INFO_BTF" in p.stderr


@pytest.fixture(scope="module")
def host_can_trace():
    """Whether this kernel lets BPF trace really_probe, found out without
    ownertrace (tests/hostcaps.py): (works, why)."""
    return hostcaps.can_trace()


@needs_root
def test_hostcaps_reaches_the_kernel():
    """The check below relies on tests/hostcaps.py: its bpf() calls are
    well formed (a socket filter loads), so what it reports as refused is."""
    ok, why = hostcaps.plain_program_loads()
    assert ok, why


@needs_root
def test_this_host_traces_or_says_exactly_why_not(ownertrace, host_can_trace):
    """Where the kernel refuses tracing programs (the development machine and
    CI), the dry run must fail and name what was refused; where tracing
    works, it must succeed and show attached points. Which of the two is
    decided beforehand, by hostcaps, not by the binary's own exit status."""
    can, why = host_can_trace
    p = run([ownertrace, "--dry-run"])
    assert p.returncode >= 0, f"killed by signal {-p.returncode}"
    # the per-point table is printed either way
    assert re.search(r"^probe\s+really_probe\s+\S", p.stdout, re.M), p.stdout
    if can:
        assert p.returncode == 0, f"hostcaps: {why}\n" + p.stdout + p.stderr
        assert re.search(r"really_probe\s+attached \((fentry/fexit|kprobe)", p.stdout), p.stdout
        assert "refused every way to trace" not in p.stderr, p.stderr
        return
    assert p.returncode == 1, f"hostcaps: {why}\n" + p.stdout + p.stderr
    err = p.stderr
    assert "refused every way to trace" in err
    # both mechanisms named, each with the kernel's reason
    assert re.search(r"fentry/fexit: .*(failed|refused|not tried).*: \S", err), err
    assert re.search(r"kprobes: +\S", err), err
    assert "make demo" in err
    assert not re.search(r"really_probe\s+attached", p.stdout), p.stdout


def test_version_names_libbpf(ownertrace):
    p = run([ownertrace, "--version"])
    assert p.returncode == 0
    assert re.fullmatch(r"ownertrace \d+\.\d+ \(libbpf 1\.\d+, recording format \d+\)\n", p.stdout), p.stdout


MAN = Path(__file__).resolve().parent.parent / "docs" / "ownertrace.8"


def test_man_page_renders_and_documents_every_option(ownertrace):
    """ownertrace(8) renders without groff warnings, and names every long
    option --help lists, every command, every exit status and anomaly kind."""
    p = run(["groff", "-man", "-Tutf8", "-ww", str(MAN)])
    assert p.returncode == 0 and not p.stderr, p.stderr
    page = re.sub(r".\x08", "", p.stdout)  # drop overstrike bold/underline
    helptext = run([ownertrace, "--help"]).stdout
    options = set(re.findall(r"--[a-z][a-z-]+", helptext))
    assert len(options) > 20
    missing = [o for o in sorted(options) if o not in page]
    assert not missing, f"options in --help but not in ownertrace(8): {missing}"
    for word in ("record", "replay", "run", "EXIT STATUS", "probe_failed_no_cleanup", "remove_kept_use",
                 "underflow", "leaked_claim", "nested_claim", "late_release", "sibling_race", "probe_blocked",
                 "divergence", "EXAMPLES"):
        assert word in page, word
    exits = page[page.index("EXIT STATUS"):page.index("REQUIREMENTS")]
    for status in ("0", "1", "2", "3", "4"):
        assert re.search(rf"^\s+{status}(\s+\S|\s*$)", exits, re.M), f"exit status {status} not documented"


def test_make_install(tmp_path):
    """make install honours PREFIX and DESTDIR."""
    repo = MAN.parent.parent
    p = subprocess.run(["make", "-s", "-C", str(repo), "install", f"DESTDIR={tmp_path}", "PREFIX=/usr"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    binary = tmp_path / "usr" / "sbin" / "ownertrace"
    man = tmp_path / "usr" / "share" / "man" / "man8" / "ownertrace.8"
    assert binary.is_file() and os.access(binary, os.X_OK)
    assert man.read_text() == MAN.read_text()
    assert run([binary, "--version"]).returncode == 0

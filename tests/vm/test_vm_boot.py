"""VM tests: boot every kernel in OT_KERNELS with the default topology.

    /usr/bin/python3 -m pytest -v tests/vm            # all kernels (6.1 6.12 7.2 6.1-arm64 6.12-arm64)
    OT_KERNELS=6.1 /usr/bin/python3 -m pytest -v tests/vm

A kernel that cannot be fetched or booted FAILS; nothing is skipped.
The harness self-tests (fail / panic / hang / channels) run on the first
kernel of each architecture: the arm64 verdict is made differently (no
isa-debug-exit, no pvpanic), so it is proven separately.
"""
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
import harness  # noqa: E402

from vmrun import ARM64_KERNELS, KERNELS, vfio_helper as vfio_helper_of  # noqa: E402
SCEN = REPO / "tests" / "scenarios"
NEG = HERE / "negative"


def check(res, allow_splats=False):
    print(res.summary())
    assert res.ok, res.failure_report()
    if not allow_splats:
        assert not res.splats, f"kernel splats: {res.splats}\n{res.failure_report()}"


@pytest.mark.parametrize("kernel", KERNELS + ARM64_KERNELS)
def test_boot_smoke(kernel):
    res = harness.run(kernel=kernel, scenario=str(SCEN / "boot-smoke.sh"), timeout=60)
    check(res)
    names = [r.split()[2] if r.startswith("ok") else r.split()[3] for r in res.results]
    # x86: e1000 + edu behind a pci-bridge; arm64: one multifunction slot
    topology = "same-multifunction-slot" if harness.arch_of(kernel) == "arm64" else "same-parent-bridge"
    for want in ("bridge-devices-share-group", topology, "lone-e1000-own-group", "edu-unbound", "btf-vmlinux"):
        assert want in names
    if harness.arch_of(kernel) == "arm64":
        # the BTF scripts/btf-from-image.py cuts out of the image (no boot, no
        # System.map) is the running kernel's: what vmlinux/arm64/vmlinux.h is made from
        import tempfile
        guest = [l.split()[-1] for l in res.log_lines if l.startswith("# btf-sha256 ")]
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run([sys.executable, str(REPO / "scripts" / "btf-from-image.py"),
                                str((harness.fetch_kernel(kernel) / "vmlinuz").resolve()), f"{d}/btf"],
                               capture_output=True, text=True)
            assert p.returncode == 0, p.stderr
            cut = hashlib.sha256(open(f"{d}/btf", "rb").read()).hexdigest()
        assert guest == [cut], (guest, cut)


@pytest.mark.parametrize("kernel", KERNELS + ARM64_KERNELS)
def test_vfio_smoke(kernel):
    res = harness.run(kernel=kernel, scenario=str(SCEN / "vfio-smoke.sh"), timeout=90,
                      guest_files=[vfio_helper_of(kernel)])
    check(res)
    assert any(r.startswith("ok") and " vfio-group-open" in r for r in res.results)


# ---- harness self-tests (first kernel of each architecture) ----------------

SELF_TEST_KERNELS = KERNELS[:1] + ARM64_KERNELS[:1]
self_test = pytest.mark.parametrize("kernel", SELF_TEST_KERNELS)


@self_test
def test_harness_fail_is_failure(kernel):
    res = harness.run(kernel=kernel, scenario=str(NEG / "fail.sh"), timeout=30)
    assert not res.ok
    assert res.rc == harness.RC_FAIL
    assert any(r.startswith("not ok") and "deliberate-failure" in r for r in res.results)
    assert "deliberate-failure" in res.reason


@self_test
def test_harness_panic_is_failure(kernel):
    res = harness.run(kernel=kernel, scenario=str(NEG / "panic.sh"), timeout=60)
    assert not res.ok
    assert res.rc == harness.RC_PANIC
    assert "panic" in res.reason.lower()
    assert any("Kernel panic" in s for s in res.splats)


@self_test
def test_harness_forged_verdict_then_panic_is_failure(kernel):
    """A scenario writes a passing verdict itself (results and, on arm64, the
    verdict port) and then panics: still a failure. On arm64 QEMU exits 0
    either way; QMP's shutdown reason (guest-reset, not guest-shutdown) and
    the console's panic line tell them apart."""
    res = harness.run(kernel=kernel, scenario=str(NEG / "fake-verdict-panic.sh"), timeout=60)
    assert not res.ok
    assert res.rc == harness.RC_PANIC, res.failure_report()
    assert "panic" in res.reason.lower()
    if harness.arch_of(kernel) == "arm64":
        assert f"ot-verdict {res.nonce} 0x10" in (res.out_dir / "verdict.txt").read_text()
        assert "guest-reset" in res.reason


@self_test
def test_harness_guest_timeout_is_failure(kernel):
    res = harness.run(kernel=kernel, scenario=str(NEG / "hang.sh"), timeout=5)
    assert not res.ok
    assert res.rc == harness.RC_FAIL
    assert "TIMEOUT" in res.reason


@self_test
def test_harness_host_timeout_is_failure(kernel):
    # guest limit far away; the host limit (kill of QEMU) must end the run
    res = harness.run(kernel=kernel, scenario=str(NEG / "hang.sh"), timeout=600, host_timeout=25)
    assert not res.ok
    assert res.rc in harness.RC_TIMEOUT
    assert "timeout" in res.reason
    assert res.duration < 60


@self_test
def test_harness_channels(kernel):
    res = harness.run(kernel=kernel, scenario=str(NEG / "channels.sh"), timeout=30)
    check(res)
    assert res.artifacts["text.txt"].read_bytes() == b"line1\nline2\n"
    data = res.artifacts["random.bin"].read_bytes()
    assert len(data) == 3072
    assert hashlib.sha256(data).hexdigest() == res.artifacts["random.sha"].read_text().strip()
    assert "stream line one\nstream line two\n" in res.stream
    assert (res.out_dir / "console.log").is_file()


@self_test
def test_harness_channels_shared(kernel):
    """Two writers at once on the stream (and on results) lose nothing."""
    res = harness.run(kernel=kernel, scenario=str(NEG / "channels-shared.sh"), timeout=30)
    check(res)
    for i in range(1, 6):
        assert f"background {i}\n" in res.stream, res.stream
    for i in range(1, 4):
        assert f"foreground {i}\n" in res.stream, res.stream
    assert "# from a second writer" in res.log_lines


def test_harness_arm64_verdict_rules():
    """The arm64 verdict without a VM: a pass needs this run's verdict line,
    a PSCI power-off and no panic on the console."""
    class Q:
        def __init__(self, reason):
            self.shutdown_reason, self.error = reason, None
    ok_console = "[    1.0] booted\n"
    v = "ot-verdict abc 0x10\n"
    assert harness.arm64_exit_code(0, Q("guest-shutdown"), v, "abc", ok_console)[0] == harness.RC_PASS
    assert harness.arm64_exit_code(0, Q("guest-shutdown"), "ot-verdict abc 0x11\n", "abc",
                                   ok_console)[0] == harness.RC_FAIL
    # another run's nonce, no line, or no power-off: no verdict
    assert harness.arm64_exit_code(0, Q("guest-shutdown"), "ot-verdict xyz 0x10\n", "abc", ok_console)[0] == 0
    assert harness.arm64_exit_code(0, Q("guest-shutdown"), "", "abc", ok_console)[0] == 0
    assert harness.arm64_exit_code(0, Q(None), v, "abc", ok_console)[0] == 0
    # a reset (panic=-1 reboot) or a panic line beats any verdict line
    assert harness.arm64_exit_code(0, Q("guest-reset"), v, "abc", ok_console)[0] == harness.RC_PANIC
    assert harness.arm64_exit_code(0, Q("guest-shutdown"), v, "abc",
                                   "[    2.0] Kernel panic - not syncing: x\n")[0] == harness.RC_PANIC
    # scenario output (no printk timestamp) that merely says "Kernel panic" is not one
    assert harness.arm64_exit_code(0, Q("guest-shutdown"), v, "abc", "echo Kernel panic\n")[0] == harness.RC_PASS


def test_harness_bad_kernel_raises():
    with pytest.raises(harness.HarnessError):
        harness.run(kernel="9.9", scenario=str(NEG / "fail.sh"))
    with pytest.raises(harness.HarnessError):
        harness.run(kernel="9.9-arm64", scenario=str(NEG / "fail.sh"))


def test_splat_scan():
    text = ("[    1.0] ok line\n[    2.5] WARNING: CPU: 0 PID: 1 at foo.c:1 bar+0x1/0x2\n"
            "user output WARNING: not a kernel line\n[   3.1] BUG: kernel NULL pointer dereference\n")
    s = harness.find_splats(text)
    assert len(s) == 2 and "WARNING: CPU" in s[0] and "BUG:" in s[1]

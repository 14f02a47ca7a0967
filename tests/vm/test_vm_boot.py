"""VM tests: boot every kernel in OT_KERNELS with the default topology.

    /usr/bin/python3 -m pytest -v tests/vm            # all kernels (6.1 6.12 7.2)
    OT_KERNELS=6.1 /usr/bin/python3 -m pytest -v tests/vm

A kernel that cannot be fetched or booted FAILS; nothing is skipped.
The harness self-tests (fail / panic / hang / channels) run on the first kernel.
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

from vmrun import KERNELS  # noqa: E402
SCEN = REPO / "tests" / "scenarios"
NEG = HERE / "negative"
HELPER = REPO / "build" / "helpers" / "vfio_group_open"


@pytest.fixture(scope="session")
def vfio_helper():
    subprocess.run(["make", "-s", "-C", str(REPO / "tests" / "helpers")], check=True)
    assert HELPER.is_file()
    return f"{HELPER}:/bin/vfio_group_open"


def check(res, allow_splats=False):
    print(res.summary())
    assert res.ok, res.failure_report()
    if not allow_splats:
        assert not res.splats, f"kernel splats: {res.splats}\n{res.failure_report()}"


@pytest.mark.parametrize("kernel", KERNELS)
def test_boot_smoke(kernel):
    res = harness.run(kernel=kernel, scenario=str(SCEN / "boot-smoke.sh"), timeout=60)
    check(res)
    names = [r.split()[2] if r.startswith("ok") else r.split()[3] for r in res.results]
    for want in ("bridge-devices-share-group", "lone-e1000-own-group", "edu-unbound", "btf-vmlinux"):
        assert want in names


@pytest.mark.parametrize("kernel", KERNELS)
def test_vfio_smoke(kernel, vfio_helper):
    res = harness.run(kernel=kernel, scenario=str(SCEN / "vfio-smoke.sh"), timeout=90,
                      guest_files=[vfio_helper])
    check(res)
    assert any(r.startswith("ok") and " vfio-group-open" in r for r in res.results)


# ---- harness self-tests (first kernel only) -------------------------------

K0 = KERNELS[0]


def test_harness_fail_is_failure():
    res = harness.run(kernel=K0, scenario=str(NEG / "fail.sh"), timeout=30)
    assert not res.ok
    assert res.rc == harness.RC_FAIL
    assert any(r.startswith("not ok") and "deliberate-failure" in r for r in res.results)
    assert "deliberate-failure" in res.reason


def test_harness_panic_is_failure():
    res = harness.run(kernel=K0, scenario=str(NEG / "panic.sh"), timeout=60)
    assert not res.ok
    assert res.rc == harness.RC_PANIC
    assert "panic" in res.reason.lower()
    assert any("Kernel panic" in s for s in res.splats)


def test_harness_guest_timeout_is_failure():
    res = harness.run(kernel=K0, scenario=str(NEG / "hang.sh"), timeout=5)
    assert not res.ok
    assert res.rc == harness.RC_FAIL
    assert "TIMEOUT" in res.reason


def test_harness_host_timeout_is_failure():
    # guest limit far away; the host limit (kill of QEMU) must end the run
    res = harness.run(kernel=K0, scenario=str(NEG / "hang.sh"), timeout=600, host_timeout=25)
    assert not res.ok
    assert res.rc in harness.RC_TIMEOUT
    assert "timeout" in res.reason
    assert res.duration < 60


def test_harness_channels():
    res = harness.run(kernel=K0, scenario=str(NEG / "channels.sh"), timeout=30)
    check(res)
    assert res.artifacts["text.txt"].read_bytes() == b"line1\nline2\n"
    data = res.artifacts["random.bin"].read_bytes()
    assert len(data) == 3072
    assert hashlib.sha256(data).hexdigest() == res.artifacts["random.sha"].read_text().strip()
    assert "stream line one\nstream line two\n" in res.stream
    assert (res.out_dir / "console.log").is_file()


def test_harness_bad_kernel_raises():
    with pytest.raises(harness.HarnessError):
        harness.run(kernel="9.9", scenario=str(NEG / "fail.sh"))


def test_splat_scan():
    text = ("[    1.0] ok line\n[    2.5] WARNING: CPU: 0 PID: 1 at foo.c:1 bar+0x1/0x2\n"
            "user output WARNING: not a kernel line\n[   3.1] BUG: kernel NULL pointer dereference\n")
    s = harness.find_splats(text)
    assert len(s) == 2 and "WARNING: CPU" in s[0] and "BUG:" in s[1]

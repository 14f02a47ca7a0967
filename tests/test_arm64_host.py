"""The arm64 build on this (x86) host, without a VM: `make ARCH=arm64` gives
one static aarch64 build-arm64/ownertrace, its unit tests pass under
qemu-aarch64-static, `make install` works the same, and recordings cross
architectures both ways byte for byte (the VM side of that is in
tests/vm/test_smoke.py: live arm64 recordings, and the arm64 guest replaying
an x86 one).

`make check` / `make check-unit` build it first (`make arm64`); a missing
binary is a failure, not a skip. On an arm64 host the binaries run natively.
"""
import os
import platform
import shutil
import subprocess
import sys

import pytest

from conftest import BUILD, OWNERTRACE, REPO

sys.path.insert(0, str(REPO / "tests" / "vm"))
import harness  # noqa: E402

ARM64 = REPO / "build-arm64"
ARM64_BIN = ARM64 / "ownertrace"
DATA = REPO / "tests" / "data"
# (recording, what its live run printed): one made on x86, one on arm64
X86_REC = (DATA / "vfio-6.1.otr", DATA / "vfio-6.1.jsonl")
ARM64_REC = (DATA / "vfio-6.12-arm64.otr", DATA / "vfio-6.12-arm64.jsonl")
UNIT = sorted(p.stem for d in ("unit", "unit/kernel") for p in (REPO / "tests" / d).glob("test_*.c"))


def on_arm64(cmd):
    """cmd with an arm64 binary first: through qemu-aarch64-static unless this host is arm64."""
    if platform.machine() == "aarch64":
        return cmd
    qemu = shutil.which("qemu-aarch64-static")
    assert qemu, "qemu-aarch64-static missing (scripts/install-deps.sh installs qemu-user-static)"
    return [qemu] + cmd


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)


@pytest.fixture(scope="module")
def arm64_bin():
    assert ARM64_BIN.is_file(), f"{ARM64_BIN} missing: run `make arm64` (or `make ARCH=arm64`) first"
    return str(ARM64_BIN)


def test_one_static_aarch64_binary(arm64_bin):
    assert harness.elf_arch(ARM64_BIN) == "arm64"
    out = run(["file", arm64_bin]).stdout
    assert "ARM aarch64" in out and "statically linked" in out, out
    # the x86 build is where it always was
    assert harness.elf_arch(OWNERTRACE) == "x86"


def test_version_same_as_x86(arm64_bin):
    a = run(on_arm64([arm64_bin, "--version"]))
    x = run([str(OWNERTRACE), "--version"])
    assert a.returncode == 0 and x.returncode == 0, a.stderr + x.stderr
    assert a.stdout == x.stdout and a.stdout.startswith("ownertrace ")


@pytest.mark.parametrize("name", UNIT)
def test_unit_arm64(name):
    """Each unit binary, cross-built, passes on aarch64 (no valgrind there:
    the x86 run of tests/test_unit.py has it)."""
    binary = ARM64 / "tests" / name
    assert binary.is_file(), f"{binary} missing: run `make arm64` first"
    p = run(on_arm64([str(binary)]))
    assert p.returncode == 0, p.stdout + p.stderr
    assert " 0 failed" in p.stdout, p.stdout


@pytest.mark.parametrize("rec,live", [X86_REC, ARM64_REC], ids=["x86-recording", "arm64-recording"])
def test_recording_replays_the_same_on_both(arm64_bin, tmp_path, rec, live):
    """An x86 recording and an arm64 one (tests/data/vfio-6.12-arm64.otr, made
    by the arm64 guest of tests/vm/test_smoke.py on Debian 6.12 arm64, with
    what that run printed live beside it) each replay, on the x86 binary and
    on the arm64 binary, exactly as their live run printed them."""
    want = live.read_text()
    for name, cmd in (("x86", [str(OWNERTRACE)]), ("arm64", on_arm64([arm64_bin]))):
        out = tmp_path / f"{name}.jsonl"
        p = run(cmd + ["replay", "--json", "-o", str(out), str(rec)])
        assert p.returncode == 0, (name, p.stderr)
        assert out.read_text() == want, f"{name} replay of {rec.name} differs from its live output"


def test_make_install_arm64(tmp_path):
    """make install ARCH=arm64 installs the arm64 binary like the x86 one."""
    p = run(["make", "-s", "-C", str(REPO), "install", "ARCH=arm64", f"DESTDIR={tmp_path}", "PREFIX=/usr"])
    assert p.returncode == 0, p.stderr
    binary = tmp_path / "usr" / "sbin" / "ownertrace"
    assert binary.is_file() and os.access(binary, os.X_OK)
    assert harness.elf_arch(binary) == "arm64"
    assert (tmp_path / "usr" / "share" / "man" / "man8" / "ownertrace.8").is_file()
    assert run(on_arm64([str(binary), "--version"])).returncode == 0


def test_arm64_vmlinux_header_is_documented():
    """vmlinux/arm64/vmlinux.h is generated from Debian's arm64 BTF and says so."""
    src = (REPO / "vmlinux" / "arm64" / "SOURCE").read_text()
    assert "arm64" in src and "btf-from-image.py" in src
    assert "struct user_pt_regs {" in (REPO / "vmlinux" / "arm64" / "vmlinux.h").read_text()


def test_btf_from_image(tmp_path):
    """scripts/btf-from-image.py keeps the largest consistent BTF blob of an image."""
    import struct
    strings = b"\0int\0"
    types = struct.pack("<III", 1, 0x01000000, 4) + struct.pack("<I", 32)   # INT "int" 4 bytes
    blob = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strings)) + types + strings
    small = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, 0, 0, 1) + b"\0"
    image = b"MZ" + b"\x00" * 100 + small + b"\x11" * 50 + blob + b"\x22" * 30
    (tmp_path / "Image").write_bytes(image)
    p = run([sys.executable, str(REPO / "scripts" / "btf-from-image.py"), str(tmp_path / "Image"),
             str(tmp_path / "out.btf")])
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "out.btf").read_bytes() == blob
    d = run(["bpftool", "btf", "dump", "file", str(tmp_path / "out.btf")])
    assert d.returncode == 0 and "INT 'int'" in d.stdout, d.stdout + d.stderr

"""Shared by the VM test files: which kernels to run, one cached boot per
(scenario, kernel), and readers for the artifacts a scenario sends back."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests"))
import harness  # noqa: E402
import jsonl_schema  # noqa: E402

# OT_KERNELS lists both architectures' kernels (an -arm64 suffix is Debian's
# arm64 build, booted in qemu-system-aarch64). KERNELS are the x86 ones (what
# every VM test file runs on); ARM64_KERNELS the arm64 ones, which the files
# that cover arm64 (test_vm_boot, test_smoke, test_module_build) add.
ALL_KERNELS = [k for k in re.split(r"[\s,]+", os.environ.get(
    "OT_KERNELS", "6.1 6.12 7.2 6.1-arm64 6.12-arm64")) if k]
KERNELS = [k for k in ALL_KERNELS if harness.arch_of(k) == "x86"]
ARM64_KERNELS = [k for k in ALL_KERNELS if harness.arch_of(k) == "arm64"]
SCENARIOS = REPO / "tests" / "scenarios"
OWNERTRACE = REPO / "build" / "ownertrace"          # the host's binary (replay, diff)
HELPERS = REPO / "build" / "helpers"
ARM64_BUILD = REPO / "build-arm64"
# a recording made on x86 (Debian 6.1 amd64), which the arm64 guests replay
X86_RECORDING = REPO / "tests" / "data" / "vfio-6.1.otr"

_runs = {}


def guest_helper(name, kernel="6.1"):
    """tests/helpers/NAME.c, made static for the kernel's architecture
    (build/helpers/, build-arm64/helpers/), as the guest's /bin/NAME."""
    if harness.arch_of(kernel) == "arm64":
        cc = "gcc" if os.uname().machine == "aarch64" else "aarch64-linux-gnu-gcc"
        subprocess.run(["make", "-s", "-C", str(REPO), "ARCH=arm64", f"OUTPUT={ARM64_BUILD}", f"CC={cc}",
                        "helpers"], check=True)
        return f"{ARM64_BUILD / 'helpers' / name}:/bin/{name}"
    subprocess.run(["make", "-s", "-C", str(REPO / "tests" / "helpers")], check=True)
    return f"{HELPERS / name}:/bin/{name}"


def vfio_helper(kernel="6.1"):
    return guest_helper("vfio_group_open", kernel)


def default_mode(kernel):
    """The attach mode ownertrace picks by itself: Debian's arm64 6.1 has no
    fentry (no DYNAMIC_FTRACE_WITH_DIRECT_CALLS), so it falls back to kprobes."""
    return "kprobe" if kernel == "6.1-arm64" else "fentry"


def cached_run(scenario, kernel, allow_splats=False, **kw):
    """Boot once per (scenario, kernel); every test reads the same run. A run
    that did not pass, or (unless allowed) left kernel splats, fails them all."""
    key = (scenario, kernel)
    if key not in _runs:
        res = harness.run(kernel=kernel, scenario=str(SCENARIOS / scenario), **kw)
        print(res.summary())
        _runs[key] = res
    res = _runs[key]
    assert res.ok, res.failure_report()
    if not allow_splats:
        assert not res.splats, f"kernel splats: {res.splats}\n{res.failure_report()}"
    return res


def text(res, name):
    assert name in res.artifacts, f"missing artifact {name}: {sorted(res.artifacts)}"
    return Path(res.artifacts[name]).read_text()


def jsonl(s):
    """Records of ownertrace --json output: every line must parse and match
    docs/schema/ownertrace-jsonl.schema.json."""
    records = [json.loads(line) for line in s.splitlines()]
    jsonl_schema.check_records(records)
    return records


def facts(res):
    return dict(line.split("=", 1) for line in text(res, "facts").split())


def exit_status(res, name):
    """The exit status a scenario appended as exit=N to NAME.err."""
    m = re.search(r"^exit=(\d+)$", text(res, f"{name}.err"), re.M)
    assert m, text(res, f"{name}.err")
    return int(m.group(1))


def replay_json(recording, dest, *options):
    """Replay a recording on the host into dest; returns the process."""
    return subprocess.run([str(OWNERTRACE), "replay", "--json", *options, "-o", str(dest), str(recording)],
                          capture_output=True, text=True, timeout=60)


MODULE_BUILD = REPO / "tests" / "module" / "build.sh"
MODULE_GUEST_LIB = REPO / "tests" / "module" / "guest-mod-lib.sh"
_modules = {}


def build_module(kernel):
    """tests/module/build.sh KERNEL, once per kernel: (path to the .ko, None)
    or (None, the reason it failed)."""
    if kernel not in _modules:
        p = subprocess.run(["bash", str(MODULE_BUILD), kernel], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        lines = [l for l in p.stdout.splitlines() if l.strip()]
        if p.returncode == 0 and lines and Path(lines[-1]).is_file():
            _modules[kernel] = (Path(lines[-1]), None)
        else:
            err = [l for l in p.stderr.splitlines() if "ERROR" in l or "error" in l]
            _modules[kernel] = (None, f"tests/module/build.sh {kernel} failed (rc {p.returncode}): "
                                      + "\n".join(err[-8:] or p.stderr.splitlines()[-15:]))
    return _modules[kernel]


def module_guest_files(kernel):
    """Guest files for the mod-*.sh scenarios; fails the test if the module does not build."""
    import pytest
    ko, why = build_module(kernel)
    if ko is None:
        pytest.fail(why, pytrace=False)
    return [f"{ko}:/lib/ot/ot_testmod.ko", f"{MODULE_GUEST_LIB}:/lib/ot/mod-lib.sh"]

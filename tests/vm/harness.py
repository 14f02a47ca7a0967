#!/usr/bin/python3
"""QEMU (TCG) test harness for ownertrace.

Boots a Debian kernel (6.1 / 6.12 / 7.2, fetched by fetch-kernel.sh) with a
busybox initramfs on q35 + intel-iommu, or an arm64 one (6.1-arm64,
6.12-arm64) on virt + SMMUv3, runs one scenario script inside the guest and
reports the verdict. See tests/README.md for the full description.

Python API::

    from harness import run
    r = run(kernel="6.1", scenario="tests/scenarios/boot-smoke.sh")
    r.ok, r.rc, r.reason, r.results, r.artifacts, r.console, r.splats, r.out_dir

CLI::

    python3 tests/vm/harness.py run --kernel 6.1 --scenario tests/scenarios/foo.sh \
        [--smp N] [--timeout S] [--qemu-arg ARG ...] [--guest-file SRC:DEST ...] \
        [--append KARG ...] [--module NAME ...] [--bare] [--stream] [--console] [--out DIR]
    python3 tests/vm/harness.py fetch --kernel 7.2
    python3 tests/vm/harness.py initramfs --kernel 6.12

Verdict (x86): ONLY QEMU's exit status counts (isa-debug-exit, value V -> rc (V<<1)|1):
    33 pass, 35 scenario failed, 37 harness error in guest,
    1 kernel panic (pvpanic, -action panic=exit-failure), 0 no verdict,
    124/137 host timeout. Everything but 33 (with the run's nonce in the
    results file) is a failure.
Verdict (arm64: no isa-debug-exit, no pvpanic, QEMU exits 0 on a panic): the
    same codes, made from three things a panic cannot fake together: the
    line "ot-verdict NONCE V" on the verdict port (written by /init only),
    QEMU's SHUTDOWN event over QMP with reason "guest-shutdown" (PSCI
    SYSTEM_OFF; a panic reboots: panic=-1 + -no-reboot gives "guest-reset")
    and no "Kernel panic" on the console.
"""
from __future__ import annotations

import argparse
import base64
import dataclasses
import gzip
import hashlib
import io
import lzma
import os
import re
import json
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
HARNESS_VERSION = "1"

KERNELS = ("6.1", "6.12", "7.2", "6.1-arm64", "6.12-arm64", "7.2-arm64")
# kernels built here rather than fetched: name -> arguments of tests/vm/build-kernel.sh
BUILT_KERNELS = {"6.12-iommufd": ["iommufd"]}
ANY_KERNEL = KERNELS + tuple(BUILT_KERNELS)


def arch_of(kernel: str) -> str:
    """'x86' or 'arm64': a kernel name ending in -arm64 is Debian's arm64 build."""
    return "arm64" if kernel.endswith("-arm64") else "x86"

# isa-debug-exit values written by the guest and the resulting QEMU exit codes
EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0x10, 0x11, 0x12
RC_PASS, RC_FAIL, RC_ERROR = (EXIT_PASS << 1) | 1, (EXIT_FAIL << 1) | 1, (EXIT_ERROR << 1) | 1
RC_PANIC = 1
RC_TIMEOUT = (124, 137)

# modules loaded in the guest, in this order (dependencies resolved on the host);
# pvpanic first so that a panic anywhere later ends QEMU with rc 1.
REQUIRED_MODULES = ["pvpanic", "pvpanic-mmio", "e1000", "vfio", "vfio_iommu_type1", "vfio-pci"]
# arm64: virtio-serial on virtio-mmio carries results/stream/verdict (the virt
# machine has one PL011); pci-stub primes driverless devices (groups appear at
# first probe under arm-smmu-v3). Built-in ones (6.12: virtio_console) are fine.
REQUIRED_MODULES_ARM64 = ["virtio_mmio", "virtio_console", "e1000", "pci-stub", "vfio",
                          "vfio_iommu_type1", "vfio-pci"]
# loaded if the kernel has them as modules (built-in or absent is fine)
OPTIONAL_MODULES = ["iommufd"]

DEFAULT_TIMEOUT = 60          # per-scenario limit inside the guest (s)
BOOT_BUDGET = int(os.environ.get("OT_BOOT_BUDGET", "120"))  # host limit = timeout + this
# no_timer_check: under TCG on a loaded host the IO-APIC timer check at boot can
# miss its ticks and panic ("timer doesn't work through Interrupt-remapped
# IO-APIC") before anything of ours runs; the check proves nothing about the tracer
KERNEL_ARGS = ["console=ttyS0", "panic=-1", "oops=panic", "intel_iommu=on", "iommu=nopt",
               "loglevel=7", "printk.devkmsg=on", "no_timer_check"]
# arm64: the SMMUv3's default domain is already translated (strict); a panic
# reboots at once, which -no-reboot turns into QEMU's exit (reason guest-reset)
KERNEL_ARGS_ARM64 = ["console=ttyAMA0", "panic=-1", "oops=panic", "loglevel=7", "printk.devkmsg=on"]
# virt with an SMMUv3 in front of the PCIe root complex; GICv3 (its ITS gives
# VFIO the MSI isolation it requires; with GICv2 VFIO_SET_IOMMU is EPERM);
# pauth-impdef: Debian's kernels use pointer authentication, whose default
# QARMA emulation makes TCG boots 3-5x slower
ARM64_MACHINE = "virt,iommu=smmuv3,gic-version=3"
ARM64_CPU = "max,pauth-impdef=on"
# the platform test device of the arm64 DTB (ot_testmod's platform_driver
# matches it); its StreamID is far from the PCI ones
OT_TEST_NODE = "/ot-test"
OT_TEST_COMPATIBLE = "ownertrace,test-device"
OT_TEST_SID = 0xff02

SPLAT_PATTERNS = [
    r"WARNING:", r"BUG:", r"Oops", r"kernel BUG at", r"UBSAN:", r"KASAN:", r"KFENCE:",
    r"general protection fault", r"soft lockup", r"hard LOCKUP",
    r"INFO: task .* blocked for more than", r"rcu: INFO: .*detected stall",
    r"Kernel panic", r"list_(add|del) corruption", r"refcount_t:", r"Unable to handle kernel",
]
SPLAT_RE = re.compile("|".join(SPLAT_PATTERNS))


class HarnessError(RuntimeError):
    """The harness could not do its job (kernel not fetchable, QEMU not startable...)."""


@dataclasses.dataclass
class Result:
    ok: bool                 # verdict: QEMU rc == 33 and the run's nonce seen
    rc: int                  # QEMU (or host timeout) exit status
    reason: str              # human-readable verdict explanation
    results: list            # "ok N name" / "not ok N name # reason" lines
    artifacts: dict          # name -> Path of OUT/artifacts/NAME
    console: str             # guest console (ttyS0)
    splats: list             # kernel splat lines found in console/dmesg
    out_dir: Path
    kernel: str = ""
    release: str = ""
    stream: str = ""         # what the guest wrote to the stream port (ttyS2)
    log_lines: list = dataclasses.field(default_factory=list)  # every results.txt line
    duration: float = 0.0    # wall clock of the QEMU run (s)
    nonce: str = ""

    def summary(self) -> str:
        return (f"{'PASS' if self.ok else 'FAIL'} kernel={self.kernel} ({self.release}) rc={self.rc} "
                f"time={self.duration:.1f}s reason={self.reason} splats={len(self.splats)} "
                f"out={self.out_dir}")

    def failure_report(self, console_lines: int = 60) -> str:
        out = [self.summary(), "---- results.txt ----"]
        out += self.log_lines or ["(empty)"]
        out.append(f"---- console tail ({console_lines} lines) ----")
        out += self.console.splitlines()[-console_lines:]
        qerr = self.out_dir / "qemu.stderr"
        if qerr.exists() and qerr.stat().st_size:
            out.append("---- qemu stderr ----")
            out += qerr.read_text(errors="replace").splitlines()[-20:]
        return "\n".join(out)


# --------------------------------------------------------------------------
# kernels

def cache_dir() -> Path:
    return Path(os.environ.get("OT_CACHE", REPO / ".cache" / "kernels"))


def fetch_kernel(kernel: str) -> Path:
    """Run fetch-kernel.sh (idempotent), or build-kernel.sh for a kernel
    Debian does not ship (cached the same way); return the kernel directory."""
    if kernel in BUILT_KERNELS:
        script, args = "build-kernel.sh", BUILT_KERNELS[kernel]
    elif kernel in KERNELS:
        script, args = "fetch-kernel.sh", [kernel]
    else:
        raise HarnessError(f"unknown kernel {kernel!r}; expected one of {ANY_KERNEL}")
    p = subprocess.run(["bash", str(HERE / script), *args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise HarnessError(f"{script} {kernel} failed (rc {p.returncode}):\n{p.stderr.strip()[-3000:]}")
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    if not lines:
        raise HarnessError(f"fetch-kernel.sh {kernel} printed no directory")
    kdir = Path(lines[-1])
    need = ("vmlinuz", "release", "modules") + (("busybox",) if arch_of(kernel) == "arm64" else ())
    for f in need:
        if not (kdir / f).exists():
            raise HarnessError(f"kernel dir {kdir} lacks {f}")
    return kdir


def kdir_arch(kdir: Path) -> str:
    return "arm64" if (kdir / "release").read_text().strip().endswith("-arm64") else "x86"


# --------------------------------------------------------------------------
# cpio (newc) writer

class Cpio:
    def __init__(self):
        self.buf = io.BytesIO()
        self.ino = 1000
        self.dirs = set()

    def _entry(self, name: str, mode: int, data: bytes = b"", rdev=(0, 0)):
        name = name.lstrip("/")
        self.ino += 1
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{v:08X}" for v in (
            self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(nb), 0))
        self.buf.write(hdr.encode() + nb)
        self.buf.write(b"\0" * ((4 - (110 + len(nb)) % 4) % 4))
        self.buf.write(data)
        self.buf.write(b"\0" * ((4 - len(data) % 4) % 4))

    def mkdir(self, path: str):
        path = path.strip("/")
        if not path or path in self.dirs:
            return
        parent = os.path.dirname(path)
        if parent:
            self.mkdir(parent)
        self.dirs.add(path)
        self._entry(path, 0o040755)

    def file(self, path: str, data: bytes, mode: int = 0o644):
        self.mkdir(os.path.dirname(path.strip("/")))
        self._entry(path, 0o100000 | mode, data)

    def symlink(self, path: str, target: str):
        self.mkdir(os.path.dirname(path.strip("/")))
        self._entry(path, 0o120777, target.encode())

    def chardev(self, path: str, major: int, minor: int, mode: int = 0o600):
        self.mkdir(os.path.dirname(path.strip("/")))
        self._entry(path, 0o020000 | mode, b"", (major, minor))

    def gz(self) -> bytes:
        self._entry("TRAILER!!!", 0)
        return gzip.compress(self.buf.getvalue(), compresslevel=1)


# --------------------------------------------------------------------------
# initramfs

def _busybox(kdir: Path = None) -> Path:
    if kdir is not None and kdir_arch(kdir) == "arm64":
        bb = kdir / "busybox"     # bookworm's busybox-static:arm64 (fetch-kernel.sh)
        if not bb.exists():
            raise HarnessError(f"{bb} missing (tests/vm/fetch-kernel.sh fetches it)")
        return bb.resolve()
    for c in ("/bin/busybox", "/usr/bin/busybox"):
        if Path(c).exists():
            return Path(c)
    raise HarnessError("static busybox not found (install busybox-static: scripts/install-deps.sh)")


def resolve_modules(kdir: Path, extra=(), required=None, optional=OPTIONAL_MODULES) -> list:
    """Return [(name, path_on_host)] in load order, deduplicated: `required`
    (default: the architecture's REQUIRED_MODULES*)
    then `extra` (each must exist), then `optional` (if the kernel has them)."""
    release = (kdir / "release").read_text().strip()
    moddir = str(kdir / "modules")
    order, seen = [], set()

    def show(mod, required):
        p = subprocess.run(["modprobe", "-d", moddir, "-S", release, "--show-depends", mod],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            if required:
                raise HarnessError(f"module {mod} not found for {release}: {p.stderr.strip()}")
            return
        for line in p.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "insmod":
                path = parts[1]
                name = re.sub(r"\.ko(\.(xz|zst|gz))?$", "", os.path.basename(path))
                if name not in seen:
                    seen.add(name)
                    order.append((name, Path(path)))

    if required is None:
        required = REQUIRED_MODULES_ARM64 if kdir_arch(kdir) == "arm64" else REQUIRED_MODULES
    for m in list(required) + list(extra):
        show(m, True)
    for m in optional:
        show(m, False)
    return order


def _read_module(path: Path) -> bytes:
    data = path.read_bytes()
    s = str(path)
    if s.endswith(".xz"):
        return lzma.decompress(data)
    if s.endswith(".gz"):
        return gzip.decompress(data)
    if s.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", s], check=True, stdout=subprocess.PIPE).stdout
    return data


def build_base_initramfs(kdir: Path, extra_modules=(), force=False, quiet=False) -> Path:
    """busybox + init + guest-lib + decompressed modules; cached per input hash."""
    release = (kdir / "release").read_text().strip()
    arch = kdir_arch(kdir)
    bb = _busybox(kdir)
    mods = resolve_modules(kdir, extra_modules)
    init = (HERE / "guest-init.sh").read_bytes()
    lib = (HERE / "guest-lib.sh").read_bytes()
    h = hashlib.sha256()
    for part in (HARNESS_VERSION.encode(), release.encode(), init, lib, bb.read_bytes(),
                 Path(__file__).read_bytes(),
                 "\n".join(f"{n} {p} {p.stat().st_size} {p.stat().st_mtime}" for n, p in mods).encode()):
        h.update(hashlib.sha256(part).digest())
    key = h.hexdigest()[:16]
    idir = kdir / "initramfs"
    out = idir / f"base-{key}.cpio.gz"
    if out.exists() and not force:
        return out
    if not quiet:
        print(f"harness: building initramfs for {release} ({len(mods)} modules)", file=sys.stderr)
    c = Cpio()
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "run", "root",
              "etc", "mnt", "lib/ot/modules", "sys/kernel/tracing", "sys/fs/bpf"):
        c.mkdir(d)
    c.chardev("dev/console", 5, 1)
    c.chardev("dev/null", 1, 3, 0o666)
    c.file("bin/busybox", bb.read_bytes(), 0o755)
    if arch == "x86":
        applets = subprocess.run([str(bb), "--list-full"], check=True, stdout=subprocess.PIPE,
                                 text=True).stdout.split()
        for a in applets:
            if a != "bin/busybox" and a != "init":
                c.symlink(a, "/bin/busybox")
    else:
        # this host cannot run the arm64 busybox to list its applets: /init
        # (a /bin/sh script) runs `busybox --install -s` first
        c.symlink("bin/sh", "/bin/busybox")
    c.file("lib/ot/arch", (arch + "\n").encode())
    c.file("init", init, 0o755)
    c.file("lib/ot/guest-lib.sh", lib, 0o644)
    c.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    c.file("etc/group", b"root:x:0:\n")
    c.file("lib/ot/modules.order", ("\n".join(n for n, _ in mods) + "\n").encode())
    c.file("lib/ot/release", (release + "\n").encode())
    for n, p in mods:
        c.file(f"lib/ot/modules/{n}.ko", _read_module(p))
    idir.mkdir(exist_ok=True)
    # older builds go, but not one another test process (pytest -n) may be
    # about to read: only those untouched for an hour
    for old in idir.glob("base-*.cpio.gz"):
        try:
            if time.time() - old.stat().st_mtime > 3600:
                old.unlink()
        except FileNotFoundError:
            pass
    tmp = idir / f".tmp-{os.getpid()}-{key}"
    tmp.write_bytes(c.gz())
    tmp.rename(out)
    return out


def _is_static(path: Path) -> bool:
    head = path.read_bytes()[:4096]
    return b"/lib64/ld-linux" not in head and b"/lib/ld-linux" not in head


def ownertrace_binary(arch: str = "x86") -> Path:
    if arch == "arm64":
        return Path(os.environ.get("OT_BINARY_ARM64", REPO / "build-arm64" / "ownertrace"))
    return Path(os.environ.get("OT_BINARY", REPO / "build" / "ownertrace"))


ELF_MACHINE = {"x86": 62, "arm64": 183}   # EM_X86_64, EM_AARCH64


def elf_arch(path: Path):
    """'x86', 'arm64' or None (not a 64-bit little-endian ELF of either)."""
    head = path.read_bytes()[:20]
    if len(head) < 20 or head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
        return None
    machine = int.from_bytes(head[18:20], "little")
    return next((a for a, m in ELF_MACHINE.items() if m == machine), None)


def build_run_cpio(scenario: Path, guest_files, ownertrace=None, arch: str = "x86") -> bytes:
    """Per-run archive appended after the base one (later files win)."""
    c = Cpio()
    c.file("scenario.sh", scenario.read_bytes(), 0o755)
    ot = Path(ownertrace) if ownertrace else ownertrace_binary(arch)
    if ownertrace and not ot.is_file():
        raise HarnessError(f"ownertrace binary {ot} does not exist")
    if ot.is_file():
        if not _is_static(ot):
            print(f"harness: WARNING: {ot} looks dynamically linked; it will not run in the "
                  f"busybox guest", file=sys.stderr)
        if elf_arch(ot) != arch:
            raise HarnessError(f"{ot} is a {elf_arch(ot) or 'non-ELF'} binary; this {arch} guest "
                               f"cannot run it ({'make ARCH=arm64' if arch == 'arm64' else 'make'})")
        c.file("bin/ownertrace", ot.read_bytes(), 0o755)
    for spec in guest_files:
        if isinstance(spec, (tuple, list)):
            src, dest = spec
        else:
            src, sep, dest = str(spec).rpartition(":")
            if not sep or not src:
                raise HarnessError(f"--guest-file wants SRC:DEST, got {spec!r}")
        src = Path(src)
        if not src.is_file():
            raise HarnessError(f"guest file {src} does not exist")
        mode = 0o755 if os.access(src, os.X_OK) else 0o644
        if mode == 0o755 and elf_arch(src) not in (None, arch):
            raise HarnessError(f"guest file {src} is a {elf_arch(src)} binary; the guest is {arch}")
        c.file(str(dest), src.read_bytes(), mode)
    return c.gz()


# --------------------------------------------------------------------------
# QEMU

def default_topology() -> list:
    """e1000 alone on pcie.0 (own group); pci-bridge with e1000 + edu behind it (one group)."""
    return [
        "-netdev", "user,id=n0,restrict=on",
        "-netdev", "user,id=n1,restrict=on",
        "-device", "e1000,netdev=n0,bus=pcie.0,addr=0x2,mac=52:54:00:00:00:02",
        "-device", "pci-bridge,id=br0,bus=pcie.0,addr=0x5,chassis_nr=1,shpc=off",
        "-device", "e1000,netdev=n1,bus=br0,addr=0x1,mac=52:54:00:00:01:01",
        "-device", "edu,bus=br0,addr=0x2",
    ]


def default_topology_arm64() -> list:
    """e1000 alone on pcie.0 (own group); a multifunction slot with e1000 +
    edu (one group). Devices behind a PCI bridge get NO shared group under
    arm-smmu-v3 (it refuses the bridge's aliased StreamID: "stream 40 already
    in tree"), so the x86 bridge topology cannot be used."""
    return [
        "-netdev", "user,id=n0,restrict=on",
        "-netdev", "user,id=n1,restrict=on",
        "-device", "e1000,netdev=n0,bus=pcie.0,addr=0x2,mac=52:54:00:00:00:02",
        "-device", "e1000,netdev=n1,bus=pcie.0,addr=0x6.0,multifunction=on,mac=52:54:00:00:01:01",
        "-device", "edu,bus=pcie.0,addr=0x6.1",
    ]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise HarnessError(f"{name} not found (scripts/install-deps.sh)")
    return path


def arm64_dtb(smp: int, memory: str) -> Path:
    """QEMU's own virt DTB for these machine options, plus the platform test
    device: /ot-test { compatible = "ownertrace,test-device"; iommus = <&smmu 0xff02>; }
    (the stock DT puts no platform device behind the SMMU). Cached by options."""
    qemu = _tool("qemu-system-aarch64")
    opts = ["-M", ARM64_MACHINE, "-cpu", ARM64_CPU, "-accel", "tcg", "-m", memory, "-smp", str(smp)]
    key = hashlib.sha256(" ".join([qemu, str(Path(qemu).stat().st_mtime), *opts, OT_TEST_NODE,
                                   OT_TEST_COMPATIBLE, str(OT_TEST_SID)]).encode()).hexdigest()[:16]
    d = cache_dir() / "dtb"
    out = d / f"virt-ottest-{key}.dtb"
    if out.exists():
        return out
    d.mkdir(parents=True, exist_ok=True)
    tmp = d / f".tmp-{os.getpid()}-{key}.dtb"
    m = opts.index("-M") + 1
    dump = list(opts)
    dump[m] += f",dumpdtb={tmp}"
    p = subprocess.run([qemu, *dump, "-nodefaults", "-display", "none"], capture_output=True, text=True)
    if p.returncode != 0 or not tmp.exists():
        raise HarnessError(f"dumping the virt DTB failed: {p.stderr.strip()[-1000:]}")
    fdtget, fdtput = _tool("fdtget"), _tool("fdtput")
    nodes = subprocess.run([fdtget, "-l", str(tmp), "/"], capture_output=True, text=True).stdout.split()
    smmu = [n for n in nodes if n.startswith("smmuv3@")]
    if len(smmu) != 1:
        raise HarnessError(f"no single smmuv3 node in the virt DTB: {nodes}")
    phandle = subprocess.run([fdtget, str(tmp), f"/{smmu[0]}", "phandle"], capture_output=True,
                             text=True).stdout.strip()
    if not phandle.isdigit():
        raise HarnessError(f"/{smmu[0]} has no phandle in the virt DTB")
    for cmd in (["-c", str(tmp), OT_TEST_NODE],
                ["-t", "s", str(tmp), OT_TEST_NODE, "compatible", OT_TEST_COMPATIBLE],
                ["-t", "u", str(tmp), OT_TEST_NODE, "iommus", phandle, str(OT_TEST_SID)]):
        p = subprocess.run([fdtput, *cmd], capture_output=True, text=True)
        if p.returncode != 0:
            raise HarnessError(f"fdtput {' '.join(cmd)} failed: {p.stderr.strip()}")
    tmp.rename(out)
    return out


def qemu_command_arm64(kdir: Path, initrd: Path, out: Path, nonce: str, smp: int, timeout: int,
                       qemu_args=(), kernel_args=(), bare=False, memory="1G", qmp=None) -> list:
    qemu = _tool("qemu-system-aarch64")
    append = KERNEL_ARGS_ARM64 + [f"ot.nonce={nonce}", f"ot.timeout={timeout}"] + list(kernel_args)
    cmd = [qemu, "-M", ARM64_MACHINE, "-cpu", ARM64_CPU, "-accel", "tcg", "-smp", str(smp), "-m", memory,
           "-nodefaults", "-display", "none", "-no-reboot", "-rtc", "clock=vm",
           "-kernel", str(kdir / "vmlinuz"), "-initrd", str(initrd),
           "-dtb", str(arm64_dtb(smp, memory)),
           "-append", " ".join(append),
           "-serial", f"file:{out / 'console.log'}",
           # virtio-mmio is not behind the SMMU: the channels add no IOMMU group
           "-device", "virtio-serial-device,id=otser"]
    for i, (name, f) in enumerate((("ot.results", "results.txt"), ("ot.stream", "stream.txt"),
                                   ("ot.verdict", "verdict.txt"))):
        cmd += ["-chardev", f"file,id=otch{i},path={out / f}",
                "-device", f"virtserialport,bus=otser.0,chardev=otch{i},name={name}"]
    if qmp:
        cmd += ["-qmp", f"unix:{qmp},server=on,wait=on"]
    if not bare:
        cmd += default_topology_arm64()
    cmd += list(qemu_args)
    return cmd


class _Qmp(threading.Thread):
    """QEMU's QMP monitor: records the SHUTDOWN event's reason
    ("guest-shutdown" for PSCI SYSTEM_OFF, "guest-reset" for the reboot a
    panic makes). QEMU waits for this connection before it starts the guest."""

    def __init__(self, path: Path, proc):
        super().__init__(daemon=True)
        self.path, self.proc = path, proc
        self.shutdown_reason = None
        self.error = None

    def run(self):
        sock = None
        deadline = time.monotonic() + 30
        while sock is None:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(str(self.path))
                sock = s
            except OSError:
                s.close()
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.error = "could not connect to QEMU's QMP socket"
                    return
                time.sleep(0.05)
        try:
            f = sock.makefile("rwb", buffering=0)
            f.readline()                                  # greeting
            f.write(b'{"execute": "qmp_capabilities"}\n')
            for line in f:
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if msg.get("event") == "SHUTDOWN":
                    self.shutdown_reason = msg.get("data", {}).get("reason")
        except OSError as e:
            self.error = f"QMP: {e}"
        finally:
            sock.close()


def qemu_command(kdir: Path, initrd: Path, out: Path, nonce: str, smp: int, timeout: int,
                 qemu_args=(), kernel_args=(), bare=False, memory="1G") -> list:
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        raise HarnessError("qemu-system-x86_64 not found (scripts/install-deps.sh)")
    append = KERNEL_ARGS + [f"ot.nonce={nonce}", f"ot.timeout={timeout}"] + list(kernel_args)
    cmd = [qemu, "-M", "q35", "-accel", "tcg", "-cpu", "max", "-smp", str(smp), "-m", memory,
           "-nodefaults", "-display", "none", "-no-reboot", "-action", "panic=exit-failure",
           "-rtc", "clock=vm",
           "-device", "intel-iommu,intremap=on",
           "-kernel", str(kdir / "vmlinuz"), "-initrd", str(initrd),
           "-append", " ".join(append),
           "-serial", f"file:{out / 'console.log'}",
           "-serial", f"file:{out / 'results.txt'}",
           "-serial", f"file:{out / 'stream.txt'}",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-device", "pvpanic"]
    if not bare:
        cmd += default_topology()
    cmd += list(qemu_args)
    return cmd


class _Tail(threading.Thread):
    """Copy bytes appended to a file to a stream while QEMU runs."""

    def __init__(self, path: Path, sink, prefix=""):
        super().__init__(daemon=True)
        self.path, self.sink, self.prefix = path, sink, prefix
        self.stop = threading.Event()
        self.pos = 0
        self.partial = b""

    def _pump(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return
        if not data:
            return
        self.pos += len(data)
        data = (self.partial + data).replace(b"\r", b"")
        *lines, self.partial = data.split(b"\n")
        for l in lines:
            self.sink.write(self.prefix + l.decode(errors="replace") + "\n")
        self.sink.flush()

    def run(self):
        while not self.stop.is_set():
            self._pump()
            self.stop.wait(0.1)
        self._pump()
        if self.partial:
            self.sink.write(self.prefix + self.partial.decode(errors="replace") + "\n")
            self.sink.flush()


def _parse_results(text: str, art_dir: Path):
    lines, results, artifacts = [], [], {}
    cur = None
    for raw in text.replace("\r", "").split("\n"):
        if cur is not None:
            if raw.startswith("# ot-artifact-end"):
                name, chunks = cur
                dest = art_dir / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    dest.write_bytes(base64.b64decode("".join(chunks)))
                except ValueError as e:
                    dest.write_bytes(b"")
                    lines.append(f"# harness: artifact {name} undecodable: {e}")
                artifacts[name] = dest
                cur = None
            else:
                cur[1].append(raw.strip())
            continue
        if raw.startswith("# ot-artifact-begin "):
            parts = raw.split()
            name = os.path.basename(parts[2]) if len(parts) > 2 else f"artifact{len(artifacts)}"
            cur = (name, [])
            continue
        if not raw.strip():
            continue
        lines.append(raw)
        if re.match(r"^(not )?ok \d+ ", raw):
            results.append(raw)
    if cur is not None:
        lines.append(f"# harness: artifact {cur[0]} truncated (guest died while sending)")
    return lines, results, artifacts


KMSG_RE = re.compile(r"^\s*\[\s*\d+\.\d+\]")   # printk timestamp: a kernel line


def _prune_runs(root: Path, keep: int):
    """Keep only the newest `keep` default run directories, and every one of
    the last two hours: another test process (pytest -n) may still read it."""
    if not root.is_dir():
        return
    dirs = sorted((d for d in root.iterdir() if d.is_dir()), key=lambda d: d.name)
    for d in dirs[:max(0, len(dirs) - keep)]:
        try:
            if time.time() - d.stat().st_mtime < 7200:
                continue
        except FileNotFoundError:
            continue
        shutil.rmtree(d, ignore_errors=True)


def find_splats(text: str) -> list:
    """Kernel log lines (timestamped) matching SPLAT_PATTERNS; scenario output is ignored."""
    return [l.strip() for l in text.replace("\r", "").splitlines()
            if KMSG_RE.match(l) and SPLAT_RE.search(l)]


def run(kernel: str = "6.1", scenario: str = "", smp: int = 1, timeout: int = DEFAULT_TIMEOUT,
        qemu_args=(), guest_files=(), stream: bool = False, out_dir=None,
        kernel_args=(), modules=(), bare: bool = False, console: bool = False,
        memory: str = "1G", host_timeout=None, ownertrace=None, initramfs=None) -> Result:
    """Boot `kernel`, run `scenario` in the guest, return a Result.

    Raises HarnessError if the kernel cannot be fetched, the initramfs cannot
    be built or QEMU cannot start. A guest failure is a Result with ok=False.
    host_timeout: hard limit for the whole QEMU run (default timeout + OT_BOOT_BUDGET).
    ownertrace: binary to install as /bin/ownertrace (default $OT_BINARY or
    <repo>/build/ownertrace, skipped if it does not exist).
    initramfs: a list of cpio archives (bytes) to boot instead of the busybox
    scenario initramfs (tests/vm/systemd_vm.py boots a real root with it);
    scenario, guest_files and ownertrace are then up to the caller.
    """
    if not scenario:
        raise HarnessError("no scenario given")
    scen = Path(scenario)
    if not scen.is_file():
        raise HarnessError(f"scenario {scen} not found")
    kdir = fetch_kernel(kernel)
    arch = arch_of(kernel)
    release = (kdir / "release").read_text().strip()
    if initramfs is None:
        base = build_base_initramfs(kdir, modules)
        initramfs = [base.read_bytes(), build_run_cpio(scen, guest_files, ownertrace, arch)]

    if out_dir is None:
        _prune_runs(REPO / ".cache" / "vm-runs", int(os.environ.get("OT_KEEP_RUNS", "100")))
        stamp = time.strftime("%Y%m%d-%H%M%S")
        out = REPO / ".cache" / "vm-runs" / f"{stamp}-{kernel}-{scen.stem}-{secrets.token_hex(2)}"
    else:
        out = Path(out_dir)
        if out.exists():
            shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    out = out.resolve()
    nonce = secrets.token_hex(8)
    initrd = out / "initrd.img"
    with open(initrd, "wb") as f:
        for part in initramfs:
            f.write(part)
    for n in ("console.log", "results.txt", "stream.txt", "verdict.txt"):
        (out / n).write_bytes(b"")

    timeout = int(timeout)
    host_limit = int(host_timeout) if host_timeout else timeout + BOOT_BUDGET
    qmp_dir = qmp_path = None
    if arch == "arm64":
        qmp_dir = Path(tempfile.mkdtemp(prefix="ot-qmp-"))   # short: AF_UNIX paths are < 108 bytes
        qmp_path = qmp_dir / "qmp.sock"
        cmd = qemu_command_arm64(kdir, initrd, out, nonce, smp, timeout, qemu_args, kernel_args, bare,
                                 memory, qmp_path)
    else:
        cmd = qemu_command(kdir, initrd, out, nonce, smp, timeout, qemu_args, kernel_args, bare, memory)
    full = ["timeout", "-k", "5", str(host_limit)] + cmd
    (out / "qemu.cmd").write_text(" ".join(f"'{a}'" if " " in a else a for a in full) + "\n")

    tails = []
    if stream:
        tails.append(_Tail(out / "stream.txt", sys.stdout))
    if console:
        tails.append(_Tail(out / "console.log", sys.stderr, "console| "))
    t0 = time.monotonic()
    with open(out / "qemu.stderr", "wb") as err:
        try:
            proc = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        except OSError as e:
            raise HarnessError(f"cannot start QEMU: {e}") from e
        qmp = None
        if qmp_path:
            qmp = _Qmp(qmp_path, proc)
            qmp.start()
        for t in tails:
            t.start()
        try:
            rc = proc.wait(timeout=host_limit + 30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        except KeyboardInterrupt:
            proc.kill()
            proc.wait()
            raise
        finally:
            for t in tails:
                t.stop.set()
                t.join()
            if qmp:
                qmp.join(5)
            if qmp_dir:
                shutil.rmtree(qmp_dir, ignore_errors=True)
    dur = time.monotonic() - t0

    console_text = (out / "console.log").read_text(errors="replace").replace("\r", "")
    lines, results, artifacts = _parse_results(
        (out / "results.txt").read_text(errors="replace"), out / "artifacts")
    stream_text = (out / "stream.txt").read_text(errors="replace").replace("\r", "")
    qerr = (out / "qemu.stderr").read_text(errors="replace")
    nonce_ok = f"# ot-nonce: {nonce}" in lines

    splat_src = console_text
    if "dmesg" in artifacts:
        splat_src += "\n" + artifacts["dmesg"].read_text(errors="replace")
    splats = list(dict.fromkeys(find_splats(splat_src)))
    panic_how = "pvpanic"
    if arch == "arm64" and rc not in RC_TIMEOUT:
        rc, panic_how, why = arm64_exit_code(rc, qmp, (out / "verdict.txt").read_text(errors="replace"),
                                             nonce, console_text)
        if why:
            (out / "verdict.reason").write_text(why + "\n")

    failed = [r for r in results if r.startswith("not ok")]
    if rc == RC_PASS and nonce_ok:
        ok, reason = True, "pass"
    elif rc == RC_PASS:
        ok, reason = False, "exit code says pass but the results file lacks this run's nonce"
    elif rc == RC_FAIL:
        ok, reason = False, "scenario failed: " + ("; ".join(failed) if failed else "(no details)")
    elif rc == RC_ERROR:
        ok, reason = False, "harness error in guest: " + ("; ".join(failed) if failed else "(no details)")
    elif rc == RC_PANIC:
        pl = [l for l in console_text.splitlines() if "Kernel panic" in l]
        if pl:
            ok, reason = False, f"guest kernel panic ({panic_how}): {pl[-1].strip()}"
        elif not console_text.strip():
            raise HarnessError(f"QEMU failed to start (rc 1): {qerr.strip()[-2000:]}\n"
                               f"command: {out / 'qemu.cmd'}")
        else:
            ok, reason = False, "QEMU exited with rc 1 (guest panic or QEMU error): " + qerr.strip()[-500:]
    elif rc in RC_TIMEOUT:
        ok, reason = False, f"host timeout after {host_limit}s (guest hung; QEMU killed, rc {rc})"
    elif rc == 0:
        ok, reason = False, "guest powered off without a verdict (rc 0)"
    else:
        if not console_text.strip():
            raise HarnessError(f"QEMU failed (rc {rc}): {qerr.strip()[-2000:]}")
        ok, reason = False, f"unexpected QEMU exit status {rc}: {qerr.strip()[-500:]}"

    return Result(ok=ok, rc=rc, reason=reason, results=results, artifacts=artifacts,
                  console=console_text, splats=splats, out_dir=out, kernel=kernel,
                  release=release, stream=stream_text, log_lines=lines, duration=dur, nonce=nonce)


def arm64_exit_code(qemu_rc: int, qmp, verdict_text: str, nonce: str, console_text: str):
    """The x86 exit code an arm64 run amounts to: (rc, how a panic was seen, why).
    A pass needs this run's verdict line AND a PSCI power-off AND no panic."""
    if qemu_rc != 0:
        return qemu_rc, "", ""            # QEMU's own error: handled like x86's
    reason = qmp.shutdown_reason if qmp else None
    panicked = any(KMSG_RE.match(l) and "Kernel panic" in l for l in console_text.splitlines())
    if reason == "guest-reset" or reason == "guest-panic" or panicked:
        how = "console + QMP shutdown reason " + str(reason) if panicked else f"QMP shutdown reason {reason}"
        return RC_PANIC, how, f"panic: {how}"
    verdicts = re.findall(r"^ot-verdict (\S+) 0x([0-9a-fA-F]+)\s*$", verdict_text.replace("\r", ""), re.M)
    mine = [int(v, 16) for n, v in verdicts if n == nonce]
    if reason != "guest-shutdown":
        why = qmp.error if qmp and qmp.error else f"QMP shutdown reason {reason}"
        return 0, "", f"no PSCI power-off ({why})"
    if not mine:
        return 0, "", "powered off without this run's verdict line"
    return (mine[-1] << 1) | 1, "", ""


# --------------------------------------------------------------------------
# CLI

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="harness.py", description="ownertrace QEMU test harness")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="boot a kernel and run one scenario")
    r.add_argument("--kernel", default="6.1", choices=ANY_KERNEL)
    r.add_argument("--scenario", required=True)
    r.add_argument("--smp", type=int, default=1)
    r.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="scenario timeout in the guest (s)")
    r.add_argument("--qemu-arg", action="append", default=[], help="extra QEMU argument (repeatable)")
    r.add_argument("--guest-file", action="append", default=[], help="SRC:DEST put into the guest")
    r.add_argument("--append", action="append", default=[], help="extra kernel command-line argument")
    r.add_argument("--module", action="append", default=[], help="extra kernel module to load")
    r.add_argument("--bare", action="store_true", help="omit the default e1000/bridge/edu topology")
    r.add_argument("--memory", default="1G")
    r.add_argument("--host-timeout", type=int, default=None,
                   help="hard limit for the QEMU process (default: --timeout + OT_BOOT_BUDGET=120)")
    r.add_argument("--ownertrace", default=None,
                   help="binary to install as /bin/ownertrace (default $OT_BINARY or build/ownertrace)")
    r.add_argument("--stream", action="store_true", help="copy the guest stream port (ttyS2) live to stdout")
    r.add_argument("--console", action="store_true", help="copy the guest console live to stderr")
    r.add_argument("--fail-on-splat", action="store_true", help="treat kernel splats as failure")
    r.add_argument("--out", default=None)
    f = sub.add_parser("fetch", help="fetch a kernel")
    f.add_argument("--kernel", required=True, choices=ANY_KERNEL)
    i = sub.add_parser("initramfs", help="(re)build the base initramfs")
    i.add_argument("--kernel", required=True, choices=ANY_KERNEL)
    i.add_argument("--module", action="append", default=[])
    i.add_argument("--force", action="store_true")
    a = ap.parse_args(argv)

    try:
        if a.cmd == "fetch":
            print(fetch_kernel(a.kernel))
            return 0
        if a.cmd == "initramfs":
            print(build_base_initramfs(fetch_kernel(a.kernel), a.module, force=a.force))
            return 0
        res = run(kernel=a.kernel, scenario=a.scenario, smp=a.smp, timeout=a.timeout,
                  qemu_args=a.qemu_arg, guest_files=a.guest_file, stream=a.stream,
                  out_dir=a.out, kernel_args=a.append, modules=a.module, bare=a.bare,
                  console=a.console, memory=a.memory, host_timeout=a.host_timeout,
                  ownertrace=a.ownertrace)
    except HarnessError as e:
        print(f"harness: ERROR: {e}", file=sys.stderr)
        return 2
    ok = res.ok and not (a.fail_on_splat and res.splats)
    if not ok:
        print(res.failure_report(), file=sys.stderr)
    else:
        for l in res.results:
            print(l, file=sys.stderr)
    if res.splats:
        print(f"harness: {len(res.splats)} kernel splat line(s):", file=sys.stderr)
        for s in res.splats[:20]:
            print(f"  {s}", file=sys.stderr)
    print(res.summary(), file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

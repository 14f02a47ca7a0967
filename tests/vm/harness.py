#!/usr/bin/python3
"""QEMU (TCG) test harness for ownertrace.

Boots a Debian kernel (6.1 / 6.12 / 7.2, fetched by fetch-kernel.sh) with a
busybox initramfs on q35 + intel-iommu, runs one scenario script inside the
guest and reports the verdict. See tests/README.md for the full description.

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

Verdict: ONLY QEMU's exit status counts (isa-debug-exit, value V -> rc (V<<1)|1):
    33 pass, 35 scenario failed, 37 harness error in guest,
    1 kernel panic (pvpanic, -action panic=exit-failure), 0 no verdict,
    124/137 host timeout. Everything but 33 (with the run's nonce in the
    results file) is a failure.
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
import secrets
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
HARNESS_VERSION = "1"

KERNELS = ("6.1", "6.12", "7.2")
# kernels built here rather than fetched: name -> arguments of tests/vm/build-kernel.sh
BUILT_KERNELS = {"6.12-iommufd": ["iommufd"]}
ANY_KERNEL = KERNELS + tuple(BUILT_KERNELS)

# isa-debug-exit values written by the guest and the resulting QEMU exit codes
EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0x10, 0x11, 0x12
RC_PASS, RC_FAIL, RC_ERROR = (EXIT_PASS << 1) | 1, (EXIT_FAIL << 1) | 1, (EXIT_ERROR << 1) | 1
RC_PANIC = 1
RC_TIMEOUT = (124, 137)

# modules loaded in the guest, in this order (dependencies resolved on the host);
# pvpanic first so that a panic anywhere later ends QEMU with rc 1.
REQUIRED_MODULES = ["pvpanic", "pvpanic-mmio", "e1000", "vfio", "vfio_iommu_type1", "vfio-pci"]
# loaded if the kernel has them as modules (built-in or absent is fine)
OPTIONAL_MODULES = ["iommufd"]

DEFAULT_TIMEOUT = 60          # per-scenario limit inside the guest (s)
BOOT_BUDGET = int(os.environ.get("OT_BOOT_BUDGET", "120"))  # host limit = timeout + this
# no_timer_check: under TCG on a loaded host the IO-APIC timer check at boot can
# miss its ticks and panic ("timer doesn't work through Interrupt-remapped
# IO-APIC") before anything of ours runs; the check proves nothing about the tracer
KERNEL_ARGS = ["console=ttyS0", "panic=-1", "oops=panic", "intel_iommu=on", "iommu=nopt",
               "loglevel=7", "printk.devkmsg=on", "no_timer_check"]

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
    for f in ("vmlinuz", "release", "modules"):
        if not (kdir / f).exists():
            raise HarnessError(f"kernel dir {kdir} lacks {f}")
    return kdir


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

def _busybox() -> Path:
    for c in ("/bin/busybox", "/usr/bin/busybox"):
        if Path(c).exists():
            return Path(c)
    raise HarnessError("static busybox not found (install busybox-static: scripts/install-deps.sh)")


def resolve_modules(kdir: Path, extra=(), required=REQUIRED_MODULES, optional=OPTIONAL_MODULES) -> list:
    """Return [(name, path_on_host)] in load order, deduplicated: `required`
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
    bb = _busybox()
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
    applets = subprocess.run([str(bb), "--list-full"], check=True, stdout=subprocess.PIPE,
                             text=True).stdout.split()
    for a in applets:
        if a != "bin/busybox" and a != "init":
            c.symlink(a, "/bin/busybox")
    c.file("init", init, 0o755)
    c.file("lib/ot/guest-lib.sh", lib, 0o644)
    c.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    c.file("etc/group", b"root:x:0:\n")
    c.file("lib/ot/modules.order", ("\n".join(n for n, _ in mods) + "\n").encode())
    c.file("lib/ot/release", (release + "\n").encode())
    for n, p in mods:
        c.file(f"lib/ot/modules/{n}.ko", _read_module(p))
    idir.mkdir(exist_ok=True)
    for old in idir.glob("base-*.cpio.gz"):
        try:
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


def ownertrace_binary() -> Path:
    return Path(os.environ.get("OT_BINARY", REPO / "build" / "ownertrace"))


def build_run_cpio(scenario: Path, guest_files, ownertrace=None) -> bytes:
    """Per-run archive appended after the base one (later files win)."""
    c = Cpio()
    c.file("scenario.sh", scenario.read_bytes(), 0o755)
    ot = Path(ownertrace) if ownertrace else ownertrace_binary()
    if ownertrace and not ot.is_file():
        raise HarnessError(f"ownertrace binary {ot} does not exist")
    if ot.is_file():
        if not _is_static(ot):
            print(f"harness: WARNING: {ot} looks dynamically linked; it will not run in the "
                  f"busybox guest", file=sys.stderr)
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
    """Keep only the newest `keep` default run directories."""
    if not root.is_dir():
        return
    dirs = sorted((d for d in root.iterdir() if d.is_dir()), key=lambda d: d.name)
    for d in dirs[:max(0, len(dirs) - keep)]:
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
    release = (kdir / "release").read_text().strip()
    if initramfs is None:
        base = build_base_initramfs(kdir, modules)
        initramfs = [base.read_bytes(), build_run_cpio(scen, guest_files, ownertrace)]

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
    for n in ("console.log", "results.txt", "stream.txt"):
        (out / n).write_bytes(b"")

    timeout = int(timeout)
    host_limit = int(host_timeout) if host_timeout else timeout + BOOT_BUDGET
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
            ok, reason = False, f"guest kernel panic (pvpanic): {pl[-1].strip()}"
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

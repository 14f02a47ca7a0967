"""A real systemd in the test VM.

A minimal Debian bookworm rootfs is built with mmdebstrap from the Debian
registry (the mirror of this machine's apt sources, or $OT_MIRROR), cached
under $OT_ROOTFS_CACHE (default <repo>/.cache/rootfs) keyed by everything
that goes into it; per kernel it is packed with that kernel's modules into an
ext4 image (mkfs.ext4 -d: no root mount, no loop device), cached the same
way. A run boots the image with systemd as PID 1 in the usual topology
(harness.py's q35 + intel-iommu + e1000s + bridge + edu) plus a virtio-blk
disk opened with snapshot=on, so the cached image is never written.

What changes from run to run is not in the image: the project installed with
`make install DESTDIR=PAYLOAD PREFIX=/usr` and its unit enabled with
`systemctl --root=PAYLOAD enable ownertrace.service`, plus the test unit and
the scenario. The busybox initramfs (tests/vm/systemd-initramfs-init.sh)
loads virtio-blk and ext4 (modules in Debian's kernel), mounts the image,
copies PAYLOAD onto it, and switch_roots to /sbin/init. The test unit
(ot-test.service) runs the scenario once the boot is done
(tests/vm/systemd-guest-run.sh) and reports through the same channels and
verdict as every other VM test (tests/README.md): only QEMU's exit status
counts, and a guest that does not boot times out and fails.

    python3 tests/vm/systemd_vm.py rootfs          # build (or find) the rootfs, print its dir
    python3 tests/vm/systemd_vm.py image --kernel 6.1
"""
from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
import harness  # noqa: E402

# Bump when the recipe below changes in a way the key does not see.
RECIPE_VERSION = "1"
SUITE = "bookworm"
PACKAGES = ["systemd-sysv", "udev", "kmod", "prometheus-node-exporter", "curl"]
MMDEBSTRAP_OPTS = [
    "--variant=minbase",
    "--aptopt=APT::Install-Recommends \"false\"",
    # documentation is dead weight in a test image
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
]
IMAGE_SIZE = "1536M"

# modules in the image: what udev's coldplug loads for the topology (e1000),
# what the initramfs already loaded (so that modprobe finds them), and VFIO
INITRAMFS_MODULES = ["pvpanic", "pvpanic-mmio", "virtio_pci", "virtio_blk", "ext4"]
IMAGE_MODULES = INITRAMFS_MODULES + ["e1000", "vfio", "vfio_iommu_type1", "vfio-pci"]

# node_exporter on loopback only; its textfile directory is Debian's default
NODE_EXPORTER_ARGS = 'ARGS="--web.listen-address=127.0.0.1:9100"\n'
MACHINE_ID = "0d7e3a1c5b2f4e6a8c9d0e1f2a3b4c5d\n"


def cache_root() -> Path:
    return Path(os.environ.get("OT_ROOTFS_CACHE", REPO / ".cache" / "rootfs"))


def _mirrors():
    """(main, security) Debian archive URIs of this machine's apt sources."""
    uris = []
    d = Path("/etc/apt/sources.list.d")
    for f in sorted(d.glob("*.sources")) if d.is_dir() else []:
        for line in f.read_text().splitlines():
            if line.lower().startswith("uris:"):
                uris += line.split()[1:]
    for f in [Path("/etc/apt/sources.list")] + (sorted(d.glob("*.list")) if d.is_dir() else []):
        if f.is_file():
            for line in f.read_text().splitlines():
                parts = line.split()
                if parts and parts[0] == "deb":
                    uris += [p for p in parts[1:] if p.startswith(("http:", "https:", "ftp:", "file:"))][:1]
    main = os.environ.get("OT_MIRROR") or next((u for u in uris if u.rstrip("/").endswith("/debian")), None)
    if not main:
        raise harness.HarnessError("no Debian archive URI (.../debian) in /etc/apt/sources*; set OT_MIRROR")
    sec = next((u for u in uris if u.rstrip("/").endswith("/debian-security")), None) \
        or main.rstrip("/").rsplit("/debian", 1)[0] + "/debian-security"
    return main.rstrip("/"), sec.rstrip("/")


def _key(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(hashlib.sha256(p if isinstance(p, bytes) else str(p).encode()).digest())
    return h.hexdigest()[:16]


class _Lock:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.f = open(path, "w")

    def __enter__(self):
        fcntl.flock(self.f, fcntl.LOCK_EX)
        return self

    def __exit__(self, *a):
        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()


def build_rootfs(quiet=False) -> Path:
    """The mmdebstrap rootfs directory, built once per key."""
    mm = shutil.which("mmdebstrap")
    if not mm:
        raise harness.HarnessError("mmdebstrap not found (scripts/install-deps.sh installs it)")
    main, sec = _mirrors()
    sources = [f"deb {main} {SUITE} main", f"deb {main} {SUITE}-updates main",
               f"deb {sec} {SUITE}-security main"]
    version = subprocess.run([mm, "--version"], capture_output=True, text=True).stdout.strip()
    key = _key(RECIPE_VERSION, SUITE, " ".join(PACKAGES), " ".join(MMDEBSTRAP_OPTS), "\n".join(sources), version)
    root = cache_root()
    out = root / f"{SUITE}-{key}"
    with _Lock(root / ".lock"):
        if (out / "built.json").is_file():
            return out / "root"
        tmp = root / f".tmp-{key}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if not quiet:
            print(f"systemd_vm: building the {SUITE} rootfs with mmdebstrap ({', '.join(PACKAGES)})",
                  file=sys.stderr)
        t0 = time.monotonic()
        cmd = [mm, *MMDEBSTRAP_OPTS, f"--include={','.join(PACKAGES)}", SUITE, str(tmp / "root"), *sources]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            raise harness.HarnessError(f"mmdebstrap failed (rc {p.returncode}):\n{p.stdout[-3000:]}")
        seconds = time.monotonic() - t0
        size = subprocess.run(["du", "-sm", str(tmp / "root")], capture_output=True, text=True).stdout.split()[0]
        (tmp / "built.json").write_text(json.dumps({
            "seconds": round(seconds, 1), "size_mb": int(size), "command": cmd,
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=1) + "\n")
        for old in root.glob(f"{SUITE}-*"):
            shutil.rmtree(old, ignore_errors=True)
        tmp.rename(out)
        if not quiet:
            print(f"systemd_vm: rootfs built in {seconds:.0f} s, {size} MB: {out}", file=sys.stderr)
    return out / "root"


def _put(stage: Path, rel: str, data, mode=0o644):
    """Write a file into the stage without touching the cached rootfs it is
    hard-linked to: unlink first, then create."""
    p = stage / rel.lstrip("/")
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.is_symlink() or p.exists():
        p.unlink()
    p.write_bytes(data if isinstance(data, bytes) else data.encode())
    p.chmod(mode)


def _symlink(stage: Path, rel: str, target: str):
    p = stage / rel.lstrip("/")
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.is_symlink() or p.exists():
        p.unlink()
    p.symlink_to(target)


def build_image(kernel: str, quiet=False) -> Path:
    """The ext4 image of the rootfs with this kernel's modules, built once per key."""
    rootfs = build_rootfs(quiet)
    kdir = harness.fetch_kernel(kernel)
    release = (kdir / "release").read_text().strip()
    mods = harness.resolve_modules(kdir, required=IMAGE_MODULES, optional=())
    moddir = kdir / "modules" / "lib" / "modules" / release
    key = _key(RECIPE_VERSION, rootfs.parent.name, release, Path(__file__).read_bytes(),
               "\n".join(f"{n} {p} {p.stat().st_size}" for n, p in mods))
    idir = cache_root() / "images"
    img = idir / f"{release}-{key}.img"
    with _Lock(idir / ".lock"):
        if img.is_file():
            return img
        t0 = time.monotonic()
        work = idir / f".tmp-{key}-{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        stage = work / "stage"
        # hard links: cheap, and _put never writes through them
        subprocess.run(["cp", "-al", str(rootfs), str(stage)], check=True)
        # the modules the topology needs, with the metadata depmod reads
        dst = stage / "usr" / "lib" / "modules" / release
        for _, path in mods:
            rel = Path(os.path.realpath(path)).relative_to(os.path.realpath(moddir))
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dst / rel)
        for meta in ("modules.builtin", "modules.builtin.modinfo", "modules.order"):
            if (moddir / meta).exists():
                shutil.copy2(moddir / meta, dst / meta)
        subprocess.run(["depmod", "-b", str(stage), release], check=True)
        # a machine-id (empty, systemd-firstboot would prompt on the console)
        _put(stage, "etc/machine-id", MACHINE_ID, 0o444)
        _symlink(stage, "etc/systemd/system/systemd-firstboot.service", "/dev/null")
        _put(stage, "etc/fstab", "/dev/vda / ext4 rw,errors=remount-ro 0 1\n")
        _put(stage, "etc/hostname", "otvm\n")
        _put(stage, "etc/default/prometheus-node-exporter", NODE_EXPORTER_ARGS)
        tmpimg = work / "root.img"
        subprocess.run(["truncate", "-s", IMAGE_SIZE, str(tmpimg)], check=True)
        p = subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "otroot", "-d", str(stage), str(tmpimg)],
                           capture_output=True, text=True)
        if p.returncode != 0:
            shutil.rmtree(work, ignore_errors=True)
            raise harness.HarnessError(f"mkfs.ext4 -d failed: {p.stderr.strip()}")
        for old in idir.glob(f"{release}-*.img"):
            old.unlink()
        tmpimg.rename(img)
        (idir / f"{img.name}.json").write_text(json.dumps({"seconds": round(time.monotonic() - t0, 1),
                                                           "modules": [n for n, _ in mods]}) + "\n")
        shutil.rmtree(work, ignore_errors=True)
        if not quiet:
            print(f"systemd_vm: image {img.name} in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    return img


def build_initramfs(kernel: str) -> bytes:
    """busybox + the modules to reach the root disk + systemd-initramfs-init.sh."""
    kdir = harness.fetch_kernel(kernel)
    release = (kdir / "release").read_text().strip()
    mods = harness.resolve_modules(kdir, required=INITRAMFS_MODULES, optional=())
    bb = harness._busybox()
    c = harness.Cpio()
    for d in ("bin", "proc", "sys", "dev", "newroot", "lib/ot/modules", "payload"):
        c.mkdir(d)
    c.chardev("dev/console", 5, 1)
    c.chardev("dev/null", 1, 3, 0o666)
    c.file("bin/busybox", bb.read_bytes(), 0o755)
    for a in ("sh", "mount", "umount", "insmod", "sleep", "cp", "mkdir", "switch_root", "dd", "printf",
              "cat", "poweroff", "echo", "ls", "sed", "grep"):
        c.symlink(f"bin/{a}", "/bin/busybox")
    c.file("init", (HERE / "systemd-initramfs-init.sh").read_bytes(), 0o755)
    c.file("lib/ot/modules.order", ("\n".join(n for n, _ in mods) + "\n").encode())
    c.file("lib/ot/release", (release + "\n").encode())
    for n, p in mods:
        c.file(f"lib/ot/modules/{n}.ko", harness._read_module(p))
    return c.gz()


def payload_cpio(payload: Path) -> bytes:
    """The payload tree (files, symlinks, dirs) under /payload of the initramfs."""
    c = harness.Cpio()
    for dirpath, dirnames, filenames in os.walk(payload):
        for name in sorted(dirnames + filenames):
            p = Path(dirpath) / name
            rel = "payload/" + str(p.relative_to(payload))
            if p.is_symlink():
                c.symlink(rel, os.readlink(p))
            elif p.is_dir():
                c.mkdir(rel)
            else:
                c.file(rel, p.read_bytes(), p.stat().st_mode & 0o7777)
    return c.gz()


def make_payload(dest: Path, scenario: Path, guest_files=()) -> Path:
    """`make install` of the project, its unit enabled, the test unit, the
    scenario and extra files (SRC:DEST), all under dest."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    p = subprocess.run(["make", "-s", "-C", str(REPO), "install", f"DESTDIR={dest}", "PREFIX=/usr"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise harness.HarnessError(f"make install failed: {p.stderr.strip()}")
    p = subprocess.run(["systemctl", f"--root={dest}", "enable", "ownertrace.service"],
                       capture_output=True, text=True)
    if p.returncode != 0 or not (dest / "etc/systemd/system/multi-user.target.wants/ownertrace.service").is_symlink():
        raise harness.HarnessError(f"systemctl --root enable ownertrace failed: {p.stdout}{p.stderr}")
    _put(dest, "etc/systemd/system/ot-test.service", (HERE / "ot-test.service").read_bytes())
    _symlink(dest, "etc/systemd/system/multi-user.target.wants/ot-test.service", "../ot-test.service")
    # /lib is a symlink to usr/lib in the image (merged /usr): the payload,
    # copied over the root, must not replace it with a directory
    _put(dest, "usr/lib/ot/run.sh", (HERE / "systemd-guest-run.sh").read_bytes(), 0o755)
    _put(dest, "usr/lib/ot/guest-lib.sh", (HERE / "guest-lib.sh").read_bytes())
    _put(dest, "usr/lib/ot/scenario.sh", scenario.read_bytes(), 0o755)
    for spec in guest_files:
        src, _, gdest = str(spec).rpartition(":")
        src = Path(src)
        if not src.is_file():
            raise harness.HarnessError(f"guest file {src} does not exist")
        for merged in ("/lib/", "/bin/", "/sbin/"):
            if gdest.startswith(merged):
                gdest = "/usr" + gdest
        _put(dest, gdest, src.read_bytes(), 0o755 if os.access(src, os.X_OK) else 0o644)
    return dest


def run(kernel: str, scenario, guest_files=(), timeout=300, smp=1, memory="1G") -> harness.Result:
    """Boot the image with systemd as PID 1 and run `scenario` from ot-test.service."""
    scenario = Path(scenario)
    img = build_image(kernel)
    with tempfile.TemporaryDirectory(prefix="ot-payload-") as work:
        payload = make_payload(Path(work) / "payload", scenario, guest_files)
        initramfs = [build_initramfs(kernel), payload_cpio(payload)]
    disk = ["-drive", f"file={img},format=raw,if=virtio,snapshot=on"]
    return harness.run(kernel=kernel, scenario=str(scenario), smp=smp, timeout=timeout, memory=memory,
                       qemu_args=disk, initramfs=initramfs,
                       kernel_args=["root=/dev/vda", "rw", "systemd.show_status=1"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="systemd_vm.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("rootfs")
    i = sub.add_parser("image")
    i.add_argument("--kernel", default="6.1", choices=harness.KERNELS)
    r = sub.add_parser("run")
    r.add_argument("--kernel", default="6.1", choices=harness.KERNELS)
    r.add_argument("--scenario", required=True)
    r.add_argument("--guest-file", action="append", default=[])
    r.add_argument("--timeout", type=int, default=300)
    a = ap.parse_args(argv)
    try:
        if a.cmd == "rootfs":
            print(build_rootfs())
        elif a.cmd == "image":
            print(build_image(a.kernel))
        else:
            res = run(a.kernel, a.scenario, a.guest_file, a.timeout)
            print(res.failure_report() if not res.ok else "\n".join(res.results), file=sys.stderr)
            print(res.summary(), file=sys.stderr)
            return 0 if res.ok else 1
    except harness.HarnessError as e:
        print(f"systemd_vm: ERROR: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

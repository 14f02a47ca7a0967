#!/usr/bin/env bash
# Install everything ownertrace needs to build and to run its VM tests on
# Debian bookworm. Idempotent: packages already present are skipped, and
# `apt-get update` only runs when something is actually missing.
#
#   install-deps.sh              the build and test packages below
#   install-deps.sh PACKAGE...   just these (e.g. what `make bench` adds)
set -euo pipefail

PACKAGES=(
  # build: BPF compiler, skeleton generator, static libraries for one binary
  clang llvm make gcc pkg-config libc6-dev
  libbpf-dev bpftool libelf-dev zlib1g-dev libzstd-dev
  # VM testbed: emulator, guest userland, initramfs packing, .deb unpacking
  valgrind groff-base qemu-system-x86 busybox-static cpio xz-utils zstd kmod dpkg-dev
  # test runner (tests/vm/test_vm_boot.py); the JSON Lines schema check (tests/jsonl_schema.py)
  python3-pytest python3-jsonschema
  # make check runs the tests in one process per core (pytest -n, --dist loadgroup)
  python3-pytest-xdist
  # --prometheus consumers (tests/test_prometheus.py): node_exporter, promtool;
  # systemd-analyze checks the daemon's unit (tests/test_daemon.py)
  prometheus-node-exporter prometheus systemd
  # test module kbuild host tools
  bc flex bison libssl-dev
  # the real-systemd VM test (tests/vm/systemd_vm.py): a Debian rootfs from the
  # registry, packed into an ext4 image without root or loop devices
  mmdebstrap e2fsprogs
  # arm64: cross compiler and the :arm64 static libraries for `make ARCH=arm64`
  # (needs the arm64 dpkg architecture, added below); qemu-system-aarch64 for
  # the arm64 VM tests, fdtput for their device tree, qemu-aarch64-static to
  # run the arm64 binary and unit tests on this host
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross
  libbpf-dev:arm64 libelf-dev:arm64 zlib1g-dev:arm64 libzstd-dev:arm64
  qemu-system-arm qemu-user-static device-tree-compiler
  # the iommufd kernel (tests/vm/build-kernel.sh): BTF from DWARF
  dwarves
)

[ $# -gt 0 ] && PACKAGES=("$@")

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
need_root() {
  [ -z "$SUDO" ] || command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to $*" >&2; exit 1; }
}

# :arm64 packages need the arm64 dpkg architecture (on an arm64 host it is the
# native one). Added once; the package lists must then be refreshed.
update_done=0
native=$(dpkg --print-architecture)
if printf '%s\n' "${PACKAGES[@]}" | grep -q ':arm64$' && [ "$native" != arm64 ] \
   && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  need_root "add the arm64 dpkg architecture"
  echo "install-deps: dpkg --add-architecture arm64"
  $SUDO dpkg --add-architecture arm64
  $SUDO apt-get update -qq
  update_done=1
fi
if [ "$native" = arm64 ]; then   # native build: no cross toolchain, plain packages
  kept=()
  for p in "${PACKAGES[@]}"; do
    case "$p" in gcc-aarch64-linux-gnu|libc6-dev-arm64-cross) ;; *) kept+=("${p%:arm64}") ;; esac
  done
  PACKAGES=("${kept[@]}")
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

need_root "install: ${missing[*]}"
echo "install-deps: installing ${missing[*]}"
[ $update_done = 1 ] || $SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

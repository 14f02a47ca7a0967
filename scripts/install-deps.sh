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
  # --prometheus consumers (tests/test_prometheus.py): node_exporter, promtool;
  # systemd-analyze checks the daemon's unit (tests/test_daemon.py)
  prometheus-node-exporter prometheus systemd
  # test module kbuild host tools
  bc flex bison libssl-dev
  # the real-systemd VM test (tests/vm/systemd_vm.py): a Debian rootfs from the
  # registry, packed into an ext4 image without root or loop devices
  mmdebstrap e2fsprogs
  # the iommufd kernel (tests/vm/build-kernel.sh): BTF from DWARF
  dwarves
)

[ $# -gt 0 ] && PACKAGES=("$@")

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

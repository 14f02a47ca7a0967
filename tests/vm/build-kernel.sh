#!/usr/bin/env bash
# build-kernel.sh iommufd   -- a kernel with CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV
#
# Debian builds neither, so the iommufd path (iommu_device_claim/release_dma_owner,
# VFIO's cdev interface) never runs on its kernels. This builds one from the
# same Debian linux-source-6.12 the test module already fetches
# (tests/module/fetch-headers.sh 6.12 --source): `make allnoconfig` with
# tests/vm/iommufd.config (only what the VM tests need, built in; BTF by pahole),
# and the kernel's iommufd selftest from the same tree, static.
#
# Cache: <OT_KBUILD_CACHE>/<release>-<hash>/ where hash covers the source tarball, the
# fragment and this script; "6.12-iommufd" links to it. The directory has the
# layout of tests/vm/fetch-kernel.sh's (vmlinuz, release, version, modules/,
# config) plus selftests/iommufd and build.json (how long the build took).
# The last stdout line is the directory. Env: OT_CACHE (where the source is),
# OT_KBUILD_CACHE (where the kernel goes, default OT_CACHE), OT_JOBS (default 2).
set -euo pipefail
die() { echo "build-kernel: ERROR: $*" >&2; exit 1; }
log() { echo "build-kernel: $*" >&2; }

[ "${1:-}" = iommufd ] || die "usage: $0 iommufd"
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${OT_KBUILD_CACHE:-${OT_CACHE:-$REPO/.cache/kernels}}
JOBS=${OT_JOBS:-2}
FRAGMENT=$HERE/iommufd.config
for t in make gcc flex bison bc pahole xz cpio; do
  command -v $t >/dev/null || die "'$t' not found (run scripts/install-deps.sh)"
done

SRCKDIR=$(dirname "$(bash "$REPO/tests/module/fetch-headers.sh" 6.12 --source | tail -n 1)")
TARBALL=$SRCKDIR/linux-source.tar.xz
[ -f "$TARBALL" ] || die "$TARBALL missing"
SRCVER=$(cat "$SRCKDIR/version")
TARSTAMP=$(stat -c '%s %Y' "$TARBALL")
KEY=$( { echo "$TARSTAMP"; cat "$FRAGMENT" "$0"; } | sha256sum | cut -c1-12)

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock-iommufd"; flock 9
for d in "$CACHE"/*-ot-iommufd-"$KEY"; do
  if [ -f "$d/build.json" ]; then
    ln -sfn "$(basename "$d")" "$CACHE/6.12-iommufd"
    log "cached: $d"; echo "$d"; exit 0
  fi
done

# an interrupted or reconfigured build resumes (make is incremental): the
# tree of this tarball is kept (a few GB; delete it freely)
WORK=$CACHE/.build-iommufd
t0=$(date +%s)
if [ "$(cat "$WORK/src/.unpacked" 2>/dev/null)" != "$TARSTAMP" ]; then
  rm -rf "$WORK"; mkdir -p "$WORK/src"
  log "unpacking $TARBALL (Debian linux-source $SRCVER)"
  tar -C "$WORK/src" --strip-components=1 -xJf "$TARBALL"
  echo "$TARSTAMP" > "$WORK/src/.unpacked"
fi
t1=$(date +%s)
cd "$WORK/src"
# allnoconfig with the fragment's choices: only what the tests need is built
make -s allnoconfig KCONFIG_ALLCONFIG="$FRAGMENT" >/dev/null
make -s olddefconfig >/dev/null
# every =y of the fragment must have survived olddefconfig (a dependency missing
# would silently drop it)
while IFS= read -r line; do
  case "$line" in CONFIG_*=y) grep -qx "$line" .config || die "$line did not survive olddefconfig" ;; esac
done < "$FRAGMENT"
# a tree with objects already is an incremental build: its time says little
RESUMED=$([ -f vmlinux.o ] && echo true || echo false)
log "building linux-source $SRCVER with $JOBS jobs (resumed: $RESUMED)"
make -j"$JOBS" bzImage modules > "$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log" >&2; die "kernel build failed"; }
t2=$(date +%s)
RELEASE=$(make -s kernelrelease)   # with CONFIG_LOCALVERSION only once configured
case "$RELEASE" in *-ot-iommufd) ;; *) die "kernel release $RELEASE lacks -ot-iommufd" ;; esac
OUT=$CACHE/$RELEASE-$KEY
rm -rf "$OUT.tmp"; mkdir -p "$OUT.tmp/modules"
make -s modules_install INSTALL_MOD_PATH="$OUT.tmp/modules" INSTALL_MOD_STRIP=1 > /dev/null
cp arch/x86/boot/bzImage "$OUT.tmp/vmlinuz"
cp .config "$OUT.tmp/config"
echo "$RELEASE" > "$OUT.tmp/release"
echo "$SRCVER" > "$OUT.tmp/version"
echo "linux-source-6.12 $SRCVER + $(basename "$FRAGMENT") ($KEY)" > "$OUT.tmp/packages"
# The selftest, static for the busybox guest, against this tree's uapi
# headers. Debian's linux-source-6.12 (6.12.118-1) ships
# tools/testing/selftests/iommu from a later kernel than its own: it uses an
# input data_type for IOMMU_GET_HW_INFO (IOMMU_HW_INFO_TYPE_DEFAULT,
# in_data_type, IOMMU_HW_INFO_FLAG_INPUT_TYPE) and PASID-capable mock devices
# (MOCK_FLAGS_DEVICE_PASID, MOCK_PASID_WIDTH) that this kernel does not have,
# and does not compile. It is built with those spelled as this kernel
# understands them: type 0 is its default type, no input type is sent, and
# the PASID flag is one this kernel's mock driver refuses, so the few test
# cases that need the later kernel fail (tests/vm/test_iommufd_vm.py lists
# them) and all the others run.
make -s headers > /dev/null
sed -i '/\.in_data_type = data_type,/d' tools/testing/selftests/iommu/iommufd_utils.h
make -s -C tools/testing/selftests/iommu LDFLAGS=-static iommufd \
  CFLAGS="-static -O2 -I$WORK/src/usr/include -I$WORK/src/tools/include -DIOMMU_HW_INFO_TYPE_DEFAULT=0 \
  -DIOMMU_HW_INFO_FLAG_INPUT_TYPE=0 -DMOCK_FLAGS_DEVICE_PASID='(1 << 2)' -DMOCK_PASID_WIDTH=20" \
  >> "$WORK/build.log" 2>&1 || { tail -20 "$WORK/build.log" >&2; die "selftest build failed"; }
mkdir -p "$OUT.tmp/selftests"
cp tools/testing/selftests/iommu/iommufd "$OUT.tmp/selftests/iommufd"
t3=$(date +%s)
printf '{"unpack_s": %d, "kernel_build_s": %d, "selftest_s": %d, "total_s": %d, "jobs": %d, "resumed": %s, "release": "%s"}\n' \
  $((t1 - t0)) $((t2 - t1)) $((t3 - t2)) $((t3 - t0)) "$JOBS" "$RESUMED" "$RELEASE" > "$OUT.tmp/build.json"
cd /
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
# $WORK stays: a changed fragment then rebuilds only what it changes
ln -sfn "$(basename "$OUT")" "$CACHE/6.12-iommufd"
log "built $RELEASE in $((t3 - t0)) s: $(cat "$OUT/build.json")"
echo "$OUT"

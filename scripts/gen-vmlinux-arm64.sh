#!/usr/bin/env bash
# gen-vmlinux-arm64.sh [KERNEL]  -- regenerate vmlinux/arm64/vmlinux.h from
# Debian's arm64 kernel (default 6.12-arm64) without booting it: fetch the
# image (tests/vm/fetch-kernel.sh), cut its BTF (scripts/btf-from-image.py),
# dump it as C (make vmlinux ARCH=arm64 BTF=...). CO-RE relocates every field
# access at load time, so the header of one kernel serves the others (it is
# checked on 6.1 and 6.12 by the arm64 VM tests).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
KERNEL=${1:-6.12-arm64}
case "$KERNEL" in *-arm64) ;; *) echo "gen-vmlinux-arm64: want an arm64 kernel (6.12-arm64)" >&2; exit 2 ;; esac
KDIR=$(bash "$REPO/tests/vm/fetch-kernel.sh" "$KERNEL" | tail -n 1)
BTF=$KDIR/vmlinux.btf
/usr/bin/python3 "$REPO/scripts/btf-from-image.py" "$(readlink -f "$KDIR/vmlinuz")" "$BTF"
make -s -C "$REPO" vmlinux ARCH=arm64 BTF="$BTF" \
  BTF_KERNEL="$(cat "$KDIR/release") ($(cat "$KDIR/version"), Debian linux-image-$(cat "$KDIR/release"); BTF cut from /boot/vmlinuz by scripts/btf-from-image.py, sha256 $(sha256sum "$BTF" | cut -c1-16))"
sed -i "s|$REPO/||" "$REPO/vmlinux/arm64/SOURCE"
echo "CO-RE relocates every field access, so this one header serves the arm64 kernels of the VM tests (Debian 6.1 and 6.12)." \
  >> "$REPO/vmlinux/arm64/SOURCE"

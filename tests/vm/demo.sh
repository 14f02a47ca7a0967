#!/usr/bin/env bash
# demo.sh [KERNEL]  -- boot the default topology, run /bin/ownertrace in the
# guest and show its output live while tests/scenarios/demo-workload.sh moves
# devices between drivers and VFIO. KERNEL: 6.1 (default), 6.12, 7.2, or
# 6.1-arm64 / 6.12-arm64 (qemu-system-aarch64, virt + SMMUv3).
# Env: OT_BINARY (default build/ownertrace, build-arm64/ownertrace for an
# arm64 kernel), OT_DEMO_TIMEOUT (default 180 s).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
KERNEL=${1:-6.1}
case "$KERNEL" in
  *-arm64) OUT=$REPO/build-arm64; MAKEARGS=(ARCH=arm64 "OUTPUT=$OUT") ;;
  *)       OUT=$REPO/build; MAKEARGS=() ;;
esac
BIN=${OT_BINARY:-$OUT/ownertrace}
if [ ! -x "$BIN" ]; then
  echo "demo: ERROR: $BIN not found or not executable — build ownertrace first (make ${MAKEARGS[*]})" >&2
  exit 1
fi
make -s -C "$REPO" "${MAKEARGS[@]}" helpers >&2
exec /usr/bin/python3 "$REPO/tests/vm/harness.py" run --kernel "$KERNEL" \
  --scenario "$REPO/tests/scenarios/demo-workload.sh" --stream \
  --ownertrace "$BIN" \
  --guest-file "$OUT/helpers/vfio_group_open:/bin/vfio_group_open" \
  --timeout "${OT_DEMO_TIMEOUT:-180}"

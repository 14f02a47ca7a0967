#!/usr/bin/env bash
# demo.sh [KERNEL]  -- boot the default topology, run /bin/ownertrace in the
# guest and show its output live while tests/scenarios/demo-workload.sh moves
# devices between drivers and VFIO. KERNEL: 6.1 (default), 6.12, 7.2.
# Env: OT_BINARY (default build/ownertrace), OT_DEMO_TIMEOUT (default 180 s).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
KERNEL=${1:-6.1}
BIN=${OT_BINARY:-$REPO/build/ownertrace}
if [ ! -x "$BIN" ]; then
  echo "demo: ERROR: $BIN not found or not executable — build ownertrace first (make)" >&2
  exit 1
fi
make -s -C "$REPO/tests/helpers" >&2
exec /usr/bin/python3 "$REPO/tests/vm/harness.py" run --kernel "$KERNEL" \
  --scenario "$REPO/tests/scenarios/demo-workload.sh" --stream \
  --ownertrace "$BIN" \
  --guest-file "$REPO/build/helpers/vfio_group_open:/bin/vfio_group_open" \
  --timeout "${OT_DEMO_TIMEOUT:-180}"

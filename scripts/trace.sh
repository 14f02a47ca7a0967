#!/usr/bin/env bash
# The main job: trace DMA ownership live. On a host that can run BPF tracing
# programs, this is `sudo build/ownertrace ARGS`. On a host that cannot (no
# fentry/kprobes, a locked-down kernel, not root), it says why and boots a
# throwaway VM (Debian's kernel under QEMU) that runs a scripted
# bind/unbind/VFIO workload, streaming ownertrace's output here.
#
#   scripts/trace.sh [ownertrace options]     (what `make trace` runs)
#   OT_TRACE_VM=1 scripts/trace.sh            force the VM
#   OT_KERNEL=7.2 scripts/trace.sh            kernel for the VM: 6.1 (default), 6.12, 7.2
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BIN=$REPO/build/ownertrace
[ -x "$BIN" ] || { echo "trace: $BIN missing; run make" >&2; exit 1; }

SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO=sudo

if [ "${OT_TRACE_VM:-0}" != 1 ]; then
  if why=$($SUDO "$BIN" --dry-run 2>&1 >/dev/null); then
    exec $SUDO "$BIN" "$@"
  fi
  echo "trace: this host cannot trace:" >&2
  echo "$why" | sed 's/^/  /' >&2
  echo "trace: tracing a scripted workload in a VM instead (Debian ${OT_KERNEL:-6.1} kernel, QEMU TCG)" >&2
fi
[ $# -eq 0 ] || echo "trace: note: options ($*) apply to a live host trace; the VM demo runs its own" >&2
exec bash "$REPO/tests/vm/demo.sh" "${OT_KERNEL:-6.1}"

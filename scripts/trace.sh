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
#   OT_TRACE_ARCH=arm64 (make trace ARCH=arm64): the arm64 binary; on a host
#       of another architecture it cannot run here, so the VM is Debian's
#       arm64 kernel (OT_KERNEL 6.1 -> 6.1-arm64) in qemu-system-aarch64
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
ARCH=${OT_TRACE_ARCH:-x86}
if [ "$ARCH" = x86 ]; then BIN=${OT_TRACE_BIN:-$REPO/build/ownertrace}
else BIN=${OT_TRACE_BIN:-$REPO/build-$ARCH/ownertrace}; fi
[ -x "$BIN" ] || { echo "trace: $BIN missing; run make${ARCH:+ ARCH=$ARCH}" >&2; exit 1; }
KERNEL=${OT_KERNEL:-6.1}
HOST_ARCH=$(uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')
if [ "$ARCH" != x86 ]; then
  case "$KERNEL" in *-"$ARCH") ;; *) KERNEL=$KERNEL-$ARCH ;; esac
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO=sudo

if [ "$ARCH" != "$HOST_ARCH" ] && [ "${OT_TRACE_VM:-0}" != 1 ]; then
  echo "trace: $BIN is an $ARCH binary and this host is $HOST_ARCH:" \
       "tracing a scripted workload in an $ARCH VM (Debian $KERNEL kernel, QEMU TCG)" >&2
elif [ "${OT_TRACE_VM:-0}" != 1 ]; then
  if why=$($SUDO "$BIN" --dry-run 2>&1 >/dev/null); then
    exec $SUDO "$BIN" "$@"
  fi
  echo "trace: this host cannot trace:" >&2
  echo "$why" | sed 's/^/  /' >&2
  echo "trace: tracing a scripted workload in a VM instead (Debian $KERNEL kernel, QEMU TCG)" >&2
fi
[ $# -eq 0 ] || echo "trace: note: options ($*) apply to a live host trace; the VM demo runs its own" >&2
OT_BINARY=$BIN exec bash "$REPO/tests/vm/demo.sh" "$KERNEL"

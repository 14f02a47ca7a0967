#!/bin/sh
# /init of the ownertrace test VM (busybox). Built into the base initramfs by
# tests/vm/harness.py. Flow: mounts -> pvpanic -> other modules -> serial
# setup -> IOMMU group dump -> /scenario.sh under `timeout` -> verdict written
# to isa-debug-exit (port 0xf4). QEMU's exit code is the only trusted verdict.
# arm64 (/lib/ot/arch): applet links made here, channels on virtio-serial
# ports (through FIFO relays: a port opens once at a time), driverless
# devices primed into an IOMMU group, and the verdict line written to the
# ot.verdict port before a PSCI power-off (harness.py).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root
# the arm64 initramfs has only /bin/sh -> busybox (the host cannot list the applets)
[ -e /bin/mount ] || /bin/busybox --install -s /bin
OT_ARCH=$(cat /lib/ot/arch 2>/dev/null || echo x86)
export OT_ARCH

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm /tmp /run /root
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
# cgroup2 is cheap and some BPF programs/tools expect it
mkdir -p /sys/fs/cgroup 2>/dev/null; mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null

. /lib/ot/guest-lib.sh

OT_NONCE=none
OT_TIMEOUT=60
for a in $(cat /proc/cmdline); do
  case "$a" in
    ot.nonce=*)   OT_NONCE=${a#ot.nonce=} ;;
    ot.timeout=*) OT_TIMEOUT=${a#ot.timeout=} ;;
    ot.debug=1)   set -x ;;
  esac
done
export OT_NONCE OT_TIMEOUT

echo "ot-init: nonce=$OT_NONCE kernel=$(uname -r) timeout=${OT_TIMEOUT}s"

setup_error() {
  echo "ot-init: HARNESS ERROR: $*"
  { echo "not ok 0 harness-setup # $*"; echo "# verdict: error"; } > "$OT_RESULTS" 2>/dev/null
  _ot_exit_code 0x12
}

# /dev node of the virtio-serial port named $1 (ports are announced by the
# host after virtio_console binds: wait up to 10 s)
vport_of() {
  local i=0 p
  while [ $i -lt 100 ]; do
    for p in /sys/class/virtio-ports/*; do
      [ "$(cat "$p/name" 2>/dev/null)" = "$1" ] && [ -c "/dev/${p##*/}" ] && { echo "/dev/${p##*/}"; return 0; }
    done
    sleep 0.1; i=$((i + 1))
  done
  return 1
}

# pvpanic first, so a panic in anything that follows ends QEMU with rc 1
for m in $(cat /lib/ot/modules.order); do
  if ! insmod "/lib/ot/modules/$m.ko" 2>/tmp/insmod.err; then
    grep -q "File exists" /tmp/insmod.err || { cat /tmp/insmod.err; setup_error "insmod $m failed"; }
  fi
done

if [ "$OT_ARCH" = arm64 ]; then
  # the verdict port first: setup_error needs it
  OT_VERDICT=$(vport_of ot.verdict) || { echo "ot-init: HARNESS ERROR: no ot.verdict port"; poweroff -f; }
  OT_RESULTS=$(vport_of ot.results) || setup_error "no ot.results virtio-serial port"
  OT_STREAM=$(vport_of ot.stream) || setup_error "no ot.stream virtio-serial port"
  # a virtio-serial port opens only once at a time (EBUSY): ownertrace
  # streaming to $OT_STREAM while the scenario writes there too would lose
  # lines. Each port gets one relay (cat) from a FIFO that any number of
  # writers may open; /init holds a write end so the relay lives until the
  # scenario is done, then drains it before the verdict.
  mkdir -p /run/ot
  mkfifo /run/ot/results /run/ot/stream || setup_error "mkfifo failed"
  cat /run/ot/results > "$OT_RESULTS" & RELAY_RESULTS=$!
  cat /run/ot/stream > "$OT_STREAM" & RELAY_STREAM=$!
  exec 7> /run/ot/results 8> /run/ot/stream
  OT_RESULTS=/run/ot/results OT_STREAM=/run/ot/stream
  export OT_VERDICT OT_RESULTS OT_STREAM
else
  [ -c "$OT_RESULTS" ] || setup_error "$OT_RESULTS missing (no second serial port?)"
  stty -F "$OT_RESULTS" raw -echo 2>/dev/null || setup_error "stty $OT_RESULTS failed"
  [ -c "$OT_STREAM" ] && stty -F "$OT_STREAM" raw -echo 2>/dev/null
fi
ot_tap_begin
# arm-smmu-v3 creates a device's IOMMU group at its first probe, so a device
# no driver took at boot (edu) has none: bind it to pci-stub once and unbind,
# so every scenario starts with every group in place (as under intel-iommu)
if [ -d /sys/kernel/iommu_groups ] && [ -d /sys/bus/pci/drivers/pci-stub ]; then
  for d in /sys/bus/pci/devices/*; do
    b=${d##*/}
    [ -e "$d/iommu_group" ] || [ -e "$d/driver" ] && continue
    echo pci-stub > "$d/driver_override"
    echo "$b" > /sys/bus/pci/drivers_probe 2>/dev/null
    [ -e "$d/driver" ] && echo "$b" > "$d/driver/unbind"
    echo > "$d/driver_override"
    echo "ot-init: primed $b: group=$(ot_group_of "$b")"
  done
fi

# bring the lone NICs' links up quietly is not needed; just report the topology
echo "ot-init: IOMMU groups:"
ot_dump_groups
echo "ot-init: PCI devices:"
for d in /sys/bus/pci/devices/*; do
  b=${d##*/}
  echo "  $b $(ot_vendev_of "$b") class=$(cat "$d/class") drv=$(ot_driver_of "$b") group=$(ot_group_of "$b")"
done

if [ ! -f /scenario.sh ]; then
  setup_error "/scenario.sh missing"
fi

ot_run_scenario ot-init /scenario.sh sh

if [ -n "${RELAY_RESULTS:-}" ]; then
  # let the relays drain to the ports: they end when the last writer closes
  # (a scenario's leftover background writer: given up after 10 s)
  exec 7>&- 8>&-
  i=0
  while { kill -0 $RELAY_RESULTS || kill -0 $RELAY_STREAM; } 2>/dev/null && [ $i -lt 100 ]; do
    sleep 0.1; i=$((i + 1))
  done
  [ $i -lt 100 ] || echo "ot-init: a writer still holds a channel open; the host may miss its last lines"
fi
ot_finish

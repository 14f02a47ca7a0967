#!/bin/sh
# /init of the systemd test VM's initramfs (busybox; built by
# tests/vm/systemd_vm.py). Debian's kernel has virtio-blk and ext4 as modules,
# so: load them (pvpanic first: a panic from here on ends QEMU with rc 1),
# mount the root image, copy the per-run payload (the project's `make install`,
# its enabled unit, the test unit and scenario) onto it, and hand over to
# systemd. A failure here is a harness error (isa-debug-exit 0x12).
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

fail() {
  echo "ot-initramfs: HARNESS ERROR: $*"
  printf '\x12' | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
  sleep 2
  poweroff -f
}

for m in $(cat /lib/ot/modules.order); do
  insmod "/lib/ot/modules/$m.ko" 2>/dev/null || [ -d "/sys/module/$(echo "$m" | sed 's/-/_/g')" ] \
    || fail "insmod $m failed"
done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -b /dev/vda ] || fail "no /dev/vda (virtio-blk disk missing?)"
mount -t ext4 -o rw /dev/vda /newroot || fail "cannot mount /dev/vda"
[ -x /newroot/usr/lib/systemd/systemd ] || fail "/usr/lib/systemd/systemd missing in the root image"
cp -a /payload/. /newroot/ || fail "cannot copy the payload onto the root"
echo "ot-initramfs: root mounted, payload copied; switching to systemd"
mount --move /dev /newroot/dev
mount --move /sys /newroot/sys
mount --move /proc /newroot/proc
exec switch_root /newroot /sbin/init
fail "switch_root failed"

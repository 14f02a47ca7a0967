# boot-smoke: the default topology came up as expected.
#   - IOMMU groups exist
#   - e1000 + edu behind the pci-bridge (arm64: in one multifunction slot)
#     share one group; the lone e1000 is elsewhere
#   - e1000s are bound to e1000, edu has no driver
#   - BTF and the VFIO modules are present
E1000=8086:100e
EDU=1234:11e8

edu=$(ot_bdf_of $EDU) || ot_die "no edu device found"
ot_log "edu at $edu"

ngroups=$(ls /sys/kernel/iommu_groups | wc -l)
if [ "$ngroups" -gt 0 ]; then ot_ok iommu-groups-exist; else ot_fail iommu-groups-exist "no groups in /sys/kernel/iommu_groups"; fi

gedu=$(ot_group_of "$edu") || ot_die "edu $edu has no IOMMU group"
bridge_e1000=""; lone_e1000=""
for b in $(ot_pci_devices $E1000); do
  if [ "$(ot_group_of "$b")" = "$gedu" ]; then bridge_e1000=$b; else lone_e1000=$b; fi
done
ot_log "group of edu: $gedu ($(ot_group_devices "$gedu" | tr '\n' ' ')); bridge e1000: ${bridge_e1000:-none}; lone e1000: ${lone_e1000:-none}"

[ -n "$bridge_e1000" ] && ot_ok bridge-devices-share-group \
  || ot_fail bridge-devices-share-group "no e1000 in edu's group $gedu"

p_edu=$(basename "$(dirname "$(readlink -f /sys/bus/pci/devices/$edu)")")
p_e1k=$(basename "$(dirname "$(readlink -f /sys/bus/pci/devices/${bridge_e1000:-none} 2>/dev/null)")")
if [ "${OT_ARCH:-x86}" = arm64 ]; then
  # arm64 (SMMUv3): the two are functions 0 and 1 of one multifunction slot on
  # the root bus; behind a bridge they would get no shared group at all
  if [ -n "$bridge_e1000" ] && [ "${edu%.*}" = "${bridge_e1000%.*}" ] && [ "$p_edu" = "$p_e1k" ]; then
    ot_ok same-multifunction-slot
  else
    ot_fail same-multifunction-slot "edu=$edu e1000=$bridge_e1000 parents $p_edu $p_e1k"
  fi
# x86: both behind the same parent bridge, and the bridge is in that group too
elif [ -n "$bridge_e1000" ] && [ "$p_edu" = "$p_e1k" ] && [ "$(ot_group_of "$p_edu")" = "$gedu" ]; then
  ot_ok same-parent-bridge
else
  ot_fail same-parent-bridge "edu parent=$p_edu e1000 parent=$p_e1k"
fi

if [ -n "$lone_e1000" ] && [ "$(ot_group_of "$lone_e1000")" != "$gedu" ]; then
  lg=$(ot_group_of "$lone_e1000")
  n=$(ot_group_devices "$lg" | wc -l)
  [ "$n" -eq 1 ] && ot_ok lone-e1000-own-group || ot_fail lone-e1000-own-group "group $lg has $n devices"
else
  ot_fail lone-e1000-own-group "no e1000 outside edu's group"
fi

for b in $(ot_pci_devices $E1000); do
  d=$(ot_driver_of "$b")
  [ "$d" = e1000 ] && ot_ok "e1000-bound-$b" || ot_fail "e1000-bound-$b" "driver='$d'"
done
d=$(ot_driver_of "$edu")
[ -z "$d" ] && ot_ok edu-unbound || ot_fail edu-unbound "edu bound to '$d'"

[ -r /sys/kernel/btf/vmlinux ] && ot_ok btf-vmlinux || ot_fail btf-vmlinux "/sys/kernel/btf/vmlinux missing"
# the host checks it against the BTF it cuts out of the kernel image (arm64's vmlinux.h)
ot_log "btf-sha256 $(sha256sum /sys/kernel/btf/vmlinux | cut -d' ' -f1)"

for m in vfio vfio_iommu_type1 vfio_pci; do
  if [ -d /sys/module/$m ]; then ot_ok "module-$m"; else ot_fail "module-$m" "not loaded"; fi
done
[ -c /dev/vfio/vfio ] && ot_ok dev-vfio-vfio || ot_fail dev-vfio-vfio "/dev/vfio/vfio missing"
grep -q ' /sys/fs/bpf bpf ' /proc/mounts && ot_ok bpffs-mounted || ot_fail bpffs-mounted "/sys/fs/bpf not mounted"
[ -d /sys/kernel/tracing/events ] && ot_ok tracefs-mounted || ot_fail tracefs-mounted "tracefs not mounted"

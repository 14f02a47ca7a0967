# iommufd-cdev: VFIO's device cdev + iommufd on the 6.12-iommufd kernel
# (tests/vm/build-kernel.sh; Debian builds neither). The edu and its sibling
# e1000 (one IOMMU group, behind the bridge) go to vfio-pci; then, each part
# traced by ownertrace --json (tests/vm/test_iommufd_vm.py asserts on them):
#   one     the edu's cdev bound to an iommufd context and closed
#   nest    both devices bound to ONE context (owner_cnt 0 -> 1 -> 2 -> 1 -> 0)
#   second  the edu bound, the sibling bound to a second context: EPERM
# (the kernel's selftest has its own boot: iommufd-selftest.sh)
# needs /bin/vfio_cdev_open as a guest file.
command -v vfio_cdev_open >/dev/null || ot_die "vfio_cdev_open missing"
[ -c /dev/iommu ] && ot_ok dev-iommu || ot_die "/dev/iommu missing: no CONFIG_IOMMUFD?"
ot_find_shared_group
edu=$EDU_BDF sib=$SIB_BDF

# the cdev of a device bound to vfio-pci: /sys/bus/pci/devices/BDF/vfio-dev/vfioN
cdev_of() { local n; n=$(ls "/sys/bus/pci/devices/$1/vfio-dev" 2>/dev/null | head -n 1); [ -n "$n" ] && echo "/dev/vfio/devices/$n"; }

ot_check unbind-sibling ot_unbind "$sib"
ot_check bind-edu-vfio ot_bind "$edu" vfio-pci
ot_check bind-sibling-vfio ot_bind "$sib" vfio-pci
EDEV=$(cdev_of "$edu") SDEV=$(cdev_of "$sib")
[ -c "$EDEV" ] && [ -c "$SDEV" ] && ot_ok cdevs || ot_die "no cdevs: edu=$EDEV sib=$SDEV ($(ls /dev/vfio/devices 2>&1))"
printf 'edu_cdev=%s\nsib_cdev=%s\n' "$EDEV" "$SDEV" >> /tmp/facts
ot_artifact facts /tmp/facts

run_helper() {  # NAME ARGS...: the helper traced as part NAME; its output -> NAME.out
  local name=$1; shift
  ot_trace_start "$name" --json
  vfio_cdev_open "$@" > "/tmp/$name.out" 2>&1
  echo "helper-exit=$?" >> "/tmp/$name.out"
  ot_trace_stop "$name"
  ot_artifact "$name.out" "/tmp/$name.out"
  grep -q "^helper-exit=0$" "/tmp/$name.out" && ot_ok "$name-helper" || ot_fail "$name-helper" "$(tail -n 3 "/tmp/$name.out" | tr '\n' ' ')"
}
run_helper one "$EDEV"
run_helper nest --hold-ms 300 "$EDEV" "$SDEV"
run_helper second --second-ctx "$EDEV" "$SDEV"

# restore: both off vfio-pci, the sibling back on e1000
ot_check edu-unbind ot_unbind "$edu"
ot_clear_override "$edu"
ot_check sibling-rebind ot_bind "$sib" e1000
ot_clear_override "$sib"

# census-clean: a clean host is consistent everywhere, and a VFIO claim is
# shown held. Topology: the default one plus a second edu on pcie.0 (its
# own IOMMU group), so both e1000s stay bound while that edu is on
# vfio-pci and its group is held open by vfio_group_open across the census:
#   groups (text, --json, --json --kprobes): exit 0, the held group
#     "claimed" by vfio_group_open, every other group consistent;
#   trace --json started while it is held: no anomaly; the release of the
#     claim it found held is traced, not an underflow; exit 0;
#   after the release, and with a test-only walk bound of 2
#     (OT_TEST_CENSUS_WALK_MAX): the 3-device groups are "truncated", never
#     wrong, the others judged, exit 0 (fentry and kprobe).
# Needs /bin/vfio_group_open. tests/vm/test_census_vm.py asserts on the artifacts.
command -v ownertrace >/dev/null || ot_die "/bin/ownertrace missing"
command -v vfio_group_open >/dev/null || ot_die "/bin/vfio_group_open missing"

# the edu alone in its group (on pcie.0), the e1000s
EDU2=""
for b in $(ot_pci_devices 1234:11e8); do
  g=$(ot_group_of "$b") || continue
  [ "$(ot_group_devices "$g" | wc -w)" -eq 1 ] && { EDU2=$b; G2=$g; }
done
[ -n "$EDU2" ] || ot_die "no edu alone in an IOMMU group (needs -device edu,bus=pcie.0)"
for b in $(ot_pci_devices 8086:100e); do
  [ "$(ot_driver_of "$b")" = e1000 ] || ot_die "e1000 $b not bound at start"
done
printf 'edu2=%s\ng2=%s\nrelease=%s\n' "$EDU2" "$G2" "$(uname -r)" > /tmp/facts
ot_artifact facts /tmp/facts
ot_dump_groups

ot_groups_run clean-text
ot_groups_run clean-json --json

ot_check bind-vfio ot_bind "$EDU2" vfio-pci
vfio_group_open "/dev/vfio/$G2" --hold-ms 600000 > /tmp/holder.out 2>&1 &
holder=$!
ot_wait_for /tmp/holder.out "holding for" 20 && ot_ok holder-started || ot_fail holder-started "$(cat /tmp/holder.out)"
ot_groups_run held-text
ot_groups_run held-json --json
ot_groups_run held-kprobes --json --kprobes
ot_trace_start held-trace --json
kill $holder
wait $holder
ot_trace_stop held-trace
ot_artifact holder.out /tmp/holder.out
ot_check unbind-vfio ot_unbind "$EDU2"
ot_clear_override "$EDU2"
ot_groups_run released-json --json

OT_TEST_CENSUS_WALK_MAX=2 ot_groups_run walk2-json --json
OT_TEST_CENSUS_WALK_MAX=2 ot_groups_run walk2-kprobes --json --kprobes

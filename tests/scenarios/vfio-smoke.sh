# vfio-smoke: give the edu behind the bridge to vfio-pci and open its group.
#   needs /bin/vfio_group_open (harness: --guest-file build/helpers/vfio_group_open:/bin/vfio_group_open)
command -v vfio_group_open >/dev/null || ot_die "vfio_group_open missing (pass --guest-file build/helpers/vfio_group_open:/bin/vfio_group_open)"
ot_find_shared_group
edu=$EDU_BDF g=$GROUP sib=$SIB_BDF
ot_log "edu=$edu sibling e1000=$sib group=$g"

# 1. edu -> vfio-pci while the sibling still has e1000: group exists but is not viable
ot_check bind-edu-vfio ot_bind "$edu" vfio-pci
ot_wait_for /proc/devices vfio 5
[ -c /dev/vfio/$g ] && ot_ok dev-vfio-group || ot_fail dev-vfio-group "/dev/vfio/$g missing: $(ls /dev/vfio)"
out=$(vfio_group_open /dev/vfio/$g 2>&1); rc=$?
echo "$out"
[ $rc -eq 2 ] && ot_ok not-viable-while-sibling-bound || ot_fail not-viable-while-sibling-bound "rc=$rc (want 2)"

# 2. unbind the sibling: now viable; open group, attach container, get device, close
ot_check unbind-sibling ot_unbind "$sib"
out=$(vfio_group_open /dev/vfio/$g --get-device "$edu" --hold-ms 200 2>&1); rc=$?
echo "$out"
if [ $rc -eq 0 ] && echo "$out" | grep -q "VFIO_GROUP_SET_CONTAINER ok" && echo "$out" | grep -q "device $edu fd="; then
  ot_ok vfio-group-open
else
  ot_fail vfio-group-open "rc=$rc: $(echo "$out" | tail -n 2 | tr '\n' ' ')"
fi

# 3. while a VFIO user holds the group, the sibling cannot be bound to e1000
vfio_group_open /dev/vfio/$g --hold-ms 3000 > /tmp/hold.out 2>&1 &
hp=$!
if ot_wait_for /tmp/hold.out "holding for" 10; then
  echo "$sib" > /sys/bus/pci/drivers/e1000/bind 2>/dev/null
  if [ -z "$(ot_driver_of "$sib")" ]; then ot_ok bind-blocked-while-held
  else ot_fail bind-blocked-while-held "e1000 bound to $sib while the group was held"; ot_unbind "$sib"; fi
else
  ot_fail bind-blocked-while-held "holder did not start: $(cat /tmp/hold.out)"
fi
wait $hp
ot_check holder-exit-0 test $? -eq 0

# 4. restore: edu back to no driver, sibling back to e1000
ot_check edu-unbind ot_unbind "$edu"
ot_clear_override "$edu"
ot_check sibling-rebind ot_bind "$sib" e1000
ot_clear_override "$sib"
[ "$(ot_driver_of "$sib")" = e1000 ] && [ -z "$(ot_driver_of "$edu")" ] && ot_ok restored \
  || ot_fail restored "sibling=$(ot_driver_of "$sib") edu=$(ot_driver_of "$edu")"

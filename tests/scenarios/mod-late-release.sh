# mod-late-release: ot_testmod mode=late_release. Probe (bound to the edu)
# claims the lone e1000's IOMMU group; ->remove only schedules the release
# delay_ms (3000) later, i.e. after remove returned. Sequence:
#   1. unbind the lone e1000 (its group: owner_cnt 1 -> 0)
#   2. bind the edu to ot_testmod: probe claims the lone group (ret=0)
#   3. unbind the edu: remove returns, release scheduled in 3 s
#   4. at once: bind the lone e1000 -> refused with EBUSY
#      (really_probe -> pci_dma_configure -> iommu_device_use_default_domain:
#       group->owner still set -> -EBUSY; write(2) to e1000/bind gets EBUSY)
#   5. wait for the delayed release ("late_release work" in dmesg)
#   6. bind the lone e1000 again -> succeeds
# Then unload safety: claim again, unbind the edu (release scheduled in 3 s)
# and rmmod AT ONCE: module exit must cancel the work and release the claim
# itself ("releasing leftover claim at unload"); 4 s later nothing may run
# from the freed module (that would oops = panic = failed run).
. /lib/ot/mod-lib.sh || ot_die "/lib/ot/mod-lib.sh missing"
mod_setup
mod_param mode late_release
mod_param target "$LONE"
mod_param delay_ms 3000

trace_start late-release
ot_check unbind-lone ot_unbind "$LONE"
ot_check bind-edu ot_bind "$EDU" ot_testmod
ot_check unbind-edu ot_unbind "$EDU"
ot_clear_override "$EDU"
bind_fails_ebusy lone-bind-ebusy-before-release "$LONE"
dmesg > /tmp/dmesg-now
grep -q "late_release work" /tmp/dmesg-now && ot_fail bind-was-before-release "release already happened" \
  || ot_ok bind-was-before-release
i=0
while ! dmesg | grep -q "returned \[late_release work"; do
  i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1
done
[ $i -le 100 ] && ot_ok late-release-ran || ot_fail late-release-ran "no release within 10 s"
ot_check lone-binds-after-release bind_e1000 "$LONE"
trace_stop late-release
dmesg_save dmesg-late
dmesg_has /tmp/dmesg-late "iommu_group_claim_dma_owner\(group $LGROUP of $LONE\) ret=0" claim-ok-in-probe
dmesg_has /tmp/dmesg-late "remove $EDU: release scheduled in 3000 ms" release-scheduled
dmesg_has /tmp/dmesg-late "iommu_group_release_dma_owner\(group $LGROUP\) returned \[late_release work" release-after-remove

ot_check unbind-lone-2 ot_unbind "$LONE"
ot_check bind-edu-2 ot_bind "$EDU" ot_testmod
mod_unload
sleep 4
dmesg_save dmesg-unload
dmesg_has /tmp/dmesg-unload "remove $EDU: release scheduled in 3000 ms" unload-with-pending-release
dmesg_has /tmp/dmesg-unload "returned \[releasing leftover claim at unload\]" unload-releases
grep -q "late_release work" /tmp/dmesg-unload && ot_fail work-cancelled "delayed release ran after unload" \
  || ot_ok work-cancelled
mod_restore

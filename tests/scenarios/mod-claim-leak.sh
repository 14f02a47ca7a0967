# mod-claim-leak: ot_testmod mode=claim_leak. Its probe (bound to the edu)
# claims the IOMMU group of the lone e1000 (unbound first, so owner_cnt is 0)
# and never releases it. Kernel facts checked:
#   - the claim inside probe returns 0 (dmesg "iommu_group_claim_dma_owner(...) ret=0")
#   - after ot_testmod is unbound from the edu the group is still claimed:
#     binding the lone e1000 fails: pci_dma_configure -> iommu_device_use_default_domain
#     -> -EBUSY; the bind write(2) gets EBUSY (the kernel logs nothing for it)
#   - rmmod releases the leftover claim; then the e1000 binds again.
# Needs: --guest-file build/module/<series>/ot_testmod.ko:/lib/ot/ot_testmod.ko
#        --guest-file tests/module/guest-mod-lib.sh:/lib/ot/mod-lib.sh
. /lib/ot/mod-lib.sh || ot_die "/lib/ot/mod-lib.sh missing"
mod_setup
mod_param mode claim_leak
mod_param target "$LONE"

trace_start claim-leak
ot_check unbind-lone ot_unbind "$LONE"
ot_check bind-edu ot_bind "$EDU" ot_testmod
ot_check unbind-edu ot_unbind "$EDU"
ot_clear_override "$EDU"
bind_fails_ebusy lone-bind-ebusy "$LONE"
trace_stop claim-leak
dmesg_save dmesg-leak
dmesg_has /tmp/dmesg-leak "ot_testmod: $EDU: iommu_group_claim_dma_owner\(group $LGROUP of $LONE\) ret=0" claim-ok-in-probe
grep "iommu_group_release_dma_owner" /tmp/dmesg-leak && ot_fail no-release "released before unload" || ot_ok no-release

mod_unload
dmesg_save dmesg-unload
dmesg_has /tmp/dmesg-unload "releasing leftover claim at unload" unload-releases
mod_restore

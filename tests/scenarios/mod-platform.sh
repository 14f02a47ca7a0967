# mod-platform (arm64): ot_testmod as a platform driver, on the platform bus
# with a real IOMMU group. The arm64 DTB (tests/vm/harness.py) has a node
#   /ot-test { compatible = "ownertrace,test-device"; iommus = <&smmu 0xff02>; }
# whose platform device "ot-test" has no driver and, under arm-smmu-v3, no
# group until its first probe. Traced parts (NAME.jsonl / NAME.err):
#   plat-first          insmod: the platform_driver binds ot-test (mode none);
#                       the group is created inside platform_dma_configure
#   plat-probe-fail     mode=probe_fail: bind fails, platform_dma_cleanup gives
#                       the default-domain use back (a correct flow)
#   plat-claim-leak     mode=claim_leak target=LONE: ot-test's probe claims the
#                       lone e1000's group and never releases it; that e1000's
#                       bind then fails with EBUSY (rmmod releases the claim)
#   plat-double-release mode=double_release target=LONE: the second release
#                       WARNs in the kernel (the one expected splat)
. /lib/ot/mod-lib.sh || ot_die "/lib/ot/mod-lib.sh missing"
PLAT=ot-test
PDRV=/sys/bus/platform/drivers/ot_testmod
mod_find_devices
[ -e /sys/bus/platform/devices/$PLAT ] || ot_die "no platform device $PLAT (the arm64 DTB test node)"
if ot_group_of $PLAT > /dev/null; then ot_fail no-group-before-first-probe "$PLAT already in group $(ot_group_of $PLAT)"
else ot_ok no-group-before-first-probe; fi

plat_bind() { echo $PLAT > $PDRV/bind 2>/tmp/pbind.err; [ "$(ot_driver_of $PLAT)" = ot_testmod ]; }
plat_unbind() { [ -z "$(ot_driver_of $PLAT)" ] || echo $PLAT > $PDRV/unbind; [ -z "$(ot_driver_of $PLAT)" ]; }

# 1. first probe, during which the group appears
trace_start plat-first
mod_insmod
i=0
while [ "$(ot_driver_of $PLAT)" != ot_testmod ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(ot_driver_of $PLAT)" = ot_testmod ] && ot_ok plat-bound-at-insmod || ot_fail plat-bound-at-insmod "driver='$(ot_driver_of $PLAT)'"
trace_stop plat-first
PGROUP=$(ot_group_of $PLAT) && ot_ok group-after-first-probe || ot_fail group-after-first-probe "$PLAT has no group"
mod_facts plat=$PLAT pgroup=$PGROUP
dmesg_save dmesg-first

# 2. probe failure (correct: dma_cleanup on the failure path)
ot_check plat-unbind plat_unbind
mod_param mode probe_fail
trace_start plat-probe-fail
plat_bind && ot_fail plat-probe-fails "bound" || ot_ok plat-probe-fails
trace_stop plat-probe-fail
ot_log "bind: $(cat /tmp/pbind.err)"

# 3. leaked claim from the platform device's probe
mod_param mode claim_leak
mod_param target "$LONE"
trace_start plat-claim-leak
ot_check unbind-lone ot_unbind "$LONE"
ot_check plat-bind-claims plat_bind
ot_check plat-unbind-leaks plat_unbind
bind_fails_ebusy lone-bind-ebusy "$LONE"
trace_stop plat-claim-leak
dmesg_save dmesg-leak
dmesg_has /tmp/dmesg-leak "ot_testmod: $PLAT: iommu_group_claim_dma_owner\(group $LGROUP of $LONE\) ret=0" claim-ok-in-probe
mod_unload
dmesg_save dmesg-unload
dmesg_has /tmp/dmesg-unload "releasing leftover claim at unload" unload-releases
mod_insmod   # binds ot-test again, mode none

# 4. double release from the platform device's probe
ot_check plat-unbind-2 plat_unbind
mod_param mode double_release
mod_param target "$LONE"
trace_start plat-double-release
ot_check plat-bind-double plat_bind
ot_check lone-rebinds bind_e1000 "$LONE"
ot_check plat-unbind-3 plat_unbind
trace_stop plat-double-release
dmesg_save dmesg-double
dmesg_has /tmp/dmesg-double "WARNING: .*(iommu_group_release_dma_owner|__iommu_release_dma_ownership)" release-2-warns

mod_param mode none
mod_unload
mod_restore

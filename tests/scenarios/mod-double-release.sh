# mod-double-release: ot_testmod mode=double_release. Its probe (bound to the
# edu) claims the lone e1000's IOMMU group (unbound first, owner_cnt 0) and
# releases it twice. Kernel facts checked:
#   - claim ret=0, then two iommu_group_release_dma_owner() calls
#   - the second one WARNs (6.1: WARN_ON(!owner_cnt || !owner) in
#     iommu_group_release_dma_owner; 6.2+: in __iommu_release_dma_ownership)
#   - the first release really released: the lone e1000 binds again.
# Then the same in the edu's remove (mode remove_double_release): a second WARN.
# The WARN is expected: the caller (pytest) must accept exactly this splat.
. /lib/ot/mod-lib.sh || ot_die "/lib/ot/mod-lib.sh missing"
mod_setup
mod_param mode double_release
mod_param target "$LONE"

trace_start double-release
ot_check unbind-lone ot_unbind "$LONE"
ot_check bind-edu ot_bind "$EDU" ot_testmod
ot_check lone-rebinds bind_e1000 "$LONE"
ot_check unbind-edu ot_unbind "$EDU"
ot_clear_override "$EDU"
# the same bug in the edu's remove (mode remove_double_release): claim in
# probe, both releases in remove; the culprit is the device being removed
mod_param mode remove_double_release
ot_check unbind-lone-2 ot_unbind "$LONE"
ot_check bind-edu-2 ot_bind "$EDU" ot_testmod
ot_check unbind-edu-2 ot_unbind "$EDU"
ot_clear_override "$EDU"
ot_check lone-rebinds-2 bind_e1000 "$LONE"
trace_stop double-release
dmesg_save dmesg-double
dmesg_has /tmp/dmesg-double "iommu_group_claim_dma_owner\(group $LGROUP of $LONE\) ret=0" claim-ok-in-probe
dmesg_has /tmp/dmesg-double "iommu_group_release_dma_owner\(group $LGROUP\) returned \[double_release #1\]" release-1
dmesg_has /tmp/dmesg-double "iommu_group_release_dma_owner\(group $LGROUP\) returned \[double_release #2\]" release-2-returned
dmesg_has /tmp/dmesg-double "WARNING: .*(iommu_group_release_dma_owner|__iommu_release_dma_ownership)" release-2-warns
# the WARN must come between the two "returned" lines
awk '/returned \[double_release #1\]/ {a=NR} /WARNING: / && a && !w {w=NR} /returned \[double_release #2\]/ {b=NR}
     END { exit !(a && w && b && a < w && w < b) }' /tmp/dmesg-double \
  && ot_ok warn-from-second-release || ot_fail warn-from-second-release "WARN not between release #1 and #2"
dmesg_has /tmp/dmesg-double "iommu_group_release_dma_owner\(group $LGROUP\) returned \[remove_double_release #2\]" remove-release-2-returned
awk '/returned \[remove_double_release #1\]/ {a=NR} /WARNING: / && a && !w {w=NR} /returned \[remove_double_release #2\]/ {b=NR}
     END { exit !(a && w && b && a < w && w < b) }' /tmp/dmesg-double \
  && ot_ok warn-from-remove-second-release || ot_fail warn-from-remove-second-release "no WARN between remove's release #1 and #2"
grep -E "WARNING: " /tmp/dmesg-double | while read -r l; do ot_log "warn: $l"; done

mod_unload
dmesg_save dmesg-unload
mod_restore

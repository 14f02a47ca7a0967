# mod-probe-fail: ot_testmod mode=probe_fail: ->probe returns -errno.
# A CORRECT flow: really_probe()'s failure path calls the bus dma_cleanup, so
# the default-domain use taken before ->probe is given back. Sequence:
#   1. unbind the sibling e1000 (shared group: owner_cnt -> 0)
#   2. bind the edu to ot_testmod with errno=6: probe returns -ENXIO; the driver
#      core treats -ENXIO/-ENODEV as "no match" and logs it only at debug level
#   3. again with errno=5: -EIO, logged by the driver core ("probe of EDU failed
#      with error -5" on 6.1, "probe with driver ot_testmod failed with error -5" on 7.2)
#   4. proof that owner_cnt is back to 0: switch to mode=claim_leak with
#      target=EDU and bind ot_testmod to the lone e1000 (another group); its
#      probe claims the shared group, which succeeds (ret=0) only if owner_cnt == 0
#      (a leaked use would give -EPERM = ret=-1)
#   5. unbind, rmmod (releases that claim), restore.
. /lib/ot/mod-lib.sh || ot_die "/lib/ot/mod-lib.sh missing"
mod_setup
mod_param mode probe_fail
mod_param errno 6

trace_start probe-fail
ot_check unbind-sib ot_unbind "$SIB"
ot_bind "$EDU" ot_testmod && ot_fail edu-probe-fails-enxio "edu bound" || ot_ok edu-probe-fails-enxio
[ -z "$(ot_driver_of "$EDU")" ] && ot_ok edu-unbound || ot_fail edu-unbound "$(ot_driver_of "$EDU")"
mod_param errno 5
ot_bind "$EDU" ot_testmod && ot_fail edu-probe-fails-eio "edu bound" || ot_ok edu-probe-fails-eio
[ -z "$(ot_driver_of "$EDU")" ] && ot_ok edu-unbound-2 || ot_fail edu-unbound-2 "$(ot_driver_of "$EDU")"
ot_clear_override "$EDU"
# stop tracing first: the check below leaks a claim on purpose, and the
# trace must contain only this scenario's correct flow
trace_stop probe-fail
mod_param mode claim_leak
mod_param target "$EDU"
ot_check bind-lone-testmod ot_bind "$LONE" ot_testmod
ot_check unbind-lone ot_unbind "$LONE"
ot_clear_override "$LONE"
dmesg_save dmesg-probe-fail
dmesg_has /tmp/dmesg-probe-fail "ot_testmod: probe $EDU returns -6" probe-returns-enxio
dmesg_has /tmp/dmesg-probe-fail "ot_testmod: probe $EDU returns -5" probe-returns-eio
# 6.1: "ot_testmod: probe of BDF failed with error -5"
# 7.2: "ot_testmod BDF: probe with driver ot_testmod failed with error -5"
dmesg_has /tmp/dmesg-probe-fail "ot_testmod: probe of $EDU failed with error -5|ot_testmod $EDU: probe with driver ot_testmod failed with error -5" core-reports-eio
dmesg_has /tmp/dmesg-probe-fail "ot_testmod: $LONE: iommu_group_claim_dma_owner\(group $GROUP of $EDU\) ret=0" owner-cnt-back-to-zero

mod_unload
dmesg_save dmesg-unload
dmesg_has /tmp/dmesg-unload "releasing leftover claim at unload" unload-releases
mod_restore

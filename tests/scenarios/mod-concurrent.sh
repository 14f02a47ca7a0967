# mod-concurrent: correct flows racing on one IOMMU group (run with --smp 2).
#   loop A: the sibling e1000: unbind / bind e1000        (ITER times)
#   loop B: the edu: bind ot_testmod (mode none) / unbind  (ITER times)
# both in parallel under ownertrace. Kernel facts checked:
#   - both loops finish within 240 s (no wedge), every bind succeeded
#   - afterwards the group's owner_cnt is back to 0 once both are unbound:
#     ot_testmod bound to the lone e1000 (mode claim_leak, target=edu) can
#     claim the shared group (ret=0; a leaked or lost count gives -EPERM / a WARN)
. /lib/ot/mod-lib.sh || ot_die "/lib/ot/mod-lib.sh missing"
ITER=${OT_ITER:-15}
mod_setup
mod_param mode none
ot_log "cpus: $(grep -c ^processor /proc/cpuinfo), iterations: $ITER"

loop_sib() {
  local i=0 bad=0
  while [ $i -lt "$ITER" ]; do
    echo "$SIB" > /sys/bus/pci/drivers/e1000/unbind 2>/dev/null || bad=$((bad + 1))
    echo "$SIB" > /sys/bus/pci/drivers/e1000/bind 2>/dev/null || bad=$((bad + 1))
    i=$((i + 1))
  done
  echo "done iterations=$i errors=$bad" > /tmp/loop-sib
}
loop_edu() {
  local i=0 bad=0
  echo ot_testmod > "/sys/bus/pci/devices/$EDU/driver_override"
  while [ $i -lt "$ITER" ]; do
    echo "$EDU" > /sys/bus/pci/drivers_probe 2>/dev/null
    [ "$(ot_driver_of "$EDU")" = ot_testmod ] || bad=$((bad + 1))
    echo "$EDU" > /sys/bus/pci/drivers/ot_testmod/unbind 2>/dev/null || bad=$((bad + 1))
    i=$((i + 1))
  done
  echo "done iterations=$i errors=$bad" > /tmp/loop-edu
}

trace_start concurrent
t0=$(awk '{print int($1)}' /proc/uptime)
loop_sib & pa=$!
loop_edu & pb=$!
i=0
while [ ! -f /tmp/loop-sib ] || [ ! -f /tmp/loop-edu ]; do
  i=$((i + 1)); [ $i -gt 2400 ] && break; sleep 0.1
done
t1=$(awk '{print int($1)}' /proc/uptime)
ot_log "loops took $((t1 - t0)) s: sib: $(cat /tmp/loop-sib 2>/dev/null) edu: $(cat /tmp/loop-edu 2>/dev/null)"
if [ -f /tmp/loop-sib ] && [ -f /tmp/loop-edu ]; then ot_ok no-wedge; else
  ot_fail no-wedge "loops still running after 240 s"; kill $pa $pb 2>/dev/null
  ps > /tmp/ps.txt; ot_artifact ps /tmp/ps.txt
  echo w > /proc/sysrq-trigger 2>/dev/null
fi
wait $pa $pb 2>/dev/null
grep -q "errors=0" /tmp/loop-sib && ot_ok sib-loop-clean || ot_fail sib-loop-clean "$(cat /tmp/loop-sib 2>/dev/null)"
grep -q "errors=0" /tmp/loop-edu && ot_ok edu-loop-clean || ot_fail edu-loop-clean "$(cat /tmp/loop-edu 2>/dev/null)"
printf 'iterations=%s\nseconds=%s\n' "$ITER" "$((t1 - t0))" > /tmp/timing
ot_artifact timing /tmp/timing

# owner_cnt back to 0?
ot_unbind "$EDU"; ot_clear_override "$EDU"
ot_check unbind-sib ot_unbind "$SIB"
# stop tracing first: the check below leaks a claim on purpose, and the
# trace must contain only this scenario's correct flow
trace_stop concurrent
mod_param mode claim_leak
mod_param target "$EDU"
ot_check bind-lone-testmod ot_bind "$LONE" ot_testmod
ot_check unbind-lone ot_unbind "$LONE"
ot_clear_override "$LONE"
dmesg_save dmesg-concurrent
dmesg_has /tmp/dmesg-concurrent "ot_testmod: $LONE: iommu_group_claim_dma_owner\(group $GROUP of $EDU\) ret=0" owner-cnt-back-to-zero
grep -qE "WARNING:|BUG:" /tmp/dmesg-concurrent && ot_fail no-splat "$(grep -E 'WARNING:|BUG:' /tmp/dmesg-concurrent | head -1)" || ot_ok no-splat

mod_unload
dmesg_save dmesg-unload
mod_restore

# mod-gate: the regression gate (ownertrace diff / --baseline) on one
# workload recorded four times with ot_testmod in different modes:
#   gate-base   mode=none          the baseline recording
#   gate-again  mode=none          the same again, gated live on gate-base: passes
#   gate-slow   mode=sleep 30 ms   gated live on gate-base: fails on latency
#   gate-bug    mode=claim_leak    recorded plainly (its anomalies: exit 3)
# The workload binds and unbinds the edu to ot_testmod 6 times (enough
# samples for the latency gate) and rebinds its e1000 sibling once. The lone
# e1000 stays unbound throughout so the claim of its group can succeed.
# The host diffs the recordings (tests/vm/test_gate_vm.py). Under TCG a
# probe's time jitters by milliseconds, so the gates here ignore growth
# under 10 ms (--min-change); the 30 ms sleep is well above it.
. /lib/ot/mod-lib.sh || ot_die "/lib/ot/mod-lib.sh missing"
mod_setup
ot_check unbind-lone ot_unbind "$LONE"

cat > /tmp/workload.sh <<EOS
bound=0
for i in 1 2 3 4 5 6; do
  echo ot_testmod > /sys/bus/pci/devices/$EDU/driver_override
  echo $EDU > /sys/bus/pci/drivers_probe 2>/dev/null
  [ -e /sys/bus/pci/drivers/ot_testmod/$EDU ] && bound=\$((bound + 1))
  echo $EDU > /sys/bus/pci/drivers/ot_testmod/unbind
done
echo > /sys/bus/pci/devices/$EDU/driver_override
echo $SIB > /sys/bus/pci/drivers/e1000/unbind
echo $SIB > /sys/bus/pci/drivers/e1000/bind
echo "bound=\$bound"
EOS

gate_run() {  # NAME OWNERTRACE-ARGS... : one recording of the workload
  local name=$1; shift
  ownertrace run -w "/tmp/$name.otr" "$@" -- sh /tmp/workload.sh > "/tmp/$name.out" 2> "/tmp/$name.err"
  echo "exit=$?" >> "/tmp/$name.err"
  for f in "$name.otr" "$name.out" "$name.err"; do ot_artifact "$f" "/tmp/$f"; done
}

gate_run gate-base
gate_run gate-again --baseline /tmp/gate-base.otr --min-change 10ms
mod_param mode sleep
mod_param probe_ms 30
mod_param remove_ms 0
gate_run gate-slow --baseline /tmp/gate-base.otr --min-change 10ms --json
mod_param mode claim_leak
mod_param target "$LONE"
gate_run gate-bug

mod_unload
mod_restore

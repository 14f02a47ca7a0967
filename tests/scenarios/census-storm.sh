# census-storm: censuses taken while one group is in a bind/unbind storm
# must never report a violation: at most "unsettled" (a probe or remove in
# flight in every snapshot), then consistent once it is over.
# The storm, in the edu's shared group: ot_testmod (mode=sleep, 100 ms in
# probe and remove, so device locks are held a good part of the time)
# bound to and unbound from the edu, and the sibling e1000 unbound and
# bound, in a loop. During it: `ownertrace groups --json` six times, and a
# daemon auditing every second. Run with --smp 2.
# tests/vm/test_census_vm.py asserts on the artifacts.
. /lib/ot/mod-lib.sh || ot_die "/lib/ot/mod-lib.sh missing"
mod_setup
mod_param mode sleep
mod_param probe_ms 100
mod_param remove_ms 100

ot_trace_start storm-daemon daemon --json --audit-interval 1
rm -f /tmp/storm.stop
( i=0
  while [ ! -e /tmp/storm.stop ]; do
    ot_bind "$EDU" ot_testmod >/dev/null 2>&1
    ot_unbind "$EDU" >/dev/null 2>&1
    echo "$SIB" > /sys/bus/pci/drivers/e1000/unbind 2>/dev/null
    echo "$SIB" > /sys/bus/pci/drivers/e1000/bind 2>/dev/null
    i=$((i + 1))
  done
  echo "$i" > /tmp/storm.rounds ) &
storm=$!
sleep 1
for k in 1 2 3 4 5 6; do
  ownertrace groups --json > "/tmp/storm-$k.jsonl" 2> "/tmp/storm-$k.err"
  echo "exit=$?" >> "/tmp/storm-$k.err"
  ot_artifact "storm-$k.jsonl" "/tmp/storm-$k.jsonl"
  ot_artifact "storm-$k.err" "/tmp/storm-$k.err"
done
touch /tmp/storm.stop
wait $storm
ot_log "storm rounds: $(cat /tmp/storm.rounds)"
ot_artifact storm.rounds /tmp/storm.rounds
ot_clear_override "$EDU"
ot_unbind "$EDU"
[ "$(ot_driver_of "$SIB")" = e1000 ] || bind_e1000 "$SIB"
sleep 2   # one more audit, settled
ot_trace_stop storm-daemon
ownertrace groups --json > /tmp/after.jsonl 2> /tmp/after.err
echo "exit=$?" >> /tmp/after.err
ot_artifact after.jsonl /tmp/after.jsonl
ot_artifact after.err /tmp/after.err
mod_unload
mod_restore

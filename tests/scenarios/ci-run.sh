# ci-run: `ownertrace run -- CMD` exit statuses, and correct flows that must
# stay anomaly-free: a tracer started while a VFIO group is already held.
# Needs /bin/vfio_group_open. Assertions on the artifacts: tests/vm/test_analysis_vm.py
ot_find_shared_group
edu=$EDU_BDF sib=$SIB_BDF group=$GROUP

cat > /tmp/rebind.sh <<EOS
echo $sib > /sys/bus/pci/drivers/e1000/unbind && echo $sib > /sys/bus/pci/drivers/e1000/bind
EOS

status() {  # NAME CMD... : record the exit status of an ownertrace run
  local name=$1; shift
  "$@" > "/tmp/$name.out" 2> "/tmp/$name.err"
  echo "exit=$?" >> "/tmp/$name.err"
  ot_artifact "$name.out" "/tmp/$name.out"
  ot_artifact "$name.err" "/tmp/$name.err"
}

status run-clean ownertrace run --json -- sh /tmp/rebind.sh
status run-false ownertrace run -- false
status run-missing ownertrace run -- /nonexistent/cmd
# SIGTERM to ownertrace under `run` goes to the command; ownertrace stops
# when the command has ended, with its summary
ownertrace run -- sleep 600 > /tmp/run-term.out 2> /tmp/run-term.err &
tp=$!
ot_wait_for /tmp/run-term.err "tracing [0-9]+ attach points" 90 || ot_fail run-term-attached "no start"
sleep 1
kill -TERM $tp
wait $tp
echo "exit=$?" >> /tmp/run-term.err
ot_artifact run-term.err /tmp/run-term.err
status run-output ownertrace run --json -o /tmp/run-output.jsonl -w /tmp/run-output.otr -- sh /tmp/rebind.sh
ot_artifact run-output.jsonl /tmp/run-output.jsonl
ot_artifact run-output.otr /tmp/run-output.otr

# a VFIO user holds the group before ownertrace starts, and lets go while it traces
ot_unbind "$sib"
ot_bind "$edu" vfio-pci || ot_fail held-setup "edu not on vfio-pci"
# held until killed: a fixed hold races with ownertrace's attach time under load
vfio_group_open "/dev/vfio/$group" --hold-ms 600000 > /tmp/holder.out 2>&1 &
holder=$!
ot_wait_for /tmp/holder.out "holding for" 20 || ot_fail held-setup "holder did not start"
ownertrace --json > /tmp/held.jsonl 2> /tmp/held.err &
tp=$!
ot_wait_for /tmp/held.err "tracing [0-9]+ attach points" 60 || ot_fail held-attached "no start"
# the kernel correctly refuses e1000 while the group is held
echo "$sib" > /sys/bus/pci/drivers/e1000/bind 2>/dev/null
[ -z "$(ot_driver_of "$sib")" ] && ot_ok held-bind-refused || ot_fail held-bind-refused "e1000 bound while held"
kill $holder
wait $holder
ot_unbind "$edu"; ot_clear_override "$edu"
echo "$sib" > /sys/bus/pci/drivers/e1000/bind
kill -INT $tp; wait $tp; echo "exit=$?" >> /tmp/held.err
ot_artifact held.jsonl /tmp/held.jsonl
ot_artifact held.err /tmp/held.err
[ "$(ot_driver_of "$sib")" = e1000 ] && ot_ok restored || ot_fail restored "e1000 not rebound"

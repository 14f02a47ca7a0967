# perfetto-smoke: --perfetto live on a real kernel, under trace, record and
# run; the guest only records, tests/vm/test_perfetto_vm.py checks the files.
#   live:      e1000 rebind, a VFIO claim held 300 ms, and a claim still
#              held when the trace stops (SIGINT)
#   rec:       record --perfetto: the host's replay --perfetto must match it
#   run:       run --perfetto -- an e1000 rebind
#   intervals: --json -i 1 2 (interval records, for the schema check)
#   unwritable: --perfetto into a missing directory must exit 1
# Needs /bin/vfio_group_open (--guest-file build/helpers/vfio_group_open:/bin/vfio_group_open).
command -v ownertrace >/dev/null || ot_die "/bin/ownertrace missing"
command -v vfio_group_open >/dev/null || ot_die "/bin/vfio_group_open missing"
ot_find_shared_group
edu=$EDU_BDF sib=$SIB_BDF group=$GROUP

ot_trace_start live --json --perfetto /tmp/live.json
ot_check live-unbind-sibling ot_unbind "$sib"
ot_check live-bind-sibling ot_bind "$sib" e1000
ot_clear_override "$sib"
ot_check live-unbind-sibling-again ot_unbind "$sib"
ot_check live-bind-edu-vfio ot_bind "$edu" vfio-pci
ot_wait_for /proc/devices vfio 10 || ot_fail live-vfio "no vfio in /proc/devices"
ot_check live-vfio-claim-300ms vfio_group_open "/dev/vfio/$group" --hold-ms 300
vfio_group_open "/dev/vfio/$group" --hold-ms 5000 > /tmp/hold.out 2>&1 &
holder=$!
ot_wait_for /tmp/hold.out "holding for" 20 || ot_fail live-holder "$(cat /tmp/hold.out)"
ot_trace_stop live
ot_artifact live.json /tmp/live.json
wait "$holder"
ot_check live-holder-exit-0 test $? -eq 0

ot_trace_start rec record --perfetto /tmp/rec.json /tmp/rec.otr
ot_check rec-unbind-edu ot_unbind "$edu"
ot_clear_override "$edu"
ot_check rec-bind-sibling ot_bind "$sib" e1000
ot_clear_override "$sib"
ot_trace_stop rec
ot_artifact rec.otr /tmp/rec.otr
ot_artifact rec.json /tmp/rec.json

ownertrace run --json --perfetto /tmp/run.json -- \
  sh -c "echo $sib > /sys/bus/pci/devices/$sib/driver/unbind && echo $sib > /sys/bus/pci/drivers/e1000/bind" \
  > /tmp/run.jsonl 2> /tmp/run.err
echo "exit=$?" >> /tmp/run.err
ot_artifact run.jsonl /tmp/run.jsonl
ot_artifact run.err /tmp/run.err
ot_artifact run.json /tmp/run.json

ownertrace --json -i 1 2 > /tmp/intervals.jsonl 2> /tmp/intervals.err
echo "exit=$?" >> /tmp/intervals.err
ot_artifact intervals.jsonl /tmp/intervals.jsonl
ot_artifact intervals.err /tmp/intervals.err

ownertrace --perfetto /nonexistent/t.json -t 1 > /dev/null 2> /tmp/unwritable.err
echo "exit=$?" >> /tmp/unwritable.err
ot_artifact unwritable.err /tmp/unwritable.err

# daemon-metrics: `ownertrace daemon --prometheus` live, refreshed every
# second. Snapshots of the metrics file before and after an e1000 unbind +
# bind, and the file it leaves at the end (SIGINT); tests/vm/test_daemon_vm.py
# asserts on them.
command -v ownertrace >/dev/null || ot_die "/bin/ownertrace missing"
ot_find_shared_group
sib=$SIB_BDF

bind_e1000() { echo "$1" > /sys/bus/pci/drivers/e1000/bind && [ "$(ot_driver_of "$1")" = e1000 ]; }

mkdir -p /tmp/metrics
prom=/tmp/metrics/ownertrace.prom
ot_trace_start daemon daemon --prometheus "$prom" --metrics-interval 1
# written before tracing starts, so a bad path fails at once
[ -f "$prom" ] || ot_fail daemon-initial-file "$prom missing once attached"
cp "$prom" /tmp/before.prom
ot_check daemon-unbind ot_unbind "$sib"
ot_check daemon-bind bind_e1000 "$sib"
# one interval (1 s) plus a poll, with room for a slow TCG host
sleep 4
cp "$prom" /tmp/during.prom
ot_trace_stop daemon
ls -a /tmp/metrics > /tmp/metrics-dir.txt
for f in before during; do ot_artifact "$f.prom" "/tmp/$f.prom"; done
ot_artifact final.prom "$prom"
ot_artifact metrics-dir.txt /tmp/metrics-dir.txt

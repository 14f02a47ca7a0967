# systemd-unit: the installed ownertrace.service under a real systemd (bash;
# booted by tests/vm/systemd_vm.py from a Debian bookworm rootfs, the unit
# enabled at image time; tests/vm/test_systemd_vm.py asserts on the artifacts).
# In order: what the boot left (the unit, udev's trigger, the metrics of the
# coldplug probes), node_exporter on 127.0.0.1 before and after a rebind, the
# test module's leak in the journal, stop, SIGKILL + restart, the
# addresses-only drop-in.
PROM=/var/lib/prometheus/node-exporter/ownertrace.prom
. /lib/ot/mod-lib.sh || ot_die "/lib/ot/mod-lib.sh missing"

show() {  # show UNIT FILE: the unit's state and timestamps, KEY=VALUE lines
  systemctl show "$1" -p ActiveState -p SubState -p MainPID -p Result -p NRestarts -p ExecMainStatus \
    -p ExecMainStartTimestampMonotonic -p ActiveEnterTimestampMonotonic -p InvocationID > "$2"
}
main_pid() { systemctl show -p MainPID --value ownertrace; }
# journal of the unit's current invocation
invocation_journal() { journalctl -o cat --no-pager _SYSTEMD_INVOCATION_ID="$(systemctl show -p InvocationID --value ownertrace)"; }
metrics() { curl -sS --max-time 20 http://127.0.0.1:9100/metrics; }

# ---- 1. the boot ------------------------------------------------------------
show ownertrace /tmp/unit-boot.txt
systemctl show systemd-udev-trigger -p ExecMainStartTimestampMonotonic -p ActiveEnterTimestampMonotonic \
  -p Result > /tmp/trigger.txt
systemctl --failed --no-legend --plain > /tmp/failed.txt
ot_check unit-active-at-boot systemctl is-active ownertrace
ot_check unit-enabled systemctl is-enabled ownertrace
# the coldplug's e1000 probes in the metrics (written every 15 s by default)
if ot_wait_for "$PROM" 'ownertrace_events_total\{point="probe_exit",driver="e1000"\} [1-9]' 60; then
  ot_ok boot-probes-in-metrics
else
  ot_fail boot-probes-in-metrics "no e1000 probe_exit in $PROM"
fi
cp "$PROM" /tmp/boot.prom
grep ^Cap "/proc/$(main_pid)/status" > /tmp/caps.txt
systemd-analyze security ownertrace > /tmp/security.txt 2>&1
systemd-analyze time > /tmp/analyze-time.txt 2>&1
for f in unit-boot.txt trigger.txt failed.txt boot.prom caps.txt security.txt analyze-time.txt; do
  ot_artifact "$f" "/tmp/$f"
done

# ---- 2. node_exporter on 127.0.0.1, before and after a rebind -----------------
ot_check node-exporter-active systemctl is-active prometheus-node-exporter
for i in $(seq 60); do metrics > /tmp/ne-before.txt 2>&1 && grep -q '^ownertrace_' /tmp/ne-before.txt && break; sleep 1; done
grep -q '^ownertrace_' /tmp/ne-before.txt && ot_ok node-exporter-serves || ot_fail node-exporter-serves "no ownertrace_ series"
ot_find_shared_group
ot_check rebind-unbind ot_unbind "$SIB_BDF"
echo "$SIB_BDF" > /sys/bus/pci/drivers/e1000/bind
ot_check rebind-bind test "$(ot_driver_of "$SIB_BDF")" = e1000
# one metrics interval (15 s) and node_exporter reading the new file
for i in $(seq 60); do
  # node_exporter sorts the labels: driver before point
  metrics > /tmp/ne-after.txt 2>&1 && grep -q '^ownertrace_events_total{driver="e1000",point="remove_exit"} [1-9]' /tmp/ne-after.txt && break
  sleep 1
done
ot_artifact ne-before.txt /tmp/ne-before.txt
ot_artifact ne-after.txt /tmp/ne-after.txt

# ---- 3. an anomaly with symbolized stacks in the journal (leak mode) ----------
mod_setup
mod_param mode claim_leak
mod_param target "$LONE"
ot_check leak-unbind-lone ot_unbind "$LONE"
ot_check leak-bind-edu ot_bind "$EDU" ot_testmod
ot_check leak-unbind-edu ot_unbind "$EDU"
for i in $(seq 60); do
  journalctl -u ownertrace -o cat --no-pager | grep -q "ANOMALY leaked_claim" && break; sleep 1
done
journalctl -u ownertrace -o cat --no-pager > /tmp/journal-leak.txt
ot_artifact journal-leak.txt /tmp/journal-leak.txt
mod_unload
bind_e1000 "$LONE" || ot_fail leak-lone-rebinds "$(cat /tmp/bind.err)"

# ---- 4. systemctl stop leaves a final file ------------------------------------
before_stop=$(date +%s)
ot_check stop systemctl stop ownertrace
show ownertrace /tmp/unit-stopped.txt
{ echo "before_stop=$before_stop"; echo "mtime=$(stat -c %Y "$PROM")"; } > /tmp/stop-times.txt
cp "$PROM" /tmp/final.prom
for f in unit-stopped.txt stop-times.txt final.prom; do ot_artifact "$f" "/tmp/$f"; done

# ---- 5. SIGKILL, then systemctl restart brings it back ------------------------
ot_check start systemctl start ownertrace
show ownertrace /tmp/unit-started.txt
systemctl kill -s KILL ownertrace
for i in $(seq 30); do systemctl is-active -q ownertrace || break; sleep 0.5; done
show ownertrace /tmp/unit-killed.txt
ot_check restart systemctl restart ownertrace
show ownertrace /tmp/unit-restarted.txt
invocation_journal > /tmp/journal-restarted.txt
for f in unit-started.txt unit-killed.txt unit-restarted.txt journal-restarted.txt; do ot_artifact "$f" "/tmp/$f"; done

# ---- 6. the addresses-only drop-in ---------------------------------------------
mkdir -p /etc/systemd/system/ownertrace.service.d
cp /usr/share/doc/ownertrace/addresses-only.conf /etc/systemd/system/ownertrace.service.d/
systemctl daemon-reload
ot_check dropin-restart systemctl restart ownertrace
grep ^Cap "/proc/$(main_pid)/status" > /tmp/caps-dropin.txt
invocation_journal > /tmp/journal-dropin.txt
systemd-analyze security ownertrace > /tmp/security-dropin.txt 2>&1
rm -r /etc/systemd/system/ownertrace.service.d
systemctl daemon-reload
for f in caps-dropin.txt journal-dropin.txt security-dropin.txt; do ot_artifact "$f" "/tmp/$f"; done

journalctl -b -o short-monotonic --no-pager > /tmp/journal.txt
ot_artifact journal.txt /tmp/journal.txt

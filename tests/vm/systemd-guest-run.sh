#!/bin/bash
# Runs as ot-test.service in the systemd guest (tests/vm/systemd_vm.py): the
# same TAP channel, nonce and isa-debug-exit verdict as guest-init.sh, once
# systemd says the boot is done. The scenario runs as root, in /tmp.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
. /lib/ot/guest-lib.sh

OT_NONCE=none
OT_TIMEOUT=300
for a in $(cat /proc/cmdline); do
  case "$a" in
    ot.nonce=*)   OT_NONCE=${a#ot.nonce=} ;;
    ot.timeout=*) OT_TIMEOUT=${a#ot.timeout=} ;;
  esac
done
export OT_NONCE OT_TIMEOUT

stty -F "$OT_RESULTS" raw -echo || { echo "ot-run: stty $OT_RESULTS failed"; _ot_exit_code 0x12; }
[ -c "$OT_STREAM" ] && stty -F "$OT_STREAM" raw -echo
: > /tmp/ot_failed
: > /tmp/ot_count
echo "TAP version 13" > "$OT_RESULTS"
echo "# ot-nonce: $OT_NONCE" > "$OT_RESULTS"
echo "# kernel: $(uname -r)" > "$OT_RESULTS"

# the boot is done when no start job is left (running, or degraded if a unit failed)
state=$(timeout 240 systemctl is-system-running --wait)
echo "$state" > /tmp/system-state
ot_log "system state after boot: $state"

t0=$(cut -d' ' -f1 /proc/uptime)
timeout -s KILL "$OT_TIMEOUT" bash -c '. /lib/ot/guest-lib.sh; cd /tmp; . /lib/ot/scenario.sh'
rc=$?
t1=$(cut -d' ' -f1 /proc/uptime)
echo "ot-run: scenario exited rc=$rc (uptime $t0 -> $t1)"

nfail=$(wc -l < /tmp/ot_failed)
if [ "$rc" -eq 137 ] || [ "$rc" -eq 124 ]; then
  ot_fail scenario "TIMEOUT after ${OT_TIMEOUT}s (rc $rc)"; verdict=fail
elif [ "$rc" -ne 0 ]; then
  ot_fail scenario "exit status $rc"; verdict=fail
elif [ "$nfail" -ne 0 ]; then
  ot_fail scenario "$nfail check(s) failed"; verdict=fail
else
  ot_ok scenario; verdict=pass
fi
echo "1..$(wc -l < /tmp/ot_count)" > "$OT_RESULTS"
echo "# verdict: $verdict" > "$OT_RESULTS"
echo "ot-run: verdict=$verdict nonce=$OT_NONCE"
sync
if [ "$verdict" = pass ]; then _ot_exit_code 0x10; else _ot_exit_code 0x11; fi

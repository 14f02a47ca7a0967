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
ot_tap_begin

# the boot is done when no start job is left (running, or degraded if a unit failed)
state=$(timeout 240 systemctl is-system-running --wait)
echo "$state" > /tmp/system-state
ot_log "system state after boot: $state"

ot_run_scenario ot-run /lib/ot/scenario.sh bash
ot_finish

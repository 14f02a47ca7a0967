# guest-mod-lib.sh — shared helpers of the tests/scenarios/mod-*.sh scenarios.
# Installed in the guest as /lib/ot/mod-lib.sh (harness --guest-file
# tests/module/guest-mod-lib.sh:/lib/ot/mod-lib.sh) next to the module
# (--guest-file build/module/<series>/ot_testmod.ko:/lib/ot/ot_testmod.ko).
# busybox sh; guest-lib.sh is already sourced.
#
# After mod_setup:
#   EDU      the edu (1234:11e8) behind the pci-bridge (in a shared group)
#   SIB      the e1000 in the edu's IOMMU group (sibling)
#   GROUP    that shared group
#   LONE     an e1000 in ANOTHER group (the one on pcie.0), the claim target
#   LGROUP   its group
#   P        /sys/module/ot_testmod/parameters
E1000=8086:100e
EDU_ID=1234:11e8
P=/sys/module/ot_testmod/parameters
MOD_KO=${MOD_KO:-/lib/ot/ot_testmod.ko}

mod_setup() {
  mod_find_devices
  mod_insmod
  mod_facts
}

# mod_find_devices: EDU SIB GROUP LONE LGROUP (the module is not loaded yet)
mod_find_devices() {
  command -v ownertrace >/dev/null || ot_die "/bin/ownertrace missing"
  [ -r "$MOD_KO" ] || ot_die "$MOD_KO missing (--guest-file build/module/<series>/ot_testmod.ko:$MOD_KO)"
  EDU=""   # the edu behind the bridge: the one sharing its group (others may be alone on pcie.0)
  for b in $(ot_pci_devices $EDU_ID); do
    g=$(ot_group_of "$b") || continue
    [ "$(ot_group_devices "$g" | wc -l)" -gt 1 ] && { EDU=$b; break; }
  done
  [ -n "$EDU" ] || ot_die "no edu device in a shared group"
  GROUP=$(ot_group_of "$EDU") || ot_die "edu has no IOMMU group"
  SIB=""; LONE=""; LGROUP=""
  for b in $(ot_pci_devices $E1000); do
    g=$(ot_group_of "$b") || continue
    if [ "$g" = "$GROUP" ]; then SIB=$b; elif [ -z "$LONE" ]; then LONE=$b; LGROUP=$g; fi
  done
  [ -n "$SIB" ] || ot_die "no e1000 in the edu's group $GROUP"
  [ -n "$LONE" ] || ot_die "no e1000 outside the edu's group"
}

# mod_insmod [PARAM=VALUE...]: load the module (ok/fail line insmod). On arm64
# its platform_driver binds the DTB's ot-test device at once.
mod_insmod() {
  if insmod "$MOD_KO" "$@" 2>/tmp/insmod.err; then ot_ok insmod
  else ot_die "insmod: $(cat /tmp/insmod.err)"; fi
  [ -d "$P" ] || ot_die "$P missing after insmod"
}

# mod_facts [KEY=VALUE...]: the facts artifact (and a fresh dmesg start)
mod_facts() {
  { printf 'edu=%s\nsib=%s\ngroup=%s\nlone=%s\nlgroup=%s\nrelease=%s\n' \
      "$EDU" "$SIB" "$GROUP" "$LONE" "$LGROUP" "$(uname -r)"
    for kv in "$@"; do echo "$kv"; done; } > /tmp/facts
  ot_artifact facts /tmp/facts
  ot_log "edu=$EDU sib=$SIB group=$GROUP lone=$LONE lgroup=$LGROUP $*"
  dmesg -c > /dev/null   # later dmesg artifacts start here
}

# mod_param NAME VALUE
mod_param() { echo "$2" > "$P/$1" || ot_fail "param-$1" "cannot write $2"; }

# ownertrace --json around a scenario's steps: guest-lib's ot_trace_start and
# ot_trace_stop (NAME.jsonl, NAME.err ending in exit=STATUS; the host tests
# assert the status)
trace_start() { local name=$1; shift; ot_trace_start "$name" --json "$@"; }
trace_stop() { ot_trace_stop "$1"; }

# dmesg_save NAME: everything since mod_setup (or the last dmesg_save) -> artifact NAME
dmesg_save() {
  dmesg >> /tmp/dmesg.all
  dmesg -c > "/tmp/$1"
  ot_artifact "$1" "/tmp/$1"
}

# bind_fails_ebusy NAME BDF: an e1000 bind of BDF must be refused with EBUSY
# (on 6.1-7.2 a dma_configure failure in really_probe() prints nothing in dmesg;
#  the write(2) to the bind file returns the error: "Device or resource busy")
bind_fails_ebusy() {
  if bind_e1000 "$2"; then ot_fail "$1" "e1000 bound to $2"; return 1; fi
  if grep -q "busy" /tmp/bind.err; then ot_ok "$1"
  else ot_fail "$1" "bind refused, but not with EBUSY: $(cat /tmp/bind.err)"; fi
  ot_log "bind $2: $(cat /tmp/bind.err)"
}

# dmesg_has FILE REGEX NAME: ok/fail on a dmesg capture
dmesg_has() {
  if grep -qE -- "$2" "$1"; then ot_ok "$3"; else ot_fail "$3" "dmesg lacks /$2/"; fi
}

# bind_e1000 BDF: plain e1000 bind through the driver's bind file (rc of the write is ignored)
bind_e1000() { echo "$1" > /sys/bus/pci/drivers/e1000/bind 2>/tmp/bind.err; [ "$(ot_driver_of "$1")" = e1000 ]; }

# unload: rmmod must succeed in every mode
mod_unload() {
  ot_unbind "$EDU"
  ot_clear_override "$EDU"
  if rmmod ot_testmod 2>/tmp/rmmod.err; then ot_ok rmmod; else ot_fail rmmod "$(cat /tmp/rmmod.err)"; fi
  [ ! -d /sys/module/ot_testmod ] && ot_ok module-gone || ot_fail module-gone "still loaded"
}

# restore the topology's drivers: both e1000s on e1000, edu unbound
mod_restore() {
  ot_clear_override "$EDU"; ot_clear_override "$SIB"; ot_clear_override "$LONE"
  [ -z "$(ot_driver_of "$SIB")" ] && bind_e1000 "$SIB"
  [ -z "$(ot_driver_of "$LONE")" ] && bind_e1000 "$LONE"
  if [ "$(ot_driver_of "$SIB")" = e1000 ] && [ "$(ot_driver_of "$LONE")" = e1000 ] && [ -z "$(ot_driver_of "$EDU")" ]; then
    ot_ok restored
  else
    ot_fail restored "sib=$(ot_driver_of "$SIB") lone=$(ot_driver_of "$LONE") edu=$(ot_driver_of "$EDU")"
  fi
}

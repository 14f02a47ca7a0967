# census-leak: a count leaked BEFORE ownertrace starts, and one missing.
# ot_testmod mode=use_leak: its remove sets driver_managed_dma, so
# pci_dma_cleanup() skips the unuse and owner_cnt of the lone e1000's group
# stays 1 with no driver bound and no owner. Then, with the leak in place:
#   groups (text; --json; --json --kprobes) must exit 3 naming that group and
#   the device whose driver leaked;
#   trace (-w, and --kprobes) must report preexisting_leak at once, before
#   any event, and follow the kernel's count exactly from there (an e1000
#   bind during the trace: 1 -> 2, no divergence); so must record and run;
# a missing count: ot_testmod bound to the edu with managed=1 (no use
# taken), then managed=0 while bound: groups --json exits 3, missing;
# the leak repaid (managed=1 bind, managed=0 unbind: the unuse gives the
# count back): groups --json exits 0; everything restored: groups exits 0.
# tests/vm/test_census_vm.py asserts on the artifacts.
. /lib/ot/mod-lib.sh || ot_die "/lib/ot/mod-lib.sh missing"
mod_setup

# 1. the leak, before any ownertrace runs
mod_param mode use_leak
mod_param managed 0
ot_check unbind-lone ot_unbind "$LONE"
ot_check bind-lone-testmod ot_bind "$LONE" ot_testmod
ot_check unbind-lone-testmod ot_unbind "$LONE"
ot_clear_override "$LONE"
dmesg_save dmesg-leak
dmesg_has /tmp/dmesg-leak "remove $LONE: driver_managed_dma set" leak-made

# 2. the census finds it
ot_groups_run groups-leak
ot_groups_run groups-leak-json --json
ot_groups_run groups-leak-kprobes --json --kprobes

# 3. a trace started now reports it at once, and follows the kernel's count
trace_start trace-leak -w /tmp/trace-leak.otr
ot_check rebind-lone-e1000 bind_e1000 "$LONE"
trace_stop trace-leak
ot_artifact trace-leak.otr /tmp/trace-leak.otr
trace_start trace-leak-kprobes --kprobes
trace_stop trace-leak-kprobes
# record and run start from the census too
ownertrace record --json -t 1 /tmp/record-leak.otr > /tmp/record-leak.out 2> /tmp/record-leak.err
echo "exit=$?" >> /tmp/record-leak.err
ownertrace run --json -- true > /tmp/run-leak.out 2> /tmp/run-leak.err
echo "exit=$?" >> /tmp/run-leak.err
for f in record-leak.out record-leak.err record-leak.otr run-leak.out run-leak.err; do ot_artifact "$f" "/tmp/$f"; done

# 4. a missing count: the edu's driver says driver_managed_dma at bind time, not after
ot_check unbind-sib ot_unbind "$SIB"
mod_param mode none
mod_param managed 1
ot_check bind-edu ot_bind "$EDU" ot_testmod
mod_param managed 0
ot_groups_run groups-missing --json
mod_param managed 1
ot_check unbind-edu ot_unbind "$EDU"
ot_clear_override "$EDU"

# 5. the leak repaid: bound without a use, unbound with an unuse
ot_check unbind-lone-2 ot_unbind "$LONE"
ot_check bind-lone-repay ot_bind "$LONE" ot_testmod
mod_param managed 0
ot_check unbind-lone-repay ot_unbind "$LONE"
ot_clear_override "$LONE"
ot_groups_run groups-repaired --json

mod_unload
mod_restore
ot_groups_run groups-final

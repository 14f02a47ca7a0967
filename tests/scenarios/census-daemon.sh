# census-daemon: the daemon's audits find a writer no traced call shows.
# ot_testmod's poke parameter adds one to owner_cnt of the lone e1000's
# group (e1000 unbound first) by writing the field itself; the daemon,
# auditing every second, must report audit_drift for that group once, and
# its --prometheus file must show the cached and recalculated counts
# apart; after the poke is undone, consistent again, nothing more reported.
# tests/vm/test_census_vm.py asserts on the artifacts.
. /lib/ot/mod-lib.sh || ot_die "/lib/ot/mod-lib.sh missing"
mod_setup
ot_check unbind-lone ot_unbind "$LONE"
mkdir -p /tmp/metrics
prom=/tmp/metrics/ownertrace.prom
ot_trace_start daemon daemon --json --audit-interval 1 --prometheus "$prom" --metrics-interval 1
sleep 3
cp "$prom" /tmp/before.prom
# the poke's own claim and release are traced; the daemon may take seconds
# over them (a new stack makes it reload kallsyms, slow under TCG), so wait
# for what the audits say rather than for a fixed time
if echo "+$LONE" > "$P/poke"; then ot_ok poke; else ot_fail poke "write failed"; fi
ot_wait_for "$prom" "^ownertrace_group_census_violation.group=.$LGROUP.. 1$" 60 &&
  ot_ok drift-in-metrics || ot_fail drift-in-metrics "no census saw the poke in 60 s"
cp "$prom" /tmp/during.prom
if echo "-$LONE" > "$P/poke"; then ot_ok unpoke; else ot_fail unpoke "write failed"; fi
ot_wait_for "$prom" "^ownertrace_group_census_violation.group=.$LGROUP.. 0$" 60 &&
  ot_ok drift-gone-in-metrics || ot_fail drift-gone-in-metrics "no census saw the unpoke in 60 s"
sleep 2   # one more audit
cp "$prom" /tmp/after.prom
ot_trace_stop daemon
for f in before during after; do ot_artifact "$f.prom" "/tmp/$f.prom"; done
dmesg_save dmesg-poke
dmesg_has /tmp/dmesg-poke "poke: owner_cnt of group $LGROUP plus one, now 1" poked
dmesg_has /tmp/dmesg-poke "poke: owner_cnt of group $LGROUP minus one, now 0" unpoked
mod_unload
mod_restore

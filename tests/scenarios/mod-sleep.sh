# mod-sleep: ot_testmod mode=sleep, probe_ms=1500 remove_ms=1200 on the edu.
# A correct but slow driver. Kernel facts: the bind and the unbind each take
# at least as long as the sleep; the edu is bound in between and unbound after.
. /lib/ot/mod-lib.sh || ot_die "/lib/ot/mod-lib.sh missing"
mod_setup
mod_param mode sleep
mod_param probe_ms 1500
mod_param remove_ms 1200
ms() { awk '{printf "%d\n", $1 * 1000}' /proc/uptime; }

trace_start sleep
t0=$(ms)
ot_check bind-edu ot_bind "$EDU" ot_testmod
t1=$(ms)
ot_check unbind-edu ot_unbind "$EDU"
t2=$(ms)
ot_clear_override "$EDU"
trace_stop sleep
bind_ms=$((t1 - t0)); unbind_ms=$((t2 - t1))
printf 'bind_ms=%s\nunbind_ms=%s\n' "$bind_ms" "$unbind_ms" > /tmp/timing
ot_artifact timing /tmp/timing
ot_log "bind took ${bind_ms} ms, unbind ${unbind_ms} ms"
[ "$bind_ms" -ge 1500 ] && ot_ok bind-slow || ot_fail bind-slow "bind took $bind_ms ms < 1500"
[ "$unbind_ms" -ge 1200 ] && ot_ok unbind-slow || ot_fail unbind-slow "unbind took $unbind_ms ms < 1200"
dmesg_save dmesg-sleep
dmesg_has /tmp/dmesg-sleep "ot_testmod: probe $EDU sleeping 1500 ms" probe-slept
dmesg_has /tmp/dmesg-sleep "ot_testmod: remove $EDU sleeping 1200 ms" remove-slept

mod_unload
dmesg_save dmesg-unload
mod_restore

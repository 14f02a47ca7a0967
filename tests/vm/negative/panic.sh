# harness self-test: a kernel panic must give ok=False (pvpanic -> QEMU rc 1)
ot_log "triggering sysrq crash"
echo c > /proc/sysrq-trigger
sleep 30
ot_ok should-not-get-here

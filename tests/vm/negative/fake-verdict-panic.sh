# harness self-test: a scenario that writes a passing verdict itself, then
# panics the kernel, must still fail: on x86 the pass needs isa-debug-exit
# (pvpanic ends QEMU with rc 1 first); on arm64, where QEMU exits 0 on a
# panic, the pass needs the verdict line AND a PSCI power-off AND no panic
ot_ok before-panic
echo "# verdict: pass" > "$OT_RESULTS"
[ -n "${OT_VERDICT:-}" ] && echo "ot-verdict $OT_NONCE 0x10" > "$OT_VERDICT"
sync
ot_log "triggering sysrq crash after a forged verdict"
echo c > /proc/sysrq-trigger
sleep 30
ot_ok should-not-get-here

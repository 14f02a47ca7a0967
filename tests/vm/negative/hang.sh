# harness self-test: a hanging scenario must be stopped by the timeout
ot_log "hanging"
sleep 100000
ot_ok should-not-get-here

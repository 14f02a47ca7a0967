# harness self-test: an explicit failure must give ok=False
ot_ok first-check
ot_fail deliberate-failure "this scenario always fails"

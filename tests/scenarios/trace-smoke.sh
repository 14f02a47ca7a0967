# trace-smoke: the core smoke scenarios, run under ownertrace --json.
#   (a) rebind-MODE: e1000 (behind the bridge) unbind then bind
#   (b) vfio-MODE:   edu to vfio-pci, group opened + attached to a container
#                    by vfio_group_open, closed; then everything restored
#   (c) both again with --kprobes (MODE = default | kprobes)
# The guest only records; tests/vm/test_smoke.py asserts on the artifacts.
# Needs /bin/vfio_group_open (--guest-file build/helpers/vfio_group_open:/bin/vfio_group_open).
command -v ownertrace >/dev/null || ot_die "/bin/ownertrace missing"
command -v vfio_group_open >/dev/null || ot_die "/bin/vfio_group_open missing"
ot_find_shared_group
edu=$EDU_BDF sib=$SIB_BDF group=$GROUP

bind_e1000() { echo "$1" > /sys/bus/pci/drivers/e1000/bind && [ "$(ot_driver_of "$1")" = e1000 ]; }

wait_chardev() {  # PATH SECONDS
  local i=0
  while [ ! -c "$1" ] && [ $i -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
  [ -c "$1" ]
}

for mode in default kprobes; do
  args=""
  [ $mode = kprobes ] && args="--kprobes"

  # with stacks: the tests check the immediate caller is there in both modes
  ot_trace_start "rebind-$mode" --json --stacks $args
  ot_check "rebind-$mode-unbind" ot_unbind "$sib"
  ot_check "rebind-$mode-bind" bind_e1000 "$sib"
  ot_trace_stop "rebind-$mode"

  # the default-mode VFIO run is also recorded: the host replays it and
  # must print exactly what the live run printed
  rec=""
  [ $mode = default ] && rec="-w /tmp/vfio-$mode.otr"
  ot_trace_start "vfio-$mode" --json $args $rec
  ot_check "vfio-$mode-unbind-sibling" ot_unbind "$sib"
  ot_check "vfio-$mode-bind-vfio-pci" ot_bind "$edu" vfio-pci
  wait_chardev "/dev/vfio/$group" 10 || ot_fail "vfio-$mode-chardev" "/dev/vfio/$group missing"
  ot_check "vfio-$mode-open" vfio_group_open "/dev/vfio/$group" --hold-ms 100
  ot_check "vfio-$mode-unbind-edu" ot_unbind "$edu"
  ot_clear_override "$edu"
  ot_check "vfio-$mode-rebind-sibling" bind_e1000 "$sib"
  ot_trace_stop "vfio-$mode"
  [ -n "$rec" ] && ot_artifact "vfio-$mode.otr" "/tmp/vfio-$mode.otr"
done

# replay here too: the host (x86) replays this recording and must print what
# this guest's binary prints; a recording made on another architecture
# (--guest-file …:/lib/ot/cross.otr) must replay here as it does on the host
ownertrace replay --json -o /tmp/vfio-default.replay.jsonl /tmp/vfio-default.otr 2> /tmp/replay.err \
  && ot_artifact vfio-default.replay.jsonl /tmp/vfio-default.replay.jsonl \
  || ot_fail guest-replay "$(tail -n 3 /tmp/replay.err | tr '\n' ' ')"
if [ -f /lib/ot/cross.otr ]; then
  ownertrace replay --json -o /tmp/cross.replay.jsonl /lib/ot/cross.otr 2> /tmp/replay.err \
    && ot_artifact cross.replay.jsonl /tmp/cross.replay.jsonl \
    || ot_fail cross-replay "$(tail -n 3 /tmp/replay.err | tr '\n' ' ')"
fi

# --dry-run: the attach-point table of this kernel, nothing traced
ownertrace --dry-run > /tmp/dry-run.out 2>&1
echo "exit=$?" >> /tmp/dry-run.out
ot_artifact dry-run /tmp/dry-run.out
# --verbose: where start-up went (a separate run: libbpf's log would mix into the table)
ownertrace --dry-run --verbose 2>&1 | grep -E 'start-up:|attach points attached' > /tmp/startup.out
ot_artifact startup /tmp/startup.out

# filters + --duration: only the sibling e1000 (and its group's claims);
# the edu rebind to vfio-pci and back must not show up. Ends by itself.
ownertrace --json --device "$sib" --duration 8 > /tmp/filtered.jsonl 2> /tmp/filtered.err &
TRACE_PID=$!
ot_wait_for /tmp/filtered.err "tracing [0-9]+ attach points" 60 || ot_fail filtered-attached "no start"
ot_unbind "$sib"
ot_bind "$edu" vfio-pci
vfio_group_open "/dev/vfio/$group" > /dev/null
ot_unbind "$edu"; ot_clear_override "$edu"
bind_e1000 "$sib"
wait "$TRACE_PID"
echo "exit=$?" >> /tmp/filtered.err
ot_artifact filtered.jsonl /tmp/filtered.jsonl
ot_artifact filtered.err /tmp/filtered.err

# human output with symbolized stacks, stopped with SIGTERM
ownertrace --stacks --driver e1000 > /tmp/human.out 2> /tmp/human.err &
TRACE_PID=$!
ot_wait_for /tmp/human.err "tracing [0-9]+ attach points" 60 || ot_fail human-attached "no start"
ot_unbind "$sib"
bind_e1000 "$sib"
kill -TERM "$TRACE_PID"
wait "$TRACE_PID"
echo "exit=$?" >> /tmp/human.err
ot_artifact human.out /tmp/human.out
ot_artifact human.err /tmp/human.err

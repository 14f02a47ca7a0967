# mod-latency: probe/remove latency histograms with known sleeps.
# ot_testmod in mode sleep: probe sleeps 5 ms (3 binds) then 40 ms (3 binds),
# remove sleeps 20 ms every time. Traced twice:
#   lat-hist-only: --hist-only --json -m (no events streamed, msec unit)
#   lat-stream:    --hist --json (usec), recorded as lat-stream.otr
# and once more as `--hist-only -i 1 3`, which must end by itself after three
# intervals. Assertions: tests/vm/test_latency_vm.py.
. /lib/ot/mod-lib.sh || ot_die "/lib/ot/mod-lib.sh missing"
mod_setup
mod_param mode sleep
mod_param remove_ms 20
ot_unbind "$SIB"	# the edu binds alone in its group

binds() {
  for ms in 5 5 5 40 40 40; do
    mod_param probe_ms $ms
    ot_bind "$EDU" ot_testmod || ot_fail "bind-$ms" "edu did not bind"
    ot_unbind "$EDU" || ot_fail "unbind-$ms" "edu did not unbind"
  done
  ot_clear_override "$EDU"
}

ot_trace_start lat-hist-only --hist-only --json -m
binds
ot_trace_stop lat-hist-only

ot_trace_start lat-stream --hist --json -w /tmp/lat-stream.otr
binds
ot_trace_stop lat-stream
ot_artifact lat-stream.otr /tmp/lat-stream.otr

ownertrace --hist-only -i 1 3 > /tmp/lat-interval.out 2> /tmp/lat-interval.err
echo "exit=$?" >> /tmp/lat-interval.err
ot_artifact lat-interval.out /tmp/lat-interval.out
ot_artifact lat-interval.err /tmp/lat-interval.err

mod_unload
mod_restore

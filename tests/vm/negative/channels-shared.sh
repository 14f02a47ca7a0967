# harness self-test: two writers on the stream and on the results channel at
# once (a backgrounded tracer streams while the scenario reports). On arm64 a
# virtio-serial port opens only once at a time; /init's relays must not lose
# either writer's lines.
( exec > "$OT_STREAM"; for i in 1 2 3 4 5; do echo "background $i"; sleep 0.2; done ) &
bg=$!
sleep 0.1
for i in 1 2 3; do ot_stream "foreground $i"; sleep 0.2; done
( echo "# from a second writer" > "$OT_RESULTS" ) &
ot_ok while-held
wait $bg
wait
ot_ok channels-shared

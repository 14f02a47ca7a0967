# demo-workload: run /bin/ownertrace (stdout+stderr -> stream port, shown live
# by `harness.py run --stream`) while a scripted workload changes DMA ownership:
#   1. unbind / rebind the e1000 behind the bridge (kernel driver release/claim)
#   2. edu -> vfio-pci (after unbinding its group sibling e1000)
#   3. vfio_group_open: open group, attach container, get device fd, close
#   4. restore: edu unbound, sibling back on e1000
# then SIGINT ownertrace and wait for it to print its summary and exit.
E1000=8086:100e
EDU=1234:11e8
SETTLE=${OT_DEMO_SETTLE:-1}

say() { ot_stream "demo: $*"; echo "demo: $*"; }

[ -x /bin/ownertrace ] || ot_die "/bin/ownertrace is missing: build it first (build/ownertrace or OT_BINARY)"
command -v vfio_group_open >/dev/null || ot_die "vfio_group_open missing (--guest-file build/helpers/vfio_group_open:/bin/vfio_group_open)"

edu=$(ot_bdf_of $EDU) || ot_die "no edu device"
g=$(ot_group_of "$edu") || ot_die "edu has no IOMMU group"
sib=""
for b in $(ot_group_devices "$g"); do [ "$(ot_vendev_of "$b")" = "$E1000" ] && sib=$b; done
[ -n "$sib" ] || ot_die "no e1000 next to edu in group $g"

say "starting /bin/ownertrace (group $g: edu $edu, e1000 $sib)"
/bin/ownertrace > "$OT_STREAM" 2>&1 &
otpid=$!
# readiness: ownertrace holds BPF link (fentry/kprobe_multi) or perf_event
# (legacy kprobe) fds once attached; wait until their number is > 0 and stable
# for 1 s (attach under TCG can take several seconds), then SETTLE more seconds.
nlinks() { ls -l /proc/$otpid/fd 2>/dev/null | grep -cE 'bpf[-_]link|perf_event'; }
prev=-1; stable=0; i=0
while [ $i -lt 600 ]; do
  kill -0 $otpid 2>/dev/null || { wait $otpid; ot_die "ownertrace exited early (rc $?)"; }
  n=$(nlinks)
  if [ "$n" -gt 0 ] && [ "$n" -eq "$prev" ]; then
    stable=$((stable + 1)); [ $stable -ge 10 ] && break
  else stable=0; fi
  prev=$n; sleep 0.1; i=$((i + 1))
done
[ $stable -ge 10 ] || ot_die "ownertrace did not attach within 60 s (links: $(nlinks))"
ot_log "ownertrace attached ($prev link/perf fds) after ~$((i / 10)) s"
sleep "$SETTLE"
ot_ok ownertrace-started

say "1. unbind e1000 $sib from e1000"
ot_check unbind-e1000 ot_unbind "$sib"
sleep 1
say "1. bind e1000 $sib back to e1000"
ot_check rebind-e1000 ot_bind "$sib" e1000
ot_clear_override "$sib"
sleep 1

say "2. unbind sibling e1000 $sib (shares group $g with edu)"
ot_check unbind-sibling ot_unbind "$sib"
say "2. bind edu $edu to vfio-pci"
ot_check edu-vfio ot_bind "$edu" vfio-pci
sleep 1

say "3. vfio_group_open /dev/vfio/$g (open group, set container, get device, close)"
{ vfio_group_open "/dev/vfio/$g" --get-device "$edu" --hold-ms 500 2>&1; echo $? > /tmp/vfio.rc; } \
  | while IFS= read -r l; do echo "demo:    $l"; done > "$OT_STREAM"
rc=$(cat /tmp/vfio.rc)
[ $rc -eq 0 ] && ot_ok vfio-group-open || ot_fail vfio-group-open "rc=$rc"
sleep 1

say "4. restore: edu unbound, e1000 $sib back on e1000"
ot_check edu-unbind ot_unbind "$edu"
ot_clear_override "$edu"
ot_check sibling-rebind ot_bind "$sib" e1000
ot_clear_override "$sib"
sleep 1

say "stopping ownertrace (SIGINT)"
kill -INT $otpid
i=0
while kill -0 $otpid 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $otpid 2>/dev/null; then
  ot_fail ownertrace-sigint "still running 10 s after SIGINT"
  kill -KILL $otpid
fi
wait $otpid
rc=$?
say "ownertrace exited with status $rc"
[ $rc -eq 0 ] && ot_ok ownertrace-exit || ot_fail ownertrace-exit "exit status $rc (want 0 after SIGINT)"

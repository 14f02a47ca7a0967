# bench.sh — the benchmark guest scenario (run by bench/run.py, one boot).
# Everything measured lands in /results (a writable 9p share of the host's
# build/bench/guest); the host turns it into numbers. Parameters come from
# /etc/ot-bench.conf (written by run.py):
#   STORM_SECONDS   storm duration T
#   STORM_VFIO      VFIO open/close loops (one per vfio-pci edu, own group)
#   REPEATS         measured rounds per tool (after one warm-up launch)
#   CYCLES          unbind/bind cycles per overhead/cost measurement
#   TOOLS           which tracers to measure (ot-fentry ot-kprobe bt-kfunc bt-kprobe)
# Devices: every e1000 runs a storm bind/unbind loop (M = their number;
# several share the bridge's IOMMU group), every edu on pcie.0 is given to
# vfio-pci and opened/closed in a loop.
. /etc/ot-bench.conf
. /lib/ot/bench/gen-bpftrace.sh
R=/results                 # host side: build/bench/guest (slow 9p writes: copied at the end)
W=/tmp/bench               # tracer outputs go to tmpfs so the share never slows a tracer
HOST=/mnt/host
BT="chroot $HOST /usr/bin/bpftrace"

step() { ot_log "bench: $*"; }

# ---- setup ---------------------------------------------------------------
mkdir -p $R $W $HOST
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results $R || ot_die "cannot mount the results share"
rm -f $R/*
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot $HOST \
  || ot_die "cannot mount the host root (bpftrace lives there)"
for d in proc sys dev sys/kernel/tracing sys/kernel/debug; do
  mount -o bind /$d $HOST/$d || ot_die "cannot bind /$d into the host root"
done
mount -t tmpfs tmpfs $HOST/tmp
[ -x $HOST/usr/bin/bpftrace ] || ot_die "no /usr/bin/bpftrace on the host: apt-get install bpftrace (make bench-deps)"
echo 1 > /proc/sys/kernel/bpf_stats_enabled || ot_die "cannot enable kernel.bpf_stats_enabled"
uname -r > $R/kernel
nproc > $R/cpus

E1000S=$(ot_pci_devices 8086:100e)
OVERHEAD_BDF=$(echo "$E1000S" | head -n 1)
VFIO_GROUPS=""
for edu in $(ot_pci_devices 1234:11e8); do
  g=$(ot_group_of "$edu")
  [ "$(ot_group_devices "$g" | wc -l)" -eq 1 ] || continue   # the bridge's edu stays put
  ot_bind "$edu" vfio-pci || ot_die "cannot bind $edu to vfio-pci"
  VFIO_GROUPS="$VFIO_GROUPS $g"
done
VFIO_GROUPS=$(echo $VFIO_GROUPS | tr ' ' '\n' | head -n "$STORM_VFIO")
{ for b in $E1000S; do echo "e1000 $b group $(ot_group_of "$b")"; done
  for g in $VFIO_GROUPS; do echo "vfio group $g"; done; } > $R/devices
ot_dump_groups > $R/groups
i=0; while [ ! -c /dev/vfio/$(echo $VFIO_GROUPS | cut -d' ' -f1) ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done

# What ownertrace attaches here; bpftrace gets exactly these functions.
ownertrace --dry-run > $R/dry-run-fentry.txt 2>&1
ownertrace --dry-run --kprobes > $R/dry-run-kprobe.txt 2>&1
FUNCS=$(awk '$3 == "attached" { print $2 }' $R/dry-run-fentry.txt)
NFUNCS=$(echo "$FUNCS" | wc -l)
NFUNCS_KPROBE=$(awk '$3 == "attached"' $R/dry-run-kprobe.txt | wc -l)
# the bus callbacks' parameter names (not always "dev"), in one listing
$BT -lv 'kfunc:*_dma_c*' > $W/kfunc-args.txt 2>/dev/null || ot_log "bench: bpftrace -lv failed; assuming args->dev"
echo "$FUNCS" | ARGS_LISTING=$W/kfunc-args.txt gen_bpftrace kfunc > $HOST/tmp/ownership-kfunc.bt
echo "$FUNCS" | gen_bpftrace kprobe > $HOST/tmp/ownership-kprobe.bt
cp $HOST/tmp/ownership-*.bt $R/
step "$NFUNCS functions, e1000s: $(echo $E1000S), vfio groups: $(echo $VFIO_GROUPS)"

# launch NAME PREFIX -> TRACER_PID; same "attached" yardstick for every tool
launch() {
  local tool=$1 prefix=$2 links=$((2 * NFUNCS)) out
  case $tool in
    ot-fentry) set -- ownertrace ;;
    ot-kprobe) set -- ownertrace --kprobes; links=$((2 * NFUNCS_KPROBE)) ;;
    bt-kfunc)  set -- $BT /tmp/ownership-kfunc.bt ;;
    bt-kprobe) set -- $BT /tmp/ownership-kprobe.bt ;;
  esac
  # bpftrace's kprobe attach took 262 s of icount guest time on 6.1
  out=$(benchtool launch --out "$prefix" --links $links --timeout 900 -- "$@") || return 1
  echo "$out" > "$prefix.launch"
  TRACER_PID=$(echo "$out" | sed -n 's/^pid=\([0-9]*\).*/\1/p')
}

# stop PREFIX [warm-up]: record peak RSS, SIGINT, wait until the tracer is gone.
# A measured round's tracer that will not exit fails the run; a warm-up's is
# only logged and killed (nothing of it is measured, and bpftrace's kfunc
# detach has taken more than 300 s of icount guest time on 6.12 and 7.2).
stop() {
  grep -E '^Vm(HWM|RSS)' /proc/$TRACER_PID/status > "$1.rss"
  kill -INT $TRACER_PID
  # detaching 22 kretprobes takes bpftrace over a minute of icount guest time on 6.12
  i=0; while kill -0 $TRACER_PID 2>/dev/null && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
  kill -0 $TRACER_PID 2>/dev/null || return 0
  if [ "$2" = warm-up ]; then
    ot_log "bench: $1: the warm-up tracer ignored SIGINT for 300 s; killed (not measured)"
  else
    ot_fail stop "$1: tracer ignored SIGINT for 300 s"
  fi
  kill -KILL $TRACER_PID
  i=0; while kill -0 $TRACER_PID 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
}

# ---- storm ---------------------------------------------------------------
step "storm: $(echo $E1000S | wc -w) bind/unbind loops + $(echo $VFIO_GROUPS | wc -w) VFIO loops for ${STORM_SECONDS}s"
benchtool launch --out $W/storm --links $((2 * NFUNCS)) --ready "attach points" --timeout 300 \
  -- ownertrace --json -o $W/storm.jsonl > $W/storm.launch || ot_die "storm: ownertrace did not attach: $(tail -n 3 $W/storm.err)"
TRACER_PID=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' $W/storm.launch)
n=0
for b in $E1000S; do
  n=$((n + 1))
  benchtool cycles "$b" e1000 --seconds "$STORM_SECONDS" > $R/storm-cycles-$n.json &
done
for g in $VFIO_GROUPS; do
  ( ok=0 fail=0 end=$(($(date +%s) + STORM_SECONDS))
    while [ "$(date +%s)" -lt $end ]; do
      if vfio_group_open /dev/vfio/$g > /dev/null 2>&1; then ok=$((ok + 1)); else fail=$((fail + 1)); fi
    done
    echo "{\"group\":$g,\"opens\":$ok,\"failures\":$fail}" > $R/storm-vfio-$g.json ) &
done
wait
sleep 1
stop $W/storm
mv $W/storm* $R/
ot_ok storm

# ---- cost, startup, RSS, overhead ---------------------------------------
# One warm-up launch per tool first (page cache, BTF parsing caches in the
# host root share), then REPEATS rounds, tools interleaved so that drift in
# a shared, noisy host hits every tool alike. Each round: untraced cycles,
# attach (startup), traced cycles, BPF run time of the tool's programs.
for tool in $TOOLS; do
  step "warm-up $tool"
  launch $tool $W/warmup-$tool || ot_die "$tool did not attach: $(tail -n 5 $W/warmup-$tool.err)"
  stop $W/warmup-$tool warm-up
done
rep=1
while [ $rep -le "$REPEATS" ]; do
  for tool in $TOOLS; do
    step "round $rep/$REPEATS: $tool"
    p=$W/$tool-$rep
    benchtool cycles "$OVERHEAD_BDF" e1000 --count "$CYCLES" > $p.untraced.json || ot_fail cycles "$p untraced"
    benchtool progs > $p.progs-before.jsonl
    launch $tool $p || ot_die "$tool did not attach: $(tail -n 5 $p.err)"
    benchtool cycles "$OVERHEAD_BDF" e1000 --count "$CYCLES" > $p.traced.json || ot_fail cycles "$p traced"
    benchtool progs > $p.progs-after.jsonl
    stop $p
  done
  rep=$((rep + 1))
done
ot_ok measured
# tracer logs can be long (bpftrace prints a stack per event): keep the
# launch/rss/progs/cycles files whole and only the tails of the outputs
for f in $W/*; do
  case $f in *.out|*.err) tail -c 20000 "$f" > "$R/${f##*/}" ;; *) cp "$f" $R/ ;; esac
done
sync

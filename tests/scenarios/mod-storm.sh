# mod-storm: ring-buffer pressure. ot_testmod's storm runs one kthread per
# vCPU, each doing STORM_N claim/release pairs as fast as it can on its own
# idle IOMMU group (an edu alone on pcie.0; the harness caller adds one per
# vCPU). The module reports how many ownership calls it made (storm_calls:
# one traced exit event each); ownertrace reports what it received and what
# the ring buffer dropped. Phases (STORM_PHASES, in this order):
#   storm-untraced   the storm with no tracer (the bench's baseline)
#   storm-default    ownertrace --json at the default ring size
#   storm-hist-only  ownertrace --hist-only --json (the bench's overhead figure)
#   storm-tiny       ownertrace --json --ringbuf-size STORM_TINY_KIB: drops forced
#   storm-ladder     the default phase again with storm_gap_us = each of
#                    STORM_LADDER in turn (storm-default-gN), until one has
#                    no drops: the fastest pace the default ring kept up with
#   storm-daemon     `ownertrace daemon --prometheus` through STORM_DAEMON_ROUNDS
#                    storms in a row: after each, once its metrics account for
#                    every call so far, the daemon's VmRSS/VmHWM from /proc and
#                    its own memory gauge (storm-daemon.rss, a line per round);
#                    the totals (storm-daemon.storm), the metrics file it leaves
#                    (storm-daemon.prom) and what it printed (storm-daemon.out)
# Per phase: NAME.storm (calls=, refused=, ns=, threads=, event_lines=),
# NAME.summary.jsonl (every record but the events: anomalies + summary; the
# events stay in the guest, counted in event_lines) and NAME.err.
# Parameters from /etc/ot-storm.conf if present (the bench), else defaults
# sized for the test: the default phase's events fit in the default ring.
# Assertions: tests/vm/test_storm_vm.py; figures: bench/run.py.
. /lib/ot/mod-lib.sh || ot_die "/lib/ot/mod-lib.sh missing"
STORM_N=500
STORM_PHASES="storm-default storm-tiny storm-daemon"
STORM_TINY_KIB=4
STORM_GAP_US=0
STORM_LADDER="20 100 500 2000"
STORM_DAEMON_ROUNDS=3
[ -r /etc/ot-storm.conf ] && . /etc/ot-storm.conf

mod_setup
TARGETS=""
for b in $(ot_pci_devices $EDU_ID); do
  [ "$b" = "$EDU" ] && continue                        # the shared group's edu
  g=$(ot_group_of "$b") || continue
  [ "$(ot_group_devices "$g" | wc -l)" -eq 1 ] || continue
  [ -z "$(ot_driver_of "$b")" ] || continue
  TARGETS="${TARGETS:+$TARGETS,}$b"
done
CPUS=$(grep -c ^processor /proc/cpuinfo)
[ "$(echo "$TARGETS" | tr ',' '\n' | grep -c .)" -ge "$CPUS" ] \
  || ot_die "need one idle edu group per vCPU ($CPUS), found '$TARGETS'"
ot_log "storm: $CPUS threads x $STORM_N pairs on $TARGETS; phases: $STORM_PHASES"
mod_param storm_targets "$TARGETS"
mod_param storm_n "$STORM_N"
mod_param storm_gap_us "$STORM_GAP_US"

# storm NAME: run the storm, write NAME.storm
storm() {
  if echo 1 > "$P/storm"; then ot_ok "$1-ran"; else ot_fail "$1-ran" "the storm refused to start"; fi
  printf 'calls=%s\nrefused=%s\nns=%s\nthreads=%s\n' "$(cat $P/storm_calls)" "$(cat $P/storm_refused)" \
    "$(cat $P/storm_ns)" "$(cat $P/storm_threads)" > "/tmp/$1.storm"
}

# traced NAME ARGS...: the storm under ownertrace --json ARGS
traced() {
  local name=$1; shift
  trace_start "$name" "$@"
  storm "$name"
  ot_trace_end "$name"
  ot_artifact "$name.err" "/tmp/$name.err"
  echo "event_lines=$(grep -c '^{"type":"event"' "/tmp/$name.jsonl")" >> "/tmp/$name.storm"
  grep -v '^{"type":"event"' "/tmp/$name.jsonl" > "/tmp/$name.summary.jsonl"
  ot_artifact "$name.summary.jsonl" "/tmp/$name.summary.jsonl"
  ot_artifact "$name.storm" "/tmp/$name.storm"
}

# prom_sum FILE REGEX: the sum of the samples of the series matching REGEX
prom_sum() { awk -v re="$2" '$1 ~ re { s += $NF } END { printf "%d\n", s }' "$1"; }

# the daemon through STORM_DAEMON_ROUNDS storms: its memory after each
daemon_storms() {
  local name=storm-daemon prom=/tmp/storm-daemon.prom round calls=0 refused=0 ns=0 seen i
  ot_trace_start "$name" daemon --prometheus "$prom" --metrics-interval 1
  : > "/tmp/$name.rss"
  for round in $(seq 1 "$STORM_DAEMON_ROUNDS"); do
    storm "$name-r$round"
    calls=$((calls + $(cat $P/storm_calls))); refused=$((refused + $(cat $P/storm_refused)))
    ns=$((ns + $(cat $P/storm_ns)))
    # drained: events + counted drops in its metrics account for every call so far
    i=0; seen=-1
    while [ $i -lt 600 ]; do
      seen=$(($(prom_sum "$prom" '^ownertrace_events_total[{]') + $(prom_sum "$prom" '^ownertrace_ringbuf_drops_total$')))
      [ "$seen" -ge "$calls" ] && break
      sleep 0.1; i=$((i + 1))
    done
    printf 'round=%s calls=%s seen=%s %s prom_rss_bytes=%s\n' "$round" "$calls" "$seen" \
      "$(awk '/^VmRSS:|^VmHWM:/ { sub(":", "", $1); printf "%s_kib=%s ", tolower($1), $2 }' "/proc/$OT_TRACE_PID/status")" \
      "$(prom_sum "$prom" '^ownertrace_resident_memory_bytes$')" >> "/tmp/$name.rss"
  done
  ot_trace_end "$name"
  printf 'calls=%s\nrefused=%s\nns=%s\nthreads=%s\n' "$calls" "$refused" "$ns" "$(cat $P/storm_threads)" \
    > "/tmp/$name.storm"
  for f in "$name.storm" "$name.rss" "$name.prom" "$name.err"; do ot_artifact "$f" "/tmp/$f"; done
  ot_artifact "$name.out" "/tmp/$name.jsonl"     # the daemon prints anomalies only, as text
}

for phase in $STORM_PHASES; do
  case $phase in
    storm-untraced) storm "$phase"; ot_artifact "$phase.storm" "/tmp/$phase.storm" ;;
    storm-default) traced "$phase" ;;
    storm-hist-only) traced "$phase" --hist-only ;;
    storm-tiny) traced "$phase" --ringbuf-size "$STORM_TINY_KIB" ;;
    storm-ladder)
      for gap in $STORM_LADDER; do
        grep -q '"ringbuf_drops":0,' /tmp/storm-default.summary.jsonl 2>/dev/null && break
        grep -q '"ringbuf_drops":0,' "/tmp/storm-default-g$last.summary.jsonl" 2>/dev/null && break
        mod_param storm_gap_us "$gap"
        traced "storm-default-g$gap"
        last=$gap
      done
      mod_param storm_gap_us "$STORM_GAP_US" ;;
    storm-daemon) daemon_storms ;;
    *) ot_fail "phase-$phase" "unknown phase" ;;
  esac
done
dmesg_save storm.dmesg
mod_unload

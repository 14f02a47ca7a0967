# guest-lib.sh — helpers for scenarios running inside the ownertrace test VM.
# Sourced (busybox sh) by /init and automatically before /scenario.sh, so
# scenarios just call these functions. Installed at /lib/ot/guest-lib.sh.
#
# Channels:
#   $OT_RESULTS = /dev/ttyS1 -> host OUT/results.txt   (KTAP-ish lines, artifacts)
#   $OT_STREAM  = /dev/ttyS2 -> host OUT/stream.txt    (live output, `--stream`)
#   console     = /dev/ttyS0 -> host OUT/console.log   (kernel log + stdout/stderr)
#   arm64: console ttyAMA0; results, stream and $OT_VERDICT are virtio-serial
#   ports (/dev/vportNpM, named ot.results, ot.stream, ot.verdict) set by /init
#
# Results: ot_ok NAME | ot_fail NAME REASON | ot_skip NAME REASON | ot_log TEXT
#          ot_check NAME CMD...   (ok if CMD succeeds, else fail with its output)
#          ot_artifact NAME FILE  (file -> host OUT/artifacts/NAME)
# Stream:  ot_stream TEXT...  | ot_stream_cmd CMD... (stdout+stderr -> stream)
# PCI:     ot_pci_devices VEN:DEV | ot_bdf_of VEN:DEV [NTH] | ot_vendev_of BDF
#          ot_driver_of BDF | ot_group_of BDF | ot_group_devices GROUP
#          ot_unbind BDF | ot_bind BDF DRIVER | ot_clear_override BDF
#          ot_reprobe BDF | ot_dump_groups
#          (the driver/group/bind helpers also take a platform device's name)
# Misc:    ot_wait_for FILE PATTERN TIMEOUT_S | ot_die REASON
# Tracer:  ot_trace_start NAME ARGS | ot_trace_end NAME | ot_trace_stop NAME | ot_groups_run NAME ARGS
# Runner:  ot_tap_begin | ot_run_scenario WHO FILE SHELL | ot_finish (the runners' own: /init,
#          and the systemd guest's ot-test.service)
# Never hard-code group numbers or BDFs: look them up with the PCI helpers.

OT_RESULTS=${OT_RESULTS:-/dev/ttyS1}
OT_STREAM=${OT_STREAM:-/dev/ttyS2}
export OT_RESULTS OT_STREAM

_ot_emit() { echo "$*" > "$OT_RESULTS"; }   # open/close per line: drains the UART
_ot_next() { echo x >> /tmp/ot_count; wc -l < /tmp/ot_count | tr -d ' '; }

# ot_ok NAME
ot_ok() {
  local n; n=$(_ot_next)
  _ot_emit "ok $n $1"
  echo "ot: ok $n $1"
}

# ot_fail NAME REASON...  (marks the run failed; the scenario keeps running)
ot_fail() {
  local name=$1 n; shift
  n=$(_ot_next)
  echo "$name: $*" >> /tmp/ot_failed
  _ot_emit "not ok $n $name # $*"
  echo "ot: not ok $n $name # $*"
}

# ot_skip NAME REASON...
ot_skip() {
  local name=$1 n; shift
  n=$(_ot_next)
  _ot_emit "ok $n $name # SKIP $*"
  echo "ot: ok $n $name # SKIP $*"
}

# ot_log TEXT...  (diagnostic line in results + console)
ot_log() {
  _ot_emit "# $*"
  echo "ot: $*"
}

# ot_die REASON...  fail and abort the scenario
ot_die() { ot_fail "${OT_SCENARIO_STEP:-abort}" "$*"; exit 1; }

# ot_check NAME CMD...  run CMD; ok if it exits 0, else fail with its output tail
ot_check() {
  local name=$1 out rc; shift
  out=$("$@" 2>&1); rc=$?
  if [ $rc -eq 0 ]; then ot_ok "$name"; else
    ot_fail "$name" "rc=$rc: $(echo "$out" | tail -n 3 | tr '\n' ' ')"
  fi
  return $rc
}

# ot_artifact NAME FILE  send FILE to the host as OUT/artifacts/NAME
ot_artifact() {
  local name=$1 file=$2
  if [ ! -r "$file" ]; then ot_log "artifact $name: $file not readable"; return 1; fi
  {
    echo "# ot-artifact-begin $name $(wc -c < "$file" | tr -d ' ')"
    base64 "$file"
    echo "# ot-artifact-end $name"
  } > "$OT_RESULTS"
}

# ot_stream TEXT...  one line to the live stream
ot_stream() { echo "$*" > "$OT_STREAM"; }

# ot_stream_cmd CMD...  run CMD with stdout+stderr to the stream (foreground;
# append & yourself to background it: `ot_stream_cmd /bin/ownertrace &`)
ot_stream_cmd() { "$@" > "$OT_STREAM" 2>&1; }

# ---- PCI / IOMMU lookups (sysfs only) -------------------------------------

# _ot_bus DEV -> the bus DEV is on: pci (a BDF) or platform (a platform device
# name, e.g. ot-test of the arm64 DTB); pci if neither exists
_ot_bus() {
  if [ ! -e "/sys/bus/pci/devices/$1" ] && [ -e "/sys/bus/platform/devices/$1" ]; then echo platform
  else echo pci; fi
}

# ot_vendev_of BDF -> "8086:100e" (empty, rc 1, for a device that is not PCI)
ot_vendev_of() {
  local d=/sys/bus/pci/devices/$1 v dv
  [ -e "$d/vendor" ] || return 1
  v=$(cat "$d/vendor") dv=$(cat "$d/device")
  echo "${v#0x}:${dv#0x}"
}

# ot_pci_devices VEN:DEV -> all matching BDFs, sorted
ot_pci_devices() {
  local want d
  want=$(echo "$1" | tr 'A-F' 'a-f')
  for d in /sys/bus/pci/devices/*; do
    [ -e "$d/vendor" ] || continue
    [ "$(ot_vendev_of "${d##*/}")" = "$want" ] && echo "${d##*/}"
  done | sort
}

# ot_bdf_of VEN:DEV [NTH]  -> NTH (1-based, default 1) matching BDF; rc 1 if none
ot_bdf_of() {
  local r
  r=$(ot_pci_devices "$1" | sed -n "${2:-1}p")
  [ -n "$r" ] || return 1
  echo "$r"
}

# ot_driver_of BDF -> driver name or empty
ot_driver_of() {
  local l
  l=$(readlink "/sys/bus/$(_ot_bus "$1")/devices/$1/driver" 2>/dev/null) || return 0
  echo "${l##*/}"
}

# ot_group_of BDF -> IOMMU group number (empty + rc 1 if none)
ot_group_of() {
  local l
  l=$(readlink "/sys/bus/$(_ot_bus "$1")/devices/$1/iommu_group" 2>/dev/null) || return 1
  echo "${l##*/}"
}

# ot_group_devices GROUP -> BDFs in the group
ot_group_devices() { ls "/sys/kernel/iommu_groups/$1/devices" 2>/dev/null | sort; }

ot_dump_groups() {
  local g d
  for g in $(ls /sys/kernel/iommu_groups 2>/dev/null | sort -n); do
    echo "  group $g: $(ot_group_devices "$g" | while read -r d; do printf '%s[%s,%s] ' "$d" "$(ot_vendev_of "$d" || _ot_bus "$d")" "$(ot_driver_of "$d")"; done)"
  done
}

# ot_unbind BDF  unbind from its current driver (no-op if none)
ot_unbind() {
  local drv; drv=$(ot_driver_of "$1")
  [ -z "$drv" ] && return 0
  echo "$1" > "/sys/bus/$(_ot_bus "$1")/drivers/$drv/unbind" || return 1
  [ -z "$(ot_driver_of "$1")" ]
}

# ot_bind BDF DRIVER  bind via driver_override + drivers_probe; rc 0 iff bound
ot_bind() {
  local bdf=$1 drv=$2 cur bus
  bus=$(_ot_bus "$bdf")
  cur=$(ot_driver_of "$bdf")
  [ "$cur" = "$drv" ] && return 0
  [ -n "$cur" ] && { ot_unbind "$bdf" || return 1; }
  echo "$drv" > "/sys/bus/$bus/devices/$bdf/driver_override" || return 1
  echo "$bdf" > "/sys/bus/$bus/drivers_probe" 2>/dev/null
  [ "$(ot_driver_of "$bdf")" = "$drv" ]
}

# ot_clear_override BDF  remove driver_override (does not (re)bind)
ot_clear_override() { echo > "/sys/bus/$(_ot_bus "$1")/devices/$1/driver_override"; }

# ot_reprobe BDF  clear the override and let the default driver (if any) bind
ot_reprobe() {
  ot_clear_override "$1"
  echo "$1" > "/sys/bus/$(_ot_bus "$1")/drivers_probe" 2>/dev/null
  return 0
}

# ot_wait_for FILE PATTERN TIMEOUT_S  wait until FILE contains PATTERN (grep -E)
ot_wait_for() {
  local f=$1 p=$2 t=${3:-10} i=0 n
  n=$((t * 10))
  while [ $i -lt $n ]; do
    grep -qE -- "$p" "$f" 2>/dev/null && return 0
    sleep 0.1; i=$((i + 1))
  done
  return 1
}

# internal: verdict through isa-debug-exit (QEMU exits with (V<<1)|1);
# arm64: the line "ot-verdict NONCE V" on the verdict port, then a PSCI
# power-off (the harness also requires QMP's shutdown reason guest-shutdown)
_ot_exit_code() {
  local hex=${1#0x}
  sync
  if [ -n "${OT_VERDICT:-}" ]; then
    echo "ot-verdict $OT_NONCE 0x$hex" > "$OT_VERDICT"
    sync
    poweroff -f
  fi
  printf "\\x$hex" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
  sleep 2
  echo "ot-init: isa-debug-exit did not stop QEMU; powering off"
  poweroff -f
}

# ---- the runners: TAP header, the scenario and its verdict -------------------
# /init (busybox sh) and the systemd guest's ot-test.service (bash) both run
# one scenario this way, so a timeout or a failed check means the same in both.

# ot_tap_begin  the check counters and the TAP header (nonce and kernel) on $OT_RESULTS
ot_tap_begin() {
  : > /tmp/ot_failed
  : > /tmp/ot_count
  echo "TAP version 13" > "$OT_RESULTS"
  echo "# ot-nonce: $OT_NONCE" > "$OT_RESULTS"
  echo "# kernel: $(uname -r)" > "$OT_RESULTS"
}

# ot_run_scenario WHO FILE SHELL  FILE under SHELL in /tmp with this library
# sourced, killed after $OT_TIMEOUT s; then its own check (scenario: ok, or
# fail with the timeout, the exit status or how many checks failed), the plan
# line and "# verdict: pass|fail". Sets OT_VERDICT_RESULT to pass or fail.
ot_run_scenario() {
  local who=$1 file=$2 shell=$3 t0 t1 rc nfail
  echo "$who: running $file (timeout ${OT_TIMEOUT}s)"
  t0=$(cut -d' ' -f1 /proc/uptime)
  timeout -s KILL "$OT_TIMEOUT" "$shell" -c ". /lib/ot/guest-lib.sh; cd /tmp; . $file"
  rc=$?
  t1=$(cut -d' ' -f1 /proc/uptime)
  echo "$who: scenario exited rc=$rc (uptime $t0 -> $t1)"
  nfail=$(wc -l < /tmp/ot_failed)
  OT_VERDICT_RESULT=fail
  # 137: killed at the timeout; 124, 143: a timeout (or TERM) inside the scenario's own commands
  if [ "$rc" -eq 137 ] || [ "$rc" -eq 143 ] || [ "$rc" -eq 124 ]; then
    ot_fail scenario "TIMEOUT after ${OT_TIMEOUT}s (rc $rc)"
  elif [ "$rc" -ne 0 ]; then
    ot_fail scenario "exit status $rc"
  elif [ "$nfail" -ne 0 ]; then
    ot_fail scenario "$nfail check(s) failed"
  else
    ot_ok scenario
    OT_VERDICT_RESULT=pass
  fi
  echo "1..$(wc -l < /tmp/ot_count)" > "$OT_RESULTS"
  echo "# verdict: $OT_VERDICT_RESULT" > "$OT_RESULTS"
  echo "$who: verdict=$OT_VERDICT_RESULT nonce=$OT_NONCE"
}

# ot_finish  hand OT_VERDICT_RESULT to the harness (QEMU's exit code) and stop
ot_finish() {
  sync
  if [ "$OT_VERDICT_RESULT" = pass ]; then _ot_exit_code 0x10; else _ot_exit_code 0x11; fi
}

# ---- the default topology's shared group, and ownertrace runs ----------------

# ot_find_shared_group  sets EDU_BDF, SIB_BDF (the e1000 sharing the edu's
# IOMMU group) and GROUP, and sends them to the host as the "facts" artifact
# (edu=, e1000=, group=, release=). Dies if the topology is not there.
ot_find_shared_group() {
  local b
  EDU_BDF=$(ot_bdf_of 1234:11e8) || ot_die "no edu device"
  GROUP=$(ot_group_of "$EDU_BDF") || ot_die "edu has no IOMMU group"
  SIB_BDF=""
  for b in $(ot_group_devices "$GROUP"); do
    [ "$(ot_vendev_of "$b")" = "8086:100e" ] && SIB_BDF=$b
  done
  [ -n "$SIB_BDF" ] || ot_die "no e1000 in the edu's group $GROUP"
  printf 'edu=%s\ne1000=%s\ngroup=%s\nrelease=%s\n' "$EDU_BDF" "$SIB_BDF" "$GROUP" "$(uname -r)" > /tmp/facts
  ot_artifact facts /tmp/facts
}

# ot_trace_start NAME ARGS...  ownertrace ARGS in the background, stdout to
# /tmp/NAME.jsonl, stderr to /tmp/NAME.err; returns once it has attached
# (ok/fail line NAME-attached; up to 90 s: a loaded TCG host is slow to load
# BPF). Its pid is in OT_TRACE_PID.
ot_trace_start() {
  local name=$1; shift
  ownertrace "$@" > "/tmp/$name.jsonl" 2> "/tmp/$name.err" &
  OT_TRACE_PID=$!
  if ot_wait_for "/tmp/$name.err" "tracing [0-9]+ attach points" 90; then
    ot_ok "$name-attached"
  else
    ot_fail "$name-attached" "$(tail -n 3 "/tmp/$name.err" | tr '\n' ' ')"
  fi
}

# ot_groups_run NAME ARGS...  `ownertrace groups ARGS` to /tmp/NAME.out, its
# stderr and exit=STATUS to /tmp/NAME.err, both sent to the host as artifacts.
ot_groups_run() {
  local name=$1; shift
  ownertrace groups "$@" > "/tmp/$name.out" 2> "/tmp/$name.err"
  echo "exit=$?" >> "/tmp/$name.err"
  ot_artifact "$name.out" "/tmp/$name.out"
  ot_artifact "$name.err" "/tmp/$name.err"
}

# ot_trace_end NAME  SIGINT, wait, append exit=STATUS to NAME.err (no artifacts:
# for a scenario that sends only part of a large NAME.jsonl)
ot_trace_end() {
  kill -INT "$OT_TRACE_PID"
  wait "$OT_TRACE_PID"
  echo "exit=$?" >> "/tmp/$1.err"
}

# ot_trace_stop NAME  ot_trace_end, and send NAME.jsonl and NAME.err to the
# host as artifacts.
ot_trace_stop() {
  ot_trace_end "$1"
  ot_artifact "$1.jsonl" "/tmp/$1.jsonl"
  ot_artifact "$1.err" "/tmp/$1.err"
}

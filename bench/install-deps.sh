#!/usr/bin/env bash
# What `make bench` needs beyond scripts/install-deps.sh: bpftrace (the
# baseline; the guest runs the host's copy over 9p) and taskset (util-linux,
# pins replay to one core). Idempotent, like scripts/install-deps.sh.
set -euo pipefail
missing=()
for p in bpftrace util-linux; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "bench/install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "bench/install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

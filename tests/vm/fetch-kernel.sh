#!/usr/bin/env bash
# fetch-kernel.sh KERNEL  -- download + unpack a Debian kernel for the VM tests.
#
#   KERNEL   6.1  (bookworm: linux-image-amd64's dependency)
#            6.12 (trixie:   linux-image-amd64's dependency, 6.12.*)
#            7.2  (sid:      split linux-binary-*/linux-modules-* packages)
#            6.1-arm64, 6.12-arm64, 7.2-arm64: the same from linux-image-arm64,
#                 plus busybox-static:arm64 of bookworm (the guest's userland;
#                 the host's busybox is x86), unpacked to <release>/busybox-root
#
# Never installs anything and never touches the system's apt configuration:
# every suite gets a PRIVATE sources list, lists dir and cache dir under the
# cache (apt-get -o Dir::Etc::sourcelist=... -o Dir::State::Lists=...).
#
# Cache layout ($OT_CACHE, default <repo>/.cache/kernels):
#   apt/<suite>/{sources.list,lists/,cache/}   private apt state per suite
#   debs/*.deb                                 downloaded packages (shared)
#   <release>/                                 one unpacked kernel:
#       root/            dpkg -x of every package listed in `packages`
#       packages         the .deb file names unpacked into root/
#       vmlinuz          -> kernel image
#       modules/lib/modules/<release>  -> module tree (depmod'ed on the host;
#                        usable as `modprobe -d modules -S <release>`)
#       release          uname -r string
#   <KERNEL> -> <release>   (symlink; its presence makes re-runs offline no-ops)
# Later additions (e.g. linux-headers for the test module) are meant to be
# unpacked into the same root/ and appended to `packages`.
#
# Env: OT_CACHE (cache dir), OT_REFRESH=1 (re-resolve the newest version even
# when a kernel is already cached), OT_MIRROR (Debian archive URI instead of the
# one in the system's apt sources).
# The last line on stdout is the kernel directory.
set -euo pipefail

die() { echo "fetch-kernel: ERROR: $*" >&2; exit 1; }
log() { echo "fetch-kernel: $*" >&2; }

[ $# -eq 1 ] || die "usage: $0 6.1|6.12|7.2[-arm64]"
KERNEL=$1
SERIES=${KERNEL%-arm64}
DARCH=amd64; [ "$SERIES" != "$KERNEL" ] && DARCH=arm64
suites_of() {
  case "$1" in
    6.1)  echo "bookworm bookworm-updates bookworm-security" ;;
    6.12) echo "trixie trixie-updates trixie-security" ;;
    7.2)  echo "sid" ;;
  esac
}
SUITES=$(suites_of "$SERIES")
[ -n "$SUITES" ] || die "unknown kernel '$KERNEL' (expected 6.1, 6.12 or 7.2, optionally with -arm64)"
SUITE_ID=${SUITES%% *}
# amd64 keeps the plain suite name (existing caches); other architectures get their own state
[ $DARCH = amd64 ] || SUITE_ID=$SUITE_ID-$DARCH

REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${OT_CACHE:-$REPO/.cache/kernels}
mkdir -p "$CACHE/debs"
CACHE=$(cd "$CACHE" && pwd)

# ---- fast path: already unpacked -----------------------------------------
if [ "${OT_REFRESH:-0}" != 1 ] && [ -f "$CACHE/$KERNEL/release" ] \
   && [ -e "$CACHE/$KERNEL/vmlinuz" ] && [ -d "$CACHE/$KERNEL/modules" ] \
   && { [ $DARCH = amd64 ] || [ -e "$CACHE/$KERNEL/busybox" ]; }; then
  d=$(cd "$CACHE/$KERNEL" && pwd -P)
  log "$KERNEL: cached ($(cat "$d/release"))"
  echo "$d"
  exit 0
fi

# serialize concurrent fetches of the same series (apt lists lock, unpack dir)
exec 9>"$CACHE/.lock-$KERNEL"
flock 9
if [ "${OT_REFRESH:-0}" != 1 ] && [ -f "$CACHE/$KERNEL/release" ] && [ -e "$CACHE/$KERNEL/vmlinuz" ] \
   && { [ $DARCH = amd64 ] || [ -e "$CACHE/$KERNEL/busybox" ]; }; then
  d=$(cd "$CACHE/$KERNEL" && pwd -P); log "$KERNEL: cached ($(cat "$d/release"))"; echo "$d"; exit 0
fi

for t in apt-get apt-cache dpkg dpkg-deb depmod; do
  command -v "$t" >/dev/null || die "'$t' not found (run scripts/install-deps.sh)"
done

# ---- private apt configuration -------------------------------------------
# Mirror URIs come from the system's own sources (deb822 or one-line format).
sys_uris() {
  # prints "URI" lines of Debian archives configured on this machine
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN{IGNORECASE=1} /^URIs:/{for(i=2;i<=NF;i++) print $i}' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1=="deb"{for(i=2;i<=NF;i++) if ($i ~ /^(https?|ftp|file):/){print $i; break}}' "$f"
  done
}
ALL_URIS=$(sys_uris | sort -u)
MAIN_URI=$(echo "$ALL_URIS" | grep -E '/debian/?$' | grep -v security | head -1 || true)
SEC_URI=$(echo "$ALL_URIS" | grep -E '/debian-security/?$' | head -1 || true)
[ -n "${OT_MIRROR:-}" ] && MAIN_URI=$OT_MIRROR   # override, e.g. a local mirror
[ -n "$MAIN_URI" ] || die "no Debian archive URI (…/debian) found in /etc/apt/sources.list.d/ or /etc/apt/sources.list"
[ -n "$SEC_URI" ] || SEC_URI=${MAIN_URI%/debian*}/debian-security

KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$KEYRING" ] || die "$KEYRING missing (package debian-archive-keyring)"

# apt_state SUITE_ID "SUITES": private sources/lists/cache for SUITES, in
# APTDIR and APTOPTS (architecture $DARCH), lists updated
apt_state() {
  APTDIR=$CACHE/apt/$1
  mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial"
  {
    for s in $2; do
      case "$s" in
        *-security) echo "deb [signed-by=$KEYRING] $SEC_URI $s main" ;;
        *)          echo "deb [signed-by=$KEYRING] $MAIN_URI $s main" ;;
      esac
    done
  } > "$APTDIR/sources.list"

  APTOPTS=(
    -o "Dir::Etc::sourcelist=$APTDIR/sources.list"
    -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$APTDIR/lists"
    -o "Dir::Cache=$APTDIR/cache"
    -o "Dir::Cache::pkgcache=$APTDIR/cache/pkgcache.bin"
    -o "Dir::Cache::srcpkgcache=$APTDIR/cache/srcpkgcache.bin"
    -o "APT::Architecture=$DARCH"
    -o "APT::Architectures=$DARCH"
    -o "Acquire::Retries=3"
    -o "APT::Sandbox::User=root"
  )

  [ "${APT_UPDATED:-}" = "$1" ] && return 0   # this run already updated these lists
  APT_UPDATED=$1
  log "$KERNEL: updating private package lists for: $2 ($DARCH, $MAIN_URI)"
  if ! apt-get "${APTOPTS[@]}" -q update >"$APTDIR/update.log" 2>&1 \
     || grep -qE '^(E:|Err:)' "$APTDIR/update.log"; then
    sed 's/^/  /' "$APTDIR/update.log" >&2
    die "cannot reach the Debian registry ($MAIN_URI) — see messages above"
  fi
}

# ---- resolve the image package -------------------------------------------
cand_field() {  # cand_field PKG FIELD  -> field of the candidate version
  apt-cache "${APTOPTS[@]}" show --no-all-versions "$1" 2>/dev/null \
    | awk -v f="$2:" '$1==f{ $1=""; sub(/^ /,""); print; exit }'
}
deps_of() {     # bare package names of PKG's Depends
  cand_field "$1" Depends | tr ',' '\n' | sed -E 's/^ *//; s/[ (|].*//' | sed '/^$/d'
}
fetch_deb() {   # fetch_deb PKG -> path of the candidate's .deb in the shared debs/ dir
  local p=$1 v f
  v=$(cand_field "$p" Version)
  [ -n "$v" ] || die "$p not found in the package lists"
  f=$(ls "$CACHE/debs/${p}_"*"_$DARCH.deb" "$CACHE/debs/${p}_"*_all.deb 2>/dev/null | grep -F "_${v//:/%3a}_" | head -1 || true)
  if [ -z "$f" ]; then
    log "$KERNEL: downloading $p ($v, $DARCH)"
    ( cd "$CACHE/debs" && apt-get "${APTOPTS[@]}" -q download "$p=$v" ) >&2 \
      || die "apt-get download $p=$v failed (registry unreachable?)"
    f=$(ls -t "$CACHE/debs/${p}_"*.deb | head -1)
  else
    log "$KERNEL: have $(basename "$f")"
  fi
  dpkg-deb --info "$f" >/dev/null 2>&1 || { rm -f "$f"; die "corrupt download $f (removed, re-run)"; }
  echo "$f"
}

apt_state "$SUITE_ID" "$SUITES"

KRE=$(echo "$SERIES" | sed 's/\./\\./g')
IMAGE=""
for d in $(deps_of linux-image-$DARCH); do
  if [[ "$d" =~ ^linux-image-${KRE}[.-].*-$DARCH$ ]]; then IMAGE=$d; break; fi
done
if [ -z "$IMAGE" ]; then
  # the metapackage moved on to another series: take the newest matching image
  log "$KERNEL: linux-image-$DARCH does not point to $SERIES; scanning package names"
  best=""; bestv=""
  for p in $(apt-cache "${APTOPTS[@]}" pkgnames linux-image- | grep -E "^linux-image-${KRE}[.-][0-9.+a-z~-]*-$DARCH$" | grep -vE -- '-(dbg|unsigned)$'); do
    v=$(cand_field "$p" Version); [ -n "$v" ] || continue
    if [ -z "$bestv" ] || dpkg --compare-versions "$v" gt "$bestv"; then best=$p; bestv=$v; fi
  done
  IMAGE=$best
fi
[ -n "$IMAGE" ] || die "no linux-image-$SERIES*-$DARCH package found in $SUITES"
RELEASE=${IMAGE#linux-image-}
VERSION=$(cand_field "$IMAGE" Version)
log "$KERNEL: newest is $IMAGE ($VERSION), uname -r = $RELEASE"

# the 7.x packages are split: linux-image-R depends on linux-binary-R (vmlinuz),
# linux-modules-R (.ko.xz) and linux-base-R (config, System.map, modules.builtin*)
PKGS=("$IMAGE")
for d in $(deps_of "$IMAGE"); do
  case "$d" in
    linux-base-"$RELEASE"|linux-binary-"$RELEASE"|linux-modules-"$RELEASE"|linux-image-"$RELEASE"-unsigned) PKGS+=("$d") ;;
  esac
done

KDIR=$CACHE/$RELEASE
if [ -f "$KDIR/release" ] && [ -e "$KDIR/vmlinuz" ]; then
  log "$KERNEL: $RELEASE already unpacked"
else
  # ---- download ----------------------------------------------------------
  debs=()
  for p in "${PKGS[@]}"; do
    debs+=("$(fetch_deb "$p")")
  done

  # ---- unpack --------------------------------------------------------------
  tmp=$CACHE/.tmp-$RELEASE.$$
  rm -rf "$tmp"; mkdir -p "$tmp/root"
  trap 'rm -rf "$tmp"' EXIT
  for f in "${debs[@]}"; do
    log "$KERNEL: unpacking $(basename "$f")"
    dpkg -x "$f" "$tmp/root"
    basename "$f" >> "$tmp/packages"
  done
  vmlinuz=""
  for c in "boot/vmlinuz-$RELEASE" "usr/lib/modules/$RELEASE/vmlinuz" "lib/modules/$RELEASE/vmlinuz"; do
    if [ -f "$tmp/root/$c" ]; then vmlinuz=$c; break; fi
  done
  [ -n "$vmlinuz" ] || die "no vmlinuz found in ${PKGS[*]}"
  moddir=""
  for c in "lib/modules/$RELEASE" "usr/lib/modules/$RELEASE"; do
    if [ -d "$tmp/root/$c/kernel" ]; then moddir=$c; break; fi
  done
  [ -n "$moddir" ] || die "no module tree found in ${PKGS[*]}"
  ln -s "root/$vmlinuz" "$tmp/vmlinuz"
  mkdir -p "$tmp/modules/lib/modules"
  ln -s "../../../root/$moddir" "$tmp/modules/lib/modules/$RELEASE"
  log "$KERNEL: depmod"
  depmod -b "$tmp/modules" "$RELEASE" || die "depmod failed"
  echo "$RELEASE" > "$tmp/release"
  echo "$VERSION" > "$tmp/version"
  rm -rf "$KDIR"
  mv "$tmp" "$KDIR"
  trap - EXIT
fi
if [ $DARCH != amd64 ] && [ ! -e "$KDIR/busybox" ]; then
  # the guest's busybox: bookworm's static build for every arm64 kernel (the
  # x86 guests use the host's bookworm busybox-static too)
  apt_state bookworm-$DARCH "bookworm bookworm-updates bookworm-security"
  f=$(fetch_deb busybox-static)
  rm -rf "$KDIR/busybox-root"
  dpkg -x "$f" "$KDIR/busybox-root"
  [ -f "$KDIR/busybox-root/bin/busybox" ] || die "no bin/busybox in $f"
  basename "$f" >> "$KDIR/packages"
  ln -sfn busybox-root/bin/busybox "$KDIR/busybox"
fi
ln -sfn "$RELEASE" "$CACHE/$KERNEL"
log "$KERNEL: ready: $KDIR"
echo "$KDIR"

#!/usr/bin/env bash
# fetch-headers.sh KERNEL [--source]
#   Download (apt-get download, never install) the Debian kbuild inputs for the
#   test module and unpack them (dpkg -x) into the kernel's cache directory:
#     linux-headers-<release>, linux-headers-<base>-common, linux-kbuild-*
#   With --source also linux-source-<series> (only the .tar.xz is kept; it is
#   needed to rebuild the host tools objtool/modpost for 6.12 / 7.2, whose
#   prebuilt binaries need glibc >= 2.38).
#
#   Reuses the PRIVATE apt state that tests/vm/fetch-kernel.sh creates under
#   <cache>/apt/<suite>/ (the system apt config is never touched).
#   Layout: <cache>/<release>/headers/          dpkg -x of the three packages
#           <cache>/<release>/headers/packages  .deb names unpacked there
#           <cache>/<release>/linux-source.tar.xz (with --source)
#   Last stdout line: the headers directory.
set -euo pipefail
die() { echo "fetch-headers: ERROR: $*" >&2; exit 1; }
log() { echo "fetch-headers: $*" >&2; }

[ $# -ge 1 ] || die "usage: $0 6.1|6.12|7.2[-arm64] [--source]"
KERNEL=$1; WANT_SRC=0; [ "${2:-}" = --source ] && WANT_SRC=1
SERIES=${KERNEL%-arm64}
DARCH=amd64; [ "$SERIES" != "$KERNEL" ] && DARCH=arm64
case "$SERIES" in
  6.1) SUITE=bookworm ;; 6.12) SUITE=trixie ;; 7.2) SUITE=sid ;;
  *) die "unknown kernel '$KERNEL'" ;;
esac
# the private apt state of fetch-kernel.sh: apt/<suite> (amd64), apt/<suite>-arm64
[ $DARCH = amd64 ] || SUITE=$SUITE-$DARCH
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${OT_CACHE:-$REPO/.cache/kernels}

# the kernel itself (and the private apt state) come from fetch-kernel.sh
KDIR=$(bash "$REPO/tests/vm/fetch-kernel.sh" "$KERNEL" | tail -n 1)
CACHE=$(cd "$CACHE" && pwd)
RELEASE=$(cat "$KDIR/release")
VERSION=$(cat "$KDIR/version")
HDIR=$KDIR/headers

exec 9>"$CACHE/.lock-headers-$KERNEL"; flock 9

APTDIR=$CACHE/apt/$SUITE
APTOPTS=(
  -o "Dir::Etc::sourcelist=$APTDIR/sources.list" -o "Dir::Etc::sourceparts=-"
  -o "Dir::State::Lists=$APTDIR/lists" -o "Dir::Cache=$APTDIR/cache"
  -o "Dir::Cache::pkgcache=$APTDIR/cache/pkgcache.bin"
  -o "Dir::Cache::srcpkgcache=$APTDIR/cache/srcpkgcache.bin"
  -o "APT::Architecture=$DARCH" -o "APT::Architectures=$DARCH" -o "Acquire::Retries=3" -o "APT::Sandbox::User=root"
)
ensure_lists() {
  if [ ! -f "$APTDIR/sources.list" ]; then
    # cached kernel from before the private apt state existed: let fetch-kernel.sh recreate it
    log "no private apt state for $SUITE; refreshing it through fetch-kernel.sh"
    OT_REFRESH=1 bash "$REPO/tests/vm/fetch-kernel.sh" "$KERNEL" >/dev/null
  fi
  ls "$APTDIR"/lists/*Packages* >/dev/null 2>&1 && return 0
  apt-get "${APTOPTS[@]}" -q update >"$APTDIR/update.log" 2>&1 || { cat "$APTDIR/update.log" >&2; die "apt-get update failed"; }
}
field() { apt-cache "${APTOPTS[@]}" show "$1=$2" 2>/dev/null | awk -v f="$3:" '$1==f{$1="";sub(/^ /,"");print;exit}'; }
cand() { apt-cache "${APTOPTS[@]}" show --no-all-versions "$1" 2>/dev/null | awk '$1=="Version:"{print $2;exit}'; }
download() {  # download PKG VERSION -> prints the .deb path
  local p=$1 v=$2 f
  # this architecture's (or an arch-all) package: one cache holds amd64 and arm64 ones
  f=$(ls "$CACHE/debs/${p}_"*"_$DARCH.deb" "$CACHE/debs/${p}_"*_all.deb 2>/dev/null | grep -F "_${v//:/%3a}_" | head -1 || true)
  if [ -z "$f" ]; then
    log "downloading $p ($v)"
    ( cd "$CACHE/debs" && apt-get "${APTOPTS[@]}" -q download "$p=$v" ) >&2 || die "apt-get download $p=$v failed"
    f=$(ls -t "$CACHE/debs/${p}_"*"_$DARCH.deb" "$CACHE/debs/${p}_"*_all.deb 2>/dev/null | head -1)
  fi
  dpkg-deb --info "$f" >/dev/null 2>&1 || { rm -f "$f"; die "corrupt download $f (removed, re-run)"; }
  echo "$f"
}

if [ ! -f "$HDIR/.complete" ]; then
  ensure_lists
  H=linux-headers-$RELEASE
  deps=$(field "$H" "$VERSION" Depends)
  [ -n "$deps" ] || die "$H=$VERSION not found in the $SUITE package lists (OT_REFRESH=1 fetch-kernel.sh $KERNEL?)"
  PKGS=("$H")
  for d in $(echo "$deps" | tr ',|' '\n\n' | sed -E 's/^ *//; s/[ (].*//'); do
    case "$d" in linux-headers-*-common*|linux-kbuild-*) PKGS+=("$d") ;; esac
  done
  rm -rf "$HDIR.tmp"; mkdir -p "$HDIR.tmp"
  for p in "${PKGS[@]}"; do
    v=$(field "$p" "$VERSION" Version); [ -n "$v" ] || v=$(cand "$p")
    f=$(download "$p" "$v")
    log "unpacking $(basename "$f")"
    dpkg -x "$f" "$HDIR.tmp"
    basename "$f" >> "$HDIR.tmp/packages"
  done
  touch "$HDIR.tmp/.complete"
  rm -rf "$HDIR"; mv "$HDIR.tmp" "$HDIR"
fi

if [ $WANT_SRC = 1 ] && [ ! -f "$KDIR/linux-source.tar.xz" ]; then
  # the source is architecture-independent: the other architecture's kernel
  # of the same version may have it already
  for other in "$CACHE"/*/linux-source.tar.xz; do
    [ -f "$other" ] && [ "$(cat "$(dirname "$other")/version" 2>/dev/null)" = "$VERSION" ] || continue
    log "reusing $other"
    ln "$other" "$KDIR/linux-source.tar.xz" 2>/dev/null || cp "$other" "$KDIR/linux-source.tar.xz"
    break
  done
fi
if [ $WANT_SRC = 1 ] && [ ! -f "$KDIR/linux-source.tar.xz" ]; then
  ensure_lists
  SRCPKG=linux-source-$SERIES
  v=$(field "$SRCPKG" "$VERSION" Version); [ -n "$v" ] || die "$SRCPKG=$VERSION not in $SUITE (the source package must match the kernel exactly)"
  f=$(download "$SRCPKG" "$v")
  rm -rf "$KDIR/.src.tmp"; mkdir -p "$KDIR/.src.tmp"
  dpkg -x "$f" "$KDIR/.src.tmp"
  t=$(ls "$KDIR"/.src.tmp/usr/src/linux-source-*.tar.xz | head -1)
  [ -f "$t" ] || die "no linux-source tarball in $f"
  mv "$t" "$KDIR/linux-source.tar.xz"; rm -rf "$KDIR/.src.tmp"
  rm -f "$f"   # the .deb only wraps the tarball kept above (150+ MB)
fi
echo "$HDIR"

#!/usr/bin/env bash
# build.sh KERNEL   -- build ot_testmod.ko for a Debian kernel of the VM matrix
#
#   KERNEL = 6.1 | 6.12 | 7.2   (the same series names as tests/vm/fetch-kernel.sh)
#            6.1-arm64 | 6.12-arm64: cross-built with aarch64-linux-gnu-gcc
#
# 1. tests/module/fetch-headers.sh fetches linux-headers-<release>, its -common
#    and linux-kbuild-* with `apt-get download` (private apt state, never
#    installed) and unpacks them under .cache/kernels/<release>/headers/.
# 2. The arch headers' Makefile includes the -common Makefile by an absolute
#    /usr/src path; it is rewritten to the unpacked location (in the cache copy).
# 3. 6.12 / 7.2 only (packages built on trixie/sid): the prebuilt kbuild host
#    tools (scripts/mod/modpost, tools/objtool/objtool, scripts/basic/fixdep,
#    scripts/genksyms, ...) need glibc >= 2.38. They are rebuilt once from the
#    exactly matching linux-source-<series> package with the local gcc
#    (`make modules_prepare` in a scratch tree configured with the headers'
#    .config) and copied over the prebuilt ones (originals kept as *.prebuilt).
#    The compiler is a wrapper (build/module/<series>/cc) around the local gcc
#    that maps gcc-14-only flags (-fmin-function-alignment=N ->
#    -falign-functions=N) and drops flags gcc 12 does not know.
#    Module BTF is not generated (CONFIG_DEBUG_INFO_BTF_MODULES= on the make
#    command line: it would need pahole and the rebuilt resolve_btfids; the
#    kernel loads modules without .BTF).
#    arm64 kernels: the arm64 linux-kbuild package's host tools are aarch64
#    binaries, so they are always rebuilt for this host, the same way (from
#    linux-source with ARCH=arm64, which also generates the arm64
#    devicetable offsets modpost needs); the module is built with
#    ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- and the cross gcc-12.
# 4. make -C <headers> M=build/module/<series> modules
#
# Output: build/module/<series>/ot_testmod.ko; its path is the LAST stdout line.
# Env: OT_CACHE, OT_MODULE_OUT (default <repo>/build/module), V=1 (verbose kbuild).
set -euo pipefail
die() { echo "build-module: ERROR: $*" >&2; exit 1; }
log() { echo "build-module: $*" >&2; }

[ $# -eq 1 ] || die "usage: $0 6.1|6.12|7.2[-arm64]"
KERNEL=$1
SERIES=${KERNEL%-arm64}
KARCH=x86; [ "$SERIES" != "$KERNEL" ] && KARCH=arm64
HOST_KARCH=$(uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
JOBS=$(nproc 2>/dev/null || echo 2)

for t in make gcc dpkg dpkg-deb apt-get flex bison bc; do
  command -v $t >/dev/null || die "'$t' not found (run scripts/install-deps.sh)"
done

case "$SERIES" in
  6.1) NEED_TOOLS=0 ;;
  6.12|7.2) NEED_TOOLS=1 ;;
  *) die "unknown kernel '$KERNEL' (expected 6.1, 6.12 or 7.2, optionally -arm64)" ;;
esac
CROSS=""
if [ $KARCH != "$HOST_KARCH" ]; then
  NEED_TOOLS=1            # the packaged host tools are built for the kernel's architecture
  [ $KARCH = arm64 ] || die "cross-building for $KARCH is not supported"
  CROSS=aarch64-linux-gnu-
  command -v ${CROSS}gcc >/dev/null || die "${CROSS}gcc not found (run scripts/install-deps.sh)"
fi

if [ $NEED_TOOLS = 1 ]; then
  HDIR=$(bash "$HERE/fetch-headers.sh" "$KERNEL" --source | tail -n 1)
else
  HDIR=$(bash "$HERE/fetch-headers.sh" "$KERNEL" | tail -n 1)
fi
KDIR=$(dirname "$HDIR")
RELEASE=$(cat "$KDIR/release")
ARCHHDR=$HDIR/usr/src/linux-headers-$RELEASE
[ -f "$ARCHHDR/Makefile" ] || die "$ARCHHDR/Makefile missing (headers package layout changed?)"

# serialize concurrent builds for the same kernel (they share the headers tree)
exec 9>"$KDIR/.lock-module-build"; flock 9

# ---- 2. absolute include path ------------------------------------------------
if grep -q '/usr/src/' "$ARCHHDR/Makefile"; then
  # 6.1/6.12: "include /usr/src/...-common/Makefile"; 7.2 also sets KBUILD_OUTPUT=/usr/src/...
  sed -i "s| /usr/src/| $HDIR/usr/src/|g; s|=/usr/src/|=$HDIR/usr/src/|g" "$ARCHHDR/Makefile"
  log "rewrote $ARCHHDR/Makefile: $(cat "$ARCHHDR/Makefile")"
fi
COMMON=$(sed -n 's|^include \(.*\)/Makefile$|\1|p' "$ARCHHDR/Makefile")
[ -d "$COMMON" ] || die "common headers $COMMON missing"
KBUILD=$(readlink -f "$ARCHHDR/scripts/..")

OUT=${OT_MODULE_OUT:-$REPO/build/module}/$KERNEL
mkdir -p "$OUT"
# update FILE from stdin only if it changes: unchanged inputs keep their mtime,
# so a second build (another test process) relinks nothing while the first
# one's .ko may be being read
write_if_changed() {
  cat > "$1.new"
  if cmp -s "$1.new" "$1"; then rm -f "$1.new"; else mv "$1.new" "$1"; fi
}
write_if_changed "$OUT/ot_testmod.c" < "$HERE/ot_testmod.c"
printf 'obj-m := ot_testmod.o\n' | write_if_changed "$OUT/Kbuild"

# ---- compiler ----------------------------------------------------------------
# Debian's .kernelvariables names the compiler it was built with (gcc-12 on
# bookworm, gcc-14 on trixie, gcc-1x on sid).
WANT_CC=$(sed -n 's/^CC = .*\(gcc-[0-9]*\)$/\1/p' "$ARCHHDR/.kernelvariables" | head -1)
[ -n "$WANT_CC" ] && WANT_CC=$CROSS$WANT_CC
MAKEVARS=()
if command -v "$WANT_CC" >/dev/null 2>&1; then
  CC_CMD=$WANT_CC
else
  command -v ${CROSS}gcc >/dev/null || die "no ${CROSS}gcc"
  # wrapper: local gcc, gcc-14+ flags mapped or dropped
  CC_CMD=$OUT/cc
  # -fmin-function-alignment=N (gcc 14) -> -falign-functions=N, which gcc
  # does not apply to cold functions: the kernel itself drops __cold for
  # such compilers (compiler_types.h), but this kernel's .config says the
  # compiler had the flag, so nocold.h does it here (-include'd after
  # kbuild's compiler_types.h). Without it arm64 6.12 (CALL_OPS: the
  # ftrace patch site must be 8-byte aligned) BUGs loading the module at
  # its misaligned __init function.
  printf '%s\n' "/* generated by tests/module/build.sh (see there) */" "#undef __cold" "#define __cold" \
    | write_if_changed "$OUT/nocold.h"
  cat > "$CC_CMD" <<'WRAP'
#!/bin/sh
# generated by tests/module/build.sh: local gcc with gcc-14+ only flags mapped
nocold=""
for a in "$@"; do
  shift
  case "$a" in
    -fmin-function-alignment=*) set -- "$@" "-falign-functions=${a#*=}"; nocold="-include @NOCOLD@" ;;
    # gcc >= 13/14 only; harmless to drop for a test module
    -fstrict-flex-arrays=*|-Wno-alloc-size|-Wno-unterminated-string-initialization|-Wno-default-const-init-unsafe|-Wno-dangling-pointer|-Wflex-array-member-not-at-end|-fdiagnostics-show-context*|-Wno-trailing-whitespace*|-Wno-header-guard|-fzero-init-padding-bits=*|-Wno-format-overflow-non-kprintf|-Wno-format-truncation-non-kprintf|-Wno-missing-field-initializers-non-kprintf) ;;
    *) set -- "$@" "$a" ;;
  esac
done
exec @GCC@ "$@" $nocold
WRAP
  sed -i "s|@GCC@|${CROSS}gcc|; s|@NOCOLD@|$OUT/nocold.h|" "$CC_CMD"
  chmod +x "$CC_CMD"
  log "$WANT_CC not available; using $(${CROSS}gcc --version | head -1) through $CC_CMD"
fi
MAKEVARS+=("CC=$CC_CMD" "HOSTCC=gcc" "CROSS_COMPILE=$CROSS" "CONFIG_DEBUG_INFO_BTF_MODULES=")
[ -n "$CROSS" ] && MAKEVARS+=("ARCH=$KARCH")

# ---- 3. host tools for trixie/sid kbuild packages --------------------------------
needs_rebuild() {  # prebuilt host tools that do not start here
  local b
  [ -n "$CROSS" ] && { log "prebuilt host tools are $KARCH binaries"; return 0; }
  for b in "$KBUILD/scripts/basic/fixdep" "$KBUILD/scripts/mod/modpost.real-lsb-64" \
           "$KBUILD/tools/objtool/objtool.real-x86" "$KBUILD/scripts/mod/modpost" \
           "$KBUILD/tools/objtool/objtool"; do
    [ -x "$b" ] || continue
    case "$b" in *modpost|*objtool) continue ;; esac   # these are shell wrappers
    out=$("$b" --version 2>&1 || true)
    case "$out" in *GLIBC_*|*"not found"*) log "prebuilt ${b#$KBUILD/} cannot run here: $(echo "$out" | head -1)"; return 0 ;; esac
  done
  return 1
}
if [ $NEED_TOOLS = 1 ] && [ ! -f "$KBUILD/.ot-hosttools-rebuilt" ]; then
  if needs_rebuild; then
    SRC=$KDIR/hosttools-src
    if [ ! -f "$SRC/.ot-built" ]; then
      log "rebuilding kbuild host tools from linux-source-$SERIES (one time, ~1-3 min)"
      rm -rf "$SRC"; mkdir -p "$SRC"
      # the other architecture's tree is not needed (x86: arch/arm*, arm64: arch/x86 and arch/arm)
      if [ $KARCH = arm64 ]; then ARCH_EXCL=(--exclude='*/arch/x86' --exclude='*/arch/arm')
      else ARCH_EXCL=(--exclude='*/arch/arm*'); fi
      tar -C "$SRC" --strip-components=1 -xJf "$KDIR/linux-source.tar.xz" \
        --anchored --no-wildcards-match-slash --exclude='*/drivers' --exclude='*/sound' --exclude='*/fs' --exclude='*/net' \
        --exclude='*/Documentation' \
        "${ARCH_EXCL[@]}" --exclude='*/arch/powerpc' --exclude='*/arch/mips' \
        --exclude='*/arch/riscv' --exclude='*/arch/s390' --exclude='*/arch/loongarch' \
        --exclude='*/arch/sparc' --exclude='*/arch/parisc' --exclude='*/arch/sh' \
        || die "cannot unpack $KDIR/linux-source.tar.xz"
      # Kconfig sources of excluded dirs are needed by olddefconfig: restore Kconfig files
      tar -C "$SRC" --strip-components=1 -xJf "$KDIR/linux-source.tar.xz" --wildcards \
        '*/Kconfig*' '*/drivers/*/Makefile' 2>/dev/null || true
      cp "$ARCHHDR/.config" "$SRC/.config"
      ( cd "$SRC" && make -s "${MAKEVARS[@]}" olddefconfig >&2 \
          && make -s -j"$JOBS" "${MAKEVARS[@]}" modules_prepare >&2 ) \
        || die "rebuilding the host tools in $SRC failed (see above)"
      touch "$SRC/.ot-built"
    fi
    for rel in scripts/basic/fixdep scripts/mod/modpost scripts/genksyms/genksyms \
               scripts/kallsyms scripts/sorttable scripts/asn1_compiler \
               scripts/sign-file scripts/insert-sys-cert tools/objtool/objtool; do
      [ -x "$SRC/$rel" ] || continue
      dsts=("$KBUILD/$rel")
      case "$rel" in
        # x86 packages: modpost/objtool are wrappers around these
        scripts/mod/modpost)   dsts=("$KBUILD/scripts/mod/modpost.real-lsb-64") ;;
        tools/objtool/objtool) dsts=("$KBUILD/tools/objtool/objtool.real-x86") ;;
      esac
      # arm64 packages: the modpost dispatcher is an aarch64 binary too; for
      # a 64-bit little-endian target the real modpost can stand in for it
      [ -n "$CROSS" ] && [ "$rel" = scripts/mod/modpost ] && dsts+=("$KBUILD/scripts/mod/modpost")
      for dst in "${dsts[@]}"; do
        [ -e "$dst" ] || continue
        [ -e "$dst.prebuilt" ] || cp -p "$dst" "$dst.prebuilt"
        cp "$SRC/$rel" "$dst"
        log "host tool $rel rebuilt -> ${dst#$HDIR/}"
      done
    done
    touch "$KBUILD/.ot-hosttools-rebuilt"
    rm -rf "$SRC"   # ~250-300 MB; linux-source.tar.xz stays for a rebuild
  else
    touch "$KBUILD/.ot-hosttools-rebuilt"
  fi
fi

# ---- 4. kbuild -----------------------------------------------------------------
log "building ot_testmod for $RELEASE with $("$CC_CMD" --version | head -1)"
make -C "$ARCHHDR" M="$OUT" "${MAKEVARS[@]}" ${V:+V=$V} clean >/dev/null 2>&1 || true
make -C "$ARCHHDR" M="$OUT" "${MAKEVARS[@]}" ${V:+V=$V} modules >&2 \
  || die "kbuild of ot_testmod against $RELEASE failed (see above)"
[ -f "$OUT/ot_testmod.ko" ] || die "no $OUT/ot_testmod.ko produced"
vm=$(modinfo -F vermagic "$OUT/ot_testmod.ko" 2>/dev/null || true)
case "$vm" in "$RELEASE "*) ;; *) die "vermagic '$vm' does not start with $RELEASE" ;; esac
log "vermagic: $vm"
echo "$OUT/ot_testmod.ko"

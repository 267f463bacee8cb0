#!/usr/bin/env bash
# The kernel work of `sqliteos kernel ...` and the extension's Kernel commands, run on the machine that
# builds (this one, or an SSH target the scripts were uploaded to). Never needs root: where a tool is
# missing it says which package has it and how to install it. Lines starting with "@@sqliteos " are
# for the program driving it (progress, the image built); everything else is the log.
#
#   kernel.sh status TREE                   version, kind (debian / wsl / published / other), patch state
#   kernel.sh source debian|wsl|published DIR
#                                           fetches a tree into DIR and prints its path (@@sqliteos tree)
#   kernel.sh patch TREE                    apply.sh (the companion patch)
#   kernel.sh build TREE OUT qemu|wsl|tree [-jN] [FRAGMENT...]
#                                           configures and builds bzImage with make's own output, after
#                                           "@@sqliteos total N" (objects make would compile, from make -n)
#   kernel.sh test IMAGE [TIMEOUT]          boots IMAGE under QEMU (TCG) with the guest checks; the
#                                           console is the output, ending "P passed, F failed"
#   kernel.sh windows-profile               (WSL2) the Windows user profile: "@@sqliteos profile WSLPATH WINPATH"
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
die() { echo "kernel.sh: $*" >&2; exit 1; }
source "$here/qemu/guest-lib.sh"
say() { echo "@@sqliteos $*"; }

# The paper's kernel (Microsoft's WSL2 tree) and the published SQLiteOS tree.
WSL_TAG=linux-msft-wsl-5.15.146.1
WSL_REPO=https://github.com/microsoft/WSL2-Linux-Kernel
PUBLISHED_REPO=https://github.com/realVinayak/SQLiteOS

# Tools a step needs, as "command:package" (Debian and Ubuntu names); the missing ones end the step
# with the command that installs them.
need() {
  local missing=() pair cmd pkg
  for pair in "$@"; do
    cmd="${pair%%:*}" pkg="${pair#*:}"
    case "$cmd" in
      /*) [ -e "$cmd" ] || missing+=("$pkg") ;;
      *) command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg") ;;
    esac
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local pkgs; pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  say "missing ${pkgs% }"
  die "missing packages: ${pkgs% } -- install them with: sudo apt-get install --no-install-recommends ${pkgs% }"
}
BUILD_TOOLS=(make:make gcc:gcc flex:flex bison:bison bc:bc perl:perl python3:python3 cpio:cpio
  /usr/include/gelf.h:libelf-dev /usr/include/openssl/ssl.h:libssl-dev)
TEST_TOOLS=(qemu-system-x86_64:qemu-system-x86 /bin/busybox:busybox-static gcc:gcc /usr/lib/x86_64-linux-gnu/libc.a:libc6-dev cpio:cpio gzip:gzip)

version() { # the tree's release from its Makefile (make kernelversion without make)
  awk -F' = ' '/^VERSION =/{v=$2} /^PATCHLEVEL =/{p=$2} /^SUBLEVEL =/{s=$2} /^EXTRAVERSION =/{e=$2}
    /^NAME =/{exit} END{print v"."p"."s e}' "$1/Makefile"
}

status() {
  local tree="$1"
  [ -f "$tree/Makefile" ] && [ -f "$tree/Kconfig" ] || die "$tree is not a kernel tree (no Makefile and Kconfig)"
  local kind=other patch=none tbl="$tree/arch/x86/entry/syscalls/syscall_64.tbl"
  [ -f "$tree/Microsoft/config-wsl" ] && kind=wsl
  [ -f "$tree/debian/changelog" ] || [ "$(basename "$tree")" = linux-source-6.1 ] && [ "$kind" = other ] && kind=debian
  if [ -f "$tree/sqliteos/sqliteos.h" ] && grep -q sqliteos/ "$tree/Kbuild" 2>/dev/null; then patch=companion
  elif [ -f "$tbl" ] && grep -q ksqlite_query "$tbl"; then patch=published; fi
  say "tree $(cd "$tree" && pwd)"
  say "version $(version "$tree")"
  say "kind $kind"
  say "patch $patch"
}

source_tree() {
  local what="$1" dir="$2"
  mkdir -p "$dir"
  case "$what" in
    debian)
      local tarball=/usr/src/linux-source-6.1.tar.xz
      [ -f "$tarball" ] || need "$tarball:linux-source-6.1"
      need xz:xz-utils
      if [ ! -f "$dir/linux-source-6.1/Makefile" ]; then
        echo "unpacking $tarball into $dir"
        tar xJf "$tarball" -C "$dir"
      fi
      status "$dir/linux-source-6.1" ;;
    wsl | published)
      local repo="$WSL_REPO" ref="$WSL_TAG" name="WSL2-Linux-Kernel-${WSL_TAG#linux-msft-wsl-}"
      [ "$what" = published ] && repo="$PUBLISHED_REPO" ref="" name=SQLiteOS
      if [ ! -f "$dir/$name/Makefile" ]; then
        if command -v git >/dev/null; then
          echo "git clone --depth 1 ${ref:+--branch $ref }$repo $dir/$name"
          git clone --progress --depth 1 ${ref:+--branch "$ref"} "$repo" "$dir/$name" 2>&1
        else
          need curl:curl
          local url="$repo/archive/${ref:+refs/tags/$ref}${ref:-HEAD}.tar.gz"
          echo "downloading $url"
          mkdir -p "$dir/$name"
          curl -fL "$url" | tar xz --strip-components=1 -C "$dir/$name"
        fi
      fi
      status "$dir/$name" ;;
    *) die "unknown source '$what' (debian, wsl, published)" ;;
  esac
}

# Final value of each CONFIG_ symbol across the fragments, in order ("=value" or " is not set").
wanted_config() {
  cat "$@" | sed -nE 's/^(CONFIG_[A-Za-z0-9_]+)=(.*)$/\1 =\2/p; s/^# (CONFIG_[A-Za-z0-9_]+) is not set$/\1 n/p' |
    awk '{v[$1]=$2; if (!($1 in o)) { o[$1]=++n; k[n]=$1 } } END { for (i=1;i<=n;i++) print k[i], v[k[i]] }'
}

build() {
  local tree="$1" out="$2" config="$3"; shift 3
  local jobs; jobs="$(nproc)"
  local fragments=()
  for a in "$@"; do
    case "$a" in -j*) jobs="${a#-j}" ;; *) [ -f "$a" ] || die "no fragment $a"; fragments+=("$a") ;; esac
  done
  need "${BUILD_TOOLS[@]}"
  [ -f "$tree/Makefile" ] || die "$tree is not a kernel tree"
  local O=()
  if [ "$config" = tree ]; then
    [ -f "$tree/.config" ] || die "$tree has no .config (choose the qemu or wsl configuration)"
    out="$tree"
  else
    mkdir -p "$out"
    O=(O="$(cd "$out" && pwd)")
  fi
  # ccache where it is installed: a rebuild after a clean checkout (CI's) compiles only what changed.
  # Paths under the tree's folder are hashed relative to it, so another checkout's cache hits too.
  local cc=()
  if command -v ccache >/dev/null 2>&1; then
    export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$(cd "$tree/.." && pwd)}"
    cc=(CC="ccache gcc")
  fi
  local m=(make -C "$tree" "${O[@]}" "${cc[@]}")
  say "step configure"
  case "$config" in
    qemu)
      "${m[@]}" -s tinyconfig >/dev/null
      fragments=("$here/qemu/config.fragment" "${fragments[@]}") ;;
    wsl)
      [ -f "$tree/Microsoft/config-wsl" ] || die "$tree has no Microsoft/config-wsl: the wsl configuration needs Microsoft's WSL2 tree"
      cp "$tree/Microsoft/config-wsl" "$out/.config"
      printf 'CONFIG_SQLITEOS=y\nCONFIG_DEBUG_FS=y\n' > "$out/sqliteos.fragment"
      fragments=("$out/sqliteos.fragment" "${fragments[@]}") ;;
    tree) ;;
    *) die "unknown configuration '$config' (qemu, wsl, tree)" ;;
  esac
  if [ ${#fragments[@]} -gt 0 ]; then
    cat "${fragments[@]}" > "$out/sqliteos-fragments.config"
    "$tree/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$out/sqliteos-fragments.config" >/dev/null
  fi
  "${m[@]}" -s olddefconfig >/dev/null
  if [ ${#fragments[@]} -gt 0 ]; then
    local lost
    lost=$(wanted_config "${fragments[@]}" | while read -r sym val; do
      if [ "$val" = n ]; then grep -qx "$sym=y" "$out/.config" && echo "$sym=y (wanted off)"
      else grep -qx "$sym$val" "$out/.config" || echo "$sym$val"; fi
    done || true)
    [ -z "$lost" ] || die "the kernel configuration lost: $(echo "$lost" | tr '\n' ' ')(a dependency is missing)"
  fi
  say "step prepare"
  "${m[@]}" -j"$jobs" prepare 2>&1
  # What make would compile, from its dry run (it stops at the link, which needs the objects).
  local total
  total=$("${m[@]}" -n bzImage 2>/dev/null | grep -cE "echo '  (CC|AS) +[^ ]+\.o'" || true)
  say "total $total"
  say "step compile"
  "${m[@]}" -j"$jobs" bzImage 2>&1
  say "image $(cd "$out" && pwd)/arch/x86/boot/bzImage"
  say "release $(cat "$out/include/config/kernel.release" 2>/dev/null || version "$tree")"
}

# Boots IMAGE with the guest checks in a busybox initramfs; the console (escape codes and CRs removed)
# is the output.
test_image() {
  local image="$1" limit="${2:-600}"
  [ -f "$image" ] || die "no kernel image at $image"
  need "${TEST_TOOLS[@]}"
  local work="${XDG_CACHE_HOME:-$HOME/.cache}/sqliteos-companion/guest-tests"
  mkdir -p "$work"
  say "step build the guest checks"
  gcc -static -O2 -Wall -pthread -o "$work/sqliteos-tests" "$here"/tests/*.c
  gcc -static -O2 -Wall -o "$work/sqliteos-inspect" "$here/tools/sqliteos-inspect.c"
  make_initramfs "$work/root" 'leak=/sys/kernel/debug/kmemleak
[ -w $leak ] && echo clear > $leak
# On a checking kernel: proof that lockdep and KASAN ran (boot messages: read before the checks,
# which read and clear the log), and, after them, that lockdep is still on.
dmesg | grep -E "KernelAddressSanitizer initialized|Lock dependency validator" | sed "s/^/guest: /"
/bin/sqliteos-tests
echo "guest: tests exited with $?"
# On a kmemleak kernel: what the tests left unreferenced (two scans, the first once objects are 5 s old).
if [ -w $leak ]; then echo scan > $leak; sleep 6; echo scan > $leak; sed "s/^/guest: kmemleak: /" $leak; echo "guest: kmemleak scanned"; fi
[ -e /proc/lockdep_stats ] && grep debug_locks /proc/lockdep_stats | sed "s/^ */guest: lockdep /"' \
    "$work/sqliteos-tests" "$work/sqliteos-inspect"
  say "step boot"
  local status=0
  timeout "$limit" qemu-system-x86_64 -accel tcg -m 512 -nographic -no-reboot -net none \
    -kernel "$image" -initrd "$work/root.cpio.gz" -append "console=ttyS0 panic=-1 loglevel=5" 2>&1 |
    console_clean || status=$?
  [ "$status" = 0 ] || die "QEMU did not finish within $limit s"
}

windows_profile() {
  command -v cmd.exe >/dev/null 2>&1 && command -v wslpath >/dev/null 2>&1 ||
    die "this is not a WSL2 distribution with Windows interop (no cmd.exe and wslpath on PATH)"
  local win; win=$(cd / && cmd.exe /c 'echo %UserProfile%' 2>/dev/null | tr -d '\r' | tail -1)
  [ -n "$win" ] && [ "$win" != '%UserProfile%' ] || die "cmd.exe did not tell the Windows user profile"
  say "profile $(wslpath -u "$win") $win"
}

case "${1:-}" in
  status) [ $# = 2 ] || die "usage: kernel.sh status TREE"; status "$2" ;;
  source) [ $# = 3 ] || die "usage: kernel.sh source debian|wsl|published DIR"; source_tree "$2" "$3" ;;
  patch) [ $# = 2 ] || die "usage: kernel.sh patch TREE"; bash "$here/apply.sh" "$2"; status "$2" ;;
  build) [ $# -ge 4 ] || die "usage: kernel.sh build TREE OUT qemu|wsl|tree [-jN] [FRAGMENT...]"; shift; build "$@" ;;
  test) [ $# -ge 2 ] || die "usage: kernel.sh test IMAGE [TIMEOUT]"; test_image "$2" "${3:-600}" ;;
  windows-profile) windows_profile ;;
  *) die "usage: kernel.sh status|source|patch|build|test|windows-profile ..." ;;
esac

#!/usr/bin/env bash
# The kernel work of `sqliteos kernel ...` and the extension's Kernel commands, run on the machine that
# builds (this one, or an SSH target the scripts were uploaded to). Never needs root: where a tool is
# missing it says which package has it and how to install it. Lines starting with "@@sqliteos " are
# for the program driving it (progress, the image built); everything else is the log.
#
#   kernel.sh status TREE                   version, kind (debian / wsl / other), patch state (companion /
#                                           published / none; for published, whether its sqlite3.c is the
#                                           authors', reconstructed or missing), whether this project tests it
#   kernel.sh source KIND DIR               gets a tree into DIR and prints its path (@@sqliteos tree):
#                                           debian (6.1) and debian-6.12 from Debian's linux-source
#                                           packages; wsl (5.15.146.1) and wsl-6.6 from Microsoft's git;
#                                           published from realVinayak/SQLiteOS. With SQLITEOS_PUBLISHED_TARBALL
#                                           (the published tree as a tarball), published and wsl come from
#                                           it (wsl: with the published SQLiteOS taken out). A tarball is
#                                           unpacked once, into DIR/KIND-VERSION-HASH (its sha256's first 12)
#   kernel.sh unpublish TREE [--list]       takes the published SQLiteOS out of its WSL2 tree (unpublish.py)
#   kernel.sh reconstruct TREE              readies the published tree to build out of tree: its missing
#                                           ksqlite/sqlite3.c reconstructed (kernel-scripts/published/), the
#                                           build outputs the authors committed removed (as make mrproper
#                                           would); `source published` does it when it unpacks
#   kernel.sh patch TREE                    apply.sh (the companion patch)
#   kernel.sh build TREE OUT qemu|wsl|tree [-jN] [--target=T...] [FRAGMENT...]
#                                           configures and builds bzImage (or make's targets T: objects
#                                           like kernel/fork.o, folders like sqliteos/) with make's own
#                                           output, after "@@sqliteos total N" (objects make would
#                                           compile, from make -n)
#   kernel.sh test IMAGE [TIMEOUT]          boots IMAGE under QEMU (TCG) with the guest checks; the
#                                           console is the output, ending "P passed, F failed"
#   kernel.sh windows-profile               (WSL2) the Windows user profile: "@@sqliteos profile WSLPATH WINPATH"
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
die() { echo "kernel.sh: $*" >&2; exit 1; }
source "$here/qemu/guest-lib.sh"
say() { echo "@@sqliteos $*"; }

# The paper's kernel (Microsoft's WSL2 tree), WSL2's current default kernel and the published SQLiteOS tree.
WSL_TAG=linux-msft-wsl-5.15.146.1
WSL66_BRANCH=linux-msft-wsl-6.6.y
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
  local kind=other patch=none tbl="$tree/arch/x86/entry/syscalls/syscall_64.tbl" v
  v=$(version "$tree")
  [ -f "$tree/Microsoft/config-wsl" ] && kind=wsl
  if [ "$kind" = other ]; then
    if [ -f "$tree/debian/changelog" ] || grep -qs '^debian' "$tree/.sqliteos-source"; then kind=debian
    else case "$(basename "$tree")" in linux-source-*) kind=debian ;; esac; fi
  fi
  if [ -f "$tree/sqliteos/sqliteos.h" ] && grep -qs 'SQLITEOS) += sqliteos/' "$tree/Kbuild" "$tree/Makefile"; then patch=companion
  elif [ -f "$tree/ksqlite/ksqlite.c" ] || { [ -f "$tbl" ] && grep -q ksqlite_query "$tbl"; }; then patch=published; fi
  # The trees the tests build and boot (npm run test:kernel and test:kernel:trees).
  local tested=no
  case "$kind:$v" in wsl:5.15.146.1 | debian:6.1.* | debian:6.12.*) tested=yes ;; esac
  say "tree $(cd "$tree" && pwd)"
  say "version $v"
  say "kind $kind"
  say "patch $patch"
  [ "$patch" != published ] || say "sqlite3 $(sqlite3_origin "$tree")"
  say "tested $tested"
}

# Unpacks tarball $1 once into $2/$3-VERSION-HASH (its top folder stripped; a half-unpacked one is
# started again) and prints that folder.
unpack() {
  local tarball="$1" dir="$2" name="$3" sum hash top v
  need xz:xz-utils
  sum=$(sha256sum "$tarball" | cut -d' ' -f1)
  hash=${sum:0:12}
  for top in "$dir/$name"-*-"$hash"; do [ -f "$top/.sqliteos-source" ] && { echo "$top"; return; }; done
  top="$dir/$name-unpacking-$hash"
  rm -rf "$top" && mkdir -p "$top"
  echo "unpacking $tarball into $dir" >&2
  tar xJf "$tarball" -C "$top" --strip-components=1 >&2
  v=$(version "$top")
  rm -rf "$dir/$name-$v-$hash"
  mv "$top" "$dir/$name-$v-$hash"
  echo "$name $tarball sha256:$sum" > "$dir/$name-$v-$hash/.sqliteos-source"
  echo "$dir/$name-$v-$hash"
}

# git clone --depth 1 of $1 (branch or tag $2, or the default) into $3, or its tarball from GitHub.
clone() {
  local repo="$1" ref="$2" into="$3"
  [ -f "$into/Makefile" ] && return
  if command -v git >/dev/null; then
    echo "git clone --depth 1 ${ref:+--branch $ref }$repo $into"
    git clone --progress --depth 1 ${ref:+--branch "$ref"} "$repo" "$into" 2>&1
  else
    need curl:curl
    local url="$repo/archive/${ref:+refs/heads/$ref}${ref:-HEAD}.tar.gz"
    case "$ref" in linux-msft-wsl-*.*.*.*) url="$repo/archive/refs/tags/$ref.tar.gz" ;; esac
    echo "downloading $url"
    mkdir -p "$into"
    curl -fL "$url" | tar xz --strip-components=1 -C "$into"
  fi
}

source_tree() {
  local what="$1" dir="$2" tarball="${SQLITEOS_PUBLISHED_TARBALL:-}" tree
  mkdir -p "$dir"
  [ -z "$tarball" ] || [ -f "$tarball" ] || die "SQLITEOS_PUBLISHED_TARBALL: no file $tarball"
  case "$what" in
    debian)
      local t61=/usr/src/linux-source-6.1.tar.xz
      [ -f "$t61" ] || need "$t61:linux-source-6.1"
      need xz:xz-utils
      if [ ! -f "$dir/linux-source-6.1/Makefile" ]; then
        echo "unpacking $t61 into $dir"
        tar xJf "$t61" -C "$dir"
      fi
      tree="$dir/linux-source-6.1" ;;
    debian-6.12)
      local t612=/usr/src/linux-source-6.12.tar.xz
      [ -f "$t612" ] || need "$t612:linux-source-6.12"
      tree=$(unpack "$t612" "$dir" debian) ;;
    wsl)
      if [ -n "$tarball" ]; then
        tree=$(unpack "$tarball" "$dir" wsl)
        python3 "$here/unpublish.py" "$tree"
      else
        tree="$dir/WSL2-Linux-Kernel-${WSL_TAG#linux-msft-wsl-}"
        clone "$WSL_REPO" "$WSL_TAG" "$tree"
      fi ;;
    wsl-6.6)
      tree="$dir/WSL2-Linux-Kernel-6.6"
      clone "$WSL_REPO" "$WSL66_BRANCH" "$tree" ;;
    published)
      if [ -n "$tarball" ]; then tree=$(unpack "$tarball" "$dir" published)
      else tree="$dir/SQLiteOS"; clone "$PUBLISHED_REPO" "" "$tree"; fi
      reconstruct "$tree" ;;
    *) die "unknown source '$what' (debian, debian-6.12, wsl, wsl-6.6, published)" ;;
  esac
  status "$tree"
}

# A published tree's ksqlite/sqlite3.c: the authors' own, ours (published/reconstruct.py marks it), or missing.
sqlite3_origin() {
  local sq="$1/ksqlite/sqlite3.c"
  if [ ! -f "$sq" ]; then echo missing
  elif head -c 400 "$sq" | grep -q RECONSTRUCTED; then echo reconstructed
  else echo authors; fi
}

# The published tree as its authors left it cannot build here: ksqlite/sqlite3.c is absent from the
# stored copy (reconstructed, never over the authors' own), and their committed build outputs make an
# out-of-tree build refuse to start.
reconstruct() {
  local tree="$1" d
  [ -f "$tree/ksqlite/ksqlite.c" ] || die "$tree is not the published SQLiteOS tree (no ksqlite/ksqlite.c)"
  for d in arch/x86/include/generated include/config include/generated; do
    [ ! -e "$tree/$d" ] || { echo "removing $d (build output the authors committed)"; rm -rf "${tree:?}/$d"; }
  done
  [ "$(sqlite3_origin "$tree")" != authors ] || return 0
  local amalgamation; amalgamation=$(bash "$here/sqlite/fetch.sh" --version 3.45.1) || die "no SQLite 3.45.1 amalgamation"
  python3 "$here/published/reconstruct.py" "$amalgamation" "$tree" || die "ksqlite/sqlite3.c could not be reconstructed"
}

# Final value of each CONFIG_ symbol across the fragments, in order ("=value" or " is not set").
wanted_config() {
  cat "$@" | sed -nE 's/^(CONFIG_[A-Za-z0-9_]+)=(.*)$/\1 =\2/p; s/^# (CONFIG_[A-Za-z0-9_]+) is not set$/\1 n/p' |
    awk '{v[$1]=$2; if (!($1 in o)) { o[$1]=++n; k[n]=$1 } } END { for (i=1;i<=n;i++) print k[i], v[k[i]] }'
}

build() {
  local tree="$1" out="$2" config="$3"; shift 3
  local jobs; jobs="$(nproc)"
  local fragments=() targets=()
  for a in "$@"; do
    case "$a" in
      -j*) jobs="${a#-j}" ;;
      --target=*) targets+=("${a#--target=}") ;;
      *) [ -f "$a" ] || die "no fragment $a"; fragments+=("$a") ;;
    esac
  done
  [ ${#targets[@]} -gt 0 ] || targets=(bzImage)
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
      if [ -f "$tree/ksqlite/ksqlite.c" ]; then
        # The published SQLiteOS is built in unconditionally (no CONFIG_SQLITEOS).
        [ -f "$tree/ksqlite/sqlite3.c" ] || die "$tree/ksqlite/sqlite3.c is missing: make it with kernel.sh reconstruct $tree"
        grep -v '^CONFIG_SQLITEOS=' "$here/qemu/config.fragment" > "$out/qemu.fragment"
        fragments=("$out/qemu.fragment" "$here/qemu/published.fragment" "${fragments[@]}")
      else
        fragments=("$here/qemu/config.fragment" "${fragments[@]}")
      fi ;;
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
  # A kernel with BTF (config-wsl) links only with pahole, and its configuration picks DWARF 5 only
  # when pahole is there: found missing at the link, every object would be compiled again.
  if [ "${targets[*]}" = bzImage ] && grep -qs '^CONFIG_DEBUG_INFO_BTF=y' "$out/.config"; then
    need pahole:dwarves
  fi
  say "step prepare"
  "${m[@]}" -j"$jobs" prepare 2>&1
  # What make would compile, from its dry run (it stops at the link, which needs the objects).
  local total
  total=$("${m[@]}" -n "${targets[@]}" 2>/dev/null | grep -cE "echo '  (CC|AS) +[^ ]+\.o'" || true)
  say "total $total"
  say "step compile"
  "${m[@]}" -j"$jobs" "${targets[@]}" 2>&1
  [ "${targets[*]}" != bzImage ] || say "image $(cd "$out" && pwd)/arch/x86/boot/bzImage"
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
  source) [ $# = 3 ] || die "usage: kernel.sh source debian|debian-6.12|wsl|wsl-6.6|published DIR"; source_tree "$2" "$3" ;;
  unpublish) [ $# -ge 2 ] || die "usage: kernel.sh unpublish TREE [--list]"; shift; python3 "$here/unpublish.py" "$@" ;;
  reconstruct) [ $# = 2 ] || die "usage: kernel.sh reconstruct TREE"; reconstruct "$2"; status "$2" ;;
  patch) [ $# = 2 ] || die "usage: kernel.sh patch TREE"; bash "$here/apply.sh" "$2"; status "$2" ;;
  build) [ $# -ge 4 ] || die "usage: kernel.sh build TREE OUT qemu|wsl|tree [-jN] [--target=T...] [FRAGMENT...]"; shift; build "$@" ;;
  test) [ $# -ge 2 ] || die "usage: kernel.sh test IMAGE [TIMEOUT]"; test_image "$2" "${3:-600}" ;;
  windows-profile) windows_profile ;;
  *) die "usage: kernel.sh status|source|unpublish|reconstruct|patch|build|test|windows-profile ..." ;;
esac

#!/usr/bin/env bash
# npm run test:kernel:trees [-- --checking]. The companion patch on the kernels users run, beside
# test:kernel's Debian 6.1:
#  - WSL2 5.15.146.1: the published SQLiteOS tree (SQLITEOS_PUBLISHED_TARBALL, or shared/kernels beside
#    the project or its origin) with the published SQLiteOS taken out (`kernel.sh unpublish`, checked: no
#    ksqlite, sql_pipe, hello_world or sql_ref left), built once without CONFIG_SQLITEOS, then patched;
#  - Debian's 6.12 (linux-source-6.12);
#  - the published SQLiteOS kernel itself (the same tarball as it is, its missing sqlite3.c reconstructed:
#    kernel-scripts/published/), booted three times with published/checks.c and the authors' programs.
# Each is unpacked once per machine into ~/.cache/sqliteos-companion/trees (keyed by its tarball's hash;
# SQLITEOS_KERNEL_CACHE replaces ~/.cache/sqliteos-companion) and built beside it (kbuild-*), so a clean
# clone (CI's) neither unpacks a gigabyte again nor rebuilds what its sources did not change: apply.sh
# copies in only the files that differ, and make rebuilds what they touch. Each is built from tinyconfig +
# config.fragment with ccache, booted under QEMU with the guest checks: every check must pass, with no
# compiler warning in the patch or the files it hooks and no kernel report. With --checking, the checking
# kernel (lockdep, KASAN, kmemleak, fault injection) of each boots too.
# Then Microsoft's config-wsl + CONFIG_SQLITEOS=y: the patch's objects and every file it hooks compiled,
# no warning. One closing line per tree.
set -euo pipefail
source "$(dirname "$0")/common.sh"
checking=no
[ "${1:-}" = --checking ] && checking=yes
kcache="${SQLITEOS_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sqliteos-companion}"
trees="$kcache/trees"
mkdir -p "$trees"
summary=()
kernel_sh() { bash "$root/kernel-scripts/kernel.sh" "$@"; }
tree_of() { grep '^@@sqliteos tree ' | tail -1 | cut -d' ' -f3-; }

tarball=$(published_tarball "$root") || { echo "qemu/trees.sh: see above" >&2; exit 1; }
bash "$root/scripts/setup.sh" trees

# The files the patch hooks, besides its own folder: what must compile without a warning everywhere.
HOOKED=(kernel/fork.o kernel/exit.o fs/pipe.o kernel/sys_ni.o)
# Warnings in the patch's folder or a hooked file, from make's log $1.
patch_warnings() { grep -E '(^|/)(sqliteos/[^:]*|kernel/fork|kernel/exit|fs/pipe|kernel/sys_ni)\.[ch]:[0-9]+:[0-9]+: warning:' "$1" || true; }

# Builds tree $1 into $2 (kernel.sh build qemu with the fragments after); make's log in $2/build.log.
build() {
  local tree="$1" out="$2"; shift 2
  local frags=()
  for f in "$@"; do frags+=("$here/$f.fragment"); done
  mkdir -p "$out"
  local t0=$SECONDS
  if ! kernel_sh build "$tree" "$out" qemu -j"$jobs" "${frags[@]}" > "$out/build.log" 2>&1; then
    echo "qemu/trees.sh: the build of $tree failed; make's log: $out/build.log" >&2
    grep -E ': error: |^kernel.sh: ' "$out/build.log" | head -20 >&2
    tail -5 "$out/build.log" >&2
    exit 1
  fi
  local w; w=$(patch_warnings "$out/build.log")
  [ -z "$w" ] || { echo "qemu/trees.sh: warnings in the patch or the files it hooks ($tree):" >&2; echo "$w" >&2; exit 1; }
  echo "   built in $(( SECONDS - t0 )) s: $(stat -c %s "$out/arch/x86/boot/bzImage") bytes, $(grep -c ': warning: ' "$out/build.log" || true) warnings (none in the patch)"
}

# The closing count of a boot's console ("163 passed, 0 failed").
count() { tail -1 "$1" | sed -E 's/^(passed|FAILED): //'; }

# Boots $1 with the guest checks (limit $3 s); console in $2; prints the time and the count.
boot() {
  local t0=$SECONDS
  boot_checks "$1" "$2" "$3" || exit 1
  echo "   booted and checked in $(( SECONDS - t0 )) s: $(count "$2")"
}

# One tree: build, boot, and (with --checking) the checking kernel. $1 label, $2 tree, $3 out prefix,
# then extra fragments for both builds.
check_tree() {
  local label="$1" tree="$2" out="$3"; shift 3
  echo "== $label: building (tinyconfig + config.fragment)"
  build "$tree" "$out" "$@"
  local release; release=$(cat "$out/include/config/kernel.release")
  echo "== $label: booting $release under QEMU (TCG)"
  boot "$out/arch/x86/boot/bzImage" "$out/console.log" 300
  summary+=("$release: $(count "$out/console.log")")
  if [ "$checking" = yes ]; then
    echo "== $label: the checking kernel (lockdep, KASAN, kmemleak, fault injection)"
    build "$tree" "$out-debug" "$@" debug
    boot "$out-debug/arch/x86/boot/bzImage" "$out-debug/console.log" 1500
    checking_proofs "$out-debug/console.log" "$label" || exit 1
    summary+=("$release (checking kernel): $(count "$out-debug/console.log")")
  fi
}

# ---- WSL2 5.15.146.1 ----
echo "== WSL2 5.15.146.1: the published tree, the published SQLiteOS taken out"
wsl=$(SQLITEOS_PUBLISHED_TARBALL="$tarball" kernel_sh source wsl "$trees" | tee "$trees/wsl-source.log" | tree_of)
[ -n "$wsl" ] || { cat "$trees/wsl-source.log" >&2; exit 1; }
grep -E '^(removed|nothing)' "$trees/wsl-source.log" | sed 's/^/   /' | tail -3
# (The companion patch's own syscall table lines and COND_SYSCALLs carry the published names.)
left=$(grep -rlE 'ksqlite|sql_pipe|hello_world|helloworld|sql_ref|sql_compact' \
  --include='*.c' --include='*.h' --include=Makefile --include=Kbuild --include=Kconfig --include='*.tbl' \
  --exclude-dir=sqliteos "$wsl" |
  grep -v -e /syscalls/syscall_64.tbl -e /kernel/sys_ni.c || true)
[ -z "$left" ] || { echo "qemu/trees.sh: the published SQLiteOS is still referenced in: $left" >&2; exit 1; }
if [ ! -f "$wsl/sqliteos/sqliteos.h" ]; then
  # Microsoft's tree as it was, before the companion patch goes in: it builds (the published SQLiteOS is
  # out, and nothing needs CONFIG_SQLITEOS).
  echo "== WSL2 5.15.146.1 without SQLiteOS: building (tinyconfig + config.fragment - SQLITEOS)"
  build "$wsl" "$kcache/kbuild-5.15-bare" no-sqliteos
  rm -rf "$kcache/kbuild-5.15-bare"
fi
kernel_sh patch "$wsl" | grep -v '^@@'
check_tree "WSL2 5.15.146.1" "$wsl" "$kcache/kbuild-5.15" wsl

# ---- Debian 6.12 ----
echo "== Debian 6.12"
d612=$(kernel_sh source debian-6.12 "$trees" | tree_of)
kernel_sh patch "$d612" | grep -v '^@@'
check_tree "Debian 6.12" "$d612" "$kcache/kbuild-6.12"

# ---- The published SQLiteOS kernel itself (kernel-scripts/published/) ----
echo "== the published SQLiteOS kernel: WSL2 5.15.146.1 + the paper's patch, ksqlite/sqlite3.c reconstructed"
pub=$(SQLITEOS_PUBLISHED_TARBALL="$tarball" kernel_sh source published "$trees" | tee "$trees/published-source.log" | tree_of)
[ -n "$pub" ] || { cat "$trees/published-source.log" >&2; exit 1; }
grep '^reconstruct.py: ' "$trees/published-source.log" | sed 's/^/   /'
pout="$kcache/kbuild-published"
build "$pub" "$pout"
release=$(cat "$pout/include/config/kernel.release")
echo "== the published kernel: booting $release (its ABI and defects; 553(8) then exit; a backlog nobody reads)"
t0=$SECONDS
bash "$root/kernel-scripts/published/boot.sh" "$pout/arch/x86/boot/bzImage" "$pub" "$pout"
echo "   three boots in $(( SECONDS - t0 )) s"
summary+=("$release (the published SQLiteOS): $(grep -hcE '^ok [0-9]+ - ' "$pout"/published-*.log | paste -sd+ | bc) checks passed, the authors' three test programs ran")

# ---- Microsoft's config-wsl: what the patch adds and hooks compiles without a warning ----
echo "== config-wsl + CONFIG_SQLITEOS=y: compiling sqliteos/ and ${HOOKED[*]}"
wout="$kcache/kbuild-5.15-config-wsl"
mkdir -p "$wout"
t0=$SECONDS
targets=(--target=sqliteos/)
for o in "${HOOKED[@]}"; do targets+=("--target=$o"); done
if ! kernel_sh build "$wsl" "$wout" wsl -j"$jobs" "${targets[@]}" > "$wout/build.log" 2>&1; then
  echo "qemu/trees.sh: compiling under config-wsl failed; make's log: $wout/build.log" >&2
  grep -E ': error: |^kernel.sh: ' "$wout/build.log" | head -20 >&2
  exit 1
fi
objects=$(find "$wout/sqliteos" -name '*.o' ! -name 'built-in*' | wc -l)
objects=$(( objects + ${#HOOKED[@]} ))
for o in "${HOOKED[@]}"; do [ -f "$wout/$o" ] || { echo "qemu/trees.sh: config-wsl did not build $o" >&2; exit 1; }; done
warnings=$(grep -c ': warning: ' "$wout/build.log" || true)
[ "$warnings" = 0 ] || { grep -A3 ': warning: ' "$wout/build.log" | head -40 >&2; echo "qemu/trees.sh: $warnings warnings under config-wsl" >&2; exit 1; }
echo "   $(( SECONDS - t0 )) s"
summary+=("config-wsl: compiled $objects objects, $warnings warnings")

echo "== trees"
printf '%s\n' "${summary[@]}"

#!/usr/bin/env bash
# Boots the published SQLiteOS kernel IMAGE (built from TREE) under QEMU (TCG) four times, once per part
# of checks.c (its ABI and defects; a signal to a sleeping reader; 553(8) then exit; a backlog nobody
# reads: the last three leave the kernel broken, so each has a boot of its own), and runs the authors' own
# test programs from TREE's top level in the first. Consoles in OUT/published-PART.log. Fails on a failed
# check, a plan not met (a check that did not run), or a boot that did not finish.
#
#   boot.sh IMAGE TREE OUT
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../qemu/guest-lib.sh"
[ $# = 3 ] || { echo "usage: boot.sh IMAGE TREE OUT" >&2; exit 2; }
image="$1" tree="$2" out="$3"
[ -f "$image" ] || { echo "published/boot.sh: no kernel image at $image" >&2; exit 1; }
mkdir -p "$out/bin"
gcc -static -O2 -Wall -o "$out/bin/published-checks" "$here/checks.c"
# The authors' programs as they wrote them (their warnings are theirs).
authors=(test_pipe test_fork test_fork_mult_read)
for t in "${authors[@]}"; do gcc -static -O0 -w -pthread -o "$out/bin/$t" "$tree/$t.c"; done

# Part $1's boot: TAP from checks.c (and the authors' programs in part main) on the console. loglevel=1
# keeps the kernel's own printk chatter (a line per read) off it; kernel reports are printed from dmesg
# after part main (none is allowed there) and by checks.c itself in the others.
boot_part() {
  local part="$1" body log="$out/published-$1.log"
  # The parts after main leave the kernel broken (forks asleep for ever): the program reboots the guest.
  body="exec /bin/published-checks $part --reboot"
  if [ "$part" = main ]; then
    body="/bin/published-checks $part; echo \"guest: checks exited with \$?\""
    for t in "${authors[@]}"; do
      body="$body
echo \"guest: authors' $t:\"; /bin/$t 2>&1 | sed 's/^/authors: $t: /'"
    done
    body="$body
dmesg | grep -E -A8 'BUG:|WARNING:|Oops|general protection|Call Trace|page allocation failure' | head -40 | sed 's/^/guest: dmesg: /'"
  fi
  make_initramfs "$out/root-$part" "$body" "$out"/bin/*
  local status=0
  timeout 150 qemu-system-x86_64 -accel tcg -m 512 -nographic -no-reboot -net none \
    -kernel "$image" -initrd "$out/root-$part.cpio.gz" -append "console=ttyS0 panic=-1 loglevel=1" 2>&1 |
    console_clean > "$log" || status=$?
  [ "$status" = 0 ] || { echo "published/boot.sh: the $part boot did not finish within 150 s; console: $log" >&2; tail -20 "$log" >&2; return 1; }
  local plan ok bad
  plan=$(grep -m1 -oE '^1\.\.[0-9]+' "$log" | cut -c4- || true)
  ok=$(grep -cE '^ok [0-9]+ - ' "$log" || true)
  bad=$(grep -cE '^not ok [0-9]+ - ' "$log" || true)
  grep -E '^(not ok|# [^k])' "$log" | sed "s/^/   $part: /" || true
  if [ -z "$plan" ] || [ "$bad" != 0 ] || [ "$ok" != "$plan" ]; then
    echo "published/boot.sh: part $part: plan ${plan:-missing}, $ok passed, $bad failed; console: $log" >&2
    return 1
  fi
  # Part main takes none of the paths that break the kernel: a report there is a failure.
  if [ "$part" = main ] && grep -qE '^guest: dmesg: .*(BUG:|WARNING:|Oops|general protection|Call Trace)' "$log"; then
    grep '^guest: dmesg: ' "$log" | head -20 >&2
    echo "published/boot.sh: part main: the kernel reported a fault; console: $log" >&2
    return 1
  fi
  echo "   $part: $ok of $plan passed"
}

for part in ${SQLITEOS_PUBLISHED_PARTS:-main signal txn-exit backlog}; do boot_part "$part"; done
# The authors' programs ran (test_fork_mult_read's two readers each got their 8 bytes; its output is
# buffered into a pipe, so a fork can print a line twice).
log="$out/published-main.log"
case " ${SQLITEOS_PUBLISHED_PARTS:-main} " in *" main "*) ;; *) exit 0 ;; esac
for t in "${authors[@]}"; do grep -q "^guest: authors' $t:" "$log" || { echo "published/boot.sh: $t did not run" >&2; exit 1; }; done
[ "$(grep -c '^authors: test_fork_mult_read: Read str: HELLBROK' "$log")" -ge 2 ] ||
  { echo "published/boot.sh: test_fork_mult_read's readers did not both read HELLBROK ($log)" >&2; exit 1; }

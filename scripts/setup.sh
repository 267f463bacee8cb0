#!/usr/bin/env bash
# The one installer of what lies outside npm: Debian packages (and code-server, from npm, into
# .code-server/). `npm test`, `npm start`, `npm run test:ssh` and `.ci/run` all call it, so a fresh
# machine needs only the README's commands. As root on Debian/Ubuntu it installs what is missing with
# apt-get, saying what and about how long; anywhere else it stops at once with the exact command to run.
#
# Usage: scripts/setup.sh PART...   parts: start (code-server), test (start + chromium + sshd),
#                                   ssh (sshd for the SSH tests), kernel (the kernel build and QEMU),
#                                   trees (kernel + Debian's 6.12 tree, for test:kernel:trees),
#                                   guest (QEMU and the guest's SSH server, for `sqliteos guest start`)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

declare -A parts=(
  [start]="libkrb5-dev ripgrep"
  [ssh]="openssh-server openssh-client"
  [test]="libkrb5-dev ripgrep chromium openssh-server openssh-client"
  [kernel]="linux-source-6.1 build-essential ccache python3 bc bison flex libelf-dev libssl-dev cpio qemu-system-x86 busybox-static xz-utils dropbear-bin openssh-sftp-server openssh-client gdb"
  [trees]="linux-source-6.12"
  [guest]="qemu-system-x86 dropbear-bin openssh-sftp-server busybox-static gcc libc6-dev openssh-client cpio"
)
# Rough first-install times measured on a 2-core Debian machine, so nobody thinks it hangs.
declare -A minutes=([chromium]=1 [linux-source-6.1]=1 [linux-source-6.12]=1 [qemu-system-x86]=1)

want=()
code_server=0
for p in "$@"; do
  [ -n "${parts[$p]+x}" ] || { echo "setup.sh: unknown part '$p' (start, test, ssh, kernel, trees, guest)" >&2; exit 2; }
  read -r -a pk <<< "${parts[$p]}"
  want+=("${pk[@]}")
  case "$p" in start | test) code_server=1 ;; esac
done

missing=()
for p in $(printf '%s\n' "${want[@]}" | sort -u); do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "setup.sh: missing Debian packages: ${missing[*]}" >&2
    echo "  install them with:  sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  est=1
  for p in "${missing[@]}"; do est=$(( est + ${minutes[$p]:-0} )); done
  echo "setup.sh: installing ${missing[*]} with apt-get (about $est min the first time)"
  t0=$(date +%s)
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "setup.sh: installed in $(( $(date +%s) - t0 )) s"
fi

if [ "$code_server" = 1 ]; then
  bash "$root/scripts/install-code-server.sh"
fi

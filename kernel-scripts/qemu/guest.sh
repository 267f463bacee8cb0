#!/usr/bin/env bash
# The companion kernel as a machine to connect to: QEMU (TCG) in the background with user networking,
# an SSH server (Debian's dropbear, with OpenSSH's sftp-server for uploads) in a busybox initramfs, port
# 22 forwarded to 127.0.0.1 only, a host key and a user key made for it, and kernel-scripts' demo program
# holding SQL pipes with a reader asleep, so there is something to see.
#
#   guest.sh start [--kernel PATH | --published] [--port N] [--no-demo | --pending] [--gdb]
#                          boots it, waits for sshd, prints the destination (--gdb: QEMU's gdbstub on
#                          the unix socket .cache/guest-ssh/gdb.sock too; --pending: the demo also
#                          leaves a writer in PENDING behind a read transaction; --holders N: N more
#                          processes each holding a pipe, with --mem MiB of memory for them).
#                          --published: the published SQLiteOS kernel itself (WSL2 5.15.146.1 + the
#                          paper's patch, its sqlite3.c reconstructed: kernel-scripts/published/), built
#                          once from the published tarball when missing; its demo is checks.c's)
#   guest.sh stop                                            powers it off (QEMU killed if it does not go)
#   guest.sh status                                          running or not, and where
#
# State lives in .cache/guest-ssh/: keys, known_hosts (the host key we made, so it is known, not guessed),
# an ssh_config with `Host sqliteos-guest` for `Include`, the console log, QEMU's pid file and control
# socket (qmp.sock: `sqliteos guest dump FILE` writes a core through it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
state="$(cd "$here/../.." && pwd)/.cache/guest-ssh"
# the machine's kernel cache: the trees, the DWARF and published kernels (trees.sh and bench.sh use the same)
kcache="${SQLITEOS_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sqliteos-companion}"
source "$here/guest-lib.sh"
mkdir -p "$state"

running() { [ -f "$state/qemu.pid" ] && kill -0 "$(cat "$state/qemu.pid")" 2>/dev/null; }

stop() {
  if ! running; then echo "guest: not running"; rm -f "$state/qemu.pid"; return 0; fi
  local pid; pid=$(cat "$state/qemu.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$state/qemu.pid"
  echo "guest: stopped"
}

# Copies a dynamically linked program and the libraries it loads into the initramfs tree $1.
with_libs() {
  local root="$1" prog="$2" dest="$3"
  mkdir -p "$root/$(dirname "$dest")"
  cp "$prog" "$root/$dest"
  ldd "$prog" | grep -oE '/[^ ]+' | while read -r lib; do
    mkdir -p "$root/$(dirname "$lib")"
    cp -L "$lib" "$root/$lib"
  done
}

start() {
  local root; root="$(cd "$here/../.." && pwd)"
  local cache="$root/.cache" default_kernel="$root/.cache/kbuild/arch/x86/boot/bzImage"
  local kernel="$default_kernel" port=2222 demo=1 mem=512 holders=0 kind=companion gdb=0
  local published_kernel="$kcache/kbuild-published/arch/x86/boot/bzImage"
  while [ $# -gt 0 ]; do
    case "$1" in
      --kernel) kernel="$2"; shift 2 ;;
      --published) kernel="$published_kernel" kind=published; shift ;;
      --port) port="$2"; shift 2 ;;
      --no-demo) demo=0; shift ;;
      --pending) demo=pending; shift ;;
      --holders) holders="$2"; shift 2 ;;
      --mem) mem="$2"; shift 2 ;;
      --gdb) gdb=1; shift ;;
      *) echo "guest.sh: unknown option $1" >&2; exit 2 ;;
    esac
  done
  if running; then echo "guest: already running on 127.0.0.1:$(cat "$state/port") (guest.sh stop first)" >&2; exit 1; fi
  # --gdb boots the kernel built with DWARF, for the debugger (a kernel given by path is booted as it is).
  [ "$gdb" = 1 ] && [ "$kernel" = "$default_kernel" ] && kernel="$kcache/kbuild-gdb/arch/x86/boot/bzImage"
  # What the guest is made of (a kernel given by path needs nothing else: the Install Kernel command).
  local tool missing=()
  for tool in qemu-system-x86_64:qemu-system-x86 dropbearkey:dropbear-bin /usr/lib/openssh/sftp-server:openssh-sftp-server \
    /bin/busybox:busybox-static gcc:gcc ssh-keygen:openssh-client cpio:cpio; do
    case "${tool%%:*}" in /*) [ -e "${tool%%:*}" ] ;; *) command -v "${tool%%:*}" >/dev/null ;; esac || missing+=("${tool#*:}")
  done
  # Missing ones are installed as `npm test` installs its own (as root on Debian), or named with the command.
  if [ ${#missing[@]} -gt 0 ]; then
    echo "guest.sh: the guest needs ${missing[*]}"
    bash "$root/scripts/setup.sh" guest || exit 2
  fi
  if [ "$kernel" = "$default_kernel" ]; then
    source "$here/common.sh" >/dev/null
    # The tested kernel, rebuilt when missing or older than its config (the guest needs its networking).
    if [ ! -f "$kernel" ] || [ "$here/config.fragment" -nt "$kernel" ]; then
      echo "== building the companion kernel first (about 3 min from scratch)"
      build_kernel "$cache/kbuild"
    fi
  elif [ "$kernel" = "$kcache/kbuild-gdb/arch/x86/boot/bzImage" ]; then
    gdb_kernel "$root" "$kcache" || exit 2
  elif [ "$kind" = published ] && [ ! -f "$kernel" ]; then
    echo "== building the published SQLiteOS kernel first (its tree unpacked once; about 30 min from scratch)"
    local tarball; tarball=$(published_tarball "$root") || exit 2
    local tree
    tree=$(SQLITEOS_PUBLISHED_TARBALL="$tarball" bash "$root/kernel-scripts/kernel.sh" source published "$kcache/trees" |
      grep '^@@sqliteos tree ' | cut -d' ' -f3-)
    [ -n "$tree" ] || exit 2
    mkdir -p "$kcache/kbuild-published"
    bash "$root/kernel-scripts/kernel.sh" build "$tree" "$kcache/kbuild-published" qemu > "$kcache/kbuild-published/build.log" 2>&1 ||
      { tail -20 "$kcache/kbuild-published/build.log" >&2; echo "guest.sh: the build failed; make's log: $kcache/kbuild-published/build.log" >&2; exit 2; }
  elif [ ! -f "$kernel" ]; then
    echo "guest.sh: no kernel at $kernel" >&2; exit 2
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "guest.sh: 127.0.0.1:$port is taken: choose another with --port" >&2; exit 1; fi

  [ -f "$state/host_ed25519" ] || dropbearkey -t ed25519 -f "$state/host_ed25519" >/dev/null 2>&1
  [ -f "$state/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C sqliteos-guest -f "$state/id_ed25519"
  local hostpub; hostpub=$(dropbearkey -y -f "$state/host_ed25519" | grep '^ssh-ed25519' | cut -d' ' -f1,2)
  echo "[127.0.0.1]:$port $hostpub" > "$state/known_hosts"
  cat > "$state/ssh_config" <<EOF
Host sqliteos-guest
  HostName 127.0.0.1
  Port $port
  User root
  IdentityFile $state/id_ed25519
  UserKnownHostsFile $state/known_hosts
EOF

  local guest="$cache/guest"
  mkdir -p "$guest"
  if [ "$kind" = published ]; then
    # The published ABI has no sqliteos-demo: checks.c's demo holds a pipe with bytes in it and a reader asleep.
    gcc -static -O2 -Wall -o "$guest/sqliteos-demo" "$root/kernel-scripts/published/checks.c"
  else
    gcc -static -O2 -Wall -o "$guest/sqliteos-demo" "$root/kernel-scripts/tools/sqliteos-demo.c"
  fi
  local tree="$state/root"
  rm -rf "$tree" && mkdir -p "$tree"/{bin,sbin,etc,proc,sys,dev,tmp,root/.ssh,usr/lib,etc/dropbear}
  cp /bin/busybox "$tree/bin/busybox"
  cp "$guest/sqliteos-demo" "$tree/bin/"
  with_libs "$tree" /usr/sbin/dropbear /sbin/dropbear
  with_libs "$tree" /usr/lib/openssh/sftp-server /usr/lib/sftp-server
  cp "$state/host_ed25519" "$tree/etc/dropbear/host_ed25519"
  cp "$state/id_ed25519.pub" "$tree/root/.ssh/authorized_keys"
  chmod 700 "$tree/root" "$tree/root/.ssh"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$tree/etc/passwd"
  printf 'root::0:0:99999:7:::\n' > "$tree/etc/shadow"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$tree/etc/group"
  echo /bin/sh > "$tree/etc/shells"
  local demo_line=':'
  [ "$demo" = 1 ] && demo_line='/bin/sqliteos-demo > /dev/console 2>&1 &'
  [ "$demo" = 1 ] && [ "$kind" = published ] && demo_line='/bin/sqliteos-demo demo > /dev/console 2>&1 &'
  [ "$demo" = pending ] && demo_line='/bin/sqliteos-demo 0 --pending > /dev/console 2>&1 &'
  [ "$holders" != 0 ] && demo_line="echo 32768 > /proc/sys/kernel/pid_max; /bin/sqliteos-demo 0 --holders $holders > /dev/console 2>&1 &"
  cat > "$tree/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
echo
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t debugfs debugfs /sys/kernel/debug
hostname sqliteos-guest
ip link set lo up
ip addr add 127.0.0.1/8 dev lo
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
$demo_line
export HOME=/root PATH=/bin:/sbin
/sbin/dropbear -F -E -s -r /etc/dropbear/host_ed25519 -p 22 > /dev/console 2>&1 &
echo "guest: sshd up"
# Power off cleanly when QEMU is asked to stop (SIGTERM to QEMU is not seen here): wait for ever.
while :; do sleep 3600; done
EOF
  chmod +x "$tree/init"
  (cd "$tree" && find . | cpio -o -H newc --quiet | gzip -1) > "$state/root.cpio.gz"

  rm -f "$state/console.log" "$state/gdb" "$state/gdb.sock" "$state/qmp.sock"
  # QEMU's control socket (guest dump); with --gdb, its gdbstub, on unix sockets only this user reaches.
  local debug=(-qmp "unix:$state/qmp.sock,server=on,wait=off")
  [ "$gdb" = 1 ] && debug+=(-gdb "unix:$state/gdb.sock,server=on,wait=off")
  # tsc=reliable: under TCG the clocksource watchdog can drop to jiffies (4 ms steps), which wrecks any
  # timing made in the guest (Run Pipe Benchmarks). The published kernel's tables come through its log
  # (549 prints every row), and it never deletes a row: a 128 KiB log holds pid_store only until about
  # 500 processes have ever run, so it gets 16 MiB (about 60,000).
  local append="console=ttyS0 panic=-1 loglevel=5 tsc=reliable"
  [ "$kind" = published ] && append+=" log_buf_len=16M"
  qemu-system-x86_64 -accel tcg -m "$mem" -display none -no-reboot -daemonize \
    -pidfile "$state/qemu.pid" -serial "file:$state/console.log" \
    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:22" -device virtio-net-pci,netdev=n0 \
    "${debug[@]}" \
    -kernel "$kernel" -initrd "$state/root.cpio.gz" -append "$append"
  [ "$gdb" = 1 ] && echo "unix:$state/gdb.sock" > "$state/gdb"
  echo "$port" > "$state/port"
  echo "$kind" > "$state/kind"
  (cd "$(dirname "$kernel")" && echo "$PWD/$(basename "$kernel")") > "$state/kernel"
  # Up when dropbear answers with its banner (QEMU's forwarder accepts before the guest listens).
  local t0; t0=$(date +%s)
  until timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; head -c 4 <&3" 2>/dev/null | grep -q SSH-; do
    if ! running; then echo "guest.sh: QEMU exited; console log: $state/console.log" >&2; tail -20 "$state/console.log" >&2; exit 1; fi
    if [ $(( $(date +%s) - t0 )) -gt 60 ]; then echo "guest.sh: no SSH server after 60 s; console log: $state/console.log" >&2; tail -20 "$state/console.log" >&2; stop >/dev/null; exit 1; fi
    sleep 0.3
  done
  echo "guest: up in $(( $(date +%s) - t0 )) s: the $(kind_name "$kind") $kernel"
  echo "  destination:  root@127.0.0.1:$port   (key $state/id_ed25519)"
  echo "  host key:     $(ssh-keygen -lf "$state/known_hosts" | cut -d' ' -f2) (also in $state/known_hosts)"
  echo "  connect:      Connect to Host… lists it first; the CLI calls it 'guest' (--ssh guest, --on guest)"
  echo "  ssh config:   for OpenSSH, add 'Include $state/ssh_config' to ~/.ssh/config and use 'sqliteos-guest'"
  if [ "$gdb" = 1 ]; then
    echo "  gdb:          unix:$state/gdb.sock   (sqliteos inspect --gdb guest reads SQLiteOS from its memory)"
    local vmlinux="${kernel%/arch/x86/boot/bzImage}/vmlinux"
    [ -f "$vmlinux" ] && echo "  vmlinux:      $vmlinux"
  fi
  echo "  stop it with: sqliteos guest stop"
}

# The companion kernel with DWARF (config.fragment + gdb.fragment) in the machine's kernel cache, from a
# 6.1 tree unpacked there once: the same paths every clone, so make rebuilds only what changed and a clean
# clone (CI's) does not pay the DWARF build again. Rebuilt when the patch or a fragment is not what it was
# built from (a stamp of their contents).
gdb_kernel() {
  local root="$1" kcache="$2" out="$2/kbuild-gdb" stamp tree
  stamp=$(cat "$root"/kernel-scripts/sqliteos/* "$root"/kernel-scripts/include/linux/sqliteos.h "$root"/kernel-scripts/apply.sh \
    "$here/config.fragment" "$here/gdb.fragment" 2>/dev/null | sha256sum | cut -c1-16)
  [ -f "$out/arch/x86/boot/bzImage" ] && [ "$(cat "$out/.sqliteos-sources" 2>/dev/null)" = "$stamp" ] && return 0
  echo "== building the companion kernel with DWARF for gdb (once per machine, then only what changed; about 25 min from scratch)"
  tree=$(bash "$root/kernel-scripts/kernel.sh" source debian "$kcache/trees/debian-6.1" | grep '^@@sqliteos tree ' | cut -d' ' -f3-)
  [ -n "$tree" ] || return 1
  bash "$root/kernel-scripts/apply.sh" "$tree" > /dev/null || return 1
  mkdir -p "$out"
  bash "$root/kernel-scripts/kernel.sh" build "$tree" "$out" qemu "$here/gdb.fragment" > "$out/build.log" 2>&1 ||
    { tail -20 "$out/build.log" >&2; echo "guest.sh: the build failed; make's log: $out/build.log" >&2; return 1; }
  echo "$stamp" > "$out/.sqliteos-sources"
}

kind_name() { [ "${1:-companion}" = published ] && echo "published SQLiteOS kernel" || echo "companion kernel"; }

case "${1:-}" in
  start) shift; start "$@" ;;
  # the DWARF kernel start --gdb boots, built now if missing or stale (test:guest runs this first, so no
  # test's timeout has to cover a build from scratch)
  gdb-kernel)
    gdb_kernel "$(cd "$here/../.." && pwd)" "$kcache" || exit 2
    echo "vmlinux: $kcache/kbuild-gdb/vmlinux" ;;
  stop) stop ;;
  status) if running; then echo "guest: running on 127.0.0.1:$(cat "$state/port") (pid $(cat "$state/qemu.pid")), the $(kind_name "$(cat "$state/kind" 2>/dev/null)") $(cat "$state/kernel" 2>/dev/null || echo unknown)"; else echo "guest: not running"; exit 1; fi ;;
  *) echo "usage: guest.sh start [--kernel PATH | --published] [--port N] [--no-demo | --pending | --holders N] [--mem MiB] [--gdb] | stop | status | gdb-kernel" >&2; exit 2 ;;
esac

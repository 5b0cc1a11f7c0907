#!/usr/bin/env bash
# Copyright (c) 2026 The supervisor authors
# SPDX-License-Identifier: MIT
# Runs a test program inside a throw-away Linux VM whose cgroup v2 hierarchy has every controller
# (memory, pids, cpu, ...) enabled: QEMU (KVM when it really works, else software emulation) with
# Debian's kernel and a busybox initramfs, both from Debian's packages. The kernel package is
# downloaded once into a cache and unpacked there, never installed.
#
# Usage: tests/vm/run-in-vm.sh [-f FILE]... [-e VAR=VALUE]... [-m MiB] [-t SECONDS] -- PROGRAM [ARGS...]
#   -f FILE   also copy FILE into the guest, at the same absolute path (PROGRAM always is)
#   -e        export VAR=VALUE to PROGRAM          -m  guest memory (default 1024)
#   -t        wall-clock limit per boot (default 300)
# PROGRAM runs as root in the root cgroup, with its shared libraries copied in. Its output comes
# back on stdout; its exit status becomes ours. Exit 4 (with a SUPERVISOR-SKIP line) when this
# machine cannot run the VM at all (no QEMU and no way to install it, no kernel to download).
# Environment: SUPERVISOR_VM_CACHE (default ~/.cache/supervisor-vm), SUPERVISOR_VM_KERNEL (a
# vmlinux/vmlinuz to use instead of Debian's), SUPERVISOR_VM_ACCEL (kvm, tcg or auto).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../cmake/ensure-deps.sh
. "$root/cmake/ensure-deps.sh"

files=() envs=() mem=1024 limit=300
while [ $# -gt 0 ]; do
  case $1 in
    -f) files+=("$2"); shift 2 ;;
    -e) envs+=("$2"); shift 2 ;;
    -m) mem=$2; shift 2 ;;
    -t) limit=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "run-in-vm: unknown option $1" >&2; exit 2 ;;
  esac
done
[ $# -ge 1 ] || { echo "usage: run-in-vm.sh [options] -- PROGRAM [ARGS...]" >&2; exit 2; }
program=$(readlink -f "$1"); shift

skip() { echo "SUPERVISOR-SKIP: $*"; exit 4; }

# ---- what the VM needs from Debian: QEMU and a static busybox (installed like every other
# dependency of the tests), and a kernel image (downloaded, unpacked into the cache).
if [ "$(supervisor_missing_packages "${SUPERVISOR_VM_PACKAGES[@]}")" != "" ]; then
  [ "$(id -u)" -eq 0 ] || skip "the VM stage needs ${SUPERVISOR_VM_PACKAGES[*]} (not installed, not root)"
  (supervisor_ensure_deps "${SUPERVISOR_VM_PACKAGES[@]}") || skip "could not install ${SUPERVISOR_VM_PACKAGES[*]}"
fi
busybox=$(command -v busybox)
cache=${SUPERVISOR_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/supervisor-vm}
mkdir -p "$cache"
exec 8>"$cache/lock"
flock 8
kernel=${SUPERVISOR_VM_KERNEL:-}
if [ -z "$kernel" ]; then
  if [ ! -s "$cache/kernel" ]; then
    find_pkg() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'; }
    pkg=$(find_pkg)
    if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then apt-get update -qq >/dev/null 2>&1 || true; pkg=$(find_pkg); fi
    [ -n "$pkg" ] || skip "no Debian kernel package to boot (apt-cache knows no linux-image-amd64)"
    dl=$(mktemp -d "$cache/dl.XXXXXX")
    (cd "$dl" && apt-get download -q "$pkg" >/dev/null 2>&1) || { rm -rf "$dl"; skip "apt-get download $pkg failed"; }
    dpkg-deb --fsys-tarfile "$dl"/*.deb | tar -x -O --wildcards './boot/vmlinuz-*' > "$dl/vmlinuz"
    # The bzImage carries an xz-compressed ELF vmlinux; booted directly (PVH entry point) it spares
    # software emulation the decompression, about half of the boot.
    offset=$(grep -abo $'\xfd7zXZ\x00' "$dl/vmlinuz" | head -n 1 | cut -d: -f1 || true)
    if [ -n "$offset" ] && tail -c +$((offset + 1)) "$dl/vmlinuz" | xz -dc --single-stream > "$dl/vmlinux" 2>/dev/null &&
       readelf -n "$dl/vmlinux" 2>/dev/null | grep -q 'Xen.*0x00000012\|0x00000012'; then
      mv "$dl/vmlinux" "$cache/kernel"
    else
      mv "$dl/vmlinuz" "$cache/kernel"
    fi
    echo "$pkg" > "$cache/kernel.package"
    rm -rf "$dl"
  fi
  kernel=$cache/kernel
fi
flock -u 8

# ---- the initramfs: busybox, an init that prepares cgroup v2 and runs the program, the program
# and its files at their own absolute paths, and every shared library they load.
work=$(mktemp -d "${TMPDIR:-/tmp}/supervisor-vm.XXXXXX")
trap 'rm -rf "$work"' EXIT
fs=$work/fs
mkdir -p "$fs"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,root,etc}
cp "$busybox" "$fs/bin/busybox"
for applet in $("$busybox" --list-full); do [ -e "$fs/$applet" ] || ln -s /bin/busybox "$fs/$applet"; done
echo "root:x:0:0:root:/root:/bin/sh" > "$fs/etc/passwd"
echo "root:x:0:" > "$fs/etc/group"
# Single quotes for the guest's sh.
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
put() { mkdir -p "$fs$(dirname "$1")"; cp -L --preserve=mode "$1" "$fs$1"; }
put "$program"
for f in ${files[@]+"${files[@]}"}; do put "$(readlink -f "$f")"; done
for f in "$program" ${files[@]+"${files[@]}"}; do
  ldd "$(readlink -f "$f")" 2>/dev/null | grep -oE '/[^ ]+' | while read -r lib; do
    [ -e "$fs$lib" ] || put "$lib"
  done
done
{
  echo '#!/bin/sh'
  echo 'export PATH=/usr/bin:/bin:/usr/sbin:/sbin HOME=/root TMPDIR=/tmp'
  echo 'mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev'
  # /tmp and /run stay on the initramfs (already in memory): a payload staged below them (a
  # checkout in /tmp) must not be hidden by a fresh mount.
  echo 'mkdir -p /dev/shm /dev/pts /tmp /run; mount -t tmpfs tmpfs /dev/shm; chmod 1777 /tmp'
  echo 'ln -sf /proc/self/fd /dev/fd'
  echo 'ip link set lo up 2>/dev/null'
  echo 'mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup'
  echo 'for c in $(cat /sys/fs/cgroup/cgroup.controllers); do echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control; done'
  echo 'echo "vm: kernel $(uname -r), cgroup v2 controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)" > /dev/ttyS1'
  for e in ${envs[@]+"${envs[@]}"}; do printf 'export %s\n' "$(quote "$e")"; done
  # Live on the output port (a hang still shows how far it got), and kept to look for skips.
  printf '('; quote "$program"; for a in "$@"; do printf ' %s' "$(quote "$a")"; done
  echo ' < /dev/null; echo "$?" > /tmp/status) 2>&1 | tee /tmp/output > /dev/ttyS1'
  echo 'status=$(cat /tmp/status)'
  # Inside the VM every capability is there: a test that skips is a failure.
  echo 'if grep -q "SUPERVISOR-SKIP" /tmp/output; then echo "vm: a test skipped inside the VM" > /dev/ttyS1; case $status in 0|4) status=1 ;; esac; fi'
  echo '[ "$status" != 4 ] || status=1  # 4 means: the VM itself could not run'
  echo 'echo "$status" > /dev/ttyS2'
  echo 'sync; poweroff -f'
} > "$fs/init"
chmod 755 "$fs/init"
(cd "$fs" && find . | "$busybox" cpio -o -H newc 2>/dev/null) > "$work/initrd"

# ---- QEMU: KVM only if it really boots a kernel here, else software emulation.
accel=${SUPERVISOR_VM_ACCEL:-auto}
if [ "$accel" = auto ]; then
  accel=tcg
  if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
    if [ ! -e "$cache/kvm-works" ] && [ ! -e "$cache/kvm-fails" ]; then
      if timeout 20 qemu-system-x86_64 -accel kvm -cpu host -m 256 -display none -nodefaults \
           -no-user-config -no-reboot -kernel "$kernel" -initrd "$work/initrd" \
           -append "panic=-1 quiet rdinit=/bin/poweroff -- -f" </dev/null >/dev/null 2>&1; then
        touch "$cache/kvm-works"
      else
        touch "$cache/kvm-fails"
      fi
    fi
    [ -e "$cache/kvm-works" ] && accel=kvm
  fi
fi
cpu=max; [ "$accel" = kvm ] && cpu=host
echo "vm: $(cat "$cache/kernel.package" 2>/dev/null || echo "$kernel"), accel $accel, ${mem} MiB"
# A guest that hangs (seen once: a soft lockup under software emulation, not reproduced in the
# boots since) gets one more boot; a test failure never does.
for attempt in 1 2; do
  : > "$work/status"
  set +e
  timeout -s KILL "$limit" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -m "$mem" -smp 2 \
    -display none -nodefaults -no-user-config -no-reboot \
    -kernel "$kernel" -initrd "$work/initrd" \
    -append "console=ttyS0 quiet loglevel=5 panic=-1 mitigations=off 8250.nr_uarts=3" \
    -serial "file:$work/console" -chardev stdio,id=out,signal=off -serial chardev:out \
    -serial "file:$work/status" < /dev/null
  qemu_rc=$?
  set -e
  status=$(tr -dc '0-9' < "$work/status")
  if [ -n "$status" ]; then exit "$status"; fi
  echo "run-in-vm: boot $attempt: the guest reported no exit status (qemu exit $qemu_rc); its console:" >&2
  tr -d '\r' < "$work/console" | tail -n 120 >&2
done
exit 1

#!/bin/sh
# setup-libvirtd.sh: make qemu:///system reachable for the real-hypervisor
# tests (Debian 12, as root).
#
# Leaves a libvirtd that already answers alone (and returns at once).
# Otherwise creates what the Debian packages would have (groups kvm and
# libvirt-qemu, the system user libvirt-qemu, libvirt's folders), makes QEMU
# run as root without cgroups or a security driver (containers have none of
# them), then starts virtlogd and libvirtd as daemons and waits for them.
#
# Exit status: 0 reachable; 77 it cannot be (not root, packages missing,
# libvirtd does not start), with the reason on stdout; 1 usage.
# Idempotent; safe to run from several tests at once (one lock).
#
# Options: --check  only say whether qemu:///system answers (0 or 77).
set -u

URI=qemu:///system
QEMU_CONF=/etc/libvirt/qemu.conf
LOCK=/run/lock/virtmcd-setup-libvirtd.lock

skip() {
    echo "# SKIP: $*"
    exit 77
}

reachable() {
    timeout 5 virsh -q -c "$URI" uri >/dev/null 2>&1
}

check_only=false
case "${1:-}" in
"") ;;
--check) check_only=true ;;
*) echo "usage: $0 [--check]" >&2; exit 1 ;;
esac

for b in virsh timeout; do
    command -v "$b" >/dev/null 2>&1 || skip "$b is not installed (libvirt-clients, coreutils)"
done
if reachable; then
    exit 0
fi
$check_only && skip "$URI does not answer"

[ "$(id -u)" -eq 0 ] || skip "not root: cannot start libvirtd for $URI"
PATH=$PATH:/usr/sbin:/sbin
for b in libvirtd:libvirt-daemon virtlogd:libvirt-daemon qemu-system-x86_64:qemu-system-x86 \
    qemu-img:qemu-utils; do
    command -v "${b%%:*}" >/dev/null 2>&1 || skip "${b%%:*} is not installed (package ${b#*:})"
done
[ -e /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so ] ||
    [ -n "$(find /usr/lib* -name 'libvirt_driver_qemu.so' 2>/dev/null | head -n1)" ] ||
    skip "libvirt's QEMU driver is not installed (package libvirt-daemon-driver-qemu)"

mkdir -p "$(dirname "$LOCK")"
exec 9>"$LOCK"
flock -w 60 9 || skip "another setup holds $LOCK"

# Someone else may have started it while we waited.
reachable && exit 0

# A host run by systemd: its own units, its own configuration.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1 &&
    systemctl start libvirtd.service >/dev/null 2>&1; then
    i=0
    while [ $i -lt 50 ]; do
        reachable && exit 0
        sleep 0.1
        i=$((i + 1))
    done
fi

getent group kvm >/dev/null || groupadd -r kvm || skip "cannot create group kvm"
getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu ||
    skip "cannot create group libvirt-qemu"
getent passwd libvirt-qemu >/dev/null ||
    useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu ||
    skip "cannot create user libvirt-qemu"
mkdir -p /var/log/libvirt/qemu /var/run/libvirt /var/lib/libvirt/qemu /var/lib/libvirt/images \
    /var/cache/libvirt /etc/libvirt || skip "cannot create libvirt's folders"

# qemu.conf: the keys below, whatever the file said before about them.
MARK="# virtmcd tests (tests/qemu/setup-libvirtd.sh)"
if ! grep -qF "$MARK" "$QEMU_CONF" 2>/dev/null; then
    tmp="$QEMU_CONF.virtmcd.$$"
    {
        if [ -f "$QEMU_CONF" ]; then
            grep -Ev '^[[:space:]]*(user|group|dynamic_ownership|security_driver|cgroup_controllers)[[:space:]]*=' \
                "$QEMU_CONF"
        fi
        printf '%s\n' "$MARK" 'user = "root"' 'group = "root"' 'dynamic_ownership = 0' \
            'security_driver = "none"' 'cgroup_controllers = [ ]'
    } > "$tmp" && mv -f "$tmp" "$QEMU_CONF" || skip "cannot write $QEMU_CONF"
fi

# daemon CMD...: run a daemon that keeps none of our descriptors (our lock,
# the test harness's pipes), in a session of its own.
daemon() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import os, sys
os.closerange(3, 65536)
try: os.setsid()
except OSError: pass
os.execvp(sys.argv[1], sys.argv[1:])' "$@" </dev/null >/dev/null 2>&1
    else
        setsid "$@" </dev/null >/dev/null 2>&1 9>&- 8>&-
    fi
}

# running NAME: a live (not zombie) process of that name exists.
running() {
    for p in $(pgrep -x "$1"); do
        [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] && return 0
    done
    return 1
}

if ! running virtlogd; then
    daemon virtlogd -d || skip "virtlogd does not start"
fi
if ! running libvirtd && ! running virtqemud; then
    daemon libvirtd -d || skip "libvirtd does not start"
fi
i=0
while [ $i -lt 100 ]; do
    reachable && exit 0
    sleep 0.1
    i=$((i + 1))
done
skip "libvirtd started but $URI does not answer (see /var/log/libvirt)"

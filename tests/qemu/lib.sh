# lib.sh: shared by the real-hypervisor tests (tests/qemu/test-*.sh).
#
# On top of tests/e2e/functions.sh (start_daemon, req, expect_*, check,
# finish): brings up qemu:///system (setup-libvirtd.sh) or skips with the
# reason, makes small guests with unique names (vmcd-t-PID-SUFFIX) and removes
# them whatever happens, and reads what QEMU really got from
# /proc/<qemu pid>/cmdline.
#
# A test sources this file, calls qemu_init shared|exclusive, then
# make_guest ... and start_daemon.  qemu_init exclusive is for a test that
# stops libvirtd: it waits until no other test of this tier runs.

: "${abs_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$abs_srcdir/tests/e2e/functions.sh"

NODE=qemu:///system
PATH=$PATH:/usr/sbin:/sbin
VIRSH="virsh -q -c $NODE"
QEMU_RUN=/var/run/libvirt/qemu
IMAGES=/var/lib/libvirt/images
PREFIX="vmcd-t-$$"
GUESTS=
SECRETS=
DOMTYPE=qemu
QEMU_LOCK=/run/lock/virtmcd-qemu-tests.lock
# Set by a test that stopped libvirtd; qemu_cleanup starts it again.
LIBVIRTD_STOPPED=false
# Background helpers of the test; qemu_cleanup ends them.
BG_PIDS=

# ms: milliseconds since the epoch.
ms() { echo $(($(date +%s%N) / 1000000)); }

qemu_init() {
    local mode=${1:-shared} rc
    if [ -n "${VIRTMCD_SKIP_QEMU:-}" ]; then
        echo "# SKIP: $VIRTMCD_SKIP_QEMU"
        exit 77
    fi
    for b in curl jq qemu-img flock python3; do
        command -v "$b" >/dev/null 2>&1 || { echo "# SKIP: $b is not installed"; exit 77; }
    done
    [ "$(id -u)" -eq 0 ] || { echo "# SKIP: not root: the QEMU tier needs root"; exit 77; }
    [ -x "$VIRTMCD" ] || { echo "# virtmcd is not built at $VIRTMCD"; exit 1; }
    mkdir -p "$(dirname "$QEMU_LOCK")"
    exec 8>"$QEMU_LOCK"
    if [ "$mode" = exclusive ]; then
        flock -x -w 280 8 || { echo "# cannot take $QEMU_LOCK"; exit 1; }
    else
        flock -s -w 280 8 || { echo "# cannot take $QEMU_LOCK"; exit 1; }
    fi
    sh "$abs_srcdir/tests/qemu/setup-libvirtd.sh"
    rc=$?
    [ "$rc" = 0 ] || exit "$rc"
    # KVM when /dev/kvm is a device that opens, else TCG (VMCD_DOMTYPE=qemu
    # forces TCG).  A regular file of that name is no KVM.
    if [ -n "${VMCD_DOMTYPE:-}" ]; then
        DOMTYPE=$VMCD_DOMTYPE
    elif [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null; then
        DOMTYPE=kvm
    fi
    echo "# libvirt $($VIRSH version 2>/dev/null | sed -n 's/^Using library: libvirt //p'), domain type $DOMTYPE"
    mkdir -p "$IMAGES"
    trap qemu_cleanup EXIT
    trap 'exit 130' INT TERM HUP PIPE
}

# remove_guest NAME: destroy, undefine (with NVRAM), delete its disk.
remove_guest() {
    $VIRSH destroy "$1" >/dev/null 2>&1
    $VIRSH undefine --nvram "$1" >/dev/null 2>&1 || $VIRSH undefine "$1" >/dev/null 2>&1
    rm -f "$IMAGES/$1.img"
}

qemu_cleanup() {
    local g s
    for g in $BG_PIDS; do kill "$g" 2>/dev/null; done
    stop_daemon
    notify_stop
    if $LIBVIRTD_STOPPED; then
        libvirtd_start || echo "# WARNING: could not start libvirtd again"
    fi
    # Every guest of this process, registered or not.
    for g in $GUESTS $($VIRSH list --all --name 2>/dev/null | grep "^$PREFIX-"); do
        remove_guest "$g"
    done
    for s in $SECRETS; do $VIRSH secret-undefine "$s" >/dev/null 2>&1; done
    rm -f "$IMAGES/$PREFIX-"*.img
    rm -rf "$T"
}

# guest_xml NAME STYLE [EXTRA_DEVICES] [EXTRA_TOP]: a 64 MiB guest with one
# raw disk and a user-mode virtio NIC.  STYLE: os (<os><boot dev='hd'/>
# <boot dev='network'/>), device (disk order 1, NIC order 2), uefi (device,
# with OVMF: q35, no secure boot, no SMM) or none.
guest_xml() {
    local name=$1 style=$2 extra_dev=${3:-} extra_top=${4:-} osboot='' dboot='' nboot=''
    local osattr='' machine='' smm=''
    case $style in
    os) osboot="<boot dev='hd'/><boot dev='network'/>" ;;
    device) dboot="<boot order='1'/>"; nboot="<boot order='2'/>" ;;
    uefi)
        dboot="<boot order='1'/>"; nboot="<boot order='2'/>"
        osattr=" firmware='efi'"; machine=" machine='q35'"
        osboot="<firmware><feature enabled='no' name='secure-boot'/></firmware>"
        smm="<smm state='off'/>"
        ;;
    esac
    cat <<EOF
<domain type='$DOMTYPE'>
  <name>$name</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  $extra_top
  <os$osattr><type arch='x86_64'$machine>hvm</type>$osboot</os>
  <features><acpi/>$smm</features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$IMAGES/$name.img'/>
      <target dev='vda' bus='virtio'/>$dboot
    </disk>
    <interface type='user'><model type='virtio'/>$nboot</interface>
    <serial type='pty'/>
    $extra_dev
  </devices>
</domain>
EOF
}

# make_guest SUFFIX STYLE [EXTRA_DEVICES] [EXTRA_TOP]: define it (shut off);
# sets GUEST to its name.
make_guest() {
    GUEST="$PREFIX-$1"
    GUESTS="$GUESTS $GUEST"
    qemu-img create -q -f raw "$IMAGES/$GUEST.img" 1M || return 1
    guest_xml "$GUEST" "$2" "${3:-}" "${4:-}" > "$T/$GUEST.xml"
    if ! $VIRSH define "$T/$GUEST.xml" >/dev/null 2>"$T/define.err"; then
        echo "# cannot define $GUEST: $(cat "$T/define.err")"
        return 1
    fi
}

domstate() { $VIRSH domstate "$1" 2>/dev/null | head -n1; }

# qemu_pid NAME: the running QEMU's pid (empty when none).
qemu_pid() {
    local p
    p=$(cat "$QEMU_RUN/$1.pid" 2>/dev/null) || return 0
    [ -n "$p" ] && [ -r "/proc/$p/cmdline" ] &&
        tr '\0' '\n' < "/proc/$p/cmdline" | grep -qx "guest=$1,.*" && echo "$p"
}

# pid_alive PID: a QEMU process with that pid exists.
pid_alive() { [ -n "$1" ] && [ -d "/proc/$1" ] && grep -q qemu "/proc/$1/comm" 2>/dev/null; }

# qemu_args NAME: QEMU's argv, one per line.
qemu_args() {
    local p
    p=$(qemu_pid "$1")
    [ -n "$p" ] && tr '\0' '\n' < "/proc/$p/cmdline"
}

# qemu_boot_order NAME: the boot device classes by QEMU's bootindex, lowest
# first ("network disk").
qemu_boot_order() {
    qemu_args "$1" | grep '^{' |
        jq -r 'select(.bootindex != null) | "\(.bootindex) \(.driver)"' 2>/dev/null |
        sort -n | while read -r _ drv; do
        case $drv in
        *net*) echo network ;;
        *cd*) echo cdrom ;;
        *blk* | *hd*) echo disk ;;
        *) echo "$drv" ;;
        esac
    done | tr '\n' ' ' | sed 's/ $//'
}

# qemu_boot_opt NAME: the value of QEMU's -boot option.
qemu_boot_opt() { qemu_args "$1" | grep -A1 -x -- '-boot' | tail -n1; }

# status_of NAME: virtmcd's state for NAME (curl, no side effects on $T/body).
status_of() { curl -s -g --max-time 2 "$BASE/service/$1/state_controller/status" | jq -r .state 2>/dev/null; }

# wait_status NAME STATE MAX_MS: poll virtmcd until it says STATE; sets
# WAITED (ms); 0 when seen in time.
wait_status() {
    local start now
    start=$(ms)
    while :; do
        now=$(ms)
        WAITED=$((now - start))
        [ "$(status_of "$1")" = "$2" ] && return 0
        [ "$WAITED" -ge "$3" ] && return 1
        sleep 0.05
    done
}

# wait_domstate NAME STATE MAX_MS: poll virsh.
wait_domstate() {
    local start
    start=$(ms)
    while [ "$(domstate "$1")" != "$2" ]; do
        [ $(($(ms) - start)) -ge "$3" ] && return 1
        sleep 0.1
    done
}

# action NAME ACTION [QUERY]: POST the action; the answer in $T/body.
action() { req POST "/service/$1/state_controller/$2${3:+?$3}"; }

# expect_action RESULT STATE DESC: a 200 answer with that result and state.
expect_action() {
    local got
    got=$(jq -r '"\(.result) \(.state)"' "$T/body" 2>/dev/null)
    if [ "$STATUS" = 200 ] && [ "$got" = "$1 $2" ]; then
        ok "$3 (200, $1, $2)"
    else
        not_ok "$3: expected 200 '$1 $2', got $STATUS '$got'"
    fi
}

# expect_eq GOT EXPECTED DESC
expect_eq() {
    if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3: got '$1', expected '$2'"; fi
}

# --- the libvirt daemon, for the outage test ---

# live_pid NAME: the pid of a live (not zombie) process of that name.
live_pid() {
    local p
    for p in $(pgrep -x "$1"); do
        if [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ]; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# daemon_exec CMD...: run a daemon that keeps none of our descriptors (the
# tier's lock, the harness's pipes), in a session of its own.
daemon_exec() {
    python3 -c 'import os, sys
os.closerange(3, 65536)
try: os.setsid()
except OSError: pass
os.execvp(sys.argv[1], sys.argv[1:])' "$@" </dev/null >/dev/null 2>&1
}

# libvirtd_find: sets LVD_NAME, LVD_PID, LVD_HOW (systemd|process) and
# LVD_ARGV (its command line, one argument a line, in $T/libvirtd.argv).
libvirtd_find() {
    LVD_NAME=libvirtd
    LVD_PID=$(live_pid libvirtd)
    if [ -z "$LVD_PID" ]; then
        LVD_NAME=virtqemud
        LVD_PID=$(live_pid virtqemud)
    fi
    [ -n "$LVD_PID" ] || return 1
    LVD_HOW=process
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ] &&
        systemctl is-active --quiet "$LVD_NAME.service" 2>/dev/null; then
        LVD_HOW=systemd
    fi
    tr '\0' '\n' < "/proc/$LVD_PID/cmdline" > "$T/libvirtd.argv"
}

# libvirtd_stop: stop it the hard way (SIGKILL: a crash), or through
# systemd (service and sockets, or socket activation would revive it).
libvirtd_stop() {
    LIBVIRTD_STOPPED=true
    if [ "$LVD_HOW" = systemd ]; then
        systemctl stop "$LVD_NAME.service" "$LVD_NAME.socket" "$LVD_NAME-ro.socket" \
            "$LVD_NAME-admin.socket" 2>/dev/null
    else
        kill -KILL "$LVD_PID"
    fi
}

# libvirtd_start: start it again the way it ran; waits until it answers.
libvirtd_start() {
    local i=0
    if [ "$LVD_HOW" = systemd ]; then
        systemctl start "$LVD_NAME.socket" "$LVD_NAME-ro.socket" "$LVD_NAME-admin.socket" \
            "$LVD_NAME.service" 2>/dev/null
    elif ! live_pid "$LVD_NAME" >/dev/null; then
        # The same command line, as a daemon (it may have had no -d).
        set --
        while IFS= read -r a; do set -- "$@" "$a"; done < "$T/libvirtd.argv"
        case " $* " in *" -d "* | *" --daemon "*) ;; *) set -- "$@" -d ;; esac
        daemon_exec "$@"
    fi
    while [ $i -lt 150 ]; do
        if timeout 5 virsh -q -c "$NODE" uri >/dev/null 2>&1; then
            LIBVIRTD_STOPPED=false
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# qemu_boot_macs NAME: the MACs of the NICs with a bootindex, lowest first.
qemu_boot_macs() {
    qemu_args "$1" | grep '^{' |
        jq -r 'select(.bootindex != null and .mac != null) | "\(.bootindex) \(.mac)"' 2>/dev/null |
        sort -n | awk '{print $2}' | tr '\n' ' ' | sed 's/ $//'
}

# inactive_xml NAME: the persistent definition, secrets included.
inactive_xml() { $VIRSH dumpxml --inactive --security-info "$1"; }

# wait_boot NAME JQ-FILTER MAX_MS: poll GET /boot until FILTER is true.
wait_boot() {
    local start
    start=$(ms)
    while :; do
        req GET "/service/$1/boot"
        WAITED=$(($(ms) - start))
        [ "$STATUS" = 200 ] && jq -e "$2" "$T/body" >/dev/null 2>&1 && return 0
        [ "$WAITED" -ge "$3" ] && return 1
        sleep 0.1
    done
}

# xml_norm [--no-boot]: libvirt's XML on stdin, minus an empty
# <virtmcd:instance/> (virtmcd's own metadata container, which stays once
# created) and a <metadata> left empty by that; with --no-boot, minus every
# boot element (<os><boot dev=/> and per-device <boot order=/>).
xml_norm() {
    python3 -c '
import re, sys
x = sys.stdin.read()
x = re.sub(r"\n *<virtmcd:instance xmlns:virtmcd=\"[^\"]*\"/>", "", x)
x = re.sub(r"\n *<metadata>\n *</metadata>", "", x)
if len(sys.argv) > 1:
    x = re.sub(r"\n *<boot (dev|order)=[^>]*/>", "", x)
sys.stdout.write(x)
' "$@"
}

# expect_same_xml GOT EXPECTED DESC: equal, else the diff.
expect_same_xml() {
    if [ "$1" = "$2" ]; then
        ok "$3"
    else
        not_ok "$3"
        printf '%s\n' "$2" > "$T/xml.expected"
        printf '%s\n' "$1" > "$T/xml.got"
        diff -u "$T/xml.expected" "$T/xml.got" | head -n 40 | sed 's/^/#   /'
    fi
}

# expect_clean_exit: stop virtmcd with SIGTERM; it must exit 0 (a crash, or
# a sanitizer's report, is not 0).
expect_clean_exit() {
    local pid=$DAEMON_PID
    DAEMON_RC=
    stop_daemon
    if [ "${DAEMON_RC:-x}" = 0 ]; then
        ok "virtmcd (pid $pid) exits 0 on SIGTERM"
    else
        not_ok "virtmcd (pid $pid) exit status on SIGTERM: ${DAEMON_RC:-unknown}, expected 0"
        tail -n 30 "$T/daemon.log" | sed 's/^/#   /'
    fi
}

#!/bin/sh
# test-qemu-once.sh: one-time boot orders survive outages (issue 8 point 3).
# Five guests are armed with pxeboot?once=1 while off.  Then, while the
# daemon is stopped, A is started (and left running) and B is started and
# destroyed; while the daemon is frozen and libvirtd restarts under it (the
# host disconnected), D is started and E started and destroyed.  C is never
# started.  Once virtmcd is back (started again / reconnected), every guest
# that booted since the arming has its previous order (disk first, not
# armed) and C keeps its one-time order.
. "$(dirname "$0")/lib.sh"
qemu_init exclusive

write_conf
for s in a b c d e; do
    make_guest "once-$s" os || exit 1
done
A=$PREFIX-once-a B=$PREFIX-once-b C=$PREFIX-once-c D=$PREFIX-once-d E=$PREFIX-once-e
start_daemon || exit 1

for g in $A $B $C $D $E; do
    action "$g" pxeboot once=1
    expect_action done "shut off" "pxeboot?once=1 of $g"
done

# boot_is NAME: "first once" from GET /boot.
boot_is() { curl -s -g "$BASE/service/$1/boot" | jq -r '"\(.first) \(.once)"'; }

# wait_boot_is NAME VALUE: the worker reconciles after READY; wait for it (10 s).
wait_boot_is() {
    local i=0
    while [ $i -lt 100 ]; do
        [ "$(boot_is "$1")" = "$2" ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# ---- the daemon stopped ----
stop_daemon
$VIRSH start "$A" >/dev/null
$VIRSH start "$B" >/dev/null && $VIRSH destroy "$B" >/dev/null
start_daemon || exit 1
check "A started while virtmcd was stopped: its order is back" wait_boot_is "$A" "disk false"
check "B started and stopped while virtmcd was stopped: its order is back" \
    wait_boot_is "$B" "disk false"
check "C never started: it keeps its one-time order" [ "$(boot_is "$C")" = "network true" ]
check "A is still running" [ "$(domstate "$A")" = running ]
check "A's restore left a backup" sh -c \
    'curl -s "$1/service/$2/backups" | jq -e "[.[].reason] | index(\"once-restore\")" >/dev/null' \
    _ "$BASE" "$A"

# ---- the host disconnected: the daemon frozen while libvirtd restarts ----
libvirtd_find || { echo "# cannot find libvirtd"; exit 1; }
kill -STOP "$DAEMON_PID"
libvirtd_stop
# SIGKILL takes a moment: start it again only once the old one is gone.
i=0
while live_pid "$LVD_NAME" >/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
libvirtd_start || { kill -CONT "$DAEMON_PID"; not_ok "libvirtd did not come back"; finish; }
$VIRSH start "$D" >/dev/null
$VIRSH start "$E" >/dev/null && $VIRSH destroy "$E" >/dev/null
kill -CONT "$DAEMON_PID"
check "virtmcd reconnected" wait_http "$BASE/service/health" 30
check "D started while the host was disconnected: its order is back" \
    wait_boot_is "$D" "disk false"
check "E started and stopped while the host was disconnected: its order is back" \
    wait_boot_is "$E" "disk false"
check "C still keeps its one-time order" [ "$(boot_is "$C")" = "network true" ]

# C's order is used by exactly one boot once virtmcd watches again.
action "$C" power_on
expect_action done running "power_on of C"
check "C booted its one-time order: the previous one is back" wait_boot_is "$C" "disk false"
expect_eq "$(qemu_boot_order "$C")" "network disk" "and QEMU got the NIC first for that boot"

finish

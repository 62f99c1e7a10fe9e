#!/bin/sh
# test-qemu-firmware.sh: a boot change takes effect at the next reset, like a
# BMC's boot device (issue 10 point 3), proven by the firmware's own log
# (SeaBIOS on the ISA debug console, firmware.sh): which device it tried
# first after a cold start, after a force_reset of a running guest whose
# order was changed while it ran, and after a reset the guest makes itself
# (QMP system_reset); a once=1 order used by exactly one reset, then the
# previous order back.  QEMU is never restarted for it (same pid), the
# answers say "applies": "next_reset" and GET /boot "pending": false.
#
# A guest sitting in firmware ignores ACPI, so the `reboot` action cannot be
# shown here: its warm reset is the same QEMU reset as force_reset's.  The
# cold-restart fallback ([boot] live_update = no) is test-qemu-boot.sh's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/firmware.sh"
qemu_init shared

fw_cleanup() {
    qemu_cleanup
    rm -f "$IMAGES/$PREFIX-"*.fw.log
}
trap fw_cleanup EXIT

# IPMI words and a short reboot escalation for Mr-Provisioner's flow (the end).
write_conf "$(printf '[compat]\nstate_words = ipmi\n[power]\nreboot_timeout = 2\n')"
# Per-device order: disk 1, NIC 2 (a user-mode NIC: nothing leaves the host).
fw_make_guest fw device || exit 1
G=$GUEST
start_daemon || exit 1

# boot_is: "first pending once" from GET /boot.
boot_is() { curl -s -g "$BASE/service/$G/boot" | jq -r '"\(.first) \(.pending) \(.once)"'; }
# wait_boot_is VALUE: the worker acts on events; wait for it (10 s).
wait_boot_is() {
    local i=0
    while [ $i -lt 100 ]; do
        [ "$(boot_is)" = "$1" ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
# hmp_reset: a reset the guest makes itself, as QEMU sees it.
hmp_reset() { $VIRSH qemu-monitor-command --hmp "$G" system_reset >/dev/null; }

# ---- a cold start: the persistent order ----
action "$G" pxeboot
expect_jq '"\(.result) \(.applies)"' "done next_boot" "pxeboot while off: applies next_boot"
FW_MARK=0
action "$G" power_on
expect_action done running "power_on"
PID=$(qemu_pid "$G")
expect_eq "$(fw_first_after "$G")" network "cold start: the firmware tried the NIC first"

# ---- changed while running, then force_reset: warm, with the new order ----
action "$G" diskboot
expect_jq '"\(.result) \(.applies)"' "done next_reset" "diskboot while running: applies next_reset"
expect_eq "$(boot_is)" "disk false false" "GET /boot: first disk, not pending (QEMU has it)"
fw_mark "$G"
action "$G" force_reset
expect_action done running "force_reset"
expect_eq "$(qemu_pid "$G")" "$PID" "force_reset was warm: the same QEMU process"
expect_eq "$(fw_first_after "$G")" disk "force_reset: the firmware tried the disk first"

# ---- changed while running, then a reset by the guest ----
action "$G" pxeboot
expect_jq .applies next_reset "pxeboot while running: applies next_reset"
expect_eq "$(boot_is)" "network false false" "GET /boot: first network, not pending"
fw_mark "$G"
hmp_reset
expect_eq "$(fw_first_after "$G")" network "guest reset: the firmware tried the NIC first"
expect_eq "$(qemu_pid "$G")" "$PID" "still the same QEMU process"

# ---- once=1 while running: exactly one reset, then the previous order ----
action "$G" diskboot
expect_jq .applies next_reset "diskboot while running: applies next_reset"
action "$G" pxeboot once=1
expect_jq '"\(.once) \(.applies)"' "true next_reset" "pxeboot?once=1 while running: applies next_reset"
expect_eq "$(boot_is)" "network false true" "GET /boot: armed, not pending"
fw_mark "$G"
hmp_reset
expect_eq "$(fw_first_after "$G")" network "the reset after once=1: the firmware tried the NIC first"

check "after that reset the previous order is back (disk, not armed, not pending)" \
    wait_boot_is "disk false false"
# The restore gave QEMU the previous order while that boot ran: the boot in
# progress kept the one-time order (above), the next one does not.
fw_mark "$G"
action "$G" force_reset
expect_action done running "force_reset after the one-time boot"
expect_eq "$(fw_first_after "$G")" disk "the following reset: the firmware tried the disk first"
expect_eq "$(qemu_pid "$G")" "$PID" "QEMU was never restarted"

# ---- a cold start after all that: the persistent order (disk) ----
action "$G" power_cycle
expect_action done running "power_cycle"
# A new QEMU opened the log afresh (its file chardev truncates).
FW_MARK=0
expect_eq "$(fw_first_after "$G")" disk "cold start: the firmware tried the disk first"
check "libvirt marked the earlier QEMU custom-monitor tainted (documented)" \
    grep -q "tainted: custom-monitor" "/var/log/libvirt/qemu/$G.log"

# ---- <os><boot dev> style: libvirt's class-to-device mapping, live ----
fw_make_guest fwos os || exit 1
O=$GUEST
FW_MARK=0
action "$O" power_on
expect_action done running "os style: power_on"
expect_eq "$(fw_first_after "$O")" disk "os style, cold start (hd, network): the disk first"
action "$O" pxeboot
expect_jq .applies next_reset "os style: pxeboot while running: applies next_reset"
fw_mark "$O"
action "$O" force_reset
expect_action done running "os style: force_reset"
expect_eq "$(fw_first_after "$O")" network "os style, force_reset: the NIC first"

# ---- Mr-Provisioner's PXE reboot of a running guest (issue 10) ----
# Its driver (tests/e2e/mrp-client.py) sets the boot device, sees "on", and
# sends 'reset' (reboot).  A guest in firmware ignores the ACPI request, so
# the reboot escalates to a hard reset after [power] reboot_timeout (2 s).
action "$O" diskboot
OPID=$(qemu_pid "$O")
fw_mark "$O"
/usr/bin/python3 "$abs_srcdir/tests/e2e/mrp-client.py" "$BASE" "$O" pxe-reboot > "$T/mrp.out" 2>&1
check "Mr-Provisioner's PXE reboot of a running guest answers 200 throughout" \
    grep -q '"action": "reboot"' "$T/mrp.out"
expect_eq "$(fw_first_after "$O" 30000)" network \
    "after its PXE reboot the firmware tried the NIC first"
check "the ignored reboot was escalated to a hard reset (logged)" \
    grep -q "reboot of '$O': the guest did not reboot within 2 s" "$T/daemon.log"
expect_eq "$(domstate "$O")" running "the guest ends running"
expect_eq "$(qemu_pid "$O")" "$OPID" "with the same QEMU process (a warm reset)"

finish

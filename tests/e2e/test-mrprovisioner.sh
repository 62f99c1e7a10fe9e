#!/bin/sh
# test-mrprovisioner.sh: Mr-Provisioner's libvirt BMC driver, unchanged
# (tests/e2e/mrp-client.py behaves exactly like it), against the test
# driver: with [compat] state_words = ipmi its PXE, disk and BIOS reboots
# and its power buttons do what it means, on running and stopped machines;
# with the default words nothing changes for other clients.
. "$(dirname "$0")/functions.sh"

MRP="/usr/bin/python3 $abs_srcdir/tests/e2e/mrp-client.py"
# mrp MACHINE COMMAND: run the driver; its JSON in $T/body, exit status in MRP_RC.
mrp() {
    $MRP "$BASE" "$1" "$2" > "$T/body" 2>&1
    MRP_RC=$?
}
first() { curl -s "$BASE/service/$1/boot" | jq -r .first; }

# ---- IPMI words ----
write_conf "$(printf '[compat]\nstate_words = ipmi\n')"
start_daemon || exit 1

mrp vm-running state
expect_jq .state on "a running machine is 'on'"
mrp vm-off state
expect_jq .state off "a shut-off machine is 'off'"
mrp vm-paused state
expect_jq .state on "a paused machine is 'on' (a QEMU process exists)"
req GET /service/vm-running/state_controller/status
check "status answers only {\"state\"}" [ "$(jq -c . "$T/body")" = '{"state":"on"}' ]

# PXE reboot of a stopped machine: pxeboot, then 'on' (the toggle starts it).
mrp vm-off pxe-reboot
check "PXE reboot of a stopped machine succeeds" [ "$MRP_RC" = 0 ]
check "it is running" [ "$(state vm-off)" = on ]
check "and boots from the network first" [ "$(first vm-off)" = network ]

# Disk reboot of a running machine: diskboot, then 'reset' (reboot).
mrp vm-off disk-reboot
check "disk reboot of a running machine succeeds" [ "$MRP_RC" = 0 ]
expect_jq .action reboot "the running machine got 'reboot' (state was 'on')"
check "it is still on" [ "$(state vm-off)" = on ]
check "and boots from disk first" [ "$(first vm-off)" = disk ]

# BIOS reboot: the order before virtmcd changed it.
mrp vm-running pxe-reboot
mrp vm-running bios-reboot
check "BIOS reboot succeeds" [ "$MRP_RC" = 0 ]
check "BIOS reboot brings the original order back" [ "$(first vm-running)" = disk ]

# The power buttons.
mrp vm-nonic power-on
check "'on' starts a stopped machine" sh -c '[ "$1" = 0 ] && [ "$2" = on ]' _ "$MRP_RC" "$(state vm-nonic)"
mrp vm-nonic power-cycle
check "'cycle' (force_reset) of a running machine" sh -c '[ "$1" = 0 ] && [ "$2" = on ]' _ "$MRP_RC" "$(state vm-nonic)"
mrp vm-nonic power-reset
check "'reset' (reboot) of a running machine" [ "$MRP_RC" = 0 ]
mrp vm-nonic power-off
check "'off' (the toggle) of a running machine" [ "$MRP_RC" = 0 ]
expect_jq .result requested "'off' asks the guest (ACPI)"
mrp vm-paused power-cycle
check "'cycle' of a paused machine resumes it" sh -c '[ "$1" = 0 ] && [ "$2" = on ]' _ "$MRP_RC" "$(state vm-paused)"
mrp appliance-none state
check "an unknown machine is a BMC error (not 200)" [ "$MRP_RC" = 1 ]
mrp vm-nonic bootdev-pxe
check "a machine without a NIC cannot PXE boot: a BMC error" [ "$MRP_RC" = 1 ]
stop_daemon

# ---- the default: virsh's words, as before ----
write_conf
start_daemon || exit 1
req GET /service/vm-running/state_controller/status
check "default words: running" [ "$(jq -c . "$T/body")" = '{"state":"running"}' ]
req GET /service/vm-off/state_controller/status
check "default words: shut off" [ "$(jq -c . "$T/body")" = '{"state":"shut off"}' ]

finish

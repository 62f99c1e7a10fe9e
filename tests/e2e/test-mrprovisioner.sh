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

# ---- anonymous networks, no users file: the provisioner is 127.0.0.2 ----
write_conf "$(printf '[compat]\nstate_words = ipmi\n[auth]\nanonymous_networks = 127.0.0.2/32, 2001:db8::/32\nanonymous_role = operator\nanonymous_machines = vm-*\n')"
start_daemon || exit 1
check "start-up says who is served without credentials" \
    grep -q "Requests without credentials from 127.0.0.2/32, 2001:db8::/32 are served with role operator" "$T/daemon.log"
MRP_SOURCE=127.0.0.2 mrp vm-off pxe-reboot
check "the provisioner's PXE reboot works without credentials" [ "$MRP_RC" = 0 ]
check "vm-off runs, network first" sh -c '[ "$1 $2" = "on network" ]' _ \
    "$(curl -s --interface 127.0.0.2 "$BASE/service/vm-off/state_controller/status" | jq -r .state)" \
    "$(curl -s --interface 127.0.0.2 "$BASE/service/vm-off/boot" | jq -r .first)"
MRP_SOURCE=127.0.0.2 mrp web-01 state
check "a machine outside anonymous_machines does not exist for it" sh -c \
    '[ "$1" = 1 ] && grep -q "status 404" "$2"' _ "$MRP_RC" "$T/body"
mrp vm-running state
check "another address is refused (no users file)" sh -c \
    '[ "$1" = 1 ] && grep -q "status 403" "$2"' _ "$MRP_RC" "$T/body"
check "and logged" grep -q "Refused GET /service/vm-running/state_controller/status from 127.0.0.1" "$T/daemon.log"
# Access lines wait a few milliseconds in the log's queue for company.
check "anonymous requests are in the access log with their address" \
    wait_for 5 grep -q "127.0.0.2 user=anonymous" "$T/daemon.log"
req POST '/service/vm-off/state_controller/power_off?force=1' --interface 127.0.0.2
expect_error 403 "force=1 (admin) is refused to the anonymous operator, no users to step up to"
stop_daemon

# ---- anonymous networks with users: role user, stepping up ----
printf '%s\n%s\n' secret secret | htdigest -c "$T/users.digest" virtmcd alice >/dev/null 2>&1
chmod 600 "$T/users.digest"
write_conf "$(printf '[compat]\nstate_words = ipmi\n[auth]\nusers_file = %s\nanonymous_networks = 127.0.0.2\n[user "alice"]\nrole = operator\n' "$T/users.digest")"
start_daemon || exit 1
MRP_SOURCE=127.0.0.2 mrp vm-running state
check "status works for the anonymous user role" sh -c '[ "$1" = 0 ]' _ "$MRP_RC"
expect_jq .state on "and says on"
nb=$(ls "$T/backups" 2>/dev/null | wc -l)
MRP_SOURCE=127.0.0.2 mrp vm-running bootdev-pxe
check "pxeboot is refused to the anonymous user role (not 200)" [ "$MRP_RC" = 1 ]
req GET /service/vm-running/state_controller/pxeboot --interface 127.0.0.2
expect_error 401 "pxeboot without credentials: 401, so a client may step up"
check "with a Digest challenge" sh -c 'grep -qi "^WWW-Authenticate: Digest" "$1"' _ "$T/headers"
first2() { curl -s --interface 127.0.0.2 "$BASE/service/$1/boot" | jq -r .first; }
check "the refused pxeboot changed nothing" [ "$(first2 vm-running)" = disk ]
check "and wrote no backup" [ "$(ls "$T/backups" 2>/dev/null | wc -l)" = "$nb" ]
req POST /service/vm-running/state_controller/pxeboot --interface 127.0.0.2 --digest -u alice:secret
expect_status 200 "credentials win, from the anonymous network too"
req POST /service/vm-running/state_controller/diskboot --interface 127.0.0.2 --digest -u alice:wrong
expect_error 401 "a wrong password is still 401"
check "and changed nothing" [ "$(first2 vm-running)" = network ]
req GET /service/vm-running/state_controller/status
expect_error 401 "another address without credentials: 401 as before"
stop_daemon

# ---- the default: virsh's words, as before ----
write_conf
start_daemon || exit 1

# The original controller's spellings: /service/machine (its README's list),
# /service/<name>/force_reset without state_controller, force_reboot.
req GET /service/machine
expect_status 200 "/service/machine lists the machines"
check "the same list as /service/machines" sh -c \
    '[ "$(jq -c "[.[].name]" "$1")" = "$(curl -s "$2/service/machines" | jq -c "[.[].name]")" ]' _ "$T/body" "$BASE"
req GET /service/vm-running/force_reset
expect_status 200 "GET /service/<name>/force_reset acts, as the original README says"
expect_jq '"\(.action) \(.result) \(.state)"' "force_reset done running" "it is a force_reset"
req POST /service/vm-running/force_reset
expect_status 200 "POST too"
req GET /service/vm-off/force_reset
expect_error 409 "a reset of a machine that is off is 409 there too"
req GET /service/vm-running/state_controller/force_reboot
expect_jq '"\(.action) \(.result)"' "force_reboot done" "force_reboot is the original code's word"
req GET /service/vm-running/state_controller/status
check "default words: running" [ "$(jq -c . "$T/body")" = '{"state":"running"}' ]
req GET /service/vm-off/state_controller/status
check "default words: shut off" [ "$(jq -c . "$T/body")" = '{"state":"shut off"}' ]

finish

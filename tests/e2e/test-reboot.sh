#!/bin/sh
# test-reboot.sh: reboot escalates to a hard reset when the guest does not
# act on the ACPI request within [power] reboot_timeout (issue 10), and a
# guest that stops first is left alone.  libvirt's test driver reboots a
# guest without any event, exactly like a guest that ignores the button, so
# every reboot here escalates unless something else happens first.
. "$(dirname "$0")/functions.sh"

write_conf "$(printf '[power]\nreboot_timeout = 1\n')"
start_daemon || exit 1

escalations() { grep -c "did not reboot within 1 s of the ACPI request; reset it hard" "$T/daemon.log"; }
# wait_escalations N: until the log counts N (5 s at most).
wait_escalations() {
    local i=0
    while [ $i -lt 50 ]; do
        [ "$(escalations)" -ge "$1" ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

req POST /service/vm-running/state_controller/reboot
expect_jq '"\(.result) \(.state)"' "requested running" "reboot is requested"
check "no reset before the timeout" [ "$(escalations)" = 0 ]
check "the ignored reboot became a hard reset" wait_escalations 1
check "the reset is in the journal with the machine and the action" \
    grep -q "reboot of 'vm-running'" "$T/daemon.log"
check "the machine runs" [ "$(state vm-running)" = running ]

# A paused guest is woken for the request (it could not see the button).
req POST /service/vm-paused/state_controller/reboot
expect_jq '"\(.result) \(.state)"' "requested running" "reboot of a paused guest resumes it"
check "and escalates like any other" wait_escalations 2

# A guest that stops before the deadline did act: no reset.
req POST /service/vm-crashed/state_controller/reboot
expect_status 200 "reboot of the crashed guest"
req POST /service/vm-crashed/state_controller/power_off
expect_jq .state "shut off" "then it is powered off"
# A later reboot of another machine escalates after vm-crashed's deadline
# passed: once it has, vm-crashed's watch has been judged (no sleeping).
req POST /service/vm-running/state_controller/reboot
check "the later reboot escalated" wait_escalations 3
check "vm-crashed was not reset" [ "$(grep -c "reboot of 'vm-crashed'" "$T/daemon.log")" = 0 ]
check "the stopped machine stays off" [ "$(state vm-crashed)" = "shut off" ]

finish

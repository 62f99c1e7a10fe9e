#!/bin/sh
# test-qemu.sh: every power action of API.md section 1 against a real
# libvirtd and QEMU, seen through `virsh domstate` and the QEMU process; and
# changes made outside virtmcd (virsh start, destroy, suspend, resume,
# define, undefine) seen in virtmcd's status within a second (events).
. "$(dirname "$0")/lib.sh"
qemu_init shared

make_guest pwr device || exit 1
P=$GUEST
write_conf "[power]
force_off_timeout = 5"
start_daemon || exit 1

# --- off ---
req GET "/service/$P/state_controller/status"
expect_jq .state "shut off" "a defined guest is 'shut off'"
for a in power_off soft_off force_off; do
    action "$P" $a
    expect_action unchanged "shut off" "$a of a guest that is off"
done
for a in force_reset reboot nmi; do
    action "$P" $a
    expect_error 409 "$a of a guest that is off"
done
check "after the refused actions no QEMU runs" [ -z "$(qemu_pid "$P")" ]
expect_eq "$(domstate "$P")" "shut off" "virsh agrees: shut off"

# --- power_on ---
action "$P" power_on
expect_action done running "power_on of a guest that is off"
pid1=$(qemu_pid "$P")
check "power_on: a QEMU process runs for the guest" pid_alive "$pid1"
expect_eq "$(domstate "$P")" running "power_on: virsh domstate says running"
req GET "/service/$P/state_controller/status"
expect_jq .state running "power_on: status says running"
req GET "/service/machines/$P"
expect_jq '.id != "-" and (.id | test("^[0-9]+$"))' true "power_on: the machine has a numeric id"
action "$P" power_on
expect_action unchanged running "power_on of a running guest"
expect_eq "$(qemu_pid "$P")" "$pid1" "power_on of a running guest keeps the QEMU process"

# --- force_reset: warm reset in the same process ---
action "$P" force_reset
expect_action done running "force_reset of a running guest"
expect_eq "$(qemu_pid "$P")" "$pid1" "force_reset: same QEMU pid (reset, not a restart)"
expect_eq "$(domstate "$P")" running "force_reset: virsh says running"
action "$P" force_reboot
expect_action done running "force_reboot (alias of force_reset)"
expect_eq "$(qemu_pid "$P")" "$pid1" "force_reboot: same QEMU pid"

# --- nmi ---
action "$P" nmi
expect_action done running "nmi of a running guest"
expect_eq "$(qemu_pid "$P")" "$pid1" "nmi: same QEMU pid"

# --- reboot, soft_off, cyclepower: ACPI requests a guest without an OS ignores ---
action "$P" reboot
expect_action requested running "reboot of a running guest"
action "$P" soft_off
expect_action requested running "soft_off of a running guest"
action "$P" cyclepower
expect_action requested running "cyclepower of a running guest (soft off)"
sleep 2
expect_eq "$(domstate "$P")" running "2 s after reboot/soft_off/cyclepower a guest without an OS still runs"
expect_eq "$(qemu_pid "$P")" "$pid1" "... in the same QEMU process"
expect_eq "$(status_of "$P")" running "... and virtmcd says running"

# --- power_cycle: a new QEMU process ---
action "$P" power_cycle
expect_action done running "power_cycle of a running guest"
pid2=$(qemu_pid "$P")
check "power_cycle: a QEMU process runs" pid_alive "$pid2"
check "power_cycle: a new QEMU pid ($pid1 -> $pid2)" [ -n "$pid2" ] && [ "$pid2" != "$pid1" ]
check "power_cycle: the old QEMU process is gone" sh -c '! [ -d /proc/$1 ] || ! grep -q qemu /proc/$1/comm' _ "$pid1"
expect_eq "$(domstate "$P")" running "power_cycle: virsh says running"

# --- force_off: graceful kill, then forced; ends it ---
t0=$(ms)
action "$P" force_off
t1=$(ms)
expect_action done "shut off" "force_off of a running guest"
check "force_off: the QEMU process is gone" sh -c '! [ -d /proc/$1 ]' _ "$pid2"
expect_eq "$(domstate "$P")" "shut off" "force_off: virsh says shut off"
check "force_off took less than its 5 s timeout ($((t1 - t0)) ms: QEMU ends on SIGTERM)" [ $((t1 - t0)) -lt 5000 ]


# --- cyclepower and power_cycle from off start it ---
action "$P" cyclepower
expect_action done running "cyclepower of a guest that is off starts it"
pid3=$(qemu_pid "$P")
check "cyclepower: a QEMU process runs" pid_alive "$pid3"
expect_eq "$(domstate "$P")" running "cyclepower: virsh says running"

# --- power_off: hard off at once ---
action "$P" power_off
expect_action done "shut off" "power_off of a running guest"
check "power_off: the QEMU process is gone" sh -c '! [ -d /proc/$1 ]' _ "$pid3"
expect_eq "$(domstate "$P")" "shut off" "power_off: virsh says shut off"
req GET "/service/machines/$P"
expect_jq .id "-" "power_off: the machine's id is '-'"

action "$P" power_cycle
expect_action done running "power_cycle of a guest that is off starts it"
check "power_cycle from off: a QEMU process runs" pid_alive "$(qemu_pid "$P")"
expect_eq "$(domstate "$P")" running "power_cycle from off: virsh says running"

# Legacy GET on an action URL acts too (the original controller's clients).
req GET "/service/$P/state_controller/power_off"
expect_action done "shut off" "legacy GET power_off"
expect_eq "$(domstate "$P")" "shut off" "legacy GET power_off: virsh says shut off"

# ---- changes made outside virtmcd: events, not polling ----
$VIRSH start "$P" >/dev/null
if wait_status "$P" running 1000; then ok "virsh start: status says running after $WAITED ms"; else not_ok "virsh start: status not running within 1 s (says '$(status_of "$P")')"; fi
$VIRSH suspend "$P" >/dev/null
if wait_status "$P" paused 1000; then ok "virsh suspend: status says paused after $WAITED ms"; else not_ok "virsh suspend: status not paused within 1 s (says '$(status_of "$P")')"; fi
action "$P" power_on
expect_action unchanged paused "power_on of a paused guest (counts as running)"
$VIRSH resume "$P" >/dev/null
if wait_status "$P" running 1000; then ok "virsh resume: status says running after $WAITED ms"; else not_ok "virsh resume: status not running within 1 s (says '$(status_of "$P")')"; fi
$VIRSH destroy "$P" >/dev/null
if wait_status "$P" "shut off" 1000; then ok "virsh destroy: status says shut off after $WAITED ms"; else not_ok "virsh destroy: status not shut off within 1 s (says '$(status_of "$P")')"; fi

# A guest defined and undefined behind virtmcd's back.
make_guest evt none || exit 1
E=$GUEST
start=$(ms)
while :; do
    req GET "/service/$E/state_controller/status"
    [ "$STATUS" = 200 ] && break
    [ $(($(ms) - start)) -ge 1000 ] && break
    sleep 0.05
done
expect_status 200 "virsh define: the new guest is known within 1 s ($(($(ms) - start)) ms)"
expect_jq .state "shut off" "virsh define: the new guest is shut off"
$VIRSH start "$E" >/dev/null
if wait_status "$E" running 1000; then ok "virsh start of the new guest: running after $WAITED ms"; else not_ok "virsh start of the new guest: not running within 1 s"; fi
$VIRSH destroy "$E" >/dev/null
$VIRSH undefine "$E" >/dev/null
start=$(ms)
while :; do
    req GET "/service/$E/state_controller/status"
    [ "$STATUS" = 404 ] && break
    [ $(($(ms) - start)) -ge 1000 ] && break
    sleep 0.05
done
expect_error 404 "virsh undefine: the guest is gone within 1 s ($(($(ms) - start)) ms)"

# A transient guest (virsh create) is listed, and runs.
guest_xml "$PREFIX-trans" none > "$T/trans.xml"
qemu-img create -q -f raw "$IMAGES/$PREFIX-trans.img" 1M
GUESTS="$GUESTS $PREFIX-trans"
$VIRSH create "$T/trans.xml" >/dev/null
if wait_status "$PREFIX-trans" running 1000; then ok "virsh create (transient): running after $WAITED ms"; else not_ok "virsh create (transient): not running within 1 s"; fi
req GET "/service/machines/$PREFIX-trans"
expect_jq .persistent false "a transient guest says persistent false"
tpid=$(qemu_pid "$PREFIX-trans")
action "$PREFIX-trans" power_cycle
expect_action done running "power_cycle of a running transient guest restarts it"
check "power_cycle of a transient guest: a new QEMU process" sh -c '[ -n "$1" ] && [ "$1" != "$2" ]' _ "$(qemu_pid "$PREFIX-trans")" "$tpid"
if [ -z "$(qemu_pid "$PREFIX-trans")" ]; then
    # The failed cycle left it gone: make it again for the next check.
    $VIRSH create "$T/trans.xml" >/dev/null
    wait_status "$PREFIX-trans" running 1000
fi
action "$PREFIX-trans" power_off
expect_action done "shut off" "power_off of a transient guest"
req GET "/service/$PREFIX-trans/state_controller/status"
expect_error 404 "a transient guest that was powered off no longer exists"

check "virtmcd is still running" kill -0 "$DAEMON_PID"
expect_clean_exit
finish

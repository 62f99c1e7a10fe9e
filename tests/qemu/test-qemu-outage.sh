#!/bin/sh
# test-qemu-outage.sh: libvirtd dies (SIGKILL) while clients poll status.
# Requests then answer 503 with Retry-After, each in well under a second;
# /service/health says 503 and the host "down", the map keeps the host's
# last known guests; nothing crashes and the guest keeps running.  libvirtd
# started again: virtmcd reconnects by itself within seconds, and events
# work again.  libvirtd is always left running.
#
# Runs alone: it takes the tier's lock exclusively.
. "$(dirname "$0")/lib.sh"
qemu_init exclusive

libvirtd_find || { echo "# SKIP: qemu:///system answers, but no libvirtd or virtqemud process is here to stop"; exit 77; }
echo "# $LVD_NAME pid $LVD_PID, run as $LVD_HOW"

make_guest out device || exit 1
O=$GUEST
write_conf
start_daemon || exit 1
action "$O" power_on
expect_action done running "the guest runs before the outage"
qpid=$(qemu_pid "$O")

# timed METHOD PATH: one request; sets STATUS and SECS (curl's total time).
timed() {
    local out
    rm -f "$T/body" "$T/headers"
    out=$(curl -s -g --max-time 2 -X "$1" -o "$T/body" -D "$T/headers" \
        -w '%{http_code} %{time_total}' "$BASE$2")
    STATUS=${out% *}
    SECS=${out#* }
}

# under_1s: the last request took less than a second.
under_1s() { awk -v s="$SECS" 'BEGIN { exit !(s < 1.0) }'; }

# expect_503 DESC: 503, a JSON error, a Retry-After of whole seconds >= 1, under 1 s.
expect_503() {
    local ra
    ra=$(header Retry-After)
    if [ "$STATUS" = 503 ] && jq -e '.error | type == "string"' "$T/body" >/dev/null 2>&1 &&
        echo "$ra" | grep -Eq '^[1-9][0-9]*$' && under_1s; then
        ok "$1 (503, Retry-After $ra, ${SECS}s)"
    else
        not_ok "$1: expected 503 + JSON error + Retry-After in < 1 s; got $STATUS, Retry-After '$ra', ${SECS}s"
    fi
}

# Load: two clients polling status and health until told to stop.
load() {
    while [ -d "$T" ] && [ ! -f "$T/stop" ]; do
        curl -s -g --max-time 2 -o /dev/null -w '%{http_code} %{time_total}\n' "$BASE$2"
    done > "$T/load.$1"
}
load status "/service/$O/state_controller/status" &
lp1=$!
load health /service/health &
lp2=$!
BG_PIDS="$lp1 $lp2"
sleep 0.5

libvirtd_stop
t_kill=$(ms)
echo "# $LVD_NAME stopped"
# The dead connection is noticed at once (the socket closes).
detected=
while [ $(($(ms) - t_kill)) -lt 5000 ]; do
    if [ "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "$BASE/service/health")" = 503 ]; then
        detected=$(($(ms) - t_kill))
        break
    fi
    sleep 0.05
done
check "health turns 503 within 1 s of libvirtd's death (${detected:-never} ms)" [ -n "$detected" ] && [ "$detected" -lt 1000 ]

timed GET /service/health
ra=$(header Retry-After)
check "outage: GET /service/health is 503 with Retry-After '$ra' in ${SECS}s" \
    sh -c '[ "$1" = 503 ] && echo "$2" | grep -Eq "^[1-9][0-9]*$" && awk -v s="$3" "BEGIN { exit !(s < 1.0) }"' _ "$STATUS" "$ra" "$SECS"
expect_jq '[.hosts[]] | join(",")' down "outage: health names the host 'down'"
timed GET "/service/$O/state_controller/status"
expect_503 "outage: status of a known guest"
timed GET "/service/machines/$O"
expect_503 "outage: one machine"
timed GET /service/machines
expect_503 "outage: the machine list"
timed POST "/service/$O/state_controller/power_off"
expect_503 "outage: power_off"
timed POST "/service/$O/state_controller/pxeboot"
expect_503 "outage: pxeboot"
timed GET "/service/$O/boot"
expect_503 "outage: GET /boot"
timed GET "/service/$PREFIX-nosuch/state_controller/status"
expect_503 "outage: status of an unknown guest (the host that may have it is down)"
timed GET /service/version
check "outage: /service/version still answers 200 (${SECS}s)" [ "$STATUS" = 200 ]
# The map answers from memory: the host down, with its last known guests.
timed GET /service/map
check "outage: /service/map answers 200 (${SECS}s)" [ "$STATUS" = 200 ]
expect_jq '[.hosts[].state] | join(",")' down "outage: the map says the host is down"
expect_jq "[.hosts[].guests | index(\"$O\") != null] | join(\",\")" true \
    "outage: ... and keeps its last known guests"
expect_jq ".guests[\"$O\"].state" running "outage: ... in their last known state"
check "outage: virtmcd is alive" kill -0 "$DAEMON_PID"
check "outage: the guest's QEMU still runs" pid_alive "$qpid"

# Keep it down a little longer under load, then bring it back.
sleep 1.5
t_start=$(ms)
if libvirtd_start; then
    ok "$LVD_NAME started again ($(($(ms) - t_start)) ms)"
else
    not_ok "$LVD_NAME did not start again"
fi
t_up=$(ms)
back=
while [ $(($(ms) - t_up)) -lt 15000 ]; do
    if [ "$(curl -s --max-time 2 "$BASE/service/health" | jq -r '[.hosts[]] | join(",")' 2>/dev/null)" = up ]; then
        back=$(($(ms) - t_up))
        break
    fi
    sleep 0.05
done
check "virtmcd reconnects by itself within 12 s of libvirtd's return (${back:-never} ms)" [ -n "$back" ] && [ "$back" -lt 12000 ]
touch "$T/stop"
wait "$lp1" "$lp2"

# What the load saw: only 200 and 503, every answer under a second.
for f in status health; do
    n=$(wc -l < "$T/load.$f")
    n503=$(grep -c '^503 ' "$T/load.$f")
    bad=$(awk '$1 != 200 && $1 != 503' "$T/load.$f" | wc -l)
    slow=$(awk '$2 >= 1.0' "$T/load.$f" | wc -l)
    max=$(awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$T/load.$f")
    check "load ($f): $n requests, $n503 answered 503, none failed or other than 200/503 ($bad)" [ "$n503" -gt 0 ] && [ "$bad" = 0 ]
    check "load ($f): every answer under 1 s (slowest ${max}s)" [ "$slow" = 0 ]
    check "load ($f): 200 again after the reconnection" [ "$(tail -n1 "$T/load.$f" | cut -d' ' -f1)" = 200 ]
done

check "virtmcd survived the outage" kill -0 "$DAEMON_PID"
req GET /service/health
expect_status 200 "health after the reconnection"
req GET "/service/$O/state_controller/status"
expect_jq .state running "the guest is still running after libvirtd's return"
expect_eq "$(qemu_pid "$O")" "$qpid" "... in the same QEMU process"
expect_eq "$(domstate "$O")" running "... and virsh agrees"

# Events work on the new connection.
$VIRSH destroy "$O" >/dev/null
if wait_status "$O" "shut off" 1000; then ok "after the reconnection: virsh destroy seen in $WAITED ms"; else not_ok "after the reconnection: virsh destroy not seen within 1 s"; fi
$VIRSH start "$O" >/dev/null
if wait_status "$O" running 1000; then ok "after the reconnection: virsh start seen in $WAITED ms"; else not_ok "after the reconnection: virsh start not seen within 1 s"; fi
qpid=$(qemu_pid "$O")
action "$O" power_cycle
expect_action done running "after the reconnection: power_cycle works"
check "after the reconnection: power_cycle gave a new QEMU process" [ "$(qemu_pid "$O")" != "$qpid" ]
check "the daemon log says the connection was lost and made again" \
    sh -c 'grep -q "Lost the connection" "$1" && [ "$(grep -c "Connected to host" "$1")" -ge 2 ]' _ "$T/daemon.log"

expect_clean_exit
finish

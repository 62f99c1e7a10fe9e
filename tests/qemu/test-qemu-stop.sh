#!/bin/sh
# test-qemu-stop.sh: SIGTERM while libvirtd is frozen (SIGSTOP) under a storm
# of requests that need libvirt.  With two workers and six clients, two
# requests are stuck in libvirt and four wait for a worker when the stop
# begins.  virtmcd must exit 0 within the bound (10 s by design; the
# assertion allows 30 s), answer every client it holds with a complete 503
# (queued ones at once, stuck ones once the 5 s for requests in flight are
# over), name what was stuck, and, under the sanitizers, report nothing.
# libvirtd is always thawed (SIGCONT), in a trap too.
#
# Runs alone: it takes the tier's lock exclusively.
. "$(dirname "$0")/lib.sh"
qemu_init exclusive

libvirtd_find || { echo "# SKIP: qemu:///system answers, but no libvirtd or virtqemud process is here to freeze"; exit 77; }
echo "# $LVD_NAME pid $LVD_PID, run as $LVD_HOW"
FROZEN=false
thaw() {
    if $FROZEN; then
        kill -CONT "$LVD_PID" 2>/dev/null
        FROZEN=false
    fi
}
# Thaw before qemu_cleanup: its virsh calls would hang on a frozen libvirtd.
trap 'thaw; qemu_cleanup' EXIT

make_guest stop device || exit 1
G=$GUEST
write_conf "[server]
workers = 2"
start_daemon || exit 1
req GET "/service/machines/$G"
expect_status 200 "machine detail before the freeze"
req GET "/service/$G/boot"
expect_status 200 "boot order before the freeze"

# load N PATH: one client, one request at a time, until $T/stop exists.
# A line per request: HTTP status and curl's exit status; a 503's body is
# appended to $T/503.N.
load() {
    local code rc
    while [ -d "$T" ] && [ ! -f "$T/stop" ]; do
        code=$(curl -s -g --max-time 60 -o "$T/lb.$1" -w '%{http_code}' "$BASE$2")
        rc=$?
        echo "$code $rc"
        [ "$code" = 503 ] && { cat "$T/lb.$1"; echo; } >> "$T/503.$1"
    done > "$T/load.$1"
}
lines() { wc -l < "$T/load.$1" 2>/dev/null || echo 0; }
for i in 1 2 3 4 5 6; do
    case $i in
    1 | 3 | 5) load "$i" "/service/machines/$G" & ;;
    *) load "$i" "/service/$G/boot" & ;;
    esac
    BG_PIDS="$BG_PIDS $!"
done
loaded() { for i in 1 2 3 4 5 6; do [ "$(lines "$i")" -ge 3 ] || return 1; done; }
check "six clients are served before the freeze" wait_for 30 loaded

kill -STOP "$LVD_PID"
FROZEN=true
echo "# $LVD_NAME frozen"
# Each client now has one request in the daemon: two on workers, in
# libvirt, four queued.  Half a second lets the last ones arrive; libvirt's
# keepalive (2 s x 3) would only give up on the connection after 8 s.
sleep 0.5
for i in 1 2 3 4 5 6; do eval "before_$i=$(lines "$i")"; done

pid=$DAEMON_PID
t0=$(ms)
kill -TERM "$pid"
wait_for 30 sh -c '! kill -0 "$1" 2>/dev/null' _ "$pid"
t1=$(ms)
if kill -0 "$pid" 2>/dev/null; then
    not_ok "virtmcd still runs 30 s after SIGTERM"
    kill -KILL "$pid"
fi
wait "$pid"; rc=$?
DAEMON_PID=
check "SIGTERM with libvirtd frozen: exited in $((t1 - t0)) ms, within 30 s" [ $((t1 - t0)) -lt 30000 ]
check "SIGTERM with libvirtd frozen: exit status 0 (got $rc)" [ "$rc" = 0 ]
thaw
check "$LVD_NAME answers again after SIGCONT" sh -c 'timeout 20 virsh -q -c "$1" uri >/dev/null' _ "$NODE"
touch "$T/stop"
for p in $BG_PIDS; do wait "$p" 2>/dev/null; done
BG_PIDS=

# The request each client had in the daemon at SIGTERM: the first line after
# the freeze.  Its answer is a whole 503 (curl exit 0); what follows is refused.
for i in 1 2 3 4 5 6; do
    eval "b=\$before_$i"
    got=$(sed -n "$((b + 1))p" "$T/load.$i")
    check "client $i: the request held at SIGTERM got a complete 503 ('$got')" [ "$got" = "503 0" ]
done
check "the queued requests were answered 'shutting down'" \
    sh -c '[ "$(cat "$1"/503.* 2>/dev/null | grep -cxF "{\"error\": \"shutting down\"}")" -ge 4 ]' _ "$T"
check "no request was cut off (curl exit 0 for every answer, 7 once refused)" \
    sh -c '! cat "$1"/load.* | grep -vqx "200 0\|503 0\|000 7"' _ "$T"
check "the log names the requests stuck in libvirt" grep -q "has run for .*stuck in a libvirt call" "$T/daemon.log"
check "the log says it exits with stuck threads" grep -q "threads stuck in libvirt calls" "$T/daemon.log"
check "no sanitizer report" \
    sh -c '! grep -Eq "ERROR: AddressSanitizer|LeakSanitizer|runtime error" "$1"' _ "$T/daemon.log"
check "no libmicrohttpd panic" sh -c '! grep -q "MHD_stop_daemon\|PANIC" "$1"' _ "$T/daemon.log"
finish

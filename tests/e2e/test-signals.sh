#!/bin/sh
# test-signals.sh: SIGHUP reload (good and bad files), SIGTERM with a clean
# exit, sd_notify messages on a NOTIFY_SOCKET of our own (READY, STATUS,
# RELOADING, STOPPING, WATCHDOG), and socket activation.
. "$(dirname "$0")/functions.sh"

NL="${abs_builddir:-$abs_srcdir}/tests/e2e/notify-listen"
[ -x "$NL" ] || { echo "# notify-listen not built"; exit 1; }
"$NL" "$T/notify.sock" "$T/notify.log" 60 &
nl_pid=$!
for _ in $(seq 1 50); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done

write_conf
export NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=400000
start_daemon || exit 1
unset NOTIFY_SOCKET WATCHDOG_USEC
sleep 0.6
check "READY=1 sent once listening" grep -qx "READY=1" "$T/notify.log"
check "STATUS= line sent" grep -q "^STATUS=.*hosts up" "$T/notify.log"
check "WATCHDOG=1 sent when WATCHDOG_USEC is set" grep -qx "WATCHDOG=1" "$T/notify.log"

# Legacy GET acts by default.
req GET /service/vm-off/state_controller/power_on
expect_status 200 "legacy GET performs the action before reload"
req GET /service/vm-off/state_controller/power_off
expect_status 200 "legacy GET power_off"

# Reload with legacy actions off.
write_conf "[server]
legacy_get_actions = false"
kill -HUP "$DAEMON_PID"
sleep 0.5
req GET /service/vm-off/state_controller/power_on
expect_status 405 "after SIGHUP legacy GET is refused"
check "RELOADING=1 sent on SIGHUP" grep -q "^RELOADING=1" "$T/notify.log"
check "READY=1 sent again after reload" sh -c '[ "$(grep -cx READY=1 "$1")" -ge 2 ]' _ "$T/notify.log"
check "the reload is logged" grep -q "reloaded" "$T/daemon.log"

# A bad file on reload keeps the running configuration.
printf '[server]\nlegacy_get_actions = maybe\n' > "$T/virtmcd.conf"
kill -HUP "$DAEMON_PID"
sleep 0.5
req GET /service/vm-off/state_controller/power_on
expect_status 405 "a bad file on SIGHUP keeps the running configuration"
check "the refused reload names file and line" grep -q "virtmcd.conf:2:" "$T/daemon.log"
check "still alive after a bad reload" kill -0 "$DAEMON_PID"

# SIGTERM: finish, say STOPPING=1, exit 0.
pid=$DAEMON_PID
kill -TERM "$pid"
wait "$pid"; rc=$?
DAEMON_PID=
check "SIGTERM: exit status 0" [ "$rc" = 0 ]
sleep 0.2
check "STOPPING=1 sent on SIGTERM" grep -qx "STOPPING=1" "$T/notify.log"
kill "$nl_pid" 2>/dev/null

# SIGINT stops too.
write_conf
start_daemon || exit 1
pid=$DAEMON_PID
kill -INT "$pid"
wait "$pid"; rc=$?
DAEMON_PID=
check "SIGINT: exit status 0" [ "$rc" = 0 ]

# A request in flight finishes before the exit.
write_conf "[power]
force_off_timeout = 1"
start_daemon || exit 1
curl -s -o "$T/inflight" -w '%{http_code}' -X POST "$BASE/service/vm-running/state_controller/force_off" > "$T/inflight.code" &
cpid=$!
sleep 0.2
kill -TERM "$DAEMON_PID"
wait "$cpid"
wait "$DAEMON_PID"; rc=$?
DAEMON_PID=
check "an action in flight at SIGTERM is answered" [ "$(cat "$T/inflight.code")" = 200 ]
check "and the daemon then exits 0" [ "$rc" = 0 ]

# Socket activation: serve the inherited socket instead of binding listen.
if command -v systemd-socket-activate >/dev/null 2>&1; then
    PORT=$(free_port)
    write_conf
    systemd-socket-activate -l "127.0.0.1:$PORT" "$VIRTMCD" -c "$T/virtmcd.conf" \
        --listen 127.0.0.1:1 --uri "$NODE" > "$T/sa.log" 2>&1 &
    sa_pid=$!
    sleep 0.3
    out=$(curl -s --max-time 5 "http://127.0.0.1:$PORT/service/vm-off/state_controller/status")
    check "socket activation: served on the inherited socket" [ "$out" = '{"state":"shut off"}' ]
    check "socket activation: the daemon says so" grep -q "socket from systemd" "$T/sa.log"
    kill -TERM "$sa_pid" 2>/dev/null; wait "$sa_pid" 2>/dev/null
else
    echo "# systemd-socket-activate not installed: socket activation not tested"
fi
finish

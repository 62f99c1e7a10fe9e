#!/bin/sh
# test-signals.sh: SIGHUP reload (good and bad files), SIGTERM with a clean
# exit, sd_notify messages on a NOTIFY_SOCKET of our own (READY, STATUS,
# RELOADING, STOPPING, WATCHDOG), and socket activation.
. "$(dirname "$0")/functions.sh"

# start_daemon runs the NOTIFY_SOCKET listener (notify-listen) and waits
# for READY=1 itself; its log is $NOTIFY_LOG.
write_conf
export WATCHDOG_USEC=400000
start_daemon || exit 1
unset WATCHDOG_USEC
check "READY=1 sent once listening" grep -qx "READY=1" "$NOTIFY_LOG"
check "READY=1 names the bound address (X_VIRTMCD_LISTEN=127.0.0.1:$PORT)" \
    sh -c '[ "$2" != 0 ] && grep -qx "X_VIRTMCD_LISTEN=127.0.0.1:$2" "$1"' _ "$NOTIFY_LOG" "$PORT"
check "the start-up log names the bound port, not :0" grep -q "listening on 127.0.0.1:$PORT" "$T/daemon.log"
check "the daemon serves on the reported port" \
    sh -c '[ "$(curl -s -o /dev/null -w "%{http_code}" "$1/service/health")" = 200 ]' _ "$BASE"
check "STATUS= line sent" wait_notify "STATUS=.*hosts up.*"
check "WATCHDOG=1 sent when WATCHDOG_USEC is set" wait_notify "WATCHDOG=1"

# Legacy GET acts by default.
req GET /service/vm-off/state_controller/power_on
expect_status 200 "legacy GET performs the action before reload"
req GET /service/vm-off/state_controller/power_off
expect_status 200 "legacy GET power_off"

# Reload with legacy actions off.
write_conf "[server]
legacy_get_actions = false"
check "SIGHUP: RELOADING=1, then READY=1 again" reload_daemon
req GET /service/vm-off/state_controller/power_on
expect_status 405 "after SIGHUP legacy GET is refused"
check "RELOADING=1 carries MONOTONIC_USEC" grep -q "^MONOTONIC_USEC=[0-9]" "$NOTIFY_LOG"
check "the reload is logged" grep -q "reloaded" "$T/daemon.log"

# A bad file on reload keeps the running configuration.
printf '[server]\nlegacy_get_actions = maybe\n' > "$T/virtmcd.conf"
check "a refused reload still ends with READY=1" reload_daemon
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
check "STOPPING=1 sent on SIGTERM" wait_notify "STOPPING=1" 5

# SIGINT stops too.
write_conf
start_daemon || exit 1
pid=$DAEMON_PID
kill -INT "$pid"
wait "$pid"; rc=$?
DAEMON_PID=
check "SIGINT: exit status 0" [ "$rc" = 0 ]

# A request in flight at SIGTERM is answered before the exit.  The client
# sends its headers with "Expect: 100-continue": the "100 Continue" proves
# the daemon holds the request (no sleep, no guess), then the body goes out
# when the test says so ($T/go).  It prints the status line, Retry-After, the
# body, and "complete" when the whole Content-Length arrived.
cat > "$T/inflight.py" <<'EOF'
import os, socket, sys, time
port, path, go = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), timeout=30)
s.sendall(("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           "Content-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n" % path).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    d = s.recv(4096)
    if not d:
        print("closed before 100 Continue")
        sys.exit(1)
    buf += d
if not buf.startswith(b"HTTP/1.1 100"):
    print("no 100 Continue: %r" % buf[:80])
    sys.exit(1)
buf = buf.split(b"\r\n\r\n", 1)[1]
open(go + ".held", "w").close()
while not os.path.exists(go):
    time.sleep(0.02)
s.sendall(b"{}")
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        buf += d
except OSError as e:
    print("error %s after %d bytes" % (type(e).__name__, len(buf)))
    sys.exit(1)
head, _, body = buf.partition(b"\r\n\r\n")
lines = head.decode("latin-1").split("\r\n")
hdr = dict((k.strip().lower(), v.strip()) for k, _, v in (l.partition(":") for l in lines[1:]))
complete = "content-length" in hdr and int(hdr["content-length"]) == len(body)
print(lines[0])
print("retry-after=%s" % hdr.get("retry-after", ""))
print(body.decode("latin-1"))
print("complete" if complete else "incomplete")
EOF

# inflight MODE: SIGTERM while the daemon holds the request's headers.
# "before": the body goes out right after SIGTERM, so the action may still
# run (200) or meet the stop (503); "after": the body goes out once the
# daemon logged that it takes no more work: 503.  Sets rc (the exit status).
inflight() {
    rm -f "$T/go" "$T/go.held"
    /usr/bin/python3 "$T/inflight.py" "$PORT" /service/vm-running/state_controller/force_off \
        "$T/go" > "$T/inflight.out" 2>&1 &
    cpid=$!
    wait_for 10 test -f "$T/go.held" ||
        not_ok "the in-flight client got no 100 Continue: $(cat "$T/inflight.out")"
    kill -TERM "$DAEMON_PID"
    [ "$1" = after ] && wait_for 10 grep -q "Stopping: not accepting" "$T/daemon.log"
    touch "$T/go"
    wait "$cpid"
    wait "$DAEMON_PID"; rc=$?
    DAEMON_PID=
}

write_conf "[power]
force_off_timeout = 1"
start_daemon || exit 1
inflight before
check "an action in flight at SIGTERM is answered completely (200, or 503 if it met the stop)" \
    sh -c 'grep -Eq "^HTTP/1.1 (200|503) " "$1" && grep -qx complete "$1"' _ "$T/inflight.out"
check "and the daemon then exits 0" [ "$rc" = 0 ]

start_daemon || exit 1
inflight after
check "a request whose body arrives once stopping is answered 503 'shutting down'" \
    sh -c 'grep -q "^HTTP/1.1 503 " "$1" && grep -qxF "{\"error\": \"shutting down\"}" "$1" && grep -qx complete "$1"' _ "$T/inflight.out"
check "... with Retry-After" grep -Eqx "retry-after=[1-9][0-9]*" "$T/inflight.out"
check "... and the daemon then exits 0" [ "$rc" = 0 ]
[ "$FAILED" = 0 ] || sed 's/^/#   /' "$T/inflight.out"

# Socket activation: serve the inherited socket instead of binding listen.
# A Unix socket of our own: no port to pick, and READY=1 says when.
if command -v systemd-socket-activate >/dev/null 2>&1; then
    write_conf
    notify_start || exit 1
    systemd-socket-activate -l "$T/sa.sock" -E NOTIFY_SOCKET="$NOTIFY_SOCK" "$VIRTMCD" \
        -c "$T/virtmcd.conf" --listen 127.0.0.1:1 --uri "$NODE" > "$T/sa.log" 2>&1 &
    sa_pid=$!
    # systemd-socket-activate binds first; the first connection then starts
    # the daemon and waits in the backlog meanwhile.
    wait_for 10 test -S "$T/sa.sock"
    out=$(curl -s --max-time 30 --unix-socket "$T/sa.sock" http://localhost/service/vm-off/state_controller/status)
    check "socket activation: READY=1" wait_notify "READY=1" 30
    check "socket activation: served on the inherited socket" [ "$out" = '{"state":"shut off"}' ]
    check "socket activation: the daemon says so" grep -q "socket from systemd" "$T/sa.log"
    check "socket activation: X_VIRTMCD_LISTEN names the inherited socket" \
        grep -qx "X_VIRTMCD_LISTEN=unix:$T/sa.sock" "$NOTIFY_LOG"
    [ "$out" = '{"state":"shut off"}' ] || sed 's/^/#   /' "$T/sa.log"
    kill -TERM "$sa_pid" 2>/dev/null; wait "$sa_pid" 2>/dev/null
else
    echo "# systemd-socket-activate not installed: socket activation not tested"
fi
finish

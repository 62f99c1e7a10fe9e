#!/bin/sh
# test-hostile.sh: hostile input against a running daemon (API.md section 0,
# DAEMON.md [server] limits): path traversal in machine names and backup ids,
# oversized bodies, URLs and header sets, malformed JSON, wrong content
# types, slow clients that hold connections, and a thousand connections at
# once; and from issue 9: conflicting framing headers, slowloris clients
# that trickle headers or a body, and a unix: listener's path and mode.  After every group the daemon must answer /service/health with 200
# and no definition may have changed (the boot order of vm-off and the
# machine list equal what they were at start).
. "$(dirname "$0")/functions.sh"

command -v jq >/dev/null 2>&1 || { echo "# jq not installed: skipped"; exit 77; }
PY=/usr/bin/python3

write_conf "[server]
request_timeout = 2
max_connections = 200"
start_daemon || exit 1

# Files outside the backup folder that no answer may ever show.
echo '<domain><name>CANARY-OUTSIDE</name></domain>' > "$T/canary.xml"
echo '<domain><name>CANARY-OUTSIDE</name></domain>' > "$T/backups/canary.xml"
mkdir -p "$T/backups/vm-off"
echo '<domain><name>CANARY-OUTSIDE</name></domain>' > "$T/backups/vm-off/canary.xml"
echo '<domain><name>CANARY-OUTSIDE</name></domain>' > "$T/backups/vm-off/vm-off-canary.xml"

curl -s "$BASE/service/vm-off/boot" > "$T/boot.start"
curl -s "$BASE/service/machines" > "$T/list.start"
check "captured vm-off's boot order at start" sh -c 'jq -e .first "$1" >/dev/null' _ "$T/boot.start"
check "captured the machine list at start" sh -c 'jq -e "length == 8" "$1" >/dev/null' _ "$T/list.start"

# intact WHAT: the daemon is alive, healthy, and nothing changed.
intact() {
    check "after $1: the daemon is alive" kill -0 "$DAEMON_PID"
    code=000
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$BASE/service/health")
        [ "$code" = 200 ] && break
        sleep 0.5
    done
    check "after $1: /service/health answers 200" [ "$code" = 200 ]
    curl -s --max-time 5 "$BASE/service/vm-off/boot" > "$T/boot.now"
    curl -s --max-time 5 "$BASE/service/machines" > "$T/list.now"
    check "after $1: vm-off's boot order is unchanged" cmp -s "$T/boot.start" "$T/boot.now"
    check "after $1: the machine list is unchanged" cmp -s "$T/list.start" "$T/list.now"
}

# bad_path METHOD PATH: 400 or 404 with a JSON error, and no outside file shown.
bad_path() {
    req "$1" "$2"
    if { [ "$STATUS" = 400 ] || [ "$STATUS" = 404 ]; } &&
        jq -e '.error | type == "string"' "$T/body" >/dev/null 2>&1 &&
        ! grep -q 'CANARY-OUTSIDE\|root:.*:0:0:' "$T/body"; then
        ok "$1 $2 ($STATUS, JSON error)"
    else
        not_ok "$1 $2: expected 400 or 404 with a JSON error, got $STATUS"
    fi
}

# ---------------------------------------------------------------------------
# Path traversal and hostile machine names.
# ---------------------------------------------------------------------------
LONG=$(printf 'a%.0s' $(seq 1 300))
for p in \
    /service/.. \
    /service/../etc/passwd \
    /service/machines/.. \
    /service/machines/../machines \
    /service/%2e%2e \
    /service/%2E%2E \
    /service/%2e%2e/boot \
    /service/%2e%2e/backups \
    /service/machines/%2e%2e/state_controller/status \
    /service/%2e \
    /service/%2e%2e%2f%2e%2e%2fetc%2fpasswd \
    /service/..%2f..%2fetc%2fpasswd/backups \
    /service/vm-off%2f..%2fvm-running \
    /service/a%2fb \
    /service/%2f \
    /service/%2fetc%2fpasswd/backups \
    /service/vm-off%00 \
    /service/vm-off%00/boot \
    /service/%00 \
    /service/a%01b \
    /service/a%0ab \
    /service/a%0d%0aX-Injected:%201 \
    /service/a%1bb \
    /service/a%7fb \
    /service/a%09b \
    /service/%zz \
    /service/a%2 \
    /service/a%g0 \
    "/service/$LONG" \
    "/service/$LONG/state_controller/status" \
    "/service/machines/$LONG/backups" \
    /service/vm-off/backups/.. \
    /service/vm-off/backups/%2e%2e \
    /service/vm-off/backups/..%2f..%2fetc%2fpasswd \
    /service/vm-off/backups/%2e%2e%2f%2e%2e%2fetc%2fpasswd \
    /service/vm-off/backups/..%2f..%2fcanary \
    /service/vm-off/backups/..%2fcanary \
    /service/vm-off/backups/canary \
    /service/vm-off/backups/..%2f..%2fcanary.xml \
    /service/vm-off/backups/%2e%2e%2fcanary.xml \
    /service/vm-off/backups/..%2f..%2f..%2fcanary \
    /service/vm-off/backups/%2fetc%2fpasswd \
    /service/vm-off/backups/20261122T013015.123456Z%00 \
    /service/vm-off/backups/20261122T013015.123456Z%2f.. \
    /service/vm-off/backups/20261122T013015.123456Z.. \
    /service/vm-off/backups/20261122T013015.123456 \
    /service/vm-off/backups/20261122T013015.123456Z \
    /service/vm-off/backups/%00 \
    "/service/vm-off/backups/$LONG" \
    /service/machines/vm-off/backups/..%2f..%2f..%2f..%2fetc%2fpasswd; do
    bad_path GET "$p"
done
# `../../x` as a literal backup id (curl --path-as-is keeps the dots).
bad_path GET /service/vm-off/backups/../../x
bad_path GET /service/vm-off/backups/../../canary
for p in \
    /service/vm-off/backups/..%2f..%2fx/restore \
    /service/vm-off/backups/..%2f..%2fcanary/restore \
    /service/vm-off/backups/%2e%2e%2fcanary/restore \
    /service/vm-off/backups/../../x/restore \
    /service/vm-off/backups/canary/restore \
    /service/vm-off/backups/vm-off-canary/restore \
    /service/vm-off/backups/20261122T013015.123456Z%00/restore \
    /service/vm-off/backups/%2e%2e/restore \
    /service/%2e%2e/backups/20261122T013015.123456Z/restore \
    /service/%2e%2e/state_controller/power_on \
    /service/vm-off%00/state_controller/power_on \
    /service/vm-off%2f..%2fvm-running/state_controller/power_off; do
    bad_path POST "$p"
done
# Bytes that are not UTF-8 must not make an error body invalid JSON (API.md
# section 0: JSON bodies are UTF-8).
utf8_json() {
    $PY -c 'import json, sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' "$1" 2>/dev/null
}
for spec in "GET /service/%ff" "GET /service/a%c3%28b/boot" "GET /service/%ed%a0%80" \
    "GET /service/vm-off/backups/%ff%fe" "POST /service/vm-off/backups/%c0%af/restore" \
    "GET /service/machines?bogus%ff=1" "GET /service/machines?state=%ff" \
    "POST /service/vm-off/state_controller/%ff"; do
    req ${spec%% *} "${spec#* }"
    if { [ "$STATUS" = 400 ] || [ "$STATUS" = 404 ]; } && utf8_json "$T/body"; then
        ok "$spec: $STATUS with a valid UTF-8 JSON body"
    else
        not_ok "$spec: expected 400 or 404 with a valid UTF-8 JSON body, got $STATUS: $(od -An -c "$T/body" | tr -d '\n' | tr -s ' ' | head -c 160)"
    fi
done
req GET /service/a%0d%0aX-Injected:%201
check "a CR LF in a name does not reach the response headers" sh -c '! grep -qi "^X-Injected" "$1"' _ "$T/headers"
check "no backup file was made by any of that" sh -c '[ -z "$(find "$1/backups" -name "*.xml" ! -name "*canary*")" ]' _ "$T"
intact "path traversal"

# ---------------------------------------------------------------------------
# Oversized requests.
# ---------------------------------------------------------------------------
head -c 1048576 /dev/zero | tr '\0' ' ' > "$T/big.json"
printf '{"first": "network"}' >> "$T/big.json"
req PUT /service/vm-off/boot -H 'Content-Type: application/json' --data-binary @"$T/big.json"
expect_error 413 "a 1 MiB body with Content-Length"
req PUT /service/vm-off/boot -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @"$T/big.json"
expect_error 413 "a 1 MiB chunked body"
req POST /service/vm-off/state_controller/power_on -H 'Content-Type: application/json' --data-binary @"$T/big.json"
expect_error 413 "a 1 MiB body on an action"
req PUT /service/vm-off/boot -H 'Content-Type: application/json' -H 'Content-Length: 99999999999999999999' -d '{}'
check "an absurd Content-Length is refused (got $STATUS)" sh -c 'case $1 in 400|413|000) exit 0;; esac; exit 1' _ "$STATUS"
intact "large bodies"

URL100K="/service/$(head -c 102400 /dev/zero | tr '\0' 'a')"
req GET "$URL100K"
check "a 100 kB URL is refused (414, 400, 431 or closed; got $STATUS)" \
    sh -c 'case $1 in 414|400|431|000) exit 0;; esac; exit 1' _ "$STATUS"
req GET "/service/health?x=$(head -c 102400 /dev/zero | tr '\0' 'b')"
check "a 100 kB query string is refused (got $STATUS)" \
    sh -c 'case $1 in 414|400|431|000) exit 0;; esac; exit 1' _ "$STATUS"
intact "a 100 kB URL"

# Hundreds of headers.
: > "$T/hdrs"
for i in $(seq 1 500); do echo "X-Hostile-$i: value-$i" >> "$T/hdrs"; done
req GET /service/health -H @"$T/hdrs"
check "500 headers: answered or refused cleanly (got $STATUS)" \
    sh -c 'case $1 in 200|400|413|431|000) exit 0;; esac; exit 1' _ "$STATUS"
: > "$T/hdrs"
for i in $(seq 1 100); do echo "X-H-$i: short" >> "$T/hdrs"; done
req GET /service/health -H @"$T/hdrs"
expect_status 200 "100 short headers fit in connection_memory"
{ printf 'X-Big: '; head -c 200000 /dev/zero | tr '\0' 'c'; echo; } > "$T/hdrs"
req GET /service/health -H @"$T/hdrs"
check "one 200 kB header is refused (got $STATUS)" \
    sh -c 'case $1 in 400|413|431|000) exit 0;; esac; exit 1' _ "$STATUS"
: > "$T/hdrs"
for i in $(seq 1 300); do echo "Cookie: c$i=$(head -c 100 /dev/zero | tr '\0' 'd')" >> "$T/hdrs"; done
req GET /service/health -H @"$T/hdrs"
check "300 repeated Cookie headers (got $STATUS)" \
    sh -c 'case $1 in 200|400|413|431|000) exit 0;; esac; exit 1' _ "$STATUS"
intact "hundreds of headers"

# ---------------------------------------------------------------------------
# Malformed JSON, wrong content types, a body on GET.
# ---------------------------------------------------------------------------
CT='Content-Type: application/json'
n=0
for b in '{"first": "network"' '{' '}' 'not json' '[]' '"network"' '42' 'null' 'true' \
    '{"first": "network"} trailing' '{"first": "network"}{"first": "disk"}' \
    '{"first": 1}' '{"first": null}' '{"first": ["network"]}' '{"first": "bogus"}' \
    '{"first": "network", "unknown": 1}' '{"first": "network", "persistent": "yes"}' \
    '{"first": "network", "once": 2}' '{"first": ""}' \
    '{"first":"network",}' "{'first': 'network'}" '{"first": "netw\u0000ork"}' \
    '{"first": "network", "first": "disk", "first": 7}' ' ' '{"": "network"}' \
    '{"first": "network"' ; do
    n=$((n + 1))
    req PUT /service/vm-off/boot -H "$CT" --data-binary "$b"
    expect_error 400 "malformed JSON #$n: $b"
done
printf '{"first": "net\377work"}' > "$T/badutf8.json"
req PUT /service/vm-off/boot -H "$CT" --data-binary @"$T/badutf8.json"
expect_error 400 "invalid UTF-8 in the body"
printf '{"first": "network"}\0' > "$T/nul.json"
req PUT /service/vm-off/boot -H "$CT" --data-binary @"$T/nul.json"
expect_error 400 "a NUL byte after the object"
$PY -c 'print("[" * 30000 + "]" * 30000, end="")' > "$T/deep.json"
req PUT /service/vm-off/boot -H "$CT" --data-binary @"$T/deep.json"
check "30000 nested arrays: 400 or 413 (got $STATUS)" sh -c 'case $1 in 400|413) exit 0;; esac; exit 1' _ "$STATUS"
$PY -c 'print("{\"a\":" * 10000 + "1" + "}" * 10000, end="")' > "$T/deepobj.json"
req PUT /service/vm-off/boot -H "$CT" --data-binary @"$T/deepobj.json"
check "10000 nested objects: 400 or 413 (got $STATUS)" sh -c 'case $1 in 400|413) exit 0;; esac; exit 1' _ "$STATUS"
req PUT /service/vm-off/boot -H "$CT"
expect_error 400 "PUT boot without a body"
req PUT /service/vm-off/boot -H "$CT" --data-binary ''
expect_error 400 "PUT boot with an empty body"
# Truncated: the Content-Length promises more than arrives (curl's --max-time
# ends it; the daemon must not act on half a body).
$PY - "$PORT" <<'EOF' > "$T/trunc.out" 2>&1
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"PUT /service/vm-off/boot HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: 40\r\n\r\n{\"first\": \"net")
s.shutdown(socket.SHUT_WR)
data = b""
try:
    while True:
        d = s.recv(4096)
        if not d:
            break
        data += d
except OSError:
    pass
print(data.split(b"\r\n")[0].decode("latin-1") if data else "closed")
EOF
check "a truncated body is not acted upon ($(cat "$T/trunc.out"))" \
    sh -c 'grep -q "^closed$\|HTTP/1.1 400" "$1"' _ "$T/trunc.out"

for ct in 'text/plain' 'application/x-www-form-urlencoded' 'application/jsonx' \
    'application/xml' 'text/json' 'multipart/form-data; boundary=x' 'application/json-patch+json'; do
    req PUT /service/vm-off/boot -H "Content-Type: $ct" --data-binary '{"first": "network"}'
    expect_error 415 "PUT boot with Content-Type $ct"
done
req PUT /service/vm-off/boot -H 'Content-Type:' --data-binary '{"first": "network"}'
expect_error 415 "PUT boot without a Content-Type"
req POST /service/vm-off/state_controller/power_on -H 'Content-Type: text/plain' --data-binary 'x'
expect_error 415 "an action with a text/plain body"
req PUT /service/vm-off/boot -H 'Content-Type: application/json; charset=utf-8' --data-binary '{"first": "bogus"}'
expect_error 400 "application/json; charset=utf-8 passes the type check (then 400 for 'bogus')"
req PUT /service/vm-off/boot -H 'Content-Type: APPLICATION/JSON' --data-binary '{"first": "bogus"}'
expect_error 400 "the media type is case-insensitive (then 400 for 'bogus')"

req GET /service/vm-off/boot -H "$CT" --data-binary '{"first": "network"}'
check "GET boot with a JSON body: answered without acting (got $STATUS)" \
    sh -c 'case $1 in 200|400) exit 0;; esac; exit 1' _ "$STATUS"
req GET /service/vm-off/boot -H 'Content-Type: text/plain' --data-binary 'hello'
check "GET boot with a text body: 200, 400 or 415 (got $STATUS)" \
    sh -c 'case $1 in 200|400|415) exit 0;; esac; exit 1' _ "$STATUS"
req GET /service/machines -H "$CT" --data-binary "@$T/big.json"
expect_error 413 "GET with a 1 MiB body"
req GET /service/vm-off/state_controller/pxeboot?legacy -H "$CT" --data-binary '{}'
expect_error 400 "a legacy GET action with an unknown query key"

# Other odd requests.
req BREW /service/health
check "an unknown method: 405 or 501 (got $STATUS)" sh -c 'case $1 in 405|501|400) exit 0;; esac; exit 1' _ "$STATUS"
req GET '/service/machines?state=%zz'
expect_error 400 "a bad escape in the query"
req GET '/service/machines?bogus=1'
expect_error 400 "an unknown query key"
req GET "/service/machines?$(seq -s '&' 1 2000 | sed 's/[0-9]\+/state=running/g')"
check "2000 query parameters: answered or refused (got $STATUS)" \
    sh -c 'case $1 in 200|400|414|431|000) exit 0;; esac; exit 1' _ "$STATUS"
req GET "/service/$(seq -s / 1 40)"
expect_error 404 "40 path segments"
req GET /service//vm-off
check "an empty segment: 400 or 404 (got $STATUS)" sh -c 'case $1 in 400|404) exit 0;; esac; exit 1' _ "$STATUS"
$PY - "$PORT" <<'EOF' > "$T/raw.out" 2>&1
import socket, sys
port = int(sys.argv[1])
reqs = [
    b"GET /service/health HTTP/1.1\r\n\r\n",                      # no Host
    b"GET /service/health HTTP/9.9\r\nHost: x\r\n\r\n",           # odd version
    b"GET /service/health\r\n\r\n",                                # HTTP/0.9
    b"\x00\x01\x02\x03\r\n\r\n",                                  # binary
    b"GET /service/vm-off HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"GET /service/health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"GET /service/health HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n",
    b"GET /service/health HTTP/1.1\r\nHost: x\r\n" + b"X: " + b"\xff" * 100 + b"\r\n\r\n",
    b"POST /service/vm-off/state_controller/power_on HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n",
]
for r in reqs:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(r)
        s.shutdown(socket.SHUT_WR)
        d = s.recv(200)
        print(repr(d.split(b"\r\n")[0]))
        s.close()
    except OSError as e:
        print("error", e)
EOF
check "raw malformed requests did not take the daemon down" kill -0 "$DAEMON_PID"
intact "malformed JSON and content types"

# ---------------------------------------------------------------------------
# Slow clients: 20 half requests; request_timeout = 2 closes them.
# ---------------------------------------------------------------------------
cat > "$T/slow.py" <<'EOF'
import http.client, select, socket, sys, time
port, n = int(sys.argv[1]), 20
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /service/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    socks.append(s)
t0 = time.monotonic()
served = 0
for i in range(4):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request("GET", "/service/vm-off/state_controller/status")
        r = c.getresponse()
        r.read()
        served += r.status == 200
    except OSError:
        pass
    c.close()
    time.sleep(0.2)
closed = {}
while len(closed) < n and time.monotonic() - t0 < 12:
    live = [s for s in socks if s not in closed]
    rd, _, _ = select.select(live, [], [], 0.1)
    for s in rd:
        try:
            d = s.recv(4096)
        except OSError:
            d = b""
        if not d:
            closed[s] = time.monotonic() - t0
        # a 408 answer is fine too: wait for the close after it
times = sorted(closed.values())
print("served %d/4 while held; closed %d/%d; first %.2f s, last %.2f s" % (
    served, len(times), n, times[0] if times else -1, times[-1] if times else -1))
ok = served == 4 and len(times) == n and times[0] >= 1.0 and times[-1] <= 7.0
sys.exit(0 if ok else 1)
EOF
if $PY "$T/slow.py" "$PORT" > "$T/slow.out" 2>&1; then
    ok "20 slow clients: served meanwhile, closed after ~2 s ($(cat "$T/slow.out"))"
else
    not_ok "20 slow clients: $(cat "$T/slow.out")"
fi
intact "slow clients"

# ---------------------------------------------------------------------------
# A thousand connections at once with max_connections = 200.
# ---------------------------------------------------------------------------
cat > "$T/many.py" <<'EOF'
import resource, socket, sys, time
port, n = int(sys.argv[1]), 1000
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = min(hard, n + 200) if hard != resource.RLIM_INFINITY else n + 200
if soft < want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
if want < n + 50:
    print("cannot open %d sockets (limit %d)" % (n, want))
    sys.exit(77)
socks, failed = [], 0
deadline = time.monotonic() + 30
for i in range(n):
    if time.monotonic() > deadline:  # a full backlog drops SYNs: do not wait forever
        failed += n - i
        break
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /service/health HTTP/1.1\r\nHost: x\r\n")  # half a request
        socks.append(s)
    except OSError:
        failed += 1
        s.close()
time.sleep(1.0)
# Those the server already closed read EOF (or a reset) at once.
gone = 0
for s in socks:
    s.setblocking(False)
    try:
        if s.recv(1) == b"":
            gone += 1
    except BlockingIOError:
        pass
    except OSError:
        gone += 1
for s in socks:
    s.close()
print("opened %d, connect failed %d, closed by the server within 1 s %d" % (len(socks), failed, gone))
EOF
$PY "$T/many.py" "$PORT" > "$T/many.out" 2>&1
rc=$?
if [ "$rc" = 77 ]; then
    echo "# $(cat "$T/many.out"): 1000 connections not tested"
else
    echo "# $(cat "$T/many.out")"
    check "1000 connections: the script ran" [ "$rc" = 0 ]
    check "1000 connections: the daemon stays up" kill -0 "$DAEMON_PID"
    intact "1000 concurrent connections"
fi

# ---------------------------------------------------------------------------
# max_connections_per_ip = 5: a sixth connection from the same address is
# not served while five are held; once they close it is.
# ---------------------------------------------------------------------------
stop_daemon
write_conf "[server]
request_timeout = 5
max_connections_per_ip = 5"
start_daemon || exit 1
cat > "$T/perip.py" <<'EOF2'
import socket, sys, time
port = int(sys.argv[1])
held = []
for i in range(5):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /service/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    held.append(s)
time.sleep(0.3)
def one():
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=3)
        s.sendall(b"GET /service/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        d = s.recv(100)
        s.close()
        return d.split(b"\r\n")[0].decode("latin-1") if d else "closed"
    except OSError as e:
        return "error " + type(e).__name__
sixth = one()
for s in held:
    s.close()
time.sleep(0.5)
after = one()
print("sixth: %s; after: %s" % (sixth, after))
sys.exit(0 if not sixth.startswith("HTTP/1.1 200") and after.startswith("HTTP/1.1 200") else 1)
EOF2
if $PY "$T/perip.py" "$PORT" > "$T/perip.out" 2>&1; then
    ok "max_connections_per_ip = 5: the sixth is refused, served after ($(cat "$T/perip.out"))"
else
    not_ok "max_connections_per_ip = 5: $(cat "$T/perip.out")"
fi
intact "max_connections_per_ip"

# ---------------------------------------------------------------------------
# Framing that two parsers could read two ways: refused with 400.
# ---------------------------------------------------------------------------
cat > "$T/framing.py" <<'PYEOF'
import socket, sys
port = int(sys.argv[1])
H = b"Host: 127.0.0.1:%d\r\n" % port
J = b"Content-Type: application/json\r\n"
reqs = [
    ("two different Content-Length headers",
     b"PUT /service/vm-off/boot HTTP/1.1\r\n" + H + J + b"Content-Length: 19\r\nContent-Length: 2\r\n\r\n{\"first\": \"network\"}"),
    ("two equal Content-Length headers",
     b"PUT /service/vm-off/boot HTTP/1.1\r\n" + H + J + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}"),
    ("Transfer-Encoding with Content-Length",
     b"PUT /service/vm-off/boot HTTP/1.1\r\n" + H + J + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("Transfer-Encoding gzip",
     b"PUT /service/vm-off/boot HTTP/1.1\r\n" + H + J + b"Transfer-Encoding: gzip\r\n\r\n{}"),
    ("Transfer-Encoding gzip, chunked",
     b"PUT /service/vm-off/boot HTTP/1.1\r\n" + H + J + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
    ("two Transfer-Encoding headers",
     b"PUT /service/vm-off/boot HTTP/1.1\r\n" + H + J + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("a folded Transfer-Encoding",
     b"PUT /service/vm-off/boot HTTP/1.1\r\n" + H + J + b"Transfer-Encoding:\r\n chunked\r\n\r\n14\r\n{\"first\": \"network\"}\r\n0\r\n\r\n"),
    ("a folded Content-Length",
     b"PUT /service/vm-off/boot HTTP/1.1\r\n" + H + J + b"Content-Length: 2\r\n 0\r\n\r\n{}"),
    ("a space before the colon of Host",
     b"GET /service/health HTTP/1.1\r\nHost : 127.0.0.1\r\n\r\n"),
    ("a space before the colon of Host (HTTP/1.0)",
     b"GET /service/health HTTP/1.0\r\nHost : 127.0.0.1\r\n\r\n"),
    ("two Host headers", b"GET /service/health HTTP/1.1\r\n" + H + H + b"\r\n"),
    ("HTTP/1.1 without Host", b"GET /service/health HTTP/1.1\r\n\r\n"),
]
bad = 0
for name, r in reqs:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(r)
    data = b""
    try:
        while True:
            d = s.recv(4096)
            if not d:
                break
            data += d
    except OSError:
        pass
    s.close()
    first = data.split(b"\r\n")[0].decode("latin-1")
    # A 400, and no other answer after it (no second request smuggled in the
    # body).  libmicrohttpd 0.9.75 writes its own "Host required" 400 with
    # the status line and headers twice; that is one answer all the same.
    n = data.count(b"HTTP/1.1 2") + data.count(b"HTTP/1.1 4") - data.count(b"HTTP/1.1 400")
    if first.startswith("HTTP/1.1 400") and n == 0:
        print("ok %s: 400" % name)
    else:
        print("FAIL %s: %r (%d other answers)" % (name, first, n))
        bad += 1
sys.exit(1 if bad else 0)
PYEOF
$PY "$T/framing.py" "$PORT" > "$T/framing.out" 2>&1
while IFS= read -r line; do
    case $line in "ok "*) ok "${line#ok }" ;; "FAIL "*) not_ok "${line#FAIL }" ;; *) echo "# $line" ;; esac
done < "$T/framing.out"
intact "conflicting framing headers"

# ---------------------------------------------------------------------------
# Slow clients that trickle: deadlines every byte cannot extend, and the
# per-address default (64) leaves room for everyone else.
# ---------------------------------------------------------------------------
stop_daemon
write_conf "[server]
request_timeout = 30
header_timeout = 2
body_timeout = 2"
start_daemon || exit 1
ALT=127.0.0.2
if ! $PY -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1], 0))' "$ALT" 2>/dev/null; then
    ALT=
    echo "# cannot bind 127.0.0.2: the other client comes from 127.0.0.1 after the cut"
fi
cat > "$T/loris.py" <<'PYEOF'
import resource, select, socket, sys, time
port, n, alt = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < n + 50:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 50), hard))
def get(src):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5,
                                     source_address=(src, 0) if src else None)
        s.sendall(b"GET /service/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        d = s.recv(100)
        s.close()
        return d.split(b"\r\n")[0].decode("latin-1") if d else "closed"
    except OSError as e:
        return "error " + type(e).__name__
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /service/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    socks.append(s)
live = set(socks)
refused = 0
t0 = time.monotonic()
other = None
rounds = 0
# Trickle one header line to every open connection every 0.3 s; the daemon
# must cut them all (header_timeout = 2) although each byte arrives in time
# for request_timeout = 30.  Give up after 12 s.
while live and time.monotonic() - t0 < 12:
    for s in list(live):
        try:
            s.sendall(b"X-Slow: a\r\n")
        except OSError:
            live.discard(s)
            continue
    rd, _, _ = select.select(list(live), [], [], 0.3)
    for s in rd:
        try:
            d = s.recv(4096)
        except OSError:
            d = b""
        if not d:
            live.discard(s)
    rounds += 1
    if rounds == 2:
        refused = n - len(live)
        if alt:
            other = get(alt)
# The daemon frees a cut connection's per-address slot just after the
# client sees it closed: try a few times.
after = "not tried"
for _ in range(50 if not live else 0):
    after = get("")
    if after.startswith("HTTP/1.1 200"):
        break
    time.sleep(0.1)
if not alt:
    other = after
print("held %d, refused at once %d, still open after 12 s %d; other client: %s; after: %s"
      % (n - refused, refused, len(live), other, after))
ok = refused > 0 and not live and other.startswith("HTTP/1.1 200") and after.startswith("HTTP/1.1 200")
sys.exit(0 if ok else 1)
PYEOF
if $PY "$T/loris.py" "$PORT" 100 "$ALT" > "$T/loris.out" 2>&1; then
    ok "a slowloris of 100 connections from one address: $(cat "$T/loris.out")"
else
    not_ok "a slowloris of 100 connections from one address: $(cat "$T/loris.out")"
fi
cat > "$T/trickle.py" <<'PYEOF'
import socket, sys, time
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(b"PUT /service/vm-off/boot HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          b"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n")
body = b'{"first": "network"}'.ljust(200)
s.settimeout(0.3)
t0 = time.monotonic()
sent = 0
cut = False
while sent < len(body) and time.monotonic() - t0 < 12:
    try:
        s.sendall(body[sent:sent + 1])
        sent += 1
        d = s.recv(4096)
        if not d:
            cut = True
            break
    except socket.timeout:
        continue
    except OSError:
        cut = True
        break
print("sent %d of %d body bytes, %s" % (sent, len(body), "cut by the daemon" if cut else "not cut"))
sys.exit(0 if cut and sent < len(body) else 1)
PYEOF
if $PY "$T/trickle.py" "$PORT" > "$T/trickle.out" 2>&1; then
    ok "a body trickled a byte at a time is cut at its deadline ($(cat "$T/trickle.out"))"
else
    not_ok "a body trickled a byte at a time is cut at its deadline: $(cat "$T/trickle.out")"
fi
intact "trickling clients"

# ---------------------------------------------------------------------------
# A unix: listener: removes only a stale socket, has mode socket_mode.
# ---------------------------------------------------------------------------
stop_daemon
SOCK="$T/virtmcd.sock"
# start_unix [extra args]: start on unix:$SOCK; waits until it answers.
start_unix() {
    "$VIRTMCD" -c "$T/virtmcd.conf" --listen "unix:$SOCK" --uri "$NODE" "$@" > "$T/daemon.log" 2>&1 &
    DAEMON_PID=$!
    for _ in $(seq 1 100); do
        curl -s -o /dev/null --unix-socket "$SOCK" http://localhost/service/health && return 0
        kill -0 "$DAEMON_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "# the daemon did not answer on unix:$SOCK"; sed 's/^/#   /' "$T/daemon.log"
    return 1
}
write_conf ""
echo 'precious data' > "$SOCK"
expect_exit_within 10 "a regular file at the unix: path: the daemon refuses to start" \
    "$VIRTMCD" -c "$T/virtmcd.conf" --listen "unix:$SOCK" --uri "$NODE"
check "the regular file survives" sh -c '[ -f "$1" ] && [ "$(cat "$1")" = "precious data" ]' _ "$SOCK"
check "the message says what is in the way" grep -q "not a socket" "$T/exit.log"
rm -f "$SOCK"
mkdir "$SOCK"
expect_exit_within 10 "a directory at the unix: path: the daemon refuses to start" \
    "$VIRTMCD" -c "$T/virtmcd.conf" --listen "unix:$SOCK" --uri "$NODE"
check "the directory survives" [ -d "$SOCK" ]
rmdir "$SOCK"
if start_unix; then
    mode=$(stat -c %a "$SOCK")
    check "the socket's mode is 0660 by default (umask $(umask); got $mode)" [ "$mode" = 660 ]
    expect_exit_within 10 "a second daemon on a live socket refuses to start" \
        "$VIRTMCD" -c "$T/virtmcd.conf" --listen "unix:$SOCK" --uri "$NODE"
    check "the message says another process listens there" grep -q "another process" "$T/exit.log"
    check "the first daemon still answers on its socket" \
        sh -c '[ "$(curl -s -o /dev/null -w "%{http_code}" --unix-socket "$1" http://localhost/service/health)" = 200 ]' _ "$SOCK"
    req_code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -H 'Host: evil.example' \
        http://localhost/service/machines)
    check "no Host check on a Unix socket, which no browser reaches ($req_code)" [ "$req_code" = 200 ]
    # A daemon killed outright leaves its socket behind: stale, and replaced.
    kill -KILL "$DAEMON_PID"
    wait "$DAEMON_PID" 2>/dev/null
    DAEMON_PID=
    check "a killed daemon leaves its socket" [ -S "$SOCK" ]
    write_conf "[server]
socket_mode = 0600"
    if start_unix; then
        ok "a stale socket is replaced"
        check "socket_mode = 0600 is applied ($(stat -c %a "$SOCK"))" [ "$(stat -c %a "$SOCK")" = 600 ]
        stop_daemon
        check "a clean stop removes the socket" [ ! -e "$SOCK" ]
    else
        not_ok "a stale socket is replaced"
    fi
else
    not_ok "the daemon starts on unix:$SOCK"
fi
write_conf "[server]
socket_group = no-such-group-virtmcd"
expect_exit_within 10 "an unknown socket_group: the daemon refuses to start" \
    "$VIRTMCD" -c "$T/virtmcd.conf" --listen "unix:$SOCK" --uri "$NODE"
check "the message names the group" grep -q "no-such-group-virtmcd" "$T/exit.log"
write_conf ""
start_daemon || exit 1

check "no answer ever showed a file outside the backup folder" sh -c '! grep -rq CANARY-OUTSIDE "$1/body" 2>/dev/null' _ "$T"
check "the daemon logged no crash or assertion" sh -c '! grep -Eiq "assert|sanitizer|segfault|double free" "$1"' _ "$T/daemon.log"
stop_daemon
check "SIGTERM after all of that: exit 0" [ "${DAEMON_RC:-1}" = 0 ]
finish

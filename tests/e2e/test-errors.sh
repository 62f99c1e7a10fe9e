#!/bin/sh
# test-errors.sh: the errors of API.md section 0 that apply to the /service
# tree: 404 (unknown path, machine, action), 405 with Allow, 400 (bad machine
# names, bad percent-escapes, unknown query parameters, bad JSON), 413, 415 and
# 409.  Every error body is exactly {"error": "<message>"} with a JSON
# Content-Type.  Afterwards the daemon still answers and no machine changed.
#
# Not exercised here: 401/403 (no users file: every request is anonymous
# admin), 503 (the test driver is always reachable), 500 (a bug).
. "$(dirname "$0")/functions.sh"

# --- local helpers -----------------------------------------------------------

# expect_json_error CODE DESCRIPTION: CODE, JSON Content-Type, body exactly
# one key "error" holding a non-empty, human readable string.
expect_json_error() {
    if [ "$STATUS" = "$1" ] && [ "$(header Content-Type)" = "application/json" ] &&
        jq -e 'type == "object" and keys == ["error"] and (.error | type == "string" and length > 0)' "$T/body" >/dev/null 2>&1; then
        ok "$2 ($1, {\"error\": \"...\"})"
    else
        not_ok "$2: expected $1 with exactly {\"error\": \"<message>\"}"
    fi
}

# e CODE METHOD PATH [curl args...]: send, expect the JSON error CODE.
e() {
    local code="$1" method="$2" path="$3"
    shift 3
    req "$method" "$path" "$@"
    expect_json_error "$code" "$method $path"
}

# e405 METHOD PATH ALLOWED...: 405, JSON error, and an Allow header naming
# exactly the ALLOWED methods (any order) and not METHOD.  "HEAD?" in ALLOWED
# means HEAD may or may not be listed.
e405() {
    local method="$1" path="$2" allow want got
    shift 2
    req "$method" "$path"
    expect_json_error 405 "$method $path"
    allow=$(header Allow)
    want=$(printf '%s\n' "$@" | grep -v '^HEAD?$' | sort | tr '\n' ' ')
    got=$(echo "$allow" | tr -d ' ' | tr ',' '\n' | grep -v '^$' | sort | tr '\n' ' ')
    case " $* " in *" HEAD? "*) got=$(echo "$got" | tr ' ' '\n' | grep -v '^HEAD$' | grep -v '^$' | tr '\n' ' ') ;; esac
    if [ "$got" = "$want" ]; then ok "$method $path: Allow: $allow"; else not_ok "$method $path: Allow is '$allow', expected the methods $want"; fi
}

# snapshot FILE: name, state and id of every machine.
snapshot() {
    curl -s "$BASE/service/machines" | jq -c '[.[] | {name, state, id}]' > "$1"
}

start_daemon || { echo "# cannot start virtmcd"; exit 1; }
snapshot "$T/before"
check "the machine list is readable before the errors" sh -c 'jq -e "length == 8" "$1" >/dev/null' _ "$T/before"

# --- 404: unknown paths ------------------------------------------------------------
for p in / /nosuch /service /service/ /servicex/machines /service/vm-off/nosuch /service/vm-off/state_controller \
    /service/machines/vm-off/nosuch/deeper /service/machines/vm-off/state_controller/status/extra \
    /service/health/extra /service/version/extra /SERVICE/machines; do
    e 404 GET "$p"
done

# --- 404: unknown machines ------------------------------------------------------------
for p in /service/nosuch /service/machines/nosuch /service/nosuch/state_controller/status \
    /service/machines/nosuch/state_controller/status /service/VM-OFF '/service/vm-off%20' \
    "/service/machines/$(printf 'a%.0s' $(seq 255))"; do
    e 404 GET "$p"
done
check "a 255-byte name is a valid name (404 names it)" sh -c 'jq -r .error "$1" | grep -q aaaaaaaaaa' _ "$T/body"
# 255 bytes in 2-byte UTF-8 characters plus one ASCII byte: still valid.
e 404 GET "/service/machines/$(printf '%%C3%%A9%.0s' $(seq 127))a"
e 404 POST /service/nosuch/state_controller/power_on
e 404 POST /service/machines/nosuch/state_controller/power_off

# --- 404: unknown actions ------------------------------------------------------------------
for a in bogus power-on POWER_ON poweron status2 reset; do
    e 404 POST "/service/vm-off/state_controller/$a"
done
e 404 GET /service/vm-off/state_controller/bogus
e 404 POST /service/machines/vm-running/state_controller/bogus

# --- 405 with Allow --------------------------------------------------------------------------
e405 DELETE /service/machines GET HEAD
e405 POST /service/machines GET HEAD
e405 PUT /service/machines GET HEAD
e405 DELETE /service/machines/vm-off GET HEAD
e405 POST /service/vm-off GET HEAD
e405 POST /service/vm-off/state_controller/status GET HEAD
e405 PUT /service/machines/vm-off/state_controller/status GET HEAD
e405 PUT /service/health GET HEAD
e405 POST /service/version GET HEAD
# Action URLs: POST, and GET while legacy_get_actions is on (the default).
# API.md 0 says "HEAD works wherever GET does", but HEAD is a safe method
# (RFC 9110) and must not power anything: our reading is that HEAD on an
# action URL may be refused (405) or answered without acting, and Allow may
# or may not list it.  It must never perform the action.
e405 DELETE /service/vm-off/state_controller/power_on GET HEAD? POST
e405 PATCH /service/vm-running/state_controller/power_off GET HEAD? POST
e405 PUT /service/machines/vm-running/state_controller/reboot GET HEAD? POST
for a in vm-off:power_on vm-running:power_off vm-running:soft_off vm-paused:cyclepower vm-running:power_cycle; do
    m=${a%%:*} x=${a#*:}
    before=$(curl -s "$BASE/service/machines/$m" | jq -c '{state, id}')
    req HEAD "/service/$m/state_controller/$x"
    after=$(curl -s "$BASE/service/machines/$m" | jq -c '{state, id}')
    check "HEAD /service/$m/state_controller/$x ($STATUS) does not act: $before" [ "$before" = "$after" ]
done

# --- 400: bad machine names (API.md 0: rejected before libvirt is asked) ------------------------
e 400 GET '/service/machines/%2E%2E/state_controller/status'
e 400 GET '/service/machines/%2e%2e'
e 400 GET '/service/%2E%2E/state_controller/status'
e 400 GET '/service/machines/../state_controller/status'
e 400 GET '/service/machines/%2E/state_controller/status'
e 400 GET '/service/machines/./state_controller/status'
e 400 GET '/service/machines/a%2fb/state_controller/status'
e 400 GET '/service/machines/vm-off%2Fx'
e 400 GET '/service/vm-off%2fstate_controller/state_controller/status'
e 400 GET '/service/machines/a%00b'
e 400 GET '/service/machines/%00'
e 400 GET '/service/machines/a%01b'
e 400 GET '/service/machines/a%0Ab'
e 400 GET '/service/machines/a%1Fb'
e 400 GET '/service/machines/a%7Fb'
e 400 GET "/service/machines/$(printf 'a%.0s' $(seq 256))"
# 256 bytes in 128 two-byte characters: the limit is in bytes.
e 400 GET "/service/machines/$(printf '%%C3%%A9%.0s' $(seq 128))"
e 400 POST "/service/machines/$(printf 'a%.0s' $(seq 256))/state_controller/power_on"
e 400 POST '/service/machines/%2E%2E/state_controller/power_on'
e 400 POST '/service/a%01b/state_controller/power_off'
# An empty name is rejected with 400 (API.md 0 lists "empty" with the other
# bad names; our reading: an empty segment where the name goes is an empty name).
e 400 GET '/service/machines//state_controller/status'
e 400 POST '/service/machines//state_controller/power_on'
# Bad percent-escapes.
e 400 GET '/service/machines/a%zzb'
e 400 GET '/service/machines/a%zz/state_controller/status'
e 400 GET '/service/machines/a%'
e 400 GET '/service/machines/a%2'
e 400 GET '/service/a%g1'
e 400 POST '/service/a%zz/state_controller/power_on'

# --- 400: query parameters and bodies ----------------------------------------------------------
e 400 POST '/service/vm-off/state_controller/power_on?foo=1'
e 400 POST '/service/vm-off/state_controller/power_on?force=1&foo=1'
e 400 POST '/service/machines/vm-running/state_controller/power_off?bogus'
e 400 GET '/service/vm-off/state_controller/status?foo=1'
e 400 GET '/service/vm-off?foo=1'
e 400 GET '/service/machines?foo=bar'
e 400 GET '/service/machines?state=bogus'
check "vm-off not started by the refused requests" [ "$(state vm-off)" = 'shut off' ]
check "vm-running not stopped by the refused requests" [ "$(state vm-running)" = running ]
# A body that claims to be JSON but is not: "400 malformed request (bad JSON)".
# power_on of a running machine would be "unchanged" anyway, so nothing moves
# even if the body were ignored.
e 400 POST /service/vm-running/state_controller/power_on -H 'Content-Type: application/json' --data 'notjson'
e 400 POST /service/vm-running/state_controller/power_on -H 'Content-Type: application/json' --data '{"a":'
# The boot endpoint (section 2) reads a JSON body too.
e 400 PUT /service/vm-off/boot -H 'Content-Type: application/json' --data '{"first":'

# --- 415: a body that is not JSON --------------------------------------------------------------
e 415 POST /service/vm-off/state_controller/power_on -H 'Content-Type: text/plain' --data 'hello'
e 415 POST /service/vm-off/state_controller/power_on --data 'a=b'
e 415 POST /service/vm-off/state_controller/power_on -H 'Content-Type: application/xml' --data '<a/>'
e 415 POST /service/machines/vm-running/state_controller/power_off -H 'Content-Type: text/plain' --data '{}'
check "vm-off not started by the 415s" [ "$(state vm-off)" = 'shut off' ]
check "vm-running not stopped by the 415" [ "$(state vm-running)" = running ]

# --- 409: conflicts with the machine's state ---------------------------------------------------
for a in reboot force_reset force_reboot nmi; do
    e 409 POST "/service/vm-off/state_controller/$a"
    e 409 POST "/service/machines/vm-nonic/state_controller/$a"
done
e 409 POST '/service/web%2001/state_controller/reboot'
# A transient domain cannot have its boot order changed (API.md 1).
e 409 POST /service/vm-transient/state_controller/pxeboot
# A device class the domain lacks (API.md 2).
e 409 POST /service/vm-nonic/state_controller/pxeboot

# --- HEAD on errors: same status, no body ----------------------------------------------------
for p in /service/nosuch '/service/machines/%2E%2E' /service/vm-off/nosuch; do
    req GET "$p"; gs=$STATUS
    req HEAD "$p"
    check "HEAD $p: status $gs like GET, no body" sh -c '[ "$1" = "$2" ] && [ ! -s "$3" ]' _ "$STATUS" "$gs" "$T/body"
done

# --- still alive, nothing changed ----------------------------------------------------------------
req GET /service/health
expect_status 200 "health still answers after all the errors"
expect_jq .status ok "health still ok"
snapshot "$T/after"
if cmp -s "$T/before" "$T/after"; then
    ok "no machine changed state (names, states, ids as before)"
else
    not_ok "machines changed during the error tests"
    diff "$T/before" "$T/after" | sed 's/^/#   /'
fi

# --- 413: a body over [server] max_body_bytes ---------------------------------------------------
stop_daemon
write_conf "[server]
max_body_bytes = 1024"
start_daemon || { echo "# cannot start virtmcd with max_body_bytes = 1024"; exit 1; }
snapshot "$T/before413"
big=$(head -c 1992 /dev/zero | tr '\0' x)
printf '{"x":"%s"}' "$big" > "$T/big.json"
check "the big body is 2000 bytes" [ "$(wc -c < "$T/big.json")" = 2000 ]
e 413 POST /service/vm-off/state_controller/power_on -H 'Content-Type: application/json' --data-binary "@$T/big.json"
check "vm-off not started by the 413" [ "$(state vm-off)" = 'shut off' ]
# Without Content-Length (chunked): the limit still holds.
e 413 POST /service/vm-off/state_controller/power_on -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary "@$T/big.json"
check "vm-off not started by the chunked 413" [ "$(state vm-off)" = 'shut off' ]
e 413 PUT /service/vm-off/boot -H 'Content-Type: application/json' --data-binary "@$T/big.json"
# The size limit comes before the content type.
e 413 POST /service/vm-off/state_controller/power_on -H 'Content-Type: text/plain' --data-binary "@$T/big.json"
# Under the limit, a JSON body is fine (power_on of a running machine: unchanged).
printf '{"x":"%s"}' "$(head -c 900 /dev/zero | tr '\0' x)" > "$T/small.json"
req POST /service/vm-running/state_controller/power_on -H 'Content-Type: application/json' --data-binary "@$T/small.json"
expect_status 200 "a 910-byte JSON body under max_body_bytes = 1024"
expect_jq .result unchanged "power_on of vm-running with a small body: unchanged"
req GET /service/health
expect_status 200 "health still answers after the 413s"
snapshot "$T/after413"
check "no machine changed state around the 413s" cmp -s "$T/before413" "$T/after413"

finish

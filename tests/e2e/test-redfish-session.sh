#!/bin/sh
# test-redfish-session.sh: Redfish sessions (issue 12 point 7, API.md section
# 6): login without credentials, the token on every tree with the user's
# role, the wrong and missing fields, the collection (admins all, others
# their own), logout, SessionTimeout (admins only, its range, that it
# survives a reload that leaves the key alone), idle expiry with a token in
# use that stays alive, a reload that removes a user ending its sessions and
# a role change applying to open ones; Basic and Digest on the tree; DMTF's
# redfishtool -A Session (-S Never: it logs in over https by default) and
# python3-sushy's SessionAuth; protected mode.
. "$(dirname "$0")/functions.sh"

for tool in htdigest jq; do
    command -v "$tool" >/dev/null 2>&1 || { echo "# $tool not installed: skipped"; exit 77; }
done

PW_ADMIN='Pw-rfs-admin-4d'
PW_BOB='Pw-rfs-bob-8x'
PW_CAROL='Pw-rfs-carol-2m'
USERS="$T/users.digest"
htdigest_add "$USERS" admin "$PW_ADMIN"
htdigest_add "$USERS" bob "$PW_BOB"
htdigest_add "$USERS" carol "$PW_CAROL"
chmod 600 "$USERS"
# conf BOB-ROLE [BASIC]: the configuration, Basic over plain HTTP unless told.
conf() {
    write_conf "[auth]
users_file = $USERS
basic = ${2:-always}
[user \"admin\"]
role = admin
[user \"bob\"]
role = $1
machines = vm-run*
[user \"carol\"]
role = operator"
}
conf user
start_daemon || exit 1

SS=/redfish/v1/SessionService
SESSIONS=$SS/Sessions
JSON='Content-Type: application/json'

# login USER PASSWORD: POST the credentials; sets STATUS and TOKEN.
login() {
    req POST "$SESSIONS" -H "$JSON" --data-binary "{\"UserName\": \"$1\", \"Password\": \"$2\"}"
    TOKEN=$(header X-Auth-Token)
}
# t TOKEN METHOD PATH [curl args]: a request with the token.
t() {
    local tok=$1
    shift
    req "$@" -H "X-Auth-Token: $tok"
}
# expect_rf_error CODE MESSAGEID DESCRIPTION: a Redfish error body.
expect_rf_error() {
    local got
    got=$(jq -r '.error.code + " " + .error["@Message.ExtendedInfo"][0].MessageId' "$T/body" \
        2>/dev/null)
    if [ "$STATUS" = "$1" ] && [ "$got" = "Base.1.8.$2 Base.1.8.$2" ]; then
        ok "$3 ($1 $2)"
    else
        not_ok "$3: expected $1 $2, got $STATUS '$got'"
    fi
}
token_status() { curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $1" "$BASE$SS"; }

# --- login ---------------------------------------------------------------------

req GET "$SS"
expect_rf_error 401 NoValidSession "SessionService without credentials"
check "the 401 carries a Digest challenge" grep -qi '^WWW-Authenticate: Digest' "$T/headers"

login admin "$PW_ADMIN"
expect_status 201 "login as admin"
A_TOKEN=$TOKEN
A_LOC=$(header Location)
check "X-Auth-Token is 64 hex digits" sh -c "printf '%s' '$A_TOKEN' | grep -Eqx '[0-9a-f]{64}'"
expect_jq '.["@odata.type"]' '#Session.v1_1_2.Session' "the body is a Session"
expect_jq '.UserName' admin "the session's UserName"
expect_jq '.["@odata.id"]' "$A_LOC" "Location is the session's URI"
expect_jq '.["@odata.id"] == "'"$SESSIONS"'/" + .Id' true "the session's Id is in its URI"
expect_jq 'has("Password")' false "the body never holds the password"
check "the login answer is not cached" sh -c "grep -qi '^Cache-Control: no-store' '$T/headers'"
check "OData-Version on the login" sh -c "grep -qi '^OData-Version: 4.0' '$T/headers'"
check "the log holds no token" sh -c "! grep -q '$A_TOKEN' '$T/daemon.log'"

t "$A_TOKEN" GET "$SS"
expect_status 200 "the token reads the SessionService"
expect_jqc '[.["@odata.type"], .ServiceEnabled, .SessionTimeout, .Sessions["@odata.id"], .Status.State]' \
    '["#SessionService.v1_1_6.SessionService",true,1800,"'"$SESSIONS"'","Enabled"]' \
    "SessionService: enabled, [auth] session_timeout's default, its Sessions"
t "$A_TOKEN" GET /service/machines
expect_status 200 "the token works on /service"
t "$A_TOKEN" GET "$A_LOC"
expect_status 200 "GET the session itself"

login admin wrong-password
expect_rf_error 401 NoValidSession "a wrong password"
check "no token with a wrong password" test -z "$TOKEN"
login nobody "$PW_ADMIN"
expect_rf_error 401 NoValidSession "an unknown user"
check "the failures are logged" grep -q "Authentication failed from 127.0.0.1 for user 'admin' on POST $SESSIONS: wrong password" "$T/daemon.log"
req POST "$SESSIONS" -H "$JSON" --data-binary '{"UserName": "admin"}'
expect_rf_error 400 PropertyMissing "no Password"
req POST "$SESSIONS" -H "$JSON" --data-binary '{"Password": "x"}'
expect_rf_error 400 PropertyMissing "no UserName"
req POST "$SESSIONS"
expect_rf_error 400 PropertyMissing "no body"
req POST "$SESSIONS" -H "$JSON" --data-binary '{"UserName": "admin", "Password": 5}'
expect_rf_error 400 PropertyValueTypeError "a Password that is no string"
t "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" GET "$SS"
expect_rf_error 401 NoValidSession "an unknown token"
t "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" GET /service/machines
expect_status 401 "an unknown token on /service, even with nothing else needed"

# --- the collection, other users ------------------------------------------------

login bob "$PW_BOB"
expect_status 201 "login as bob (role user)"
B_TOKEN=$TOKEN
B_ID=$(jq -r .Id "$T/body")
t "$B_TOKEN" GET "$SESSIONS"
expect_jqc '[.Members[]["@odata.id"]]' "[\"$SESSIONS/$B_ID\"]" "bob sees his own session only"
expect_jq '.["Members@odata.count"]' 1 "Members@odata.count for bob"
t "$A_TOKEN" GET "$SESSIONS"
expect_jq '[.Members[]["@odata.id"]] | (index("'"$A_LOC"'") != null) and (index("'"$SESSIONS/$B_ID"'") != null)' \
    true "the admin sees every session"
t "$B_TOKEN" GET "$A_LOC"
expect_rf_error 404 ResourceNotFound "bob reads the admin's session"
t "$B_TOKEN" DELETE "$A_LOC"
expect_rf_error 404 ResourceNotFound "bob deletes the admin's session"
t "$A_TOKEN" GET "$SS"
expect_status 200 "the admin's token still works"
t "$B_TOKEN" GET /service/machines
expect_jqc '[.[].name]' '["vm-running"]' "bob's token carries his machine globs"
t "$B_TOKEN" POST /service/vm-running/state_controller/power_off
expect_status 403 "bob's token carries his role (user): no power_off"

# --- SessionTimeout ----------------------------------------------------------------

patch() { t "$1" PATCH "$SS" -H "$JSON" --data-binary "$2"; }
patch "$B_TOKEN" '{"SessionTimeout": 600}'
expect_rf_error 403 InsufficientPrivilege "a user PATCHes SessionTimeout"
patch "$A_TOKEN" '{"SessionTimeout": 29}'
expect_rf_error 400 PropertyValueOutOfRange "SessionTimeout 29"
patch "$A_TOKEN" '{"SessionTimeout": 86401}'
expect_rf_error 400 PropertyValueOutOfRange "SessionTimeout 86401"
patch "$A_TOKEN" '{"SessionTimeout": -5}'
expect_rf_error 400 PropertyValueOutOfRange "SessionTimeout -5"
patch "$A_TOKEN" '{"SessionTimeout": "60"}'
expect_rf_error 400 PropertyValueTypeError "SessionTimeout as a string"
patch "$A_TOKEN" '{"ServiceEnabled": false}'
expect_rf_error 400 PropertyNotWritable "ServiceEnabled"
patch "$A_TOKEN" '{"Bogus": 1}'
expect_rf_error 400 PropertyUnknown "an unknown property"
t "$A_TOKEN" GET "$SS"
expect_jq .SessionTimeout 1800 "refused PATCHes changed nothing"
patch "$A_TOKEN" '{"SessionTimeout": 30}'
expect_status 200 "the admin sets SessionTimeout to its minimum"
expect_jq .SessionTimeout 30 "the PATCH answers the new SessionTimeout"

# The idle session: logged in now, never used again.
login admin "$PW_ADMIN"
IDLE_TOKEN=$TOKEN
IDLE_LOC=$(header Location)
IDLE_AT=$(date +%s)

# --- Basic and Digest on the tree --------------------------------------------------

req GET "$SS" -u "bob:$PW_BOB"
expect_status 200 "Basic on the Redfish tree"
req GET "$SS" --digest -u "bob:$PW_BOB"
expect_status 200 "Digest on the Redfish tree"
req PATCH "$SS" -H "$JSON" --data-binary '{"SessionTimeout": 30}' --digest -u "bob:$PW_BOB"
expect_rf_error 403 InsufficientPrivilege "Digest keeps bob's role"
req GET "$SS" -u "bob:wrong"
expect_rf_error 401 NoValidSession "a wrong Basic password on the tree"

# --- reload: a removed user, a role change, the PATCHed timeout --------------------

login carol "$PW_CAROL"
expect_status 201 "login as carol"
C_TOKEN=$TOKEN
check "carol's token works" test "$(token_status "$C_TOKEN")" = 200
grep -v '^carol:' "$USERS" > "$T/users.new" && cat "$T/users.new" > "$USERS"
conf admin
reload_daemon || not_ok "reload"
check "carol is out of the users file: her token is dead after SIGHUP" \
    test "$(token_status "$C_TOKEN")" = 401
check "the purge is logged" grep -q "user 'carol' ended: the user is no longer in the users file" "$T/daemon.log"
t "$A_TOKEN" GET "$SS"
expect_jq .SessionTimeout 30 "a PATCHed SessionTimeout survives a reload that leaves the key alone"
t "$B_TOKEN" GET "$SESSIONS"
expect_jq '.["Members@odata.count"] >= 3' true "bob, now admin, sees every session with his open token"
patch "$B_TOKEN" '{"SessionTimeout": 30}'
expect_status 200 "bob's open session has his new role"

# --- logout --------------------------------------------------------------------------

login admin "$PW_ADMIN"
D_TOKEN=$TOKEN
D_LOC=$(header Location)
t "$D_TOKEN" DELETE "$D_LOC"
expect_status 204 "logout"
check "the token is dead at once" test "$(token_status "$D_TOKEN")" = 401
t "$A_TOKEN" GET "$D_LOC"
expect_rf_error 404 ResourceNotFound "the session is gone"
t "$D_TOKEN" GET /service/machines
expect_status 401 "the dead token on /service"
t "$A_TOKEN" DELETE "$SESSIONS/$B_ID"
expect_status 204 "an admin ends another user's session"
check "bob's token is dead" test "$(token_status "$B_TOKEN")" = 401

# --- a login is accepted where Basic is --------------------------------------------

conf admin tls
reload_daemon || not_ok "reload"
login admin "$PW_ADMIN"
expect_rf_error 401 NoValidSession "basic = tls: no login over plain HTTP"
check "it says why" grep -q 'password in clear' "$T/body"
check "the refusal is logged" grep -q "a password in clear needs TLS" "$T/daemon.log"
check "open sessions go on" test "$(token_status "$A_TOKEN")" = 200
conf admin
reload_daemon || not_ok "reload"

# --- clients ------------------------------------------------------------------------

if command -v redfishtool >/dev/null 2>&1; then
    t "$A_TOKEN" GET "$SESSIONS"
    before=$(jq '.["Members@odata.count"]' "$T/body")
    if redfishtool -r "127.0.0.1:$PORT" -u admin -p "$PW_ADMIN" -A Session -S Never SessionService \
        > "$T/rft.out" 2> "$T/rft.err"; then
        ok "redfishtool -A Session SessionService"
    else
        not_ok "redfishtool -A Session SessionService: $(cat "$T/rft.err")"
    fi
    check "redfishtool read SessionTimeout" grep -q '"SessionTimeout": 30' "$T/rft.out"
    check "redfishtool logged in with a session and out again" \
        sh -c "grep 'ended: logged out' '$T/daemon.log' | tail -n1 | grep -q \"user 'admin'\""
    if redfishtool -r "127.0.0.1:$PORT" -u admin -p "$PW_ADMIN" -A Session -S Never root > "$T/rft.out" 2> "$T/rft.err"; then
        ok "redfishtool -A Session root"
    else
        not_ok "redfishtool -A Session root: $(cat "$T/rft.err")"
    fi
    t "$A_TOKEN" GET "$SESSIONS"
    expect_jq '.["Members@odata.count"]' "$before" "redfishtool logged out: no session left behind"
    redfishtool -r "127.0.0.1:$PORT" -u admin -p wrong -A Session -S Never SessionService > /dev/null 2>&1
    check "redfishtool with a wrong password fails" test $? != 0
else
    echo "# redfishtool not installed: its part skipped"
fi

if /usr/bin/python3 -c 'import sushy' 2>/dev/null; then
    if /usr/bin/python3 - "$BASE/redfish/v1" admin "$PW_ADMIN" > "$T/sushy.out" 2>&1 <<'EOF'
import sys
import sushy
from sushy import auth

url, user, password = sys.argv[1:4]
a = auth.SessionAuth(username=user, password=password)
root = sushy.Sushy(url, auth=a)
svc = root.get_session_service()
print("timeout", svc.session_timeout)
token = a.get_session_key()
assert token and len(token) == 64, token
print("session", a.get_session_resource_id())
sessions = svc.sessions
print("members", len(sessions.members_identities))
a.close()
EOF
    then
        ok "sushy with SessionAuth reads the SessionService"
    else
        not_ok "sushy with SessionAuth: $(cat "$T/sushy.out")"
    fi
    check "sushy saw SessionTimeout 30" grep -qx 'timeout 30' "$T/sushy.out"
    sid=$(sed -n 's|^session .*/Sessions/||p' "$T/sushy.out")
    t "$A_TOKEN" GET "$SESSIONS/$sid"
    check "sushy logged out on close (its session is gone)" test -n "$sid" -a "$STATUS" = 404
else
    echo "# python3-sushy not installed: its part skipped"
fi

# --- idle expiry ----------------------------------------------------------------------
# SessionTimeout is 30 s (its minimum): the idle session dies, while a session
# in use every second outlives 30 s.  Bounded: 50 s after the idle one's login.

login admin "$PW_ADMIN"
BUSY_TOKEN=$TOKEN
BUSY_AT=$(date +%s)
expired=
while [ $(($(date +%s) - IDLE_AT)) -le 50 ]; do
    if [ "$(token_status "$BUSY_TOKEN")" != 200 ]; then
        not_ok "a session in use expired"
        break
    fi
    # Only look at the idle one once it may have expired: a look is a use.
    if [ $(($(date +%s) - IDLE_AT)) -ge 31 ] && [ "$(token_status "$IDLE_TOKEN")" = 401 ]; then
        expired=$(($(date +%s) - IDLE_AT))
        break
    fi
    sleep 1
done
if [ -n "$expired" ] && [ "$expired" -ge 30 ]; then
    ok "an idle session expires after SessionTimeout ($expired s)"
else
    not_ok "the idle session did not expire within 50 s"
fi
while [ $(($(date +%s) - BUSY_AT)) -le 31 ]; do
    token_status "$BUSY_TOKEN" > "$T/busy"
    [ "$(cat "$T/busy")" = 200 ] || break
    sleep 2
done
check "a session in use every few seconds outlives SessionTimeout" test "$(token_status "$BUSY_TOKEN")" = 200
t "$BUSY_TOKEN" GET "$IDLE_LOC"
expect_status 404 "the expired session is gone from the collection"

# --- protected mode: no users file ----------------------------------------------------

stop_daemon
write_conf ""
start_daemon || exit 1
login anyone anything
expect_status 201 "without a users file, a login needs no password"
expect_jq .UserName anonymous "the session is the anonymous admin's"
P_TOKEN=$TOKEN
check "its token works" test "$(token_status "$P_TOKEN")" = 200
t "$P_TOKEN" DELETE "$(header Location)"
expect_status 204 "its logout"
check "its token is dead after logout" test "$(token_status "$P_TOKEN")" = 401
req GET "$SS"
expect_status 200 "without a token, the anonymous admin as always"
req POST "$SESSIONS" -H "$JSON" --data-binary '{"UserName": "x"}'
expect_rf_error 400 PropertyMissing "the fields are still required"

finish

#!/bin/sh
# test-auth.sh: authentication and authorization (API.md section 8,
# DAEMON.md [auth] and [user]): the 401 challenge, HTTP Digest with MD5 and
# SHA-256 users (curl and tests/e2e/digest-client.py), Basic only where it is
# accepted (TLS, or basic = always), TLS versions and key permissions, wrong
# passwords, replayed and expired nonces, roles against each kind of route,
# the per-user machine ACL (404, never 403), protected mode, the users file's
# mode and syntax, logging of failures without secrets, SIGHUP reloads of
# the users file; and issue 9: Digest replays, odd Authorization headers,
# forged nonces, parallel logins during a flood of challenges, throttling of
# failures, bodies never read before authentication, percent-encoded query
# keys, cross-site actions and DNS rebinding, TLS 1.2 suites.
. "$(dirname "$0")/functions.sh"

for tool in htdigest openssl jq sha256sum base64; do
    command -v "$tool" >/dev/null 2>&1 || { echo "# $tool not installed: skipped"; exit 77; }
done

REALM=virtmcd
# Passwords are distinctive so that the daemon log can be searched for them.
PW_USER='Pw-user-8q2Zt'
PW_OP='Pw-op-J3vKx9'
PW_ADMIN='Pw-admin-Lr7Qm4'
PW_ALICE='Pw-alice-W5nBc'
PW_SUSER='Pw-suser-H6tYp'
PW_SOP='Pw-sop-D2kMv'
PW_NEW='Pw-new-R8gFs'
PW_WRONG='Pw-wrong-Xy9Qe'

# sha256_line USER PASSWORD: a users-file line with a SHA-256 HA1.
sha256_line() {
    printf '%s:%s:%s\n' "$1" "$REALM" "$(printf '%s:%s:%s' "$1" "$REALM" "$2" | sha256sum | cut -d' ' -f1)"
}


USERS="$T/users.digest"
htdigest_add "$USERS" muser "$PW_USER"
htdigest_add "$USERS" mop "$PW_OP"
htdigest_add "$USERS" madmin "$PW_ADMIN"
htdigest_add "$USERS" alice "$PW_ALICE"
htdigest_add "$USERS" empty "$PW_USER"
sha256_line suser "$PW_SUSER" >> "$USERS"
sha256_line sop "$PW_SOP" >> "$USERS"
chmod 0600 "$USERS"
check "htdigest wrote MD5 lines (32 hex digits)" grep -Eq '^muser:virtmcd:[0-9a-f]{32}$' "$USERS"
check "the SHA-256 lines have 64 hex digits" grep -Eq '^suser:virtmcd:[0-9a-f]{64}$' "$USERS"

ROLES='[user "mop"]
role = operator
[user "madmin"]
role = admin
[user "sop"]
role = operator
[user "alice"]
role = operator
machines = vm-o*
[user "empty"]
role = admin
machines ='

auth_conf() {
    write_conf "[auth]
users_file = $USERS
$1
$ROLES
${2:-}"
}

# dreq USER PASSWORD METHOD PATH [curl args]: a request with curl --digest.
dreq() {
    local u=$1 p=$2
    shift 2
    req "$@" --digest -u "$u:$p"
}

# breq USER PASSWORD METHOD PATH [curl args]: a request with HTTP Basic.
breq() {
    local u=$1 p=$2
    shift 2
    req "$@" --basic -u "$u:$p"
}

challenge() { grep -i '^WWW-Authenticate:' "$T/headers" | tr -d '\r'; }
has_digest_alg() { challenge | grep -i '^WWW-Authenticate: *Digest ' | grep -Eiq "algorithm=\"?$1\"?(,|\$)"; }
announces_basic() { challenge | grep -iq '^WWW-Authenticate: *Basic '; }
is_stale() { challenge | grep -Eiq 'stale="?true"?'; }

# ---------------------------------------------------------------------------
# 1. MD5 server (the default), plain HTTP, basic = tls (the default).
# ---------------------------------------------------------------------------
auth_conf "digest_algorithm = md5"
start_daemon || exit 1

req GET /service/machines
expect_error 401 "no credentials"
check "the 401 offers Digest with algorithm=md5" has_digest_alg md5
check "the Digest challenge names the realm and qop=auth" \
    sh -c 'grep -i "^WWW-Authenticate: *Digest" "$1" | grep -q "realm=\"virtmcd\"" &&
           grep -i "^WWW-Authenticate: *Digest" "$1" | grep -qi "qop=\"\{0,1\}auth"' _ "$T/headers"
check "over plain HTTP with basic = tls the 401 does not announce Basic" sh -c '! grep -iq "^WWW-Authenticate: *Basic" "$1"' _ "$T/headers"

req GET /service/vm-off
expect_error 401 "no credentials on a machine path"
req POST /service/vm-off/state_controller/power_on
expect_error 401 "no credentials on an action"
check "the action without credentials did not run" \
    sh -c '[ "$(curl -s --digest -u muser:"$2" "$1/service/vm-off/state_controller/status" | jq -r .state)" = "shut off" ]' _ "$BASE" "$PW_USER"

dreq muser "$PW_USER" GET /service/machines
expect_status 200 "MD5 user with curl --digest"
expect_jq 'length' 8 "and sees every machine"
req_digest GET /service/machines muser "$PW_USER"
expect_status 200 "MD5 user with digest-client.py"
expect_jq '.[0].name' pools "digest-client.py gets the list"

dreq muser "$PW_WRONG" GET /service/machines
expect_error 401 "MD5 user, wrong password (curl)"
check "the 401 after a wrong password carries a challenge" has_digest_alg md5
req_digest GET /service/machines muser "$PW_WRONG"
expect_error 401 "MD5 user, wrong password (digest-client.py)"
dreq nobody "$PW_USER" GET /service/machines
expect_error 401 "unknown user"

req_digest GET /service/machines suser "$PW_SUSER"
expect_error 401 "a SHA-256 user cannot answer the MD5 challenge"
req_digest GET /service/machines suser "$PW_SUSER" --algorithm SHA-256
expect_error 401 "a SHA-256 user answering with SHA-256 when the server asks MD5"

req_digest GET /service/machines muser "$PW_USER" --replay
expect_error 401 "a replayed nonce and nonce count"
check "the first use of that nonce was accepted" grep -qx 'status 200' "$T/trace"
check "the replay was answered 401" sh -c '[ "$(tail -n1 "$1")" = "status 401" ]' _ "$T/trace"

breq muser "$PW_USER" GET /service/machines
expect_error 401 "Basic over plain HTTP with basic = tls"
check "the refusal does not announce Basic" sh -c '! grep -iq "^WWW-Authenticate: *Basic" "$1"' _ "$T/headers"
check "the refusal offers Digest" has_digest_alg md5

# Roles against each kind of route.
dreq muser "$PW_USER" GET /service/vm-off
expect_status 200 "role user: GET a machine"
dreq muser "$PW_USER" GET /service/vm-off/state_controller/status
expect_status 200 "role user: GET status"
dreq muser "$PW_USER" GET /service/vm-off/boot
expect_status 200 "role user: GET boot"
dreq muser "$PW_USER" GET /service/vm-off/backups
expect_status 200 "role user: GET backups"
dreq muser "$PW_USER" POST /service/vm-off/state_controller/power_on
expect_error 403 "role user: POST an action"
dreq muser "$PW_USER" GET /service/vm-off/state_controller/power_on
expect_error 403 "role user: legacy GET on an action"
dreq muser "$PW_USER" PUT /service/vm-off/boot -H 'Content-Type: application/json' -d '{"first": "network"}'
expect_error 403 "role user: PUT boot"
dreq muser "$PW_USER" GET /service/vm-off/state_controller/status
expect_jq .state "shut off" "role user's refused action changed nothing"

dreq mop "$PW_OP" POST /service/vm-off/state_controller/power_on
expect_status 200 "role operator: POST power_on"
expect_jq .state running "the operator's action ran"
dreq mop "$PW_OP" POST /service/vm-off/state_controller/power_off
expect_status 200 "role operator: POST power_off"
dreq mop "$PW_OP" POST '/service/vm-off/state_controller/power_on?force=1'
expect_error 403 "role operator: force=1 needs admin"
dreq mop "$PW_OP" GET /service/vm-off/state_controller/status
expect_jq .state "shut off" "the refused force=1 action did not run"
dreq mop "$PW_OP" PUT /service/vm-off/boot -H 'Content-Type: application/json' -d '{"first": "disk"}'
expect_status 200 "role operator: PUT boot"

# A backup to restore: pxeboot by the admin, then restore it.
dreq madmin "$PW_ADMIN" POST /service/vm-off/state_controller/pxeboot
expect_status 200 "role admin: pxeboot (makes a backup)"
dreq madmin "$PW_ADMIN" GET /service/vm-off/backups
expect_status 200 "role admin: list the backups"
BID=$(jq -r '.[0].id' "$T/body")
check "a backup id is listed" sh -c '[ -n "$1" ] && [ "$1" != null ]' _ "$BID"
dreq madmin "$PW_ADMIN" GET "/service/vm-off/backups/$BID"
expect_status 200 "role admin: read a backup's XML"
check "a backup's XML is never cached (Cache-Control: no-store)" [ "$(header Cache-Control)" = no-store ]
dreq mop "$PW_OP" POST "/service/vm-off/backups/$BID/restore"
expect_error 403 "role operator: backup restore needs admin"
dreq muser "$PW_USER" POST "/service/vm-off/backups/$BID/restore"
expect_error 403 "role user: backup restore"
dreq madmin "$PW_ADMIN" POST "/service/vm-off/backups/$BID/restore"
expect_status 200 "role admin: backup restore"
dreq madmin "$PW_ADMIN" GET /service/vm-off/boot
expect_jq .first disk "the restore brought back the order saved before pxeboot"
dreq madmin "$PW_ADMIN" POST '/service/vm-off/state_controller/power_on?force=1'
expect_status 200 "role admin: force=1"
dreq madmin "$PW_ADMIN" POST /service/vm-off/state_controller/power_off
expect_status 200 "role admin: power_off"

# SHA-256 users get the same roles (via Basic later; Digest in section 2).

# The ACL: alice (operator) sees vm-o* only; others are 404, never 403.
dreq alice "$PW_ALICE" GET /service/machines
expect_status 200 "ACL: alice lists machines"
expect_jq '[.[].name] | join(",")' vm-off "ACL: the list is exactly vm-off"
dreq alice "$PW_ALICE" GET '/service/machines?name=*'
expect_jq '[.[].name] | join(",")' vm-off "ACL: a name filter does not widen it"
dreq alice "$PW_ALICE" POST /service/vm-off/state_controller/power_on
expect_status 200 "ACL: alice may act on vm-off"
dreq alice "$PW_ALICE" POST /service/vm-off/state_controller/power_off
expect_status 200 "ACL: alice powers vm-off off again"
dreq alice "$PW_ALICE" GET /service/nosuch-machine
cp "$T/body" "$T/nosuch.body"
for spec in "GET /service/vm-running" \
    "GET /service/machines/vm-running" \
    "HEAD /service/vm-running" \
    "GET /service/vm-running/state_controller/status" \
    "POST /service/vm-running/state_controller/power_off" \
    "GET /service/vm-running/state_controller/power_off" \
    "POST /service/machines/vm-running/state_controller/reboot" \
    "POST /service/vm-running/state_controller/pxeboot" \
    "GET /service/vm-running/boot" \
    "PUT /service/vm-running/boot" \
    "GET /service/vm-running/backups" \
    "GET /service/vm-running/backups/$BID" \
    "POST /service/vm-running/backups/$BID/restore" \
    "GET /service/web%2001" \
    "GET /service/machines/pools" \
    "GET /service/vm-paused/state_controller/status" \
    "POST /service/vm-crashed/state_controller/power_on?force=1"; do
    m=${spec%% *}
    p=${spec#* }
    if [ "$m" = PUT ]; then
        dreq alice "$PW_ALICE" PUT "$p" -H 'Content-Type: application/json' -d '{"first": "network"}'
    elif [ "$m" = HEAD ]; then
        dreq alice "$PW_ALICE" HEAD "$p" -I
        expect_status 404 "ACL: $spec is 404 for alice"
        continue
    else
        dreq alice "$PW_ALICE" "$m" "$p"
    fi
    expect_error 404 "ACL: $spec is 404 for alice"
done
dreq alice "$PW_ALICE" GET /service/vm-running
check "ACL: the hidden machine's 404 reads like an unknown machine's" \
    sh -c '[ "$(sed "s/vm-running/NAME/g" "$1")" = "$(sed "s/nosuch-machine/NAME/g" "$2")" ]' _ "$T/body" "$T/nosuch.body"
dreq madmin "$PW_ADMIN" GET /service/vm-running/state_controller/status
expect_jq .state running "ACL: alice's refused actions changed nothing"
dreq madmin "$PW_ADMIN" GET /service/vm-crashed/state_controller/status
expect_jq .state crashed "ACL: alice's refused force=1 changed nothing"

# An empty machine list grants no machine, even to an admin.
dreq empty "$PW_USER" GET /service/machines
expect_status 200 "ACL: machines = (empty) lists"
expect_jq 'length' 0 "ACL: machines = (empty) sees no machine"
dreq empty "$PW_USER" POST /service/vm-off/state_controller/power_on
expect_error 404 "ACL: machines = (empty) cannot act on vm-off"
dreq empty "$PW_USER" GET /service/health
expect_status 200 "ACL: machines = (empty) still reads /service/health"

# Failed logins are logged with the peer; no secret is ever logged.
check "failed logins are logged with the peer address" grep -Eiq 'fail.*127\.0\.0\.1|127\.0\.0\.1.*fail' "$T/daemon.log"
check "a failed login names its reason" grep -Eiq "auth.*(fail|wrong|unknown)" "$T/daemon.log"
stop_daemon

# ---------------------------------------------------------------------------
# 2. SHA-256 server, nonce_timeout = 2.
# ---------------------------------------------------------------------------
auth_conf "digest_algorithm = sha256
nonce_timeout = 2"
start_daemon -v || exit 1
req GET /service/machines
expect_error 401 "sha256 server: no credentials"
check "the 401 offers Digest with algorithm=SHA-256" has_digest_alg SHA-256
echo "# sha256 challenge: $(challenge)"
check "and no MD5 challenge" sh -c '! grep -i "^WWW-Authenticate: *Digest" "$1" | grep -Eiq "algorithm=\"?md5"' _ "$T/headers"
req_digest GET /service/machines suser "$PW_SUSER"
expect_status 200 "SHA-256 user with digest-client.py"
expect_jq 'length' 8 "the SHA-256 user sees every machine"
dreq suser "$PW_SUSER" GET /service/machines
expect_status 200 "SHA-256 user with curl --digest (curl answers SHA-256)"
req_digest GET /service/machines suser "$PW_WRONG"
expect_error 401 "SHA-256 user, wrong password"
req_digest GET /service/machines muser "$PW_USER"
expect_error 401 "an MD5 user cannot answer the SHA-256 challenge"
req_digest GET /service/machines muser "$PW_USER" --algorithm MD5
expect_error 401 "an MD5 user answering with MD5 when the server asks SHA-256"
req_digest GET /service/machines suser "$PW_SUSER" --replay
expect_error 401 "sha256: a replayed nonce"
check "sha256: the first use of the nonce was accepted" grep -qx 'status 200' "$T/trace"
req_digest POST /service/vm-off/state_controller/power_on suser "$PW_SUSER"
expect_error 403 "SHA-256 role user: POST an action"
req_digest POST /service/vm-off/state_controller/power_on sop "$PW_SOP"
expect_status 200 "SHA-256 operator: POST an action"
req_digest POST /service/vm-off/state_controller/power_off sop "$PW_SOP"
expect_status 200 "SHA-256 operator: power_off"
req_digest POST "/service/vm-off/backups/$BID/restore" sop "$PW_SOP"
expect_error 403 "SHA-256 operator: backup restore"

req_digest GET /service/machines suser "$PW_SUSER" --wait 3
expect_error 401 "an answer to an expired nonce (nonce_timeout = 2, 3 s later)"
check "the new challenge says stale=true" is_stale
check "the stale challenge is SHA-256 too" has_digest_alg SHA-256
req_digest GET /service/machines suser "$PW_SUSER"
expect_status 200 "a fresh nonce works again"
check "failed logins are logged with the peer address (sha256)" grep -Eiq 'fail.*127\.0\.0\.1|127\.0\.0\.1.*fail' "$T/daemon.log"
for pw in "$PW_SUSER" "$PW_USER" "$PW_WRONG" "$PW_SOP"; do
    check "the debug log never contains a password ($pw)" sh -c '! grep -qF -- "$1" "$2"' _ "$pw" "$T/daemon.log"
done
stop_daemon

# ---------------------------------------------------------------------------
# 3. basic = always over plain HTTP: both kinds of line.
# ---------------------------------------------------------------------------
auth_conf "basic = always"
start_daemon -v || exit 1
req GET /service/machines
expect_error 401 "basic = always: no credentials"
check "basic = always: the 401 announces Basic" announces_basic
check "basic = always: the 401 still offers Digest" has_digest_alg md5
breq muser "$PW_USER" GET /service/machines
expect_status 200 "Basic with an MD5 line"
breq suser "$PW_SUSER" GET /service/machines
expect_status 200 "Basic with a SHA-256 line"
breq sop "$PW_SOP" POST /service/vm-off/state_controller/power_on
expect_status 200 "Basic: SHA-256 operator acts"
breq sop "$PW_SOP" POST /service/vm-off/state_controller/power_off
expect_status 200 "Basic: SHA-256 operator powers off"
breq suser "$PW_SUSER" POST /service/vm-off/state_controller/power_on
expect_error 403 "Basic: role user cannot act"
breq muser "$PW_WRONG" GET /service/machines
expect_error 401 "Basic, wrong password (MD5 line)"
check "the 401 after a wrong Basic password announces Basic" announces_basic
breq suser "$PW_WRONG" GET /service/machines
expect_error 401 "Basic, wrong password (SHA-256 line)"
breq nobody "$PW_WRONG" GET /service/machines
expect_error 401 "Basic, unknown user"
req GET /service/machines -H 'Authorization: Basic !!!notbase64'
expect_error 401 "Basic with garbage credentials"
req GET /service/machines -H 'Authorization: Bearer abc'
expect_error 401 "an unsupported scheme"
check "failed Basic logins are logged with the peer address" grep -q "Authentication failed from 127.0.0.1" "$T/daemon.log"
# A user name is the client's text: a line break in it must not start a
# forged log line.
forged=$(printf 'mallory\nFORGED-LOG-LINE warning: admin logged in:x' | base64 | tr -d '\n')
req GET /service/machines -H "Authorization: Basic $forged"
expect_error 401 "Basic with a line break in the user name"
check "a line break in a user name does not forge a log line" sh -c '! grep -q "^FORGED-LOG-LINE" "$1"' _ "$T/daemon.log"
for pw in "$PW_USER" "$PW_SUSER" "$PW_WRONG" "$PW_SOP"; do
    check "no password in the log ($pw)" sh -c '! grep -qF -- "$1" "$2"' _ "$pw" "$T/daemon.log"
done
for cred in "muser:$PW_WRONG" "suser:$PW_WRONG" "muser:$PW_USER"; do
    b64=$(printf '%s' "$cred" | base64)
    check "no Basic credentials in the log (${cred%%:*})" sh -c '! grep -qF -- "$1" "$2"' _ "$b64" "$T/daemon.log"
done
stop_daemon

# ---------------------------------------------------------------------------
# 4. TLS.
# ---------------------------------------------------------------------------
(cd "$T" && openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 \
    -subj /CN=localhost >/dev/null 2>&1)
chmod 0600 "$T/key.pem"
TLS_CONF="[server]
tls_cert = $T/cert.pem
tls_key = $T/key.pem"

# start_tls_daemon: like start_daemon, over https.
start_tls_daemon() {
    local rc
    DAEMON_SCHEME=https
    start_daemon "$@"
    rc=$?
    DAEMON_SCHEME=http
    [ "$rc" = 0 ] || echo "# the TLS daemon did not start"
    return $rc
}

auth_conf "" "$TLS_CONF"
if start_tls_daemon -v; then
    req GET /service/machines -k
    expect_error 401 "TLS: no credentials"
    check "TLS with basic = tls: the 401 announces Basic" announces_basic
    check "TLS: the 401 offers Digest too" has_digest_alg md5
    breq muser "$PW_USER" GET /service/machines -k
    expect_status 200 "TLS: Basic with an MD5 line"
    breq suser "$PW_SUSER" GET /service/machines -k
    expect_status 200 "TLS: Basic with a SHA-256 line"
    breq muser "$PW_WRONG" GET /service/machines -k
    expect_error 401 "TLS: Basic, wrong password"
    dreq muser "$PW_USER" GET /service/machines -k
    expect_status 200 "TLS: Digest"
    req_digest GET /service/machines muser "$PW_USER"
    expect_status 200 "TLS: digest-client.py over https"
    req GET /service/machines -k --tlsv1.2 --tls-max 1.2 --basic -u "muser:$PW_USER"
    expect_status 200 "TLS 1.2 is accepted"
    # TLS 1.1 must fail.  Show first that this client can speak TLS 1.1 at
    # all (against openssl s_server), so the failure below is the daemon's.
    p11=$(free_port)
    openssl s_server -quiet -accept "$p11" -cert "$T/cert.pem" -key "$T/key.pem" -tls1_1 \
        -cipher 'DEFAULT:@SECLEVEL=0' -www > /dev/null 2>&1 &
    s11=$!
    sleep 0.5
    if echo | openssl s_client -connect "127.0.0.1:$p11" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' \
        > "$T/s11.log" 2>&1 && grep -q 'Protocol *: TLSv1.1' "$T/s11.log"; then
        ok "control: openssl s_client speaks TLS 1.1 to openssl s_server"
    else
        echo "# this openssl cannot do TLS 1.1 at all; the refusal below proves less"
    fi
    kill "$s11" 2>/dev/null; wait "$s11" 2>/dev/null
    if echo | openssl s_client -connect "127.0.0.1:$PORT" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' \
        > "$T/s11d.log" 2>&1 && grep -q 'Protocol *: TLSv1.1' "$T/s11d.log"; then
        not_ok "TLS 1.1 is refused by the daemon"
    else
        ok "TLS 1.1 is refused by the daemon"
    fi
    # TLS 1.2 only with forward-secret AEAD suites.  The control shows that
    # this openssl offers each suite at all (to its own s_server).
    p12=$(free_port)
    openssl s_server -quiet -accept "$p12" -cert "$T/cert.pem" -key "$T/key.pem" \
        -cipher 'ALL:@SECLEVEL=0' -www > /dev/null 2>&1 &
    s12=$!
    sleep 0.5
    for suite in AES128-SHA AES128-GCM-SHA256 ECDHE-RSA-AES128-SHA ECDHE-RSA-AES128-GCM-SHA256; do
        if echo | openssl s_client -connect "127.0.0.1:$p12" -tls1_2 -cipher "$suite:@SECLEVEL=0" \
            > "$T/s12.log" 2>&1 && grep -q "Cipher is $suite" "$T/s12.log"; then
            ok "control: openssl s_client negotiates $suite with openssl s_server"
        else
            echo "# this openssl cannot negotiate $suite at all; the check below proves less"
        fi
        if echo | openssl s_client -connect "127.0.0.1:$PORT" -tls1_2 -cipher "$suite:@SECLEVEL=0" \
            > "$T/s12d.log" 2>&1 && grep -q "Cipher is $suite" "$T/s12d.log"; then
            got=accepted
        else
            got=refused
        fi
        case $suite in
        ECDHE-*-GCM-*) want=accepted ;;
        *) want=refused ;;
        esac
        check "TLS 1.2 $suite is $want by the daemon" [ "$got" = "$want" ]
    done
    kill "$s12" 2>/dev/null; wait "$s12" 2>/dev/null
    check "TLS 1.3 is accepted" \
        sh -c 'echo | openssl s_client -connect "127.0.0.1:$1" -tls1_3 2>&1 | grep -q "TLSv1.3"' _ "$PORT"
    check "TLS 1.1 via curl --tls-max 1.1 fails" sh -c '! curl -sk --max-time 5 --tls-max 1.1 -o /dev/null "$1/service/health"' _ "$BASE"
    check "the daemon still serves after the refused handshake" \
        sh -c '[ "$(curl -sk -o /dev/null -w "%{http_code}" --basic -u "muser:$2" "$1/service/health")" = 200 ]' _ "$BASE" "$PW_USER"
    check "TLS: no password in the log" sh -c '! grep -qF -- "$1" "$2"' _ "$PW_WRONG" "$T/daemon.log"
    stop_daemon
else
    not_ok "TLS: the daemon starts with a 0600 key"
    stop_daemon
fi
BASE="http://127.0.0.1:$PORT"

# basic = never over TLS: Basic refused and not announced.
auth_conf "basic = never" "$TLS_CONF"
if start_tls_daemon; then
    breq muser "$PW_USER" GET /service/machines -k
    expect_error 401 "TLS with basic = never: Basic refused"
    check "basic = never: Basic not announced" sh -c '! grep -iq "^WWW-Authenticate: *Basic" "$1"' _ "$T/headers"
    stop_daemon
else
    not_ok "TLS with basic = never: the daemon starts"
fi

chmod 0644 "$T/key.pem"
auth_conf "" "$TLS_CONF"
PORT=$(free_port)
expect_exit_within 10 "a TLS key with mode 0644: the daemon refuses to start" \
    "$VIRTMCD" -c "$T/virtmcd.conf" --listen "127.0.0.1:$PORT" --uri "$NODE"
check "the message names the key and chmod" sh -c 'grep -q "key.pem" "$1" && grep -q "chmod" "$1"' _ "$T/exit.log"
chmod 0600 "$T/key.pem"

# ---------------------------------------------------------------------------
# 5. Protected mode and the users file at start.
# ---------------------------------------------------------------------------
write_conf ""
PORT=$(free_port)
expect_exit_within 10 "no users_file and --listen 0.0.0.0: refused" \
    "$VIRTMCD" -c "$T/virtmcd.conf" --listen "0.0.0.0:$PORT" --uri "$NODE"
check "the message mentions htdigest" grep -q htdigest "$T/exit.log"
check "nothing listens on that port" sh -c '! curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/service/health"' _ "$PORT"

PORT=$(free_port)
expect_exit_within 10 "no users_file and --listen [::]: refused" \
    "$VIRTMCD" -c "$T/virtmcd.conf" --listen "[::]:$PORT" --uri "$NODE"

auth_conf ""
PORT=$(free_port)
"$VIRTMCD" -c "$T/virtmcd.conf" --listen "0.0.0.0:$PORT" --uri "$NODE" > "$T/daemon.log" 2>&1 &
DAEMON_PID=$!
BASE="http://127.0.0.1:$PORT"
if wait_http "$BASE/service/health" 10 && kill -0 "$DAEMON_PID" 2>/dev/null; then
    ok "with a users_file, 0.0.0.0 is accepted"
    req GET /service/health
    expect_error 401 "0.0.0.0 with users: anonymous requests are refused"
else
    not_ok "with a users_file, 0.0.0.0 is accepted"
fi
stop_daemon

chmod 0640 "$USERS"
PORT=$(free_port)
expect_exit_within 10 "a users file readable by group (0640): refused" \
    "$VIRTMCD" -c "$T/virtmcd.conf" --listen "127.0.0.1:$PORT" --uri "$NODE"
check "the message names chmod" grep -q chmod "$T/exit.log"
check "the message names the users file" grep -qF "$USERS" "$T/exit.log"
chmod 0604 "$USERS"
expect_exit_within 10 "a users file readable by others (0604): refused" \
    "$VIRTMCD" -c "$T/virtmcd.conf" --listen "127.0.0.1:$PORT" --uri "$NODE"
chmod 0600 "$USERS"

BAD="$T/bad.digest"
{ head -n 2 "$USERS"; echo 'this line is not a users line'; } > "$BAD"
chmod 0600 "$BAD"
write_conf "[auth]
users_file = $BAD"
expect_exit_within 10 "a malformed users line: refused" \
    "$VIRTMCD" -c "$T/virtmcd.conf" --listen "127.0.0.1:$PORT" --uri "$NODE"
check "the message is FILE:LINE" grep -qF "$BAD:3:" "$T/exit.log"
{ head -n 1 "$USERS"; echo 'bob:virtmcd:0123456789abcdef'; } > "$BAD"
expect_exit_within 10 "a users line with a short hash: refused" \
    "$VIRTMCD" -c "$T/virtmcd.conf" --listen "127.0.0.1:$PORT" --uri "$NODE"
check "the short-hash message is FILE:LINE" grep -qF "$BAD:2:" "$T/exit.log"
{ head -n 1 "$USERS"; echo 'bob:virtmcd:0123456789abcdef0123456789abcdeg'; } > "$BAD"
expect_exit_within 10 "a users line with a non-hex hash: refused" \
    "$VIRTMCD" -c "$T/virtmcd.conf" --listen "127.0.0.1:$PORT" --uri "$NODE"
check "the non-hex message is FILE:LINE" grep -qF "$BAD:2:" "$T/exit.log"
check "--test-config reports the users file error too" \
    sh -c '! "$1" --test-config -c "$2" > "$3" 2>&1 && grep -qF "$4:2:" "$3"' _ "$VIRTMCD" "$T/virtmcd.conf" "$T/tc.log" "$BAD"
check "no hash of a good line is printed" sh -c '! grep -qF "$(head -n1 "$1" | cut -d: -f3)" "$2"' _ "$USERS" "$T/exit.log"

# ---------------------------------------------------------------------------
# 6. SIGHUP reloads the users file.
# ---------------------------------------------------------------------------
RUSERS="$T/reload.digest"
cp "$USERS" "$RUSERS"
chmod 0600 "$RUSERS"
write_conf "[auth]
users_file = $RUSERS"
start_daemon || exit 1
dreq newbie "$PW_NEW" GET /service/machines
expect_error 401 "before SIGHUP the new user is unknown"
htdigest_add "$RUSERS" newbie "$PW_NEW"
chmod 0600 "$RUSERS"
reload_daemon || not_ok "the daemon did not reload"
dreq newbie "$PW_NEW" GET /service/machines
expect_status 200 "SIGHUP with a changed users file adds a user"
dreq muser "$PW_USER" GET /service/machines
expect_status 200 "the old users still log in"

# A malformed file on SIGHUP keeps the old users.
cp "$RUSERS" "$T/reload.good"
htdigest_add "$RUSERS" later "$PW_NEW"
echo 'garbage-without-colons' >> "$RUSERS"
chmod 0600 "$RUSERS"
reload_daemon || not_ok "the daemon did not reload"
check "still running after a bad users file" kill -0 "$DAEMON_PID"
dreq newbie "$PW_NEW" GET /service/machines
expect_status 200 "a malformed users file on SIGHUP keeps the old users"
dreq muser "$PW_USER" GET /service/machines
expect_status 200 "and the old users still log in"
dreq later "$PW_NEW" GET /service/machines
expect_error 401 "the user of the refused file is not added"
check "the refused reload names FILE:LINE" grep -qF "$RUSERS:$(wc -l < "$RUSERS" | tr -d ' '):" "$T/daemon.log"

# A users file made group-readable on SIGHUP is refused too.
cp "$T/reload.good" "$RUSERS"
chmod 0640 "$RUSERS"
reload_daemon || not_ok "the daemon did not reload"
dreq muser "$PW_USER" GET /service/machines
expect_status 200 "a 0640 users file on SIGHUP keeps the old users"
check "the refused reload names chmod" grep -q chmod "$T/daemon.log"
chmod 0600 "$RUSERS"

# A removed user is gone after SIGHUP.
grep -v '^newbie:' "$T/reload.good" > "$RUSERS"
reload_daemon || not_ok "the daemon did not reload"
dreq newbie "$PW_NEW" GET /service/machines
expect_error 401 "SIGHUP removes a user taken out of the file"
for pw in "$PW_NEW" "$PW_USER"; do
    check "no password in the log after reloads ($pw)" sh -c '! grep -qF -- "$1" "$2"' _ "$pw" "$T/daemon.log"
done
stop_daemon

# ---------------------------------------------------------------------------
# 7. Digest as an attacker uses it: replays, odd headers, forged nonces, a
#    crowd of clients during a flood of challenges (tests/e2e/digest-hostile.py).
#    Throttling is off here so that every refusal is the Digest check's own.
# ---------------------------------------------------------------------------
HOSTILE="$abs_srcdir/tests/e2e/digest-hostile.py"
# hostile SCENARIO USER PASSWORD [ARGS]: each check of digest-hostile.py is one here.
hostile() {
    local scen=$1 u=$2 p=$3 rc line
    shift 3
    /usr/bin/python3 "$HOSTILE" "$scen" "$BASE" "$u" "$p" "$@" > "$T/hostile.out" 2>&1
    rc=$?
    while IFS= read -r line; do
        case $line in
        "ok "*) ok "${line#ok }" ;;
        "FAIL "*) not_ok "${line#FAIL }" ;;
        *) echo "# $line" ;;
        esac
    done < "$T/hostile.out"
    case $rc in 0 | 1) ;; *) not_ok "digest-hostile.py $scen exited with status $rc" ;; esac
}
auth_conf "max_failures = 0
digest_algorithm = md5"
start_daemon || exit 1
hostile replay muser "$PW_USER"
hostile params muser "$PW_USER"
hostile forged muser "$PW_USER"
check "a forged nonce is logged for a known user" \
    grep -q "nonce from 127.0.0.1 for user 'muser'.*not one this process issued" "$T/daemon.log"
check "a forged nonce is logged for an unknown user" \
    grep -q "nonce from 127.0.0.1 for user 'nobody-here'.*not one this process issued" "$T/daemon.log"
check "a wrong password is logged for a known user" \
    grep -q "Authentication failed from 127.0.0.1 for user 'muser'.*wrong password" "$T/daemon.log"
check "a wrong password is logged for an unknown user" \
    grep -q "Authentication failed from 127.0.0.1 for user 'nobody-here'.*unknown user" "$T/daemon.log"
check "a replayed nonce count is logged" grep -q "nonce count not above" "$T/daemon.log"

# 16 clients at once, each logging in 20 times, while 8 kept-alive
# connections flood the daemon with unauthenticated requests.
hostile parallel muser "$PW_USER" 16 20 8
hostile parallel muser "$PW_USER" 16 5 0

# 16 curl --digest at once, MD5 here and SHA-256 below.
par_curl() {
    local u=$1 p=$2 i
    rm -f "$T"/par.*
    for i in $(seq 1 16); do
        curl -s -o /dev/null -w '%{http_code}\n' --digest -u "$u:$p" "$BASE/service/machines" \
            > "$T/par.$i" &
    done
    wait
    cat "$T"/par.* | sort | uniq -c | tr -s ' '
}
res=$(par_curl muser "$PW_USER")
check "16 parallel curl --digest (MD5) all get 200 ($res)" [ "$res" = " 16 200" ]
stop_daemon

auth_conf "max_failures = 0
digest_algorithm = sha256"
start_daemon || exit 1
res=$(par_curl suser "$PW_SUSER")
check "16 parallel curl --digest (SHA-256) all get 200 ($res)" [ "$res" = " 16 200" ]
hostile replay suser "$PW_SUSER"
stop_daemon

# ---------------------------------------------------------------------------
# 8. Throttling: max_failures = 3 in a 5 s window (long enough for the
#    checks of one block to fit in it on a loaded machine).
# ---------------------------------------------------------------------------
# Linux routes all of 127.0.0.0/8 to lo: other client addresses for free.
if curl -s -o /dev/null --interface 127.0.0.2 --max-time 2 "http://127.0.0.1:1/" 2>/dev/null; [ $? != 45 ]; then
    ALT_OK=1
else
    ALT_OK=
fi
W=5
auth_conf "basic = always
max_failures = 3
failure_window = $W"
start_daemon || exit 1
# The section's length in $W s windows bounds what the log may say: on a
# loaded machine the guesses below outlast one window, and each new window
# starts a new episode (three logged failures, one throttling line).
t0=$(date +%s%N)
for i in 1 2 3; do
    breq muser "$PW_WRONG" GET /service/machines
    expect_error 401 "throttling: wrong password $i of 3"
done
breq muser "$PW_USER" GET /service/machines
expect_error 429 "throttling: after 3 failures even the right password gets 429"
ra=$(header Retry-After)
check "the 429 carries Retry-After in seconds, at most the window ('$ra')" \
    sh -c '[ "$1" -ge 1 ] && [ "$1" -le "$2" ]' _ "$ra" "$W"
req_digest GET /service/machines madmin "$PW_ADMIN"
check "throttling: Digest from the blocked address is refused too (status $STATUS)" [ "$STATUS" = 429 ]
if [ -n "$ALT_OK" ]; then
    breq madmin "$PW_ADMIN" GET /service/machines --interface 127.0.0.2
    expect_status 200 "throttling: another address with another user is served"
    breq muser "$PW_USER" GET /service/machines --interface 127.0.0.2
    expect_error 429 "throttling: the blocked user is refused from another address too"
    for i in 1 2 3; do
        breq nobody-at-all "$PW_WRONG" GET /service/machines --interface 127.0.0.3
    done
    breq nobody-at-all "$PW_WRONG" GET /service/machines --interface 127.0.0.4
    expect_error 429 "throttling: an unknown user is throttled like a known one"
else
    echo "# cannot bind 127.0.0.2: the checks from other addresses are skipped"
fi
# Every guess inside the window that the first failures opened is refused;
# on a loaded machine the later ones may fall into a new window, which
# counts them again (and logs a new episode): that is right, not a failure.
early=0
refused_early=0
for i in $(seq 1 30); do
    breq muser "$PW_WRONG" GET /service/machines
    if [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt $((W * 1000 - 200)) ]; then
        early=$((early + 1))
        [ "$STATUS" = 429 ] && refused_early=$((refused_early + 1))
    fi
done
check "throttling: the guesses inside the window are all refused ($refused_early of $early)" \
    [ "$refused_early" = "$early" ]
windows=$(( ($(date +%s%N) - t0) / (W * 1000000000) + 1 ))
n=$(grep -c "Authentication failed from 127.0.0.1" "$T/daemon.log")
check "throttled guesses are not logged one by one ($n lines for 33 guesses in $windows windows)" \
    [ "$n" -le $((3 * windows + 1)) ]
n=$(grep -c "Throttling a:127.0.0.1" "$T/daemon.log")
check "one line says the address is throttled, per window at most ($n in $windows)" \
    sh -c '[ "$1" -ge 1 ] && [ "$1" -le "$2" ]' _ "$n" "$windows"
sleep $W.2
breq muser "$PW_USER" GET /service/machines
expect_status 200 "throttling: released after the window"
check "the release is logged with the count refused" \
    grep -q "No longer throttling a:127.0.0.1: [1-9][0-9]* requests refused" "$T/daemon.log"
stop_daemon

# ---------------------------------------------------------------------------
# 9. Bodies are not read before authentication: 1000 connections at once
#    each send the headers and half of a 64 KiB body; each gets 401 before
#    its body ends, and the daemon's peak memory barely moves.
# ---------------------------------------------------------------------------
auth_conf "max_failures = 0" "[server]
max_connections_per_ip = 0
max_connections = 2000"
start_daemon || exit 1
cat > "$T/bodies.py" <<'PYEOF'
import resource, socket, sys
port, n, pid = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = n + 100 if hard == resource.RLIM_INFINITY else min(hard, n + 100)
if soft < want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
if want < n + 50:
    print("cannot open %d sockets" % n)
    sys.exit(77)
def hwm():
    for l in open("/proc/%s/status" % pid):
        if l.startswith("VmHWM:"):
            return int(l.split()[1])
before = hwm()
head = (b"PUT /service/vm-off/boot HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 65536\r\n\r\n")
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setblocking(False)
    try:
        s.send(head + b" " * 32768)
    except OSError:
        pass
    socks.append(s)
got401 = closed = 0
for s in socks:
    s.settimeout(5)
    data = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                closed += 1
                break
            data += d
    except OSError:
        pass
    got401 += data.startswith(b"HTTP/1.1 401")
    s.close()
print("%d %d %d %d" % (got401, closed, before, hwm()))
PYEOF
/usr/bin/python3 "$T/bodies.py" "$PORT" 1000 "$DAEMON_PID" > "$T/bodies.out" 2>&1
rc=$?
if [ "$rc" = 77 ]; then
    echo "# $(cat "$T/bodies.out"): skipped"
else
    read -r got closed before after < "$T/bodies.out"
    echo "# 401s $got, closed $closed, VmHWM $before -> $after kB"
    check "1000 half-sent unauthenticated bodies: each answered 401 before its body ended ($got)" \
        [ "$got" = 1000 ]
    check "and each connection closed after the answer, its body unread ($closed)" [ "$closed" = 1000 ]
    check "peak memory grew less than 40 MB ($before -> $after kB)" [ $((after - before)) -lt 40960 ]
fi
req GET /service/machines
expect_error 401 "a refused request without a body keeps its connection usable"
dreq muser "$PW_USER" PUT /service/vm-off/boot -H 'Content-Type: application/json' -d '{"first": "disk"}'
expect_error 403 "an authenticated body is still read and checked (role user: 403)"
dreq mop "$PW_OP" PUT /service/vm-off/boot -H 'Content-Type: application/json' -d '{"first": "disk"}'
expect_status 200 "an authenticated PUT with a body works"
stop_daemon

# ---------------------------------------------------------------------------
# 10. Query keys are decoded once, and every reader sees the decoded key.
# ---------------------------------------------------------------------------
auth_conf "max_failures = 0"
start_daemon || exit 1
dreq mop "$PW_OP" POST '/service/vm-off/state_controller/power_on?%66orce=1'
expect_error 403 "?%66orce=1 is force=1: the operator is refused"
dreq mop "$PW_OP" GET /service/vm-off/state_controller/status
expect_jq .state "shut off" "the refused %66orce action did not run"
dreq mop "$PW_OP" POST '/service/vm-off/state_controller/pxeboot?%6fnce=1'
expect_status 200 "?%6fnce=1 is accepted as once=1"
expect_jq .once true "?%6fnce=1 made a one-time change"
expect_jq .persistent false "?%6fnce=1 made no persistent change"
dreq mop "$PW_OP" POST /service/vm-off/state_controller/diskboot
dreq muser "$PW_USER" GET '/service/machines?state=running'
cp "$T/body" "$T/plain.json"
dreq muser "$PW_USER" GET '/service/machines?%73tate=running'
expect_status 200 "?%73tate=running is answered"
check "?%73tate=running filters as ?state=running does" cmp -s "$T/plain.json" "$T/body"
check "and it does filter (fewer than all 8 machines)" sh -c '[ "$(jq length "$1")" -lt 8 ]' _ "$T/body"
dreq muser "$PW_USER" GET '/service/machines?st%61te=running&bogus%3d=1'
expect_error 400 "an unknown decoded key is refused"
stop_daemon

# ---------------------------------------------------------------------------
# 11. Browsers: cross-site actions and DNS rebinding.
# ---------------------------------------------------------------------------
write_conf ""
start_daemon || exit 1
req POST /service/vm-off/state_controller/power_on -H 'Sec-Fetch-Site: cross-site'
expect_error 403 "protected mode: a cross-site POST action is refused"
req GET /service/vm-off/state_controller/power_on -H 'Sec-Fetch-Site: cross-site'
expect_error 403 "protected mode: a cross-site legacy GET action is refused"
req POST /service/vm-off/state_controller/power_on -H 'Sec-Fetch-Site: same-site'
expect_error 403 "a same-site action (another port of localhost) is refused"
req POST /service/vm-off/state_controller/power_on -H 'Origin: http://evil.example'
expect_error 403 "an action with a foreign Origin is refused"
req POST /service/vm-off/state_controller/power_on -H 'Origin: null'
expect_error 403 "an action with Origin: null is refused"
req POST /service/vm-off/state_controller/power_on -H "Origin: http://127.0.0.1:$(free_port)"
expect_error 403 "an action from another port of the same host is refused"
check "the refusal says why" grep -q "Origin" "$T/body"
req GET /service/vm-off/state_controller/status
expect_jq .state "shut off" "no refused cross-site action ran"
req GET /service/machines -H 'Sec-Fetch-Site: cross-site'
expect_status 200 "a cross-site read is answered"
req POST /service/vm-off/state_controller/power_on -H "Origin: http://127.0.0.1:$PORT" \
    -H 'Sec-Fetch-Site: same-origin'
expect_status 200 "an action from the service's own origin runs"
req POST /service/vm-off/state_controller/power_off -H 'Sec-Fetch-Site: none'
expect_status 200 "an action the user typed (Sec-Fetch-Site: none) runs"
req GET /service/vm-off/state_controller/power_on
expect_status 200 "a legacy GET action without browser headers still runs"
req POST /service/vm-off/state_controller/power_off
for h in evil.example "evil.example:$PORT" "localhost:1" "127.0.0.1.evil.example:$PORT" "[::2]:$PORT"; do
    req GET /service/machines -H "Host: $h"
    expect_error 421 "protected mode: Host $h is refused"
done
for h in "127.0.0.1:$PORT" "localhost:$PORT" "LOCALHOST:$PORT" "[::1]:$PORT" 127.0.0.1; do
    req GET /service/machines -H "Host: $h"
    expect_status 200 "protected mode: Host $h is served"
done
stop_daemon

# With users, a browser that has Digest credentials cached still cannot act
# cross-site; any Host name is fine (a BMC may have any DNS name).
auth_conf "max_failures = 0"
start_daemon || exit 1
dreq madmin "$PW_ADMIN" POST /service/vm-off/state_controller/power_on -H 'Sec-Fetch-Site: cross-site'
expect_error 403 "with users: a cross-site action with good credentials is refused"
dreq madmin "$PW_ADMIN" POST /service/vm-off/state_controller/power_on -H 'Origin: https://evil.example'
expect_error 403 "with users: an action with a foreign Origin is refused"
dreq madmin "$PW_ADMIN" GET /service/machines -H 'Host: bmc.example:9001'
expect_status 200 "with users: any Host name is served"
stop_daemon

finish

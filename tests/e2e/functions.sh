# functions.sh: shared by the end-to-end tests.  Starts the real virtmcd on a
# port the kernel picks (--listen 127.0.0.1:0) against libvirt's test driver,
# waits for its READY=1 notification and takes the port from it, sends
# requests with curl, checks answers with jq, and stops the daemon whatever
# happens.
#
# A test sources this file, calls start_daemon [extra args], then uses
# req/expect_*; reload_daemon sends SIGHUP and waits for the reload to be
# done; `finish` prints the count and sets the exit status.

set -u

: "${abs_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${VIRTMCD:=$abs_srcdir/virtmcd}"
: "${VIRTMCD_WRAPPER:=}"

NODE="test://$abs_srcdir/tests/data/node.xml"
T=$(mktemp -d "${TMPDIR:-/tmp}/virtmcd-e2e.XXXXXX")
PASSED=0
FAILED=0
DAEMON_PID=
PORT=
BASE=
# The daemon's sd_notify messages, one field a line (tests/e2e/notify-listen).
NOTIFY_LISTEN="${abs_builddir:-$abs_srcdir}/tests/e2e/notify-listen"
NOTIFY_SOCK="$T/notify.sock"
NOTIFY_LOG="$T/notify.log"
NOTIFY_PID=
# The address the daemon reports (X_VIRTMCD_LISTEN), and the scheme of BASE.
DAEMON_LISTEN=
: "${DAEMON_SCHEME:=http}"

cleanup() {
    stop_daemon
    notify_stop
    rm -rf "$T"
}
trap cleanup EXIT

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

ok() {
    PASSED=$((PASSED + 1))
    echo "ok - $*"
}

not_ok() {
    FAILED=$((FAILED + 1))
    echo "not ok - $*"
    if [ -f "$T/body" ]; then echo "#   status $STATUS, body: $(head -c 600 "$T/body")"; fi
}

# write_conf [extra INI text]: a configuration with a private backup folder.
write_conf() {
    mkdir -p "$T/backups"
    {
        printf '[boot]\nbackup_dir = %s/backups\n' "$T"
        printf '%s\n' "${1:-}"
    } > "$T/virtmcd.conf"
}

# htdigest_add FILE USER PASSWORD: a users-file line as Apache's htdigest
# writes it (MD5), in realm $REALM (default virtmcd).
htdigest_add() {
    if [ -f "$1" ]; then c=; else c=-c; fi
    printf '%s\n%s\n' "$3" "$3" | htdigest $c "$1" "${REALM:-virtmcd}" "$2" >/dev/null 2>&1
}

# wait_for SECONDS CMD...: run CMD every 50 ms until it succeeds; 1 when it
# never did within SECONDS.  For conditions only: never as a stopwatch.
wait_for() {
    local secs=$1 i=0
    shift
    while ! "$@"; do
        [ "$i" -ge $((secs * 20)) ] && return 1
        sleep 0.05
        i=$((i + 1))
    done
}

notify_stop() {
    if [ -n "$NOTIFY_PID" ]; then
        kill "$NOTIFY_PID" 2>/dev/null
        wait "$NOTIFY_PID" 2>/dev/null
    fi
    NOTIFY_PID=
}

# notify_start: a fresh NOTIFY_SOCKET ($NOTIFY_SOCK) logging to $NOTIFY_LOG.
notify_start() {
    notify_stop
    rm -f "$NOTIFY_LOG" "$NOTIFY_SOCK"
    if [ ! -x "$NOTIFY_LISTEN" ]; then
        echo "# $NOTIFY_LISTEN is not built (make check builds it)"
        return 1
    fi
    # Without the QEMU tier's lock (fd 8): a listener must never hold it.
    "$NOTIFY_LISTEN" "$NOTIFY_SOCK" "$NOTIFY_LOG" 3600 8>&- &
    NOTIFY_PID=$!
    : > "$NOTIFY_LOG"
    wait_for 10 test -S "$NOTIFY_SOCK" || { echo "# notify-listen did not bind"; return 1; }
}

# notify_count LINE: how many lines of the notify log are exactly LINE.
notify_count() { grep -cx "$1" "$NOTIFY_LOG" 2>/dev/null; }

# wait_notify PATTERN [SECONDS]: wait until a notify line matches PATTERN
# (grep -E, whole line).
wait_notify() { wait_for "${2:-10}" grep -Eqx "$1" "$NOTIFY_LOG"; }

# daemon_gone: the daemon died; says so with its log.
daemon_gone() {
    if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
        echo "# virtmcd exited:"; sed 's/^/#   /' "$T/daemon.log"
        wait "$DAEMON_PID" 2>/dev/null
        DAEMON_PID=
        return 0
    fi
    return 1
}

# start_daemon [args...]: start listening on 127.0.0.1:0 (args may name
# another --listen: the last one counts), wait for READY=1 and take the bound
# address from X_VIRTMCD_LISTEN: sets DAEMON_LISTEN, PORT and BASE
# ($DAEMON_SCHEME://ADDR:PORT; http://localhost for a Unix socket, with
# PORT empty).
start_daemon() {
    local i=0
    [ -f "$T/virtmcd.conf" ] || write_conf
    notify_start || return 1
    NOTIFY_SOCKET="$NOTIFY_SOCK" $VIRTMCD_WRAPPER "$VIRTMCD" -c "$T/virtmcd.conf" \
        --listen 127.0.0.1:0 ${NODE:+--uri "$NODE"} "$@" > "$T/daemon.log" 2>&1 &
    DAEMON_PID=$!
    # 60 s: under valgrind start-up is slow; READY=1 comes after at most 5 s
    # of waiting for libvirt.
    while [ "$(notify_count READY=1)" -lt 1 ]; do
        daemon_gone && return 1
        if [ "$i" -ge 1200 ]; then
            echo "# virtmcd sent no READY=1 in 60 s"; sed 's/^/#   /' "$T/daemon.log"
            return 1
        fi
        sleep 0.05
        i=$((i + 1))
    done
    DAEMON_LISTEN=$(sed -n 's/^X_VIRTMCD_LISTEN=//p' "$NOTIFY_LOG" | head -n1)
    case $DAEMON_LISTEN in
    unix:*)
        PORT=
        BASE="$DAEMON_SCHEME://localhost"
        ;;
    ?*:*)
        PORT=${DAEMON_LISTEN##*:}
        case $DAEMON_LISTEN in
        0.0.0.0:*) BASE="$DAEMON_SCHEME://127.0.0.1:$PORT" ;;
        "[::]:"*) BASE="$DAEMON_SCHEME://[::1]:$PORT" ;;
        *) BASE="$DAEMON_SCHEME://$DAEMON_LISTEN" ;;
        esac
        ;;
    *)
        echo "# READY=1 came without X_VIRTMCD_LISTEN:"; sed 's/^/#   /' "$NOTIFY_LOG"
        return 1
        ;;
    esac
}

# reload_daemon: SIGHUP, then wait for RELOADING=1 and the READY=1 after it
# (sent whether the new files were taken or refused).
reload_daemon() {
    local ready reloading i=0
    ready=$(notify_count READY=1)
    reloading=$(grep -c '^RELOADING=1$' "$NOTIFY_LOG")
    kill -HUP "$DAEMON_PID" || return 1
    while [ "$(grep -c '^RELOADING=1$' "$NOTIFY_LOG")" -le "$reloading" ] ||
        [ "$(notify_count READY=1)" -le "$ready" ]; do
        daemon_gone && return 1
        if [ "$i" -ge 600 ]; then
            echo "# no RELOADING=1 and READY=1 within 30 s of SIGHUP"
            return 1
        fi
        sleep 0.05
        i=$((i + 1))
    done
}

stop_daemon() {
    DAEMON_RC=
    if [ -n "$DAEMON_PID" ]; then
        # A daemon that already died is reaped too: its status counts.
        kill -TERM "$DAEMON_PID" 2>/dev/null
        for _ in $(seq 1 150); do
            kill -0 "$DAEMON_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$DAEMON_PID" 2>/dev/null
        wait "$DAEMON_PID" 2>/dev/null
        DAEMON_RC=$?
        if [ "$DAEMON_RC" = 0 ]; then
            ok "the daemon stopped cleanly (exit 0)"
        else
            not_ok "the daemon exited with status $DAEMON_RC"
        fi
    fi
    DAEMON_PID=
}

# req METHOD PATH [curl args...]: sets STATUS, body in $T/body, headers in $T/headers.
req() {
    local method=$1 path=$2
    shift 2
    rm -f "$T/body" "$T/headers"
    STATUS=$(curl -s -g --path-as-is -X "$method" -o "$T/body" -D "$T/headers" \
        -w '%{http_code}' "$@" "$BASE$path")
}

body() { cat "$T/body"; }
header() { grep -i "^$1:" "$T/headers" | head -n1 | cut -d: -f2- | tr -d '\r' | sed 's/^ //'; }

# expect_status CODE DESCRIPTION
expect_status() {
    if [ "$STATUS" = "$1" ]; then ok "$2 ($1)"; else not_ok "$2: expected $1"; fi
}

# expect_jq FILTER EXPECTED DESCRIPTION: jq -r FILTER on the body equals EXPECTED.
expect_jq() {
    local got
    got=$(jq -r "$1" "$T/body" 2>/dev/null)
    if [ "$got" = "$2" ]; then ok "$3"; else not_ok "$3: $1 is '$got', expected '$2'"; fi
}

# expect_jqc FILTER EXPECTED-JSON DESCRIPTION: jq -c FILTER equals EXPECTED
# exactly, types included (5901 is not "5901", null is not "null").
expect_jqc() {
    local got
    got=$(jq -c "$1" "$T/body" 2>/dev/null)
    if [ "$got" = "$2" ]; then ok "$3"; else not_ok "$3: $1 is '$got', expected '$2'"; fi
}

# expect_error CODE DESCRIPTION: status CODE and a JSON {"error": "..."} body.
expect_error() {
    if [ "$STATUS" = "$1" ] && jq -e '.error | type == "string" and length > 0' "$T/body" >/dev/null 2>&1 &&
        [ "$(header Content-Type)" = "application/json" ]; then
        ok "$2 ($1, JSON error)"
    else
        not_ok "$2: expected $1 with a JSON error"
    fi
}

# check COMMAND... DESCRIPTION-as-last-arg is awkward in sh; use: check "desc" cmd args
check() {
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# state NAME: the machine's state string.
state() {
    curl -s -g "$BASE/service/$1/state_controller/status" | jq -r .state
}

finish() {
    # The daemon must stop cleanly: exit 0, and under valgrind no report.
    stop_daemon
    if [ -n "$VIRTMCD_WRAPPER" ] && grep -q '^==[0-9]*==' "$T/daemon.log" 2>/dev/null; then
        not_ok "valgrind reported errors:"; grep '^==[0-9]*==' "$T/daemon.log" | head -n 40
    fi
    echo "# $PASSED passed, $FAILED failed"
    if [ "$FAILED" -gt 0 ]; then
        echo "# daemon log:"; sed 's/^/#   /' "$T/daemon.log" 2>/dev/null | tail -n 40
        exit 1
    fi
    exit 0
}

# ---------------------------------------------------------------------------
# Generic helpers added for test-auth.sh and test-hostile.sh.  They only add
# to the ones above and change none of them.
# ---------------------------------------------------------------------------

DIGEST_CLIENT="$abs_srcdir/tests/e2e/digest-client.py"

# req_digest METHOD PATH USER PASSWORD [digest-client options...]: the request
# through tests/e2e/digest-client.py (RFC 7616 Digest, MD5 or SHA-256).  Sets
# STATUS, the body in $T/body, the headers in $T/headers and the trace of
# every exchange ("status N" lines) in $T/trace.
req_digest() {
    local method=$1 path=$2 user=$3 pass=$4
    shift 4
    rm -f "$T/body" "$T/headers" "$T/trace" "$T/dc.out"
    /usr/bin/python3 "$DIGEST_CLIENT" -X "$method" "$@" "$BASE$path" "$user" "$pass" \
        > "$T/dc.out" 2> "$T/trace"
    STATUS=$(head -n1 "$T/dc.out")
    : "${STATUS:=000}"
    # Headers: from line 2 up to the first empty line; the body after it.
    awk 'NR > 1 && /^$/ { exit } NR > 1 { print }' "$T/dc.out" > "$T/headers"
    awk 'found { print } NR > 1 && /^$/ && !found { found = 1 }' "$T/dc.out" > "$T/body"
}

# expect_exit_within SECONDS DESCRIPTION CMD...: run CMD in the background; it
# must exit by itself with status 1 within SECONDS.  Its output is in $T/exit.log.
expect_exit_within() {
    local secs=$1 desc=$2 pid rc i
    shift 2
    "$@" > "$T/exit.log" 2>&1 &
    pid=$!
    i=0
    while kill -0 "$pid" 2>/dev/null && [ "$i" -lt $((secs * 10)) ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        not_ok "$desc: still running after $secs s"
        sed 's/^/#   /' "$T/exit.log" | head -n 20
        return 1
    fi
    wait "$pid"
    rc=$?
    if [ "$rc" = 1 ]; then
        ok "$desc (exit 1)"
    else
        not_ok "$desc: exit status $rc, expected 1"
        sed 's/^/#   /' "$T/exit.log" | head -n 20
        return 1
    fi
}

# wait_http URL [SECONDS]: wait until URL answers at all (any status).
wait_http() {
    local i=0
    while [ "$i" -lt $((${2:-10} * 10)) ]; do
        curl -sk -o /dev/null --max-time 2 "$1" 2>/dev/null && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# ---------------------------------------------------------------------------
# The pool tests' set-up (test-pools.sh, test-vmpooler.sh,
# test-virtmc-pools.sh, tests/qemu/test-qemu-pools.sh): one set of users and
# pool "small" of tests/data/node-pools.xml, and reading pools as the admin.
# ---------------------------------------------------------------------------

# requires TOOL...: skip the test (77) unless every TOOL is installed.
requires() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || { echo "# $tool not installed: skipped"; exit 77; }
    done
}

# pool_users TAG [AUTH-LINES]: the users file $USERS ($T/users.digest) with
# admin (role admin), bob (operator, machines web* only), carol (operator on
# every machine) and reader (user), each with a password of its own that
# names the test (PW_ADMIN, PW_BOB, PW_CAROL, PW_READER); POOL_AUTH is their
# [auth] section (users_file, then AUTH-LINES) and [user] sections.
pool_users() {
    USERS="$T/users.digest"
    PW_ADMIN="Pw-$1-admin-4r"
    PW_BOB="Pw-$1-bob-8t"
    PW_CAROL="Pw-$1-carol-2w"
    PW_READER="Pw-$1-reader-6y"
    htdigest_add "$USERS" admin "$PW_ADMIN"
    htdigest_add "$USERS" bob "$PW_BOB"
    htdigest_add "$USERS" carol "$PW_CAROL"
    htdigest_add "$USERS" reader "$PW_READER"
    chmod 600 "$USERS"
    POOL_AUTH="[auth]
users_file = $USERS${2:+
$2}
[user \"admin\"]
role = admin
[user \"bob\"]
role = operator
machines = web*
[user \"carol\"]
role = operator
[user \"reader\"]
role = user"
}

# The pool of node-pools.xml's template tmpl that the pool tests check out.
POOL_SMALL="[pool \"small\"]
template = tmpl
size = 2
prefix = ci-
lifetime = 2
max_lifetime = 4"

# pool_test TAG [AUTH-LINES]: htdigest and jq or skip, libvirt's test driver
# with storage pools and clones a previous daemon left (node-pools.xml), and
# pool_users TAG [AUTH-LINES].
pool_test() {
    requires htdigest jq
    NODE="test://$abs_srcdir/tests/data/node-pools.xml"
    pool_users "$@"
}

# pw_of USER: the password pool_users gave USER.
pw_of() {
    case $1 in
    admin) echo "$PW_ADMIN" ;;
    bob) echo "$PW_BOB" ;;
    carol) echo "$PW_CAROL" ;;
    reader) echo "$PW_READER" ;;
    esac
}

# req_as USER METHOD PATH [curl args...]: req with USER's Digest credentials.
req_as() {
    local user=$1
    shift
    req "$@" --digest -u "$user:$(pw_of "$user")"
}

# admin_jq PATH FILTER: jq -r FILTER on what GET PATH gives the admin.
admin_jq() {
    curl -s -g --digest -u "admin:$PW_ADMIN" "$BASE$1" | jq -r "$2"
}

# pool_jq POOL FILTER: jq -r FILTER on GET /service/pools/POOL (as admin).
pool_jq() { admin_jq "/service/pools/$1" "$2"; }
# ready_is POOL N: the pool has N ready machines and nothing pending.
ready_is() { [ "$(pool_jq "$1" '"\(.ready)/\(.pending)"')" = "$2/0" ]; }
# absent NAME: GET /service/NAME is 404 for the admin (the machine is gone).
absent() {
    [ "$(curl -s -g -o /dev/null -w '%{http_code}' --digest -u "admin:$PW_ADMIN" \
        "$BASE/service/$1")" = 404 ]
}

# race METHOD PATH ETAG BODY...: one request per BODY, all at once (one curl,
# every connection opened at once), each with If-Match: ETAG (and as
# RACE_USER, "user:password" for Basic, when set).  Answer i (1..n) is in
# $T/race.i.body and .headers; $T/race.codes has "i STATUS".
race() {
    local method=$1 path=$2 etag=$3 i=0 body
    shift 3
    : > "$T/race.cfg"
    for body in "$@"; do
        i=$((i + 1))
        printf '%s' "$body" > "$T/race.$i.json"
        [ "$i" -gt 1 ] && echo next >> "$T/race.cfg"
        cat >> "$T/race.cfg" <<CFG
url = "$BASE$path"
request = "$method"
header = "Content-Type: application/json"
header = "If-Match: $(printf '%s' "$etag" | sed 's/"/\\"/g')"
data-binary = "@$T/race.$i.json"
output = "$T/race.$i.body"
dump-header = "$T/race.$i.headers"
write-out = "$i %{http_code}\\n"
CFG
        if [ -n "${RACE_USER:-}" ]; then echo "user = \"$RACE_USER\"" >> "$T/race.cfg"; fi
    done
    rm -f "$T"/race.*.body "$T"/race.*.headers
    curl -s -g --no-progress-meter --parallel --parallel-immediate --parallel-max 64 \
        -K "$T/race.cfg" > "$T/race.codes"
}
# race_count STATUS: how many answers of the last race had STATUS.
race_count() { awk -v s="$1" '$2 == s' "$T/race.codes" | wc -l; }
# race_winner STATUS: the index of the (first) answer with STATUS.
race_winner() { awk -v s="$1" '$2 == s { print $1; exit }' "$T/race.codes"; }
# race_codes: "N STATUS ..." for the descriptions.
race_codes() { awk '{ print $2 }' "$T/race.codes" | sort | uniq -c | tr -s ' \n' ' '; }
# race_etag I: the ETag of answer I.
race_etag() { grep -i '^ETag:' "$T/race.${1:-0}.headers" 2>/dev/null | cut -d' ' -f2 | tr -d '\r'; }

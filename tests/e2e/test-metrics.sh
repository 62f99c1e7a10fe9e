#!/bin/sh
# test-metrics.sh: GET /metrics (API.md section 7).  The exposition passes a
# strict checker of Prometheus' text format (tests/e2e/prom-check.py); it is
# read with the credentials /service/health needs (or from
# [auth] anonymous_networks); its counters move with what happens (a 404, a
# power action, a boot change and its backup, a failed login, a libvirt
# error), and its machines by host and state are what /service/machines
# lists, for the requester.
. "$(dirname "$0")/functions.sh"

PROM_CHECK="$abs_srcdir/tests/e2e/prom-check.py"
USERS="$T/users.digest"
PW_SCRAPE=scrape-pw-1
PW_OP=op-pw-2
PW_ALICE=alice-pw-3
htdigest_add "$USERS" scraper "$PW_SCRAPE"
htdigest_add "$USERS" op "$PW_OP"
htdigest_add "$USERS" alice "$PW_ALICE"
chmod 0600 "$USERS"

CONF_BODY="[auth]
users_file = $USERS
[user \"op\"]
role = operator
[user \"alice\"]
machines = vm-o*
[pool \"deb12\"]
template = vm-nonic"
write_conf "$CONF_BODY"
start_daemon || exit 1

# scrape [USER PASSWORD]: GET /metrics into $T/m (STATUS set).
scrape() {
    req GET /metrics --digest -u "${1:-scraper}:${2:-$PW_SCRAPE}"
    cp "$T/body" "$T/m"
}
# metric NAME [LABEL=VALUE...]: the sum of the matching samples of the last scrape.
metric() { /usr/bin/python3 "$PROM_CHECK" "$T/m" "$@"; }
dreq() {
    local u=$1 p=$2
    shift 2
    req "$@" --digest -u "$u:$p"
}

# ---- access: as /service/health ----
req GET /metrics
expect_error 401 "/metrics without credentials, no anonymous network"
req GET /service/health
expect_error 401 "like /service/health"
scrape
expect_status 200 "/metrics with credentials (role user)"
# The last answer's (curl --digest keeps the 401's headers before it).
check "Content-Type is the text format 0.0.4" \
    test "$(grep -i '^Content-Type:' "$T/headers" | tail -n1 | tr -d '\r')" = \
    "Content-Type: text/plain; version=0.0.4; charset=utf-8"
req HEAD /metrics --digest -u "scraper:$PW_SCRAPE"
expect_status 200 "HEAD /metrics"
req POST /metrics --digest -u "op:$PW_OP"
expect_error 405 "POST /metrics"
check "405 names the methods" test "$(header Allow)" = "GET, HEAD"

# ---- format ----
scrape
if out=$(/usr/bin/python3 "$PROM_CHECK" "$T/m"); then
    ok "the exposition passes the strict format checker: $out"
else
    not_ok "the exposition breaks the format:"
    printf '%s\n' "$out" | head -n 20 | sed 's/^/#   /'
fi
# The checker fails what it must: a sample out of its family, an unknown escape.
{ cat "$T/m"; echo 'virtmcd_build_info{version="x\q"} 1'; } > "$T/bad"
check "the checker refuses a broken exposition" \
    sh -c '! /usr/bin/python3 "$1" "$2" >/dev/null' _ "$PROM_CHECK" "$T/bad"
for f in "virtmcd_build_info gauge" "virtmcd_process_start_time_seconds gauge" \
    "virtmcd_http_requests_total counter" "virtmcd_http_request_duration_seconds histogram" \
    "virtmcd_libvirt_calls_total counter" "virtmcd_libvirt_errors_total counter" \
    "virtmcd_hosts_up gauge" "virtmcd_host_up gauge" "virtmcd_machines gauge" \
    "virtmcd_boot_changes_total counter" "virtmcd_backups_written_total counter" \
    "virtmcd_auth_failures_total counter" "virtmcd_pool_ready gauge" \
    "virtmcd_pool_pending gauge" "virtmcd_pool_running gauge"; do
    check "family ${f% *} ($f)" grep -qx "# TYPE $f" "$T/m"
done

dreq scraper "$PW_SCRAPE" GET /service/version
VERSION=$(jq -r .version "$T/body")
check "build_info carries the version of /service/version ($VERSION)" \
    test "$(metric virtmcd_build_info version="$VERSION")" = 1
start=$(metric virtmcd_process_start_time_seconds)
now=$(date +%s)
check "process start time is a recent Unix time ($start)" \
    /usr/bin/python3 -c 'import sys; s, n = float(sys.argv[1]), int(sys.argv[2]); sys.exit(not n - 3600 < s <= n + 1)' "$start" "$now"

# ---- hosts, machines, pools: from memory, as /service/machines says ----
dreq scraper "$PW_SCRAPE" GET /service/hosts
HOST=$(jq -r '.[0].name' "$T/body")
check "hosts_up is 1" test "$(metric virtmcd_hosts_up)" = 1
check "host_up{host=\"$HOST\"} is 1" test "$(metric virtmcd_host_up host="$HOST")" = 1
# same_machines USER PASSWORD: every state's count equals the list's.
same_machines() {
    local u=$1 p=$2 s want got bad=
    dreq "$u" "$p" GET /service/machines
    cp "$T/body" "$T/list"
    scrape "$u" "$p"
    for s in "running" "idle" "paused" "in shutdown" "shut off" "crashed" "pmsuspended" \
        "no state"; do
        want=$(jq --arg s "$s" --arg h "$HOST" '[.[] | select(.state == $s and .host == $h)] | length' "$T/list")
        got=$(metric virtmcd_machines host="$HOST" state="$s")
        [ "$want" = "$got" ] || { bad="$bad $s: list $want, metrics $got;"; }
    done
    [ -z "$bad" ] || { echo "# $bad"; return 1; }
    test "$(metric virtmcd_machines)" = "$(jq length "$T/list")"
}
check "machines by state match /service/machines" same_machines scraper "$PW_SCRAPE"
check "and for a user who sees only vm-o* ($(jq length "$T/list") machines)" \
    same_machines alice "$PW_ALICE"
check "alice's count is not everybody's" test "$(metric virtmcd_machines)" -lt 8
scrape
check "the configured pool is exported at 0 (ready)" test "$(metric virtmcd_pool_ready pool=deb12)" = 0
check "the configured pool is exported at 0 (pending, running)" \
    test "$(grep -c '^virtmcd_pool_\(pending\|running\){pool="deb12"} 0$' "$T/m")" = 2

# ---- counters move ----
ST='/service/machines/{name}/state_controller/status'
ACT='/service/machines/{name}/state_controller/{action}'
scrape
n404=$(metric virtmcd_http_requests_total route=none method=GET status=404)
nst404=$(metric virtmcd_http_requests_total route="$ST" method=GET status=404)
nst=$(metric virtmcd_http_request_duration_seconds_count route="$ST")
npow=$(metric virtmcd_http_requests_total route="$ACT" method=POST status=200)
ncall=$(metric virtmcd_libvirt_calls_total host="$HOST" op=power_on)
nboot=$(metric virtmcd_boot_changes_total action=pxeboot once=false)
nbak=$(metric virtmcd_backups_written_total)
nfiles() { find "$T/backups" -name '*.xml' -type f | wc -l; }
files0=$(nfiles)
nfail=$(metric virtmcd_auth_failures_total scheme=digest reason=bad_credentials)
nerr=$(metric virtmcd_libvirt_errors_total host="$HOST" op=update_device)
nmetrics=$(metric virtmcd_http_requests_total route=/metrics method=POST status=405)
nst401=$(metric virtmcd_http_requests_total route="$ST" method=GET status=401)

dreq scraper "$PW_SCRAPE" GET /no/such/thing
expect_error 404 "a path of no tree"
dreq scraper "$PW_SCRAPE" GET /service/no-such-vm/state_controller/status
expect_error 404 "status of an unknown machine"
dreq scraper "$PW_SCRAPE" GET /service/vm-running/state_controller/status
expect_status 200 "status of vm-running"
req GET /service/vm-running/state_controller/status
expect_error 401 "status without credentials"
dreq op "$PW_OP" POST /service/vm-off/state_controller/pxeboot
expect_status 200 "pxeboot of vm-off"
BID=$(jq -r .backup "$T/body")
check "and it wrote backup $BID" sh -c 'ls "$1"/*/*"$2".xml >/dev/null 2>&1' _ "$T/backups" "$BID"
dreq op "$PW_OP" POST /service/vm-off/state_controller/power_on
expect_jq .state running "power_on of vm-off"
dreq op wrong-password GET /service/machines
expect_error 401 "a failed Digest login"
dreq op "$PW_OP" PUT /service/vm-running/media -H 'Content-Type: application/json' \
    --data-binary '{"image":"http://h/a.iso"}'
expect_error 501 "a media change the test driver refuses (a libvirt error)"

scrape
check "404 of no route counted (route=\"none\")" \
    test "$(metric virtmcd_http_requests_total route=none method=GET status=404)" = $((n404 + 1))
check "404 of the status route counted under its template" \
    test "$(metric virtmcd_http_requests_total route="$ST" method=GET status=404)" = $((nst404 + 1))
# Two dreq (a 401, then the answer, each) and a plain 401: the
# 401s count under the route too, not under "none".
check "401s before routing counted under the route they asked for (3)" \
    test "$(metric virtmcd_http_requests_total route="$ST" method=GET status=401)" = $((nst401 + 3))
check "the status route's duration histogram counted all five" \
    test "$(metric virtmcd_http_request_duration_seconds_count route="$ST")" = $((nst + 5))
check "the power action counted (POST 200)" \
    test "$(metric virtmcd_http_requests_total route="$ACT" method=POST status=200)" = $((npow + 2))
check "libvirt calls of power_on on $HOST moved" \
    test "$(metric virtmcd_libvirt_calls_total host="$HOST" op=power_on)" = $((ncall + 1))
check "the boot change counted" \
    test "$(metric virtmcd_boot_changes_total action=pxeboot once=false)" = $((nboot + 1))
files1=$(nfiles)
# The media change writes one too, before libvirt refuses it.
check "the backups counted: as many as files appeared ($((files1 - files0)))" \
    test "$(metric virtmcd_backups_written_total)" = $((nbak + files1 - files0))
check "at least the boot change's" test "$files1" -gt "$files0"
nbak=$(metric virtmcd_backups_written_total)
check "the failed login counted (digest, bad_credentials)" \
    test "$(metric virtmcd_auth_failures_total scheme=digest reason=bad_credentials)" = $((nfail + 1))
check "the libvirt error counted (update_device on $HOST)" \
    test "$(metric virtmcd_libvirt_errors_total host="$HOST" op=update_device)" = $((nerr + 1))
check "the POST /metrics before was counted under route /metrics, 405" test "$nmetrics" = 1
check "machines by state still match after the changes" same_machines scraper "$PW_SCRAPE"
check "every state's series is there for $HOST (8)" \
    test "$(grep -c "^virtmcd_machines{host=\"$HOST\"," "$T/m")" = 8

# ---- Prometheus without credentials: [auth] anonymous_networks ----
write_conf "[auth]
users_file = $USERS
anonymous_networks = 127.0.0.0/8
[user \"op\"]
role = operator
[pool \"deb12\"]
template = vm-nonic"
reload_daemon || not_ok "reload"
req GET /metrics
expect_status 200 "a scraper from an anonymous network needs no credentials"
cp "$T/body" "$T/m"
check "and still gets a valid exposition" /usr/bin/python3 "$PROM_CHECK" "$T/m"
check "with the counters kept across the reload" \
    test "$(metric virtmcd_backups_written_total)" = "$nbak"

finish

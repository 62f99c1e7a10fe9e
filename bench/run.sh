#!/bin/bash
# bench/run.sh [OUTPUT.md]: virtmcd's benchmark harness (make bench).
#
# Measures, in one run, what issue 15 asks for and writes a Markdown table to
# OUTPUT.md (default bench/RESULTS.md next to this script), then prints it:
#
# - throughput of status (a real running guest over qemu:///system), the
#   machine list, the Redfish system resource, the machine detail, the boot
#   order, and status with Digest, Basic over TLS and a Redfish session
#   token, each as a ratio to bench/bare-server (a bare libmicrohttpd server
#   started as src/http.c starts it, answering a fixed status-sized body),
#   measured in the same run: target and ceiling alternate, BENCH_ROUNDS
#   rounds of BENCH_SECONDS each, the ratio is the median of the rounds'
#   ratios;
# - latency percentiles of status at 64 and 512 connections;
# - listing 1,000 and 10,000 machines (generated test-driver nodes, see
#   gen-node.py), plain and filtered, per request on one connection;
# - start-up time to READY=1 (and until the host is up) with 10,000 machines
#   next to the time libvirt needs to open that test-driver connection alone
#   (bench/libvirt-open);
# - RSS (VmRSS) idle and with 10,000 machines;
# - the time from `virsh destroy` of the real guest to the change in status.
#
# The daemon runs with the configuration as shipped (data/virtmcd.conf: every
# default, access log on); extra rows repeat the main ones with
# access_log = false so that the log's cost is visible.
#
# Environment:
#   BENCH_SECONDS   seconds of one wrk run (default 5)
#   BENCH_ROUNDS    rounds per throughput row (default 3)
#   BENCH_MACHINES  machine counts of the list rows (default "1000 10000");
#                   the largest is the start-up and RSS node
#   BENCH_CONN      connections of the throughput rows (default 64)
#   BENCH_LAT_CONN  connection counts of the latency rows (default "64 512")
#   BENCH_QEMU      auto (default): a real guest when qemu:///system can be
#                   brought up (tests/qemu/setup-libvirtd.sh, root), else the
#                   rows run on the test driver; 0: never touch qemu:///system
#   VIRTMCD, BARE_SERVER, LIBVIRT_OPEN, abs_builddir: the binaries (make
#                   bench sets them)
#
# Exit status 0 with a table written, 77 when a tool is missing (the reason
# on stdout), 1 when something failed.
set -u

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
: "${abs_srcdir:=$(cd "$BENCH_DIR/.." && pwd)}"
: "${abs_builddir:=$abs_srcdir}"
: "${VIRTMCD:=$abs_builddir/virtmcd}"
: "${BARE_SERVER:=$abs_builddir/bench/bare-server}"
: "${LIBVIRT_OPEN:=$abs_builddir/bench/libvirt-open}"
: "${BENCH_SECONDS:=5}"
: "${BENCH_ROUNDS:=3}"
: "${BENCH_MACHINES:=1000 10000}"
: "${BENCH_CONN:=64}"
: "${BENCH_LAT_CONN:=64 512}"
: "${BENCH_QEMU:=auto}"
OUT=${1:-$BENCH_DIR/RESULTS.md}
export abs_srcdir abs_builddir VIRTMCD

for b in wrk curl jq openssl htdigest virsh python3; do
    command -v "$b" >/dev/null 2>&1 || { echo "# SKIP: $b is not installed"; exit 77; }
done
for f in "$VIRTMCD" "$BARE_SERVER" "$LIBVIRT_OPEN" "$abs_builddir/tests/e2e/notify-listen"; do
    [ -x "$f" ] || { echo "# $f is not built (make bench builds it)"; exit 1; }
done

# functions.sh (notify_start, stop_daemon, htdigest_add, the EXIT trap and
# $T); with a real guest, tests/qemu/lib.sh on top of it (make_guest, and a
# cleanup that removes the guest whatever happens).
QEMU=false
QEMU_WHY=
if [ "$BENCH_QEMU" = 0 ]; then
    QEMU_WHY="BENCH_QEMU=0"
elif [ "$(id -u)" != 0 ]; then
    QEMU_WHY="not root: cannot bring up qemu:///system"
elif ! command -v qemu-img >/dev/null 2>&1; then
    QEMU_WHY="qemu-img is not installed"
else
    QEMU=true
fi
if $QEMU; then
    . "$abs_srcdir/tests/qemu/lib.sh"
    # As qemu_init, but a missing libvirtd skips only the rows that need it.
    mkdir -p "$(dirname "$QEMU_LOCK")"
    exec 8>"$QEMU_LOCK"
    if ! flock -s -w 280 8; then
        QEMU=false
        QEMU_WHY="cannot take $QEMU_LOCK (a QEMU test holds it)"
    else
        why=$(sh "$abs_srcdir/tests/qemu/setup-libvirtd.sh" 2>&1)
        if [ $? != 0 ]; then
            QEMU=false
            QEMU_WHY="no libvirtd: $(echo "$why" | sed -n 's/^# SKIP: //p' | head -n1)"
        fi
    fi
    trap qemu_cleanup EXIT
    trap 'exit 130' INT TERM HUP PIPE
else
    . "$abs_srcdir/tests/e2e/functions.sh"
fi

LOG=$T/bench.log
ROWS=$T/rows.md
LATROWS=$T/lat.md
SCALEROWS=$T/scale.md
TARGETS=$T/targets.md
TARGETS_SCALE=$T/targets-scale.md
: > "$TARGETS_SCALE"
: > "$ROWS"
: > "$LATROWS"
: > "$SCALEROWS"
: > "$TARGETS"
say() { echo "# $*" >&2; }

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# rss_kib PID [FIELD]: VmRSS (or FIELD, e.g. VmHWM) in KiB.
rss_kib() { awk -v f="${2:-VmRSS}:" '$1 == f { print $2 }' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# median of the arguments
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.4f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# wrk_run OUTFILE wrk-args...: runs wrk; OUTFILE gets its output.
wrk_run() {
    local f=$1
    shift
    wrk "$@" > "$f" 2>&1
}
# Figures from a wrk output file.
wrk_rps() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }
wrk_non2xx() { awk '/Non-2xx or 3xx responses:/ { n = $NF } END { print n + 0 }' "$1"; }
wrk_errors() {
    awk '/Socket errors:/ { gsub(",", ""); n = $4 + $6 + $8 + $10 } END { print n + 0 }' "$1"
}
wrk_requests() { awk '/requests in/ { print $1 }' "$1"; }
# wrk_pct FILE PCT: a latency percentile of wrk --latency, in ms.
wrk_pct() {
    awk -v p="$2%" '$1 == p {
        v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
        if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
        printf "%.2f\n", v }' "$1"
}
# wrk_avg FILE: mean latency in ms.
wrk_avg() {
    awk '$1 == "Latency" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
        if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
        printf "%.2f\n", v; exit }' "$1"
}

# yesno COND-EXPR (awk): "yes" or "**no**".
yesno() { awk "BEGIN { if ($1) print \"yes\"; else print \"**no**\" }"; }

# ---------------------------------------------------------------------------
# The ceiling: bench/bare-server, plain HTTP and TLS, up for the whole run.
# ---------------------------------------------------------------------------

BARE_PIDS=
bare_start() {
    local out=$T/bare.$#.$RANDOM i=0
    "$BARE_SERVER" "$@" > "$out" 2>&1 8>&- &
    BARE_PIDS="$BARE_PIDS $!"
    while ! grep -q '^PORT ' "$out"; do
        [ $i -ge 200 ] && { say "bare-server did not start: $(cat "$out")"; exit 1; }
        sleep 0.05
        i=$((i + 1))
    done
    BARE_PORT=$(awk '/^PORT / { print $2 }' "$out")
}
bare_stop() {
    local p
    for p in $BARE_PIDS; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    BARE_PIDS=
}
trap 'bare_stop' EXIT
if $QEMU; then trap 'bare_stop; qemu_cleanup' EXIT; else trap 'bare_stop; cleanup' EXIT; fi

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=127.0.0.1 -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 ||
    { say "openssl cannot make a test certificate"; exit 1; }
chmod 600 "$T/key.pem"

bare_start
BARE=http://127.0.0.1:$BARE_PORT
bare_start --tls "$T/cert.pem" "$T/key.pem"
BARE_TLS=https://127.0.0.1:$BARE_PORT

# ---------------------------------------------------------------------------
# The daemon
# ---------------------------------------------------------------------------

# conf_shipped [extra INI]: data/virtmcd.conf as shipped (every key at its
# default), a private backup folder, and EXTRA appended.  Sections that
# EXTRA names must not occur in the shipped file uncommented (none does).
conf_shipped() {
    mkdir -p "$T/backups"
    {
        cat "$abs_srcdir/data/virtmcd.conf"
        printf '\n[boot]\nbackup_dir = %s/backups\n' "$T"
        printf '%s\n' "${1:-}"
    } > "$T/virtmcd.conf"
}

# vstart URI SCHEME: start virtmcd on 127.0.0.1:0 with $T/virtmcd.conf;
# sets DAEMON_PID, BASE and STARTUP_MS (launch to READY=1, polled every
# 5 ms).
vstart() {
    local uri=$1 scheme=$2 t0 i=0 listen
    notify_start || exit 1
    t0=$(date +%s%N)
    VSTART_NS=$t0
    NOTIFY_SOCKET="$NOTIFY_SOCK" "$VIRTMCD" -c "$T/virtmcd.conf" --listen 127.0.0.1:0 \
        --uri "$uri" > "$T/daemon.log" 2>&1 8>&- &
    DAEMON_PID=$!
    while ! grep -qx 'READY=1' "$NOTIFY_LOG"; do
        if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
            say "virtmcd exited:"; sed 's/^/#   /' "$T/daemon.log" >&2
            exit 1
        fi
        [ $i -ge 24000 ] && { say "virtmcd sent no READY=1 in 120 s"; exit 1; }
        sleep 0.005
        i=$((i + 1))
    done
    STARTUP_MS=$((($(date +%s%N) - t0) / 1000000))
    listen=$(sed -n 's/^X_VIRTMCD_LISTEN=//p' "$NOTIFY_LOG" | head -n1)
    BASE="$scheme://127.0.0.1:${listen##*:}"
}
vstop() { stop_daemon > /dev/null; }

# expect_200 URL [curl args...]: the request answers 200, or the run stops.
expect_200() {
    local url=$1 code
    shift
    code=$(curl -sk -o "$T/probe" -w '%{http_code}' "$@" "$url")
    if [ "$code" != 200 ]; then
        say "$url answered $code, not 200: $(head -c 300 "$T/probe")"
        exit 1
    fi
}

# throughput LABEL TARGET-URL CEILING-URL THREADS CONNS TARGET-EXPR [wrk args...]
# TARGET-EXPR: an awk condition on r (ratio) and n (non-2xx), or "-".
# Alternates target and ceiling BENCH_ROUNDS times; one table row.
throughput() {
    local label=$1 url=$2 ceil=$3 thr=$4 conns=$5 expr=$6 r rt rc ratios= rts= rcs= n2=0 err=0
    local ceil_args=() args=() ratio met
    shift 6
    args=("$@")
    for r in $(seq 1 "$BENCH_ROUNDS"); do
        wrk_run "$T/w.t" -t"$thr" -c"$conns" -d"$BENCH_SECONDS"s "${args[@]}" "$url" ${WRK_TAIL:+-- $WRK_TAIL}
        wrk_run "$T/w.c" -t"$thr" -c"$conns" -d"$BENCH_SECONDS"s "${args[@]}" "$ceil" ${WRK_CEIL_TAIL:+-- $WRK_CEIL_TAIL}
        cat "$T/w.t" "$T/w.c" >> "$LOG"
        rt=$(wrk_rps "$T/w.t")
        rc=$(wrk_rps "$T/w.c")
        [ -n "$rt" ] && [ -n "$rc" ] || { say "wrk failed: $(cat "$T/w.t" "$T/w.c")"; exit 1; }
        n2=$((n2 + $(wrk_non2xx "$T/w.t")))
        err=$((err + $(wrk_errors "$T/w.t")))
        rts="$rts $rt"
        rcs="$rcs $rc"
        ratios="$ratios $(awk -v a="$rt" -v b="$rc" 'BEGIN { printf "%.4f", a / b }')"
    done
    ratio=$(median $ratios)
    rt=$(median $rts)
    rc=$(median $rcs)
    if [ "$expr" = - ]; then
        met=-
    else
        met=$(awk -v r="$ratio" -v n="$n2" "BEGIN { if ($expr) print \"yes\"; else print \"**no**\" }")
    fi
    printf '| %s | %s | %.0f | %.0f | **%.2f** | %s | %s | %s |\n' "$label" "$thr/$conns" \
        "$rt" "$rc" "$ratio" "$n2" "$err" "$met" >> "$ROWS"
    say "$label: $(printf '%.0f' "$rt") req/s vs ceiling $(printf '%.0f' "$rc"): ratio $ratio, non-2xx $n2"
    LAST_RATIO=$ratio
    LAST_NON2XX=$n2
}

# latency LABEL URL CONNS [wrk args...]: one wrk --latency run of
# 2 x BENCH_SECONDS, target and ceiling; one row with p50/p99 of both.
latency() {
    local label=$1 url=$2 conns=$3 thr=2
    shift 3
    [ "$conns" -lt 2 ] && thr=1
    wrk_run "$T/l.t" -t$thr -c"$conns" -d$((BENCH_SECONDS * 2))s --latency "$@" "$url"
    wrk_run "$T/l.c" -t$thr -c"$conns" -d$((BENCH_SECONDS * 2))s --latency "$BARE/"
    cat "$T/l.t" "$T/l.c" >> "$LOG"
    LAT_P50=$(wrk_pct "$T/l.t" 50)
    LAT_P99=$(wrk_pct "$T/l.t" 99)
    LAT_ERR=$(wrk_errors "$T/l.t")
    LAT_N2=$(wrk_non2xx "$T/l.t")
    printf '| %s | %s | %s | %s | %.0f | %s | %s | %s | %s |\n' "$label" "$conns" "$LAT_P50" \
        "$LAT_P99" "$(wrk_rps "$T/l.t")" "$LAT_N2" "$LAT_ERR" "$(wrk_pct "$T/l.c" 50)" \
        "$(wrk_pct "$T/l.c" 99)" >> "$LATROWS"
    say "$label at $conns connections: p50 $LAT_P50 ms, p99 $LAT_P99 ms, socket errors $LAT_ERR"
}

# target WHAT FIGURE GOAL MET
target() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" >> "$TARGETS"; }
target_scale() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" >> "$TARGETS_SCALE"; }
scale() { printf '| %s | %s |\n' "$1" "$2" >> "$SCALEROWS"; }

# ---------------------------------------------------------------------------
# 1. The guest: a real one over qemu:///system, else vm-running of the test
#    driver's tests/data/node.xml.
# ---------------------------------------------------------------------------

if $QEMU; then
    URI=qemu:///system
    # One raw disk, no NIC: with a NIC, TCG's iPXE would spin half a core
    # for the whole run; without one the firmware finds nothing to boot and
    # idles (about 1 % of a core).
    G="$PREFIX-bench"
    GUESTS="$GUESTS $G"
    qemu-img create -q -f raw "$IMAGES/$G.img" 1M || exit 1
    guest_xml "$G" device | grep -v '<interface' > "$T/guest.xml"
    if ! $VIRSH define "$T/guest.xml" > /dev/null 2> "$T/define.err" ||
        ! $VIRSH start "$G" > /dev/null 2>> "$T/define.err"; then
        say "cannot define or start the guest: $(cat "$T/define.err")"
        exit 1
    fi
    GUEST_WHAT="a real guest over qemu:///system ($DOMTYPE)"
else
    URI="test://$abs_srcdir/tests/data/node.xml"
    G=vm-running
    GUEST_WHAT="vm-running of the test driver (no real guest: $QEMU_WHY)"
fi
say "guest: $GUEST_WHAT"

# main_rows LABEL-SUFFIX: the unauthenticated rows on the running daemon.
main_rows() {
    local sfx=$1 uuid
    expect_200 "$BASE/service/$G/state_controller/status"
    expect_200 "$BASE/service/machines"
    expect_200 "$BASE/redfish/v1/Systems"
    uuid=$(jq -r --arg n "$G" '.Members[]."@odata.id"' "$T/probe" | while read -r m; do
        curl -s "$BASE$m" | jq -r --arg n "$G" 'select(.Name == $n) | .Id'
    done | head -n1)
    [ -n "$uuid" ] || { say "no Redfish system for $G"; exit 1; }
    expect_200 "$BASE/redfish/v1/Systems/$uuid"
    expect_200 "$BASE/service/machines/$G"
    expect_200 "$BASE/service/machines/$G/boot"
    if $QEMU || [ -n "$sfx" ]; then
        throughput "status$sfx" "$BASE/service/$G/state_controller/status" "$BARE/" 2 \
            "$BENCH_CONN" 'r >= 0.8 && n == 0'
        STATUS_RATIO=$LAST_RATIO STATUS_N2=$LAST_NON2XX
    else
        printf '| status%s | skipped: %s | | | | | | |\n' "$sfx" "$QEMU_WHY" >> "$ROWS"
        throughput "status$sfx (test driver)" "$BASE/service/$G/state_controller/status" \
            "$BARE/" 2 "$BENCH_CONN" -
        STATUS_RATIO=$LAST_RATIO STATUS_N2=$LAST_NON2XX
    fi
    throughput "machine list$sfx" "$BASE/service/machines" "$BARE/" 2 "$BENCH_CONN" -
    throughput "Redfish system$sfx" "$BASE/redfish/v1/Systems/$uuid" "$BARE/" 2 "$BENCH_CONN" \
        'r >= 0.5'
    REDFISH_RATIO=$LAST_RATIO
    throughput "machine detail$sfx" "$BASE/service/machines/$G" "$BARE/" 2 "$BENCH_CONN" -
    throughput "boot order$sfx" "$BASE/service/machines/$G/boot" "$BARE/" 2 "$BENCH_CONN" -
}

# 1a. With access_log = false (the extra rows).
conf_shipped "$(printf '[server]\naccess_log = false')"
vstart "$URI" http
main_rows " (access_log = false)"
NOLOG_STATUS=$STATUS_RATIO
vstop

# 1b. Digest: a users file, plain HTTP.
htdigest_add "$T/users" bench benchpw
chmod 600 "$T/users"
conf_shipped "$(printf '[auth]\nusers_file = %s' "$T/users")"
vstart "$URI" http
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/service/$G/state_controller/status")
[ "$code" = 401 ] || { say "no 401 without credentials, but $code"; exit 1; }
expect_200 "$BASE/service/$G/state_controller/status" --digest -u bench:benchpw
DIGEST_CONN=$BENCH_CONN
WRK_TAIL="bench benchpw" WRK_CEIL_TAIL="bench benchpw fake" \
    throughput "status, Digest (MD5)" "$BASE/service/$G/state_controller/status" "$BARE/" \
    "$DIGEST_CONN" "$DIGEST_CONN" 'r >= 0.5' -s "$BENCH_DIR/digest.lua"
DIGEST_RATIO=$LAST_RATIO
# Each connection's first request is answered 401 (the challenge): not counted.
DIGEST_N2=$((LAST_NON2XX - DIGEST_CONN * BENCH_ROUNDS))
vstop

# 1c. TLS: Basic, and a Redfish session token (its login sends a password,
#     which [auth] basic = tls allows only over TLS).
conf_shipped "$(printf '[server]\ntls_cert = %s\ntls_key = %s\n[auth]\nusers_file = %s' \
    "$T/cert.pem" "$T/key.pem" "$T/users")"
vstart "$URI" https
BASIC="Authorization: Basic $(printf 'bench:benchpw' | base64)"
expect_200 "$BASE/service/$G/state_controller/status" -H "$BASIC"
throughput "status, Basic over TLS" "$BASE/service/$G/state_controller/status" "$BARE_TLS/" 2 \
    "$BENCH_CONN" - -H "$BASIC"
BASIC_RATIO=$LAST_RATIO
TOKEN=$(curl -sk -D - -o /dev/null -H 'Content-Type: application/json' \
    -d '{"UserName": "bench", "Password": "benchpw"}' \
    "$BASE/redfish/v1/SessionService/Sessions" | tr -d '\r' | sed -n 's/^[Xx]-[Aa]uth-[Tt]oken: //p')
[ -n "$TOKEN" ] || { say "no Redfish session token"; exit 1; }
expect_200 "$BASE/service/$G/state_controller/status" -H "X-Auth-Token: $TOKEN"
throughput "status, Redfish session token (TLS)" "$BASE/service/$G/state_controller/status" \
    "$BARE_TLS/" 2 "$BENCH_CONN" - -H "X-Auth-Token: $TOKEN"
TOKEN_RATIO=$LAST_RATIO
vstop

# 1e. 512 connections again without the per-address limit (the shipped
#     max_connections_per_ip = 64 refuses the rest from one address).
for c in $BENCH_LAT_CONN; do
    if [ "$c" -gt 64 ]; then
        conf_shipped "$(printf '[server]\nmax_connections_per_ip = 0')"
        vstart "$URI" http
        latency "status (max_connections_per_ip = 0)" \
            "$BASE/service/$G/state_controller/status" "$c"
        vstop
    fi
done

# 1d. As shipped: the main rows, latency, RSS, and the outside change last.
conf_shipped
vstart "$URI" http
GUEST_RSS=$(rss_kib "$DAEMON_PID")
main_rows ""
SHIP_STATUS=$STATUS_RATIO
SHIP_N2=$STATUS_N2
SHIP_REDFISH=$REDFISH_RATIO
P99_64=
for c in $BENCH_LAT_CONN; do
    latency "status" "$BASE/service/$G/state_controller/status" "$c"
    [ "$c" = 64 ] && P99_64=$LAT_P99
done
GUEST_RSS_LOADED=$(rss_kib "$DAEMON_PID")
DESTROY=
if $QEMU; then
    if python3 "$BENCH_DIR/destroy-watch.py" "$BASE" "$G" "$URI" > "$T/destroy.out" 2>&1; then
        DESTROY=$(cat "$T/destroy.out")
    else
        DESTROY="failed: $(cat "$T/destroy.out")"
    fi
    say "virsh destroy: $DESTROY"
fi
vstop

# ---------------------------------------------------------------------------
# 2. Idle RSS: the shipped configuration on tests/data/node.xml, just READY.
# ---------------------------------------------------------------------------

conf_shipped
vstart "test://$abs_srcdir/tests/data/node.xml" http
IDLE_RSS=$(rss_kib "$DAEMON_PID")
vstop
# The floor: any libvirt client with that connection open (bench/libvirt-open).
"$LIBVIRT_OPEN" "test://$abs_srcdir/tests/data/node.xml" > "$T/open.out" &&
    IDLE_FLOOR=$(sed -n 's/.*rss_kib=\([0-9]*\).*/\1/p' "$T/open.out")

# ---------------------------------------------------------------------------
# 3. Many machines: generated test-driver nodes.
# ---------------------------------------------------------------------------

BIG=0
for n in $BENCH_MACHINES; do [ "$n" -gt "$BIG" ] && BIG=$n; done
# With libvirtd up, it hosts the test driver (test+unix://): the daemon's
# memory is then its own and its table fills over a real RPC connection, as
# with any real host.  Without it, the test driver runs in the daemon.
if $QEMU; then
    BIG_SCHEME=test+unix
    BIG_WHERE="hosted by libvirtd (test+unix://, over RPC)"
else
    BIG_SCHEME=test
    BIG_WHERE="in the daemon's own process (test://; no libvirtd: its memory counts in virtmcd's RSS)"
fi
for n in $BENCH_MACHINES; do
    node="$T/node-$n.xml"
    python3 "$BENCH_DIR/gen-node.py" "$n" "$node" || exit 1
    # libvirt alone (bench/libvirt-open): open the connection, list every
    # domain's state once; median of up to 3.
    opens=
    lists=
    for r in $(seq 1 $((BENCH_ROUNDS < 3 ? BENCH_ROUNDS : 3))); do
        "$LIBVIRT_OPEN" "$BIG_SCHEME://$node" > "$T/open.out" || { say "libvirt cannot open $node"; exit 1; }
        opens="$opens $(sed -n 's/.*open_ms=\([0-9]*\).*/\1/p' "$T/open.out")"
        lists="$lists $(sed -n 's/.*list_ms=\([0-9]*\).*/\1/p' "$T/open.out")"
        LV_RSS=$(sed -n 's/.*rss_kib=\([0-9]*\).*/\1/p' "$T/open.out")
    done
    OPEN_MS=$(median $opens)
    LIST_MS=$(median $lists)
    conf_shipped
    vstart "$BIG_SCHEME://$node" http
    START_MS=$STARTUP_MS
    # READY=1 waits at most 5 s for a host: then poll until the host is up
    # (its machines in the table), every 10 ms.
    UP_MS=
    for i in $(seq 1 12000); do
        if [ "$(curl -s "$BASE/service/hosts" | jq -r '.[0].state' 2>/dev/null)" = up ]; then
            UP_MS=$((($(date +%s%N) - VSTART_NS) / 1000000))
            break
        fi
        sleep 0.01
    done
    [ -n "$UP_MS" ] || { say "the host of $n machines did not come up in 120 s"; exit 1; }
    SERVE_MS=$((UP_MS > START_MS ? UP_MS : START_MS))
    # Then every definition (owners, tags, MACs, disks) is read behind it:
    # until then the list and whatever needs one wait (docs/API.md section 8).
    DEFS_MS=
    for i in $(seq 1 12000); do
        if [ "$(curl -s "$BASE/service/hosts" | jq -r '.[0].reading_definitions' 2>/dev/null)" = false ]; then
            DEFS_MS=$((($(date +%s%N) - VSTART_NS) / 1000000))
            break
        fi
        sleep 0.01
    done
    [ -n "$DEFS_MS" ] || { say "the host of $n machines did not read its definitions in 120 s"; exit 1; }
    # The daemon's own log splits its start-up without polling's noise:
    # libvirt's open, the bulk state listing, the definitions.
    LOG_OPEN=$(sed -n "s/.*Connected to host .* in \([0-9.]*\) s; .*/\1/p" "$T/daemon.log" | head -n1)
    LOG_LIST=$(sed -n "s/.*machines listed in \([0-9.]*\) s.*/\1/p" "$T/daemon.log" | head -n1)
    LOG_DEFS=$(sed -n "s/.*definitions read in \([0-9.]*\) s.*/\1/p" "$T/daemon.log" | head -n1)
    RSS0=$(rss_kib "$DAEMON_PID")
    expect_200 "$BASE/service/machines"
    got=$(jq length "$T/probe")
    [ "$got" = "$n" ] || { say "the list of $n machines has $got entries"; exit 1; }
    expect_200 "$BASE/service/machines?state=running"
    running=$(jq length "$T/probe")
    for q in "" "?state=running" "?name=bench-0001*"; do
        wrk_run "$T/big" -t1 -c1 -d"$BENCH_SECONDS"s --latency "$BASE/service/machines$q"
        cat "$T/big" >> "$LOG"
        avg=$(wrk_avg "$T/big")
        p99=$(wrk_pct "$T/big" 99)
        bytes=$(curl -s "$BASE/service/machines$q" | wc -c)
        scale "list of $n machines${q:+ \`$q\`}: per request, one connection (mean / p99)" \
            "$avg ms / $p99 ms ($(printf '%.1f' "$(wrk_rps "$T/big")") req/s, $bytes bytes)"
        if [ "$n" = "$BIG" ]; then
            if [ -z "$q" ]; then
                target_scale "machine list, $n machines: under 100 ms per request" "$avg ms (p99 $p99)" \
                    "< 100 ms" "$(yesno "$avg < 100 && $p99 < 100")"
            else
                target_scale "filtered list (\`$q\`), $n machines: under 100 ms" "$avg ms (p99 $p99)" \
                    "< 100 ms" "$(yesno "$avg < 100 && $p99 < 100")"
            fi
        fi
        say "list of $n$q: mean $avg ms, p99 $p99 ms"
    done
    RSS1=$(rss_kib "$DAEMON_PID")
    HWM=$(rss_kib "$DAEMON_PID" VmHWM)
    scale "start-up to READY=1, $n machines" "$START_MS ms"
    scale "start-up until the host is up with its $n machines and their states (\`/service/hosts\`; status answers)" "$UP_MS ms"
    scale "start-up until every definition is read (\`reading_definitions\` false; the list and the start guards answer)" "$DEFS_MS ms"
    scale "virtmcd's log: libvirt's open / every state listed (the host up) / every definition read, $n machines" \
        "${LOG_OPEN:-?} s / ${LOG_LIST:-?} s / ${LOG_DEFS:-?} s"
    scale "libvirt alone (bench/libvirt-open): open $BIG_SCHEME:///…$n-machine node / then list every state (median)" "$OPEN_MS ms / $LIST_MS ms"
    scale "RSS with $n machines: after READY / after the list runs / peak (VmHWM)" \
        "$(mib "$RSS0") / $(mib "$RSS1") / $(mib "$HWM") MiB"
    scale "RSS of libvirt alone with that node open (the test driver $BIG_WHERE)" \
        "$(mib "$LV_RSS") MiB"
    if [ "$n" = "$BIG" ]; then
        # libvirt's open varies by seconds from one run to the next on a
        # loaded machine: the overhead is measured against the open this very
        # start-up made (the daemon's log), and shown next to libvirt-open's.
        OPEN_IN_MS=$(awk -v s="${LOG_OPEN:-0}" 'BEGIN { printf "%d", s * 1000 }')
        target_scale "start-up with $n machines: at most 1 s over libvirt's open (READY=1 and the host up with every state at $SERVE_MS ms from launch, of which libvirt's open $OPEN_IN_MS ms; libvirt-open alone $OPEN_MS ms; every definition read at $DEFS_MS ms)" \
            "+$((SERVE_MS - OPEN_IN_MS)) ms" "≤ +1000 ms" \
            "$(yesno "$SERVE_MS - $OPEN_IN_MS <= 1000")"
        BIG_LV_RSS=$LV_RSS
        BIG_RSS=$RSS1
        BIG_HWM=$HWM
    fi
    vstop
    rm -f "$node"
done

# ---------------------------------------------------------------------------
# 4. The table
# ---------------------------------------------------------------------------

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
commit=$(git -C "$abs_srcdir" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$abs_srcdir" status --porcelain --untracked-files=no -- src 2>/dev/null)" ]; then
    commit="$commit (src/ modified)"
fi

target "status of $GUEST_WHAT: ≥ 0.8 of the ceiling" "$SHIP_STATUS" "≥ 0.80" \
    "$(yesno "$SHIP_STATUS >= 0.8")"
target "status: no non-2xx answers" "$SHIP_N2" "0" "$(yesno "$SHIP_N2 == 0")"
target "status: p99 at 64 connections" "${P99_64:-not measured} ms" "< 10 ms" \
    "$( [ -n "$P99_64" ] && yesno "$P99_64 < 10" || echo -)"
target "Digest-authenticated status: ≥ 0.5 of the ceiling" \
    "$DIGEST_RATIO (non-2xx beyond each connection's first challenge: $DIGEST_N2)" \
    "≥ 0.50" "$(yesno "$DIGEST_RATIO >= 0.5")"
target "Redfish system resource: ≥ 0.5 of the ceiling" "$SHIP_REDFISH" "≥ 0.50" \
    "$(yesno "$SHIP_REDFISH >= 0.5")"
target "RSS idle (tests/data/node.xml, just READY; a bare libvirt client with the same connection open: $(mib "${IDLE_FLOOR:-0}") MiB)" "$(mib "$IDLE_RSS") MiB" "< 16 MiB" \
    "$(yesno "$IDLE_RSS < 16384")"
target "RSS with $BIG machines (after the list runs; peak $(mib "$BIG_HWM") MiB; the test driver $BIG_WHERE; a libvirt client alone with that node open: $(mib "$BIG_LV_RSS") MiB)" \
    "$(mib "$BIG_RSS") MiB (virtmcd's own: $(mib $((BIG_RSS - BIG_LV_RSS))) MiB)" "< 64 MiB" \
    "$(yesno "$BIG_RSS < 65536 && $BIG >= 10000")"
if [ -n "$DESTROY" ]; then
    after=$(echo "$DESTROY" | sed -n 's/.*after_return=\([0-9.]*\).*/\1/p')
    target "\`virsh destroy\` to \"shut off\" in status, after virsh returned (ms: ${DESTROY})" \
        "${after:-?} ms" "< 100 ms" "$( [ -n "$after" ] && yesno "$after < 100" || echo '**no**')"
else
    target "\`virsh destroy\` to status" "skipped: $QEMU_WHY" "< 100 ms" -
fi

{
    echo "# virtmcd benchmark results"
    echo
    echo "Written by \`make bench\` (bench/run.sh); see README.md, Performance."
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
    echo "| virtmcd | $("$VIRTMCD" --version 2>/dev/null | head -n1), commit $commit |"
    echo "| CPU | $cpu, $(nproc) cores |"
    echo "| memory | $mem |"
    echo "| kernel | $(uname -r) |"
    echo "| libmicrohttpd, libvirt | $(pkg-config --modversion libmicrohttpd 2>/dev/null), $(virsh -v 2>/dev/null) |"
    echo "| load average (1, 5, 15 min) | start $LOAD_START, end $LOAD_END (the machine is shared) |"
    echo "| guest | $GUEST_WHAT |"
    echo "| method | wrk $BENCH_ROUNDS rounds × ${BENCH_SECONDS} s, target and ceiling alternating; ratio = median of the rounds' ratios |"
    echo
    echo "## Targets (issue 15)"
    echo
    echo "| target | measured | goal | met |"
    echo "|---|---|---|---|"
    cat "$TARGETS" "$TARGETS_SCALE"
    echo
    echo "## Throughput against the bare libmicrohttpd ceiling"
    echo
    echo "Ceiling: bench/bare-server (plain HTTP, or TLS for the TLS rows) with the"
    echo "same wrk threads/connections (and for Digest the same script computing the"
    echo "same hashes). Configuration as shipped unless the row says otherwise;"
    echo "the Digest and TLS rows add a users file (and a certificate). Digest's non-2xx"
    echo "include the one 401 challenge each connection gets first (one per connection"
    echo "and round)."
    echo
    echo "| request | wrk threads/conns | virtmcd req/s | ceiling req/s | ratio | non-2xx | socket errors | target met |"
    echo "|---|---|---|---|---|---|---|---|"
    cat "$ROWS"
    echo
    echo "## Latency of status (wrk --latency, $((BENCH_SECONDS * 2)) s, ms)"
    echo
    echo "The shipped \`max_connections_per_ip = 64\` refuses connections beyond 64 from"
    echo "one address (wrk's socket errors); the last row lifts that limit."
    echo
    echo "| request | conns | p50 | p99 | req/s | non-2xx | socket errors | ceiling p50 | ceiling p99 |"
    echo "|---|---|---|---|---|---|---|---|---|"
    cat "$LATROWS"
    echo
    echo "## Many machines (libvirt test driver, generated nodes; shipped configuration)"
    echo
    echo "| what | figure |"
    echo "|---|---|"
    cat "$SCALEROWS"
    echo "| RSS of the daemon on the guest's host: after READY / after the runs | $(mib "$GUEST_RSS") / $(mib "$GUEST_RSS_LOADED") MiB |"
} > "$T/RESULTS.md"

# Well-formed: every table line has the same number of cells as its header.
awk -F'|' '/^\|/ { if (!hdr) { hdr = NF } else if (NF != hdr) { print "bad row: " $0; bad = 1 } next }
    { hdr = 0 } END { exit bad }' "$T/RESULTS.md" || { say "malformed table"; exit 1; }
cp "$T/RESULTS.md" "$OUT"
cat "$OUT"
exit 0

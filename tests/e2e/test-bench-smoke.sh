#!/bin/sh
# test-bench-smoke.sh: the benchmark harness (bench/run.sh, make bench) runs
# and writes a well-formed table.  A smoke test only: one round of one
# second, a node of 20 machines, few connections, the test driver (never
# qemu:///system), and nothing asserted about speed; the figures belong in
# bench/RESULTS.md (make bench).

. "$(dirname "$0")/functions.sh"

: "${abs_builddir:=$abs_srcdir}"
OUT="$T/RESULTS.md"
BARE_SERVER="$abs_builddir/bench/bare-server"
LIBVIRT_OPEN="$abs_builddir/bench/libvirt-open"
for b in wrk openssl htdigest virsh; do
    command -v "$b" >/dev/null 2>&1 || { echo "# SKIP: $b is not installed"; exit 77; }
done
for f in "$BARE_SERVER" "$LIBVIRT_OPEN"; do
    [ -x "$f" ] || { echo "# $f is not built (make check builds it)"; exit 1; }
done

BENCH_QEMU=0 BENCH_SECONDS=1 BENCH_ROUNDS=1 BENCH_MACHINES="20" BENCH_CONN=4 \
    BENCH_LAT_CONN="4 80" BARE_SERVER="$BARE_SERVER" LIBVIRT_OPEN="$LIBVIRT_OPEN" abs_builddir="$abs_builddir" \
    bash "$abs_srcdir/bench/run.sh" "$OUT" > "$T/run.out" 2> "$T/run.err"
rc=$?
if [ "$rc" = 0 ]; then
    ok "bench/run.sh exits 0"
else
    not_ok "bench/run.sh exited $rc"
    sed 's/^/#   /' "$T/run.err" | tail -n 30
fi
check "it wrote the table" test -s "$OUT"
check "and printed it" cmp -s "$OUT" "$T/run.out"

for h in "# virtmcd benchmark results" "## Targets (issue 15)" \
    "## Throughput against the bare libmicrohttpd ceiling" "## Latency of status" \
    "## Many machines"; do
    check "the table has the heading '$h'" grep -q "^$h" "$OUT"
done
for k in date virtmcd CPU memory kernel "load average"; do
    check "the machine table names the $k" grep -q "^| $k" "$OUT"
done
check "the commit is named" grep -Eq '^\| virtmcd \| .*commit [0-9a-f]{7}' "$OUT"

# Every table row has as many cells as its header.
check "every table row has as many cells as its header" awk -F'|' '
    /^\|/ { if (!hdr) hdr = NF; else if (NF != hdr) bad = 1; next }
    { hdr = 0 } END { exit bad }' "$OUT"

# Throughput rows: numbers where numbers belong.
rows() { awk -F'|' -v s="$1" '/^## / { in_s = index($0, s) == 4 } in_s && /^\| [a-zA-Z]/' "$OUT"; }
n=$(rows "Throughput" | grep -vc '^| request')
check "13 or more throughput rows ($n)" test "$n" -ge 13
rows "Throughput" | grep -v '^| request' > "$T/tp"
check "each measured row has req/s of target and ceiling and a ratio" awk -F'|' '
    $3 !~ /skipped/ && !($4 ~ /^ [0-9]+ $/ && $5 ~ /^ [0-9]+ $/ && $6 ~ /^ \*\*[0-9]+\.[0-9][0-9]\*\* $/) {
        print "#   " $0; bad = 1 } END { exit bad }' "$T/tp"
for r in "status (access_log = false)" "machine list" "Redfish system" "machine detail" \
    "boot order" "status, Digest (MD5)" "status, Basic over TLS" \
    "status, Redfish session token (TLS)"; do
    check "a row for '$r'" grep -qF "| $r |" "$T/tp"
done
check "the real guest's status row says why it was skipped" grep -q '^| status | skipped: BENCH_QEMU=0' "$T/tp"
check "latency rows at 4 and 80 connections, with p50 and p99" awk -F'|' '
    /^\| status/ && $4 ~ /[0-9]/ && $5 ~ /[0-9]/ { seen[$3 + 0] = 1 }
    END { exit !(seen[4] && seen[80]) }' "$OUT"
check "a list row of 20 machines" grep -q '^| list of 20 machines:' "$OUT"
check "start-up and libvirt's open time" sh -c "grep -q '^| start-up to READY=1, 20 machines | [0-9]* ms |' '$OUT' &&
    grep -q '^| libvirt alone (bench/libvirt-open): .* | [0-9]* ms / [0-9]* ms |' '$OUT'"
check "RSS figures in MiB" grep -Eq '^\| RSS idle .* \| [0-9]+\.[0-9] MiB \|' "$OUT"
check "every target says whether it is met" awk -F'|' '
    /^## Targets/ { t = 1; next } /^## / { t = 0 } t && /^\| [^t-]/ && $5 !~ /^ (yes|\*\*no\*\*|-) $/ {
        bad = 1 } END { exit bad }' "$OUT"
check "the destroy row is skipped without a real guest" grep -q '^| `virsh destroy` to status | skipped' "$OUT"

echo "# $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]

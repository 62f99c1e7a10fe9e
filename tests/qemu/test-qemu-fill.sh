#!/bin/sh
# test-qemu-fill.sh: a host that comes up serves every machine's state at
# once and reads the definitions behind it (issue 15's start-up), and what
# needs a definition waits for it instead of answering from a half-read
# table.  libvirtd hosts the test driver (test+unix://, a real RPC
# connection) behind tests/qemu/rpc-proxy.py, which holds each reply to
# virDomainGetXMLDesc for 20 ms: 301 definitions take at least 6 s to read,
# a window long enough to test in, whatever the machine's load.
#
# While the host is "reading_definitions": status answers (from the states);
# a list filtered by owner answers only once every owner is known, with all
# of them; a start that the MAC guard must refuse is refused (the guard
# waited for the MACs); afterwards the host says the read is done.
. "$(dirname "$0")/lib.sh"
qemu_init shared

SOCK=/var/run/libvirt/libvirt-sock
[ -S "$SOCK" ] || { echo "# SKIP: no libvirtd socket at $SOCK"; exit 77; }

# 300 machines fill-001..fill-300, every third owned by alice, three in four
# running; fill-dup is off and has fill-001's MAC (fill-001 runs).
NODEF="$T/node-fill.xml"
/usr/bin/python3 - "$NODEF" <<'PY'
import sys
ns = "http://virtmcd.org/xmlns/domain/1.0"
out = ['<?xml version="1.0"?>\n<node xmlns:test="http://libvirt.org/schemas/domain/test/1.0">\n'
       '  <cpu><mhz>3000</mhz><model>x86_64</model><active>2</active><nodes>1</nodes>'
       '<sockets>1</sockets><cores>2</cores><threads>1</threads></cpu>\n'
       '  <memory>1073741824</memory>\n']
def dom(name, i, mac, off, owner):
    meta = ""
    if owner:
        meta = (f'<metadata><virtmcd:instance xmlns:virtmcd="{ns}">'
                f'<virtmcd:owner>{owner}</virtmcd:owner></virtmcd:instance></metadata>')
    state = "<test:runstate>5</test:runstate>" if off else ""
    return (f'<domain type="test"><name>{name}</name>'
            f'<uuid>f0000000-0000-4000-8000-{i:012x}</uuid><memory unit="MiB">64</memory>'
            f'<vcpu>1</vcpu><os><type arch="x86_64">hvm</type></os>{meta}<devices>'
            f'<interface type="user"><mac address="{mac}"/></interface></devices>{state}</domain>\n')
for i in range(1, 301):
    out.append(dom("fill-%03d" % i, i, "52:54:00:f1:%02x:%02x" % (i >> 8, i & 255),
                   i % 4 == 0, "alice" if i % 3 == 0 else None))
out.append(dom("fill-dup", 999, "52:54:00:f1:00:01", True, None))
out.append("</node>\n")
open(sys.argv[1], "w").write("".join(out))
PY

PROXY="$T/proxy.sock"
/usr/bin/python3 "$abs_srcdir/tests/qemu/rpc-proxy.py" "$PROXY" "$SOCK" 20 > "$T/proxy.out" 2>&1 &
BG_PIDS="$BG_PIDS $!"
wait_for 10 grep -qx ready "$T/proxy.out" || { echo "# the proxy did not start"; cat "$T/proxy.out"; exit 1; }

write_conf
NODE="test+unix://$NODEF?socket=$PROXY"
start_daemon || exit 1

reading() { curl -s "$BASE/service/hosts" | jq -r '.[0].reading_definitions'; }

req GET /service/hosts
expect_jq '.[0].state' up "the host is up at READY=1"
expect_jq '.[0].reading_definitions' true "with its definitions still being read"
expect_jq '.[0].guests | length' 301 "and every machine listed already"
expect_jqc '.[0].free_memory_kib' null "no free-memory estimate before the active machines' memory is known"

req GET /service/fill-002/state_controller/status
expect_status 200 "status answers while the definitions are read"
expect_jq .state running "from the state read at connect"
req GET /service/fill-004/state_controller/status
expect_jq .state "shut off" "a machine that is off reads off"
check "the read still went on meanwhile" test "$(reading)" = true

# A start the MAC guard must refuse, and an owner filter, sent during the read.
curl -s -o "$T/start.body" -w '%{http_code}' -X POST \
    "$BASE/service/fill-dup/state_controller/power_on" > "$T/start.code" &
sp=$!
req GET '/service/machines?owner=alice'
expect_status 200 "a list filtered by owner, sent during the read"
expect_jq 'length' 100 "waits and has all 100 of alice's machines"
expect_jq '[.[] | select(.owner != "alice")] | length' 0 "and no other"
wait "$sp"
check "the start of a machine with a running machine's MAC is refused (409)" \
    test "$(cat "$T/start.code")" = 409
check "naming the machine that has the MAC" grep -q "fill-001" "$T/start.body"

check "the host says the read is done" test "$(reading)" = false
check "the log tells how long it took" grep -q "Host 'vm': 301 definitions read in" "$T/daemon.log"
req GET /service/hosts
expect_jq '.[0].free_memory_kib | type' number "the free-memory estimate is back"

finish

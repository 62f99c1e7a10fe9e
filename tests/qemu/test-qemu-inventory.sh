#!/bin/sh
# test-qemu-inventory.sh: issue 11 on a real libvirtd.  Metadata written
# with PATCH is in `virsh dumpxml --inactive` (and the live XML of a running
# guest), survives a boot change handed to the running QEMU, is read back
# by a new daemon, and a change made with `virsh metadata` is seen without
# a restart (libvirt's metadata-change event); a PATCH while the live and
# persistent metadata differ (virsh --live) is merged into both, and answers
# what GET then shows.  A running guest that no address source knows
# answers 200 [].  The start guards refuse a guest whose disk image or MAC
# address a running guest uses, naming it (QEMU itself would start the
# second guest on a shared raw image only to fail on its lock, or worse,
# run with a duplicate MAC), and one larger than the free memory libvirt
# reports.  Last, a second host (the test driver's
# node-kvm09.xml, hosted by this libvirtd, reached through a proxy of its
# socket) hangs: lists, map, hosts, metadata and a start guard still answer
# from the tables; then it goes away: it is down, stale, with its last known
# guests, which still stop a start and make map conflicts; then it comes
# back by itself.
. "$(dirname "$0")/lib.sh"
qemu_init shared

NS=http://virtmcd.org/xmlns/domain/1.0
write_conf
make_guest meta-a os || exit 1
A=$GUEST
make_guest meta-b os || exit 1
B=$GUEST
start_daemon || exit 1

patch() { req PATCH "/service/$1/metadata" -H 'Content-Type: application/json' --data-binary "$2"; }
meta() { req GET "/service/$1/metadata"; jq -S -c . "$T/body"; }
live_xml() { $VIRSH dumpxml --security-info "$1"; }
# has_text TEXT NEEDLE: TEXT contains NEEDLE, literally.
has_text() { printf '%s' "$1" | grep -qF -- "$2"; }

# ---- written to libvirt ----
patch "$A" '{"owner":"bob","description":"db & <cache>","tags":{"env":"ci","team":"infra"}}'
expect_status 200 "PATCH the metadata of a guest that is off"
x=$(inactive_xml "$A")
check "virsh dumpxml --inactive shows the owner" has_text "$x" "<virtmcd:owner>bob</virtmcd:owner>"
check "and the tags" sh -c 'printf "%s" "$1" | grep -Eq "<virtmcd:tag key=.env.>ci</virtmcd:tag>"' _ "$x"
check "and the escaped description" has_text "$x" "<virtmcd:description>db &amp; &lt;cache&gt;</virtmcd:description>"
check "under virtmcd's namespace" has_text "$x" "xmlns:virtmcd=\"$NS\""
req GET "/service/$A/backups"
expect_jq '.[0].reason' metadata "a backup was written first"

action "$B" power_on
expect_action done running "B starts"
action "$B" pxeboot
expect_status 200 "pxeboot on the running B (the live definition gets its live-boot marker)"
patch "$B" '{"owner":"carol","tags":{"env":"prod"}}'
expect_status 200 "PATCH the metadata of a running guest"
check "B's persistent definition has it" has_text "$(inactive_xml "$B")" "<virtmcd:owner>carol</virtmcd:owner>"
check "B's live definition has it" has_text "$(live_xml "$B")" "<virtmcd:owner>carol</virtmcd:owner>"
check "and the live definition kept its live-boot marker" has_text "$(live_xml "$B")" "<virtmcd:live-boot "
action "$B" diskboot
expect_status 200 "diskboot on the running B"
check "a boot change handed to the running QEMU keeps the owner in the live definition" \
    has_text "$(live_xml "$B")" "<virtmcd:owner>carol</virtmcd:owner>"
expect_eq "$(meta "$B")" '{"description":null,"owner":"carol","tags":{"env":"prod"}}' "GET B's metadata"

# ---- a new daemon reads it back ----
stop_daemon
start_daemon || exit 1
expect_eq "$(meta "$A")" '{"description":"db & <cache>","owner":"bob","tags":{"env":"ci","team":"infra"}}' \
    "a new daemon reads A's metadata from libvirt"
expect_eq "$(meta "$B")" '{"description":null,"owner":"carol","tags":{"env":"prod"}}' \
    "and B's"
req GET '/service/machines?owner=bob'
check "the owner filter finds A after the restart" sh -c 'jq -e --arg n "$2" "[.[].name] | index(\$n)" "$1" >/dev/null' _ "$T/body" "$A"

# ---- a change made with virsh, seen without a restart ----
$VIRSH metadata "$A" --config "$NS" --key virtmcd --set '<instance><owner>dave</owner><tag key="env">dev</tag></instance>' >/dev/null
check "virsh metadata on A (off) is seen through the event" \
    wait_for 10 sh -c 'curl -s -g "$1/service/$2/metadata" | jq -e ".owner == \"dave\"" >/dev/null' _ "$BASE" "$A"
req GET '/service/machines?tag=env:dev'
check "and the table is current: tag=env:dev finds A" sh -c 'jq -e --arg n "$2" "[.[].name] | index(\$n)" "$1" >/dev/null' _ "$T/body" "$A"
$VIRSH metadata "$B" --live "$NS" --key virtmcd --set '<instance><owner>erin</owner></instance>' >/dev/null
check "virsh metadata --live on the running B is seen too" \
    wait_for 10 sh -c 'curl -s -g "$1/service/$2/metadata" | jq -e ".owner == \"erin\"" >/dev/null' _ "$BASE" "$B"

# B's live metadata (owner erin, no tags) now differs from its persistent
# one (owner carol, env=prod).  A PATCH is merged into both; the answer, GET
# and the list are the running definition's.
patch "$B" '{"owner":"carol"}'
expect_status 200 "PATCH owner carol while the live definition says erin"
expect_eq "$(jq -S -c . "$T/body")" '{"description":null,"owner":"carol","tags":{}}' \
    "the answer is the running definition's: carol, and no tags (virsh --live dropped them)"
expect_eq "$(meta "$B")" '{"description":null,"owner":"carol","tags":{}}' "GET agrees"
check "B's live definition has owner carol again" \
    has_text "$(live_xml "$B")" "<virtmcd:owner>carol</virtmcd:owner>"
check "its persistent definition kept its tag" \
    sh -c 'printf "%s" "$1" | grep -Eq "<virtmcd:tag key=.env.>prod</virtmcd:tag>"' _ "$(inactive_xml "$B")"
req GET '/service/machines?owner=carol'
check "the owner filter finds B" sh -c 'jq -e --arg n "$2" "[.[].name] | index(\$n)" "$1" >/dev/null' _ "$T/body" "$B"
# A change of the persistent definition alone shows once the machine stops.
$VIRSH metadata "$B" --config "$NS" --key virtmcd --set '<instance><owner>zed</owner></instance>' >/dev/null
action "$B" power_off
expect_action done "shut off" "B stops"
expect_eq "$(meta "$B")" '{"description":null,"owner":"zed","tags":{}}' \
    "virsh metadata --config made while B ran shows once it is off"
action "$B" power_on
expect_action done running "B starts again"

# ---- addresses of a real guest ----
# Its NIC is user-mode networking: no libvirt network (no lease), no guest
# agent, and no ARP entry.  Every source fails or has nothing: that is
# 200 [], not an error.
req GET "/service/$B/addresses"
expect_status 200 "addresses of the running B"
expect_eq "$(jq -c . "$T/body")" '[]' "no source knows an address of it: []"
req GET "/service/$A/addresses"
expect_error 409 "addresses of A, which is off"

# ---- start guards against a running guest ----
MAC_B=$($VIRSH domiflist "$B" | awk 'NR > 0 && $5 ~ /:/ {print $5; exit}')
make_guest shares-disk os "<disk type='file' device='disk'><driver name='qemu' type='raw'/>
      <source file='$IMAGES/$B.img'/><target dev='vdb' bus='virtio'/></disk>" || exit 1
C=$GUEST
# Defined behind virtmcd's back: wait for libvirt's event to reach its table.
known() { wait_for 10 sh -c 'curl -sf -g -o /dev/null "$1/service/$2/state_controller/status"' _ "$BASE" "$1"; }
known "$C" || not_ok "virtmcd never saw $C defined"
action "$C" power_on
if [ "$STATUS" = 409 ] && jq -r .error "$T/body" | grep -q "disk $IMAGES/$B.img of '$C' is in use by '$B'"; then
    ok "a guest whose disk image the running B uses may not start (409: $(jq -r .error "$T/body"))"
else
    not_ok "guest sharing B's disk: expected 409 naming $B, got $STATUS $(cat "$T/body")"
fi
expect_eq "$(domstate "$C")" "shut off" "and it did not start"
if [ -n "$MAC_B" ]; then
    make_guest shares-mac os "<interface type='user'><mac address='$MAC_B'/><model type='virtio'/></interface>" || exit 1
    D=$GUEST
    known "$D" || not_ok "virtmcd never saw $D defined"
    action "$D" power_on
    if [ "$STATUS" = 409 ] && jq -r .error "$T/body" | grep -qi "MAC address $MAC_B of '$D' is in use by '$B'"; then
        ok "a guest with the running B's MAC may not start (409)"
    else
        not_ok "guest with B's MAC $MAC_B: expected 409 naming $B, got $STATUS $(cat "$T/body")"
    fi
else
    not_ok "cannot read B's MAC address with virsh domiflist"
fi
# The memory guard with the free memory libvirt reports (no estimate here).
H="$PREFIX-huge"
GUESTS="$GUESTS $H"
qemu-img create -q -f raw "$IMAGES/$H.img" 1M
guest_xml "$H" os | sed "s|<memory unit='MiB'>64</memory>|<memory unit='GiB'>1024</memory>|" > "$T/$H.xml"
if $VIRSH define "$T/$H.xml" >/dev/null 2>"$T/define.err" && known "$H"; then
    action "$H" power_on
    if [ "$STATUS" = 409 ] &&
        jq -r .error "$T/body" | grep -Eq "^host '[^']*' has [0-9]+ KiB of memory free; '$H' needs 1073741824 KiB$"; then
        ok "a guest of 1 TiB may not start: libvirt's free memory is less (409: $(jq -r .error "$T/body"))"
    else
        not_ok "a guest of 1 TiB: expected 409 with the memory figures, got $STATUS $(cat "$T/body")"
    fi
    expect_eq "$(domstate "$H")" "shut off" "and it did not start"
else
    not_ok "cannot define $H with 1 TiB, or virtmcd never saw it: $(cat "$T/define.err")"
fi
action "$B" power_off
action "$C" power_on
expect_action done running "with B off, the guest that shares its disk starts"
action "$C" power_off

# ---- a second host that hangs, goes away and comes back ----
# kvm09 is tests/data/node-kvm09.xml hosted by this libvirtd (test+unix://)
# through a proxy of its socket that this test freezes (SIGUSR1: it stops
# forwarding, so every libvirt call to kvm09 hangs until keepalive gives up)
# and stops (SIGTERM: the connection closes).  libvirtd itself is never
# touched.  M, on the local host, has the MAC of kvm09's running web1.
LVSOCK=/run/libvirt/libvirt-sock
K09="$abs_srcdir/tests/data/node-kvm09.xml"
if [ ! -S "$LVSOCK" ] ||
    ! timeout 10 virsh -q -c "test+unix://$K09?socket=$LVSOCK" domstate web1 >/dev/null 2>&1; then
    echo "# SKIP (part): $LVSOCK does not serve the test driver (a libvirtd, not virtqemud, is needed)"
    finish
fi
make_guest mac09 os "<interface type='user'><mac address='52:54:00:09:00:01'/><model type='virtio'/></interface>" || exit 1
M=$GUEST
# U has web1's UUID: started while kvm09 is down, a conflict with its last
# known web1.
make_guest uuid09 os "" "<uuid>a0000000-0000-4000-8000-000000000901</uuid>" || exit 1
U=$GUEST
proxy_start() {
    rm -f "$T/px.sock"
    /usr/bin/python3 "$abs_srcdir/tests/qemu/rpc-proxy.py" "$T/px.sock" "$LVSOCK" > /dev/null 8>&- &
    PROXY=$!
    BG_PIDS="$BG_PIDS $PROXY"
    wait_for 10 test -S "$T/px.sock"
}
# fast METHOD PATH: one request that may take at most 3 s (STATUS 000 when
# it took longer); the answer in $T/body.
fast() {
    rm -f "$T/body"
    STATUS=$(curl -s -g --max-time 3 -X "$1" -o "$T/body" -w '%{http_code}' "$BASE$2")
}
host_state() { curl -s --max-time 3 "$BASE/service/hosts/kvm09" | jq -r .state 2>/dev/null; }
is_down() { [ "$(host_state)" = down ]; }
is_up() { [ "$(host_state)" = up ]; }
NAMES09=$(grep -o '<name>[^<]*</name>' "$K09" | sed 's/<name>\(.*\)<\/name>/\1/' | LC_ALL=C sort |
    jq -R . | jq -cs .)

LOCAL_URI=$NODE
stop_daemon
proxy_start || not_ok "the proxy does not listen"
NODE=
write_conf "[host \"vm\"]
uri = $LOCAL_URI
[host \"kvm09\"]
uri = test+unix://$K09?socket=$T/px.sock"
start_daemon || exit 1
check "both hosts are up" sh -c '[ "$(curl -s "$1/service/hosts" | jq -r "[.[].state] | join(\",\")")" = up,up ]' _ "$BASE"
action "$M" power_on
if [ "$STATUS" = 409 ] && jq -r .error "$T/body" | grep -q "MAC address 52:54:00:09:00:01 of '$M' is in use by 'web1' (running) on host 'kvm09'$"; then
    ok "M may not start: kvm09's web1 has its MAC (409: $(jq -r .error "$T/body"))"
else
    not_ok "M with web1's MAC: expected 409 naming web1 on kvm09, got $STATUS $(cat "$T/body")"
fi

# Frozen: kvm09 is up but answers nothing.  Reads and a start guard that
# involves it answer from the tables, at once.
kill -USR1 "$PROXY"
fast GET "/service/machines?host=kvm09&state=running&owner=bob&tag=env:ci&name=web*"
check "frozen kvm09: the list with every filter answers ($STATUS)" \
    sh -c '[ "$1" = 200 ] && [ "$(jq -r "[.[].name] | join(\",\")" "$2")" = web1 ]' _ "$STATUS" "$T/body"
fast GET "/service/machines?addresses=1"
check "frozen kvm09: the list with addresses answers ($STATUS)" [ "$STATUS" = 200 ]
fast GET /service/map
check "frozen kvm09: the map answers ($STATUS)" [ "$STATUS" = 200 ]
fast GET /api/v1/vmap/web1
check "frozen kvm09: /api/v1/vmap/web1 answers ($STATUS)" [ "$STATUS" = 200 ]
fast GET /service/hosts/kvm09
check "frozen kvm09: /service/hosts/kvm09 answers ($STATUS)" [ "$STATUS" = 200 ]
fast GET /service/web1/metadata
check "frozen kvm09: web1's metadata answers ($STATUS)" \
    sh -c '[ "$1" = 200 ] && [ "$(jq -r .owner "$2")" = bob ]' _ "$STATUS" "$T/body"
fast GET /service/web1/state_controller/status
check "frozen kvm09: web1's status answers ($STATUS)" [ "$STATUS" = 200 ]
fast POST "/service/$M/state_controller/power_on"
check "frozen kvm09: M's start guard reads kvm09's row, not kvm09 ($STATUS)" [ "$STATUS" = 409 ]
# The control: one machine's detail is read from libvirt, and hangs.
fast GET /service/web1
check "while web1's detail, which asks kvm09, does not answer within 3 s ($STATUS)" [ "$STATUS" = 000 ]
check "and kvm09 was up all along (frozen, not yet given up by keepalive)" is_up

# Gone: the connection closes; kvm09 is down and keeps what it knew.
kill -TERM "$PROXY"
check "kvm09 goes down" wait_for 15 is_down
req GET /service/hosts/kvm09
expect_jq .stale true "down kvm09: stale"
expect_jq '.guests | tojson' "$NAMES09" "down kvm09: its last known guests"
expect_jq '[.cpus, .memory_kib, .hypervisor] | tojson' '[4,8388608,"TEST"]' "down kvm09: its last known node"
expect_jq '.down_since | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")' true \
    "down kvm09: down_since"
expect_jq '.last_error | type == "string" and length > 0' true "down kvm09: last_error ($(jq -r .last_error "$T/body"))"
req GET /service/hosts/vm
expect_jq '[.state, has("stale")] | tojson' '["up",false]' "vm stays up"
req GET '/service/machines?host=kvm09'
expect_status 200 "the list answers while one host is up"
expect_jq '[length, ([.[].stale] | unique)] | tojson' '[11,[true]]' "kvm09's 11 machines, each stale: true"
expect_jq '.[] | select(.name == "web1") | .state' running "web1 in its last known state"
req GET "/service/machines?name=$M"
expect_jq '.[0] | has("stale")' false "M, on the host that is up, is not stale"
req GET /service/map
expect_jq '.hosts.kvm09.state' down "the map: kvm09 down"
expect_jq '.hosts.kvm09.guests | tojson' "$NAMES09" "with its last known guests"
req GET /service/web1
expect_error 503 "web1 on the down kvm09"
action "$M" power_on
if [ "$STATUS" = 409 ] && jq -r .error "$T/body" | grep -q "in use by 'web1' (running) on host 'kvm09' (last known: its host is unreachable)"; then
    ok "M still may not start: web1 may still run there (409: $(jq -r .error "$T/body"))"
else
    not_ok "M while kvm09 is down: expected 409 naming web1 as last known, got $STATUS $(cat "$T/body")"
fi
action "$M" power_on force=1
expect_action done running "force=1 starts M all the same"
action "$M" power_off
action "$U" power_on force=1
expect_action done running "U, with web1's UUID, started with force=1"
req GET /service/map
expect_jqc .conflicts '[{"name":null,"uuid":"a0000000-0000-4000-8000-000000000901","hosts":["kvm09","vm"]}]' \
    "the map: a conflict of U with the last known web1 on the down kvm09"
action "$U" power_off

# Back: the proxy listens again; virtmcd reconnects by itself.
proxy_start || not_ok "the proxy does not listen again"
check "kvm09 comes back by itself" wait_for 20 is_up
req GET /service/hosts/kvm09
expect_jq '[has("down_since"), has("last_error"), has("stale")] | any' false \
    "no down_since, last_error or stale any more"
expect_jq '.guests | tojson' "$NAMES09" "its guests"
req GET '/service/machines?host=kvm09'
expect_jq '[length, ([.[] | has("stale")] | unique)] | tojson' '[11,[false]]' "its machines, none stale"
action "$M" power_on
if [ "$STATUS" = 409 ] && jq -r .error "$T/body" | grep -q "in use by 'web1' (running) on host 'kvm09'$"; then
    ok "and M's guard names web1 as current again"
else
    not_ok "M after kvm09's return: expected 409 naming web1, got $STATUS $(cat "$T/body")"
fi

# ---- a hot plug outside virtmcd: libvirt's device events keep MACs current ----
HPMAC=52:54:00:7e:57:01
make_guest hp os || exit 1
HP=$GUEST
make_guest hp2 os "<interface type='user'><mac address='$HPMAC'/><model type='virtio'/></interface>" || exit 1
HP2=$GUEST
action "$HP" power_on
expect_action done running "HP starts"
req GET "/service/machines?name=$HP"
HPUUID=$(jq -r '.[0].uuid' "$T/body")
nics() { curl -s "$BASE/redfish/v1/Systems/$HPUUID/EthernetInterfaces" | jq -r '."Members@odata.count"'; }
nics_are() { [ "$(nics)" = "$1" ]; }
check "HP has one NIC in the table" test "$(nics)" = 1
printf "<interface type='user'><mac address='%s'/><model type='virtio'/></interface>" "$HPMAC" > "$T/nic.xml"
check "virsh attach-device --live gives the running HP $HPMAC" \
    sh -c "$VIRSH attach-device '$HP' '$T/nic.xml' --live > /dev/null"
check "the table has HP's new NIC without any request about HP (device-added event)" wait_for 10 nics_are 2
action "$HP2" power_on
if [ "$STATUS" = 409 ] && jq -r .error "$T/body" | grep -q "$HP"; then
    ok "HP2, whose MAC HP now has, may not start (409: $(jq -r .error "$T/body"))"
else
    not_ok "HP2 after the hot plug: expected 409 naming $HP, got $STATUS $(cat "$T/body")"
    action "$HP2" power_off
fi
check "virsh detach-device --live takes it out again" \
    sh -c "$VIRSH detach-device '$HP' '$T/nic.xml' --live > /dev/null"
# A running guest without an OS may not answer the unplug request (ACPI):
# then libvirt keeps the device, and so does the table.
if wait_for 10 nics_are 1; then
    ok "the table drops the NIC (device-removed event)"
    action "$HP2" power_on
    expect_action done running "and HP2 starts"
    action "$HP2" power_off
else
    live=$($VIRSH dumpxml "$HP" | grep -c "$HPMAC")
    check "the guest kept the NIC (no OS to release it), and so did the table" test "$live" -ge 1
fi
action "$HP" power_off

finish

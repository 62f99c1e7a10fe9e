#!/bin/sh
# test-qemu-inventory.sh: issue 11 on a real libvirtd.  Metadata written
# with PATCH is in `virsh dumpxml --inactive` (and the live XML of a running
# guest), survives a boot change handed to the running QEMU, is read back
# by a new daemon, and a change made with `virsh metadata` is seen without
# a restart (libvirt's metadata-change event); a PATCH while the live and
# persistent metadata differ (virsh --live) is merged into both, and answers
# what GET then shows.  The start guards refuse a guest whose disk image or
# MAC address a running guest uses, naming it (QEMU itself would start the
# second guest on a shared raw image only to fail on its lock, or worse, run
# with a duplicate MAC).
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
action "$B" power_off
action "$C" power_on
expect_action done running "with B off, the guest that shares its disk starts"
action "$C" power_off

finish

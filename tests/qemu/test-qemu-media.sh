#!/bin/sh
# test-qemu-media.sh: virtual media on a real QEMU (issue 12 point 6).  An
# image served by a loopback HTTP server is inserted into a guest that has
# no CD drive (virtmcd adds one on the machine type's bus), the guest boots
# from it once (SeaBIOS says so in its debug log) and from its disk at the
# next reset; while it runs, an eject empties the running drive and leaves
# the persistent definition as it was before the insert; an insert into the
# running drive reaches QEMU now; an image QEMU cannot open changes nothing.
# Every change has its backup.
. "$(dirname "$0")/lib.sh"
. "$abs_srcdir/tests/qemu/firmware.sh"
qemu_init shared

[ -n "$(find /usr/lib/x86_64-linux-gnu/qemu -name 'block-curl.so' 2>/dev/null)" ] ||
    { echo "# SKIP: QEMU's curl block driver is not installed (qemu-block-extra)"; exit 77; }

# The image: not bootable, but the firmware tries it and says so.
mkdir -p "$T/www"
dd if=/dev/zero of="$T/www/boot.iso" bs=64k count=16 2>/dev/null
HTTP_PORT=$(free_port)
(cd "$T/www" && exec /usr/bin/python3 "$abs_srcdir/tests/qemu/range-server.py" "$HTTP_PORT") >"$T/http.log" 2>&1 &
BG_PIDS="$BG_PIDS $!"
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/boot.iso" || { echo "# the HTTP server did not start"; exit 1; }
URL="http://127.0.0.1:$HTTP_PORT/boot.iso"

write_conf
fw_make_guest media os || exit 1
G=$GUEST
start_daemon || exit 1

media_put() { req PUT "/service/$G/media" -H 'Content-Type: application/json' --data-binary "{\"image\":\"$1\"}"; }
# The definition but for boot elements, virtmcd's markers, and the IDE
# controller libvirt lists once a drive used it (i440fx's built-in PIIX IDE,
# there with or without it).
nobootxml() {
    inactive_xml "$G" | grep -v 'virtmcd:' | xml_norm --no-boot |
        /usr/bin/python3 -c 'import re, sys; sys.stdout.write(re.sub(r"\n *<controller type=.ide. index=.0.>\n[^\n]*\n *</controller>", "", sys.stdin.read()))'
}
before=$(nobootxml)
nb0=$(curl -s -g "$BASE/service/$G/backups" | jq length)

# ---- insert while off; boot from it once ----
media_put "$URL"
expect_status 200 "insert into a guest that is off"
expect_jq '"\(.result) \(.applies) \(.bus) \(.image)"' "done next_boot ide $URL" "a drive was added on IDE (i440fx), for the next start"
check "the definition has the network CD with our alias" sh -c "$VIRSH dumpxml --inactive '$G' | grep -q \"ua-virtmcd-cd\""
action "$G" cdromboot once=1
expect_status 200 "cdromboot once=1 (the guest now has a CD drive)"
fw_mark "$G"
action "$G" power_on
expect_action done running "power_on: QEMU opens the image over HTTP"
first=$(fw_first_after "$G")
case $first in
"Booting from DVD/CD"*) ok "the firmware booted from the inserted image first ($first)" ;;
*) not_ok "the firmware's first device was '$first', expected the CD"; fw_show "$G" ;;
esac
check "QEMU read the image from the HTTP server" grep -q 'GET /boot.iso' "$T/http.log"
# A reset of the same QEMU (a new one would start a new firmware log): the
# order it boots with is the one virtmcd handed it after the one-time boot.
fw_mark "$G"
action "$G" force_reset
expect_eq "$(fw_first_after "$G")" disk "once is once: the next boot is from the disk"

# ---- eject while running ----
req DELETE "/service/$G/media"
expect_status 200 "eject from the running guest"
expect_jq '"\(.result) \(.applies) \(.drive)"' "done now false" "the running drive is empty now, the added drive gone from the definition"
check "the running QEMU's drive has no media" sh -c "! $VIRSH dumpxml '$G' | grep -q 'boot.iso'"
expect_same_xml "$(nobootxml)" "$before" "after the eject the definition is as it was before the insert"

# ---- insert into the running drive ----
media_put "$URL"
expect_jq '"\(.result) \(.applies)"' "done now" "insert into the running guest's (empty) drive reaches QEMU now"
check "the live definition holds the image" sh -c "$VIRSH dumpxml '$G' | grep -q \"name='/boot.iso'\""
media_put "http://127.0.0.1:$HTTP_PORT/missing.iso"
if [ "$STATUS" -ge 400 ] && jq -e '.error | length > 0' "$T/body" >/dev/null 2>&1; then
    ok "an image QEMU cannot open is refused ($STATUS: $(jq -r .error "$T/body"))"
else
    not_ok "a missing image: expected an error, got $STATUS"
fi
check "and the running drive still holds the first image" sh -c "$VIRSH dumpxml '$G' | grep -q \"name='/boot.iso'\""
req GET "/service/$G/media"
expect_jq .image "$URL" "GET media: the persistent definition holds the first image too"
req DELETE "/service/$G/media"
expect_status 200 "eject again"
nb1=$(curl -s -g "$BASE/service/$G/backups" | jq length)
check "every change has its backup ($nb0 -> $nb1)" test "$nb1" -ge $((nb0 + 4))
action "$G" power_off

finish

#!/bin/sh
# test-qemu-redfish-media.sh: Redfish virtual media on a real QEMU (issue 12
# point 6), the way Ironic boots a deploy ISO: an image served by a
# loopback HTTP server is inserted with VirtualMedia.InsertMedia into a guest
# without a CD drive, Boot is PATCHed to Cd Once, Reset On boots it from the
# CD (SeaBIOS says so in its debug log), ForceRestart boots the disk (once
# is once); then Cd Continuous and EjectMedia on the running guest: QEMU's
# drive is empty, the boot target is Hdd again, and the definition is as it
# was before the insert but for boot elements, every change backed up.
. "$(dirname "$0")/lib.sh"
. "$abs_srcdir/tests/qemu/firmware.sh"
qemu_init shared

[ -n "$(find /usr/lib/x86_64-linux-gnu/qemu -name 'block-curl.so' 2>/dev/null)" ] ||
    { echo "# SKIP: QEMU's curl block driver is not installed (qemu-block-extra)"; exit 77; }

# The image: not bootable, but the firmware tries it and says so.
mkdir -p "$T/www"
dd if=/dev/zero of="$T/www/deploy.iso" bs=64k count=16 2>/dev/null
HTTP_PORT=$(free_port)
(cd "$T/www" && exec /usr/bin/python3 "$abs_srcdir/tests/qemu/range-server.py" "$HTTP_PORT") \
    >"$T/http.log" 2>&1 &
BG_PIDS="$BG_PIDS $!"
URL="http://127.0.0.1:$HTTP_PORT/deploy.iso"
wait_for 10 curl -sf -o /dev/null "$URL" || { echo "# the HTTP server did not start"; exit 1; }

write_conf
fw_make_guest rfmedia os || exit 1
G=$GUEST
UUID=$($VIRSH domuuid "$G" | head -n1)
start_daemon || exit 1
S=/redfish/v1/Systems
CD=$S/$UUID/VirtualMedia/Cd

json() { local m=$1 p=$2; shift 2; req "$m" "$p" -H 'Content-Type: application/json' --data-binary "$@"; }
reset() { json POST "$S/$UUID/Actions/ComputerSystem.Reset" "{\"ResetType\": \"$1\"}"; }
boot() { json PATCH "$S/$UUID" "{\"Boot\": {\"BootSourceOverrideTarget\": \"$1\", \"BootSourceOverrideEnabled\": \"$2\"}}"; }
field() { curl -s "$BASE$1" | jq -r "$2"; }
nbackups() { curl -s -g "$BASE/service/$G/backups" | jq length; }
# The definition but for boot elements, virtmcd's markers, and the IDE
# controller libvirt lists once a drive used it (as test-qemu-media.sh).
nobootxml() {
    inactive_xml "$G" | grep -v 'virtmcd:' | xml_norm --no-boot |
        /usr/bin/python3 -c 'import re, sys; sys.stdout.write(re.sub(r"\n *<controller type=.ide. index=.0.>\n[^\n]*\n *</controller>", "", sys.stdin.read()))'
}
before=$(nobootxml)
nb0=$(nbackups)

req GET "$CD"
expect_jqc '[.Inserted, .Image]' '[false,null]' "the guest's Cd is empty"
boot Cd Once
expect_status 400 "Cd before an insert: the guest has no CD drive"

# ---- InsertMedia, Cd Once, Reset On: the firmware boots the CD ----
json POST "$CD/Actions/VirtualMedia.InsertMedia" "{\"Image\": \"$URL\", \"TransferProtocolType\": \"HTTP\"}"
expect_status 204 "InsertMedia"
req GET "$CD"
expect_jqc '[.Inserted, .Image, .ImageName]' "[true,\"$URL\",\"deploy.iso\"]" "the Cd holds the image"
check "the definition has the network CD with virtmcd's alias" sh -c "$VIRSH dumpxml --inactive '$G' | grep -q ua-virtmcd-cd"
boot Cd Once
expect_jq '.Boot.BootSourceOverrideTarget + " " + .Boot.BootSourceOverrideEnabled' "Cd Once" "Boot Cd Once"
fw_mark "$G"
reset On
expect_status 204 "Reset On: QEMU opens the image over HTTP"
first=$(fw_first_after "$G")
case $first in
"Booting from DVD/CD"*) ok "the firmware booted from the inserted image first ($first)" ;;
*) not_ok "the firmware's first device was '$first', expected the CD"; fw_show "$G" ;;
esac
check "QEMU read the image from the HTTP server" grep -q 'GET /deploy.iso' "$T/http.log"
over() { [ "$(field "$S/$UUID" '.Boot.BootSourceOverrideEnabled')" = Disabled ]; }
wait_for 20 over
check "after that boot the override is over (Disabled)" over
fw_mark "$G"
reset ForceRestart
expect_status 204 "ForceRestart"
expect_eq "$(fw_first_after "$G")" disk "once is once: the next boot is from the disk"

# ---- Cd Continuous, then EjectMedia on the running guest ----
boot Cd Continuous
expect_jq '.Boot.BootSourceOverrideTarget + " " + .Boot.BootSourceOverrideEnabled' "Cd Continuous" "Boot Cd Continuous"
req GET "$CD"
E=$(header ETag)
json POST "$CD/Actions/VirtualMedia.EjectMedia" '{}' -H "If-Match: $E"
expect_status 204 "EjectMedia from the running guest"
req GET "$CD"
expect_jqc '[.Inserted, .Image]' '[false,null]' "the Cd is empty"
check "the running QEMU's drive has no media" sh -c "! $VIRSH dumpxml '$G' | grep -q 'deploy.iso'"
expect_eq "$(field "$S/$UUID" .Boot.BootSourceOverrideTarget)" Hdd "the eject put the boot target back to Hdd"
expect_same_xml "$(nobootxml)" "$before" "the definition is as before the insert, but for boot elements"
fw_mark "$G"
reset ForceRestart
expect_eq "$(fw_first_after "$G")" disk "and the guest boots its disk, not the empty drive"
nb1=$(nbackups)
# insert, Cd Once, its restore, Cd Continuous, eject, the boot change after it.
check "every change has its backup ($nb0 -> $nb1)" test "$nb1" -ge $((nb0 + 5))
reset ForceOff
expect_status 204 "ForceOff"
finish

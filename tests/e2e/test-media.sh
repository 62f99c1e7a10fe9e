#!/bin/sh
# test-media.sh: the virtual CD on the /service tree (GET, PUT, DELETE
# /service/<name>/media) over libvirt's test driver: insert into a machine
# without a drive (one is added on IDE, the default machine type's bus),
# the same insert again changes nothing, eject leaves the definition as it
# was, every change backed up; bad URLs, bodies and machines are refused
# with nothing changed.  tests/qemu/test-qemu-media.sh boots from one.
. "$(dirname "$0")/functions.sh"

start_daemon || exit 1

put() { req PUT "/service/$1/media" -H 'Content-Type: application/json' --data-binary "$2"; }
disks() { curl -s -g "$BASE/service/$1" | jq -c .disks; }
nbackups() { curl -s -g "$BASE/service/$1/backups" | jq length; }

req GET /service/vm-off/media
expect_jqc . '{"drive":false,"target":null,"bus":null,"image":null,"inserted":false}' "vm-off has no CD drive"
d0=$(disks vm-off)
b0=$(nbackups vm-off)

put vm-off '{"image":"https://images.example/debian-12.iso?token=a1"}'
expect_status 200 "insert"
expect_jqc '[.result, .applies, .drive, .target, .bus, .image, .inserted]' \
    '["done","next_boot",true,"hda","ide","https://images.example/debian-12.iso?token=a1",true]' \
    "a drive was added on IDE, for the next start"
expect_jq '.backup | length > 0' true "the answer names the backup"
check "the machine's detail shows the CD" sh -c 'curl -s -g "$1/service/vm-off" | jq -e ".disks[] | select(.device == \"cdrom\" and .target == \"hda\")" >/dev/null' _ "$BASE"
check "a backup was written ($b0 -> $(nbackups vm-off))" test "$(nbackups vm-off)" = $((b0 + 1))
put vm-off '{"image":"https://images.example/debian-12.iso?token=a1"}'
expect_jq .result unchanged "the same image again changes nothing"
check "and writes no backup" test "$(nbackups vm-off)" = $((b0 + 1))

req DELETE /service/vm-off/media
expect_jqc '[.result, .drive, .image, .boot_to_disk]' '["done",false,null,false]' "eject takes the added drive away"
check "the disks are as they were" test "$(disks vm-off)" = "$d0"
check "a backup for the eject too" test "$(nbackups vm-off)" = $((b0 + 2))
req DELETE /service/vm-off/media
expect_jq .result unchanged "eject of nothing changes nothing"

# An eject from a machine that boots its CD first makes its disk first.
put vm-off '{"image":"https://images.example/debian-12.iso"}'
req POST /service/vm-off/state_controller/cdromboot
check "cdromboot after the insert" sh -c 'curl -s -g "$1/service/vm-off/boot" | jq -e ".first == \"cdrom\"" >/dev/null' _ "$BASE"
req DELETE /service/vm-off/media
expect_jqc '[.result, .boot_to_disk, (.boot_backup | length > 0)]' '["done",true,true]' \
    "the eject answers that the disk is first now, with that change's backup"
check "the disk is first" sh -c 'curl -s -g "$1/service/vm-off/boot" | jq -e ".first == \"disk\"" >/dev/null' _ "$BASE"
check "the disks are as they were" test "$(disks vm-off)" = "$d0"
b2=$(nbackups vm-off)

# A machine with a drive of its own keeps it, empty.
req GET /service/vm-running/media
expect_jqc '[.drive, .target, .image]' '[true,"hdc",null]' "vm-running has its own empty CD drive"

for bad in '{"image":"ftp://h/a.iso"}' '{"image":"/srv/a.iso"}' '{"image":"http://u:p@h/a.iso"}' \
    '{"image":"http://h/"}' '{"image":"http://h:70000/a.iso"}' '{"image":"http://h/a b.iso"}' \
    '{"image":""}' '{"image":5}' '{"image":null}' '{"url":"http://h/a.iso"}' '{}' '[]'; do
    put vm-off "$bad"
    expect_error 400 "PUT $bad"
done
req PUT /service/vm-off/media
expect_error 400 "PUT without a body"
req PUT /service/vm-off/media -H 'Content-Type: text/plain' --data-binary '{"image":"http://h/a.iso"}'
expect_error 415 "PUT of text"
check "the refusals changed nothing" test "$(disks vm-off)" = "$d0"
check "and wrote no backup" test "$(nbackups vm-off)" = "$b2"
put vm-transient '{"image":"http://h/a.iso"}'
expect_error 409 "a transient machine"
put nosuch '{"image":"http://h/a.iso"}'
expect_error 404 "an unknown machine"
# The test driver cannot change a running machine's media: refused, nothing changed.
put vm-running '{"image":"http://h/a.iso"}'
expect_error 501 "the driver cannot change the running drive's media"
req GET /service/vm-running/media
expect_jq .image null "and the running machine's drive is as it was"

finish

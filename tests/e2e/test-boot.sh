#!/bin/sh
# test-boot.sh: boot order over the test driver (API.md section 2): every
# boot action in both styles, running and shut off, once and persistent,
# pending and restart, backups on disk (names, modes, content), restore,
# defaultboot, 409 on a missing class or a transient machine, bad input that
# changes nothing, and a storm of concurrent changes on one machine while
# another machine's status is read.
. "$(dirname "$0")/functions.sh"

start_daemon || exit 1
B="$T/backups"

first() { curl -s "$BASE/service/$1/boot" | jq -r .first; }
# Backups are kept by UUID (API.md section 2): the folder of machine NAME.
bdir() { echo "$B/$(curl -s "$BASE/service/$1" | jq -r .uuid)"; }
nbackups() { ls "$(bdir "$1")" 2>/dev/null | grep -c '\.xml$'; }
OFF=$(bdir vm-off)

# ---- per-device style, shut off ----
req GET /service/vm-off/boot
expect_status 200 "GET boot"
expect_jq '.style' per-device "vm-off uses per-device order"
expect_jq '.first' disk "vm-off boots from disk first"
expect_jq '[.order[].device] | join(",")' "vda,52:54:00:00:02:01,52:54:00:00:02:02" "vm-off's order, devices by identity"
expect_jq '.once' false "not armed once"
expect_jq '.pending' false "nothing pending on a machine that is off"
expect_jq '.mode' legacy "legacy firmware"

req POST /service/vm-off/state_controller/pxeboot
expect_status 200 "pxeboot on a shut-off per-device machine"
expect_jq '.result' done "pxeboot result done"
expect_jq '.first' network "the answer says network first"
expect_jq '.applies' next_boot "applies at next boot"
id1=$(jq -r .backup "$T/body")
check "the answer names its backup" [ -f "$OFF/vm-off-$id1.xml" ]
req GET /service/vm-off/boot
expect_jq '[.order[] | "\(.class):\(.device):\(.order)"] | join(",")' \
    "network:52:54:00:00:02:01:1,network:52:54:00:00:02:02:2,disk:vda:3" \
    "NICs first in their previous order, renumbered 1..N"

# Backups on disk: name, modes, content.
check "backup folder is 0700" [ "$(stat -c %a "$OFF")" = 700 ]
check "backup file is 0600" [ "$(stat -c %a "$OFF/vm-off-$id1.xml")" = 600 ]
check "backup name is <name>-<UTC YYYYMMDDTHHMMSS.ffffffZ>.xml" \
    sh -c 'echo "$1" | grep -Eq "^[0-9]{8}T[0-9]{6}\.[0-9]{6}Z$"' _ "$id1"
check "the backup holds the previous order (disk first)" \
    sh -c 'grep -A2 "vm-off-root" "$1" | grep -q "boot order=.1."' _ "$OFF/vm-off-$id1.xml"

req POST /service/vm-off/state_controller/pxeboot
expect_jq '.result' unchanged "pxeboot again is unchanged"
check "an unchanged request writes no backup" [ "$(nbackups vm-off)" = 1 ]

req GET /service/vm-off/backups
expect_status 200 "list backups"
expect_jq '.[0].id' "$id1" "the backup is listed"
expect_jq '.[0].reason' pxeboot "with its reason"
expect_jq '.[0].size > 0' true "and its size"
req GET "/service/vm-off/backups/$id1"
expect_status 200 "read one backup"
check "a backup is served as application/xml" [ "$(header Content-Type)" = "application/xml" ]
check "the served backup is the saved definition" grep -q "<name>vm-off</name>" "$T/body"

req POST /service/vm-off/state_controller/diskboot
expect_jq '.first' disk "diskboot"
check "diskboot wrote a second backup" [ "$(nbackups vm-off)" = 2 ]
check "first is disk" [ "$(first vm-off)" = disk ]
req POST "/service/vm-off/state_controller/cdromboot"
expect_error 409 "cdromboot on a machine without a cdrom"
check "the 409 changed nothing" [ "$(first vm-off)" = disk ]
check "and wrote no backup" [ "$(nbackups vm-off)" = 2 ]

# defaultboot: the order before virtmcd first changed it.
req POST /service/vm-off/state_controller/pxeboot
req POST /service/vm-off/state_controller/defaultboot
expect_status 200 "defaultboot"
req GET /service/vm-off/boot
expect_jq '[.order[].device] | join(",")' "vda,52:54:00:00:02:01,52:54:00:00:02:02" \
    "defaultboot restores the original order"

# ---- os style, running ----
req GET /service/vm-running/boot
expect_jq '.style' os "vm-running uses <os><boot dev>"
expect_jq '[.order[].class] | join(",")' "disk,network" "os order disk,network"
req POST /service/vm-running/state_controller/pxeboot
expect_jq '.applies' next_boot "a running machine: applies at next boot"
expect_jq '.state' running "and keeps running"
req GET /service/vm-running/boot
expect_jq '[.order[].class] | join(",")' "network,disk" "os style reordered, style kept"
expect_jq '.style' os "still os style"
expect_jq '.pending' true "pending while running with the old order"
req POST /service/vm-running/state_controller/power_cycle
expect_jq '.state' running "power_cycle restarts"
req GET /service/vm-running/boot
expect_jq '.pending' false "power_cycle applied the pending change"
req POST "/service/vm-running/state_controller/cdromboot"
expect_jq '.first' cdrom "cdromboot on os style adds cdrom first"
req POST "/service/vm-running/state_controller/diskboot?restart=1"
expect_jq '.applies' now "restart=1 applies now"
req GET /service/vm-running/boot
expect_jq '.pending' false "nothing pending after restart=1"
expect_jq '.first' disk "disk first"

# force_reset applies a pending change (destroy + create).
req POST /service/vm-running/state_controller/pxeboot
req POST /service/vm-running/state_controller/force_reset
expect_status 200 "force_reset with a pending change"
req GET /service/vm-running/boot
expect_jq '.pending' false "force_reset applied the pending change"

# ---- once ----
# libvirt writes <boot dev='hd'/> into a definition that has no boot
# element, so "no boot element" never reaches virtmcd from libvirt (the
# golden files of tests/data/bootxml cover it).
req GET /service/vm-nonic/boot
expect_jq '[.style, .first] | join(",")' "os,disk" "libvirt's default order is <boot dev='hd'/>"
req POST "/service/vm-nonic/state_controller/pxeboot"
expect_error 409 "pxeboot on a machine without a NIC"
check "the 409 wrote no backup" [ "$(nbackups vm-nonic)" = 0 ]
req POST /service/vm-off/state_controller/pxeboot
req POST "/service/vm-off/state_controller/diskboot?once=1"
expect_jq '.once' true "diskboot once on vm-off"
req GET /service/vm-off/boot
expect_jq '.first' disk "armed: disk first"
nb=$(nbackups vm-off)
req POST /service/vm-off/state_controller/power_on
expect_jq '.state' running "start the once machine"
# The restore runs on libvirt's start event: wait for it, not for a time.
once_done() { [ "$(curl -s "$BASE/service/vm-off/boot" | jq -r .once)" = false ]; }
wait_for 10 once_done
req GET /service/vm-off/boot
expect_jq '.once' false "after the start the one-time order is disarmed"
expect_jq '.first' network "and the previous order (network) is back"
expect_jq '.pending' true "the running machine keeps its one-time order (pending)"
check "the restore left its own backup" [ "$(nbackups vm-off)" = $((nb + 1)) ]
req GET /service/vm-off/backups
expect_jq '.[0].reason' once-restore "the newest backup is the once-restore"

# ---- PUT /boot ----
req PUT /service/vm-paused/boot -H 'Content-Type: application/json' -d '{"first": "disk", "persistent": true}'
expect_status 200 "PUT boot"
req PUT /service/vm-paused/boot -H 'Content-Type: application/json' -d '{"first": "floppy"}'
expect_error 400 "unknown first"
req PUT /service/vm-paused/boot -H 'Content-Type: application/json' -d '{"first": "disk", "persistent": "yes"}'
expect_error 400 "non-boolean persistent"
req PUT /service/vm-paused/boot -H 'Content-Type: application/json' -d '{"first": "disk", "color": 1}'
expect_error 400 "unknown key"
req PUT /service/vm-paused/boot -H 'Content-Type: application/json' -d '{"first": '
expect_error 400 "truncated JSON"
req PUT /service/vm-paused/boot -H 'Content-Type: text/plain' -d 'first=disk'
expect_error 415 "not JSON"
req PUT /service/vm-paused/boot
expect_error 400 "no body"
req POST "/service/vm-paused/state_controller/pxeboot?once=1&persistent=1"
expect_error 400 "once=1&persistent=1 together"
req POST "/service/vm-paused/state_controller/pxeboot?once=maybe"
expect_error 400 "a non-boolean once"
check "PUT of the order it has changed nothing" [ "$(nbackups vm-paused)" = 0 ]
req PUT /service/vm-paused/boot -H 'Content-Type: application/json' -d '{"first": "cdrom", "persistent": false}'
expect_error 409 "PUT cdrom on a machine without one"
check "bad input wrote no backup" [ "$(nbackups vm-paused)" = 0 ]
req POST /service/vm-transient/state_controller/pxeboot
expect_error 409 "a transient machine cannot change its boot order"
req GET /service/vm-off/backups/20200101T000000.000000Z
expect_error 404 "unknown backup id"
req GET "/service/vm-off/backups/..%2f..%2fetc"
expect_error 404 "a backup id that is a path"

# ---- restore ----
id=$(curl -s "$BASE/service/vm-off/backups" | jq -r '.[-1].id')
req POST "/service/vm-off/backups/$id/restore"
expect_status 200 "restore the first backup"
expect_jq '.restored' "$id" "the answer names what was restored"
req GET /service/vm-off/boot
expect_jq '.first' disk "the restored definition boots from disk"
req GET /service/vm-off/backups
expect_jq '.[0].reason' restore "restore backed up the definition it replaced"
req POST /service/vm-off/backups/20200101T000000.000000Z/restore
expect_error 404 "restore of an unknown backup"

# ---- concurrency ----
n0=$(nbackups vm-off)
mkdir -p "$T/storm.d"
pids=
for i in $(seq 1 20); do
    if [ $((i % 2)) = 0 ]; then a=pxeboot; else a=diskboot; fi
    curl -s -o "$T/storm.d/$i" -w '%{http_code}\n' -X POST "$BASE/service/vm-off/state_controller/$a" >> "$T/storm" &
    pids="$pids $!"
done
reads=0
for _ in $(seq 1 30); do
    s=$(curl -s --max-time 2 "$BASE/service/vm-running/state_controller/status" | jq -r .state)
    [ "$s" = running ] && reads=$((reads + 1))
done
wait $pids
check "20 concurrent boot changes all answered 200" sh -c '[ "$(grep -c ^200 "$1")" = 20 ]' _ "$T/storm"
check "another machine's status answered during the storm" [ "$reads" = 30 ]
f=$(first vm-off)
check "the final order is one of the requested ones" sh -c '[ "$1" = network ] || [ "$1" = disk ]' _ "$f"
req GET /service/vm-off/boot
expect_jq '.style' per-device "never a mix of styles"
expect_jq '[.order[].order] | join(",")' "1,2,3" "orders renumbered 1..N after the storm"
done=$(cat "$T"/storm.d/* | jq -r 'select(.result == "done") | .backup' | sort -u)
ndone=$(echo "$done" | grep -c .)
check "the storm changed the order at least once" [ "$ndone" -ge 1 ]
check "one backup per change: $ndone changes, $(( $(nbackups vm-off) - n0 )) new backups" \
    [ "$(nbackups vm-off)" = $((n0 + ndone)) ]
check "each change's answer names its own backup file" \
    sh -c 'for id in $2; do [ -f "$1/vm-off-$id.xml" ] || exit 1; done' _ "$OFF" "$done"
check "no temporary files left behind" sh -c '! ls -a "$1" | grep -q "^\.tmp"' _ "$OFF"
finish

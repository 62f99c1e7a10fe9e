#!/bin/sh
# test-backups.sh: backups belong to a machine, not to a name (API.md
# section 2).  Two hosts each have a machine called vm-off (different UUIDs):
# their changes go to two folders, each lists only its own backups and
# defaultboot restores each one's own first backup.  A folder from before
# backups were keyed by UUID moves to the machine's UUID at start-up when
# only one host has that name, and stays (with a warning) when two do.
. "$(dirname "$0")/functions.sh"

B="$T/backups"
ALPHA="$abs_srcdir/tests/data/node.xml"
BETA="$T/beta.xml"
ID0=20250101T000000.000000Z
# beta: only a vm-off, with a UUID of its own.
/usr/bin/python3 - "$ALPHA" "$BETA" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
dom = re.search(r'<domain type="test">\s*<name>vm-off</name>.*?</domain>', s, re.S).group(0)
dom = dom.replace("6695eb01-f6a4-8304-79aa-97f2502e1940", "7795eb01-f6a4-8304-79aa-97f2502e1940")
open(sys.argv[2], "w").write("<node>\n" + dom + "\n</node>\n")
PY

# Old, name-keyed folders: vm-running (alpha only) and vm-off (both hosts).
# vm-running's first backup boots the network first.
mkdir -p "$B/vm-running" "$B/vm-off"
printf '%s\n' '<!-- virtmcd-backup reason=pxeboot -->' \
    '<domain type="test"><name>vm-running</name><os><type>hvm</type><boot dev="network"/><boot dev="hd"/></os><devices/></domain>' \
    > "$B/vm-running/vm-running-$ID0.xml"
cp "$B/vm-running/vm-running-$ID0.xml" "$B/vm-off/vm-off-$ID0.xml"
chmod 700 "$B" "$B/vm-running" "$B/vm-off"
chmod 600 "$B"/*/*.xml

write_conf "$(printf '[host "alpha"]\nuri = test://%s\n[host "beta"]\nuri = test://%s\n' "$ALPHA" "$BETA")"
NODE=
start_daemon || exit 1

RUN_UUID=6695eb01-f6a4-8304-79aa-97f2502e193f
for _ in $(seq 1 100); do [ -d "$B/$RUN_UUID" ] && break; sleep 0.1; done
check "the name-keyed folder of vm-running moved to its UUID" [ -f "$B/$RUN_UUID/vm-running-$ID0.xml" ]
check "and the old folder is gone" [ ! -e "$B/vm-running" ]
check "the move is logged" grep -q "Moved 1 backups of 'vm-running'" "$T/daemon.log"
check "vm-off's folder stays: two hosts have a vm-off" [ -f "$B/vm-off/vm-off-$ID0.xml" ]
check "and that is logged" grep -q "several hosts have a machine of that name" "$T/daemon.log"

req GET /service/vm-running/backups
expect_jq '.[0].id' "$ID0" "the moved backup is listed by machine name"
req POST /service/vm-running/state_controller/defaultboot
expect_status 200 "defaultboot of vm-running"
req GET /service/vm-running/boot
expect_jq '.first' network "defaultboot used the moved first backup"

# Same name, two machines: two folders.
req POST '/service/vm-off/state_controller/pxeboot'
expect_error 409 "vm-off is ambiguous without ?host="
req POST '/service/vm-off/state_controller/pxeboot?host=alpha'
expect_status 200 "pxeboot of alpha's vm-off"
a1=$(jq -r .backup "$T/body")
req POST '/service/vm-off/state_controller/pxeboot?host=beta'
expect_status 200 "pxeboot of beta's vm-off"
b1=$(jq -r .backup "$T/body")
check "alpha's backup is in alpha's UUID folder" \
    [ -f "$B/6695eb01-f6a4-8304-79aa-97f2502e1940/vm-off-$a1.xml" ]
check "beta's backup is in beta's UUID folder" \
    [ -f "$B/7795eb01-f6a4-8304-79aa-97f2502e1940/vm-off-$b1.xml" ]
req GET '/service/vm-off/backups?host=beta'
expect_jq 'length' 1 "beta's vm-off lists only its own backup"
expect_jq '.[0].id' "$b1" "its id"
req GET '/service/vm-off/backups?host=alpha'
expect_jq '[.[].id] | index("'"$b1"'")' null "alpha's list does not show beta's backup"

# defaultboot: each machine's own first backup (disk first for both).
req POST '/service/vm-off/state_controller/defaultboot?host=beta'
expect_status 200 "defaultboot of beta's vm-off"
req GET '/service/vm-off/boot?host=beta'
expect_jq '.first' disk "beta's vm-off is back to its own first order"
req POST '/service/vm-off/state_controller/defaultboot?host=alpha'
req GET '/service/vm-off/boot?host=alpha'
expect_jq '.first' disk "alpha's vm-off too, not the name-keyed folder's order"

finish

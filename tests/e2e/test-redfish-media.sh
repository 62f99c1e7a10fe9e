#!/bin/sh
# test-redfish-media.sh: Redfish VirtualMedia over the test driver (API.md
# section 6, issue 12 point 6): Systems/<id>/VirtualMedia and its Cd, the
# Manager's VirtualMedia (the caller's one system, else empty), InsertMedia,
# EjectMedia and the PATCH of Image/Inserted with ETag and If-Match, every
# change backed up and every refusal changing nothing, an eject putting a
# Cd boot override back to Hdd; sixteen PATCHes, inserts or ejects at once
# with one ETag: one changes the drive, 15 get 412; then the real client,
# python3-sushy, the way Ironic's redfish-virtual-media boot uses it
# (tests/e2e/sushy-media.py).
. "$(dirname "$0")/functions.sh"

for tool in htdigest jq; do
    command -v "$tool" >/dev/null 2>&1 || { echo "# $tool not installed: skipped"; exit 77; }
done

PW_OP='Pw-rfm-op-3x'
RACE_USER="op:$PW_OP"
PW_USER='Pw-rfm-user-7y'
PW_WEB='Pw-rfm-web-5v'
USERS="$T/users.digest"
htdigest_add "$USERS" op "$PW_OP"
htdigest_add "$USERS" reader "$PW_USER"
htdigest_add "$USERS" webop "$PW_WEB"
chmod 600 "$USERS"
write_conf "[auth]
users_file = $USERS
basic = always
[user \"op\"]
role = operator
[user \"reader\"]
role = user
[user \"webop\"]
role = operator
machines = web*"
start_daemon || exit 1

S=/redfish/v1/Systems
RUN=6695eb01-f6a4-8304-79aa-97f2502e193f
OFF=6695eb01-f6a4-8304-79aa-97f2502e1940
TRANSIENT=6695eb01-f6a4-8304-79aa-97f2502e1944
WEB=6695eb01-f6a4-8304-79aa-97f2502e1946
CD=$S/$OFF/VirtualMedia/Cd
INSERT=$CD/Actions/VirtualMedia.InsertMedia
EJECT=$CD/Actions/VirtualMedia.EjectMedia
ISO='https://images.example/boot/debian-12.iso?token=a1'

o() { req "$@" --digest -u "op:$PW_OP"; }
u() { req "$@" --digest -u "reader:$PW_USER"; }
w() { req "$@" --digest -u "webop:$PW_WEB"; }
# send METHOD PATH JSON [who] [curl args]: a JSON body.
send() {
    local m=$1 p=$2 d=$3 who=${4:-o}
    if [ $# -ge 4 ]; then shift 4; else shift $#; fi
    $who "$m" "$p" -H 'Content-Type: application/json' --data-binary "$d" "$@"
}
post() { send POST "$@"; }
patch() { send PATCH "$@"; }

# expect_rf_error CODE MESSAGEID DESCRIPTION: a Redfish error body.
expect_rf_error() {
    local id
    id=$(jq -r '.error."@Message.ExtendedInfo"[0].MessageId' "$T/body" 2>/dev/null)
    if [ "$STATUS" = "$1" ] && [ "$id" = "Base.1.8.$2" ] &&
        jq -e '.error.message | length > 0' "$T/body" >/dev/null 2>&1 &&
        [ "$(header OData-Version)" = 4.0 ]; then
        ok "$3 ($1 $2)"
    else
        not_ok "$3: expected $1 with MessageId $2, got $STATUS $id: $(head -c 300 "$T/body")"
    fi
}
disks() { curl -s -g --digest -u "op:$PW_OP" "$BASE/service/$1" | jq -c .disks; }
nbackups() { curl -s -g --digest -u "op:$PW_OP" "$BASE/service/$1/backups" | jq length; }
boot_of() {
    curl -s -g --digest -u "op:$PW_OP" "$BASE$S/$1" |
        jq -r '.Boot.BootSourceOverrideTarget + " " + .Boot.BootSourceOverrideEnabled'
}

# ---- reading -------------------------------------------------------------------
u GET $S/$OFF
expect_jq '.VirtualMedia."@odata.id"' "$S/$OFF/VirtualMedia" "the system links its VirtualMedia"
u GET $S/$OFF/VirtualMedia
expect_status 200 "GET the collection"
expect_jq '."@odata.type"' "#VirtualMediaCollection.VirtualMediaCollection" "collection type"
expect_jqc '[.Members[]."@odata.id"]' "[\"$CD\"]" "one member, Cd"
u GET $S/$OFF/VirtualMedia/
expect_status 200 "trailing slash"
u GET $CD
expect_status 200 "GET the Cd"
expect_jq '."@odata.type" + " " + .Id' "#VirtualMedia.v1_3_0.VirtualMedia Cd" "type and Id"
expect_jqc '[.MediaTypes, .Image, .ImageName, .Inserted, .WriteProtected, .ConnectedVia]' \
    '[["CD","DVD"],null,null,false,true,"NotConnected"]' "empty: not inserted, not connected"
expect_jqc '[.TransferMethod, .TransferProtocolType]' '["Stream",null]' "transfer: Stream"
expect_jq '.Actions."#VirtualMedia.InsertMedia".target' "$INSERT" "InsertMedia target"
expect_jq '.Actions."#VirtualMedia.EjectMedia".target' "$EJECT" "EjectMedia target"
expect_jqc '.Actions."#VirtualMedia.InsertMedia"."TransferProtocolType@Redfish.AllowableValues"' \
    '["HTTP","HTTPS"]' "TransferProtocolType values"
ETAG0=$(header ETag)
check "the Cd has a strong ETag" sh -c "echo '$ETAG0' | grep -Eq '^\"[0-9a-f]{16}\"$'"
u GET $S/$OFF/VirtualMedia/Floppy
expect_rf_error 404 ResourceMissingAtURI "no other member"
u GET $S/vm-off/VirtualMedia/Cd
check "a name answers 307 to the UUID URL" sh -c "[ $STATUS = 307 ] && grep -qi '^Location: .*$CD' '$T/headers'"
u DELETE $CD
expect_status 405 "DELETE on the Cd"
w GET $CD
expect_rf_error 404 ResourceMissingAtURI "a machine outside the user's globs"
req GET $CD
expect_rf_error 401 NoValidSession "no credentials"

# The Manager's collection: the caller's one system, else nothing.
u GET /redfish/v1/Managers/virtmcd
expect_jq '.VirtualMedia."@odata.id"' /redfish/v1/Managers/virtmcd/VirtualMedia "the Manager links VirtualMedia"
u GET /redfish/v1/Managers/virtmcd/VirtualMedia
expect_jqc '[."@odata.type", ."Members@odata.count"]' '["#VirtualMediaCollection.VirtualMediaCollection",0]' \
    "a caller who sees several systems finds none on the Manager"
w GET /redfish/v1/Managers/virtmcd/VirtualMedia
expect_jqc '[.Members[]."@odata.id"]' "[\"$S/$WEB/VirtualMedia/Cd\"]" \
    "a caller who sees one system finds its Cd on the Manager"

# ---- refusals change nothing ---------------------------------------------------
d0=$(disks vm-off)
b0=$(nbackups vm-off)
post "$INSERT" '{}'
expect_rf_error 400 ActionParameterMissing "InsertMedia without Image"
post "$INSERT" '{"Image": 5}'
expect_rf_error 400 ActionParameterValueTypeError "Image not a string"
post "$INSERT" '{"Image": null}'
expect_rf_error 400 ActionParameterValueTypeError "Image null"
post "$INSERT" '{"Image": "http://h/a.iso", "Inserted": "yes"}'
expect_rf_error 400 ActionParameterValueTypeError "Inserted not a boolean"
post "$INSERT" '{"Image": "http://h/a.iso", "Inserted": false}'
expect_rf_error 400 ActionParameterNotSupported "Inserted false"
post "$INSERT" '{"Image": "http://h/a.iso", "WriteProtected": false}'
expect_rf_error 400 ActionParameterNotSupported "WriteProtected false"
post "$INSERT" '{"Image": "http://h/a.iso", "UserName": "u", "Password": "p"}'
expect_rf_error 400 ActionParameterNotSupported "credentials for the image"
check "the message says why" grep -q "without credentials" "$T/body"
post "$INSERT" '{"Image": "http://h/a.iso", "TransferMethod": "Upload"}'
expect_rf_error 400 ActionParameterNotSupported "TransferMethod Upload"
post "$INSERT" '{"Image": "http://h/a.iso", "TransferProtocolType": "NFS"}'
expect_rf_error 400 ActionParameterNotSupported "TransferProtocolType NFS"
post "$INSERT" '{"Image": "https://h/a.iso", "TransferProtocolType": "HTTP"}'
expect_rf_error 400 ActionParameterNotSupported "TransferProtocolType not the URL's scheme"
for bad in ftp://h/a.iso /srv/a.iso http://u:p@h/a.iso 'http://h/a b.iso' ''; do
    post "$INSERT" "{\"Image\": \"$bad\"}"
    expect_rf_error 400 ActionParameterValueFormatError "Image '$bad'"
done
post "$INSERT" '{"Image": "http://h/a.iso", "Oem": {}}'
expect_rf_error 400 ActionParameterUnknown "an unknown parameter"
post "$INSERT" '{"Image": "http://h/a.iso"}' u
expect_rf_error 403 InsufficientPrivilege "a read-only user cannot insert"
post "$EJECT" '{}' u
expect_rf_error 403 InsufficientPrivilege "nor eject"
post "$EJECT" '{"Image": "x"}'
expect_rf_error 400 ActionParameterUnknown "EjectMedia takes no parameter"
post "$INSERT" '{"Image": "http://h/a.iso"}' o -H 'If-Match: "0000000000000000"'
expect_rf_error 412 PreconditionFailed "InsertMedia with a stale If-Match"
patch "$CD" '{"Image": "http://h/a.iso", "Inserted": true}' o -H 'If-Match: "0000000000000000"'
expect_rf_error 412 PreconditionFailed "PATCH with a stale If-Match"
check "412 answers the current ETag" [ "$(header ETag)" = "$ETAG0" ]
patch "$CD" '{}'
expect_rf_error 400 NoOperation "PATCH of nothing"
patch "$CD" '{"MediaTypes": ["CD"]}'
expect_rf_error 400 PropertyNotWritable "PATCH of a read-only property"
patch "$CD" '{"Colour": "red"}'
expect_rf_error 400 PropertyUnknown "PATCH of an unknown property"
patch "$CD" '{"Inserted": true}'
expect_rf_error 400 PropertyValueConflict "Inserted true with nothing to insert"
patch "$CD" '{"Image": "http://h/a.iso", "Inserted": false}'
expect_rf_error 400 PropertyValueNotInList "an Image not inserted"
patch "$CD" '{"Image": 7}'
expect_rf_error 400 PropertyValueTypeError "PATCH Image not a string"
patch "$CD" '{"Image": "ftp://h/a.iso"}'
expect_rf_error 400 PropertyValueFormatError "PATCH Image with a bad URL"
post "$S/$TRANSIENT/VirtualMedia/Cd/Actions/VirtualMedia.InsertMedia" '{"Image": "http://h/a.iso"}'
expect_status 409 "a transient machine"
# The test driver cannot change a running machine's media: refused, nothing changed.
post "$S/$RUN/VirtualMedia/Cd/Actions/VirtualMedia.InsertMedia" '{"Image": "http://h/a.iso"}'
expect_status 501 "the driver refuses the running drive's media"
u GET $S/$RUN/VirtualMedia/Cd
expect_jqc '[.Inserted, .Image]' '[false,null]' "and the running machine's drive is as it was"
check "the refusals changed no disk" test "$(disks vm-off)" = "$d0"
check "and wrote no backup" test "$(nbackups vm-off)" = "$b0"
u GET $CD
check "nor the ETag" [ "$(header ETag)" = "$ETAG0" ]

# ---- InsertMedia, Boot Cd, EjectMedia ----------------------------------------------
post "$INSERT" "{\"Image\": \"$ISO\", \"TransferProtocolType\": \"HTTPS\", \"TransferMethod\": \"Stream\", \"UserName\": \"\", \"Inserted\": true, \"WriteProtected\": true}" o -H "If-Match: $ETAG0"
expect_status 204 "InsertMedia"
u GET $CD
expect_jqc '[.Image, .ImageName, .Inserted, .ConnectedVia, .TransferProtocolType]' \
    "[\"$ISO\",\"debian-12.iso\",true,\"URI\",\"HTTPS\"]" "the Cd holds the image"
ETAG1=$(header ETag)
check "the ETag changed" [ "$ETAG1" != "$ETAG0" ]
check "a backup was written" test "$(nbackups vm-off)" = $((b0 + 1))
check "/service sees the same drive" sh -c "curl -s -g --digest -u 'op:$PW_OP' '$BASE/service/vm-off/media' | jq -e '.image == \"$ISO\" and .bus == \"ide\"' >/dev/null"
post "$INSERT" "{\"Image\": \"$ISO\"}"
expect_status 204 "the same image again"
check "changes nothing" test "$(nbackups vm-off)" = $((b0 + 1))

patch "$S/$OFF" '{"Boot": {"BootSourceOverrideTarget": "Cd", "BootSourceOverrideEnabled": "Continuous"}}'
expect_jq '.Boot.BootSourceOverrideTarget + " " + .Boot.BootSourceOverrideEnabled' "Cd Continuous" \
    "the inserted drive is a boot target"
b1=$(nbackups vm-off)
# sushy posts EjectMedia without a body.
o POST "$EJECT"
expect_status 204 "EjectMedia without a body"
u GET $CD
expect_jqc '[.Image, .ImageName, .Inserted, .ConnectedVia]' '[null,null,false,"NotConnected"]' "ejected"
check "the ETag is the empty drive's again" [ "$(header ETag)" = "$ETAG0" ]
check "the eject put the boot target back to Hdd (got: $(boot_of $OFF))" \
    sh -c "[ \"\$(curl -s -g --digest -u 'op:$PW_OP' '$BASE$S/$OFF' | jq -r .Boot.BootSourceOverrideTarget)\" = Hdd ]"
check "the disks are as before the insert" test "$(disks vm-off)" = "$d0"
check "the eject and the boot change were each backed up" test "$(nbackups vm-off)" = $((b1 + 2))
post "$EJECT" '{}'
expect_status 204 "EjectMedia of an empty drive"
check "writes nothing" test "$(nbackups vm-off)" = $((b1 + 2))

# Once stays once: Cd Once, then eject, is Hdd Once.
post "$INSERT" "{\"Image\": \"$ISO\"}"
patch "$S/$OFF" '{"Boot": {"BootSourceOverrideTarget": "Cd", "BootSourceOverrideEnabled": "Once"}}'
expect_jq '.Boot.BootSourceOverrideTarget + " " + .Boot.BootSourceOverrideEnabled' "Cd Once" "Cd Once"
post "$EJECT" '{}'
check "an eject under Cd Once leaves Hdd Once (got: $(boot_of $OFF))" test "$(boot_of $OFF)" = "Hdd Once"
patch "$S/$OFF" '{"Boot": {"BootSourceOverrideEnabled": "Disabled"}}'
expect_status 200 "back to no override"

# ---- PATCH, the way sushy does it for BMCs without actions ---------------------------
u GET $CD
E=$(header ETag)
patch "$CD" "{\"Image\": \"http://images.example/a.iso\", \"Inserted\": true, \"WriteProtected\": true}" o -H "If-Match: $E"
expect_status 200 "PATCH Image with If-Match"
expect_jqc '[.Image, .Inserted, .TransferProtocolType]' '["http://images.example/a.iso",true,"HTTP"]' \
    "the PATCH answers the Cd"
E2=$(header ETag)
u GET $CD
check "the PATCH answered the new ETag" [ "$(header ETag)" = "$E2" ]
patch "$CD" '{"Inserted": true}'
expect_status 200 "Inserted true while inserted: nothing to do"
patch "$CD" '{"Image": null, "Inserted": false}' o -H "If-Match: $E"
expect_rf_error 412 PreconditionFailed "the old ETag is stale"
patch "$CD" '{"Image": null, "Inserted": false}' o -H "If-Match: $E2"
expect_jqc '[.Image, .Inserted]' '[null,false]' "PATCH Image null ejects"
patch "$CD" "{\"Image\": \"http://images.example/a.iso\"}"
patch "$CD" '{"Inserted": false}'
expect_jqc '[.Image, .Inserted]' '[null,false]' "PATCH Inserted false ejects"
check "the disks are as at the start" test "$(disks vm-off)" = "$d0"

# ---- If-Match and the change are one step: concurrent requests -----------------------
# Sixteen clients send a change with the same, current ETag at once: the
# first to take the machine's lock changes the drive, every other one gets
# 412 with the ETag the winner made, and the drive holds what the winner
# sent.  (Checked only before the lock, the ETag let them all through.)

# race_412s_ok ETAG: every 412 is a Redfish PreconditionFailed carrying ETAG.
race_412s_ok() {
    for i in $(awk '$2 == 412 { print $1 }' "$T/race.codes"); do
        jq -e '.error."@Message.ExtendedInfo"[0].MessageId == "Base.1.8.PreconditionFailed"' \
            "$T/race.$i.body" >/dev/null || return 1
        [ "$(race_etag "$i")" = "$1" ] || return 1
    done
}
image_now() { curl -s -g --digest -u "op:$PW_OP" "$BASE$CD" | jq -r '.Image // "none"'; }
same() { [ -n "$1" ] && [ "$1" = "$2" ]; }

# PATCH, then InsertMedia: sixteen images, one ETag (the empty drive's).
for kind in PATCH InsertMedia; do
    u GET $CD
    E=$(header ETag)
    b=$(nbackups vm-off)
    set --
    for i in $(seq 1 16); do
        set -- "$@" "{\"Image\": \"http://images.example/race-$i.iso\", \"Inserted\": true}"
    done
    if [ $kind = PATCH ]; then
        race PATCH "$CD" "$E" "$@"
        want=200
    else
        race POST "$INSERT" "$E" "$@"
        want=204
    fi
    check "16 $kind requests for an image with one ETag: exactly one $want ($(race_codes))" \
        [ "$(race_count $want)" = 1 ]
    check "every other one 412" [ "$(race_count 412)" = 15 ]
    win=$(race_winner $want)
    check "the drive holds the winner's image (race-$win.iso; got $(image_now))" \
        same "$(image_now)" "http://images.example/race-${win:-0}.iso"
    u GET $CD
    check "each 412 is PreconditionFailed with the ETag the winner made" \
        race_412s_ok "$(header ETag)"
    check "only the winner's insert was backed up" test "$(nbackups vm-off)" = $((b + 1))
    patch "$CD" '{"Inserted": false}'
    expect_jqc '[.Image, .Inserted]' '[null,false]' "ejected again"
done

# EjectMedia under a Cd override: one eject (and its boot change), 15 × 412.
post "$INSERT" '{"Image": "http://images.example/a.iso"}'
patch "$S/$OFF" '{"Boot": {"BootSourceOverrideTarget": "Cd", "BootSourceOverrideEnabled": "Once"}}'
u GET $CD
E=$(header ETag)
b=$(nbackups vm-off)
set --
for i in $(seq 1 16); do set -- "$@" '{}'; done
race POST "$EJECT" "$E" "$@"
check "16 EjectMedia with one ETag: exactly one 204 ($(race_codes))" [ "$(race_count 204)" = 1 ]
check "every other one 412" [ "$(race_count 412)" = 15 ]
check "the drive is empty" same "$(image_now)" none
u GET $CD
check "each 412 is PreconditionFailed with the empty drive's ETag" race_412s_ok "$(header ETag)"
check "the boot override is Hdd Once (got: $(boot_of $OFF))" same "$(boot_of $OFF)" "Hdd Once"
check "one eject and its boot change were backed up" test "$(nbackups vm-off)" = $((b + 2))
patch "$S/$OFF" '{"Boot": {"BootSourceOverrideEnabled": "Disabled"}}'
expect_status 200 "back to no override"
check "the disks are as at the start" test "$(disks vm-off)" = "$d0"

# ---- the real client -------------------------------------------------------------
if /usr/bin/python3 -c 'import sushy' 2>/dev/null; then
    if /usr/bin/python3 "$abs_srcdir/tests/e2e/sushy-media.py" "$BASE" op "$PW_OP" webop "$PW_WEB" \
        > "$T/sushy.log" 2>&1; then
        ok "sushy drives the virtual media ($(grep -c '^ok' "$T/sushy.log") checks)"
    else
        not_ok "sushy-media.py failed"; sed 's/^/#   /' "$T/sushy.log" | tail -n 30
    fi
else
    echo "# python3-sushy is not installed: its part is skipped"
fi

finish

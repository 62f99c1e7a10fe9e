#!/bin/sh
# test-redfish-systems.sh: the Redfish Systems, Managers and Chassis over the
# test driver (API.md section 6, issue 12 points 2-5): every field of a
# ComputerSystem and its PowerState mapping, the name redirect, the machine
# ACL, ETag and If-Match, every ResetType through the operations layer, the
# Boot PATCH (Once really once, Continuous, Disabled, mode) with each error
# path, EthernetInterfaces, Processors, SimpleStorage, Storage; then the real
# client, python3-sushy (tests/e2e/sushy-client.py); sixteen PATCHes (and
# Resets) at once with one ETag: one changes the machine, 15 get 412; a name
# or UUID on two hosts.
. "$(dirname "$0")/functions.sh"

for tool in htdigest jq; do
    command -v "$tool" >/dev/null 2>&1 || { echo "# $tool not installed: skipped"; exit 77; }
done

PW_ADMIN='Pw-rf-admin-4k'
PW_OP='Pw-rf-op-8q'
PW_USER='Pw-rf-user-2z'
PW_WEB='Pw-rf-web-6w'
USERS="$T/users.digest"
htdigest_add "$USERS" admin "$PW_ADMIN"
htdigest_add "$USERS" op "$PW_OP"
htdigest_add "$USERS" reader "$PW_USER"
htdigest_add "$USERS" webop "$PW_WEB"
chmod 600 "$USERS"
write_conf "[auth]
users_file = $USERS
basic = always
[user \"admin\"]
role = admin
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
PAUSED=6695eb01-f6a4-8304-79aa-97f2502e1941
CRASHED=6695eb01-f6a4-8304-79aa-97f2502e1942
NONIC=6695eb01-f6a4-8304-79aa-97f2502e1943
TRANSIENT=6695eb01-f6a4-8304-79aa-97f2502e1944
WEB=6695eb01-f6a4-8304-79aa-97f2502e1946

o() { req "$@" --digest -u "op:$PW_OP"; }
u() { req "$@" --digest -u "reader:$PW_USER"; }
w() { req "$@" --digest -u "webop:$PW_WEB"; }
# post/patch PATH JSON [who] [curl args]: a JSON body.
send() {
    local m=$1 p=$2 d=$3 who=${4:-o}
    if [ $# -ge 4 ]; then shift 4; else shift $#; fi
    $who "$m" "$p" -H 'Content-Type: application/json' --data-binary "$d" "$@"
}
post() { send POST "$@"; }
patch() { send PATCH "$@"; }
reset() { post "$S/$1/Actions/ComputerSystem.Reset" "{\"ResetType\": \"$2\"}" "${3:-o}"; }

# expect_rf_error CODE MESSAGEID DESCRIPTION: a Redfish error body.
expect_rf_error() {
    local id
    id=$(jq -r '.error."@Message.ExtendedInfo"[0].MessageId' "$T/body" 2>/dev/null)
    if [ "$STATUS" = "$1" ] && [ "$id" = "Base.1.8.$2" ] &&
        jq -e '.error.code == ("Base.1.8." + "'"$2"'") and (.error.message | length > 0)' "$T/body" >/dev/null 2>&1 &&
        [ "$(header OData-Version)" = 4.0 ]; then
        ok "$3 ($1 $2)"
    else
        not_ok "$3: expected $1 with MessageId $2, got $STATUS $id"
    fi
}
power() { o GET "$S/$1"; jq -r .PowerState "$T/body"; }
state_of() { curl -s --digest -u "op:$PW_OP" "$BASE/service/$1/state_controller/status" | jq -r .state; }

# ---- the collection ------------------------------------------------------------
u GET $S
expect_status 200 "GET Systems"
expect_jq '."@odata.type"' "#ComputerSystemCollection.ComputerSystemCollection" "collection type"
expect_jq '."Members@odata.count"' 8 "every machine of the node, active and inactive"
expect_jq '[.Members[]."@odata.id"] | map(select(. == "'$S/$RUN'" or . == "'$S/$OFF'")) | length' 2 \
    "members are UUID URLs (running and shut off)"
check "OData-Version: 4.0" [ "$(header OData-Version)" = 4.0 ]
u GET $S/
expect_status 200 "trailing slash"
w GET $S
expect_jqc '[.Members[]."@odata.id"]' "[\"$S/$WEB\"]" "a user limited to web* sees only web 01"
req GET $S
expect_rf_error 401 NoValidSession "no credentials"
u DELETE $S
expect_status 405 "DELETE on the collection"
check "405 says Allow" sh -c "grep -qi '^Allow: GET, HEAD' '$T/headers'"

# ---- one system ------------------------------------------------------------------
u GET $S/$RUN
expect_status 200 "GET a system by UUID"
expect_jq '."@odata.id"' "$S/$RUN" "@odata.id"
expect_jq '."@odata.type"' "#ComputerSystem.v1_13_0.ComputerSystem" "@odata.type"
expect_jq '.Id' "$RUN" "Id is the UUID"
expect_jq '.UUID' "$RUN" "UUID"
expect_jq '.Name' vm-running "Name is the domain name"
expect_jqc '.HostName' null "HostName null"
expect_jq '.SystemType' Virtual "SystemType Virtual"
expect_jq '.PowerState' On "running: On"
expect_jqc '.Status' '{"State":"Enabled","Health":"OK"}' "Status"
expect_jqc '.ProcessorSummary.Count' 1 "ProcessorSummary.Count"
expect_jqc '.ProcessorSummary.LogicalProcessorCount' 2 "LogicalProcessorCount = vCPUs"
expect_jqc '.MemorySummary.TotalSystemMemoryGiB' 0.5 "TotalSystemMemoryGiB 0.5 for 512 MiB"
expect_jq '.Boot.BootSourceOverrideTarget' Hdd "Boot target: the first class (hd)"
expect_jq '.Boot.BootSourceOverrideEnabled' Disabled "no override: Disabled"
expect_jq '.Boot.BootSourceOverrideMode' Legacy "Legacy firmware"
expect_jqc '.Boot."BootSourceOverrideTarget@Redfish.AllowableValues"' '["None","Pxe","Hdd","Cd"]' \
    "target values: every one virtmcd implements"
expect_jqc '.Boot."BootSourceOverrideEnabled@Redfish.AllowableValues"' '["Once","Continuous","Disabled"]' \
    "enabled values"
expect_jqc '.Boot."BootSourceOverrideMode@Redfish.AllowableValues"' '["UEFI","Legacy"]' \
    "mode: both, for an x86_64 machine"
expect_jqc '.Links.ManagedBy' '[{"@odata.id":"/redfish/v1/Managers/virtmcd"}]' "Links.ManagedBy"
expect_jqc '.Links.Chassis' '[{"@odata.id":"/redfish/v1/Chassis/virtmcd"}]' "Links.Chassis"
expect_jq '.Actions."#ComputerSystem.Reset".target' "$S/$RUN/Actions/ComputerSystem.Reset" "Reset target"
expect_jqc '.Actions."#ComputerSystem.Reset"."ResetType@Redfish.AllowableValues"' \
    '["On","ForceOff","GracefulShutdown","GracefulRestart","ForceRestart","Nmi","ForceOn","PushPowerButton","PowerCycle"]' \
    "ResetType values"
expect_jq '.EthernetInterfaces."@odata.id"' "$S/$RUN/EthernetInterfaces" "EthernetInterfaces link"
expect_jq '.Processors."@odata.id"' "$S/$RUN/Processors" "Processors link"
expect_jq '.SimpleStorage."@odata.id"' "$S/$RUN/SimpleStorage" "SimpleStorage link"
ETAG=$(header ETag)
check "a quoted strong ETag" sh -c "echo '$ETAG' | grep -Eq '^\"[0-9a-f]{16}\"$'"
u GET $S/$RUN
check "the ETag is stable while nothing changes" [ "$(header ETag)" = "$ETAG" ]
u HEAD $S/$RUN
expect_status 200 "HEAD a system"
# A kept body gives way to any change, whichever front end made it.
o POST /service/vm-running/state_controller/pxeboot
expect_status 200 "pxeboot through /service"
u GET $S/$RUN
expect_jq '.Boot.BootSourceOverrideTarget' Pxe "Redfish shows the /service change at once"
check "with a new ETag" [ "$(header ETag)" != "$ETAG" ]
o POST /service/vm-running/state_controller/diskboot
expect_status 200 "diskboot through /service"
u GET $S/$RUN
expect_jq '.Boot.BootSourceOverrideTarget' Hdd "and the change back"
check "whose ETag is the first one again" [ "$(header ETag)" = "$ETAG" ]
o POST /service/vm-running/state_controller/power_off
u GET $S/$RUN
expect_jq '.PowerState' Off "a power change shows at once"
o POST /service/vm-running/state_controller/power_on
u GET $S/$RUN
expect_jq '.PowerState' On "and the way back"

u GET $S/$OFF
expect_jq '.PowerState' Off "shut off: Off"
expect_jqc '.Status' '{"State":"StandbyOffline","Health":"OK"}' "shut off: StandbyOffline"
expect_jqc '.MemorySummary.TotalSystemMemoryGiB' 1 "1 GiB"
expect_jqc '.Boot."BootSourceOverrideTarget@Redfish.AllowableValues"' '["None","Pxe","Hdd","Cd"]' \
    "no CD-ROM: Cd is still listed (Ironic's profile; a PATCH of it is 400)"
u GET $S/$PAUSED
expect_jq '.PowerState' Paused "paused: Paused"
u GET $S/$CRASHED
expect_jq '.PowerState' Off "crashed: Off"
expect_jq '.Status.Health' Critical "crashed: Health Critical"
u GET $S/$NONIC
patch $S/$NONIC '{"Boot": {"BootSourceOverrideTarget": "Pxe"}}'
expect_rf_error 400 PropertyValueNotInList "no NIC: Pxe is 400"
expect_jq '.error.message | test("no network device")' true "saying the machine has no NIC"
u GET $S/$NONIC
expect_jq '.Boot.BootSourceOverrideTarget' Hdd "no boot element: libvirt's implied disk"

# A name answers 307 with an absolute Location to the UUID URL.
u GET $S/vm-running
expect_status 307 "a name redirects"
expect_jq '.' "" "307 has no body"
check "Location: absolute, to the UUID" [ "$(header Location)" = "$BASE$S/$RUN" ]
u GET "$S/web%2001/Processors/" -H "Host: bmc.example:8443"
check "Location keeps the rest of the path and takes Host" \
    [ "$(header Location)" = "http://bmc.example:8443$S/$WEB/Processors/" ]
u GET $S/no-such-machine
expect_rf_error 404 ResourceMissingAtURI "unknown system"
u GET $S/6695eb01-f6a4-8304-79aa-00000000dead
expect_rf_error 404 ResourceMissingAtURI "unknown UUID"
w GET $S/$RUN
expect_rf_error 404 ResourceMissingAtURI "outside the user's ACL: absent"
w GET $S/$WEB
expect_status 200 "inside the ACL"

# ---- Reset -----------------------------------------------------------------------
reset $OFF On
expect_status 204 "On a shut-off machine"
check "it runs" [ "$(state_of vm-off)" = running ]
reset $OFF On
expect_status 204 "On again: a no-op is 2xx"
reset $OFF ForceOn
expect_status 204 "ForceOn on a running machine"
reset $OFF ForceRestart
expect_status 204 "ForceRestart"
reset $OFF GracefulRestart
expect_status 204 "GracefulRestart"
reset $OFF Nmi
expect_status 204 "Nmi"
reset $OFF PushPowerButton
expect_status 204 "PushPowerButton on a running machine: ACPI power button"
wait_for 10 sh -c "[ \"\$(curl -s --digest -u 'op:$PW_OP' '$BASE/service/vm-off/state_controller/status' | jq -r .state)\" = 'shut off' ]"
check "the test driver's guest obeys the button" [ "$(state_of vm-off)" = "shut off" ]
reset $OFF PushPowerButton
expect_status 204 "PushPowerButton on a shut-off machine"
check "it runs again" [ "$(state_of vm-off)" = running ]
reset $OFF PowerCycle
expect_status 204 "PowerCycle"
check "running after PowerCycle" [ "$(power $OFF)" = On ]
reset $OFF GracefulShutdown
expect_status 204 "GracefulShutdown"
reset $OFF On
reset $OFF ForceOff
expect_status 204 "ForceOff"
check "PowerState Off after ForceOff" [ "$(power $OFF)" = Off ]
reset $OFF ForceOff
expect_status 204 "ForceOff again: no-op"
reset $OFF GracefulRestart
expect_rf_error 409 ResourceInUse "GracefulRestart of a machine that is off"
reset $OFF Nmi
expect_status 409 "Nmi of a machine that is off"

reset $RUN Bogus
expect_rf_error 400 ActionParameterNotSupported "unknown ResetType"
expect_jq '.error.message | test("Bogus")' true "the message names the value"
post "$S/$RUN/Actions/ComputerSystem.Reset" '{}'
expect_rf_error 400 ActionParameterMissing "missing ResetType"
post "$S/$RUN/Actions/ComputerSystem.Reset" '{"ResetType": 1}'
expect_rf_error 400 ActionParameterValueTypeError "ResetType not a string"
post "$S/$RUN/Actions/ComputerSystem.Reset" '{"ResetType": "On", "Force": true}'
expect_rf_error 400 ActionParameterUnknown "an unknown parameter"
o POST "$S/$RUN/Actions/ComputerSystem.Reset"
expect_rf_error 400 ActionParameterMissing "no body"
reset $RUN ForceOff u
expect_rf_error 403 InsufficientPrivilege "a read-only user's Reset"
check "and the machine still runs" [ "$(state_of vm-running)" = running ]
reset $RUN ForceOff w
expect_rf_error 404 ResourceMissingAtURI "an operator's Reset outside the ACL"
u GET "$S/$RUN/Actions/ComputerSystem.Reset"
expect_status 405 "GET on the action"
reset vm-off On
expect_status 307 "Reset by name redirects too"
check "to the action's UUID URL" [ "$(header Location)" = "$BASE$S/$OFF/Actions/ComputerSystem.Reset" ]

# If-Match
u GET $S/$RUN
ETAG=$(header ETag)
post "$S/$RUN/Actions/ComputerSystem.Reset" '{"ResetType": "On"}' o -H 'If-Match: "0000000000000000"'
expect_rf_error 412 PreconditionFailed "Reset with a stale ETag"
post "$S/$RUN/Actions/ComputerSystem.Reset" '{"ResetType": "On"}' o -H "If-Match: $ETAG"
expect_status 204 "Reset with the current ETag"
post "$S/$RUN/Actions/ComputerSystem.Reset" '{"ResetType": "On"}' o -H 'If-Match: *'
expect_status 204 "Reset with If-Match: *"
post "$S/$RUN/Actions/ComputerSystem.Reset" '{"ResetType": "On"}' o -H "If-Match: W/$ETAG"
expect_status 412 "a weak ETag never matches"

# ---- Boot PATCH ------------------------------------------------------------------
u GET $S/$OFF
ETAG=$(header ETag)
patch $S/$OFF '{"Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once"}}' o \
    -H "If-Match: $ETAG"
expect_status 200 "PATCH Pxe Once with the current ETag"
expect_jq '.Boot.BootSourceOverrideTarget' Pxe "the answer: Pxe"
expect_jq '.Boot.BootSourceOverrideEnabled' Once "the answer: Once"
NEW=$(header ETag)
check "the PATCH answers a new ETag" sh -c '[ -n "$1" ] && [ "$1" != "$2" ]' _ "$NEW" "$ETAG"
u GET $S/$OFF
check "that is GET's ETag" [ "$(header ETag)" = "$NEW" ]
patch $S/$OFF '{"Boot": {"BootSourceOverrideTarget": "Hdd"}}' o -H "If-Match: $ETAG"
expect_rf_error 412 PreconditionFailed "PATCH with the stale ETag"
check "the 412 says the current ETag" [ "$(header ETag)" = "$NEW" ]
req GET /service/vm-off/boot --digest -u "op:$PW_OP"
expect_jq '.first' network "ops: network first"
expect_jq '.once' true "ops: armed once"
reset $OFF On
once_done() { [ "$(curl -s --digest -u "op:$PW_OP" "$BASE$S/$OFF" | jq -r .Boot.BootSourceOverrideEnabled)" = Disabled ]; }
wait_for 10 once_done
u GET $S/$OFF
expect_jq '.Boot.BootSourceOverrideEnabled' Disabled "after the boot, Once is over: Disabled"
expect_jq '.Boot.BootSourceOverrideTarget' Hdd "and the disk is first again"
reset $OFF ForceOff

patch $S/$OFF '{"Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Continuous"}}'
expect_status 200 "PATCH Pxe Continuous"
expect_jq '.Boot.BootSourceOverrideEnabled' Continuous "Continuous"
reset $OFF On
reset $OFF ForceOff
u GET $S/$OFF
expect_jq '.Boot.BootSourceOverrideEnabled + " " + .Boot.BootSourceOverrideTarget' "Continuous Pxe" \
    "Continuous stays after a boot"
patch $S/$OFF '{"Boot": {"BootSourceOverrideEnabled": "Once"}}'
expect_jq '.Boot.BootSourceOverrideEnabled + " " + .Boot.BootSourceOverrideTarget' "Once Pxe" \
    "Enabled alone keeps the target"
patch $S/$OFF '{"Boot": {"BootSourceOverrideTarget": "Hdd"}}'
expect_jq '.Boot.BootSourceOverrideEnabled + " " + .Boot.BootSourceOverrideTarget' "Once Hdd" \
    "a target alone keeps Once"
patch $S/$OFF '{"Boot": {"BootSourceOverrideEnabled": "Disabled"}}'
expect_jq '.Boot.BootSourceOverrideEnabled + " " + .Boot.BootSourceOverrideTarget' "Disabled Hdd" \
    "Disabled: the default order"
req GET /service/vm-off/boot --digest -u "op:$PW_OP"
expect_jq '.once' false "Disabled disarms the one-time order"
patch $S/$OFF '{"Boot": {"BootSourceOverrideTarget": "Pxe"}}'
expect_jq '.Boot.BootSourceOverrideEnabled + " " + .Boot.BootSourceOverrideTarget' "Once Pxe" \
    "a target alone when Disabled: Once"
patch $S/$OFF '{"Boot": {"BootSourceOverrideTarget": "None", "BootSourceOverrideEnabled": "Continuous"}}'
expect_jq '.Boot.BootSourceOverrideEnabled + " " + .Boot.BootSourceOverrideTarget' "Disabled Hdd" \
    "None: no override"
patch $S/$OFF '{"Boot": {"BootSourceOverrideMode": "Legacy"}}'
expect_status 200 "the current mode is accepted"
nb=$(ls "$T/backups/$OFF" | wc -l)
patch $S/$OFF '{"Boot": {"BootSourceOverrideMode": "Bios"}}'
expect_rf_error 400 PropertyValueNotInList "a mode outside the list"
patch $S/$OFF '{"Boot": {"BootSourceOverrideMode": "UEFI", "BootSourceOverrideTarget": "Cd"}}'
expect_rf_error 400 PropertyValueNotInList "UEFI with a target the machine lacks"
check "changes neither (no backup)" test "$(ls "$T/backups/$OFF" | wc -l)" = "$nb"
patch $S/$OFF '{"Boot": {"BootSourceOverrideMode": "UEFI"}}'
expect_status 200 "switch to UEFI"
expect_jq '.Boot.BootSourceOverrideMode + " " + .Boot.BootSourceOverrideEnabled + " " + .Boot.BootSourceOverrideTarget' \
    "UEFI Disabled Hdd" "UEFI now, the override as it was"
req GET /service/vm-off/boot --digest -u "op:$PW_OP"
expect_jq '.mode + " " + .first' "uefi disk" "/service sees UEFI, the order kept"
check "the switch was backed up" test "$(ls "$T/backups/$OFF" | wc -l)" = $((nb + 1))
req GET /service/vm-off/backups --digest -u "admin:$PW_ADMIN"
id=$(jq -r '.[0].id' "$T/body")
req GET "/service/vm-off/backups/$id" --digest -u "admin:$PW_ADMIN"
check "the backup holds the legacy definition" sh -c "grep -q 'reason=set_UEFI_firmware' '$T/body' && ! grep -q '<os firmware' '$T/body'"
patch $S/$OFF '{"Boot": {"BootSourceOverrideMode": "UEFI"}}'
check "UEFI again changes nothing" test "$(ls "$T/backups/$OFF" | wc -l)" = $((nb + 1))
patch $S/$OFF '{"Boot": {"BootSourceOverrideMode": "Legacy", "BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Continuous"}}'
expect_jq '.Boot.BootSourceOverrideMode + " " + .Boot.BootSourceOverrideEnabled + " " + .Boot.BootSourceOverrideTarget' \
    "Legacy Continuous Pxe" "Legacy and Pxe Continuous in one PATCH"
patch $S/$OFF '{"Boot": {"BootSourceOverrideEnabled": "Disabled"}}'
expect_jq '.Boot.BootSourceOverrideMode + " " + .Boot.BootSourceOverrideTarget' "Legacy Hdd" "back as it was"
patch $S/$TRANSIENT '{"Boot": {"BootSourceOverrideMode": "UEFI"}}'
expect_status 409 "a transient machine's firmware"
patch $S/$OFF '{"Boot": {"BootSourceOverrideMode": "UEFI"}}' u
expect_rf_error 403 InsufficientPrivilege "a read-only user cannot switch the firmware"

before=$(ls "$T/backups/$OFF" | wc -l)
patch $S/$OFF '{"Boot": {"BootSourceOverrideTarget": "Cd"}}'
expect_rf_error 400 PropertyValueNotInList "a target the machine lacks"
expect_jq '.error.message | test("cdrom")' true "naming the missing device"
patch $S/$OFF '{"Boot": {"BootSourceOverrideTarget": "BiosSetup"}}'
expect_rf_error 400 PropertyValueNotInList "BiosSetup is not supported"
expect_jq '.error."@Message.ExtendedInfo"[0].Message | test("firmware setup cannot be chosen")' true "and says why"
patch $S/$OFF '{"Boot": {"BootSourceOverrideEnabled": "Sometimes"}}'
expect_rf_error 400 PropertyValueNotInList "an unknown Enabled"
patch $S/$OFF '{"Boot": {"BootSourceOverrideTarget": 3}}'
expect_rf_error 400 PropertyValueTypeError "a target that is not a string"
patch $S/$OFF '{"PowerState": "On"}'
expect_rf_error 400 PropertyNotWritable "PowerState is read-only"
expect_jq '.error.message | test("PowerState")' true "naming it"
patch $S/$OFF '{"UUID": "x", "Boot": {"BootSourceOverrideTarget": "Pxe"}}'
expect_rf_error 400 PropertyNotWritable "UUID is read-only, with a valid Boot beside it"
patch $S/$OFF '{"Frobnicate": 1}'
expect_rf_error 400 PropertyUnknown "an unknown property"
expect_jq '.error.message | test("Frobnicate")' true "naming it"
patch $S/$OFF '{"Boot": {"BootOrder": ["Pxe"]}}'
expect_rf_error 400 PropertyUnknown "an unknown Boot property"
patch $S/$OFF '{"Boot": {"BootSourceOverrideTarget@Redfish.AllowableValues": []}}'
expect_rf_error 400 PropertyNotWritable "AllowableValues are read-only"
patch $S/$OFF '{"Boot": "Pxe"}'
expect_rf_error 400 PropertyValueTypeError "Boot not an object"
patch $S/$OFF '{}'
expect_rf_error 400 NoOperation "an empty PATCH"
check "no refused PATCH changed anything (no backup)" [ "$(ls "$T/backups/$OFF" | wc -l)" = "$before" ]
patch $S/$OFF '{"Boot": {"BootSourceOverrideTarget": "Pxe"}}' u
expect_rf_error 403 InsufficientPrivilege "a read-only user's PATCH"
patch $S/$TRANSIENT '{"Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Continuous"}}'
expect_rf_error 409 ResourceInUse "a transient machine has no definition to change"
patch $S/$RUN '{"Boot": {"BootSourceOverrideTarget": "Cd", "BootSourceOverrideEnabled": "Once"}}'
expect_status 200 "Cd Once on the running machine"
expect_jq '.Boot.BootSourceOverrideTarget + " " + .Boot.BootSourceOverrideEnabled' "Cd Once" "Cd Once"

# ---- EthernetInterfaces, Processors, SimpleStorage ----------------------------------
u GET $S/$OFF/EthernetInterfaces
expect_status 200 "EthernetInterfaces"
expect_jq '."@odata.type"' "#EthernetInterfaceCollection.EthernetInterfaceCollection" "its type"
expect_jqc '[.Members[]."@odata.id"]' \
    "[\"$S/$OFF/EthernetInterfaces/52:54:00:00:02:01\",\"$S/$OFF/EthernetInterfaces/52:54:00:00:02:02\"]" \
    "one member per NIC, by MAC"
expect_jqc '."Members@odata.count"' 2 "count"
u GET $S/$OFF/EthernetInterfaces/52:54:00:00:02:02
expect_status 200 "one interface"
expect_jq '."@odata.type"' "#EthernetInterface.v1_5_1.EthernetInterface" "its type"
expect_jq '.Id + " " + .MACAddress + " " + .PermanentMACAddress' \
    "52:54:00:00:02:02 52:54:00:00:02:02 52:54:00:00:02:02" "Id, MACAddress, PermanentMACAddress"
expect_jqc '.Status' '{"State":"Enabled","Health":"OK"}' "Status"
expect_jq '.LinkStatus' LinkDown "off: LinkDown"
u GET $S/$RUN/EthernetInterfaces/52:54:00:00:01:01
expect_jq '.LinkStatus' LinkUp "running: LinkUp"
u GET $S/$RUN/EthernetInterfaces/52:54:00:00:99:99
expect_rf_error 404 ResourceMissingAtURI "unknown interface"
u GET $S/$NONIC/EthernetInterfaces
expect_jqc '.Members' '[]' "no NIC: no member"

u GET $S/$RUN/Processors
expect_status 200 "Processors"
expect_jqc '[.Members[]."@odata.id"]' "[\"$S/$RUN/Processors/CPU0\"]" "one socket"
u GET $S/$RUN/Processors/CPU0
expect_status 200 "CPU0"
expect_jq '."@odata.type"' "#Processor.v1_7_0.Processor" "its type"
expect_jq '.ProcessorType + " " + .ProcessorArchitecture + " " + .InstructionSet' "CPU x86 x86-64" \
    "type, architecture (from <os><type arch>), instruction set"
expect_jqc '[.TotalCores, .TotalThreads]' '[2,2]' "cores and threads are integers"
u GET $S/$RUN/Processors/CPU1
expect_rf_error 404 ResourceMissingAtURI "no CPU1"
u GET $S/$RUN/Processors/CPU00
expect_status 404 "CPU00 is not CPU0"

u GET $S/$RUN/SimpleStorage
expect_status 200 "SimpleStorage"
expect_jqc '[.Members[]."@odata.id"]' "[\"$S/$RUN/SimpleStorage/1\"]" "one controller"
u GET $S/$RUN/SimpleStorage/1
expect_status 200 "the controller"
expect_jq '."@odata.type"' "#SimpleStorage.v1_2_3.SimpleStorage" "its type"
expect_jqc '[.Devices[] | .Name]' '["vda","hdc"]' "its devices by target"
expect_jqc '[.Devices[] | .CapacityBytes | type]' '["number","null"]' \
    "the disk's capacity from libvirt's block info; an empty drive's is null"
expect_jqc '[.Devices[] | .Status.State]' '["Enabled","Absent"]' "an empty CD-ROM drive is Absent"
u GET $S/$RUN/SimpleStorage/2
expect_rf_error 404 ResourceMissingAtURI "unknown controller"

# Storage: the disks (not the CD drive) as Drives and Volumes, as Ironic's
# inspection reads volumes_sizes_bytes.
u GET $S/$OFF
expect_jq '.Storage."@odata.id"' "$S/$OFF/Storage" "Storage link"
u GET $S/$OFF/Storage
expect_jqc '[."@odata.type", [.Members[]."@odata.id"]]' \
    "[\"#StorageCollection.StorageCollection\",[\"$S/$OFF/Storage/1\"]]" "one storage subsystem"
u GET $S/$OFF/Storage/1
expect_jq '."@odata.type" + " " + .Id' "#Storage.v1_8_0.Storage 1" "Storage type and Id"
expect_jqc '[.Drives[]."@odata.id"]' "[\"$S/$OFF/Storage/1/Drives/vda\",\"$S/$OFF/Storage/1/Drives/vdb\"]" \
    "a Drive per disk, by target"
expect_jqc '[."Drives@odata.count", .Volumes."@odata.id"]' "[2,\"$S/$OFF/Storage/1/Volumes\"]" "Drives count, Volumes link"
u GET $S/$RUN/Storage/1
expect_jqc '[.Drives[]."@odata.id"]' "[\"$S/$RUN/Storage/1/Drives/vda\"]" "a CD drive is no Drive"
u GET $S/$OFF/Storage/1/Drives/vdb
expect_jq '."@odata.type" + " " + .Id' "#Drive.v1_9_0.Drive vdb" "Drive type and Id"
expect_jqc '[(.CapacityBytes | type), .Status.State, .Links.Volumes[0]."@odata.id"]' \
    "[\"number\",\"Enabled\",\"$S/$OFF/Storage/1/Volumes/vdb\"]" "its capacity, state and volume"
u GET $S/$OFF/Storage/1/Volumes
expect_jqc '[.Members[]."@odata.id"]' "[\"$S/$OFF/Storage/1/Volumes/vda\",\"$S/$OFF/Storage/1/Volumes/vdb\"]" \
    "a Volume per disk"
u GET $S/$OFF/Storage/1/Volumes/vda
expect_jq '."@odata.type" + " " + .Id + " " + .VolumeType' "#Volume.v1_5_0.Volume vda RawDevice" "Volume type, Id, VolumeType"
cap=$(jq .CapacityBytes "$T/body")
u GET $S/$OFF/Storage/1/Drives/vda
check "the volume's capacity is its drive's ($cap)" [ "$(jq .CapacityBytes "$T/body")" = "$cap" ]
check "a number" [ "$cap" -gt 0 ]
u GET $S/$RUN/Storage/1/Drives/hdc
expect_rf_error 404 ResourceMissingAtURI "the CD drive is no Drive"
u GET $S/$OFF/Storage/1/Volumes/vdz
expect_rf_error 404 ResourceMissingAtURI "unknown volume"
u GET $S/$OFF/Storage/2
expect_rf_error 404 ResourceMissingAtURI "unknown storage"
u GET $S/$OFF/Storage/2/Volumes
expect_rf_error 404 ResourceMissingAtURI "unknown storage's volumes"
w GET $S/$OFF/Storage/1
expect_rf_error 404 ResourceMissingAtURI "storage of a machine outside the user's globs"

# ---- Managers and Chassis ----------------------------------------------------------
u GET /redfish/v1/Managers
expect_jqc '.Members' '[{"@odata.id":"/redfish/v1/Managers/virtmcd"}]' "one Manager"
expect_jqc '."Members@odata.count"' 1 "its count"
u GET /redfish/v1/Managers/virtmcd
expect_status 200 "the Manager"
expect_jq '."@odata.type" + " " + .Id + " " + .ManagerType' "#Manager.v1_5_0.Manager virtmcd BMC" \
    "type, Id, ManagerType BMC"
expect_jqc '.Links.ManagerForServers | length' 8 "ManagerForServers: every system"
expect_jqc '.Links.ManagerForChassis' '[{"@odata.id":"/redfish/v1/Chassis/virtmcd"}]' "ManagerForChassis"
w GET /redfish/v1/Managers/virtmcd
expect_jqc '.Links.ManagerForServers' "[{\"@odata.id\":\"$S/$WEB\"}]" "ManagerForServers: the visible ones"
u GET /redfish/v1/Managers/other
expect_rf_error 404 ResourceMissingAtURI "unknown Manager"
u GET /redfish/v1/Chassis
expect_jqc '.Members' '[{"@odata.id":"/redfish/v1/Chassis/virtmcd"}]' "one Chassis"
u GET /redfish/v1/Chassis/virtmcd
expect_jq '."@odata.type" + " " + .Id' "#Chassis.v1_10_0.Chassis virtmcd" "Chassis type and Id"
expect_jqc '.Links.ComputerSystems | length' 8 "Links.ComputerSystems"
expect_jqc '.Links.ManagedBy' '[{"@odata.id":"/redfish/v1/Managers/virtmcd"}]' "Chassis ManagedBy"

# Every type the tree answers is in $metadata, at its version.
u GET '/redfish/v1/$metadata'
for ns in ComputerSystem.v1_13_0 Manager.v1_5_0 Chassis.v1_10_0 EthernetInterface.v1_5_1 \
    Processor.v1_7_0 SimpleStorage.v1_2_3 ComputerSystemCollection ManagerCollection \
    ChassisCollection EthernetInterfaceCollection ProcessorCollection SimpleStorageCollection \
    StorageCollection Storage.v1_8_0 Drive.v1_9_0 VolumeCollection Volume.v1_5_0 \
    VirtualMediaCollection VirtualMedia.v1_3_0; do
    check "\$metadata includes $ns" grep -q "Namespace=\"$ns\"" "$T/body"
done

# ---- the real client -------------------------------------------------------------
if /usr/bin/python3 -c 'import sushy' 2>/dev/null; then
    rm -f "$T/body"
    if /usr/bin/python3 "$abs_srcdir/tests/e2e/sushy-client.py" "$BASE" op "$PW_OP" > "$T/sushy.log" 2>&1; then
        ok "sushy drives the systems ($(grep -c '^ok' "$T/sushy.log") checks)"
    else
        not_ok "sushy-client.py failed"; sed 's/^/#   /' "$T/sushy.log" | tail -n 30
    fi
else
    echo "# python3-sushy is not installed: its part is skipped"
fi
if command -v redfishtool >/dev/null 2>&1; then
    rft() { redfishtool -r "${BASE#http://}" -S Never -A Basic -u op -p "$PW_OP" "$@" > "$T/rft.out" 2>&1; }
    rft Systems list
    check "redfishtool Systems list" sh -c "[ \$? = 0 ] && grep -q '$RUN' '$T/rft.out'"
    rft Systems -I $RUN get
    check "redfishtool Systems get" grep -q '"PowerState": "On"' "$T/rft.out"
    rft Systems -I $NONIC reset On
    check "redfishtool reset On" [ "$(power $NONIC)" = On ]
    rft Systems -I $NONIC reset ForceOff
    check "redfishtool reset ForceOff" [ "$(power $NONIC)" = Off ]
    rft Systems -I $RUN setBootOverride Continuous Pxe
    o GET $S/$RUN
    expect_jq '.Boot.BootSourceOverrideEnabled + " " + .Boot.BootSourceOverrideTarget' "Continuous Pxe" \
        "redfishtool setBootOverride Continuous Pxe"
    rft Systems -I $RUN setBootOverride Disabled Hdd
    o GET $S/$RUN
    expect_jq '.Boot.BootSourceOverrideEnabled + " " + .Boot.BootSourceOverrideTarget' "Disabled Hdd" \
        "redfishtool setBootOverride Disabled: the default order"
else
    echo "# redfishtool is not installed: its part is skipped"
fi
stop_daemon

# ---- If-Match and the change are one step: concurrent requests ---------------------
# Sixteen clients send a change with the same, current ETag at once: the
# first to take the machine's lock changes it, every other one gets 412
# with the ETag the winner made, and the machine ends as the winner asked.
# (Checked only before the lock, the ETag let them all through, each
# changing the machine in turn.)  Sixteen: one holds the lock while
# [power] lock_queue (16) may wait for it.
write_conf "[auth]
anonymous_role = operator"
start_daemon || exit 1

# race_412s_ok ETAG: every 412 is a Redfish PreconditionFailed carrying ETAG;
# race_412s_ok -not SENT: carrying a strong ETag other than SENT.
race_412s_ok() {
    for i in $(awk '$2 == 412 { print $1 }' "$T/race.codes"); do
        jq -e '.error."@Message.ExtendedInfo"[0].MessageId == "Base.1.8.PreconditionFailed"' \
            "$T/race.$i.body" >/dev/null || return 1
        if [ "$1" = -not ]; then
            race_etag "$i" | grep -Eqx '"[0-9a-f]{16}"' && [ "$(race_etag "$i")" != "$2" ] ||
                return 1
        else
            [ "$(race_etag "$i")" = "$1" ] || return 1
        fi
    done
}
# same A B: A is not empty and equals B.
same() { [ -n "$1" ] && [ "$1" = "$2" ]; }

# Mode:Target:Enabled; Legacy leaves the mode out of the body (it is the
# machine's); a UEFI one switches the firmware and the order in one PATCH.
# No body asks for the state between rounds (Legacy Hdd Disabled).  The
# earliest requests tend to win: the firmware switches lead in round 2.
LEGACY="Legacy:Pxe:Once Legacy:Pxe:Continuous Legacy:Cd:Once Legacy:Cd:Continuous"
UEFI="UEFI:Pxe:Continuous UEFI:Cd:Once UEFI:Hdd:Once UEFI:Pxe:Once"
spec_body() {
    local mode=${1%%:*} rest=${1#*:}
    printf '{"Boot": {%s"BootSourceOverrideTarget": "%s", "BootSourceOverrideEnabled": "%s"}}' \
        "$([ "$mode" = UEFI ] && echo '"BootSourceOverrideMode": "UEFI", ')" \
        "${rest%%:*}" "${rest#*:}"
}
boot_now() {
    curl -s "$BASE$S/$RUN" | jq -r '.Boot | [.BootSourceOverrideMode,
        .BootSourceOverrideTarget, .BootSourceOverrideEnabled] | join(":")'
}
nbackups_run() { ls "$T/backups/$RUN" 2>/dev/null | wc -l; }

for round in 1 2 3; do
    req PATCH $S/$RUN -H 'Content-Type: application/json' --data-binary \
        '{"Boot": {"BootSourceOverrideMode": "Legacy", "BootSourceOverrideEnabled": "Disabled"}}'
    req GET $S/$RUN
    ETAG=$(header ETag)
    before=$(nbackups_run)
    check "round $round starts from Legacy Hdd Disabled" [ "$(boot_now)" = Legacy:Hdd:Disabled ]
    if [ "$round" = 2 ]; then
        specs="$UEFI $LEGACY $UEFI $LEGACY"
    else
        specs="$LEGACY $UEFI $LEGACY $UEFI"
    fi
    set --
    for spec in $specs; do set -- "$@" "$(spec_body "$spec")"; done
    race PATCH $S/$RUN "$ETAG" "$@"
    check "round $round: 16 PATCHes with one ETag, exactly one 200 ($(race_codes))" \
        [ "$(race_count 200)" = 1 ]
    check "round $round: every other one 412" [ "$(race_count 412)" = 15 ]
    win=$(race_winner 200)
    spec=$(echo $specs | tr ' ' '\n' | sed -n "${win:-0}p")
    check "round $round: the system is as the winner ($spec) asked (got $(boot_now))" \
        same "$(boot_now)" "$spec"
    req GET $S/$RUN
    check "round $round: the winner answered the ETag GET answers now" \
        same "$(race_etag "$win")" "$(header ETag)"
    want=1
    if [ "${spec%%:*}" = UEFI ]; then
        # Readers (GET, and If-Match checked before the lock) see the system
        # between the winner's two changes: a 412 may carry that ETag.
        want=2
        check "round $round: each 412 is PreconditionFailed with a new ETag" \
            race_412s_ok -not "$ETAG"
    else
        check "round $round: each 412 is PreconditionFailed with that ETag" \
            race_412s_ok "$(header ETag)"
    fi
    check "round $round: only the winner's change was backed up ($want)" \
        [ "$(($(nbackups_run) - before))" = "$want" ]
done

# The Reset action the same way: one start, fifteen 412.
req GET $S/$OFF
ETAG=$(header ETag)
set --
for i in $(seq 1 16); do set -- "$@" '{"ResetType": "On"}'; done
race POST $S/$OFF/Actions/ComputerSystem.Reset "$ETAG" "$@"
check "16 Resets On with one ETag: exactly one 204 ($(race_codes))" [ "$(race_count 204)" = 1 ]
check "and fifteen 412" [ "$(race_count 412)" = 15 ]
req GET $S/$OFF
expect_jq .PowerState On "the machine is on"
check "each 412 is PreconditionFailed with the ETag of the machine on" race_412s_ok "$(header ETag)"
stop_daemon

# ---- one name, one UUID on two hosts -----------------------------------------------
write_conf "[host \"kvm09\"]
uri = test://$abs_srcdir/tests/data/node-kvm09.xml
[host \"kvm10\"]
uri = test://$abs_srcdir/tests/data/node-kvm10.xml"
NODE=
start_daemon || exit 1
req GET $S/twin
expect_rf_error 409 ResourceInUse "a name on two hosts"
expect_jq '.error.message | test("kvm09") and test("kvm10")' true "naming the hosts"
req GET $S/a0000000-0000-4000-8000-0000000009a0
expect_rf_error 409 ResourceInUse "a UUID active on two hosts"
req GET $S
expect_jq '[.Members[]."@odata.id"] | length == (unique | length)' true "no URL twice in the collection"
req GET $S/elsewhere
expect_rf_error 409 ResourceInUse "a name defined on two hosts (one UUID)"
req GET $S/a0000000-0000-4000-8000-000000000906
expect_rf_error 409 ResourceInUse "its UUID, defined on both hosts, is ambiguous too"
req GET $S/a0000000-0000-4000-8000-000000000001
expect_status 404 "an unknown UUID on two hosts"

finish

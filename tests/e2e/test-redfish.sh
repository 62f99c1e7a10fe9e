#!/bin/sh
# test-redfish.sh: the Redfish service itself (API.md section 6, issue 12
# point 1): /redfish, the service root, the OData service document and
# $metadata, readable without credentials even where a users file is set;
# OData-Version: 4.0 on every answer, errors included; Redfish error bodies
# with Base registry MessageIds; trailing slashes; 405 with Allow; and the
# rest of the tree still behind authentication.
. "$(dirname "$0")/functions.sh"

for tool in htdigest jq; do
    command -v "$tool" >/dev/null 2>&1 || { echo "# $tool not installed: skipped"; exit 77; }
done

PW='Pw-rf-admin-5t'
USERS="$T/users.digest"
htdigest_add "$USERS" admin "$PW"
chmod 600 "$USERS"
write_conf "[auth]
users_file = $USERS
[user \"admin\"]
role = admin"
start_daemon || exit 1

# expect_odata DESCRIPTION: the answer carries OData-Version: 4.0.
expect_odata() {
    if [ "$(header OData-Version)" = "4.0" ]; then ok "$1: OData-Version 4.0"; else not_ok "$1: OData-Version is '$(header OData-Version)'"; fi
}

# expect_rf_error CODE MESSAGEID DESCRIPTION: a Redfish error body.
expect_rf_error() {
    local id
    id=$(jq -r '.error["@Message.ExtendedInfo"][0].MessageId' "$T/body" 2>/dev/null)
    if [ "$STATUS" = "$1" ] && [ "$id" = "Base.1.8.$2" ] &&
        jq -e '.error.code == .error["@Message.ExtendedInfo"][0].MessageId and (.error.message | length > 0)' "$T/body" >/dev/null 2>&1; then
        ok "$3 ($1, $id)"
    else
        not_ok "$3: expected $1 Base.1.8.$2, got $STATUS '$id'"
    fi
}

# --- readable by anyone ---------------------------------------------------------

req GET /redfish
expect_status 200 "GET /redfish without credentials"
expect_jq '.v1' /redfish/v1/ "it points at v1"
expect_odata "/redfish"
for p in /redfish/v1 /redfish/v1/; do
    req GET "$p"
    expect_status 200 "GET $p without credentials"
    expect_odata "$p"
done
expect_jq '."@odata.id"' /redfish/v1/ "service root @odata.id"
expect_jq '."@odata.type"' '#ServiceRoot.v1_5_0.ServiceRoot' "service root @odata.type"
expect_jq '.Id' RootService "service root Id"
expect_jq '.Name | length > 0' true "service root Name"
expect_jq '.RedfishVersion' 1.6.0 "RedfishVersion 1.6.0 (Ironic's profile wants at least that)"
expect_jq '.UUID | test("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")' true "a UUID"
uuid=$(jq -r .UUID "$T/body")
for k in Systems Managers Chassis SessionService; do
    expect_jq ".$k.\"@odata.id\"" "/redfish/v1/$k" "links to $k"
done
expect_jq '.Links.Sessions."@odata.id"' /redfish/v1/SessionService/Sessions "links to Sessions"
req GET /redfish/v1
check "the UUID is stable between answers" test "$(jq -r .UUID "$T/body")" = "$uuid"
req HEAD /redfish/v1/ -I
expect_status 200 "HEAD of the service root"

req GET /redfish/v1/odata
expect_status 200 "GET odata without credentials"
expect_odata "odata"
expect_jq '."@odata.context"' '/redfish/v1/$metadata' "the service document names \$metadata"
expect_jq '[.value[] | select(.name == "Systems")][0].url' /redfish/v1/Systems "and lists Systems"
expect_jq '[.value[].kind] | unique | join(",")' Singleton "every entry a singleton"

req GET '/redfish/v1/$metadata'
expect_status 200 "GET \$metadata without credentials"
expect_odata "\$metadata"
check "\$metadata is XML" test "$(header Content-Type)" = application/xml
check "\$metadata is well-formed XML" /usr/bin/python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$T/body"
check "\$metadata references the ServiceRoot schema version the root uses" \
    grep -q 'Namespace="ServiceRoot.v1_5_0"' "$T/body"

# --- errors -------------------------------------------------------------------------

req GET /redfish/v1/NoSuchThing
expect_rf_error 401 NoValidSession "an unknown path behind the login asks for credentials first"
expect_odata "a 401"
check "the 401 has a challenge" sh -c 'grep -qi "^WWW-Authenticate:" "$1"' _ "$T/headers"
req GET /redfish/v1/NoSuchThing --digest -u "admin:$PW"
expect_rf_error 404 ResourceMissingAtURI "an unknown path"
expect_odata "a 404"
req GET /redfish/nope
expect_rf_error 401 NoValidSession "a path outside v1 is not public either"
req DELETE /redfish/v1/ --digest -u "admin:$PW"
expect_rf_error 405 GeneralError "DELETE of the service root"
check "405 names what is allowed" sh -c 'grep -i "^Allow:" "$1" | grep -q GET' _ "$T/headers"
req POST '/redfish/v1/$metadata' --digest -u "admin:$PW"
expect_status 405 "POST of \$metadata"

# --- /service is unchanged -------------------------------------------------------

req GET /service/machines
expect_status 401 "/service still needs credentials"
check "and its answers carry no OData-Version" test -z "$(header OData-Version)"
req GET /service/machines --digest -u "admin:$PW"
expect_status 200 "/service with credentials"

finish

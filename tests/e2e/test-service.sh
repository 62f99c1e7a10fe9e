#!/bin/sh
# test-service.sh: the read side of the /service tree (API.md sections 0, 1, 3
# filters and 7): the machine list and its filters, one machine with every
# detail field checked against tests/data/node.xml, status through both
# paths, reserved first segments, percent-decoding, trailing slashes, HEAD,
# /service/health and /service/version, and the Content-Type of every answer.
. "$(dirname "$0")/functions.sh"

# --- local helpers -----------------------------------------------------------

# expect_ct DESCRIPTION: the answer's Content-Type is application/json (API.md 0).
expect_ct() {
    local ct
    ct=$(header Content-Type)
    if [ "$ct" = "application/json" ]; then ok "$1: Content-Type application/json"; else not_ok "$1: Content-Type is '$ct', expected application/json"; fi
}

# get PATH DESCRIPTION: GET, expect 200 and a JSON Content-Type.
get() {
    req GET "$1"
    expect_status 200 "GET $1: $2"
    expect_ct "GET $1"
}

# names: the "name" keys of a list answer, comma separated, in answer order.
names() { jq -r '[.[].name] | join(",")' "$T/body" 2>/dev/null; }

# expect_names PATH EXPECTED DESCRIPTION: GET PATH is 200 JSON and lists exactly these names.
expect_names() {
    get "$1" "$3"
    local got
    got=$(names)
    if [ "$got" = "$2" ]; then ok "$3: names '$2'"; else not_ok "$3: names are '$got', expected '$2'"; fi
}

# expect_json_error CODE DESCRIPTION: CODE, JSON Content-Type, body exactly {"error": "<non-empty>"}.
expect_json_error() {
    if [ "$STATUS" = "$1" ] && [ "$(header Content-Type)" = "application/json" ] &&
        jq -e 'type == "object" and keys == ["error"] and (.error | type == "string" and length > 0)' "$T/body" >/dev/null 2>&1; then
        ok "$2 ($1, {\"error\": \"...\"})"
    else
        not_ok "$2: expected $1 with exactly {\"error\": \"<message>\"}"
    fi
}

start_daemon || { echo "# cannot start virtmcd"; exit 1; }

# --- /service/health and /service/version (API.md 7) -------------------------

get /service/health "health"
expect_jq .status ok "health: status ok"
expect_jq '.hosts | type' object "health: hosts is an object"
expect_jq '.hosts | length' 1 "health: one host (the single [libvirt] uri)"
expect_jq '[.hosts[]] | join(",")' up "health: the host is up"
H=$(jq -r '.hosts | keys[0]' "$T/body" 2>/dev/null)
check "health: the host has a name" sh -c '[ -n "$1" ] && [ "$1" != null ]' _ "$H"

get /service/version "version"
expect_jq .name virtmcd "version: name virtmcd"
expect_jq '.version | type' string "version: version is a string"
binver=$("$VIRTMCD" --version 2>/dev/null | awk '{print $2}')
expect_jq .version "$binver" "version: version is the one virtmcd --version prints"
check "version: libvirt is a dotted version" sh -c 'jq -r .libvirt "$1" | grep -Eq "^[0-9]+\.[0-9]+\.[0-9]+$"' _ "$T/body"
if lv=$(pkg-config --modversion libvirt 2>/dev/null) && [ -n "$lv" ]; then
    expect_jq .libvirt "$lv" "version: libvirt is the library version (pkg-config)"
fi

# --- GET /service/machines ---------------------------------------------------

get /service/machines "the machine list"
expect_jq 'type' array "list: an array"
expect_jq 'length' 8 "list: every machine of node.xml, running or not"
# Every entry: the keys of API.md 1, all strings.
expect_jq 'all(.[]; type == "object" and has("id") and has("name") and has("state") and has("uuid") and has("host"))' true \
    "list: every entry has id, name, state, uuid, host"
expect_jq 'all(.[]; (.id, .name, .state, .uuid, .host) | type == "string")' true "list: id, name, state, uuid, host are strings"
# Sorted by name; id "-" when off, the domain id (digits) when active.
cat > "$T/expected-list" <<EOF
pools|-|shut off|6695eb01-f6a4-8304-79aa-97f2502e1945|$H
vm-crashed|N|crashed|6695eb01-f6a4-8304-79aa-97f2502e1942|$H
vm-nonic|-|shut off|6695eb01-f6a4-8304-79aa-97f2502e1943|$H
vm-off|-|shut off|6695eb01-f6a4-8304-79aa-97f2502e1940|$H
vm-paused|N|paused|6695eb01-f6a4-8304-79aa-97f2502e1941|$H
vm-running|N|running|6695eb01-f6a4-8304-79aa-97f2502e193f|$H
vm-transient|N|running|6695eb01-f6a4-8304-79aa-97f2502e1944|$H
web 01|-|shut off|6695eb01-f6a4-8304-79aa-97f2502e1946|$H
EOF
jq -r '.[] | [.name, (.id | if . == "-" then "-" elif test("^[1-9][0-9]*$") then "N" else "bad:" + . end), .state, .uuid, .host] | join("|")' \
    "$T/body" > "$T/got-list" 2>/dev/null
if cmp -s "$T/expected-list" "$T/got-list"; then
    ok "list: sorted by name, exact states, uuids, host, id '-' when off and a number when active"
else
    not_ok "list: entries differ from node.xml"
    diff "$T/expected-list" "$T/got-list" | sed 's/^/#   /'
fi
expect_jq '[.[] | select(.id != "-") | .id] | unique | length' 4 "list: the four active machines have distinct ids"
cp "$T/body" "$T/list"

# A trailing slash is ignored.
get /service/machines/ "the list with a trailing slash"
check "list: trailing slash gives the same list" sh -c 'jq -S -c . "$1" > "$1.a"; jq -S -c . "$2" > "$2.a"; cmp -s "$1.a" "$2.a"' _ "$T/list" "$T/body"

# --- filters (API.md 3) --------------------------------------------------------

expect_names '/service/machines?state=running' 'vm-running,vm-transient' "state=running"
expect_names '/service/machines?state=shut%20off' 'pools,vm-nonic,vm-off,web 01' "state=shut off (%20)"
# Form encoding: '+' in a query value is a space (as curl --data-urlencode and browsers send it).
expect_names '/service/machines?state=shut+off' 'pools,vm-nonic,vm-off,web 01' "state=shut+off"
expect_names '/service/machines?state=paused' 'vm-paused' "state=paused"
expect_names '/service/machines?state=crashed' 'vm-crashed' "state=crashed"
# The rest of virsh's vocabulary is valid and matches nothing here.
for s in idle 'in%20shutdown' pmsuspended 'no%20state'; do
    get "/service/machines?state=$s" "state=$s is a valid state"
    expect_jqc . '[]' "state=$s: empty list"
done
for s in bogus off shutoff shut_off On ''; do
    req GET "/service/machines?state=$s"
    expect_json_error 400 "state='$s' is not a virsh state"
done

expect_names "/service/machines?host=$H" 'pools,vm-crashed,vm-nonic,vm-off,vm-paused,vm-running,vm-transient,web 01' "host=<the host>"
# Ambiguous in API.md: a host filter naming no managed host may be a bad query
# value (400) or simply match nothing (200 []).  Either is accepted; listing
# machines is not.
req GET '/service/machines?host=no-such-host'
if [ "$STATUS" = 400 ]; then
    expect_json_error 400 "host=no-such-host"
else
    expect_status 200 "host=no-such-host is 400 or an empty list"
    expect_jqc . '[]' "host=no-such-host lists nothing"
fi

expect_names '/service/machines?name=vm-*' 'vm-crashed,vm-nonic,vm-off,vm-paused,vm-running,vm-transient' "name=vm-*"
expect_names '/service/machines?name=*0*' 'web 01' "name=*0*"
expect_names '/service/machines?name=vm-%3F%3F%3F' 'vm-off' "name=vm-??? (? is one character)"
expect_names '/service/machines?name=%5Bpw%5D*' 'pools,web 01' "name=[pw]* (bracket class)"
expect_names '/service/machines?name=pools' 'pools' "name=pools (a glob without wildcards is an exact name)"
expect_names '/service/machines?name=web%2001' 'web 01' "name=web%2001 (decoded space)"
expect_names '/service/machines?name=vm' '' "name=vm (globs match the whole name)"
expect_names '/service/machines?name=nomatch*' '' "name=nomatch* matches nothing"

expect_names '/service/machines?name=vm-*&state=shut%20off' 'vm-nonic,vm-off' "name=vm-* and state=shut off"
expect_names "/service/machines?state=running&host=$H" 'vm-running,vm-transient' "state=running and host"
expect_names "/service/machines?name=vm-r*&state=running&host=$H" 'vm-running' "name, state and host together"
expect_names '/service/machines?name=vm-p*&state=running' '' "name=vm-p* and state=running: nothing"

for q in foo=bar 'state=running&foo=1' 'names=vm-*' 'State=running'; do
    req GET "/service/machines?$q"
    expect_json_error 400 "unknown filter key: ?$q"
done

# --- one machine (API.md 1) ------------------------------------------------------

# detail NAME-IN-URL: GET both paths, check they agree and match the list entry.
detail() {
    req GET "/service/$1"
    expect_status 200 "GET /service/$1"
    expect_ct "GET /service/$1"
    cp "$T/body" "$T/short"
    get "/service/machines/$1" "one machine"
    check "/service/$1 and /service/machines/$1 answer the same" \
        sh -c 'jq -S -c . "$1" > "$1.a" && jq -S -c . "$2" > "$2.a" && cmp -s "$1.a" "$2.a"' _ "$T/short" "$T/body"
    name=$(jq -r .name "$T/body" 2>/dev/null)
    entry=$(jq -c --arg n "$name" '.[] | select(.name == $n) | {id, name, state, uuid, host}' "$T/list")
    expect_jqc '{id, name, state, uuid, host}' "$entry" "$1: the list entry's keys, same values as in the list"
    expect_jq '[keys[] | select(IN("vcpus","memory_kib","persistent","autostart","boot","interfaces","disks","graphics","metadata"))] | length' 9 \
        "$1: has vcpus, memory_kib, persistent, autostart, boot, interfaces, disks, graphics, metadata"
}

# A domain without <metadata> has no owner, no description and no tags.
NOMETA='{"owner":null,"description":null,"tags":{}}'

detail vm-running
expect_jqc .id '"1"' "vm-running: id is the domain id"
expect_jqc .vcpus 2 "vm-running: vcpus 2"
expect_jqc .memory_kib 524288 "vm-running: memory_kib 524288"
expect_jqc .persistent true "vm-running: persistent"
expect_jqc .autostart false "vm-running: no autostart"
# <os><boot dev> names whole classes, so no single device: device is null
# (API.md 2 shows a device only for the per-device style; our reading).
expect_jqc '.boot.order' '[{"class":"disk","device":null,"order":1},{"class":"network","device":null,"order":2}]' "vm-running: boot order hd, network"
expect_jqc '.boot | {style, first, persistent, once, pending, mode}' \
    '{"style":"os","first":"disk","persistent":true,"once":false,"pending":false,"mode":"legacy"}' "vm-running: boot style os, first disk, legacy"
expect_jqc '[.interfaces[] | {mac, type, source, model}]' '[{"mac":"52:54:00:00:01:01","type":"user","source":null,"model":"virtio"}]' "vm-running: one user NIC, virtio"
expect_jqc '[.disks[] | {target, device, source}]' \
    '[{"target":"vda","device":"disk","source":"/var/lib/libvirt/images/vm-running.qcow2"},{"target":"hdc","device":"cdrom","source":null}]' \
    "vm-running: vda disk and an empty hdc cdrom"
expect_jqc '[.graphics[] | {type, port, listen}]' '[{"type":"vnc","port":5901,"listen":"127.0.0.1"}]' "vm-running: vnc on 127.0.0.1:5901"
expect_jqc '.metadata | {owner, description, tags}' "$NOMETA" "vm-running: empty metadata"

detail vm-off
expect_jqc .id '"-"' "vm-off: id -"
expect_jqc .state '"shut off"' "vm-off: shut off"
expect_jqc .vcpus 1 "vm-off: vcpus 1"
expect_jqc .memory_kib 1048576 "vm-off: 1024 MiB is memory_kib 1048576"
expect_jqc .persistent true "vm-off: persistent"
expect_jqc .autostart false "vm-off: no autostart"
expect_jqc '.boot.order' \
    '[{"class":"disk","device":"vda","order":1},{"class":"network","device":"52:54:00:00:02:01","order":2},{"class":"network","device":"52:54:00:00:02:02","order":3}]' \
    "vm-off: per-device boot order vda, NIC 1, NIC 2"
expect_jqc '.boot | {style, first, persistent, once, pending, mode}' \
    '{"style":"per-device","first":"disk","persistent":true,"once":false,"pending":false,"mode":"legacy"}' "vm-off: boot style per-device, first disk"
expect_jqc '[.interfaces[] | {mac, type, source, model}]' \
    '[{"mac":"52:54:00:00:02:01","type":"user","source":null,"model":"virtio"},{"mac":"52:54:00:00:02:02","type":"user","source":null,"model":"e1000"}]' \
    "vm-off: two NICs in document order"
expect_jqc '[.disks[] | {target, device, source}]' \
    '[{"target":"vda","device":"disk","source":"/var/lib/libvirt/images/vm-off-root.qcow2"},{"target":"vdb","device":"disk","source":"/var/lib/libvirt/images/vm-off-data.qcow2"}]' \
    "vm-off: two disks"
expect_jqc .graphics '[]' "vm-off: no graphics"
expect_jqc '.metadata | {owner, description, tags}' "$NOMETA" "vm-off: empty metadata"

detail vm-paused
expect_jqc '{state, vcpus, memory_kib, persistent}' '{"state":"paused","vcpus":1,"memory_kib":262144,"persistent":true}' "vm-paused: paused, 1 vcpu, 256 MiB"
check "vm-paused: id is a number (paused is active)" sh -c 'jq -r .id "$1" | grep -Eq "^[1-9][0-9]*$"' _ "$T/body"
expect_jqc '[.disks[] | {target, device, source}]' '[{"target":"vda","device":"disk","source":"/var/lib/libvirt/images/vm-paused.qcow2"}]' "vm-paused: one disk"
expect_jqc '[.interfaces, .graphics]' '[[],[]]' "vm-paused: no NIC, no graphics"
expect_jqc '.boot | {order, style, first}' '{"order":[{"class":"disk","device":null,"order":1}],"style":"os","first":"disk"}' "vm-paused: boot hd"

detail vm-crashed
expect_jqc '{state, vcpus, memory_kib, persistent}' '{"state":"crashed","vcpus":1,"memory_kib":262144,"persistent":true}' "vm-crashed: crashed"
expect_jqc '[.disks[] | {target, device, source}]' '[{"target":"vda","device":"disk","source":"/var/lib/libvirt/images/vm-crashed.qcow2"}]' "vm-crashed: one disk"

detail vm-transient
expect_jqc '{state, vcpus, memory_kib, persistent, autostart}' '{"state":"running","vcpus":1,"memory_kib":262144,"persistent":false,"autostart":false}' \
    "vm-transient: running, not persistent"
# No <model> element: model is null.
expect_jqc '[.interfaces[] | {mac, type, source, model}]' '[{"mac":"52:54:00:00:06:01","type":"user","source":null,"model":null}]' "vm-transient: one NIC without a model"
expect_jqc '[.disks, .graphics]' '[[],[]]' "vm-transient: no disk, no graphics"
expect_jqc '.boot | {order, style, first}' '{"order":[{"class":"network","device":null,"order":1}],"style":"os","first":"network"}' "vm-transient: boot network"
expect_jqc '.metadata | {owner, description, tags}' "$NOMETA" "vm-transient: empty metadata"

detail vm-nonic
expect_jqc '{id, state, interfaces, graphics}' '{"id":"-","state":"shut off","interfaces":[],"graphics":[]}' "vm-nonic: off, no NIC"
expect_jqc '[.disks[] | {target, device, source}]' '[{"target":"vda","device":"disk","source":"/var/lib/libvirt/images/vm-nonic.qcow2"}]' "vm-nonic: one disk"

# --- reserved first segments and awkward names -----------------------------------

# The machine called "pools" only on the canonical path.
get /service/machines/pools "the machine pools (canonical path)"
entry=$(jq -c '.[] | select(.name == "pools") | {id, name, state, uuid, host}' "$T/list")
expect_jqc '{id, name, state, uuid, host}' "$entry" "machine pools: the list entry's keys, same values as in the list"
expect_jqc '{name, state, uuid, interfaces, disks, graphics}' \
    '{"name":"pools","state":"shut off","uuid":"6695eb01-f6a4-8304-79aa-97f2502e1945","interfaces":[],"disks":[],"graphics":[]}' "machine pools: its own details"
# /service/pools is the (section 5) pool list or, where pools are not built, an
# unknown path: never the machine.
req GET /service/pools
expect_ct "GET /service/pools"
if [ "$STATUS" = 200 ]; then
    expect_jq 'type' array "GET /service/pools is the pool list, not the machine"
else
    expect_json_error 404 "GET /service/pools is not the machine 'pools'"
fi
req GET /service/pools/state_controller/status
expect_json_error 404 "GET /service/pools/state_controller/status is not the machine's status"
req POST /service/pools/state_controller/power_on
check "POST /service/pools/state_controller/power_on is not an action on the machine (404)" [ "$STATUS" = 404 ]
req GET /service/machines/pools/state_controller/status
expect_jqc . '{"state":"shut off"}' "the machine pools is still off"
# Other reserved words are not looked up as machines either.
req GET /service/health/state_controller/status
expect_json_error 404 "/service/health/state_controller/status: health is reserved"
req GET /service/version/state_controller/status
expect_json_error 404 "/service/version/state_controller/status: version is reserved"

# "web 01": percent-decoded once, on both paths.
req GET '/service/web%2001'
expect_status 200 "GET /service/web%2001"
expect_jqc '{name, state, uuid}' '{"name":"web 01","state":"shut off","uuid":"6695eb01-f6a4-8304-79aa-97f2502e1946"}' "web%2001 is the machine 'web 01'"
detail 'web%2001'
expect_jqc '[.interfaces, .disks, .graphics]' '[[],[],[]]' "web 01: no devices"
req GET '/service/web%252001'
expect_json_error 404 "web%252001 is decoded once, to 'web%2001', which does not exist"
req GET '/service/web+01'
expect_json_error 404 "'+' in a path is not a space"

# --- status through both paths ---------------------------------------------------

for m in vm-running:running vm-off:'shut off' vm-paused:paused vm-crashed:crashed vm-nonic:'shut off' \
    vm-transient:running 'web%2001:shut off'; do
    n=${m%%:*} s=${m#*:}
    for p in "/service/$n/state_controller/status" "/service/machines/$n/state_controller/status"; do
        get "$p" "status"
        expect_jqc . "{\"state\":\"$s\"}" "GET $p is exactly {\"state\":\"$s\"}"
    done
done

# --- trailing slashes -------------------------------------------------------------

get /service/vm-off/ "one machine with a trailing slash"
expect_jq .name vm-off "/service/vm-off/ is vm-off"
get /service/machines/vm-off/ "canonical path with a trailing slash"
expect_jq .name vm-off "/service/machines/vm-off/ is vm-off"
get /service/vm-off/state_controller/status/ "status with a trailing slash"
expect_jqc . '{"state":"shut off"}' "status/ is the status"
get /service/health/ "health with a trailing slash"
expect_jq .status ok "health/ is health"
get /service/version/ "version with a trailing slash"
expect_jq .name virtmcd "version/ is version"

# --- HEAD: same status and headers as GET, no body ----------------------------------

for p in /service/machines /service/vm-running /service/machines/vm-off /service/vm-off/state_controller/status \
    /service/health /service/version '/service/machines?state=running' /service/nosuch '/service/machines?state=bogus'; do
    req GET "$p"
    gs=$STATUS gct=$(header Content-Type) glen=$(header Content-Length)
    req HEAD "$p"
    hs=$STATUS hct=$(header Content-Type) hlen=$(header Content-Length)
    check "HEAD $p: same status as GET ($gs)" [ "$hs" = "$gs" ]
    check "HEAD $p: same Content-Type as GET ($gct)" [ "$hct" = "$gct" ]
    check "HEAD $p: same Content-Length as GET ($glen)" [ "$hlen" = "$glen" ]
    check "HEAD $p: no body" [ ! -s "$T/body" ]
done

# --- Content-Type of the errors of this tree ------------------------------------------

req GET /service/nosuch
expect_json_error 404 "GET /service/nosuch"
req GET /service/machines/nosuch
expect_json_error 404 "GET /service/machines/nosuch"
req GET /service/nosuch/state_controller/status
expect_json_error 404 "status of an unknown machine"

# Reading did not change anything.
get /service/machines "the list at the end"
check "the list is unchanged by all these reads" \
    sh -c 'jq -S -c . "$1" > "$1.a" && jq -S -c . "$2" > "$2.a" && cmp -s "$1.a" "$2.a"' _ "$T/list" "$T/body"

# A UUID names a machine too (the operations layer's lookup), in any case.
req GET /service/6695eb01-f6a4-8304-79aa-97f2502e193f/state_controller/status
expect_status 200 "status by UUID"
expect_jq .state running "the UUID's machine is vm-running"
req GET /service/machines/6695EB01-F6A4-8304-79AA-97F2502E193F
expect_jq .name vm-running "the detail by an upper-case UUID"
req GET /service/6695eb01-f6a4-8304-79aa-97f2502effff/state_controller/status
expect_error 404 "an unknown UUID is 404"

finish

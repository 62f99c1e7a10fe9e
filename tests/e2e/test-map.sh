#!/bin/sh
# test-map.sh: the virtmapper-compatible map (API.md section 4) over two
# overlapping test-driver hosts (tests/data/README.md): /service/map and
# /service/map/<node>, and the same at /api/v1/vmap (the /api tree).  Whole
# answers are compared exactly: every guest of every host, the one "guests"
# entry of a name on two hosts, the conflicts (twin: one name, two UUIDs;
# moved-a/moved-b: one UUID, two names; elsewhere is off on kvm09, so no
# conflict), and how power actions change them.  Then a third host named
# like a guest (olh) whose node file is missing: it is "down", and wins the
# lookup of its name.  Last, the map of a user with a machine ACL.
. "$(dirname "$0")/functions.sh"

command -v jq >/dev/null 2>&1 || { echo "# jq not installed: skipped"; exit 77; }

K09="$abs_srcdir/tests/data/node-kvm09.xml"
K10="$abs_srcdir/tests/data/node-kvm10.xml"
U=a0000000-0000-4000-8000-000000000
HOSTS2=$(printf '[host "kvm09"]\nuri = test://%s\n[host "kvm10"]\nuri = test://%s\n' "$K09" "$K10")

# expect_json JSON DESC: the body (keys sorted, compact) is exactly JSON.
expect_json() {
    local got want
    got=$(jq -S -c . "$T/body" 2>/dev/null)
    want=$(printf '%s' "$1" | jq -S -c .)
    if [ -n "$want" ] && [ "$got" = "$want" ]; then
        ok "$2"
    else
        not_ok "$2"
        echo "#   expected $want"
        echo "#   got      $got"
    fi
}

# expect_map SUFFIX JSON DESC: GET /service/map SUFFIX and /api/v1/vmap
# SUFFIX both answer 200 with exactly JSON.
expect_map() {
    local p
    for p in /service/map /api/v1/vmap; do
        req GET "$p$1"
        if [ "$STATUS" = 200 ] && [ "$(header Content-Type)" = application/json ]; then
            expect_json "$2" "$3 ($p$1)"
        else
            not_ok "$3 ($p$1): status $STATUS, expected 200 with JSON"
        fi
    done
}

# expect_missing NODE DESC: 404 and virtmapper's own words, on both paths.
expect_missing() {
    local p
    for p in /service/map /api/v1/vmap; do
        req GET "$p/$1"
        if [ "$STATUS" = 404 ]; then
            expect_json "{\"error\": \"Node $2 not found\"}" "$3 ($p/$1)"
        else
            not_ok "$3 ($p/$1): status $STATUS, expected 404"
        fi
    done
}

# act NAME ACTION [QUERY]: a power action; 200 or the test says why not.
act() {
    req POST "/service/$1/state_controller/$2${3:+?$3}"
    expect_status 200 "$2 of $1${3:+ ($3)}"
}

GUESTS09='["bigmem", "blk-user", "db1", "elsewhere", "iso-user", "macclash", "moved-a", "rbd-user", "twin", "vol-user", "web1"]'
GUESTS10='["app1", "elsewhere", "moved-b", "olh", "rbd-run", "twin"]'
OFF='"state": "shut off"'
RUN='"state": "running"'
MAP="{
  \"hosts\": {
    \"kvm09\": {\"state\": \"up\", \"guests\": $GUESTS09},
    \"kvm10\": {\"state\": \"up\", \"guests\": $GUESTS10}
  },
  \"guests\": {
    \"app1\": {$RUN, \"host\": \"kvm10\"},
    \"bigmem\": {$OFF, \"host\": \"kvm09\"},
    \"blk-user\": {$OFF, \"host\": \"kvm09\"},
    \"db1\": {$OFF, \"host\": \"kvm09\"},
    \"elsewhere\": {$RUN, \"host\": \"kvm10\"},
    \"iso-user\": {$OFF, \"host\": \"kvm09\"},
    \"macclash\": {$OFF, \"host\": \"kvm09\"},
    \"moved-a\": {$RUN, \"host\": \"kvm09\"},
    \"moved-b\": {$RUN, \"host\": \"kvm10\"},
    \"olh\": {$OFF, \"host\": \"kvm10\"},
    \"rbd-run\": {$RUN, \"host\": \"kvm10\"},
    \"rbd-user\": {$OFF, \"host\": \"kvm09\"},
    \"twin\": {$RUN, \"host\": \"kvm09\"},
    \"vol-user\": {$OFF, \"host\": \"kvm09\"},
    \"web1\": {$RUN, \"host\": \"kvm09\"}
  },
  \"conflicts\": [
    {\"name\": \"twin\", \"uuid\": null, \"hosts\": [\"kvm09\", \"kvm10\"]},
    {\"name\": null, \"uuid\": \"${U}9a0\", \"hosts\": [\"kvm09\", \"kvm10\"]}
  ]
}"
TWIN='{"name": "twin", "uuid": null, "hosts": ["kvm09", "kvm10"]}'
MOVED="{\"name\": null, \"uuid\": \"${U}9a0\", \"hosts\": [\"kvm09\", \"kvm10\"]}"

write_conf "$HOSTS2"
NODE=
start_daemon || exit 1

# ---- the whole map, one host, one guest ----
expect_map "" "$MAP" "the whole map: every guest, both conflicts"
expect_map / "$MAP" "a trailing slash is the same map"
expect_map /kvm10 "{\"hosts\": {\"kvm10\": {\"state\": \"up\", \"guests\": $GUESTS10}},
    \"guests\": null, \"conflicts\": [$TWIN, $MOVED]}" "one host, with its conflicts"
expect_map /web1 '{"hosts": null, "guests": {"web1": {"state": "running", "host": "kvm09"}},
    "conflicts": []}' "one guest without conflicts"
expect_map /olh '{"hosts": null, "guests": {"olh": {"state": "shut off", "host": "kvm10"}},
    "conflicts": []}' "a machine that is off is in the map"
expect_map /twin "{\"hosts\": null, \"guests\": {\"twin\": {$RUN, \"host\": \"kvm09\"}},
    \"conflicts\": [$TWIN]}" "twin: one entry (the first host), and its name conflict"
expect_map /moved-b "{\"hosts\": null, \"guests\": {\"moved-b\": {$RUN, \"host\": \"kvm10\"}},
    \"conflicts\": [$MOVED]}" "moved-b: its UUID conflict, the names differ (null)"
expect_map /elsewhere "{\"hosts\": null, \"guests\": {\"elsewhere\": {$RUN, \"host\": \"kvm10\"}},
    \"conflicts\": []}" "elsewhere: the host where it runs, and no conflict (off on kvm09)"
expect_map /tw%69n "{\"hosts\": null, \"guests\": {\"twin\": {$RUN, \"host\": \"kvm09\"}},
    \"conflicts\": [$TWIN]}" "the node is percent-decoded"
expect_missing nosuch nosuch "an unknown node"
expect_missing no%20such "no such" "an unknown node, decoded in the message"
expect_missing TWIN TWIN "names are case-sensitive"

# ---- the routes around it ----
# curl -I writes the headers where the body would go: no JSON may follow them.
req HEAD /service/map -I
check "HEAD /service/map: 200 and no body" \
    sh -c '[ "$1" = 200 ] && ! grep -q "{" "$2"' _ "$STATUS" "$T/body"
check "... Content-Type application/json" [ "$(header Content-Type)" = application/json ]
req HEAD /api/v1/vmap/twin -I
expect_status 200 "HEAD /api/v1/vmap/twin"
req HEAD /api/v1/vmap/nosuch -I
expect_status 404 "HEAD of an unknown node"
req GET '/service/map?host=kvm09'
expect_error 400 "the map takes no query keys"
req GET '/api/v1/vmap/twin?x=1'
expect_json '{"error": "unknown query parameter '"'x'"'"}' "unknown query key on the /api tree (400)"
req POST /service/map
expect_error 405 "POST /service/map"
check "... Allow: GET, HEAD" [ "$(header Allow)" = "GET, HEAD" ]
req DELETE /api/v1/vmap/twin
expect_error 405 "DELETE /api/v1/vmap/twin"
for p in /api/v1/unknown /api/v1 /api /api/v2/vmap /api/v1/vmap/twin/x /apis/v1/vmap; do
    req GET "$p"
    expect_error 404 "GET $p"
done
req GET /api/v1/unknown
expect_json '{"error": "no such resource: /api/v1/unknown"}' "the /api tree's error body"
req GET /service/machines/map
expect_error 404 "a machine called map is /service/machines/map (there is none)"

# ---- state changes show at once ----
act twin power_off host=kvm10
expect_map /twin "{\"hosts\": null, \"guests\": {\"twin\": {$RUN, \"host\": \"kvm09\"}},
    \"conflicts\": []}" "twin off on kvm10: no conflict"
act twin power_off host=kvm09
act twin power_on host=kvm10
expect_map /twin "{\"hosts\": null, \"guests\": {\"twin\": {$RUN, \"host\": \"kvm10\"}},
    \"conflicts\": []}" "twin running on kvm10 only: its entry moves to kvm10"
act moved-a power_off
req GET /service/map
expect_jq '.conflicts | tojson' '[]' "moved-a off: no conflict left"
act elsewhere power_off host=kvm10
expect_map /elsewhere "{\"hosts\": null, \"guests\": {\"elsewhere\": {$OFF, \"host\": \"kvm09\"}},
    \"conflicts\": []}" "elsewhere off everywhere: the first host's entry"
act olh power_on
# force=1 (admin; no users file: everyone is): started whatever a start guard says.
act elsewhere power_on 'host=kvm09&force=1'
act elsewhere power_on 'host=kvm10&force=1'
ELSEWHERE="{\"name\": \"elsewhere\", \"uuid\": \"${U}906\", \"hosts\": [\"kvm09\", \"kvm10\"]}"
expect_map /elsewhere "{\"hosts\": null, \"guests\": {\"elsewhere\": {$RUN, \"host\": \"kvm09\"}},
    \"conflicts\": [$ELSEWHERE]}" "elsewhere on both hosts: one name and one UUID, one conflict"
expect_map "" "$(printf '%s' "$MAP" | jq -c --argjson c "[$ELSEWHERE]" '
    .conflicts = $c
    | .guests.twin.host = "kvm10"
    | .guests["moved-a"].state = "shut off"
    | .guests.elsewhere.host = "kvm09"
    | .guests.olh.state = "running"')" "the whole map after the actions"
act elsewhere power_off host=kvm09

# ---- a third host, named like a guest, that is down ----
stop_daemon
rm -f "$T/virtmcd.conf"
write_conf "$HOSTS2$(printf '\n[host "olh"]\nuri = test://%s/no-such-node.xml\n' "$T")"
start_daemon || exit 1
expect_map /olh '{"hosts": {"olh": {"state": "down", "guests": []}}, "guests": null,
    "conflicts": []}' "a host named like a guest wins; it is down"
expect_map "" "$(printf '%s' "$MAP" | jq -c '.hosts.olh = {"state": "down", "guests": []}')" \
    "the whole map lists the down host"
req GET /service/health
expect_jq .hosts.olh down "health agrees that olh is down"

# ---- a user with a machine ACL sees only their machines ----
stop_daemon
htdigest_ok=
if command -v htdigest >/dev/null 2>&1; then
    printf 'Pw-alice-Q7\nPw-alice-Q7\n' | htdigest -c "$T/users" virtmcd alice >/dev/null 2>&1 &&
        chmod 0600 "$T/users" && htdigest_ok=1
fi
if [ -n "$htdigest_ok" ]; then
    rm -f "$T/virtmcd.conf"
    write_conf "$HOSTS2$(printf '\n[auth]\nusers_file = %s/users\n[user "alice"]\nmachines = tw*, moved-a\n' "$T")"
    start_daemon || exit 1
    req GET /service/map --digest -u alice:Pw-alice-Q7
    expect_json "{\"hosts\": {\"kvm09\": {\"state\": \"up\", \"guests\": [\"moved-a\", \"twin\"]},
        \"kvm10\": {\"state\": \"up\", \"guests\": [\"twin\"]}},
        \"guests\": {\"moved-a\": {$RUN, \"host\": \"kvm09\"}, \"twin\": {$RUN, \"host\": \"kvm09\"}},
        \"conflicts\": [$TWIN]}" "ACL: only alice's machines, and no conflict with a hidden one"
    req GET /api/v1/vmap/moved-b --digest -u alice:Pw-alice-Q7
    expect_json '{"error": "Node moved-b not found"}' "ACL: a hidden machine is not found"
    req GET /api/v1/vmap/twin
    expect_error 401 "the /api tree asks for credentials too"
else
    echo "# htdigest not installed: the ACL checks are skipped"
fi

finish

#!/bin/sh
# test-addresses.sh: guest addresses (API.md section 3, issue 11): GET
# /service/<name>/addresses straight from libvirt (the test driver answers
# 192.168.0.x/24 per NIC from every source when a domain is running, so the
# first source, lease, answers), its errors, and the "addresses" of
# GET /service/machines?addresses=1 from the address cache: filled after
# start-up, null for machines that are off, filled for a machine that starts
# without waiting for the next refresh (address_refresh is an hour here),
# null again once it stops, emptied when address_refresh becomes 0 on SIGHUP
# and filled again when it comes back.  Lists with addresses make no
# libvirt call (the address reads counted in /metrics).
. "$(dirname "$0")/functions.sh"

# listed_addresses NAME: the "addresses" of NAME in GET /service/machines?addresses=1.
listed_addresses() {
    curl -s -g "$BASE/service/machines?addresses=1" |
        jq -c --arg n "$1" '.[] | select(.name == $n) | .addresses' 2>/dev/null
}
has_addresses() { [ "$(listed_addresses "$1" | jq -r 'type' 2>/dev/null)" = array ] &&
    [ "$(listed_addresses "$1" | jq -r '[.[].addresses[]] | length')" -gt 0 ]; }
no_addresses() { [ "$(listed_addresses "$1")" = null ]; }

VM_RUNNING='[{"interface":"testnet0","mac":"52:54:00:00:01:01","addresses":[{"address":"192.168.0.1","prefix":24,"family":"ipv4"}],"source":"lease"}]'

# An hour: whatever the list shows after the first fill came from events.
write_conf "[inventory]
address_refresh = 3600"
start_daemon || { echo "# cannot start virtmcd"; exit 1; }

# --- GET /service/<name>/addresses ---------------------------------------------

req GET /service/vm-running/addresses
expect_status 200 "addresses of a running machine"
check "addresses: Content-Type application/json" [ "$(header Content-Type)" = application/json ]
expect_jqc . "$VM_RUNNING" "addresses of vm-running: interface, MAC, 192.168.0.1/24 ipv4, from the leases"
req GET /service/machines/vm-running/addresses
expect_jqc . "$VM_RUNNING" "the same under /service/machines/vm-running/addresses"
req GET /service/vm-running/addresses/
expect_status 200 "a trailing slash is ignored"
HOST=$(curl -s "$BASE/service/health" | jq -r '.hosts | keys[0]')
req GET "/service/vm-running/addresses?host=$HOST"
expect_jqc . "$VM_RUNNING" "?host= picks the host"
req GET "/service/vm-running/addresses?host=no-such-host"
expect_error 404 "?host= of an unknown host"
req HEAD /service/vm-running/addresses
expect_status 200 "HEAD works where GET does"

req GET /service/vm-off/addresses
expect_error 409 "a machine that is off has no addresses"
expect_jq '.error | test("not running")' true "the error says the machine is not running"
req GET /service/no-such-vm/addresses
expect_error 404 "an unknown machine"
req GET '/service/machines/%2E%2E/addresses'
expect_error 400 "a bad machine name"
req GET '/service/machines/a%01b/addresses'
expect_error 400 "a machine name with a control character"
req GET '/service/vm-running/addresses?source=arp'
expect_error 400 "an unknown query key"
req POST /service/vm-running/addresses
expect_error 405 "POST is not allowed"
check "405 names GET in Allow" sh -c 'grep -qi "^Allow:.*GET" "$1"' _ "$T/headers"

# --- ?addresses=1 on the machine list -------------------------------------------

check "the cache fills after start-up" wait_for 20 has_addresses vm-running

# Never a libvirt call per entry or per list: the address reads /metrics
# counts stay as they are across lists with addresses (once the first fill
# is over), and one GET .../addresses is one more.
addr_calls() {
    curl -s "$BASE/metrics" |
        awk '/^virtmcd_libvirt_calls_total\{.*op="addresses"/ { n += $NF } END { print n + 0 }'
}
settled() { n=$(addr_calls); sleep 0.3; [ "$(addr_calls)" = "$n" ]; }
wait_for 10 settled
n0=$(addr_calls)
for i in 1 2 3 4 5 6 7 8 9 10; do curl -s -o /dev/null "$BASE/service/machines?addresses=1"; done
check "ten lists with addresses read none from libvirt ($n0 reads before, $(addr_calls) after)" \
    test "$(addr_calls)" = "$n0"
req GET /service/vm-running/addresses
check "while GET .../addresses asks libvirt once ($(addr_calls) reads)" test "$(addr_calls)" = $((n0 + 1))
req GET '/service/machines?addresses=1'
expect_status 200 "list with addresses"
expect_jqc '.[] | select(.name == "vm-running") | .addresses' "$VM_RUNNING" \
    "list: vm-running's addresses, as GET .../addresses answers"
expect_jqc '[.[] | select(.state == "shut off") | .addresses] | unique' '[null]' \
    "list: every machine that is off has addresses null"
expect_jqc '[.[] | has("addresses")] | unique' '[true]' "list: every entry has the key"
expect_jqc '[.[] | select(.name == "vm-running") | keys[]] | sort' \
    '["addresses","host","id","name","owner","state","tags","uuid"]' "list: the usual keys, plus addresses"
req GET '/service/machines'
expect_jqc '[.[] | has("addresses")] | unique' '[false]' "list without ?addresses: no key"
req GET '/service/machines?addresses=0'
expect_jqc '[.[] | has("addresses")] | unique' '[false]' "?addresses=0: no key"
req GET '/service/machines?addresses=true'
expect_jqc '.[] | select(.name == "vm-running") | .addresses' "$VM_RUNNING" "?addresses=true"
req GET '/service/machines?addresses=false'
expect_jqc '[.[] | has("addresses")] | unique' '[false]' "?addresses=false: no key"
req GET '/service/machines?state=running&addresses=1'
expect_jqc '[.[] | .addresses | type] | unique' '["array"]' \
    "?state=running&addresses=1: every running machine has its addresses"
req GET '/service/machines?addresses=bogus'
expect_error 400 "?addresses=bogus"
expect_jq '.error | test("addresses")' true "the 400 names the key"
req GET '/service/machine?addresses=1'
expect_jqc '.[] | select(.name == "vm-running") | .addresses' "$VM_RUNNING" \
    "the original /service/machine list takes ?addresses=1 too"

# --- a machine that starts, then stops -------------------------------------------

req POST /service/vm-off/state_controller/power_on
expect_jq .state running "power_on vm-off"
check "vm-off's addresses are in the cache soon after its start, not after an hour" \
    wait_for 20 has_addresses vm-off
req GET '/service/machines?addresses=1'
expect_jqc '.[] | select(.name == "vm-off") | [.addresses[] | .mac, .source]' \
    '["52:54:00:00:02:01","lease","52:54:00:00:02:02","lease"]' \
    "vm-off: both NICs, from the leases"
req GET /service/vm-off/addresses
expect_jqc '[.[].mac]' '["52:54:00:00:02:01","52:54:00:00:02:02"]' \
    "GET .../addresses agrees"

req POST /service/vm-off/state_controller/power_off
expect_jq .state "shut off" "power_off vm-off"
check "vm-off's addresses are null once it is off" wait_for 20 no_addresses vm-off
req GET /service/vm-off/addresses
expect_error 409 "GET .../addresses of the stopped machine"

# --- address_refresh on SIGHUP ------------------------------------------------

write_conf "[inventory]
address_refresh = 0"
reload_daemon
check "address_refresh = 0 empties the cache" wait_for 20 no_addresses vm-running
req GET '/service/machines?addresses=1'
expect_jqc '[.[].addresses] | unique' '[null]' "address_refresh = 0: every entry null"
req GET /service/vm-running/addresses
expect_jqc . "$VM_RUNNING" "address_refresh = 0: GET .../addresses still asks libvirt"

write_conf "[inventory]
address_refresh = 1"
reload_daemon
check "address_refresh = 1 fills the cache again" wait_for 20 has_addresses vm-running

finish

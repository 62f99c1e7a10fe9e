#!/bin/sh
# test-hosts.sh: GET /service/hosts and /service/hosts/<host> (API.md
# section 3, issue 11 point 1).  Four test-driver hosts: kvm09 and kvm10
# (tests/data/node-kvm09.xml, node-kvm10.xml), kvm11 whose node file does
# not exist yet (down: down_since, last_error, nothing known), and "default"
# (libvirt's built-in test:///default, the one test node that reports its
# free memory).  kvm10's and kvm11's URIs carry credentials that must never
# be shown.  Then kvm11's node file appears and the host comes up by itself
# with its guests; and the guest lists honour the machine ACL.
#
# Not covered here: a host that was up going down and coming back (stale
# last-known guests, the close reason).  libvirt's test driver runs in the
# daemon's own process and its connection never closes: that needs a
# libvirtd, and tests/qemu/test-qemu-inventory.sh does it (a test-driver
# node served by libvirtd through a proxy of its socket that it stops).
. "$(dirname "$0")/functions.sh"

command -v jq >/dev/null 2>&1 || { echo "# jq not installed: skipped"; exit 77; }

K09="$abs_srcdir/tests/data/node-kvm09.xml"
K10="$abs_srcdir/tests/data/node-kvm10.xml"
K11="$T/kvm11.xml"
SECRET='S3cret-Zq7w'
ISO='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'

# names FILE: the domain names of a node file, sorted as strcmp does, as JSON.
names() {
    grep -o '<name>[^<]*</name>' "$1" | sed 's/<name>\(.*\)<\/name>/\1/' | LC_ALL=C sort |
        jq -R . | jq -cs .
}

# host_jq NAME FILTER EXPECTED DESCRIPTION: FILTER on the list's entry NAME.
host_jq() {
    expect_jq ".[] | select(.name == \"$1\") | $2" "$3" "$1: $4"
}

write_conf "$(printf '[host "kvm09"]\nuri = test://%s\n' "$K09")
$(printf '[host "kvm10"]\nuri = test://admin:%s@%s?keyfile=/root/%s.key&no_verify=1\n' \
    "$SECRET" "$K10" "$SECRET")
$(printf '[host "kvm11"]\nuri = test://bob:%s@%s?password=%s\n' "$SECRET" "$K11" "$SECRET")
$(printf '[host "default"]\nuri = test:///default\n')"
NODE=
start_daemon || exit 1

req GET /service/version
LIBVIRT=$(jq -r .libvirt "$T/body")
HOSTNAME_NOW=
if command -v virsh >/dev/null 2>&1; then
    HOSTNAME_NOW=$(virsh -c "test://$K09" hostname 2>/dev/null)
fi

req GET /service/hosts
expect_status 200 "GET /service/hosts"
check "it is JSON" [ "$(header Content-Type)" = application/json ]
expect_jq '[.[].name] | join(",")' kvm09,kvm10,kvm11,default "every host, in the configuration's order"
cp "$T/body" "$T/list.json"

host_jq kvm09 .state up "up"
host_jq kvm09 .uri "test://$K09" "its URI"
host_jq kvm09 '.guests | tojson' "$(names "$K09")" "guests: the node file's machines, sorted"
host_jq kvm09 .cpus 4 "cpus from the node file"
host_jq kvm09 .memory_kib 8388608 "memory_kib from the node file"
# The test driver cannot tell free memory for a node file: an estimate, the
# node's memory less web1's 1 GiB and 512 MiB each for twin and moved-a.
host_jq kvm09 '.free_memory_kib' $((8388608 - 1048576 - 2 * 524288)) "free memory: estimated"
host_jq kvm09 '.free_memory_source' estimate "and says it is an estimate"
host_jq kvm09 '.libvirt_version' "$LIBVIRT" "libvirt_version: the host's libvirt"
host_jq kvm09 '.libvirt_version | test("^[0-9]+\\.[0-9]+\\.[0-9]+$")' true "in x.y.z form"
host_jq kvm09 .hypervisor TEST "hypervisor: the driver's type"
host_jq kvm09 '.hypervisor_version | test("^[0-9]+\\.[0-9]+\\.[0-9]+$")' true \
    "hypervisor_version in x.y.z form"
if [ -n "$HOSTNAME_NOW" ]; then
    host_jq kvm09 .hostname "$HOSTNAME_NOW" "hostname: what libvirt says (virsh hostname)"
else
    host_jq kvm09 '.hostname | type' string "hostname is a string"
fi
host_jq kvm09 '[has("down_since"), has("last_error"), has("stale")] | any' false \
    "no down_since, last_error or stale while up"

host_jq kvm10 .state up "up, with credentials in its URI"
host_jq kvm10 .uri "test://$K10?no_verify=1" "the URI without userinfo or keyfile="
host_jq kvm10 '.guests | tojson' "$(names "$K10")" "guests"
host_jq kvm10 '[.cpus, .memory_kib] | tojson' '[4,8388608]' "cpus and memory_kib"

host_jq kvm11 .state down "down: its node file does not exist"
host_jq kvm11 .uri "test://$K11" "the URI without userinfo or password="
host_jq kvm11 '.guests | tojson' '[]' "no guests known"
host_jq kvm11 '[.cpus, .memory_kib, .free_memory_kib, .libvirt_version, .hypervisor,
    .hypervisor_version, .hostname] | map(. == null) | all' true "every value never known is null"
host_jq kvm11 ".down_since | test(\"$ISO\")" true "down_since in ISO-8601 UTC"
host_jq kvm11 '.last_error | type == "string" and length > 0' true "last_error: libvirt's words"
host_jq kvm11 ".last_error | contains(\"$K11\")" true "naming the missing file"
host_jq kvm11 .stale true "stale: true"

host_jq default .state up "libvirt's built-in test node"
host_jq default '.free_memory_kib | type == "number" and . > 0' true \
    "free_memory_kib where the driver reports it"
host_jq default '.free_memory_source' libvirt "and then its source is libvirt"
host_jq default '.guests | tojson' '["test"]' "its one guest"

check "no credential in any answer" sh -c '! grep -q "$1" "$2"' _ "$SECRET" "$T/list.json"
check "none in the daemon log" sh -c '! grep -q "$1" "$2"' _ "$SECRET" "$T/daemon.log"

# One host.
req GET /service/hosts/kvm09
expect_status 200 "GET /service/hosts/kvm09"
check "the same object as in the list" \
    sh -c '[ "$(jq -cS ".[0]" "$1")" = "$(jq -cS . "$2")" ]' _ "$T/list.json" "$T/body"
req GET /service/hosts/kvm09/
expect_jq .name kvm09 "a trailing slash is ignored"
req GET /service/hosts/kvm11
expect_jq '.state' down "GET /service/hosts/kvm11 is down"
check "without credentials" sh -c '! grep -q "$1" "$2"' _ "$SECRET" "$T/body"
req GET /service/hosts/nope
expect_error 404 "unknown host"
expect_jq .error "host 'nope' not found" "its message"
req GET '/service/hosts/%3Cb%3E%22x'
expect_error 404 "an unknown host with quotes and markup"
expect_jq .error "host '<b>\"x' not found" "quoted as it was asked"
req GET '/service/hosts/a%2Fb'
expect_error 404 "an encoded slash"
req GET '/service/hosts/%00'
check "an encoded NUL is refused with a JSON error ($STATUS)" \
    sh -c 'case $1 in 400|404) jq -e .error "$2" >/dev/null ;; *) false ;; esac' _ "$STATUS" "$T/body"
req GET '/service/hosts/kvm09/extra'
expect_error 404 "a path below a host"
req GET '/service/hosts?x=1'
expect_error 400 "an unknown query parameter"
req GET '/service/hosts/kvm09?host=kvm09'
expect_error 400 "no query parameter on one host"

# HEAD works wherever GET does; other methods are 405.
req HEAD /service/hosts -I
expect_status 200 "HEAD /service/hosts"
check "with no body" [ "$(curl -s -I -o /dev/null -w '%{size_download}' "$BASE/service/hosts")" = 0 ]
req HEAD /service/hosts/kvm10 -I
expect_status 200 "HEAD /service/hosts/kvm10"
req HEAD /service/hosts/nope -I
expect_status 404 "HEAD of an unknown host"
req POST /service/hosts
expect_error 405 "POST /service/hosts"
check "Allow: GET, HEAD" [ "$(header Allow)" = "GET, HEAD" ]
req DELETE /service/hosts/kvm09
expect_error 405 "DELETE /service/hosts/kvm09"

# The machine list still knows nothing of kvm11.
req GET '/service/machines?host=kvm11'
expect_jq length 0 "kvm11 has no machines yet"

# kvm11's node file appears: the host comes up by itself, with its guests.
# The monitor retries with a backoff of at most 10 s.
cp "$abs_srcdir/tests/data/node.xml" "$K11"
kvm11_up() {
    curl -s "$BASE/service/hosts/kvm11" | jq -e '.state == "up"' >/dev/null 2>&1
}
if wait_for 60 kvm11_up; then ok "kvm11 came up by itself"; else not_ok "kvm11 never came up"; fi
req GET /service/hosts/kvm11
expect_jq .state up "kvm11 is up"
expect_jq '.guests | tojson' "$(names "$K11")" "with its guests, sorted"
expect_jq '[.cpus, .memory_kib] | tojson' '[2,8388608]' "and the node's cpus and memory"
expect_jq .hypervisor TEST "and its hypervisor"
expect_jq '[has("down_since"), has("last_error"), has("stale")] | any' false \
    "no down_since, last_error or stale any more"
expect_jq .uri "test://$K11" "still without credentials"
req GET '/service/machines?host=kvm11'
expect_jq '[.[].name] | index("vm-running") != null' true "its machines are listed"
check "no credential in the log after the reconnection" \
    sh -c '! grep -q "$1" "$2"' _ "$SECRET" "$T/daemon.log"

# A machine ACL applies to the guest lists too: outside it a machine does
# not exist.
stop_daemon
write_conf "$(printf '[auth]\nanonymous_networks = 127.0.0.0/8\nanonymous_machines = web*, db*\n[host "kvm09"]\nuri = test://%s\n' "$K09")
$(printf '[host "kvm10"]\nuri = test://%s\n' "$K10")"
start_daemon || exit 1
req GET /service/hosts
expect_status 200 "GET /service/hosts with a machine ACL"
host_jq kvm09 '.guests | tojson' '["db1","web1"]' "only the machines of the ACL"
host_jq kvm10 '.guests | tojson' '[]' "none of kvm10's"
req GET /service/hosts/kvm09
expect_jq '.guests | tojson' '["db1","web1"]' "one host: the same"

finish

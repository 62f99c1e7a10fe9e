#!/bin/sh
# test-inventory.sh: issue 11 over two test-driver hosts that overlap on
# purpose (tests/data/README.md): every list filter, the owner and tags in
# list entries, metadata round trips with merge and null semantics, its
# limits (each refused change leaves the machine and its backups alone), who
# may write it, a backup before every change; and every start guard
# (vmcli's checks) through /service and Redfish, force=1, and concurrent
# starts of machines that share disks, which never both succeed (sent at
# the same instant: without the start lock most rounds start both).  Lists,
# the map, hosts and metadata reads make no libvirt call (the call counter
# of /metrics).  Last, a pool clone whose ISO a running machine on another
# host writes does not start until that machine stops.
. "$(dirname "$0")/functions.sh"

for tool in htdigest jq; do
    command -v "$tool" >/dev/null 2>&1 || { echo "# $tool not installed: skipped"; exit 77; }
done

K09="$abs_srcdir/tests/data/node-kvm09.xml"
K10="$abs_srcdir/tests/data/node-kvm10.xml"
PW_ADMIN='Pw-inv-admin-3k'
PW_OP='Pw-inv-op-7q'
PW_USER='Pw-inv-user-9z'
USERS="$T/users.digest"
htdigest_add "$USERS" admin "$PW_ADMIN"
htdigest_add "$USERS" webop "$PW_OP"
htdigest_add "$USERS" reader "$PW_USER"
chmod 600 "$USERS"
write_conf "[auth]
users_file = $USERS
[user \"admin\"]
role = admin
[user \"webop\"]
role = operator
machines = web*
[user \"reader\"]
role = user
[host \"kvm09\"]
uri = test://$K09
[host \"kvm10\"]
uri = test://$K10"
NODE=
start_daemon || exit 1

# a METHOD PATH [curl args]: as the admin; o: as the web* operator; u: as a user.
a() { req "$@" --digest -u "admin:$PW_ADMIN"; }
o() { req "$@" --digest -u "webop:$PW_OP"; }
u() { req "$@" --digest -u "reader:$PW_USER"; }

# patch PATH JSON [who]: PATCH a JSON body.
patch() { ${3:-a} PATCH "$1" -H 'Content-Type: application/json' --data-binary "$2"; }

# expect_list QUERY EXPECTED DESCRIPTION: the list's "name@host" entries, in order.
expect_list() {
    a GET "/service/machines$1"
    local got
    got=$(jq -r '[.[] | .name + "@" + .host] | join(",")' "$T/body" 2>/dev/null)
    if [ "$STATUS" = 200 ] && [ "$got" = "$2" ]; then ok "$3"; else not_ok "$3: got '$got' ($STATUS), expected '$2'"; fi
}

# expect_body JSON DESCRIPTION: the body equals JSON (keys sorted, compact).
expect_body() {
    local got want
    got=$(jq -S -c . "$T/body" 2>/dev/null)
    want=$(printf '%s' "$1" | jq -S -c .)
    if [ "$got" = "$want" ]; then ok "$2"; else not_ok "$2: got '$got', expected '$want'"; fi
}

backups() { a GET "/service/$1/backups${2:+?host=$2}"; jq length "$T/body"; }

# --- filters -------------------------------------------------------------------

expect_list '?tag=env:ci' 'app1@kvm10,iso-user@kvm09,web1@kvm09' "tag=env:ci on both hosts, sorted by name"
expect_list '?tag=env:ci&tag=role:web' 'web1@kvm09' "two tags: all must match"
expect_list '?tag=env' 'app1@kvm10,db1@kvm09,iso-user@kvm09,web1@kvm09' "tag=env: any value"
expect_list '?tag=env:prod&tag=env:ci' '' "two values of one key match nothing"
expect_list '?owner=bob' 'iso-user@kvm09,web1@kvm09' "owner=bob"
expect_list '?owner=bob&state=running' 'web1@kvm09' "owner and state together"
expect_list '?owner=nobody' '' "an owner nobody has: empty list"
expect_list '?host=kvm10&state=running' \
    'app1@kvm10,elsewhere@kvm10,moved-b@kvm10,rbd-run@kvm10,twin@kvm10' "host and state"
expect_list '?name=*-user' 'blk-user@kvm09,iso-user@kvm09,rbd-user@kvm09,vol-user@kvm09' "name glob"
expect_list '?name=twin' 'twin@kvm09,twin@kvm10' "one name on two hosts: sorted by host"
expect_list '?name=twin&tag=env:ci' '' "glob and tag together"
expect_list '?pool=ci' '' "pool=: no pools yet, an empty list"
a GET '/service/machines?name=web1'
expect_body '[{"id":"1","name":"web1","state":"running","uuid":"a0000000-0000-4000-8000-000000000901","host":"kvm09","owner":"bob","tags":{"env":"ci","role":"web"}}]' \
    "a list entry carries owner and tags"
a GET '/service/machines?name=olh'
expect_jq '.[0].owner' null "no owner: null"
expect_jq '.[0].tags | length' 0 "no tags: {}"
for q in 'colour=red' 'state=running&state=paused' 'tag=' 'tag=:ci' 'host=kvm11' 'state=asleep' \
    'owner=a&owner=b'; do
    a GET "/service/machines?$q"
    expect_error 400 "list ?$q"
done
o GET '/service/machines?tag=env:ci'
check "an operator's list holds only the machines of its globs" \
    test "$(jq -r '[.[].name] | join(",")' "$T/body")" = web1

# No libvirt call per request: lists with every filter, the map, the hosts
# and metadata are answered from the tables.  /metrics counts every libvirt
# operation by host and op; the background ones (the free memory polled
# every 5 s, the address cache) are left out of the sum.
calls() {
    a GET /metrics
    awk '/^virtmcd_libvirt_calls_total\{/ && !/op="(free_memory|addresses)"/ { n += $NF }
        END { print n + 0 }' "$T/body"
}
c0=$(calls)
for q in '' '?state=running' '?host=kvm10' '?owner=bob' '?tag=env:ci&tag=role:web' '?tag=env' \
    '?name=*-user' '?pool=ci' '?state=shut%20off&host=kvm09&name=b*' '?addresses=1'; do
    a GET "/service/machines$q"
    [ "$STATUS" = 200 ] || not_ok "list $q: $STATUS"
done
for p in /service/map /service/map/twin /api/v1/vmap/kvm10 /service/hosts /service/hosts/kvm09 \
    /service/web1/metadata /service/web1/state_controller/status; do
    a GET "$p"
done
check "seventeen reads made no libvirt call ($c0 before, $(calls) after)" test "$(calls)" = "$c0"
patch /service/web1/metadata '{"description":"counted"}'
check "while a PATCH does (the counter works: $c0 -> $(calls))" test "$(calls)" -gt "$c0"
patch /service/web1/metadata '{"description":"the CI web front end"}'

# --- metadata ------------------------------------------------------------------

a GET /service/web1/metadata
expect_status 200 "GET metadata"
expect_body '{"owner":"bob","description":"the CI web front end","tags":{"env":"ci","role":"web"}}' \
    "metadata as the node file defines it"
a GET /service/twin/metadata
expect_error 409 "metadata of a name on two hosts needs ?host="
a GET '/service/twin/metadata?host=kvm10'
expect_body '{"owner":null,"description":null,"tags":{}}' "metadata of a machine without any"
a GET /service/nosuch/metadata
expect_error 404 "metadata of an unknown machine"

n0=$(backups web1)
patch /service/web1/metadata '{"owner":"dave","description":"line 1\n<b> & \"q\" '"'"'s ü","tags":{"role":null,"team":"infra"}}'
expect_status 200 "PATCH merges"
expect_body '{"owner":"dave","description":"line 1\n<b> & \"q\" '"'"'s ü","tags":{"env":"ci","team":"infra"}}' \
    "the answer is the stored result: role deleted, team added, env kept"
a GET /service/web1/metadata
expect_body '{"owner":"dave","description":"line 1\n<b> & \"q\" '"'"'s ü","tags":{"env":"ci","team":"infra"}}' \
    "GET reads it back"
check "a backup was written before the change" test "$(backups web1)" = $((n0 + 1))
expect_jq '.[0].reason' metadata "the backup says why"
expect_list '?owner=dave' 'web1@kvm09' "the table is current: owner=dave finds it"
expect_list '?tag=team:infra' 'web1@kvm09' "and the new tag"
expect_list '?tag=role:web' '' "and the deleted tag is gone"
id=$(a GET /service/web1/backups; jq -r '.[0].id' "$T/body")
a GET "/service/web1/backups/$id"
check "the backup holds the definition before: owner bob" grep -q '<virtmcd:owner>bob</virtmcd:owner>' "$T/body"

patch /service/web1/metadata '{}'
expect_status 200 "an empty PATCH"
check "changes nothing and writes no backup" test "$(backups web1)" = $((n0 + 1))
patch /service/web1/metadata '{"owner":"dave","tags":{"env":"ci"}}'
check "a PATCH to the values it has writes no backup" test "$(backups web1)" = $((n0 + 1))
patch /service/web1/metadata '{"tags":null}'
expect_body '{"owner":"dave","description":"line 1\n<b> & \"q\" '"'"'s ü","tags":{}}' "tags: null deletes every tag, nothing else"
patch /service/web1/metadata '{"owner":null,"description":null}'
expect_body '{"owner":null,"description":null,"tags":{}}' "null deletes owner and description"
patch /service/web1/metadata '{"owner":"bob","tags":{"env":"ci","role":"web"},"description":"the CI web front end"}'
expect_status 200 "put it back"

# Limits: each refusal is a 400 that changes nothing.
before=$(a GET /service/web1/metadata; jq -S -c . "$T/body")
nb=$(backups web1)
long() { head -c "$1" /dev/zero | tr '\0' "${2:-x}"; }
tags65=$(i=0; printf '{"tags":{'; while [ $i -lt 65 ]; do printf '%s"k%d":"v"' "$([ $i -gt 0 ] && echo ,)" $i; i=$((i + 1)); done; printf '}}')
for bad in '{"owner":""}' "{\"owner\":\"$(long 256)\"}" "{\"description\":\"$(long 4097)\"}" \
    '{"tags":{"a b":"x"}}' "{\"tags\":{\"$(long 64 k)\":\"x\"}}" "{\"tags\":{\"k\":\"$(long 256)\"}}" \
    '{"tags":{"k:v":"x"}}' '{"owner":"a\u0001b"}' '{"owner":"a\u0000b"}' '{"owner":"a\nb"}' \
    '{"owner":5}' '{"tags":["a"]}' '{"tags":{"k":5}}' '{"tags":"x"}' '{"colour":"red"}' \
    '{"owner":"bob"' '[]' "$tags65"; do
    patch /service/web1/metadata "$bad"
    expect_error 400 "PATCH $(printf '%s' "$bad" | head -c 50)"
done
# The 400s say what is wrong and what is allowed.
patch /service/web1/metadata "{\"owner\":\"$(long 256)\"}"
expect_jq .error "owner must be 1..255 bytes of UTF-8 without control characters (null deletes it)" \
    "the owner's 400 gives the limit"
patch /service/web1/metadata "{\"description\":\"$(long 4097)\"}"
expect_jq '.error | test("description must be at most 4096 bytes")' true "the description's gives its limit"
patch /service/web1/metadata '{"tags":{"a b":"x"}}'
expect_jq .error "tag key 'a b' must be 1..63 characters of A-Z, a-z, 0-9, '_', '.' and '-'" \
    "a tag key's names the key and the characters allowed"
patch /service/web1/metadata "{\"tags\":{\"k\":\"$(long 256)\"}}"
expect_jq '.error | test("the value of tag .k. must be at most 255 bytes")' true "a tag value's names the tag"
patch /service/web1/metadata "$tags65"
expect_jq '.error | test("at most 64 tags")' true "65 tags: at most 64"
patch /service/web1/metadata "{\"owner\":\"$(long 255)\",\"description\":\"$(long 4096)\"}"
expect_status 200 "owner of 255 bytes and a description of 4096 are the limits, allowed"
patch /service/web1/metadata '{"owner":"bob","description":"the CI web front end"}'
a PATCH /service/web1/metadata -H 'Content-Type: text/plain' --data-binary '{"owner":"x"}'
expect_error 415 "PATCH with a body that is not JSON"
a PATCH /service/web1/metadata
expect_error 400 "PATCH without a body"
# 60 tags, then 5 more: the merge would hold 65.
tags60=$(i=0; printf '{"tags":{'; while [ $i -lt 60 ]; do printf '%s"t%d":"v"' "$([ $i -gt 0 ] && echo ,)" $i; i=$((i + 1)); done; printf '}}')
patch /service/db1/metadata "$tags60"
expect_jq '.tags | length' 61 "60 new tags next to env"
patch /service/db1/metadata '{"tags":{"x1":"v","x2":"v","x3":"v","x4":"v"}}'
expect_error 400 "a merge past 64 tags is refused"
# Deletions do not count: 60 deletions and 5 new tags in one PATCH leave 6.
swap=$(i=0; printf '{"tags":{'; while [ $i -lt 60 ]; do printf '"t%d":null,' $i; i=$((i + 1)); done
    printf '"n1":"v","n2":"v","n3":"v","n4":"v","n5":"v"}}')
patch /service/db1/metadata "$swap"
expect_status 200 "a PATCH of 65 tag changes, 60 of them deletions"
expect_jqc '.tags | keys' '["env","n1","n2","n3","n4","n5"]' "leaves env and the 5 new tags"
patch /service/db1/metadata '{"tags":null}'
patch /service/db1/metadata '{"tags":{"env":"prod"}}'
a GET /service/web1/metadata
check "after the refusals web1's metadata is as before" test "$(jq -S -c . "$T/body")" = "$before"
nb2=$(backups web1)
check "the refusals wrote no backup (one per accepted change only: $nb -> $nb2)" test "$nb2" = $((nb + 2))

# Who may write.
patch /service/web1/metadata '{"owner":"mallory"}' u
expect_error 403 "a user may read but not change metadata"
u GET /service/web1/metadata
expect_status 200 "a user reads metadata"
patch /service/web1/metadata '{"owner":"op"}' o
expect_status 200 "an operator changes a machine of its globs"
patch /service/db1/metadata '{"owner":"op"}' o
expect_error 404 "an operator does not see machines outside its globs"
a GET /service/db1/metadata
expect_jq .owner alice "and db1 kept its owner"
patch /service/web1/metadata '{"owner":"bob"}'

# A machine that is off keeps it when it starts; a running one when it stops.
patch '/service/olh/metadata' '{"owner":"olga","tags":{"env":"dev"}}'
a POST '/service/olh/state_controller/power_on'
expect_status 200 "olh starts"
a GET '/service/olh/metadata'
expect_body '{"owner":"olga","description":null,"tags":{"env":"dev"}}' "a started machine has the metadata of its definition"
patch '/service/olh/metadata' '{"tags":{"env":"test"}}'
a POST '/service/olh/state_controller/power_off'
a GET '/service/olh/metadata'
expect_body '{"owner":"olga","description":null,"tags":{"env":"test"}}' \
    "a change made while running is in the persistent definition too"

# --- start guards --------------------------------------------------------------

guard() { # guard PATH EXPECTED-REGEX DESCRIPTION
    a POST "$1"
    if [ "$STATUS" = 409 ] && jq -r .error "$T/body" | grep -Eq "$2"; then ok "$3 (409: $(jq -r .error "$T/body"))"
    else not_ok "$3: expected 409 matching /$2/"; fi
}
guard /service/db1/state_controller/power_on "disk /srv/img/shared.qcow2 .*'app1'.*'kvm10'" \
    "a writable disk in use on another host"
check "db1 stayed off" test "$(a GET /service/db1/state_controller/status; jq -r .state "$T/body")" = "shut off"
# Redfish's On is the same start, through the same operations layer.
a POST /redfish/v1/Systems/a0000000-0000-4000-8000-000000000902/Actions/ComputerSystem.Reset \
    -H 'Content-Type: application/json' --data-binary '{"ResetType": "On"}'
if [ "$STATUS" = 409 ] &&
    jq -r .error.message "$T/body" | grep -Eq "disk /srv/img/shared.qcow2 .*'app1'.*'kvm10'"; then
    ok "Redfish Reset On of db1 is refused too (409: $(jq -r .error.message "$T/body"))"
else
    not_ok "Redfish Reset On of db1: expected 409 naming the disk, app1 and kvm10"
fi
check "and db1 is still off" test "$(a GET /service/db1/state_controller/status; jq -r .state "$T/body")" = "shut off"
guard /service/db1/state_controller/power_cycle "shared.qcow2" "power_cycle from off is a start too"
guard /service/db1/state_controller/cyclepower "shared.qcow2" "and cyclepower"
guard /service/macclash/state_controller/power_on "MAC address 52:54:00:10:00:01 .*'app1'.*'kvm10'" \
    "a MAC address in use on another host"
guard '/service/elsewhere/state_controller/power_on?host=kvm09' "already running on host 'kvm10'" \
    "the same machine running on another host"
guard /service/rbd-user/state_controller/power_on "disk rbd:pool/img1 .*'rbd-run'" "a network disk in use"
guard /service/vol-user/state_controller/power_on "disk default/vol1.qcow2 .*'rbd-run'" "a storage volume in use"
guard /service/blk-user/state_controller/power_on "disk /dev/vg0/lv1 .*'rbd-run'" "a block device in use"
a POST /service/iso-user/state_controller/power_on
expect_status 200 "a read-only ISO that running machines share does not stop a start"

# Memory: the test driver cannot tell free memory, so the estimate is the
# node's 8 GiB less the <memory> of the active machines.
a GET /service/hosts/kvm09
used=$(a GET '/service/machines?host=kvm09'; jq -r '[.[] | select(.state == "running") | .name] | join(" ")' "$T/body")
a GET /service/hosts/kvm09
expect_jq .free_memory_source estimate "kvm09's free memory is an estimate"
expect_jq .free_memory_kib $((8388608 - 1048576 - 3 * 524288)) \
    "node memory less web1 (1 GiB) and twin, moved-a, iso-user (512 MiB each): $used"
guard /service/bigmem/state_controller/power_on \
    "host 'kvm09' has 5767168 KiB of memory free .*'bigmem' needs 16777216 KiB" "more memory than the host has free"
grep -q "start of 'db1' refused" "$T/daemon.log"
check "refusals are logged" test $? = 0

# The same UUID under another name, and the same name with another UUID.
a POST /service/moved-a/state_controller/power_off
guard /service/moved-a/state_controller/power_on \
    "machine 'moved-a' \\(UUID a0000000-0000-4000-8000-0000000009a0\\) is already running on host 'kvm10' as 'moved-b'" \
    "its UUID running on another host under another name"
a POST '/service/twin/state_controller/power_off?host=kvm09'
guard '/service/twin/state_controller/power_on?host=kvm09' \
    "a machine named 'twin' is already running on host 'kvm10'" "its name running on another host (another UUID)"
a POST '/service/moved-a/state_controller/power_on?force=1'
expect_status 200 "force=1 starts moved-a all the same"
a POST '/service/twin/state_controller/power_on?host=kvm09&force=1'
expect_status 200 "and twin on kvm09"

o POST '/service/web1/state_controller/power_off'
o POST '/service/web1/state_controller/power_on?force=1'
expect_error 403 "force=1 needs an admin"
a POST '/service/db1/state_controller/power_on?force=1'
expect_status 200 "an admin's force=1 skips the guards"
check "the skip is logged with who asked" grep -q "power_on on 'db1' by admin .*start guards skipped (force=1)" "$T/daemon.log"
a POST '/service/db1/state_controller/power_off'
a POST '/service/app1/state_controller/power_off'
a POST '/service/macclash/state_controller/power_on'
expect_status 200 "the guard reads the current state: with app1 off its MAC is free"
a POST '/service/app1/state_controller/power_on'
a POST '/service/app1/state_controller/power_on'
check "and now app1 may not start: macclash has its MAC ($STATUS)" test "$STATUS" = 409
a POST '/service/macclash/state_controller/power_off'
a POST '/service/app1/state_controller/power_on'
expect_status 200 "with macclash off again app1 starts"

# Machines sharing writable disks, all off, started at the same instant:
# rbd-run shares one disk with each of rbd-user, vol-user and blk-user
# (those three share nothing).  One connection each, the Digest challenge
# answered first, then every request sent at once past a barrier.  With
# the start lock, whoever is first wins: either rbd-run alone starts, or
# the three others do; and the machines running afterwards are exactly
# those that answered 200.  (Without the lock, most rounds start them all.)
cat > "$T/racer.py" <<'EOF'
import hashlib, http.client, os, re, sys, threading
host, port, user, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
paths = sys.argv[5:]
barrier = threading.Barrier(len(paths))
status = {}
def md5(s):
    return hashlib.md5(s.encode()).hexdigest()
def run(path):
    c = http.client.HTTPConnection(host, port, timeout=30)
    auth = ""
    try:
        c.request("POST", path)
        r = c.getresponse()
        r.read()
        f = dict(re.findall(r'(\w+)="?([^",]*)"?', r.getheader("WWW-Authenticate", "")))
        cn = os.urandom(8).hex()
        ha1 = md5("%s:%s:%s" % (user, f["realm"], pw))
        resp = md5("%s:%s:00000001:%s:auth:%s" % (ha1, f["nonce"], cn, md5("POST:" + path)))
        auth = ('Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=MD5, '
                'qop=auth, nc=00000001, cnonce="%s", response="%s"'
                % (user, f["realm"], f["nonce"], path, cn, resp))
        if "opaque" in f:
            auth += ', opaque="%s"' % f["opaque"]
    finally:
        barrier.wait()
    c.request("POST", path, headers={"Authorization": auth})
    r = c.getresponse()
    r.read()
    status[path] = r.status
threads = [threading.Thread(target=run, args=(p,)) for p in paths]
for t in threads:
    t.start()
for t in threads:
    t.join()
for p in paths:
    print(status.get(p, 0), p.split("/")[2])
EOF
RACERS="rbd-run rbd-user vol-user blk-user"
a POST '/service/rbd-run/state_controller/power_off'
bad=0
for round in $(seq 1 20); do
    python3 "$T/racer.py" 127.0.0.1 "$PORT" admin "$PW_ADMIN" \
        $(for m in $RACERS; do echo "/service/$m/state_controller/power_on"; done) > "$T/race"
    got=$(sort -k2 "$T/race" | tr '\n' ' ')
    won=$(awk '$1 == 200 {print $2}' "$T/race" | sort | tr '\n' ' ' | sed 's/ $//')
    a GET '/service/machines?state=running'
    running=$(jq -r --arg r "$RACERS" \
        '[.[].name | select(. as $n | $r | split(" ") | index($n))] | sort | join(" ")' "$T/body")
    case $got in
    "409 blk-user 200 rbd-run 409 rbd-user 409 vol-user " | \
        "200 blk-user 409 rbd-run 200 rbd-user 200 vol-user ") ;;
    *) bad=$((bad + 1)) ;;
    esac
    [ "$running" = "$won" ] || bad=$((bad + 1))
    echo "# round $round: $got; running: $running"
    for m in $RACERS; do a POST "/service/$m/state_controller/power_off"; done
done
check "twenty rounds of four simultaneous starts: never two sharing a disk, and the 200s are what runs" \
    test "$bad" = 0
a POST '/service/rbd-run/state_controller/power_on'

# [power] memory_guard = no: the memory check alone is off, after a reload.
printf '[power]\nmemory_guard = no\n' >> "$T/virtmcd.conf"
reload_daemon || not_ok "reload"
a POST /service/bigmem/state_controller/power_on
expect_status 200 "memory_guard = no lets bigmem start"
a POST /service/db1/state_controller/power_on
expect_error 409 "and the other guards still hold"

# --- a pool clone passes the guards too ---------------------------------------
# Pool "p" clones tmpl (tests/data/node-pools.xml), whose clones share its
# read-only ISO /srv/iso/tools.iso.  On another host, "holder" runs with that
# file as a writable disk: the clone is made, but its start is refused until
# holder stops.
stop_daemon
cat > "$T/holder.xml" <<'EOF'
<node>
  <cpu><mhz>3000</mhz><model>x86_64</model><active>2</active><nodes>1</nodes>
    <sockets>1</sockets><cores>2</cores><threads>1</threads></cpu>
  <memory>8388608</memory>
  <domain type="test">
    <name>holder</name>
    <uuid>a0000000-0000-4000-8000-00000000d001</uuid>
    <memory unit="MiB">64</memory>
    <vcpu>1</vcpu>
    <os><type arch="x86_64">hvm</type></os>
    <devices>
      <disk type="file" device="disk">
        <source file="/srv/iso/tools.iso"/>
        <target dev="vda" bus="virtio"/>
      </disk>
    </devices>
  </domain>
</node>
EOF
write_conf "[host \"pools\"]
uri = test://$abs_srcdir/tests/data/node-pools.xml
[host \"holder\"]
uri = test://$T/holder.xml
[pool \"p\"]
template = tmpl
host = pools
size = 1
prefix = g-"
start_daemon || exit 1
pool_count() { # pool_count KEY: that count of GET /service/pools/p
    curl -s "$BASE/service/pools/p" | jq -r ".$1" 2>/dev/null
}
refused() {
    grep -Eq "Pool 'p': cannot start 'g-p-[^']*' yet: disk /srv/iso/tools.iso of 'g-p-[^']*' is in use by 'holder' \(running\) on host 'holder'" "$T/daemon.log"
}
check "the clone's start is refused: holder writes the ISO it reads" wait_for 30 refused
req GET /service/machines?pool=p
expect_jq '[.[].state] | join(",")' "shut off" "the clone is defined and off"
check "the pool counts it pending, not ready" test "$(pool_count pending) $(pool_count ready)" = "1 0"
req POST /service/holder/state_controller/power_off
expect_status 200 "holder stops"
ready_now() { [ "$(pool_count ready)" = 1 ]; }
check "then the pool starts its clone by itself: ready" wait_for 30 ready_now
req GET /service/machines?pool=p
expect_jq '[.[].state] | join(",")' running "the clone runs"

finish

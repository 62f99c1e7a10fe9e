#!/bin/sh
# test-pools.sh: pools (API.md section 5) on libvirt's test driver, which
# has storage pools and volumes: clones of templates whose disks are
# volumes fill each pool to its size; a template disk that is no volume is
# a configuration error naming the disk; clones a previous daemon left
# (tests/data/node-pools.xml) are taken as they are (a ready one counts, a
# lease stays its owner's, an expired lease and a completed clone are
# removed, an orphan is reported and left alone); checkout is all or
# nothing, never gives one machine twice, and caps the lifetime; leases are
# their owner's and the admins': the owner is an operator on the machine
# even outside its globs, other operators only read it.  Every pool
# metadata write (state, checkout, lease, undo) backs the definition up
# first, and a backup that cannot be written fails the operation with
# nothing changed; a deleted clone's backup folder goes with it, other
# machines' folders stay.
. "$(dirname "$0")/functions.sh"

pool_test pool
CONF="$POOL_AUTH
$POOL_SMALL
[pool \"bad\"]
template = tmpl-bad
size = 1
[pool \"addr\"]
template = tmpl
size = 1
ready_check = address"
FULLCOPY="[pool \"fullcopy\"]
template = tmpl2
size = 1
clone = full"
write_conf "$CONF
$FULLCOPY"
# Backups a previous daemon made: of a completed clone it will delete, and
# of the template, which stays.
BK=$T/backups
DONE_UUID=a0000000-0000-4000-8000-00000000c104
OLD_UUID=a0000000-0000-4000-8000-00000000c103
TMPL_UUID=a0000000-0000-4000-8000-00000000c001
mkdir -p "$BK/$DONE_UUID" "$BK/$TMPL_UUID"
printf '<!-- virtmcd-backup reason=pool-state-completed -->\n<domain/>\n' \
    > "$BK/$DONE_UUID/ci-small-done01-20260101T000000.000000Z.xml"
printf '<!-- virtmcd-backup reason=pxeboot -->\n<domain/>\n' \
    > "$BK/$TMPL_UUID/tmpl-20260101T000000.000000Z.xml"
chmod -R go-rwx "$BK"
start_daemon || exit 1

a() { req_as admin "$@"; }
b() { req_as bob "$@"; }
c() { req_as carol "$@"; }
r() { req_as reader "$@"; }
J='Content-Type: application/json'

check "pool 'small' fills to its size" wait_for 60 ready_is small 2
check "pool 'fullcopy' fills to its size" wait_for 60 ready_is fullcopy 1
check "pool 'addr' fills once its clone has an address (ready_check = address)" \
    wait_for 60 ready_is addr 1

# ---- restart safety: what the previous daemon left ----
check "the expired lease is returned and its machine removed" wait_for 30 absent ci-small-old01
check "the completed clone is removed" wait_for 30 absent ci-small-done01
a GET /service/pools/small
expect_jq '[.members[] | select(.name == "ci-small-keep01") | .state] | join(",")' ready \
    "the ready clone left by a previous daemon counts as ready"
expect_jq '[.members[] | select(.state == "ready" or .state == "pending")] | length' 2 \
    "one clone was made next to it, not two"
expect_jq '[.members[] | select(.name == "ci-small-lease01") | .state + ":" + .owner] | join(",")' \
    running:bob "bob's lease survives the restart"
grep -q "Pool 'small': 'ci-small-old01' running -> completed (lease expired)" "$T/daemon.log"
check "the log says why the old lease ended" [ $? = 0 ]
check "the deleted clone's backup folder goes with it" wait_for 10 test ! -e "$BK/$DONE_UUID"
check "the expired clone's state change was backed up, and the backup removed with it" \
    wait_for 10 grep -q "Pool 'small': removed 1 backup of 'ci-small-old01' with it ($BK/$OLD_UUID)" "$T/daemon.log"
check "... its folder is gone" test ! -e "$BK/$OLD_UUID"
check "another machine's backups stay" test -f "$BK/$TMPL_UUID/tmpl-20260101T000000.000000Z.xml"

# ---- volumes a crash left between a clone's volumes and its definition ----
# node-pools.xml has one volume named as a clone's of pool 'small' that no
# machine has, and look-alikes that are in use or of other names.
LEFT="Pool 'small' on 'vm': deleted volume"
check "the first pass deletes a volume named as a clone's that no machine has, and says so" \
    wait_for 30 grep -qF "$LEFT /images/ci-small-0a1b2c-vda.qcow2, left by a clone never defined ('ci-small-0a1b2c')" "$T/daemon.log"
for v in ci-small-d00d00-vda.qcow2 ci-small-d00d01-vda.qcow2 ci-small-fade01-vda.qcow2 \
    ci-small-ba5e01-vda.qcow2 gone-0a1b2c-vda.qcow2 ci-small-0a1b2c-vda.qcow2.bak \
    ci-smaller-0a1b2c-vda.qcow2 user-overlay.qcow2 tmpl.qcow2; do
    check "... and keeps $v (a disk by path or by pool/volume, a clone's recorded volume, a backing file, another name)" \
        sh -c '! grep -q "deleted volume /images/$1[ ,]" "$2"' _ "$v" "$T/daemon.log"
done
check "... one volume deleted in all" [ "$(grep -c "deleted volume /images/" "$T/daemon.log")" = 1 ]

# ---- the list ----
a GET /service/pools
expect_status 200 "GET /service/pools"
expect_jq '[.[].name] | join(",")' small,bad,addr,fullcopy,gone "configured pools, then the orphan"
expect_jqc '.[0] | [.template, .host, .size, .ready, .pending]' '["tmpl","vm",2,2,0]' \
    "a pool entry: template, host, size, counts"
expect_jq '.[1].error' "template 'tmpl-bad': disk 'vdz' of the template (/var/lib/libvirt/images/loose.qcow2) is not a volume in a libvirt storage pool" \
    "a template disk that is no volume is an error naming the disk"
expect_jqc '.[4] | [.orphan, .template, .ready]' '[true,null,1]' "clones of an unconfigured pool are orphans"
a GET /service/gone-abc123
expect_jq .state running "the orphan is left alone"
a GET /metrics
check "/metrics: the pool gauges say what /service/pools says" \
    sh -c 'grep -qx "virtmcd_pool_ready{pool=\"small\"} 2" "$1" && grep -qx "virtmcd_pool_pending{pool=\"small\"} 0" "$1"' _ "$T/body"
a GET /service/pools/small
expect_jq '[.members[] | select(.state == "ready") | .name | startswith("ci-small-")] | all' true \
    "clone names are <prefix><pool>-<random>"
NEW=$(jq -r '[.members[] | select(.state == "ready" and .name != "ci-small-keep01")][0].name' "$T/body")
a GET "/service/$NEW"
expect_jq '.disks[0].source' "/images/$NEW-vda.qcow2" "a linked clone's disk is a new qcow2 volume in the template's storage pool"
expect_jq '[.disks[1].source, .interfaces[0].mac != "52:54:00:00:c0:01", .uuid != "a0000000-0000-4000-8000-00000000c001"] | join(",")' \
    "/srv/iso/tools.iso,true,true" "the read-only ISO is shared; MAC and UUID are the clone's own"
a GET /service/pools/fullcopy
FULL=$(jq -r '.members[0].name' "$T/body")
a GET "/service/$FULL"
expect_jq '.disks[0].source' "/images/$FULL-vda.img" "a full clone's disk is a copy in the template's format"
a GET /service/pools/nope
expect_error 404 "an unknown pool"
a GET /service/status
expect_jqc '[.ok, .capacity.current, .capacity.total, .queue.ready, .queue.running, .empty]' \
    '[false,4,5,4,1,["bad"]]' "GET /service/status"
a GET '/service/machines?pool=fullcopy'
expect_jqc '[.[].pool]' '["fullcopy"]' "/service/machines?pool= lists that pool's machines"

# ---- the template never starts ----
c POST /service/tmpl/state_controller/power_on
expect_error 409 "a pool's template does not start"
expect_jq .error "'tmpl' is the template of pool 'small': its clones' disks are backed by its own, so it is never started (force=1 overrides)" \
    "the refusal says why"

# ---- leases and rights (bob's fixture lease, outside bob's web* globs) ----
b GET /service/ci-small-lease01/lease
expect_status 200 "the owner reads the lease of a machine outside its globs"
expect_jqc '[.pool, .owner, .lifetime, .state, .expires]' '["small","bob",4,"running","2100-01-01T00:00:00Z"]' \
    "the lease's shape"
b GET '/service/machines?pool=small'
expect_jqc '[.[].name]' '["ci-small-lease01"]' "the owner sees its leased machine in the list, nothing else of the pool"
b POST /service/ci-small-lease01/state_controller/power_off
expect_status 200 "the owner may power-control its leased machine"
c GET /service/ci-small-lease01/lease
expect_error 403 "another operator may not read the lease"
c POST /service/ci-small-lease01/state_controller/power_on
expect_error 403 "another operator may not power-control a leased machine"
c GET /service/ci-small-lease01
expect_status 200 "... but may see it"
c POST /redfish/v1/Systems/a0000000-0000-4000-8000-00000000c102/Actions/ComputerSystem.Reset \
    -H "$J" -d '{"ResetType": "ForceOn"}'
check "... nor through Redfish (the operations layer refuses it)" [ "$STATUS" = 403 ]
c PATCH /redfish/v1/Systems/a0000000-0000-4000-8000-00000000c102 \
    -H "$J" -d '{"Boot": {"BootSourceOverrideMode": "UEFI"}}'
check "... nor switch its firmware (403)" [ "$STATUS" = 403 ]
r DELETE /service/ci-small-lease01/lease
expect_error 403 "a reader may not return it"
b GET /service/ci-small-keep01
expect_error 404 "a machine outside the globs and not leased stays invisible"
a GET /service/ci-small-lease01/lease
expect_status 200 "an admin reads any lease"
a GET /service/tmpl/lease
expect_error 404 "a machine outside every pool has no lease"
a GET /service/ci-small-keep01/lease
expect_error 404 "a ready clone has no lease"
c PUT /service/ci-small-lease01/lease -H "$J" -d '{"lifetime": 1}'
expect_error 403 "another operator may not change the lease"

# ---- checkout ----
b POST /service/pools/small/checkout -H "$J" -d '{"count": 3}'
expect_error 503 "more than is ready"
expect_jqc .empty '["small"]' "the 503 names the empty pool"
check "a failed checkout takes nothing" ready_is small 2
b POST /service/pools/checkout -H "$J" -d '{"small": 1, "fullcopy": 2}'
expect_jqc .empty '["fullcopy"]' "all or nothing across pools: 503 naming the short one"
check "... and takes nothing from the other" ready_is small 2
b POST /service/pools/nope/checkout
expect_error 404 "checkout of an unknown pool"
b POST /service/pools/small/checkout -H "$J" -d '{"count": 0}'
expect_error 400 "count 0"
b POST /service/pools/small/checkout -H "$J" -d '{"size": 1}'
expect_error 400 "an unknown key"
b POST /service/pools/checkout -H "$J" -d '{}'
expect_error 400 "a multi-pool checkout naming no pool"
r POST /service/pools/small/checkout
expect_error 403 "a reader may not check out"

b POST /service/pools/checkout -H "$J" -d '{"small": 1, "fullcopy": 1, "lifetime": 3, "tags": {"job": "42"}}'
expect_status 200 "bob checks out from two pools"
expect_jqc '[.machines[].pool] | sort' '["fullcopy","small"]' "one machine of each"
M1=$(jq -r '.machines[] | select(.pool == "small") | .name' "$T/body")
b GET "/service/$M1/metadata"
expect_jqc '[.owner, .tags.job]' '["bob","42"]' "the checking-out user becomes owner; tags are set"
a GET "/service/$M1/backups"
expect_jqc '[.[0:2][].reason]' '["pool-checkout","pool-state-ready"]' \
    "the checkout and the manager's pending -> ready were each backed up first"
ID=$(jq -r '.[0].id' "$T/body")
a GET "/service/$M1/backups/$ID"
check "the checkout's backup is the definition before it: ready, no owner, no tags" \
    sh -c 'grep -Eq "<([a-z]+:)?pool [^>]*state=\"ready\"" "$1" && ! grep -q "state=\"running\"" "$1" && ! grep -Eq "owner>|job" "$1" && grep -q "<name>$2</name>" "$1"' _ "$T/body" "$M1"
b GET "/service/$M1/lease"
expect_jq .lifetime 3 "the lifetime asked for"
CHECKOUT=$(jq -r .checkout "$T/body")
b PUT "/service/$M1/lease" -H "$J" -d '{"lifetime": 100}'
expect_status 200 "the owner extends the lease"
WANT=$(date -u -d "$CHECKOUT + 4 hours" +%Y-%m-%dT%H:%M:%SZ)
expect_jqc '[.lifetime, .expires]' "[4,\"$WANT\"]" "the lifetime is capped by max_lifetime, counted from checkout"
a GET "/service/$M1/backups"
expect_jq '.[0].reason' pool-lease "the lease change was backed up first"
b PUT "/service/$M1/lease" -H "$J" -d '{"lifetime": 0}'
expect_error 400 "lifetime 0"
b PUT "/service/$M1/lease" -H "$J" -d '{"lifetime": "x"}'
expect_error 400 "a lifetime that is no number"
b PUT "/service/$M1/lease" -H "$J" -d '{"lifetime": 1, "owner": "eve"}'
expect_error 400 "an unknown key in a lease"
check "the pool refills" wait_for 60 ready_is small 2

# Six checkouts at once of a pool with two ready machines (which the
# manager refills meanwhile): each gets a machine of its own or 503.
PIDS=
for i in 1 2 3 4 5 6; do
    curl -s -o "$T/co$i" -w '%{http_code}' --digest -u "carol:$PW_CAROL" -X POST -H "$J" \
        "$BASE/service/pools/small/checkout" > "$T/co$i.status" &
    PIDS="$PIDS $!"
done
# shellcheck disable=SC2086
wait $PIDS
OKS=$(cat "$T"/co?.status | tr -d '\n')
NAMES=$(for i in 1 2 3 4 5 6; do jq -r '.machines[]?.name' "$T/co$i"; done | sort)
N200=$(echo "$OKS" | grep -o 200 | wc -l)
N503=$(echo "$OKS" | grep -o 503 | wc -l)
if [ "$N200" -ge 2 ] && [ $((N200 + N503)) = 6 ] && [ "$(echo "$NAMES" | sort -u | wc -l)" = "$N200" ] &&
    [ "$(echo "$NAMES" | wc -l)" = "$N200" ]; then
    ok "concurrent checkouts never share a machine ($OKS)"
else
    not_ok "concurrent checkouts: statuses $OKS, machines $(echo $NAMES)"
fi
M2=$(echo "$NAMES" | head -n1)

# ---- return ----
uuid_of() { admin_jq "/service/$1" .uuid; }
U1=$(uuid_of "$M1")
U2=$(uuid_of "$M2")
check "the clone to return has backups" test -d "$BK/$U1"
c DELETE "/service/$M1/lease"
expect_error 403 "another operator may not return bob's machine"
b DELETE "/service/$M1/lease"
expect_status 202 "the owner returns its machine"
expect_jqc '[.name, .state]' "[\"$M1\",\"completed\"]" "the answer names the machine"
check "a returned machine is destroyed and undefined" wait_for 30 absent "$M1"
grep -q "Pool 'small': deleted '$M1' and its volumes" "$T/daemon.log"
check "its volume is deleted with it" [ $? = 0 ]
check "... and its backup folder" wait_for 10 test ! -e "$BK/$U1"
check "the backups of another clone, still checked out, stay" test -d "$BK/$U2"
check "the log says which backups went" \
    grep -Eq "Pool 'small': removed [0-9]+ backups? of '$M1' with it \($BK/$U1\)" "$T/daemon.log"
a DELETE "/service/$M2/lease"
expect_status 202 "an admin returns another user's machine"
check "the pool refills after returns" wait_for 60 ready_is small 2
a GET "/service/$M2/lease"
expect_error 404 "a returned machine has no lease"
check "its backups went with it" wait_for 10 test ! -e "$BK/$U2"

# ---- no backup, no change ----
# A regular file where a clone's backup folder goes: the backup fails.
block_backups() {
    mv "$BK/$1" "$T/saved-$1" 2>/dev/null
    echo "in the way" > "$BK/$1"
}
unblock_backups() {
    rm -f "$BK/$1"
    if [ -d "$T/saved-$1" ]; then mv "$T/saved-$1" "$BK/$1"; fi
}
meta_of() { admin_jq "/service/$1/metadata" tojson; }
# meta_kept NAME: NAME's metadata is still $AMETA.
meta_kept() { [ -n "$AMETA" ] && [ "$(meta_of "$1")" = "$AMETA" ]; }
# addr_member NAME: "state/owner" of NAME in pool 'addr'.
addr_member() {
    pool_jq addr "[.members[] | select(.name == \"$1\") | \"\\(.state)/\\(.owner)\"] | join(\",\")"
}
check "pool 'addr' is full" wait_for 60 ready_is addr 1
A1=$(pool_jq addr '.members[0].name')
AU=$(uuid_of "$A1")
AMETA=$(meta_of "$A1")
block_backups "$AU"
b POST /service/pools/addr/checkout
expect_error 500 "a checkout whose backup cannot be written fails"
expect_jq .error "checkout failed, nothing was checked out: cannot write the backup of '$A1' to $BK: Not a directory; nothing was changed" \
    "... and says why"
check "... and the clone's metadata is unchanged" meta_kept "$A1"
check "... it is still ready, with no owner" [ "$(addr_member "$A1")" = ready/null ]
a GET "/service/$A1/lease"
expect_error 404 "... and has no lease"
unblock_backups "$AU"

# All or nothing: pool 'addr' is written first (name order), then every
# ready clone of 'small' fails its backup: 'addr' goes back to ready.
SMALL_READY=$(pool_jq small '[.members[] | select(.state == "ready") | .name] | join(" ")')
SMALL_UUIDS=
for m in $SMALL_READY; do
    u=$(uuid_of "$m")
    SMALL_UUIDS="$SMALL_UUIDS $u"
    block_backups "$u"
done
b POST /service/pools/checkout -H "$J" -d '{"addr": 1, "small": 1}'
expect_error 500 "a checkout across pools fails when one backup cannot be written"
check "... the error names the machine and the backup" \
    sh -c 'jq -r .error "$1" | grep -Eqx "checkout failed, nothing was checked out: cannot write the backup of .ci-small-[0-9a-z]+. to $2: Not a directory; nothing was changed"' _ "$T/body" "$BK"
check "... the clone of 'addr' is ready again, with no owner" [ "$(addr_member "$A1")" = ready/null ]
check "... and its metadata as before" meta_kept "$A1"
a GET "/service/$A1/backups"
expect_jqc '[.[0:2][].reason]' '["pool-checkout-undo","pool-checkout"]' \
    "... its checkout and the undo were each backed up first"
for u in $SMALL_UUIDS; do unblock_backups "$u"; done
b POST /service/pools/addr/checkout
expect_status 200 "with its backup folder back, the checkout works"
expect_jq '.machines[0].name' "$A1" "... and takes that machine"
b GET "/service/$A1/lease"
LEASE=$(jq -c . "$T/body")
block_backups "$AU"
b PUT "/service/$A1/lease" -H "$J" -d '{"lifetime": 1}'
expect_error 500 "a lease change whose backup cannot be written fails"
b DELETE "/service/$A1/lease"
expect_error 500 "so does a return"
b GET "/service/$A1/lease"
check "... and the lease is as it was" [ "$(jq -c . "$T/body")" = "$LEASE" ]
unblock_backups "$AU"
b DELETE "/service/$A1/lease"
expect_status 202 "with its backup folder back, the return works"

# ---- a pool removed from the configuration: its clones are orphans ----
a GET /service/pools/fullcopy
FULLNOW=$(jq -r '[.members[].name] | join(" ")' "$T/body")
write_conf "$CONF"
check "SIGHUP without pool 'fullcopy'" reload_daemon
a GET /service/pools/fullcopy
expect_jqc '[.orphan, .template]' '[true,null]' "its clones are reported as orphans"
expect_jq '[.members[].name] | join(" ")' "$FULLNOW" "... and left alone"
a POST /service/pools/fullcopy/checkout
expect_error 404 "an unconfigured pool cannot be checked out"

finish

#!/bin/sh
# test-qemu-pools.sh: pools (API.md section 5) on a real libvirtd, with a
# directory storage pool and a small qcow2 template volume.  The pool fills
# to its size with running linked clones whose volumes are backed by the
# template's; a checkout of more than is ready fails and takes nothing;
# concurrent checkouts never share a machine; a checkout is backed up
# first; return and expiry remove domain, volume and backups; the pool
# refills; a restarted daemon finds the same pool and makes no new clones;
# the lease is its owner's and the admin's.
. "$(dirname "$0")/lib.sh"
qemu_init shared

requires htdigest jq

SPOOL="$PREFIX-pool"
SDIR="$IMAGES/$SPOOL"
TMPL="$PREFIX-tmpl"
pool_cleanup() {
    $VIRSH pool-destroy "$SPOOL" >/dev/null 2>&1
    $VIRSH pool-undefine "$SPOOL" >/dev/null 2>&1
    rm -rf "$SDIR"
}
trap 'qemu_cleanup; pool_cleanup' EXIT

$VIRSH pool-define-as "$SPOOL" dir --target "$SDIR" >/dev/null &&
    $VIRSH pool-build "$SPOOL" >/dev/null && $VIRSH pool-start "$SPOOL" >/dev/null &&
    $VIRSH vol-create-as "$SPOOL" tmpl.qcow2 4M --format qcow2 >/dev/null || {
    echo "# cannot make the storage pool"; exit 1; }
GUESTS="$GUESTS $TMPL"
cat > "$T/tmpl.xml" <<XML
<domain type='$DOMTYPE'>
  <name>$TMPL</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$SDIR/tmpl.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='user'><model type='virtio'/></interface>
    <serial type='pty'/>
  </devices>
</domain>
XML
$VIRSH define "$T/tmpl.xml" >/dev/null || { echo "# cannot define the template"; exit 1; }

# bob's globs (web*) match none of the guests: only his leases open them.
pool_users qpool
write_conf "$POOL_AUTH
[pool \"p\"]
template = $TMPL
size = 2
prefix = $PREFIX-
lifetime = 1
max_lifetime = 2"
start_daemon || exit 1

a() { req_as admin "$@"; }
b() { req_as bob "$@"; }
c() { req_as carol "$@"; }
J='Content-Type: application/json'
members() { pool_jq p '[.members[].name] | sort | join(" ")'; }
gone() { ! $VIRSH dominfo "$1" >/dev/null 2>&1; }

check "the pool fills to its size" wait_for 180 ready_is p 2
READY=$(pool_jq p '[.members[] | select(.state == "ready") | .name] | join(" ")')
for m in $READY; do
    expect_eq "$(domstate "$m")" running "$m runs"
    vol="$SDIR/$m-vda.qcow2"
    check "$m has its own volume in the storage pool" [ -f "$vol" ]
    check "$m's volume is an overlay backed by the template's" \
        sh -c "qemu-img info -U '$vol' | grep -qx 'backing file: $SDIR/tmpl.qcow2'"
    check "$m has libvirt's MAC, not the template's" \
        sh -c "$VIRSH domiflist '$m' | grep -q '52:54:00'"
done
expect_eq "$(domstate "$TMPL")" "shut off" "the template never started"

# ---- checkout ----
b POST /service/pools/p/checkout -H "$J" -d '{"count": 3}'
expect_error 503 "a checkout of more than is ready"
check "takes nothing" ready_is p 2

PIDS=
for i in 1 2 3 4; do
    curl -s -o "$T/co$i" -w '%{http_code}' --digest -u "bob:$PW_BOB" -X POST \
        "$BASE/service/pools/p/checkout" > "$T/co$i.status" &
    PIDS="$PIDS $!"
done
# shellcheck disable=SC2086
wait $PIDS
OKS=$(cat "$T"/co?.status | tr -d '\n')
NAMES=$(for i in 1 2 3 4; do jq -r '.machines[]?.name' "$T/co$i"; done | sort)
N200=$(echo "$OKS" | grep -o 200 | wc -l)
if [ "$N200" -ge 2 ] && [ "$(echo "$NAMES" | sort -u | wc -l)" = "$N200" ] &&
    [ "$(echo "$NAMES" | wc -l)" = "$N200" ]; then
    ok "concurrent checkouts never share a machine ($OKS)"
else
    not_ok "concurrent checkouts: statuses $OKS, machines $(echo $NAMES)"
fi
M1=$(echo "$NAMES" | sed -n 1p)
M2=$(echo "$NAMES" | sed -n 2p)
check "bob's checkout is recorded in libvirt" \
    sh -c "$VIRSH dumpxml --inactive '$M1' | grep -q '<virtmcd:owner>bob</virtmcd:owner>'"
a GET "/service/$M1/backups"
expect_jq '.[0].reason' pool-checkout "the checkout backed the definition up first"
a GET "/service/$M1/backups/$(jq -r '.[0].id' "$T/body")"
check "... as it was before: ready, no owner" \
    sh -c 'grep -q "state=\"ready\"" "$1" && ! grep -q "owner>" "$1"' _ "$T/body"
U1=$($VIRSH domuuid "$M1")
U2=$($VIRSH domuuid "$M2")
check "both checked-out clones have backup folders" test -d "$T/backups/$U1" -a -d "$T/backups/$U2"

# ---- rights ----
b GET "/service/$M1/lease"
expect_status 200 "the owner reads its lease, outside its globs"
c GET "/service/$M1/lease"
expect_error 403 "another operator may not"
c POST "/service/$M1/state_controller/power_off"
expect_error 403 "another operator may not power it off"
a GET "/service/$M1/lease"
expect_status 200 "the admin may"
b POST "/service/$M1/state_controller/reboot"
expect_status 200 "the owner may reboot it"

# ---- return ----
b DELETE "/service/$M1/lease"
expect_status 202 "the owner returns it"
check "the returned machine is undefined" wait_for 60 gone "$M1"
check "its volume is deleted" [ ! -e "$SDIR/$M1-vda.qcow2" ]
check "the template's volume stays" [ -f "$SDIR/tmpl.qcow2" ]
check "its backups are removed with it" wait_for 10 test ! -e "$T/backups/$U1"
check "the other clone's backups stay" test -d "$T/backups/$U2"

# ---- expiry: the lease's end moved into the past behind virtmcd's back ----
for where in --config --live; do
    x=$($VIRSH metadata "$M2" http://virtmcd.org/xmlns/domain/1.0 $where |
        sed 's/expires="[0-9]*"/expires="1000"/')
    $VIRSH metadata "$M2" http://virtmcd.org/xmlns/domain/1.0 $where --key virtmcd --set "$x" >/dev/null
done
check "an expired lease's machine is undefined by the reaper" wait_for 60 gone "$M2"
check "and its volume deleted" [ ! -e "$SDIR/$M2-vda.qcow2" ]
check "and its backups" wait_for 10 test ! -e "$T/backups/$U2"

# ---- refill, then restart ----
check "the pool refills" wait_for 180 ready_is p 2
b POST /service/pools/p/checkout
expect_status 200 "one more checkout"
M3=$(jq -r '.machines[0].name' "$T/body")
check "the pool refills again" wait_for 180 ready_is p 2
BEFORE=$(members)
stop_daemon
start_daemon || exit 1
check "a restarted daemon's first pass finds the pool full" \
    wait_for 60 grep -q "Pool 'p' on '.*': first pass: 2 ready, 0 pending, 1 running; 0 clones made" "$T/daemon.log"
expect_eq "$(members)" "$BEFORE" "the same pool, no new clones"
b GET "/service/$M3/lease"
expect_jq .owner bob "the lease survived the restart"
a DELETE "/service/$M3/lease"
expect_status 202 "the admin returns bob's machine"
check "it is undefined" wait_for 60 gone "$M3"

finish

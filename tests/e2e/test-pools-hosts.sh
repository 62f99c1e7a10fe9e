#!/bin/sh
# test-pools-hosts.sh: pools on several hosts (API.md section 12).  Three
# [host] sections over libvirt's test driver: east and west
# (tests/data/node-pools-east.xml, node-pools-west.xml), each with a
# template named tmpl and a pool of it, and dead, whose node file does not
# exist (a host that is down), with a pool of its own.  Clones are made on
# their pool's host from that host's template and storage pool; the list
# shows each pool with its host, orphans per pool and host; checkout takes
# from the pool's host, and all or nothing when the dead host's pool is
# named; returning a clone deletes it on its host only; the volume sweep
# of a pool looks only at its own host; the dead host breaks nothing.
. "$(dirname "$0")/functions.sh"

requires htdigest jq
pool_users hosts
EAST="$abs_srcdir/tests/data/node-pools-east.xml"
WEST="$abs_srcdir/tests/data/node-pools-west.xml"
write_conf "$POOL_AUTH
[host \"east\"]
uri = test://$EAST
[host \"west\"]
uri = test://$WEST
[host \"dead\"]
uri = test://$T/no-such-node.xml
[pool \"alpha\"]
template = tmpl
host = east
size = 2
[pool \"beta\"]
template = tmpl
host = west
size = 1
[pool \"gamma\"]
template = tmpl
host = dead
size = 1"
NODE=
start_daemon || exit 1

a() { req_as admin "$@"; }
b() { req_as bob "$@"; }
J='Content-Type: application/json'
# on_host NAME HOST: GET /service/NAME?host=HOST answers 200 (the admin).
on_host() {
    [ "$(curl -s -g -o /dev/null -w '%{http_code}' --digest -u "admin:$PW_ADMIN" \
        "$BASE/service/$1?host=$2")" = 200 ]
}
# members POOL: the names of the pool's members, one a line.
members() { pool_jq "$1" '.members[].name'; }

check "pool 'alpha' fills on east" wait_for 60 ready_is alpha 2
check "pool 'beta' fills on west" wait_for 60 ready_is beta 1

a GET /service/hosts
expect_jq '[.[] | "\(.name):\(.state)"] | join(",")' east:up,west:up,dead:down \
    "east and west are up, dead is down"

# ---- the list: each pool with its host; orphans per pool and host ----
a GET /service/pools
expect_status 200 "GET /service/pools with a host down"
expect_jqc '[.[] | [.name, .host, .orphan // false]]' \
    '[["alpha","east",false],["beta","west",false],["gamma","dead",false],["gone","east",true],["alpha","west",true],["gone","west",true]]' \
    "configured pools with their hosts, then orphans, one per pool and host"
expect_jqc '[.[2] | .ready, .pending, .running]' '[0,0,0]' "the dead host's pool has nothing"
expect_jqc '[.[3:][] | .ready]' '[1,1,1]' "each orphan entry counts its own host's clone"

# only_on POOL HOST OTHER N: the pool's N members are on HOST, not on OTHER.
only_on() {
    local n=0 m
    for m in $(members "$1"); do
        on_host "$m" "$2" || return 1
        ! on_host "$m" "$3" || return 1
        n=$((n + 1))
    done
    [ "$n" = "$4" ]
}
check "alpha's clones are on east" only_on alpha east west 2
check "beta's clone is on west" only_on beta west east 1
A1=$(members alpha | head -n1)
B1=$(members beta | head -n1)
a GET "/service/$A1?host=east"
expect_jq '.disks[0].source' "/images-east/$A1-vda.qcow2" "an alpha clone's volume is in east's storage pool"
a GET "/service/$B1?host=west"
expect_jq '.disks[0].source' "/images-west/$B1-vda.qcow2" "beta's clone's volume is in west's storage pool"
a GET /service/alpha-f0f0f0?host=west
expect_jq .state running "the clone of alpha on west (not alpha's host) is left alone"

# The template guard is per host: each tmpl is a template of its own pool.
a POST '/service/tmpl/state_controller/power_on?host=west'
expect_error 409 "west's tmpl does not start"
expect_jq .error "'tmpl' is the template of pool 'beta': its clones' disks are backed by its own, so it is never started (force=1 overrides)" \
    "... as beta's template"

# ---- the volume sweep looks at the pool's own host ----
check "alpha's sweep deletes the volume a crash left on east" \
    wait_for 30 grep -qF "Pool 'alpha' on 'east': deleted volume /images-east/alpha-0a1b2c-vda.qcow2, left by a clone never defined ('alpha-0a1b2c')" "$T/daemon.log"
check "... and not the one of the same name on west, which is not alpha's host" \
    sh -c '! grep -q "on .west.: deleted volume" "$1"' _ "$T/daemon.log"

# ---- checkout: from the pool's host; the dead host's pool is empty ----
b POST /service/pools/gamma/checkout
expect_error 503 "the dead host's pool has no ready machine"
expect_jqc .empty '["gamma"]' "... and is named"
b POST /service/pools/checkout -H "$J" -d '{"beta": 1, "gamma": 1}'
expect_error 503 "all or nothing with the dead host's pool"
expect_jqc .empty '["gamma"]' "... naming only it"
check "... and nothing is taken from west" ready_is beta 1

b POST /service/pools/alpha/checkout
expect_status 200 "checkout from alpha"
expect_jqc '[.machines[] | [.pool, .host]]' '[["alpha","east"]]' "the machine is east's"
CA=$(jq -r '.machines[0].name' "$T/body")
b POST /service/pools/checkout -H "$J" -d '{"alpha": 1, "beta": 1}'
expect_status 200 "checkout across the pools of two hosts"
expect_jqc '[.machines[] | [.pool, .host]] | sort' '[["alpha","east"],["beta","west"]]' \
    "one machine of each, each from its pool's host"
CB=$(jq -r '.machines[] | select(.pool == "beta") | .name' "$T/body")
CA2=$(jq -r '.machines[] | select(.pool == "alpha") | .name' "$T/body")
check "the machines are different" [ "$CA" != "$CA2" ]
b GET "/service/$CB/lease"
expect_jqc '[.pool, .owner, .state]' '["beta","bob","running"]' "bob's lease of the west machine"

# ---- return: the clone is deleted on its host ----
b DELETE "/service/$CB/lease"
expect_status 202 "bob returns the west machine"
not_on() { ! on_host "$1" "$2"; }
check "it is deleted on west" wait_for 30 not_on "$CB" west
check "... the log says so" wait_for 10 grep -qF "Pool 'beta': deleted '$CB' and its volumes" "$T/daemon.log"
check "... its backups are kept while a host that might have its UUID is down" \
    grep -qF "Pool 'beta': backups of '$CB' kept in" "$T/daemon.log"
check "beta refills on west" wait_for 60 ready_is beta 1
check "east's machines stay" on_host "$CA" east
check "... both" on_host "$CA2" east
b DELETE "/service/$CA/lease"
expect_status 202 "bob returns an east machine"
check "it is deleted on east" wait_for 30 not_on "$CA" east
check "alpha refills on east" wait_for 60 ready_is alpha 2
a GET /service/alpha-f0f0f0?host=west
expect_status 200 "the orphan clone of alpha on west is still there"

# ---- the dead host breaks nothing ----
a GET /service/pools/gamma
expect_jqc '[.host, .size, .ready, .pending]' '["dead",1,0,0]' "gamma: its host, nothing made"
a GET /service/status
expect_status 200 "GET /service/status with a host down"
expect_jqc .empty '["gamma"]' "... names the dead host's pool as empty"
check "no clone was tried on the dead host" sh -c '! grep -q "Pool .gamma.: .*defined" "$1"' _ "$T/daemon.log"

finish

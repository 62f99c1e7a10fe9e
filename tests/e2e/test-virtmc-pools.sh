#!/bin/sh
# test-virtmc-pools.sh: virtmc(1)'s pool commands (pools, checkout, lease,
# return) against the real daemon on the test driver, with the pools of
# test-pools.sh (tests/data/node-pools.xml): clones are really made there.
# checkout of 1 and of 2 prints the names, and the server agrees they are
# the caller's; asking for more than is ready is exit 1 with the server's
# error and takes nothing; lease shows owner and expiry, --extend moves the
# expiry by whole hours past the current end (capped by the pool, with a
# warning); return makes the machine go away; another operator cannot
# return my machine (exit 1, the server's 403); the pools table and one
# pool's members; --json is the server's answer itself; usage errors are 2.
. "$(dirname "$0")/functions.sh"

pool_test vp
: "${VIRTMC:=${abs_builddir:-$abs_srcdir}/virtmc}"
[ -x "$VIRTMC" ] || { echo "# $VIRTMC is not built"; exit 1; }

unset VIRTMC_URL VIRTMC_USER VIRTMC_PASSWORD VIRTMC_CONFIG VIRTMC_CACERT XDG_CONFIG_HOME NO_COLOR
HOME="$T/home"
export HOME
mkdir -p "$HOME"

write_conf "$POOL_AUTH
$POOL_SMALL
[pool \"bad\"]
template = tmpl-bad
size = 1"
start_daemon || exit 1
VIRTMC_URL=$BASE
export VIRTMC_URL

# as USER RC DESC ARGS...: virtmc as USER; stdout in $T/out, stderr in
# $T/err; the exit status must be RC.
as() {
    local user=$1 want=$2 desc=$3
    shift 3
    VIRTMC_USER=$user VIRTMC_PASSWORD=$(pw_of "$user") "$VIRTMC" "$@" > "$T/out" 2> "$T/err"
    RC=$?
    if [ "$RC" = "$want" ]; then
        ok "$desc (exit $want)"
    else
        not_ok "$desc: exit $RC, expected $want"
        sed 's/^/#   out: /' "$T/out" | head -n 10
        sed 's/^/#   err: /' "$T/err" | head -n 10
    fi
}

# same_json USER PATH DESC: $T/out is the JSON the server gives USER for PATH.
same_json() {
    local want got
    want=$(curl -s -g --digest -u "$1:$(pw_of "$1")" "$BASE$2" | jq -S -c .)
    got=$(jq -S -c . "$T/out" 2>/dev/null)
    if [ -n "$want" ] && [ "$got" = "$want" ]; then
        ok "$3"
    else
        not_ok "$3"
        echo "#   expected $want"
        echo "#   got      $got"
    fi
}

out_jq() {
    local got
    got=$(jq -r "$1" "$T/out" 2>/dev/null)
    if [ "$got" = "$2" ]; then ok "$3"; else not_ok "$3: $1 is '$got', expected '$2'"; fi
}

# gone NAME: the machine no longer exists (virtmc status is refused).
gone() {
    ! VIRTMC_USER=admin VIRTMC_PASSWORD=$PW_ADMIN "$VIRTMC" status "$1" >/dev/null 2>&1
}
# expires_of NAME: the lease's end as Unix time.
expires_of() { admin_jq "/service/$1/lease" '.expires | fromdateiso8601'; }

check "pool 'small' fills to its size" wait_for 90 ready_is small 2

# ---- help and usage (2, nothing sent) ----
for c in pools checkout lease return; do
    as bob 0 "$c --help" "$c" --help
    check "... shows its usage and --json" sh -c 'grep -q "^Usage: virtmc $2" "$1" && grep -q -- "--json" "$1"' _ "$T/out" "$c"
done
as bob 0 "--help" --help
check "--help lists the pool commands" sh -c 'for c in pools checkout lease return; do grep -q "^  $c " "$1" || exit 1; done' _ "$T/out"
as bob 2 "checkout without a pool" checkout
as bob 2 "checkout of 0 machines" checkout small 0
as bob 2 "checkout of 101 machines" checkout small 101
as bob 2 "checkout COUNT that is no number" checkout small two
as bob 2 "--lifetime that is no whole number of hours" checkout small --lifetime 1.5
as bob 2 "--lifetime 0" checkout small --lifetime 0
as bob 2 "--extend that is negative" lease ci-x --extend -1
as bob 2 "--extend is not an option of checkout" checkout small --extend 1
as bob 2 "return without a name" return
check "usage errors took nothing" ready_is small 2

# ---- the pools table ----
as bob 0 "pools" pools
out_is() {
    if [ "$(cat "$T/out")" = "$1" ]; then ok "$2"; else
        not_ok "$2"
        printf '%s\n' "$1" | sed 's/^/#   want: /'
        sed 's/^/#   got:  /' "$T/out"
    fi
}
out_is "NAME           TEMPLATE  HOST  SIZE  READY  PENDING  RUNNING
small          tmpl      vm    2     2      0        1
bad            tmpl-bad  vm    1     0      0        0
gone (orphan)  -         vm    0     1      0        0
error: pool bad: template 'tmpl-bad': disk 'vdz' of the template (/var/lib/libvirt/images/loose.qcow2) is not a volume in a libvirt storage pool" \
    "pools: aligned columns, the orphan marked, the broken pool's error after the table"
as bob 0 "pools -q" pools -q
out_is "small
bad
gone" "pools -q: the names, one a line"
as bob 0 "pools --json" pools --json
same_json bob /service/pools "pools --json is GET /service/pools"
as bob 0 "pools small" pools small
check "pools small: the pool's counts" sh -c 'grep -qx "template: *tmpl" "$1" && grep -qx "ready: *2" "$1" && grep -qx "size: *2" "$1"' _ "$T/out"
check "pools small: a member row: name, state, machine state" grep -Eq '^ci-small-keep01 +ready +running ' "$T/out"
check "pools small: bob's lease with owner and expiry" grep -Eq '^ci-small-lease01 +running +running +[0-9T:Z-]+ +bob +2100-01-01T00:00:00Z$' "$T/out"
as bob 0 "pools small -q" pools small -q
check "pools small -q: member names only" sh -c '[ "$(wc -l < "$1")" -eq 3 ] && grep -qx ci-small-keep01 "$1" && ! grep -q " " "$1"' _ "$T/out"
as bob 0 "pools small --json" pools small --json
same_json bob /service/pools/small "pools small --json is GET /service/pools/small"
as bob 1 "pools of an unknown pool" pools nope
check "... the server's error on stderr" grep -q "^virtmc: .*nope" "$T/err"

# ---- checkout ----
as bob 0 "checkout 1" checkout small
check "checkout prints one name" sh -c '[ "$(wc -l < "$1")" -eq 1 ] && grep -Eqx "ci-small-[0-9a-z]+" "$1"' _ "$T/out"
M1=$(cat "$T/out")
req_as admin GET "/service/$M1/lease"
expect_jq '"\(.owner) \(.state) \(.pool) \(.lifetime)"' "bob running small 2" \
    "the server says the machine is bob's, for the pool's lifetime"
check "the pool refills" wait_for 90 ready_is small 2
as bob 0 "checkout 2 --lifetime 1" checkout small 2 --lifetime 1
# The oldest ready machines go first: the fixture's ci-small-keep01 among them.
check "checkout 2 prints two names" sh -c '[ "$(wc -l < "$1")" -eq 2 ] && [ "$(grep -Ecx "ci-small-[0-9a-z]+" "$1")" -eq 2 ]' _ "$T/out"
M2=$(sed -n 1p "$T/out")
M3=$(sed -n 2p "$T/out")
check "... two different machines, not the first" sh -c '[ "$1" != "$2" ] && [ "$1" != "$3" ] && [ "$2" != "$3" ]' _ "$M1" "$M2" "$M3"
req_as admin GET "/service/$M2/lease"
expect_jq '"\(.owner) \(.lifetime)"' "bob 1" "--lifetime 1 is the lease's lifetime"
check "the pool refills again" wait_for 90 ready_is small 2
as bob 1 "checkout of more than is ready" checkout small 3
check "... nothing on stdout" [ ! -s "$T/out" ]
check "... the server's 503 error on stderr" grep -qx "virtmc: pool 'small' has not enough ready machines; nothing was checked out" "$T/err"
check "... and nothing was taken" ready_is small 2
req_as admin GET /service/pools/small
expect_jq '[.members[] | select(.state == "running")] | length' 4 "still 4 running: the fixture's lease and mine"
as bob 0 "checkout --json" checkout small --json
out_jq '.machines | length' 1 "checkout --json is the server's answer: one machine"
out_jq '.machines[0] | "\(.pool) \(.name | startswith("ci-small-")) \(.expires | test("Z$"))"' "small true true" \
    "... with pool, name and expiry"
M4=$(jq -r '.machines[0].name' "$T/out")
as carol 1 "carol cannot check out more than is ready either" checkout small 5

# ---- lease ----
as bob 0 "lease" lease "$M2"
check "lease shows the owner" grep -qx "owner: *bob" "$T/out"
check "lease shows the pool and the state" sh -c 'grep -qx "pool: *small" "$1" && grep -qx "state: *running" "$1"' _ "$T/out"
E2=$(expires_of "$M2")
check "lease shows the expiry the server has" grep -qx "expires: *$(date -u -d "@$E2" +%Y-%m-%dT%H:%M:%SZ)" "$T/out"
check "lease shows the lifetime" grep -qx "lifetime: *1 h" "$T/out"
as bob 0 "lease --json" lease "$M2" --json
same_json bob "/service/$M2/lease" "lease --json is GET .../lease"
as bob 0 "lease --extend 2" lease "$M2" --extend 2
E2b=$(expires_of "$M2")
check "--extend 2 moves the expiry two hours later" [ "$E2b" = $((E2 + 7200)) ]
check "... and prints the new lease" grep -qx "lifetime: *3 h" "$T/out"
check "... without a warning" [ ! -s "$T/err" ]
as bob 0 "lease --extend past max_lifetime" lease "$M2" --extend 5
E2c=$(expires_of "$M2")
check "... is capped at the pool's max_lifetime (4 h from checkout)" [ "$E2c" = $((E2 + 3 * 3600)) ]
check "... and says so on stderr" grep -q "^virtmc: warning: $M2: the pool allows 4 hours from checkout, not 8" "$T/err"
as bob 0 "lease --extend 1 --json" lease "$M1" --extend 1 --json
out_jq .lifetime 3 "--json: the PUT's answer, lifetime 2 + 1"
same_json bob "/service/$M1/lease" "... which is the lease the server now has"
as carol 1 "carol cannot read bob's lease" lease "$M1"
as carol 1 "carol cannot extend bob's lease" lease "$M1" --extend 1
req_as admin GET "/service/$M1/lease"
expect_jq .lifetime 3 "... and it did not change"
READY=$(pool_jq small '[.members[] | select(.state == "ready")][0].name')
as admin 1 "lease of a ready clone, not checked out" lease "$READY"
check "... the server's 404 error on stderr" grep -q "^virtmc: " "$T/err"
as admin 1 "lease of a template" lease tmpl

# ---- return ----
as carol 1 "carol cannot return bob's machine" return "$M1"
ERR=$(cat "$T/err")
req_as carol DELETE "/service/$M1/lease"
expect_status 403 "... the server refuses carol"
check "... and virtmc printed the server's 403 error" [ "$ERR" = "virtmc: $(jq -r .error "$T/body")" ]
req_as admin GET "/service/$M1/lease"
expect_jq .owner bob "... and the machine is still bob's"
as bob 0 "return" return "$M1"
out_is "$M1: returned, now completed" "return says what the server did"
check "the returned machine goes away" wait_for 60 gone "$M1"
as bob 0 "return --json" return "$M2" --json
out_jq '"\(.name) \(.state)"' "$M2 completed" "return --json is the server's answer"
check "... and that one goes away too" wait_for 60 gone "$M2"
as bob 1 "returning it again" return "$M1"
as admin 0 "an admin may return anyone's machine" return "$M3"
check "... which goes away" wait_for 60 gone "$M3"
as bob 0 "return the last one" return "$M4"
full_again() { [ "$(pool_jq small '"\(.ready)/\(.pending)/\(.running)"')" = 2/0/1 ]; }
check "the pool is full again, with only the fixture's lease running" wait_for 90 full_again

# ---- the bash completion: pool names from the server ----
COMP="$abs_srcdir/data/bash-completion/virtmc"
if command -v bash >/dev/null 2>&1; then
    complete_words() {
        VIRTMC_USER=bob VIRTMC_PASSWORD=$PW_BOB PATH="$(dirname "$VIRTMC"):$PATH" bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _virtmc; printf "%s\n" "${COMPREPLY[@]}"' _ "$COMP" "$@" 2>/dev/null | sort | tr '\n' ' '
    }
    check "completion: the pool commands" [ "$(complete_words virtmc po)" = "pools power " ]
    check "completion: pool names for checkout" [ "$(complete_words virtmc checkout s)" = "small " ]
    check "completion: pool names for pools" [ "$(complete_words virtmc pools '')" = "bad gone small " ]
    check "completion: checkout options" sh -c 'echo "$1" | grep -q -- "--lifetime "' _ "$(complete_words virtmc checkout small --)"
    check "completion: lease options" sh -c 'echo "$1" | grep -q -- "--extend "' _ "$(complete_words virtmc lease x --)"
fi

finish

#!/bin/sh
# test-vmpooler.sh: vmpooler's v3 API (API.md section 12.1) on the pool
# engine, on libvirt's test driver with storage pools (node-pools.xml),
# driven as vmfloaty drives it: a token for a password (Basic), checkout
# with X-AUTH-TOKEN, the machine read, its lifetime and tags changed, then
# returned; JSON sent as a form (curl -d) as vmfloaty sends it; shapes
# compared with the examples of vmpooler's docs/API-v3.md; another user's
# token cannot change or return my machine; bad input is {"ok": false} with
# vmpooler's status and changes nothing.
. "$(dirname "$0")/functions.sh"

pool_test v3 "basic = always"
write_conf "$POOL_AUTH
$POOL_SMALL
[pool \"other\"]
template = tmpl
size = 1"
start_daemon || exit 1

V=/api/v3
# vmfloaty's ways in: Basic for a token, then the token alone.
basic() { local u=$1 p=$2; shift 2; req "$@" -u "$u:$p"; }
tok() { local t=$1; shift; req "$@" -H "X-AUTH-TOKEN: $t"; }
# expect_v3_error CODE DESCRIPTION: vmpooler's error, {"ok": false}.
expect_v3_error() {
    if [ "$STATUS" = "$1" ] && jq -e '.ok == false' "$T/body" >/dev/null 2>&1; then
        ok "$2 ($1, {\"ok\": false})"
    else
        not_ok "$2: expected $1 with {\"ok\": false}, got $STATUS $(body)"
    fi
}
# shape FILE [SED]: every path to a value of a JSON document, array indexes
# folded, after SED renamed its free keys (tokens, pool names) alike.
shape() {
    sed "${2:-}" "$1" |
        jq -c '[paths(scalars) | map(if type == "number" then 0 else . end)] | unique'
}

check "pool 'small' fills to its size" wait_for 60 ready_is small 2
check "pool 'other' fills to its size" wait_for 60 ready_is other 1

# ---- tokens ----
basic bob "$PW_BOB" POST $V/token
expect_status 200 "POST /token with Basic"
expect_jqc '[.ok, (.token | test("^[0-9a-f]{64}$"))]' '[true,true]' "the answer: ok and a token"
TOK=$(jq -r .token "$T/body")
check "POST /token has the documented shape" [ "$(jq -c 'keys' "$T/body")" = '["ok","token"]' ]
basic carol "$PW_CAROL" POST $V/token
CTOK=$(jq -r .token "$T/body")
basic reader "$PW_READER" POST $V/token
RTOK=$(jq -r .token "$T/body")
basic bob wrong-password POST $V/token
expect_v3_error 401 "a wrong password gets no token"
tok "$TOK" POST $V/token
expect_v3_error 401 "a token gets no other token"
req POST $V/token
expect_v3_error 401 "no credentials, no token"

req GET "$V/token/$TOK"
expect_status 200 "GET /token/<token> needs only the token"
expect_jqc "[.ok, .[\"$TOK\"].user, (.[\"$TOK\"].created | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\$\")), .[\"$TOK\"].vms.running]" \
    '[true,"bob",true,["ci-small-lease01"]]' \
    "the token's user, its time in vmpooler's format, bob's running machines"
cat > "$T/doc-token.json" <<'EOF'
{ "ok": true, "utpg2i2xswor6h8ttjhu3d47z53yy47y": { "user": "jdoe",
  "created": "2015-04-28 19:17:47 -0700", "last": "2015-11-04 12:28:37 -0700",
  "vms": { "running": [ "dqs4914g2wjyy5w", "hul7ib0ssr0f4o0" ] } } }
EOF
check "GET /token/<token> has the documented shape" \
    [ "$(shape "$T/body" "s/$TOK/T/g")" = "$(shape "$T/doc-token.json" s/utpg2i2xswor6h8ttjhu3d47z53yy47y/T/g)" ]
req GET "$V/token/0000000000000000000000000000000000000000000000000000000000000000"
expect_v3_error 404 "an unknown token"

# ---- checkout ----
req GET $V/vm -u "reader:$PW_READER"
expect_jqc '.' '["small","other"]' "GET /vm lists the pools"
tok "$RTOK" POST $V/vm/small
expect_v3_error 403 "a reader checks nothing out"
tok "$TOK" POST $V/vm/small
expect_status 200 "POST /vm/<pool> with X-AUTH-TOKEN"
expect_jqc '[.ok, (.small.hostname | type), (.small.hostname | startswith("ci-small-"))]' \
    '[true,"string",true]' "one machine: {\"<pool>\": {\"hostname\": \"name\"}}"
cat > "$T/doc-one.json" <<'EOF'
{ "ok": true, "debian-7-i386": { "hostname": "fq6qlpjlsskycq6.example.com" } }
EOF
check "POST /vm/<pool> has the documented shape" \
    [ "$(shape "$T/body" 's/"small"/"P"/g')" = "$(shape "$T/doc-one.json" 's/"debian-7-i386"/"P"/g')" ]
H=$(jq -r .small.hostname "$T/body")
a_owner() { admin_jq "/service/$1/lease" "$2"; }
check "the token's user owns it, for the pool's lifetime" \
    [ "$(a_owner "$H" '"\(.owner)/\(.lifetime)"')" = bob/2 ]

tok "$TOK" GET "$V/vm/$H"
expect_status 200 "GET /vm/<hostname>"
expect_jqc "[.ok, .[\"$H\"].template, .[\"$H\"].lifetime, .[\"$H\"].state, .[\"$H\"].tags, .[\"$H\"].host, .[\"$H\"].remaining > 1.9]" \
    '[true,"small",2,"running",{},"vm",true]' "the machine: pool, lifetime, state, tags, host, hours left"
check "GET /vm/<hostname> has the documented keys (but 'migrated', which has no meaning here)" \
    sh -c 'jq -e --arg h "$1" ".[\$h] | has(\"template\") and has(\"lifetime\") and has(\"running\") and has(\"remaining\") and has(\"state\") and has(\"tags\") and has(\"host\")" "$2" >/dev/null' _ "$H" "$T/body"

# As vmfloaty and curl -d send it: JSON under a form's Content-Type.
tok "$TOK" PUT "$V/vm/$H" -d '{"lifetime":"3"}'
expect_jqc . '{"ok":true}' "PUT lifetime (a string, as vmfloaty sends it)"
check "the lease is now 3 hours" [ "$(a_owner "$H" .lifetime)" = 3 ]
tok "$TOK" PUT "$V/vm/$H" -d '{"tags":{"department":"engineering","user":"jdoe"}}'
expect_jqc . '{"ok":true}' "PUT tags"
tok "$TOK" GET "$V/vm/$H"
expect_jqc ".[\"$H\"] | [.lifetime, .tags]" '[3,{"department":"engineering","user":"jdoe"}]' \
    "GET shows the new lifetime and the tags"
tok "$TOK" PUT "$V/vm/$H" -d '{"lifetime":100}'
expect_jqc . '{"ok":true}' "PUT a lifetime over max_lifetime"
check "it is capped at the pool's max_lifetime" [ "$(a_owner "$H" .lifetime)" = 4 ]

for bad in '{"lifetime":"abc"}' '{"lifetime":0}' '{"tags":"x"}' '{"colour":"red"}' \
    '{"lifetime":"1","tags":{"k":5}}' 'not json'; do
    tok "$TOK" PUT "$V/vm/$H" -d "$bad"
    expect_v3_error 400 "PUT $bad"
done
tok "$TOK" GET "$V/vm/$H"
expect_jqc ".[\"$H\"] | [.lifetime, .tags]" '[4,{"department":"engineering","user":"jdoe"}]' \
    "bad PUTs changed nothing"

# ---- another user's token ----
tok "$CTOK" DELETE "$V/vm/$H"
expect_v3_error 403 "carol's token cannot return bob's machine"
tok "$CTOK" PUT "$V/vm/$H" -d '{"lifetime":"1"}'
expect_v3_error 403 "nor change its lifetime"
tok "$CTOK" GET "$V/vm/$H"
expect_v3_error 403 "nor read its lease"
check "bob's machine is still his, for 4 hours" [ "$(a_owner "$H" '"\(.owner)/\(.lifetime)/\(.state)"')" = bob/4/running ]
req DELETE "$V/vm/$H" -H "X-AUTH-TOKEN: 00$TOK"
expect_v3_error 401 "an unknown token returns nothing"

# ---- several at once, all or nothing ----
check "pool 'small' refills" wait_for 60 ready_is small 2
tok "$TOK" POST $V/vm -d '{"small":"50"}'
expect_v3_error 503 "more than is ready"
tok "$TOK" POST $V/vm -d '{"small":"1","nope":"1"}'
expect_v3_error 404 "an unknown pool"
for bad in '{"small":"0"}' '{"small":"x"}' '{}' 'not json' '["small"]'; do
    tok "$TOK" POST $V/vm -d "$bad"
    expect_v3_error 404 "POST /vm $bad (vmpooler answers 404 to a bad body)"
    check "its reason says why" jq -e '.reason | length > 0' "$T/body"
done
tok "$TOK" POST $V/vm/small+nope
expect_v3_error 404 "POST /vm/<pool>+<unknown pool>"
tok "$TOK" POST $V/vm/small+small+small
expect_v3_error 503 "POST /vm/<pool>+... for more than is ready"
check "the refused checkouts took nothing" ready_is small 2
tok "$TOK" POST $V/vm -d '{"small":"2","other":1}'
expect_status 200 "POST /vm {pool: count}"
expect_jqc '[.ok, (.small.hostname | type), (.small.hostname | length), (.other.hostname | type)]' \
    '[true,"array",2,"string"]' "two of a pool are a list, one a string"
cat > "$T/doc-batch.json" <<'EOF'
{ "ok": true,
  "debian-7-i386": { "hostname": [ "o41xtodlvnvu5cw.example.com", "khirruvwfjlmx3y.example.com" ] },
  "debian-7-x86_64": { "hostname": "y91qbrpbfj6d13q.example.com" } }
EOF
check "POST /vm has the documented shape" \
    [ "$(shape "$T/body" 's/"small"/"P"/g; s/"other"/"Q"/g')" = "$(shape "$T/doc-batch.json" 's/"debian-7-i386"/"P"/g; s/"debian-7-x86_64"/"Q"/g')" ]
B1=$(jq -r '.small.hostname[0]' "$T/body")
check "the batch is bob's" [ "$(a_owner "$B1" .owner)" = bob ]

# ---- status and summary ----
req GET $V/status -u "reader:$PW_READER"
expect_status 200 "GET /status"
cat > "$T/doc-status.json" <<'EOF'
{ "capacity": { "current": 716, "total": 717, "percent": 99.9 },
  "queue": { "pending": 1, "cloning": 0, "booting": 1, "ready": 716, "running": 142,
             "completed": 0, "total": 859 },
  "status": { "ok": true, "message": "Battle station fully armed and operational." } }
EOF
check "GET /status: capacity and queue have the documented keys" \
    [ "$(jq -c '[.capacity, .queue] | map(keys)' "$T/body")" = "$(jq -c '[.capacity, .queue] | map(keys)' "$T/doc-status.json")" ]
expect_jqc '[.pools.small.max, .pools.other.max, (.status.ok | type), .queue.running >= 4]' \
    '[2,1,"boolean",true]' "the pools, the status, bob's running machines"
req GET "$V/status?view=capacity,status" -u "reader:$PW_READER"
expect_jqc 'keys' '["capacity","status"]' "?view= selects sections"
req GET "$V/summary?from=2026-01-01&to=2026-01-03" -u "reader:$PW_READER"
expect_jqc '[keys, (.daily | map(.date)), (.daily[0] | keys)]' \
    '[["boot","clone","daily","tag"],["2026-01-01","2026-01-02","2026-01-03"],["boot","clone","date","tag"]]' \
    "GET /summary: vmpooler's sections and one daily entry per day"
req GET "$V/summary?from=2026-13-01" -u "reader:$PW_READER"
expect_v3_error 400 "GET /summary with a bad date"
req GET "$V/summary?from=2026-01-03&to=2026-01-01" -u "reader:$PW_READER"
expect_v3_error 400 "GET /summary with a backwards range"

# ---- return, token delete ----
tok "$TOK" DELETE "$V/vm/$H"
expect_jqc . '{"ok":true}' "DELETE /vm/<hostname>"
check "the returned machine is removed" wait_for 60 absent "$H"
tok "$TOK" DELETE "$V/vm/$H"
expect_v3_error 404 "a returned machine is gone"
check "pool 'small' refills" wait_for 60 ready_is small 2
READY=$(pool_jq small '[.members[] | select(.state == "ready")][0].name')
tok "$CTOK" DELETE "$V/vm/$READY"
expect_v3_error 404 "a ready machine that nobody checked out is not returned (carol sees every machine)"
check "it stays ready" [ "$(pool_jq small "[.members[] | select(.name == \"$READY\")][0].state")" = ready ]

basic carol "$PW_CAROL" DELETE "$V/token/$TOK"
expect_v3_error 404 "carol cannot delete bob's token"
req GET "$V/token/$TOK"
expect_status 200 "bob's token still works"
basic bob "$PW_BOB" DELETE "$V/token/$TOK"
expect_jqc . '{"ok":true}' "DELETE /token/<token> with Basic"
req GET "$V/token/$TOK"
expect_v3_error 404 "the deleted token is unknown"
tok "$TOK" GET "$V/vm/$B1"
expect_v3_error 401 "the deleted token opens nothing"

# An admin's token returns anyone's machine; no credentials change nothing.
req PUT "$V/vm/$B1" -d '{"lifetime":"1"}'
expect_v3_error 401 "PUT without a token"
basic admin "$PW_ADMIN" POST $V/token
ATOK=$(jq -r .token "$T/body")
tok "$ATOK" GET "$V/vm/$B1"
expect_jqc ".[\"$B1\"] | [.template, .state]" '["small","running"]' "an admin reads bob's machine"
tok "$ATOK" DELETE "$V/vm/$B1"
expect_jqc . '{"ok":true}' "an admin returns bob's machine"
check "it is removed" wait_for 60 absent "$B1"

# The /api tree next to it is unchanged.
req GET $V/nope -u "reader:$PW_READER"
expect_v3_error 404 "an unknown /api/v3 path"
req GET /api/v1/vmap -u "reader:$PW_READER"
expect_status 200 "/api/v1/vmap still answers"

finish

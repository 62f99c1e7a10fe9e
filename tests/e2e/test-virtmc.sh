#!/bin/sh
# test-virtmc.sh: virtmc(1), the command-line client (issue 14), against the
# real daemon on the test driver.  Every command in both output modes: --json
# is the server's answer itself (compared with curl's), the readable one is
# compared line for line where the fixture fixes it.  Digest over HTTP;
# Digest and Basic over TLS, with the CA checked, missing or skipped; wrong
# and missing credentials (exit 3), a server that is down (3), refusals (1,
# the server's error on stderr), usage errors (2), wait reached (0) and timed
# out (1); where settings come from (options, VIRTMC_*, the config file and
# its mode); colour only on a terminal; the bash completion.  Last, `query`
# against virtmapper's README example (tests/data/virtmapper-*.xml), byte for
# byte, over a Unix socket (-s unix:/path).
. "$(dirname "$0")/functions.sh"

for tool in htdigest openssl jq; do
    command -v "$tool" >/dev/null 2>&1 || { echo "# $tool not installed: skipped"; exit 77; }
done
: "${VIRTMC:=${abs_builddir:-$abs_srcdir}/virtmc}"
[ -x "$VIRTMC" ] || { echo "# $VIRTMC is not built"; exit 1; }

# Nothing of the person running the tests may leak in.
unset VIRTMC_URL VIRTMC_USER VIRTMC_PASSWORD VIRTMC_CONFIG VIRTMC_CACERT XDG_CONFIG_HOME NO_COLOR
HOME="$T/home"
export HOME
mkdir -p "$HOME"

PW_ADMIN='Pw-admin-Vc3Lq'
PW_OP='Pw-op-Zt8Rk'
PW_USER='Pw-user-Hn5Wd'
USERS="$T/users.digest"
htdigest_add "$USERS" madmin "$PW_ADMIN"
htdigest_add "$USERS" mop "$PW_OP"
htdigest_add "$USERS" muser "$PW_USER"
chmod 0600 "$USERS"
AUTH="[auth]
users_file = $USERS
[user \"madmin\"]
role = admin
[user \"mop\"]
role = operator"

# vmc RC DESC ARGS...: run virtmc; stdout in $T/out, stderr in $T/err; the
# exit status must be RC.
vmc() {
    local want=$1 desc=$2
    shift 2
    "$VIRTMC" "$@" > "$T/out" 2> "$T/err"
    RC=$?
    if [ "$RC" = "$want" ]; then
        ok "$desc (exit $want)"
    else
        not_ok "$desc: exit $RC, expected $want"
        sed 's/^/#   out: /' "$T/out" | head -n 10
        sed 's/^/#   err: /' "$T/err" | head -n 10
    fi
}

# curl_get PATH: the server's answer, with the same credentials.
curl_get() {
    curl -s -g --digest -u "$VIRTMC_USER:$VIRTMC_PASSWORD" "$BASE$1"
}

# same_json PATH DESC: $T/out is the JSON the server gives for PATH.
same_json() {
    local want got
    want=$(curl_get "$1" | jq -S -c .)
    got=$(jq -S -c . "$T/out" 2>/dev/null)
    if [ -n "$want" ] && [ "$got" = "$want" ]; then
        ok "$2"
    else
        not_ok "$2"
        echo "#   expected $want"
        echo "#   got      $got"
    fi
}

# out_is TEXT DESC: stdout is exactly TEXT (and a final newline).
out_is() {
    if [ "$(cat "$T/out")" = "$1" ] && [ "$(tail -c 1 "$T/out" | od -An -c | tr -d ' ')" = '\n' ]; then
        ok "$2"
    else
        not_ok "$2"
        printf '%s\n' "$1" | sed 's/^/#   want: /'
        sed 's/^/#   got:  /' "$T/out"
    fi
}

# err_is TEXT DESC: stderr is exactly TEXT.
err_is() {
    if [ "$(cat "$T/err")" = "$1" ]; then
        ok "$2"
    else
        not_ok "$2"
        printf '%s\n' "$1" | sed 's/^/#   want: /'
        sed 's/^/#   got:  /' "$T/err"
    fi
}

# out_jq FILTER EXPECTED DESC: jq -r FILTER on stdout.
out_jq() {
    local got
    got=$(jq -r "$1" "$T/out" 2>/dev/null)
    if [ "$got" = "$2" ]; then ok "$3"; else not_ok "$3: $1 is '$got', expected '$2'"; fi
}

# ---------------------------------------------------------------------------
# 1. Two hosts (tests/data/node-kvm09.xml, node-kvm10.xml), users, plain
#    HTTP: Digest.  Server and credentials from the environment.
# ---------------------------------------------------------------------------
K09="$abs_srcdir/tests/data/node-kvm09.xml"
K10="$abs_srcdir/tests/data/node-kvm10.xml"
write_conf "$(printf '[host "kvm09"]\nuri = test://%s\n[host "kvm10"]\nuri = test://%s\n' "$K09" "$K10")
$AUTH"
NODE=
start_daemon || exit 1
VIRTMC_URL=$BASE
VIRTMC_USER=madmin
VIRTMC_PASSWORD=$PW_ADMIN
export VIRTMC_URL VIRTMC_USER VIRTMC_PASSWORD

# ---- usage (2) and help ----
vmc 0 "--help" --help
check "--help lists every command" sh -c 'for c in list status power boot backups restore query map hosts meta addresses wait; do grep -q "^  $c " "$1" || exit 1; done' _ "$T/out"
vmc 0 "--version" --version
check "--version names virtmc and its version" grep -Eq '^virtmc [0-9]+\.[0-9]+' "$T/out"
for c in list status power boot backups restore query map hosts meta addresses wait; do
    vmc 0 "$c --help" "$c" --help
    check "... shows its usage and --json" sh -c 'grep -q "^Usage: virtmc $2" "$1" && grep -q -- "--json" "$1"' _ "$T/out" "$c"
done
vmc 2 "no command" 
vmc 2 "an unknown command" frobnicate
err_is "virtmc: unknown command 'frobnicate'; see virtmc --help" "... says so"
vmc 2 "an unknown global option" --bogus list
vmc 2 "an unknown command option" list --once
vmc 2 "status without a name" status
vmc 2 "status with two names" status web1 db1
vmc 2 "an unknown power action" power web1 explode
vmc 2 "an unknown boot device" boot web1 floppy
vmc 2 "--once without a device" boot web1 --once
vmc 2 "an unknown state in list" list --state sleeping
vmc 2 "an unknown state in wait" wait web1 sleeping
vmc 2 "wait --timeout that is no number" wait web1 running --timeout soon
vmc 2 "meta with a word that is no KEY=VALUE" meta web1 owner
vmc 2 "a bad --auth" --auth ntlm list
vmc 2 "a server URL of another scheme" -s ftp://127.0.0.1/ list
vmc 2 "a missing argument of -s" list -s

# ---- list ----
vmc 0 "list --json" list --json
same_json /service/machines "list --json is GET /service/machines"
vmc 0 "list" list
check "list: a header and one line per machine" \
    sh -c '[ "$(head -n1 "$1" | tr -s " ")" = "NAME STATE HOST OWNER TAGS" ] && [ "$(wc -l < "$1")" = 18 ]' _ "$T/out"
check "list: no colour when stdout is no terminal" sh -c '! grep -q "$(printf "\033")" "$1"' _ "$T/out"
vmc 0 "list --state running --tag env=ci" list --state running --tag env=ci
out_is "NAME  STATE    HOST   OWNER  TAGS
app1  running  kvm10  carol  env=ci
web1  running  kvm09  bob    env=ci, role=web" "... aligned columns, exactly"
vmc 0 "list --state running --tag env=ci --json" list --json --state running --tag env=ci
same_json '/service/machines?state=running&tag=env:ci' "... --json is the filtered list"
vmc 0 "list --state shut-off --host kvm09 -q 'b*'" list --state shut-off --host kvm09 -q 'b*'
out_is "bigmem
blk-user" "... names only"
vmc 0 "list --owner alice -q" list --owner alice -q
out_is "db1" "... db1"
vmc 0 "list --tag role -q (a key alone)" list --tag role -q
out_is "web1" "... web1"
vmc 0 "list matching nothing" list nothing-here
check "... prints nothing" [ ! -s "$T/out" ]
vmc 1 "list --host of an unknown host: the server refuses" list --host kvm99
err_is "virtmc: $(curl_get '/service/machines?host=kvm99' | jq -r .error)" "... its error on stderr"

# ---- status ----
vmc 0 "status web1 --json" status web1 --json
same_json /service/machines/web1 "status --json is GET /service/machines/web1"
vmc 0 "status web1" status web1
out_is "name:        web1
state:       running
id:          1
uuid:        a0000000-0000-4000-8000-000000000901
host:        kvm09
vcpus:       1
memory:      1 GiB
persistent:  yes
autostart:   no
boot:        disk (os style, legacy)
owner:       bob
description: the CI web front end
tags:        env=ci, role=web
interfaces:  52:54:00:09:00:01 network default virtio
disks:       vda disk /srv/img/web1.qcow2
             vdb cdrom /srv/iso/debian.iso" "status web1: every line"
vmc 1 "status of an unknown machine" status nosuch
err_is "virtmc: machine 'nosuch' not found" "... the server's words on stderr"
check "... and nothing on stdout" [ ! -s "$T/out" ]
vmc 1 "status of a name on two hosts (409)" status twin
err_is "virtmc: $(curl_get /service/machines/twin | jq -r .error) (hosts: kvm09, kvm10; give --host)" \
    "... the server's error, and its hosts"
vmc 0 "status twin --host kvm10" status twin --host kvm10 --json
out_jq .host kvm10 "... the one on kvm10"

# ---- power: every word, both modes ----
for w in on:power_on cycle:power_cycle reset:force_reset reboot:reboot nmi:nmi soft:soft_off off:power_off; do
    vmc 0 "power iso-user ${w%%:*} --json" power iso-user "${w%%:*}" --json
    out_jq .action "${w#*:}" "... the action ${w#*:}"
done
vmc 0 "power iso-user on" power iso-user on
out_is "iso-user: power_on done, now running" "... readable"
vmc 0 "power iso-user on again" power iso-user on
out_is "iso-user: power_on unchanged, now running" "... unchanged"
vmc 0 "power iso-user force-off" power iso-user force-off
out_is "iso-user: force_off done, now shut off" "... force_off"
vmc 1 "power db1 nmi of a machine that is off (409)" power db1 nmi
err_is "virtmc: machine 'db1' is not running: nmi needs a running machine" "... the server's error"
vmc 1 "power macclash on: a start guard refuses" power macclash on
check "... naming the machine in the way" grep -q app1 "$T/err"
vmc 0 "power macclash on --force (admin)" power macclash on --force --json
out_jq .state running "... started"
vmc 0 "power macclash off" power macclash off

# ---- boot ----
vmc 0 "boot db1 --json (show)" boot db1 --json
same_json /service/machines/db1/boot "... is GET .../boot"
vmc 0 "boot db1 pxe --once --json" boot db1 pxe --once --json
out_jq '[.action, .first, .once, .applies] | join(" ")' "pxeboot network true next_boot" "... a one-time PXE boot"
vmc 0 "boot db1 (show)" boot db1
out_is "first:       network
order:       network, disk
style:       os
mode:        legacy
once:        yes
pending:     no" "... readable"
vmc 0 "boot db1 disk" boot db1 disk
check "... readable" grep -Eqx 'db1: diskboot done, first disk, applies next_boot; backup [0-9T.]+Z' "$T/out"
vmc 0 "boot web1 cdrom --restart --json" boot web1 cdrom --restart --json
out_jq '[.first, .applies, .state] | join(" ")' "cdrom now running" "... applied now by a restart"
vmc 0 "boot web1 default" boot web1 default --json
out_jq .first default "... the default order"
vmc 1 "boot default --once: the server refuses" boot web1 default --once
err_is "virtmc: defaultboot is always persistent" "... its error"

# ---- backups and restore ----
vmc 0 "backups db1 --json" backups db1 --json
same_json /service/machines/db1/backups "... is GET .../backups"
ID=$(jq -r '.[-1].id' "$T/out")
N=$(jq length "$T/out")
vmc 0 "backups db1" backups db1
check "... a header and one line each" sh -c '[ "$(head -n1 "$1" | tr -s " ")" = "ID REASON SIZE" ] && [ "$(wc -l < "$1")" = $(($2 + 1)) ]' _ "$T/out" "$N"
check "... the oldest last" sh -c 'tail -n1 "$1" | grep -q "^$2  pxeboot "' _ "$T/out" "$ID"
vmc 0 "restore db1 (the first backup) --json" restore db1 "$ID" --json
out_jq .restored "$ID" "... restored"
vmc 0 "restore db1 again (readable)" restore db1 "$ID"
check "... readable" grep -Eqx "db1: restored $ID; the definition before it is backup [0-9T.]+Z" "$T/out"
vmc 1 "restore of an unknown backup" restore db1 20200101T000000.000000Z
vmc 1 "restore as an operator: 403" -u mop -p "$PW_OP" restore db1 "$ID"
check "... a password on the command line is warned about" grep -q "warning: a password on the command line" "$T/err"
check "... the server's refusal follows" sh -c 'tail -n1 "$1" | grep -q "^virtmc: "' _ "$T/err"

# ---- meta ----
vmc 0 "meta db1 --json" meta db1 --json
same_json /service/machines/db1/metadata "... is GET .../metadata"
vmc 0 "meta db1" meta db1
out_is "owner:       alice
description: -
tags:        env=prod" "... readable"
vmc 0 "meta db1 owner=zed description='the db' env- team=infra tag:owner=x" \
    meta db1 owner=zed 'description=the db' env- team=infra tag:owner=x
out_is "owner:       zed
description: the db
tags:        owner=x, team=infra" "... changed (PATCH), readable"
vmc 0 "meta db1 description- tag:owner- --json" meta db1 description- tag:owner- --json
same_json /service/machines/db1/metadata "... --json is the stored result"
out_jq '[.owner, (.description|tostring), (.tags|tojson)] | join(" ")' 'zed null {"team":"infra"}' "... deleted"
vmc 1 "meta as a user (read only): 403" -u muser -p "$PW_USER" meta db1 owner=eve
vmc 0 "... nothing changed" meta db1 --json
out_jq .owner zed "... owner still zed"
vmc 1 "meta with a bad tag key: the server refuses (400)" meta db1 'bad key=1'

# ---- query, map, hosts ----
vmc 0 "query kvm10" query kvm10
out_is "kvm10 is a virtual host for guests: app1, elsewhere, moved-b, olh, rbd-run, twin" "... virtmapper's host sentence"
vmc 0 "query olh" query olh
out_is "olh is a virtual guest on host: kvm10" "... virtmapper's guest sentence"
err_is "" "... no conflict, nothing on stderr"
vmc 0 "query twin" query twin
out_is "twin is a virtual guest on host: kvm09" "... the first host's entry"
err_is "virtmc: warning: twin is active on more than one host: kvm09, kvm10" "... and the conflict on stderr"
vmc 0 "query kvm10 --json" query kvm10 --json
same_json /service/map/kvm10 "... is GET /service/map/kvm10"
vmc 1 "query nosuch" query nosuch
err_is "virtmc: Node nosuch not found" "... virtmapper's words, on stderr"
vmc 0 "map --json" map --json
same_json /service/map "... is GET /service/map"
vmc 0 "map" map
out_is "HOST   STATE  GUESTS
kvm09  up     bigmem, blk-user, db1, elsewhere, iso-user, macclash, moved-a, rbd-user, twin, vol-user, web1
kvm10  up     app1, elsewhere, moved-b, olh, rbd-run, twin
conflict: the name twin is active on kvm09, kvm10
conflict: the UUID a0000000-0000-4000-8000-0000000009a0 is active on kvm09, kvm10" "... readable"
vmc 0 "hosts --json" hosts --json
same_json /service/hosts "... is GET /service/hosts"
vmc 0 "hosts" hosts
check "... a header and a line per host" sh -c '[ "$(head -n1 "$1" | tr -s " ")" = "NAME STATE GUESTS CPUS MEMORY FREE LIBVIRT URI" ] && [ "$(wc -l < "$1")" = 3 ]' _ "$T/out"
check "... kvm09 up with 11 guests, 4 CPUs, 8 GiB" grep -Eq '^kvm09 +up +11 +4 +8 GiB ' "$T/out"

# ---- wait ----
vmc 0 "wait web1 running (already)" wait web1 running
out_is "web1: running" "... readable"
vmc 0 "wait web1 running --json" wait web1 running --json
same_json /service/machines/web1/state_controller/status "... the status answer"
start=$(date +%s)
vmc 1 "wait web1 shut-off --timeout 1: times out" wait web1 shut-off --timeout 1
end=$(date +%s)
err_is "virtmc: web1 is still 'running' after 1 s, not 'shut off'" "... says so"
check "... after about a second" [ $((end - start)) -le 5 ]
"$VIRTMC" wait web1 shut-off --timeout 60 > "$T/wait.out" 2>&1 &
WAIT_PID=$!
check "wait is still waiting" kill -0 "$WAIT_PID"
vmc 0 "power web1 off" power web1 off
wait "$WAIT_PID"
check "wait saw shut off (exit 0)" [ $? = 0 ]
check "... and said so" [ "$(cat "$T/wait.out")" = "web1: shut off" ]
vmc 1 "wait of an unknown machine" wait nosuch running --timeout 1

# ---- colour only on a terminal ----
if script -qec true /dev/null >/dev/null 2>&1; then
    script -qec "$VIRTMC list --state running -q; $VIRTMC list --state running" /dev/null > "$T/tty.out" 2>&1
    check "on a terminal, running is green" grep -q "$(printf '\033\\[32mrunning')" "$T/tty.out"
    NO_COLOR=1 script -qec "$VIRTMC list --state running" /dev/null > "$T/tty.out" 2>&1
    check "NO_COLOR turns colour off on a terminal too" sh -c '! grep -q "$(printf "\033")" "$1" && grep -q app1 "$1"' _ "$T/tty.out"
else
    echo "# script(1) cannot make a terminal here: the colour checks are skipped"
fi

# ---- credentials and reachability (3) ----
vmc 3 "a wrong password" -p wrong-Pw-1 list 
check "... says the authentication failed" grep -q "authentication as 'madmin' failed" "$T/err"
VIRTMC_PASSWORD=wrong-Pw-2 vmc 3 "a wrong VIRTMC_PASSWORD" list
(unset VIRTMC_USER VIRTMC_PASSWORD; "$VIRTMC" list > "$T/out" 2> "$T/err" </dev/null; echo $? > "$T/rc")
check "no credentials at all: exit 3" [ "$(cat "$T/rc")" = 3 ]
check "... says the server asks for them" grep -q "asks for credentials" "$T/err"
(unset VIRTMC_USER; "$VIRTMC" list > "$T/out" 2> "$T/err"; echo $? > "$T/rc")
check "a password without a user: usage (2)" [ "$(cat "$T/rc")" = 2 ]
DEAD=$(free_port)
vmc 3 "a server that is down" -s "127.0.0.1:$DEAD" list
check "... cannot reach it" grep -q "cannot reach http://127.0.0.1:$DEAD" "$T/err"
VIRTMC_URL=http://127.0.0.1:$DEAD vmc 0 "--server wins over VIRTMC_URL" -s "$BASE" status web1 --json
vmc 0 "--json before the command" --json status web1
same_json /service/machines/web1 "... is the server's answer"
vmc 0 "global options after the command" status -s "$BASE" web1 -u madmin --json
check "... no warning without -p" [ ! -s "$T/err" ]
vmc 0 "--auth digest over HTTP" --auth digest list -q
vmc 3 "--auth basic over HTTP: refused (basic = tls)" --auth basic list -q
check "... with a warning that the password went unencrypted" grep -q "warning: --auth basic over plain HTTP" "$T/err"

# ---- the configuration file ----
CONF="$HOME/.config/virtmc/config"
mkdir -p "${CONF%/*}"
printf '# virtmc\n[server]\nurl = %s\nuser = madmin\npassword = %s\n' "$BASE" "$PW_ADMIN" > "$CONF"
chmod 0600 "$CONF"
(unset VIRTMC_URL VIRTMC_USER VIRTMC_PASSWORD; "$VIRTMC" list -q --state running > "$T/out" 2> "$T/err"; echo $? > "$T/rc")
check "~/.config/virtmc/config gives the server and credentials" \
    sh -c '[ "$(cat "$1")" = 0 ] && grep -qx app1 "$2"' _ "$T/rc" "$T/out"
(unset VIRTMC_URL VIRTMC_PASSWORD; VIRTMC_USER=mop "$VIRTMC" list -q > "$T/out" 2> "$T/err" </dev/null; echo $? > "$T/rc")
check "the file's password is for the file's user only (mop: 3)" [ "$(cat "$T/rc")" = 3 ]
chmod 0644 "$CONF"
(unset VIRTMC_URL VIRTMC_USER VIRTMC_PASSWORD; "$VIRTMC" list -q > "$T/out" 2> "$T/err"; echo $? > "$T/rc")
check "a password in a file others may read is refused (2)" [ "$(cat "$T/rc")" = 2 ]
check "... saying chmod 600" grep -q "chmod 600 $CONF" "$T/err"
printf '[server]\nurl = %s\n' "$BASE" > "$CONF"
chmod 0644 "$CONF"
vmc 0 "a readable file without a password is fine" list -q --state running
printf '[server]\nurl = %s\ncolour = yes\n' "$BASE" > "$T/bad.conf"
vmc 2 "an unknown key in --config FILE" --config "$T/bad.conf" list
err_is "virtmc: $T/bad.conf:3: unknown key 'colour' in [server]" "... FILE:LINE"
printf '[client]\nurl = x\n' > "$T/bad.conf"
VIRTMC_CONFIG="$T/bad.conf" vmc 2 "an unknown section in VIRTMC_CONFIG" list
vmc 2 "a --config that does not exist" --config "$T/nosuch.conf" list
rm -f "$CONF"

# ---- bash completion ----
COMP="$abs_srcdir/data/bash-completion/virtmc"
if command -v bash >/dev/null 2>&1; then
    # complete LINE...: the words bash would offer for the last word.
    complete_words() {
        PATH="$(dirname "$VIRTMC"):$PATH" bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _virtmc; printf "%s\n" "${COMPREPLY[@]}"' _ "$COMP" "$@" 2>/dev/null | sort | tr '\n' ' '
    }
    check "completion: commands" [ "$(complete_words virtmc pow)" = "power " ]
    check "completion: power actions" [ "$(complete_words virtmc power web1 '')" = "cycle force-off nmi off on reboot reset soft " ]
    check "completion: boot devices" [ "$(complete_words virtmc boot web1 '')" = "cdrom default disk pxe " ]
    check "completion: machine names from the server" [ "$(complete_words virtmc status ap)" = "app1 " ]
    check "completion: list options" sh -c 'echo "$1" | grep -q -- "--state " && echo "$1" | grep -q -- "--quiet "' _ "$(complete_words virtmc list --)"
fi

# ---------------------------------------------------------------------------
# 2. TLS (node.xml): Digest and Basic, the CA checked, missing, skipped.
# ---------------------------------------------------------------------------
stop_daemon
(cd "$T" && openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1)
chmod 0600 "$T/key.pem"
rm -f "$T/virtmcd.conf"
write_conf "[server]
tls_cert = $T/cert.pem
tls_key = $T/key.pem
$AUTH"
NODE="test://$abs_srcdir/tests/data/node.xml"
DAEMON_SCHEME=https
start_daemon || exit 1
VIRTMC_URL=$BASE
export VIRTMC_URL
curl_get() {
    curl -s -g --cacert "$T/cert.pem" --digest -u "$VIRTMC_USER:$VIRTMC_PASSWORD" "$BASE$1"
}
VIRTMC_CACERT="$T/cert.pem" vmc 0 "TLS: Digest, the certificate checked (VIRTMC_CACERT)" list --json
same_json /service/machines "... the list"
vmc 0 "TLS: Digest, --auth digest --cacert" --auth digest --cacert "$T/cert.pem" status vm-running --json
out_jq .state running "... status"
vmc 0 "TLS: Basic, --auth basic" --auth basic --cacert "$T/cert.pem" status vm-running --json
out_jq .state running "... status"
vmc 3 "TLS: Basic, wrong password" --auth basic --cacert "$T/cert.pem" -p wrong-Pw-3 list
vmc 3 "TLS: Digest, wrong password" --auth digest --cacert "$T/cert.pem" -p wrong-Pw-4 list
vmc 3 "TLS: a certificate nobody vouches for" list
check "... the TLS failure is told" grep -q "cannot reach $BASE" "$T/err"
vmc 0 "TLS: --insecure skips the check" -k list -q
check "... every machine" [ "$(wc -l < "$T/out")" = 8 ]
export VIRTMC_CACERT="$T/cert.pem"
vmc 0 "status of a name with a space" status 'web 01' --json
out_jq .name 'web 01' "... percent-encoded once"
vmc 0 "addresses vm-running --json" addresses vm-running --json
same_json /service/machines/vm-running/addresses "... is GET .../addresses"
vmc 0 "addresses vm-running" addresses vm-running
out_is "INTERFACE  MAC                ADDRESS         SOURCE
testnet0   52:54:00:00:01:01  192.168.0.1/24  lease" "... readable"
vmc 1 "addresses of a machine that is off (409)" addresses vm-off
err_is "virtmc: machine 'vm-off' is not running: it has no addresses" "... the server's words"
vmc 1 "boot of a machine without a NIC: pxe (409)" boot vm-nonic pxe
unset VIRTMC_CACERT
DAEMON_SCHEME=http

# ---------------------------------------------------------------------------
# 3. virtmapper's README, byte for byte, over a Unix socket:
#      $ virtmapper query compute-64
#      compute-64 is a virtual guest on host: kvm43
#      $ virtmapper query kvm09
#      kvm09 is a virtual host for guests: olh, tam
# ---------------------------------------------------------------------------
stop_daemon
rm -f "$T/virtmcd.conf"
write_conf "$(printf '[host "kvm09"]\nuri = test://%s/tests/data/virtmapper-kvm09.xml\n[host "kvm43"]\nuri = test://%s/tests/data/virtmapper-kvm43.xml\n' "$abs_srcdir" "$abs_srcdir")"
NODE=
# Over a Unix socket this time: -s unix:/path.
start_daemon --listen "unix:$T/virtmcd.sock" || exit 1
unset VIRTMC_USER VIRTMC_PASSWORD
VIRTMC_URL=$DAEMON_LISTEN
check "the daemon listens on a Unix socket" [ "$VIRTMC_URL" = "unix:$T/virtmcd.sock" ]
printf 'compute-64 is a virtual guest on host: kvm43\n' > "$T/want"
"$VIRTMC" query compute-64 > "$T/out" 2> "$T/err"
check "query compute-64: virtmapper's README line, byte for byte" cmp -s "$T/want" "$T/out"
printf 'kvm09 is a virtual host for guests: olh, tam\n' > "$T/want"
"$VIRTMC" query kvm09 > "$T/out" 2> "$T/err"
check "query kvm09: virtmapper's README line, byte for byte" cmp -s "$T/want" "$T/out"
check "... nothing on stderr" [ ! -s "$T/err" ]
vmc 0 "query tam --json is virtmapper's shape" query tam --json
out_jq '{hosts, guests} | tojson' '{"hosts":null,"guests":{"tam":{"state":"running","host":"kvm09"}}}' "... as its README shows"

finish

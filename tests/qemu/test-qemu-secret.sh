#!/bin/sh
# test-qemu-secret.sh: boot changes keep everything but boot elements
# (API.md section 2).  Guests defined with virsh carry real libvirt secrets
# -- a LUKS disk whose passphrase is a libvirt secret (the guest runs with
# it), an RBD disk with <auth> naming a ceph secret -- a VNC password (only
# shown with --security-info), <title>, <description> and foreign
# <metadata>.  `virsh dumpxml --inactive --security-info` is compared before
# and after, minus boot elements; the backups hold the secrets too.
. "$(dirname "$0")/lib.sh"
qemu_init shared

# new_secret USAGE-XML VALUE PRIVATE: define a libvirt secret; sets SECRET (its UUID).
new_secret() {
    SECRET=$(cat /proc/sys/kernel/random/uuid)
    printf "<secret ephemeral='no' private='%s'><uuid>%s</uuid>%s</secret>\n" "$3" "$SECRET" "$1" > "$T/secret.xml"
    $VIRSH secret-define "$T/secret.xml" >/dev/null || return 1
    SECRETS="$SECRETS $SECRET"
    printf '%s' "$2" > "$T/secret.value"
    $VIRSH secret-set-value "$SECRET" --file "$T/secret.value" --plain >/dev/null 2>&1 ||
        $VIRSH secret-set-value "$SECRET" "$(base64 < "$T/secret.value")" >/dev/null 2>&1
}

META="<title>vmcd secret guest</title>
  <description>keeps &lt;secrets&gt; &amp; metadata</description>
  <metadata><t:tag xmlns:t='http://example.org/vmcd-test'><t:owner>bob</t:owner><t:note a='1'>x &amp; y</t:note></t:tag></metadata>"

# A running guest with a LUKS disk unlocked by a libvirt secret.
LUKS="$IMAGES/$PREFIX-luks.img"
new_secret "<usage type='volume'><volume>$LUKS</volume></usage>" vmcd-pass yes || { echo "# secret-define failed"; exit 1; }
LUKS_UUID=$SECRET
printf 'vmcd-pass' > "$T/luks.pass"
# qemu-img times its PBKDF on thread CPU time and gives up now and then
# ("Unable to get accurate CPU usage") when the clock is coarse: try again.
i=0
until qemu-img create -q -f luks --object "secret,id=sec0,file=$T/luks.pass" \
    -o key-secret=sec0,iter-time=10 "$LUKS" 1M 2>"$T/luks.err"; do
    i=$((i + 1))
    [ $i -lt 30 ] || { echo "# qemu-img cannot make a LUKS image: $(cat "$T/luks.err")"; exit 1; }
done
make_guest sec device "<disk type='file' device='disk'><driver name='qemu' type='raw'/>
      <source file='$LUKS'><encryption format='luks'><secret type='passphrase' uuid='$LUKS_UUID'/></encryption></source>
      <target dev='vdb' bus='virtio'/></disk>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1' passwd='vnc-s3cr'/>" "$META" || exit 1
A=$GUEST

# A guest that is off, with an RBD disk whose <auth> names a ceph secret.
new_secret "<usage type='ceph'><name>$PREFIX ceph</name></usage>" ceph-key no || exit 1
CEPH_UUID=$SECRET
make_guest rbd os "<disk type='network' device='disk'><driver name='qemu' type='raw'/>
      <auth username='vmcd'><secret type='ceph' uuid='$CEPH_UUID'/></auth>
      <source protocol='rbd' name='pool/$PREFIX'><host name='192.0.2.1' port='6789'/></source>
      <target dev='vdc' bus='virtio'/></disk>" "$META" || exit 1
B=$GUEST

write_conf
start_daemon || exit 1

# has NAME TEXT: the persistent XML (with secrets) contains TEXT.
has() { inactive_xml "$1" | grep -qF -- "$2"; }

# ---- A: running, LUKS ----
before=$(inactive_xml "$A")
check "fixture: A's XML has the VNC password (security info)" has "$A" "passwd='vnc-s3cr'"
check "fixture: A's XML names the LUKS secret" has "$A" "<secret type='passphrase' uuid='$LUKS_UUID'/>"
action "$A" power_on
expect_action done running "A: power_on (QEMU opens the LUKS disk with the libvirt secret)"
check "A: QEMU got the LUKS disk with a key secret" sh -c 'tr "\0" "\n" < /proc/$1/cmdline | grep -q "\"driver\":\"luks\",\"key-secret\""' _ "$(qemu_pid "$A")"

nb_before=$(printf '%s\n' "$before" | xml_norm --no-boot)
for step in pxeboot diskboot "pxeboot once=1"; do
    action "$A" $step
    expect_action done running "A: $step on the running guest"
    expect_same_xml "$(inactive_xml "$A" | xml_norm --no-boot | grep -v 'virtmcd:boot-once\|</\?virtmcd:instance')" "$nb_before" \
        "A: after $step the definition is unchanged but for boot elements"
done
check "A: the VNC password survived" has "$A" "passwd='vnc-s3cr'"
check "A: the LUKS secret reference survived" has "$A" "<secret type='passphrase' uuid='$LUKS_UUID'/>"
check "A: the foreign metadata survived" has "$A" '<t:note a="1">x &amp; y</t:note>'
check "A: the description survived" has "$A" '<description>keeps &lt;secrets&gt; &amp; metadata</description>'

# The one-time start, with the secret still usable.
action "$A" power_cycle
expect_action done running "A: power_cycle (one-time network start) with the LUKS disk"
expect_eq "$(qemu_boot_order "$A")" "network disk" "A: the one-time start is from the network"
if wait_boot "$A" '.once == false' 3000; then ok "A: the one-time order is undone ($WAITED ms)"; else not_ok "A: the one-time order was not undone in 3 s"; fi
expect_same_xml "$(inactive_xml "$A" | xml_norm --no-boot)" "$nb_before" \
    "A: after the one-time round trip the definition is unchanged but for boot elements"
action "$A" defaultboot
expect_action unchanged running "A: defaultboot when the order is already the original one"
expect_same_xml "$(inactive_xml "$A" | xml_norm)" "$before" "A: after defaultboot the definition is the original"
action "$A" power_cycle
expect_action done running "A: power_cycle after defaultboot (LUKS secret still works)"
expect_eq "$(qemu_boot_order "$A")" "disk network" "A: after defaultboot QEMU starts from disk"

# The backups hold the secure XML, mode 0600.
req GET "/service/$A/backups"
id=$(jq -r '.[0].id' "$T/body")
expect_jq '[.[].reason] | join(" ")' "once-restore pxeboot diskboot pxeboot" \
    "A: one backup per change, newest first (defaultboot back to the same order changes nothing)"
req GET "/service/$A/backups/$id"
check "A: the newest backup holds the VNC password" grep -qF "passwd='vnc-s3cr'" "$T/body"
check "A: the newest backup names the LUKS secret" grep -qF "uuid='$LUKS_UUID'" "$T/body"
# Backups are kept by UUID (API.md section 2).
AUUID=$($VIRSH domuuid "$A" | head -n1)
check "A: backup files are mode 0600" sh -c 'ls "$1"/*.xml >/dev/null 2>&1 && [ -z "$(find "$1" -name "*.xml" ! -perm 0600)" ]' _ "$T/backups/$AUUID"
req GET "/service/$A/backups"
first=$(jq -r '.[-1].id' "$T/body")
req GET "/service/$A/backups/$first"
# (A backup file may start with a comment line of virtmcd's own.)
expect_same_xml "$(body | sed '1{/^<!--.*-->$/d}' | xml_norm)" "$before" "A: the first backup is the original definition"

# ---- B: off, RBD with a ceph secret, <os> boot style ----
before=$(inactive_xml "$B")
nb_before=$(printf '%s\n' "$before" | xml_norm --no-boot)
check "fixture: B's XML names the ceph secret" has "$B" "<secret type='ceph' uuid='$CEPH_UUID'/>"
action "$B" pxeboot
expect_action done "shut off" "B: pxeboot"
expect_same_xml "$(inactive_xml "$B" | xml_norm --no-boot)" "$nb_before" "B: after pxeboot the definition is unchanged but for boot elements"
check "B: the <os> boot style is kept" sh -c 'inactive_xml() { virsh -q -c qemu:///system dumpxml --inactive "$1"; }; x=$(inactive_xml "$1"); echo "$x" | grep -q "<boot dev=.network./>" && ! echo "$x" | grep -q "<boot order="' _ "$B"
check "B: the RBD <auth> and its secret survived" has "$B" "<auth username='vmcd'>"
action "$B" cdromboot
expect_error 409 "B: cdromboot without a cdrom"
action "$B" diskboot
expect_action done "shut off" "B: diskboot"
expect_same_xml "$(inactive_xml "$B" | xml_norm --no-boot)" "$nb_before" "B: after diskboot the definition is unchanged but for boot elements"
req PUT "/service/$B/boot" -H 'Content-Type: application/json' -d '{"first": "network", "persistent": true}'
expect_jq '"\(.result) \(.first)"' "done network" "B: PUT /boot first network"
expect_same_xml "$(inactive_xml "$B" | xml_norm --no-boot)" "$nb_before" "B: after PUT /boot the definition is unchanged but for boot elements"
action "$B" defaultboot
expect_same_xml "$(inactive_xml "$B" | xml_norm)" "$before" "B: after defaultboot the definition is the original, byte for byte"
check "B: the ceph secret itself is untouched" sh -c '[ "$(virsh -q -c qemu:///system secret-get-value "$1" | base64 -d)" = ceph-key ]' _ "$CEPH_UUID"

check "virtmcd is still running" kill -0 "$DAEMON_PID"
expect_clean_exit
finish

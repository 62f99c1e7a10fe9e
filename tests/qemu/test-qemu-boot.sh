#!/bin/sh
# test-qemu-boot.sh: boot order proven in QEMU (API.md section 2).  For both
# libvirt styles (<os><boot dev=.../> and per-device <boot order=.../>) the
# order QEMU really got -- the "bootindex" of each -device in
# /proc/<qemu pid>/cmdline -- follows pxeboot/diskboot after a start, a
# power_cycle, a force_reset with a pending change, restart=1, and once=1
# (one start from the network, the next from disk).  This is the
# cold-restart path: [boot] live_update = no (test-qemu-firmware.sh proves
# the live one with the firmware's own log).
. "$(dirname "$0")/lib.sh"
qemu_init shared

write_conf 'live_update = no'
# A MAC of this run's own (from the PID): two runs on one libvirtd must not
# share one, or the start guard rightly refuses the second guest.
MAC2=$(printf '52:54:00:7e:%02x:%02x' $(($$ / 256 % 256)) $(($$ % 256)))
make_guest dev device "<interface type='user'><mac address='$MAC2'/><model type='virtio'/><boot order='3'/></interface>" || exit 1
DEV=$GUEST
make_guest os os || exit 1
OS=$GUEST
start_daemon || exit 1
MAC1=$(inactive_xml "$DEV" | sed -n "s/.*<mac address='\([^']*\)'.*/\1/p" | grep -v "$MAC2" | head -n1)

# has_style NAME STYLE: the persistent XML uses that style, and only it.
has_style() {
    local x
    x=$(inactive_xml "$1")
    case $2 in
    os) echo "$x" | grep -q "<boot dev=" && ! echo "$x" | grep -q "<boot order=" ;;
    device) echo "$x" | grep -q "<boot order=" && ! echo "$x" | grep -q "<boot dev=" ;;
    esac
}

# os_first NAME: the first <os><boot dev=...> of the persistent XML.
os_first() { inactive_xml "$1" | sed -n "s/.*<boot dev='\([^']*\)'.*/\1/p" | head -n1; }

# expect_qemu NAME ORDER DESC: QEMU's bootindex order is ORDER.
expect_qemu() { expect_eq "$(qemu_boot_order "$1")" "$2" "$3: QEMU bootindex order is '$2'"; }

# boot_suite NAME STYLE API-STYLE DISK-NET-ORDER NET-DISK-ORDER
boot_suite() {
    local G=$1 S=$2 AS=$3 DN=$4 ND=$5 pid pid2 orig
    echo "# ---- $S style: $G"
    orig=$(inactive_xml "$G")
    req GET "/service/$G/boot"
    expect_jq '"\(.style) \(.first) \(.pending) \(.once) \(.mode)"' "$AS disk false false legacy" \
        "$S: GET /boot of the new guest: style $AS, first disk, not pending, legacy"

    # Off: pxeboot, then a start from the network.
    action "$G" pxeboot
    expect_action done "shut off" "$S: pxeboot of a guest that is off"
    expect_jq '"\(.first) \(.applies) \(.persistent) \(.once)"' "network next_boot true false" \
        "$S: pxeboot answer: first network, applies next_boot, persistent"
    check "$S: pxeboot kept the $S style in the persistent XML" has_style "$G" "$S"
    req GET "/service/$G/boot"
    expect_jq '"\(.style) \(.first) \(.pending)"' "$AS network false" "$S: GET /boot after pxeboot (off): first network, not pending"
    action "$G" power_on
    expect_action done running "$S: power_on after pxeboot"
    pid=$(qemu_pid "$G")
    expect_qemu "$G" "$ND" "$S: after pxeboot and a start"
    if [ "$S" = os ]; then
        # What libvirt 9.0 emits for <os><boot dev=...>: per-device
        # bootindex, and -boot without order= (so bootindex is the order).
        expect_eq "$(qemu_boot_opt "$G")" "strict=on" "os: libvirt gives QEMU '-boot strict=on' (no order=)"
        expect_eq "$(os_first "$G")" network "os: the persistent XML's first <boot dev> is network"
    else
        expect_eq "$(qemu_boot_macs "$G")" "$MAC1 $MAC2" "device: NIC 1 stays before NIC 2 in QEMU"
        req GET "/service/$G/boot"
        expect_jq '[.order[] | "\(.class)=\(.device)=\(.order)"] | join(" ")' \
            "network=$MAC1=1 network=$MAC2=2 disk=vda=3" "device: GET /boot lists both NICs, then the disk"
    fi

    # Running: diskboot waits for the next boot; power_cycle applies it.
    action "$G" diskboot
    expect_action done running "$S: diskboot of the running guest"
    expect_jq '"\(.first) \(.applies)"' "disk next_boot" "$S: diskboot on a running guest says applies next_boot"
    req GET "/service/$G/boot"
    expect_jq '"\(.first) \(.pending)"' "disk true" "$S: GET /boot: first disk, pending true"
    expect_eq "$(qemu_pid "$G")" "$pid" "$S: diskboot left the QEMU process alone"
    expect_qemu "$G" "$ND" "$S: the running QEMU keeps the old order"
    action "$G" power_cycle
    expect_action done running "$S: power_cycle applies the pending change"
    pid2=$(qemu_pid "$G")
    check "$S: power_cycle gave a new QEMU process" [ -n "$pid2" ] && [ "$pid2" != "$pid" ]
    expect_qemu "$G" "$DN" "$S: after diskboot and power_cycle"
    req GET "/service/$G/boot"
    expect_jq '"\(.first) \(.pending)"' "disk false" "$S: GET /boot after power_cycle: first disk, pending false"

    # force_reset with a pending change restarts QEMU (a warm reset would not apply it).
    action "$G" pxeboot
    req GET "/service/$G/boot"
    expect_jq .pending true "$S: pxeboot on the running guest: pending"
    pid=$(qemu_pid "$G")
    action "$G" force_reset
    expect_action done running "$S: force_reset with a pending boot change"
    pid2=$(qemu_pid "$G")
    check "$S: force_reset with a pending change gave a new QEMU process" [ -n "$pid2" ] && [ "$pid2" != "$pid" ]
    expect_qemu "$G" "$ND" "$S: after pxeboot and force_reset"
    req GET "/service/$G/boot"
    expect_jq .pending false "$S: GET /boot after force_reset: not pending"

    # restart=1 applies it now.
    pid=$pid2
    action "$G" diskboot restart=1
    expect_jq '"\(.result) \(.state) \(.first) \(.applies)"' "done running disk now" \
        "$S: diskboot?restart=1 on a running guest applies now"
    pid2=$(qemu_pid "$G")
    check "$S: restart=1 gave a new QEMU process" [ -n "$pid2" ] && [ "$pid2" != "$pid" ]
    expect_qemu "$G" "$DN" "$S: after diskboot?restart=1"
    req GET "/service/$G/boot"
    expect_jq .pending false "$S: GET /boot after restart=1: not pending"

    # once=1: one start from the network, the next from disk.
    action "$G" power_off
    action "$G" pxeboot once=1
    expect_jq '"\(.result) \(.first) \(.once) \(.persistent)"' "done network true false" "$S: pxeboot?once=1"
    req GET "/service/$G/boot"
    expect_jq '"\(.first) \(.once) \(.persistent)"' "network true false" "$S: GET /boot: once armed, first network"
    action "$G" power_on
    expect_action done running "$S: the start after pxeboot?once=1"
    expect_qemu "$G" "$ND" "$S: the one-time start is from the network"
    if wait_boot "$G" '.once == false and .first == "disk"' 3000; then
        ok "$S: the one-time order is undone once started ($WAITED ms): first disk"
    else
        not_ok "$S: the one-time order was not undone within 3 s"
    fi
    expect_jq '"\(.persistent) \(.pending)"' "true true" "$S: after the one-time start: persistent, disk pending for the next start"
    check "$S: the one-time round trip kept the $S style" has_style "$G" "$S"
    action "$G" power_cycle
    expect_action done running "$S: the next start (power_cycle)"
    expect_qemu "$G" "$DN" "$S: the next start is from disk"
    req GET "/service/$G/boot"
    expect_jq '"\(.first) \(.once) \(.pending)"' "disk false false" "$S: GET /boot after the next start"
    action "$G" power_cycle
    expect_qemu "$G" "$DN" "$S: and the one after that from disk too"

    # No cdrom: 409, nothing changes.
    action "$G" power_off
    local before
    before=$(inactive_xml "$G")
    action "$G" cdromboot
    expect_error 409 "$S: cdromboot of a guest without a cdrom"
    expect_same_xml "$(inactive_xml "$G")" "$before" "$S: the refused cdromboot changed nothing"

    # defaultboot: back to the definition virtmcd first saw.
    action "$G" pxeboot
    action "$G" defaultboot
    expect_action done "shut off" "$S: defaultboot"
    expect_same_xml "$(inactive_xml "$G" | xml_norm)" "$orig" \
        "$S: after defaultboot the definition is the original, byte for byte (but an empty virtmcd metadata element)"
    action "$G" power_on
    expect_qemu "$G" "$DN" "$S: a start after defaultboot is from disk"
    action "$G" power_off
    req GET "/service/$G/backups"
    expect_jq '(length > 5) and (.[0].reason == "defaultboot") and ([.[].reason] | index("once-restore") != null)' true \
        "$S: every change left a backup, newest first"
}

boot_suite "$DEV" device per-device "disk network network" "network network disk"
boot_suite "$OS" os os "disk network" "network disk"

# Concurrency on a real libvirtd.  A slow boot change on one guest
# (restart=1: destroy + create) does not hold up another guest's.
action "$DEV" power_on
action "$OS" power_off
curl -s -o "$T/slow.body" -X POST \
    "$BASE/service/$DEV/state_controller/pxeboot?restart=1" &
slow=$!
sleep 0.2
action "$OS" pxeboot
# Ordering, not a stopwatch: the quick change is answered while the slow
# one (a real destroy + create) is still running.
if kill -0 "$slow" 2>/dev/null; then still=yes; else still=no; fi
wait "$slow"
expect_action done "shut off" "pxeboot of one guest while another restarts"
check "... answered while the other guest's restart=1 was still in flight" [ "$still" = yes ]
check "... and the slow one succeeded" sh -c 'jq -e ".result == \"done\" and .applies == \"now\"" "$1" >/dev/null' _ "$T/slow.body"

# Eight concurrent changes on one guest: serialised, one backup per change,
# and the result is one whole order, never a mix.
req GET "/service/$DEV/backups"
nb0=$(jq length "$T/body")
for i in 1 2 3 4 5 6 7 8; do
    case $i in *[1357]) a=pxeboot ;; *) a=diskboot ;; esac
    curl -s -o "$T/conc.$i" -w '%{http_code}\n' -X POST "$BASE/service/$DEV/state_controller/$a" > "$T/conc.code.$i" &
    cpids="${cpids:-} $!"
done
wait $cpids
check "8 concurrent pxeboot/diskboot: all 200" sh -c '[ "$(cat "$1"/conc.code.* | sort -u)" = 200 ]' _ "$T"
ndone=$(cat "$T"/conc.[1-8] | jq -s '[.[] | select(.result == "done")] | length')
req GET "/service/$DEV/backups"
expect_eq "$(($(jq length "$T/body") - nb0))" "$ndone" "8 concurrent changes: one backup per change made ($ndone)"
x=$(inactive_xml "$DEV")
orders=$(echo "$x" | sed -n "s/.*<boot order='\([0-9]*\)'.*/\1/p" | sort -n | tr '\n' ' ')
expect_eq "$orders" "1 2 3 " "8 concurrent changes: the definition has boot orders 1, 2, 3, each once"
req GET "/service/$DEV/boot"
case $(jq -r .first "$T/body") in
network) want="network=$MAC1=1 network=$MAC2=2 disk=vda=3" ;;
*) want="disk=vda=1 network=$MAC1=2 network=$MAC2=3" ;;
esac
expect_jq '[.order[] | "\(.class)=\(.device)=\(.order)"] | join(" ")' "$want" \
    "8 concurrent changes: a whole order, not a mix ($(jq -r .first "$T/body") first)"
action "$DEV" power_off

# A UEFI guest (per-device order is the only style UEFI honours), where
# OVMF is installed (package ovmf, recommended by qemu-system-x86).
if ls /usr/share/OVMF/OVMF_CODE*.fd >/dev/null 2>&1; then
    echo "# ---- UEFI"
    if make_guest efi uefi; then
        EFI=$GUEST
        req GET "/service/$EFI/boot"
        expect_jq '"\(.mode) \(.style) \(.first)"' "uefi per-device disk" "uefi: GET /boot says mode uefi, per-device, first disk"
        action "$EFI" power_on
        expect_qemu "$EFI" "disk network" "uefi: the first start"
        check "uefi: QEMU runs OVMF from pflash" sh -c 'qemu_args() { tr "\0" "\n" < /proc/$1/cmdline; }; qemu_args "$1" | grep -q "OVMF_CODE"' _ "$(qemu_pid "$EFI")"
        action "$EFI" pxeboot restart=1
        expect_jq '"\(.result) \(.state) \(.applies)"' "done running now" "uefi: pxeboot?restart=1"
        expect_qemu "$EFI" "network disk" "uefi: after pxeboot?restart=1"
        check "uefi: pxeboot kept per-device order" has_style "$EFI" device
        action "$EFI" defaultboot restart=1
        expect_jq '"\(.result) \(.applies)"' "done now" "uefi: defaultboot?restart=1"
        expect_qemu "$EFI" "disk network" "uefi: after defaultboot?restart=1"
        action "$EFI" power_off
    else
        not_ok "uefi: OVMF is installed, but libvirt does not take a UEFI guest"
    fi
else
    echo "# UEFI part not run: OVMF is not installed (package ovmf)"
fi

# A transient guest has no definition to change: 409.
guest_xml "$PREFIX-trans" device > "$T/trans.xml"
qemu-img create -q -f raw "$IMAGES/$PREFIX-trans.img" 1M
GUESTS="$GUESTS $PREFIX-trans"
$VIRSH create "$T/trans.xml" >/dev/null
wait_status "$PREFIX-trans" running 1000
action "$PREFIX-trans" pxeboot
expect_error 409 "pxeboot of a transient guest"
expect_qemu "$PREFIX-trans" "disk network" "transient: the refused pxeboot changed nothing"

check "virtmcd is still running" kill -0 "$DAEMON_PID"
expect_clean_exit
finish

#!/bin/sh
# test-qemu-redfish.sh: the Redfish systems on a real libvirtd (issue 12):
# the name redirect, a disk's capacity from libvirt's block info (the test
# driver's is made up), the NIC's MAC libvirt assigned, Reset really starting
# and stopping QEMU, and a Once boot override set on a running guest being
# used by the next ForceRestart and then over (Disabled, the disk first);
# BootSourceOverrideMode UEFI makes the next start run OVMF, Legacy SeaBIOS.
. "$(dirname "$0")/lib.sh"
qemu_init shared

write_conf
make_guest rf device || exit 1
G=$GUEST
UUID=$($VIRSH domuuid "$G" | head -n1)
MAC=$($VIRSH domiflist "$G" | awk '{print $5}' | head -n1)
start_daemon || exit 1
S=/redfish/v1/Systems

reset() { req POST "$S/$UUID/Actions/ComputerSystem.Reset" -H 'Content-Type: application/json' \
    --data-binary "{\"ResetType\": \"$1\"}"; }
field() { curl -s "$BASE$S/$UUID" | jq -r "$1"; }

req GET "$S/$G"
expect_status 307 "a name redirects"
expect_eq "$(header Location)" "$BASE$S/$UUID" "to the UUID"
req GET "$S/$UUID"
expect_status 200 "the system"
expect_jq '.PowerState + " " + .Boot.BootSourceOverrideTarget + " " + .Boot.BootSourceOverrideEnabled' \
    "Off Hdd Disabled" "off, disk first, no override"
expect_jqc '.MemorySummary.TotalSystemMemoryGiB' 0.0625 "64 MiB is 0.0625 GiB"
req GET "$S/$UUID/SimpleStorage/1"
expect_jqc '[.Devices[] | {Name, CapacityBytes}]' '[{"Name":"vda","CapacityBytes":1048576}]' \
    "the disk's capacity from libvirt's block info (the 1 MiB image)"
req GET "$S/$UUID/Storage/1/Volumes/vda"
expect_jqc '[.CapacityBytes, .VolumeType]' '[1048576,"RawDevice"]' "Storage: the disk as a Volume, with its capacity"
req GET "$S/$UUID/EthernetInterfaces"
expect_jqc '[.Members[]."@odata.id"]' "[\"$S/$UUID/EthernetInterfaces/$MAC\"]" "the NIC, by the MAC libvirt gave it"

reset On
expect_status 204 "Reset On"
check "QEMU runs" [ -n "$(qemu_pid "$G")" ]
expect_eq "$(field .PowerState)" On "PowerState On"
req GET "$S/$UUID/EthernetInterfaces/$MAC"
expect_jq '.LinkStatus' LinkUp "LinkUp while running"

req PATCH "$S/$UUID" -H 'Content-Type: application/json' \
    --data-binary '{"Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once"}}'
expect_status 200 "PATCH Pxe Once on the running guest"
expect_jq '.Boot.BootSourceOverrideTarget + " " + .Boot.BootSourceOverrideEnabled' "Pxe Once" "Pxe Once"
reset ForceRestart
expect_status 204 "ForceRestart"
over() { [ "$(field '.Boot.BootSourceOverrideEnabled + " " + .Boot.BootSourceOverrideTarget')" = "Disabled Hdd" ]; }
wait_for 20 over
check "the restart used the Once order, which is then over: Disabled, disk first" over
expect_eq "$(field .PowerState)" On "still On"

reset GracefulShutdown
expect_status 204 "GracefulShutdown (a guest without an OS ignores ACPI)"
reset ForceOff
expect_status 204 "ForceOff"
check "QEMU is gone" [ -z "$(qemu_pid "$G")" ]
expect_eq "$(field .PowerState)" Off "PowerState Off"
reset PushPowerButton
expect_status 204 "PushPowerButton on a guest that is off"
check "QEMU runs again" [ -n "$(qemu_pid "$G")" ]
reset ForceOff

# ---- BootSourceOverrideMode: the firmware libvirt picks at the next start ----
# libvirt picks it from the firmware descriptors of Debian's ovmf.
if ls /usr/share/qemu/firmware/*edk2-x86_64*.json >/dev/null 2>&1; then
    mode() { req PATCH "$S/$UUID" -H 'Content-Type: application/json' \
        --data-binary "{\"Boot\": {\"BootSourceOverrideMode\": \"$1\"}}"; }
    nb0=$(curl -s -g "$BASE/service/$G/backups" | jq length)
    mode UEFI
    expect_status 200 "PATCH BootSourceOverrideMode UEFI"
    expect_jq .Boot.BootSourceOverrideMode UEFI "the system says UEFI"
    check "libvirt kept <os firmware='efi'>" sh -c "$VIRSH dumpxml --inactive '$G' | grep -q \"<os firmware='efi'>\""
    reset On
    expect_status 204 "Reset On with UEFI"
    check "QEMU runs an EFI firmware (OVMF) from pflash" sh -c "$VIRSH dumpxml '$G' | grep -q \"<loader .*type='pflash'.*OVMF\""
    check "its NVRAM was made" sh -c "$VIRSH dumpxml '$G' | grep -q '<nvram'"
    expect_eq "$(field .Boot.BootSourceOverrideTarget)" Hdd "the boot order is as it was"
    reset ForceOff
    mode Legacy
    expect_status 200 "PATCH BootSourceOverrideMode Legacy"
    reset On
    check "QEMU runs SeaBIOS again (no pflash)" sh -c "! $VIRSH dumpxml '$G' | grep -q \"type='pflash'\""
    expect_eq "$(field .Boot.BootSourceOverrideMode)" Legacy "the system says Legacy"
    reset ForceOff
    nb1=$(curl -s -g "$BASE/service/$G/backups" | jq length)
    check "both switches were backed up ($nb0 -> $nb1)" test "$nb1" -ge $((nb0 + 2))
else
    echo "# no EFI firmware descriptor in /usr/share/qemu/firmware (ovmf): the UEFI part is skipped"
fi
finish

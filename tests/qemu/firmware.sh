# firmware.sh: the firmware's own word on what it booted, for the
# real-hypervisor tests (sourced after lib.sh).
#
# SeaBIOS writes its log to the ISA debug console (I/O port 0x402); libvirt's
# QEMU command-line passthrough gives a guest one that writes to a file.  A
# banner ("SeaBIOS (version ...)") starts every boot; "Booting from ..." lines
# follow in the order the firmware tries devices: "Hard Disk" for a disk (an
# empty one fails and it moves on), "ROM" for a NIC's iPXE ROM.
#
# The log only grows (QEMU keeps it open; truncating it under QEMU would
# leave a hole), so a test notes its size before a reset (fw_mark) and reads
# what the next boot tried first (fw_first_after).

QEMU_NS=http://libvirt.org/schemas/domain/qemu/1.0

# fw_log NAME: the guest's firmware log.
fw_log() { echo "$IMAGES/$1.fw.log"; }

# fw_top NAME: the <qemu:commandline> for guest_xml/make_guest's EXTRA_TOP.
fw_top() {
    cat <<EOF2
<qemu:commandline xmlns:qemu='$QEMU_NS'>
    <qemu:arg value='-chardev'/>
    <qemu:arg value='file,id=seabioslog,path=$(fw_log "$1")'/>
    <qemu:arg value='-device'/>
    <qemu:arg value='isa-debugcon,iobase=0x402,chardev=seabioslog'/>
  </qemu:commandline>
EOF2
}

# fw_make_guest SUFFIX STYLE: make_guest under TCG (iPXE crashes under KVM on
# these machines) with the firmware log; sets GUEST.
fw_make_guest() {
    local saved=$DOMTYPE
    DOMTYPE=qemu
    make_guest "$1" "$2" "" "$(fw_top "$PREFIX-$1")"
    local rc=$?
    DOMTYPE=$saved
    return $rc
}

# fw_mark NAME: remember where the log ends (FW_MARK).
fw_mark() { FW_MARK=$(stat -c %s "$(fw_log "$1")" 2>/dev/null || echo 0); }

# fw_first_line NAME: after FW_MARK, the first "Booting from" line that
# follows a banner (a boot that started after the mark), or nothing.
fw_first_line() {
    tail -c +"$((FW_MARK + 1))" "$(fw_log "$1")" 2>/dev/null | tr -d '\000' |
        awk '/^SeaBIOS \(version/ { b = 1 } b && /^Booting from/ { print; exit }'
}

# fw_first_after NAME [MAX_MS]: wait (default 20 s) for the next boot's first
# device; prints "disk", "network" or the line itself; empty on time-out.
fw_first_after() {
    local start line
    start=$(ms)
    while :; do
        line=$(fw_first_line "$1")
        if [ -n "$line" ]; then
            case $line in
            "Booting from Hard Disk"*) echo disk ;;
            "Booting from ROM"*) echo network ;;
            *) echo "$line" ;;
            esac
            return 0
        fi
        [ $(($(ms) - start)) -ge "${2:-20000}" ] && return 1
        sleep 0.05
    done
}

# fw_show NAME: the log after FW_MARK, as TAP comments (for a failure).
fw_show() {
    tail -c +"$((FW_MARK + 1))" "$(fw_log "$1")" 2>/dev/null | tr -d '\000' |
        grep -a -E '^(SeaBIOS|Booting|Boot failed|No bootable)' | sed 's/^/#   fw: /'
}

#!/usr/bin/python3
"""sushy-client.py BASE USER PASSWORD: drive virtmcd's Redfish systems with
OpenStack's sushy library (Debian's python3-sushy), the way Ironic's redfish
hardware type does: list systems, get one by UUID and by name, read power and
boot, reset_system with each type, set_system_boot_options Once (which must
end after one boot), Continuous and mode (UEFI and back), and the inspection reads (memory,
processors, storage, NICs).  Prints "ok - ..." per check; exits 1 at the first
failure, 77 when sushy is missing.

Over the test driver of tests/data/node.xml (its vm-off machine).  Basic
authentication: the session service is a separate piece of the tree."""

import sys
import time

try:
    import sushy
    from sushy import auth as sushy_auth
except ImportError:
    print("# sushy is not installed: skipped")
    sys.exit(77)

OFF = "6695eb01-f6a4-8304-79aa-97f2502e1940"
RUN = "6695eb01-f6a4-8304-79aa-97f2502e193f"


def check(cond, what):
    if not cond:
        print("not ok - " + what)
        sys.exit(1)
    print("ok - " + what)


def wait_for(fn, secs=10):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if fn():
            return True
        time.sleep(0.05)
    return fn()


def main():
    base, user, password = sys.argv[1:4]
    root = sushy.Sushy(base + "/redfish/v1/",
                       auth=sushy_auth.BasicAuth(username=user, password=password))

    systems = root.get_system_collection()
    ids = {p.rsplit("/", 1)[-1] for p in systems.members_identities}
    check(OFF in ids and RUN in ids, "the collection lists systems by UUID")

    s = root.get_system("/redfish/v1/Systems/" + OFF)
    check(s.identity == OFF and s.name == "vm-off", "get_system by UUID")
    check(s.power_state == sushy.PowerState.OFF, "power_state off")
    by_name = root.get_system("/redfish/v1/Systems/vm-off")
    check(by_name.identity == OFF, "get_system by name follows the redirect to the UUID")

    # Inspection, as Ironic's redfish inspect interface reads it.
    check(s.memory_summary.size_gib == 1, "memory_summary.size_gib")
    count, arch = s.processors.summary
    check(count == 1, "processors.summary: 1 thread (%s)" % count)
    check(arch == sushy.ProcessorArchitecture.X86, "processors.summary: x86")
    nics = s.ethernet_interfaces.summary
    check(set(nics) == {"52:54:00:00:02:01", "52:54:00:00:02:02"},
          "ethernet_interfaces.summary: the MACs")
    sizes = s.simple_storage.disks_sizes_bytes
    check(all(isinstance(x, int) for x in sizes) and len(sizes) >= 1,
          "simple_storage.disks_sizes_bytes: %s" % sorted(sizes))
    vols = s.storage.volumes_sizes_bytes
    check(len(vols) == 2 and all(isinstance(x, int) for x in vols),
          "storage.volumes_sizes_bytes: %s" % vols)
    check(sorted(s.storage.drives_sizes_bytes) == sorted(vols),
          "storage.drives_sizes_bytes: the same disks")
    check(s.managers[0].identity == "virtmcd", "the system's manager")
    check(s.boot.mode == sushy.BootSourceOverrideMode.LEGACY, "boot.mode: Legacy")

    allowed = s.get_allowed_reset_system_values()
    check({sushy.ResetType.ON, sushy.ResetType.FORCE_OFF, sushy.ResetType.FORCE_RESTART,
           sushy.ResetType.GRACEFUL_RESTART, sushy.ResetType.GRACEFUL_SHUTDOWN,
           sushy.ResetType.NMI, sushy.ResetType.FORCE_ON, sushy.ResetType.PUSH_POWER_BUTTON,
           sushy.ResetType.POWER_CYCLE} <= set(allowed), "every ResetType is allowed")

    def power_is(state):
        def f():
            s.refresh()
            return s.power_state == state
        return f

    on, off = sushy.PowerState.ON, sushy.PowerState.OFF
    for rt, after in ((sushy.ResetType.ON, on), (sushy.ResetType.FORCE_RESTART, on),
                      (sushy.ResetType.GRACEFUL_RESTART, on), (sushy.ResetType.NMI, on),
                      (sushy.ResetType.FORCE_ON, on), (sushy.ResetType.POWER_CYCLE, on),
                      (sushy.ResetType.GRACEFUL_SHUTDOWN, off),
                      (sushy.ResetType.PUSH_POWER_BUTTON, on),
                      (sushy.ResetType.PUSH_POWER_BUTTON, off),
                      (sushy.ResetType.ON, on), (sushy.ResetType.FORCE_OFF, off),
                      (sushy.ResetType.FORCE_OFF, off)):
        s.reset_system(rt)
        check(wait_for(power_is(after)), "reset_system(%s): power %s" % (rt.value, after.value))

    # Boot: Once is once.
    s.refresh()
    s.set_system_boot_options(target=sushy.BootSource.PXE,
                              enabled=sushy.BootSourceOverrideEnabled.ONCE)
    s.refresh()
    check(s.boot.target == sushy.BootSource.PXE, "boot target Pxe")
    check(s.boot.enabled == sushy.BootSourceOverrideEnabled.ONCE, "boot enabled Once")
    s.reset_system(sushy.ResetType.ON)

    def once_over():
        s.refresh()
        return s.boot.enabled == sushy.BootSourceOverrideEnabled.DISABLED

    check(wait_for(once_over), "after one boot, enabled is Disabled")
    check(s.boot.target == sushy.BootSource.HDD, "and the disk is first again")
    s.reset_system(sushy.ResetType.FORCE_OFF)

    s.refresh()
    s.set_system_boot_options(target=sushy.BootSource.PXE,
                              enabled=sushy.BootSourceOverrideEnabled.CONTINUOUS)
    s.refresh()
    check(s.boot.enabled == sushy.BootSourceOverrideEnabled.CONTINUOUS
          and s.boot.target == sushy.BootSource.PXE, "Pxe Continuous")
    s.reset_system(sushy.ResetType.ON)
    s.reset_system(sushy.ResetType.FORCE_OFF)
    s.refresh()
    check(s.boot.enabled == sushy.BootSourceOverrideEnabled.CONTINUOUS, "Continuous survives a boot")
    s.set_system_boot_options(target=sushy.BootSource.HDD,
                              enabled=sushy.BootSourceOverrideEnabled.DISABLED)
    s.refresh()
    check(s.boot.enabled == sushy.BootSourceOverrideEnabled.DISABLED, "Disabled again")

    s.set_system_boot_options(mode=sushy.BootSourceOverrideMode.LEGACY)
    check(True, "setting the mode it has is accepted")
    s.refresh()
    s.set_system_boot_options(mode=sushy.BootSourceOverrideMode.UEFI)
    s.refresh()
    check(s.boot.mode == sushy.BootSourceOverrideMode.UEFI, "set_system_boot_options mode UEFI")
    s.set_system_boot_options(target=sushy.BootSource.PXE,
                              enabled=sushy.BootSourceOverrideEnabled.ONCE,
                              mode=sushy.BootSourceOverrideMode.LEGACY)
    s.refresh()
    check(s.boot.mode == sushy.BootSourceOverrideMode.LEGACY
          and s.boot.target == sushy.BootSource.PXE, "mode Legacy with Pxe once, in one call")
    s.set_system_boot_options(enabled=sushy.BootSourceOverrideEnabled.DISABLED)
    try:
        s.refresh()
        s.set_system_boot_options(target=sushy.BootSource.CD)
        check(False, "Cd on a machine without a CD-ROM is refused")
    except sushy.exceptions.BadRequestError as e:
        check("no cdrom device" in str(e), "Cd on a machine without a CD-ROM is refused, saying why")
    try:
        s.set_system_boot_options(target=sushy.BootSource.BIOS_SETUP)
        check(False, "BiosSetup is refused")
    except sushy.exceptions.InvalidParameterValueError:
        check(True, "sushy refuses BiosSetup itself: it is not in AllowableValues")
    return 0


if __name__ == "__main__":
    sys.exit(main())

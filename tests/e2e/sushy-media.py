#!/usr/bin/python3
"""sushy-media.py BASE OP OP_PASSWORD WEBOP WEBOP_PASSWORD: drive virtmcd's
Redfish virtual media with OpenStack's sushy library (Debian's
python3-sushy), the way Ironic's redfish-virtual-media boot interface does:
find the CD among the system's managers' virtual media (what a sushy
without System.VirtualMedia offers), eject what is inserted, insert_media
into a member whose media_types has CD, set the boot device Cd once,
eject_media; and the same on the system's own VirtualMedia collection
(what newer sushy's system.virtual_media reads).  Prints "ok - ..." per
check; exits 1 at the first failure, 77 when sushy is missing.

Over the test driver of tests/data/node.xml: WEBOP sees one system (web 01),
OP sees them all (and vm-off is used)."""

import sys

try:
    import sushy
    from sushy import auth as sushy_auth
    from sushy.resources.manager import virtual_media
except ImportError:
    print("# sushy is not installed: skipped")
    sys.exit(77)

OFF = "6695eb01-f6a4-8304-79aa-97f2502e1940"
WEB = "6695eb01-f6a4-8304-79aa-97f2502e1946"
ISO = "http://images.example/ironic/deploy.iso"
CD = sushy.VIRTUAL_MEDIA_CD


def check(cond, what):
    if not cond:
        print("not ok - " + what)
        sys.exit(1)
    print("ok - " + what)


def connect(base, user, password):
    return sushy.Sushy(base + "/redfish/v1/",
                       auth=sushy_auth.BasicAuth(username=user, password=password))


def ironic_insert(managers, url):
    """Ironic's _eject_vmedia then _insert_vmedia over the managers."""
    for manager in managers:
        for v in manager.virtual_media.get_members():
            if CD in v.media_types and v.inserted:
                v.eject_media()
    for manager in managers:
        for v in manager.virtual_media.get_members():
            if CD not in v.media_types or v.inserted:
                continue
            v.insert_media(url, inserted=True, write_protected=True)
            return v
    return None


def main():
    base, op, op_pw, webop, webop_pw = sys.argv[1:6]

    # A user per node: the manager's collection holds that node's CD.
    root = connect(base, webop, webop_pw)
    s = root.get_system("/redfish/v1/Systems/" + WEB)
    managers = s.managers
    check(len(managers) == 1 and managers[0].identity == "virtmcd", "the system's one manager")
    members = managers[0].virtual_media.get_members()
    check(len(members) == 1 and members[0].path.startswith("/redfish/v1/Systems/" + WEB),
          "the manager's virtual media is the caller's one system's Cd")
    v = members[0]
    check(set(v.media_types) == {sushy.VIRTUAL_MEDIA_CD, sushy.VIRTUAL_MEDIA_DVD},
          "media_types CD and DVD")
    check(v.inserted is False and v.image is None, "empty")

    v = ironic_insert(managers, ISO)
    check(v is not None, "Ironic's insert found a CD to insert into")
    v.refresh()
    check(v.inserted is True and v.image == ISO and v.image_name == "deploy.iso",
          "insert_media: inserted, image and image_name")
    check(v.connected_via == sushy.CONNECTED_VIA_URI, "connected_via URI")
    check(ironic_insert(managers, ISO) is not None, "a second deploy ejects and inserts again")

    s.refresh()
    s.set_system_boot_options(target=sushy.BootSource.CD,
                              enabled=sushy.BootSourceOverrideEnabled.ONCE)
    s.refresh()
    check(s.boot.target == sushy.BootSource.CD
          and s.boot.enabled == sushy.BootSourceOverrideEnabled.ONCE, "boot Cd once")
    v.refresh()
    v.eject_media()
    v.refresh()
    check(v.inserted is False and v.image is None, "eject_media")
    s.refresh()
    check(s.boot.target == sushy.BootSource.HDD,
          "after the eject the boot target is Hdd, not an empty drive")

    # A user who sees every system: the manager lists none (it cannot tell
    # which system is meant); the system's own collection is the way.
    root = connect(base, op, op_pw)
    s = root.get_system("/redfish/v1/Systems/" + OFF)
    check(s.managers[0].virtual_media.get_members() == [],
          "the manager lists no CD to a caller who sees several systems")
    coll = virtual_media.VirtualMediaCollection(
        root._conn, s.path + "/VirtualMedia", redfish_version=root.redfish_version)
    members = coll.get_members()
    check([m.identity for m in members] == ["Cd"], "the system's VirtualMedia: Cd")
    v = members[0]
    v.insert_media(ISO, inserted=True, write_protected=True)
    v.refresh()
    check(v.inserted and v.image == ISO, "insert_media on the system's Cd")
    s.refresh()
    s.set_system_boot_options(target=sushy.BootSource.CD,
                              enabled=sushy.BootSourceOverrideEnabled.CONTINUOUS)
    s.refresh()
    check(s.boot.target == sushy.BootSource.CD, "boot Cd continuous")
    v.eject_media()
    v.refresh()
    s.refresh()
    check(not v.inserted and s.boot.target == sushy.BootSource.HDD, "eject_media: Hdd again")
    try:
        v.insert_media(ISO, username="ironic", password="secret")
        check(False, "credentials for the image are refused")
    except sushy.exceptions.BadRequestError as e:
        check("credentials" in str(e), "credentials for the image are refused, saying why")
    s.set_system_boot_options(enabled=sushy.BootSourceOverrideEnabled.DISABLED)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""mrp-client.py: behaves exactly like Mr-Provisioner's libvirt BMC driver
(mr_provisioner/bmc_types/libvirt_bmc.py): plain GET, no credentials, any
answer but 200 is an error, and the power state decides a reboot with
state == "on".

usage: mrp-client.py BASE MACHINE COMMAND
  COMMAND: state | bootdev-pxe | bootdev-disk | bootdev-bios |
           power-on | power-off | power-reset | power-cycle |
           pxe-reboot | disk-reboot | bios-reboot
Prints the JSON of the last answer; exit 0 on success, 1 on a BMC error.
MRP_SOURCE=ADDR makes the requests come from that local address (to test
[auth] anonymous_networks on loopback: 127.0.0.2 is another peer).
"""
import http.client
import json
import os
import sys
import urllib.parse

BOOTDEV = {"pxe": "pxeboot", "disk": "diskboot", "bios": "defaultboot"}
POWER = {"on": "cyclepower", "off": "cyclepower", "reset": "reboot", "cycle": "force_reset"}


class BMCError(Exception):
    pass


class LibvirtBMC:
    def __init__(self, base, machine):
        self.url = "%s/service/%s/state_controller/" % (base, machine)

    def _get(self, what):
        # requests.get(url) in the driver: a plain GET, no credentials.
        u = urllib.parse.urlsplit(self.url + what)
        src = os.environ.get("MRP_SOURCE")
        try:
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30,
                                              source_address=(src, 0) if src else None)
            conn.request("GET", u.path)
            r = conn.getresponse()
            body = r.read()
            conn.close()
        except OSError as e:
            raise BMCError("%s: %s" % (what, e))
        if r.status != 200:
            raise BMCError("%s: status %d %s" % (what, r.status, body[:200]))
        return json.loads(body)

    def get_power(self):
        return self._get("status")["state"]

    def set_bootdev(self, dev):
        return self._get(BOOTDEV[dev])

    def set_power(self, state):
        return self._get(POWER[state])

    def reboot_with(self, dev):
        self.set_bootdev(dev)
        if self.get_power() == "on":
            return self.set_power("reset")
        return self.set_power("on")


def main():
    base, machine, cmd = sys.argv[1:4]
    bmc = LibvirtBMC(base, machine)
    try:
        if cmd == "state":
            out = {"state": bmc.get_power()}
        elif cmd.startswith("bootdev-"):
            out = bmc.set_bootdev(cmd[len("bootdev-"):])
        elif cmd.startswith("power-"):
            out = bmc.set_power(cmd[len("power-"):])
        elif cmd.endswith("-reboot"):
            out = bmc.reboot_with(cmd[: -len("-reboot")])
        else:
            print("unknown command", cmd, file=sys.stderr)
            return 2
    except BMCError as e:
        print(json.dumps({"bmc_error": str(e)}))
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

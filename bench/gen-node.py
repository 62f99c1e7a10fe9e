#!/usr/bin/python3
"""gen-node.py N FILE: a libvirt test-driver node (test:///FILE) of N machines
for bench/run.sh, in the format of tests/data/node.xml.

Names bench-00001 ... bench-NNNNN; every machine has a disk and a NIC (MACs
and disk paths unique) and a per-device boot order.  Three in four run, the
rest are shut off, so that a state filter has something to filter.  UUIDs
are b0000000-0000-4000-8000-<12 hex digits of the index>."""
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen-node.py N FILE")
    n = int(sys.argv[1])
    out = []
    out.append('<?xml version="1.0"?>\n'
               '<node xmlns:test="http://libvirt.org/schemas/domain/test/1.0">\n'
               '  <cpu><mhz>3000</mhz><model>x86_64</model><active>2</active><nodes>1</nodes>'
               '<sockets>1</sockets><cores>2</cores><threads>1</threads></cpu>\n'
               '  <memory>1073741824</memory>\n')
    for i in range(1, n + 1):
        name = "bench-%05d" % i
        state = "" if i % 4 else "\n    <test:runstate>5</test:runstate>"
        out.append(f"""  <domain type="test">
    <name>{name}</name>
    <uuid>b0000000-0000-4000-8000-{i:012x}</uuid>
    <memory unit="MiB">512</memory>
    <vcpu>1</vcpu>
    <os><type arch="x86_64">hvm</type></os>
    <devices>
      <disk type="file" device="disk">
        <source file="/var/lib/libvirt/images/{name}.qcow2"/>
        <target dev="vda" bus="virtio"/>
        <boot order="1"/>
      </disk>
      <interface type="user">
        <mac address="52:54:{(i >> 24) & 255:02x}:{(i >> 16) & 255:02x}:{(i >> 8) & 255:02x}:{i & 255:02x}"/>
        <model type="virtio"/>
        <boot order="2"/>
      </interface>
    </devices>{state}
  </domain>
""")
    out.append("</node>\n")
    with open(sys.argv[2], "w") as f:
        f.write("".join(out))


if __name__ == "__main__":
    main()

/* test-domxml.c: what domxml reads from the three libvirt fixtures (copies in
 * tests/data/bootxml/), from virtmcd metadata, and from memory units. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootxml.h"
#include "domxml.h"
#include "tap.h"
#include "util.h"

static char *load(const char *name)
{
    const char *srcdir = getenv("abs_srcdir");
    _cleanup_free_ char *p = strdup_printf("%s/tests/data/bootxml/%s",
                                           srcdir && *srcdir ? srcdir : ".", name);
    char *s = NULL;
    int r;

    if (!p)
        abort();
    r = read_file(p, 4 * 1024 * 1024, &s, NULL);
    if (r < 0) {
        fprintf(stderr, "%s: %s\n", p, strerror(-r));
        exit(1);
    }
    return s;
}

static DomInfo *parse_file(const char *name)
{
    _cleanup_free_ char *xml = load(name);
    DomInfo *d = NULL;

    CHECK_INT(domxml_parse(xml, &d), 0);
    if (!d)
        exit(1);
    return d;
}

static void test_web_uefi(void)
{
    _cleanup_(dom_info_freep) DomInfo *d = parse_file("web-uefi-in.xml");

    CHECK_INT(d->vcpus, 2);
    CHECK_INT(d->memory_kib, 2097152);
    CHECK_STR(d->arch, "x86_64");
    CHECK_INT(d->sockets, 0); /* no <cpu><topology> */
    CHECK_INT(d->n_ifaces, 2);
    if (d->n_ifaces == 2) {
        CHECK_STR(d->ifaces[0].mac, "52:54:00:12:34:01");
        CHECK_STR(d->ifaces[0].type, "bridge");
        CHECK_STR(d->ifaces[0].source, "br0");
        CHECK_STR(d->ifaces[0].model, "virtio");
        CHECK_STR(d->ifaces[1].mac, "52:54:00:12:34:02");
        CHECK_STR(d->ifaces[1].type, "network");
        CHECK_STR(d->ifaces[1].source, "default");
        CHECK_STR(d->ifaces[1].model, "virtio");
    }
    CHECK_INT(d->n_disks, 2);
    if (d->n_disks == 2) {
        CHECK_STR(d->disks[0].target, "vda");
        CHECK_STR(d->disks[0].device, "disk");
        CHECK_STR(d->disks[0].source, "/var/lib/libvirt/images/web-uefi.qcow2");
        CHECK_STR(d->disks[1].target, "sda");
        CHECK_STR(d->disks[1].device, "cdrom");
        CHECK_STR(d->disks[1].source, "/var/lib/libvirt/images/debian-12-netinst.iso");
    }
    CHECK_INT(d->n_graphics, 1);
    if (d->n_graphics == 1) {
        CHECK_STR(d->graphics[0].type, "vnc");
        CHECK_INT(d->graphics[0].port, -1);
        CHECK_STR(d->graphics[0].listen, "127.0.0.1");
    }
    /* libosinfo metadata is not virtmcd's. */
    CHECK(d->owner == NULL);
    CHECK(!d->boot_once);
    CHECK(d->description == NULL);
    CHECK_INT(d->n_tags, 0);
}

static void test_db_legacy(void)
{
    _cleanup_(dom_info_freep) DomInfo *d = parse_file("db-legacy-in.xml");

    CHECK_INT(d->vcpus, 4);
    CHECK_INT(d->memory_kib, 4194304);
    CHECK_INT(d->n_ifaces, 1);
    if (d->n_ifaces == 1) {
        CHECK_STR(d->ifaces[0].mac, "52:54:00:ab:cd:01");
        CHECK_STR(d->ifaces[0].type, "network");
        CHECK_STR(d->ifaces[0].source, "default");
        CHECK_STR(d->ifaces[0].model, "e1000");
    }
    CHECK_INT(d->n_disks, 3);
    if (d->n_disks == 3) {
        CHECK_STR(d->disks[0].target, "vda");
        CHECK_STR(d->disks[0].device, "disk");
        CHECK_STR(d->disks[0].source, "/dev/vg0/db-root");
        CHECK_STR(d->disks[1].target, "vdb");
        CHECK_STR(d->disks[1].device, "disk");
        CHECK_STR(d->disks[1].source, "rbd:pool/db-data");
        CHECK_STR(d->disks[2].target, "hdc");
        CHECK_STR(d->disks[2].device, "cdrom");
        CHECK(d->disks[2].source == NULL); /* empty drive */
    }
    CHECK_INT(d->n_graphics, 1);
    if (d->n_graphics == 1) {
        CHECK_STR(d->graphics[0].type, "spice");
        CHECK_INT(d->graphics[0].port, -1);
        CHECK(d->graphics[0].listen == NULL); /* <listen type='address'/> without one */
    }
    /* <description> of the domain is not virtmcd's description. */
    CHECK(d->description == NULL);
    CHECK(d->owner == NULL);
}

static void test_pxe_hostdev(void)
{
    _cleanup_(dom_info_freep) DomInfo *d = parse_file("pxe-hostdev-in.xml");

    CHECK_INT(d->vcpus, 1);
    CHECK_INT(d->memory_kib, 1048576);
    CHECK_INT(d->n_ifaces, 1);
    if (d->n_ifaces == 1) {
        CHECK_STR(d->ifaces[0].mac, "52:54:00:00:aa:01");
        CHECK_STR(d->ifaces[0].type, "direct");
        CHECK_STR(d->ifaces[0].source, "eno1");
        CHECK_STR(d->ifaces[0].model, "virtio");
    }
    CHECK_INT(d->n_disks, 1);
    if (d->n_disks == 1) {
        CHECK_STR(d->disks[0].target, "sda");
        CHECK_STR(d->disks[0].device, "disk");
        CHECK_STR(d->disks[0].source, "/var/lib/libvirt/images/pxe-hostdev.qcow2");
    }
    CHECK_INT(d->n_graphics, 1);
    if (d->n_graphics == 1) {
        CHECK_STR(d->graphics[0].type, "spice");
        CHECK_INT(d->graphics[0].port, -1);
    }
    CHECK_INT(d->n_tags, 0);
}

static void test_others(void)
{
    _cleanup_(dom_info_freep) DomInfo *a = parse_file("no-boot-in.xml");
    _cleanup_(dom_info_freep) DomInfo *b = parse_file("os-single-in.xml");
    _cleanup_(dom_info_freep) DomInfo *c = parse_file("virt-install-in.xml");

    /* <vcpu current='1'>2</vcpu>: the text, the maximum. */
    CHECK_INT(a->vcpus, 2);
    CHECK_INT(a->n_disks, 4);
    if (a->n_disks == 4) {
        CHECK_STR(a->disks[0].device, "floppy");
        CHECK_STR(a->disks[1].source, "default/no-boot-root.qcow2");
        CHECK_STR(a->disks[3].source, "/srv/share");
    }
    CHECK_INT(a->n_ifaces, 2);
    if (a->n_ifaces == 2) {
        CHECK_STR(a->ifaces[0].source, "br-prov");
        CHECK_STR(a->ifaces[1].type, "user");
        CHECK(a->ifaces[1].source == NULL);
    }
    CHECK_INT(b->n_graphics, 1);
    if (b->n_graphics == 1) {
        CHECK_INT(b->graphics[0].port, 5901);
        CHECK_STR(b->graphics[0].listen, "0.0.0.0");
    }
    /* virt-install writes <memory> without a unit: KiB. */
    CHECK_INT(c->memory_kib, 2097152);
    CHECK_INT(c->n_ifaces, 1);
    if (c->n_ifaces == 1)
        CHECK_STR(c->ifaces[0].mac, "52:54:00:6b:1c:2d");
}

static void test_metadata(void)
{
    _cleanup_(dom_info_freep) DomInfo *d = parse_file("metadata-in.xml");
    _cleanup_(dom_info_freep) DomInfo *e = NULL;
    /* Matched by namespace URI, whatever the prefix; other namespaces ignored. */
    const char *xml =
        "<domain type='kvm'><name>m</name><metadata>"
        "<x:instance xmlns:x='urn:not-virtmcd'><x:owner>mallory</x:owner></x:instance>"
        "<v:instance xmlns:v='" VIRTMCD_XMLNS "'>"
        "<v:owner>alice</v:owner><v:description>GPU &amp; &lt;more&gt;</v:description>"
        "<v:tag key='a'>1</v:tag><v:tag>no key</v:tag><v:tag key='b'/>"
        "<owner>not namespaced</owner><v:boot-once restore='20261202T101500.000000Z'/>"
        "</v:instance></metadata></domain>";

    CHECK_STR(d->owner, "bob");
    CHECK(d->boot_once); /* the fixture is armed */
    CHECK_STR(d->description, "CI runner, rack 4");
    CHECK_INT(d->n_tags, 2);
    if (d->n_tags == 2) {
        CHECK_STR(d->tags[0].key, "env");
        CHECK_STR(d->tags[0].value, "ci");
        CHECK_STR(d->tags[1].key, "team");
        CHECK_STR(d->tags[1].value, "infra");
    }

    CHECK_INT(domxml_parse(xml, &e), 0);
    if (!e)
        return;
    CHECK_STR(e->owner, "alice");
    CHECK(e->boot_once);
    CHECK_STR(e->description, "GPU & <more>");
    CHECK_INT(e->n_tags, 2);
    if (e->n_tags == 2) {
        CHECK_STR(e->tags[0].key, "a");
        CHECK_STR(e->tags[0].value, "1");
        CHECK_STR(e->tags[1].key, "b");
        CHECK_STR(e->tags[1].value, "");
    }
    CHECK_INT(e->vcpus, 0);
    CHECK_INT(e->memory_kib, 0);
    CHECK_INT(e->n_ifaces, 0);
    CHECK_INT(e->n_disks, 0);
}

static unsigned long long memory_of(const char *unit, const char *value)
{
    _cleanup_free_ char *xml = NULL;
    _cleanup_(dom_info_freep) DomInfo *d = NULL;

    if (unit)
        xml = strdup_printf("<domain><memory unit='%s'>%s</memory></domain>", unit, value);
    else
        xml = strdup_printf("<domain><memory>%s</memory></domain>", value);
    if (!xml)
        abort();
    if (domxml_parse(xml, &d) < 0)
        return ~0ULL;
    return d->memory_kib;
}

static void test_units(void)
{
    CHECK_INT(memory_of(NULL, "1024"), 1024);
    CHECK_INT(memory_of("b", "1048576"), 1024);
    CHECK_INT(memory_of("bytes", "1048576"), 1024);
    CHECK_INT(memory_of("b", "1"), 1); /* rounded up, as libvirt does */
    CHECK_INT(memory_of("KB", "1024"), 1000);
    CHECK_INT(memory_of("k", "7"), 7);
    CHECK_INT(memory_of("KiB", "7"), 7);
    CHECK_INT(memory_of("MB", "1"), 977); /* 1000000 / 1024 = 976.56 */
    CHECK_INT(memory_of("M", "2"), 2048);
    CHECK_INT(memory_of("MiB", "2"), 2048);
    CHECK_INT(memory_of("GB", "1"), 976563);
    CHECK_INT(memory_of("G", "4"), 4194304);
    CHECK_INT(memory_of("GiB", "4"), 4194304);
    CHECK_INT(memory_of("TB", "1"), 976562500);
    CHECK_INT(memory_of("T", "1"), 1073741824);
    CHECK_INT(memory_of("TiB", "1"), 1073741824);
    CHECK_INT(memory_of("KiB", " 512\n"), 512);
    /* What libvirt refuses reads as unknown. */
    CHECK_INT(memory_of("parsecs", "1"), 0);
    CHECK_INT(memory_of("KiB", "-1"), 0);
    CHECK_INT(memory_of("KiB", "12x"), 0);
    CHECK_INT(memory_of("EiB", "100000"), 0); /* overflows */
}

/* <os><type arch> and <cpu><topology>: all three counts or none. */
static void test_arch_topology(void)
{
    static const char full[] =
        "<domain><vcpu>8</vcpu><os><type arch='aarch64'>hvm</type></os>"
        "<cpu mode='host-passthrough'><topology sockets='2' dies='1' cores='2' threads='2'/>"
        "</cpu></domain>";
    static const char partial[] =
        "<domain><os><type>hvm</type></os><cpu><topology sockets='2' cores='x' "
        "threads='1'/></cpu></domain>";
    _cleanup_(dom_info_freep) DomInfo *d = NULL;
    _cleanup_(dom_info_freep) DomInfo *e = NULL;

    CHECK_INT(domxml_parse(full, &d), 0);
    if (d) {
        CHECK_STR(d->arch, "aarch64");
        CHECK_INT(d->sockets, 2);
        CHECK_INT(d->cores, 2);
        CHECK_INT(d->threads, 2);
    }
    CHECK_INT(domxml_parse(partial, &e), 0);
    if (e) {
        CHECK(e->arch == NULL);
        CHECK_INT(e->sockets, 0);
        CHECK_INT(e->cores, 0);
        CHECK_INT(e->threads, 0);
    }
}

static void test_details(void)
{
    const char *xml =
        "<domain type='kvm'><vcpu>3</vcpu><devices>"
        "<disk type='network' device='disk'><source protocol='nbd' name='export1'/>"
        "<target dev='vdc'/></disk>"
        "<disk type='volume'><source pool='p' volume='v'/><target dev='vdd'/></disk>"
        "<interface type='vhostuser'><source type='unix' path='/run/vh.sock' mode='client'/>"
        "</interface>"
        "<interface type='udp'><source address='10.0.0.1' port='5555'/></interface>"
        "<graphics type='vnc' port='5905' autoport='no'><listen type='address' address='::1'/>"
        "</graphics>"
        "<graphics type='spice' port='5906' autoport='yes' listen='0.0.0.0'/>"
        "<graphics type='vnc' port='99999'/>"
        "</devices></domain>";
    _cleanup_(dom_info_freep) DomInfo *d = NULL;
    DomInfo *untouched = (DomInfo *)&xml;

    CHECK_INT(domxml_parse(xml, &d), 0);
    if (!d)
        return;
    CHECK_INT(d->vcpus, 3);
    CHECK_INT(d->n_disks, 2);
    if (d->n_disks == 2) {
        CHECK_STR(d->disks[0].source, "nbd:export1");
        CHECK_STR(d->disks[1].device, "disk");
        CHECK_STR(d->disks[1].source, "p/v");
    }
    CHECK_INT(d->n_ifaces, 2);
    if (d->n_ifaces == 2) {
        CHECK_STR(d->ifaces[0].source, "/run/vh.sock");
        CHECK(d->ifaces[0].mac == NULL);
        CHECK(d->ifaces[0].model == NULL);
        CHECK_STR(d->ifaces[1].source, "10.0.0.1:5555");
    }
    CHECK_INT(d->n_graphics, 3);
    if (d->n_graphics == 3) {
        CHECK_INT(d->graphics[0].port, 5905);
        CHECK_STR(d->graphics[0].listen, "::1");
        CHECK_INT(d->graphics[1].port, -1); /* autoport and not running */
        CHECK_STR(d->graphics[1].listen, "0.0.0.0");
        CHECK_INT(d->graphics[2].port, -1);
        CHECK(d->graphics[2].listen == NULL);
    }

    CHECK_INT(domxml_parse("<network/>", &untouched), -EINVAL);
    CHECK_INT(domxml_parse("<domain>", &untouched), -EINVAL);
    CHECK_INT(domxml_parse("", &untouched), -EINVAL);
    CHECK_INT(domxml_parse(NULL, &untouched), -EINVAL);
    CHECK_INT(domxml_parse("<!DOCTYPE d [<!ENTITY e 'x'>]><domain>&e;</domain>", &untouched),
              -EINVAL);
    CHECK(untouched == (DomInfo *)&xml);
    dom_info_free(NULL);
}

int main(void)
{
    test_web_uefi();
    test_db_legacy();
    test_pxe_hostdev();
    test_others();
    test_metadata();
    test_units();
    test_arch_topology();
    test_details();
    return tap_done();
}

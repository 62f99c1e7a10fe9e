/* virt-addr.c: a running guest's IP addresses, as libvirt knows them
 * (virDomainInterfaceAddresses), API.md section 3.
 *
 * libvirt has three sources and none is always there: the DHCP leases of
 * its own networks (nothing for bridged or user-mode NICs), the QEMU guest
 * agent (only with an agent in the guest; may take the agent's timeout),
 * and the host's ARP table (only hosts that talked recently).  They are
 * tried in that order, cheapest and most authoritative first, and the first
 * with an address wins.  Reads only: it never changes a domain, and it holds
 * no virtmcd lock across the calls. */
#include "config.h"

#include "log.h"
#include "strtable.h"
#include "util.h"
#include "virt-private.h"

static const char *const virt_addr_source_table[_VIRT_ADDR_SOURCE_MAX] = {
    [VIRT_ADDR_SOURCE_LEASE] = "lease",
    [VIRT_ADDR_SOURCE_AGENT] = "agent",
    [VIRT_ADDR_SOURCE_ARP] = "arp",
};
DEFINE_STRING_TABLE_LOOKUP(virt_addr_source, VirtAddrSource)

static const char *const virt_addr_family_table[_VIRT_ADDR_FAMILY_MAX] = {
    [VIRT_ADDR_IPV4] = "ipv4",
    [VIRT_ADDR_IPV6] = "ipv6",
};
DEFINE_STRING_TABLE_LOOKUP(virt_addr_family, VirtAddrFamily)

/* libvirt's source for each of ours, in the order they are tried. */
static const unsigned source_flags[_VIRT_ADDR_SOURCE_MAX] = {
    [VIRT_ADDR_SOURCE_LEASE] = VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE,
    [VIRT_ADDR_SOURCE_AGENT] = VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT,
    [VIRT_ADDR_SOURCE_ARP] = VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP,
};

static void iface_clear(VirtIface *f)
{
    for (size_t i = 0; i < f->n_addrs; i++)
        free(f->addrs[i].address);
    free(f->addrs);
    free(f->name);
    free(f->mac);
}

void virt_addresses_free(VirtAddresses *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n_ifaces; i++)
        iface_clear(&a->ifaces[i]);
    free(a->ifaces);
    free(a);
}

VirtAddresses *virt_addresses_dup(const VirtAddresses *a)
{
    _cleanup_(virt_addresses_freep) VirtAddresses *d = calloc(1, sizeof(*d));

    if (!d)
        return NULL;
    d->source = a->source;
    if (a->n_ifaces == 0)
        return steal_ptr(&d);
    d->ifaces = calloc(a->n_ifaces, sizeof(VirtIface));
    if (!d->ifaces)
        return NULL;
    for (size_t i = 0; i < a->n_ifaces; i++) {
        const VirtIface *s = &a->ifaces[i];
        VirtIface *f = &d->ifaces[i];

        d->n_ifaces++; /* freed with d from here on, however far it got */
        f->name = strdup_null(s->name);
        f->mac = strdup_null(s->mac);
        if ((s->name && !f->name) || (s->mac && !f->mac))
            return NULL;
        if (s->n_addrs == 0)
            continue;
        f->addrs = calloc(s->n_addrs, sizeof(VirtIpAddr));
        if (!f->addrs)
            return NULL;
        for (size_t k = 0; k < s->n_addrs; k++) {
            f->addrs[k] = s->addrs[k];
            f->addrs[k].address = strdup_null(s->addrs[k].address);
            f->n_addrs++;
            if (s->addrs[k].address && !f->addrs[k].address)
                return NULL;
        }
    }
    return steal_ptr(&d);
}

static void ifaces_free(virDomainInterfacePtr *ifs, int n)
{
    for (int i = 0; i < n; i++)
        virDomainInterfaceFree(ifs[i]);
    free(ifs);
}

/* libvirt's answer as ours; the addresses libvirt gives without a text or
 * of a family it adds later are left out. */
static int convert(VirtAddrSource src, virDomainInterfacePtr *ifs, int n, VirtAddresses **ret,
                   size_t *ret_n_addrs)
{
    _cleanup_(virt_addresses_freep) VirtAddresses *a = calloc(1, sizeof(*a));
    size_t total = 0;

    if (!a)
        return -ENOMEM;
    a->source = src;
    if (n > 0 && !(a->ifaces = calloc((size_t)n, sizeof(VirtIface))))
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        const virDomainInterface *s = ifs[i];
        VirtIface *f = &a->ifaces[a->n_ifaces++];

        /* With the agent source, the guest names its interfaces: whatever
         * bytes it likes, and JSON wants UTF-8. */
        f->name = s->name ? utf8_sanitize(s->name) : NULL;
        f->mac = s->hwaddr ? utf8_sanitize(s->hwaddr) : NULL;
        if ((s->name && !f->name) || (s->hwaddr && !f->mac))
            return -ENOMEM;
        if (s->naddrs == 0)
            continue;
        f->addrs = calloc(s->naddrs, sizeof(VirtIpAddr));
        if (!f->addrs)
            return -ENOMEM;
        for (unsigned k = 0; k < s->naddrs; k++) {
            const virDomainIPAddress *ip = &s->addrs[k];
            VirtAddrFamily fam = ip->type == VIR_IP_ADDR_TYPE_IPV4   ? VIRT_ADDR_IPV4
                                 : ip->type == VIR_IP_ADDR_TYPE_IPV6 ? VIRT_ADDR_IPV6
                                                                     : _VIRT_ADDR_FAMILY_INVALID;

            if (!ip->addr || fam == _VIRT_ADDR_FAMILY_INVALID)
                continue;
            f->addrs[f->n_addrs] = (VirtIpAddr){ .prefix = ip->prefix, .family = fam };
            f->addrs[f->n_addrs].address = utf8_sanitize(ip->addr);
            if (!f->addrs[f->n_addrs].address)
                return -ENOMEM;
            f->n_addrs++;
            total++;
        }
    }
    *ret = steal_ptr(&a);
    *ret_n_addrs = total;
    return 0;
}

int virt_machine_addresses(Host *h, const char *name, VirtAddresses **ret)
{
    VIRT_OP(h, "addresses");
    _cleanup_(virConnectClosep) virConnectPtr c = virt_host_conn(h);
    _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
    VirtAddresses *none;
    int active;

    if (!c)
        return -ENOTCONN;
    dom = virDomainLookupByName(c, name);
    if (!dom) {
        int r = virt_errno("look up", name);

        if (r == -ENOENT)
            error_setf("machine '%s' not found", name);
        return r;
    }
    active = virDomainIsActive(dom);
    if (active < 0)
        return virt_errno("read the state of", name);
    if (!active) {
        error_setf("machine '%s' is not running: it has no addresses", name);
        return -EBUSY;
    }
    for (VirtAddrSource s = 0; s < _VIRT_ADDR_SOURCE_MAX; s++) {
        virDomainInterfacePtr *ifs = NULL;
        VirtAddresses *a = NULL;
        size_t n_addrs = 0;
        int n, r;

        n = virDomainInterfaceAddresses(dom, &ifs, source_flags[s], 0);
        if (n < 0) {
            virErrorPtr e = virGetLastError();

            /* A source may fail for reasons of its own (no agent in the
             * guest, an agent that does not answer, a driver without it):
             * the next one may still know.  A machine that went away or a
             * connection that died is an answer for every source. */
            if (e && e->code == VIR_ERR_NO_DOMAIN)
                return virt_errno("read the addresses of", name);
            if (virConnectIsAlive(c) != 1) {
                (void)virt_errno("read the addresses of", name);
                return -ENOTCONN;
            }
            log_debug("No addresses of '%s' from %s: %s", name, virt_addr_source_to_string(s),
                      e && e->message ? e->message : "failed");
            continue;
        }
        r = convert(s, ifs, n, &a, &n_addrs);
        ifaces_free(ifs, n);
        if (r < 0)
            return r;
        if (n_addrs > 0) {
            *ret = a;
            return 0;
        }
        virt_addresses_free(a);
    }
    error_clear();
    none = calloc(1, sizeof(*none));
    if (!none)
        return -ENOMEM;
    none->source = _VIRT_ADDR_SOURCE_INVALID;
    *ret = none;
    return 0;
}

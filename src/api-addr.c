/* api-addr.c: guest addresses on the /service tree (API.md section 3):
 * GET /service/<name>/addresses, read from libvirt at each request, and the
 * "addresses" of the machine list's entries, from the address cache only
 * (addrcache.h): a list never costs a libvirt call per machine.
 * Handlers decode, call, encode. */
#include "config.h"

#include "addrcache.h"
#include "api.h"
#include "util.h"

Json *api_addresses_json(const VirtAddresses *a)
{
    Json *arr = json_arr();

    for (size_t i = 0; i < a->n_ifaces; i++) {
        const VirtIface *f = &a->ifaces[i];
        Json *e = json_obj(), *ips = json_arr();

        json_set_str(e, "interface", f->name);
        json_set_str(e, "mac", f->mac);
        for (size_t k = 0; k < f->n_addrs; k++) {
            Json *ip = json_obj();

            json_set_str(ip, "address", f->addrs[k].address);
            json_set_int(ip, "prefix", f->addrs[k].prefix);
            json_set_str(ip, "family", virt_addr_family_to_string(f->addrs[k].family));
            json_push(ips, ip);
        }
        json_set(e, "addresses", ips);
        json_set_str(e, "source", virt_addr_source_to_string(a->source));
        json_push(arr, e);
    }
    return arr;
}

Json *api_addresses_cached(const Machine *m)
{
    _cleanup_(virt_addresses_freep) VirtAddresses *a = NULL;

    /* A machine that is off has no addresses, whatever an event missed. */
    if (!machine_state_is_active(m->state) || addrcache_get(m->host, m->name, &a) < 0)
        return json_from_str(NULL);
    return api_addresses_json(a);
}

void api_machine_addresses(Ctx *c)
{
    _cleanup_(virt_addresses_freep) VirtAddresses *a = NULL;
    int r;

    r = virt_machine_addresses(c->host, c->name, &a);
    if (r < 0) {
        api_reply_errno(c, r, "read the addresses");
        return;
    }
    api_reply_json(c, 200, api_addresses_json(a));
}

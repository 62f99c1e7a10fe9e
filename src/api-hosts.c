/* api-hosts.c: GET /service/hosts and /service/hosts/<host> (API.md
 * section 3).
 *
 * Answered from what virt keeps of each host (virt_host_info): never a
 * libvirt call, so a host that hangs never holds a request, and a host that
 * is down is still described, with its last known values marked stale.  It
 * never shows a URI's credentials. */
#include "config.h"

#include "api.h"
#include "util.h"

static void set_str_or_null(Json *o, const char *key, const char *s)
{
    if (s)
        json_set_str(o, key, s);
    else
        json_set_null(o, key);
}

static void set_num_or_null(Json *o, const char *key, bool known, unsigned long long v)
{
    if (known)
        json_set_int(o, key, (long long)v);
    else
        json_set_null(o, key);
}

static Json *host_json(const Ctx *c, const VirtHostInfo *info)
{
    Json *o = json_obj(), *guests = json_arr();

    json_set_str(o, "name", info->name);
    json_set_str(o, "uri", info->uri);
    json_set_str(o, "state", info->up ? "up" : "down");
    /* Up, with every state known and the definitions still being read
     * (API.md section 3): what needs them waits. */
    if (info->up)
        json_set_bool(o, "reading_definitions", info->reading_definitions);
    /* Outside the user's ACL a machine does not exist, here too. */
    for (size_t i = 0; info->guests[i]; i++)
        if (api_machine_visible(c, info->guests[i]))
            json_push_str(guests, info->guests[i]);
    json_set(o, "guests", guests);
    set_num_or_null(o, "cpus", info->has_node, info->cpus);
    set_num_or_null(o, "memory_kib", info->has_node, info->memory_kib);
    set_num_or_null(o, "free_memory_kib", info->has_free_memory, info->free_memory_kib);
    /* "libvirt", or "estimate" when the driver cannot tell (section 3). */
    set_str_or_null(o, "free_memory_source",
                    !info->has_free_memory ? NULL
                                           : info->free_memory_estimated ? "estimate" : "libvirt");
    set_str_or_null(o, "libvirt_version", info->libvirt_version);
    set_str_or_null(o, "hypervisor", info->hypervisor);
    set_str_or_null(o, "hypervisor_version", info->hypervisor_version);
    set_str_or_null(o, "hostname", info->hostname);
    if (!info->up) {
        char since[32];

        if (info->down_since_usec > 0) {
            format_rfc3339(info->down_since_usec, since);
            json_set_str(o, "down_since", since);
        } else
            json_set_null(o, "down_since");
        set_str_or_null(o, "last_error", info->last_error);
        json_set_bool(o, "stale", true);
    }
    return o;
}

/* The host's object, or NULL (and a 500 reply) when out of memory. */
static Json *host_entry(Ctx *c, const Host *h)
{
    _cleanup_(virt_host_info_clear) VirtHostInfo info = { 0 };

    if (virt_host_info(h, &info) < 0) {
        api_reply_error(c, 500, "out of memory describing host '%s'", virt_host_name(h));
        return NULL;
    }
    return host_json(c, &info);
}

void api_hosts_list(Ctx *c)
{
    Json *a = json_arr();

    for (size_t i = 0; i < virt_host_count(); i++) {
        Json *o = host_entry(c, virt_host_at(i));

        if (!o) {
            json_unref(a);
            return;
        }
        json_push(a, o);
    }
    api_reply_json(c, 200, a);
}

void api_host_get(Ctx *c)
{
    const char *name = route_param(&c->m, "host");
    const Host *h = name ? virt_host_find(name) : NULL;
    Json *o;

    if (!h) {
        api_reply_error(c, 404, "host '%s' not found", name ? name : "");
        return;
    }
    o = host_entry(c, h);
    if (o)
        api_reply_json(c, 200, o);
}

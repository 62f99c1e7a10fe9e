/* api-service.c: the /service power tree (API.md sections 1 and 7).
 *
 * Lists and status come from virt's machine table, never from a libvirt
 * round trip; actions go through the operations layer (ops_power), which
 * holds every policy.  Handlers decode, call, encode. */
#include "config.h"

#include <stdio.h>

#include "api.h"
#include "domxml.h"
#include "log.h"
#include "ops.h"
#include "util.h"

/* The list's filters (API.md section 3).  tag repeats (all must match);
 * every other key may be given once. */
typedef struct ListFilter {
    MachineState state;
    bool has_state;
    const char *host;
    const char *name_glob;
    const char *owner;
    char **tags;   /* "key:value", or "key" for any value */
    const char *pool; /* pool=: the clones of that pool */
    unsigned seen; /* which once-only keys came, a bit each */
} ListFilter;

static void list_filter_clear(ListFilter *f)
{
    strv_free(f->tags);
}

static int filter_key(const char *key, const char *value, void *userdata)
{
    ListFilter *f = userdata;
    const char *const once[] = { "state", "host", "owner", "name", "pool", NULL };

    if (streq(key, "tag")) {
        if (!*value || *value == ':') {
            error_setf("a tag filter is key:value or key, not '%s'", value);
            return -EINVAL;
        }
        return strv_push(&f->tags, value);
    }
    for (unsigned i = 0; once[i]; i++) {
        if (!streq(key, once[i]))
            continue;
        if (f->seen & (1u << i)) {
            error_setf("the '%s' filter is given twice; only tag repeats", key);
            return -EINVAL;
        }
        f->seen |= 1u << i;
    }
    return 0;
}

static bool tags_match(char *const *want, const DomInfo *info)
{
    for (char *const *w = want; w && *w; w++) {
        const char *colon = strchr(*w, ':');
        size_t klen = colon ? (size_t)(colon - *w) : strlen(*w);
        bool found = false;

        for (size_t i = 0; info && i < info->n_tags && !found; i++) {
            const DomTag *t = &info->tags[i];

            found = strlen(t->key) == klen && strncmp(t->key, *w, klen) == 0 &&
                    (!colon || streq(t->value ? t->value : "", colon + 1));
        }
        if (!found)
            return false;
    }
    return true;
}

/* One entry of the answer: its text (without the closing brace, so that
 * addresses can follow) and what sorts it. */
typedef struct ListHit {
    size_t off, len;  /* in ListWalk.text */
    size_t name_off;  /* in ListWalk.names */
    const Host *host;
    MachineState state;
} ListHit;

typedef struct ListWalk {
    Ctx *c;
    const ListFilter *f;
    ListHit *hits;
    size_t n, cap;
    JsonText text;  /* the entries, one after the other */
    JsonText names; /* their names, NUL-separated */
} ListWalk;

Json *api_metadata_tags(const DomInfo *info)
{
    Json *tags = json_obj();

    for (size_t i = 0; info && i < info->n_tags; i++)
        json_set_str(tags, info->tags[i].key, info->tags[i].value ? info->tags[i].value : "");
    return tags;
}

/* The fields of api_machine_entry(), then owner, tags and a clone's pool, written as text:
 * ten thousand entries cost no object each.  A repeated tag key keeps its
 * last value, as json_set() does. */
static void list_entry_write(JsonText *t, const Machine *m, const DomInfo *info)
{
    json_text_lit(t, "{\"id\":");
    if (m->id >= 0) {
        json_text_lit(t, "\"");
        json_text_int(t, m->id);
        json_text_lit(t, "\"");
    } else {
        json_text_lit(t, "\"-\"");
    }
    json_text_lit(t, ",\"name\":");
    json_text_str(t, m->name);
    json_text_lit(t, ",\"state\":");
    json_text_str(t, machine_state_to_string(m->state));
    json_text_lit(t, ",\"uuid\":");
    json_text_str(t, m->uuid);
    json_text_lit(t, ",\"host\":");
    json_text_str(t, virt_host_name(m->host));
    if (m->stale)
        json_text_lit(t, ",\"stale\":true");
    json_text_lit(t, ",\"owner\":");
    json_text_str(t, info ? info->owner : NULL);
    json_text_lit(t, ",\"tags\":{");
    for (size_t i = 0, n = 0; info && i < info->n_tags; i++) {
        bool later = false;

        for (size_t k = i + 1; k < info->n_tags && !later; k++)
            later = streq(info->tags[k].key, info->tags[i].key);
        if (later)
            continue;
        if (n++)
            json_text_lit(t, ",");
        json_text_str(t, info->tags[i].key);
        json_text_lit(t, ":");
        json_text_str(t, info->tags[i].value ? info->tags[i].value : "");
    }
    json_text_lit(t, "}");
    if (info && info->pool.name) {
        json_text_lit(t, ",\"pool\":");
        json_text_str(t, info->pool.name);
    }
}

/* Under the host's read lock: match, and write the entry from the row. */
static int list_row(const Machine *m, const DomInfo *info, void *userdata)
{
    ListWalk *w = userdata;
    const ListFilter *f = w->f;
    ListHit *h;

    if (f->has_state && m->state != f->state)
        return 0;
    if (f->name_glob && !glob_match(f->name_glob, m->name))
        return 0;
    if (f->owner && !(info && info->owner && streq(info->owner, f->owner)))
        return 0;
    if (!tags_match(f->tags, info))
        return 0;
    if (f->pool && !(info && info->pool.name && streq(info->pool.name, f->pool)))
        return 0;
    if (!api_machine_visible(w->c, m->name) && !api_lease_visible(w->c, info))
        return 0;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        ListHit *nh = realloc(w->hits, cap * sizeof(ListHit));

        if (!nh)
            return -ENOMEM;
        w->hits = nh;
        w->cap = cap;
    }
    h = &w->hits[w->n];
    *h = (ListHit){ .off = w->text.len, .name_off = w->names.len, .host = m->host,
                    .state = m->state };
    list_entry_write(&w->text, m, info);
    json_text_raw(&w->names, m->name, strlen(m->name) + 1);
    if (w->text.oom || w->names.oom)
        return -ENOMEM;
    h->len = w->text.len - h->off;
    w->n++;
    return 0;
}

static int hit_cmp(const void *a, const void *b, void *names)
{
    const ListHit *x = a, *y = b;
    int c = strcmp((const char *)names + x->name_off, (const char *)names + y->name_off);

    return c ? c : strcmp(virt_host_name(x->host), virt_host_name(y->host));
}

/* The answer, sorted by name then host.  The address cache's lock comes
 * before a host's table lock: it is read here, never in list_row. */
static char *list_assemble(ListWalk *w, bool with_addr, size_t *ret_len)
{
    JsonText out = { 0 };

    if (w->n > 1)
        qsort_r(w->hits, w->n, sizeof(ListHit), hit_cmp, w->names.buf);
    json_text_reserve(&out, w->text.len + 2 * w->n + 2);
    json_text_lit(&out, "[");
    for (size_t i = 0; i < w->n; i++) {
        const ListHit *h = &w->hits[i];

        if (i)
            json_text_lit(&out, ",");
        json_text_raw(&out, w->text.buf + h->off, h->len);
        if (with_addr) {
            Machine m = { .host = h->host, .state = h->state };
            _cleanup_json_ Json *addr = NULL;

            snprintf(m.name, sizeof(m.name), "%s", w->names.buf + h->name_off);
            addr = api_addresses_cached(&m);
            json_text_lit(&out, ",\"addresses\":");
            json_text_json(&out, addr);
        }
        json_text_lit(&out, "}");
    }
    json_text_lit(&out, "]");
    return json_text_steal(&out, ret_len);
}

void api_machines_list(Ctx *c)
{
    _cleanup_(list_filter_clear) ListFilter f = { 0 };
    ListWalk w = { .c = c, .f = &f };
    bool with_addr = false;
    char *body = NULL;
    size_t len = 0;
    const char *v;
    int r;

    r = http_query_each(c->req, filter_key, &f);
    if (r < 0) {
        api_reply_errno(c, r, "bad query");
        return;
    }
    if ((v = http_query(c->req, "state"))) {
        f.state = machine_state_from_string(v);
        if (f.state == _MACHINE_STATE_INVALID) {
            api_reply_error(c, 400, "unknown state '%s'", v);
            return;
        }
        f.has_state = true;
    }
    if ((v = http_query(c->req, "host"))) {
        if (!virt_host_find(v)) {
            api_reply_error(c, 400, "unknown host '%s'", v);
            return;
        }
        f.host = v;
    }
    f.name_glob = http_query(c->req, "name");
    f.owner = http_query(c->req, "owner");
    f.pool = http_query(c->req, "pool");
    if (api_query_bool(c, "addresses", &with_addr, NULL) < 0)
        return;
    if (virt_hosts_up() == 0) {
        c->host = virt_host_at(0);
        api_reply_error(c, 503, "no libvirt host is reachable");
        return;
    }
    /* Room for every machine at about 140 bytes each: one allocation. */
    json_text_reserve(&w.text, 140 * (size_t)virt_machine_count());
    r = virt_machines_each(f.host, list_row, &w);
    if (r == 0)
        body = list_assemble(&w, with_addr, &len);
    free(w.hits);
    json_text_clear(&w.text);
    json_text_clear(&w.names);
    if (r == 0 && !body)
        r = -ENOMEM;
    if (r < 0) {
        api_reply_errno(c, r, "list machines");
        return;
    }
    reply_set(c->rep, 200, "application/json", body, len);
}

static Json *detail_json(Ctx *c, const MachineDetail *d, const DomInfo *di)
{
    Json *o = api_machine_entry(&c->machine), *a, *meta, *tags;
    OpsBootState st = { 0 };

    json_set_int(o, "vcpus", di->vcpus);
    json_set_int(o, "memory_kib", (long long)di->memory_kib);
    json_set_bool(o, "persistent", c->machine.persistent);
    json_set_bool(o, "autostart", d->autostart);
    if (ops_boot_describe(d->xml_inactive, d->xml, &st) == 0)
        json_set(o, "boot", api_boot_json(&st));
    else
        json_set_null(o, "boot");
    ops_boot_state_clear(&st);

    a = json_arr();
    for (size_t i = 0; i < di->n_ifaces; i++) {
        Json *e = json_obj();

        json_set_str(e, "mac", di->ifaces[i].mac);
        json_set_str(e, "type", di->ifaces[i].type);
        json_set_str(e, "source", di->ifaces[i].source);
        json_set_str(e, "model", di->ifaces[i].model);
        json_push(a, e);
    }
    json_set(o, "interfaces", a);

    a = json_arr();
    for (size_t i = 0; i < di->n_disks; i++) {
        Json *e = json_obj();

        json_set_str(e, "target", di->disks[i].target);
        json_set_str(e, "device", di->disks[i].device);
        json_set_str(e, "source", di->disks[i].source);
        json_push(a, e);
    }
    json_set(o, "disks", a);

    a = json_arr();
    for (size_t i = 0; i < di->n_graphics; i++) {
        Json *e = json_obj();

        json_set_str(e, "type", di->graphics[i].type);
        json_set_int(e, "port", di->graphics[i].port);
        json_set_str(e, "listen", di->graphics[i].listen);
        json_push(a, e);
    }
    json_set(o, "graphics", a);

    meta = json_obj();
    json_set_str(meta, "owner", di->owner);
    json_set_str(meta, "description", di->description);
    tags = json_obj();
    for (size_t i = 0; i < di->n_tags; i++)
        json_set_str(tags, di->tags[i].key, di->tags[i].value);
    json_set(meta, "tags", tags);
    json_set(o, "metadata", meta);
    return o;
}

void api_machine_get(Ctx *c)
{
    _cleanup_(machine_detail_clear) MachineDetail d = { 0 };
    _cleanup_(dom_info_freep) DomInfo *di = NULL;
    int r;

    r = virt_machine_detail(c->host, c->name, &d);
    if (r < 0) {
        api_reply_errno(c, r, "read the machine");
        return;
    }
    r = domxml_parse(d.xml ? d.xml : d.xml_inactive, &di);
    if (r < 0) {
        api_reply_errno(c, r, "parse the machine's definition");
        return;
    }
    api_reply_json(c, 200, detail_json(c, &d, di));
}

void api_machine_status(Ctx *c)
{
    Json *o = json_obj();

    if (c->conf->state_words == STATE_WORDS_IPMI)
        json_set_str(o, "state", machine_state_is_active(c->machine.state) ? "on" : "off");
    else
        json_set_str(o, "state", machine_state_to_string(c->machine.state));
    api_reply_json(c, 200, o);
}

static void machine_action(Ctx *c, const char *action)
{
    OpsCaller who = api_caller(c);
    OpsPowerResult res;
    bool force = false;
    PowerAction a;
    Json *o;
    int r;

    c->req->log_action = action;
    if (api_boot_action(c, action))
        return;
    a = power_action_from_string(action);
    if (a == _POWER_ACTION_INVALID) {
        api_reply_error(c, 404, "unknown action '%s'", action);
        return;
    }
    /* Boot parameters on a power action are a client's mistake. */
    for (const char *const *k = (const char *const[]){ "persistent", "once", "restart", NULL };
         *k; k++)
        if (http_query(c->req, *k)) {
            api_reply_error(c, 400, "'%s' applies to boot actions only", *k);
            return;
        }
    if (api_query_bool(c, "force", &force, NULL) < 0)
        return;
    r = ops_power(&who, &c->machine, a, force, &res);
    if (r < 0) {
        api_reply_errno(c, r, action);
        return;
    }
    o = json_obj();
    json_set_str(o, "name", c->name);
    json_set_str(o, "action", action);
    json_set_str(o, "result", power_result_to_string(res.result));
    json_set_str(o, "state", machine_state_to_string(res.machine.state));
    api_reply_json(c, 200, o);
}

void api_machine_action(Ctx *c)
{
    machine_action(c, route_param(&c->m, "action"));
}

void api_machine_force_reset(Ctx *c)
{
    machine_action(c, "force_reset");
}

void api_health(Ctx *c)
{
    Json *o = json_obj(), *hs = json_obj();
    size_t up = 0;

    for (size_t i = 0; i < virt_host_count(); i++) {
        Host *h = virt_host_at(i);
        bool is_up = virt_host_up(h);

        up += is_up;
        json_set_str(hs, virt_host_name(h), is_up ? "up" : "down");
    }
    json_set_str(o, "status", up > 0 ? "ok" : "unavailable");
    json_set(o, "hosts", hs);
    api_reply_json(c, up > 0 ? 200 : 503, o);
    if (up == 0)
        (void)reply_add_header(c->rep, "Retry-After", "1");
}

void api_version(Ctx *c)
{
    Json *o = json_obj();

    json_set_str(o, "name", PACKAGE_NAME);
    json_set_str(o, "version", PACKAGE_VERSION);
    json_set_str(o, "libvirt", virt_library_version());
    api_reply_json(c, 200, o);
}

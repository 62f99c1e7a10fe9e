/* api-pools.c: the pools of API.md section 5: their status, checkout, the
 * lease of a checked-out machine, and /service/status.  Handlers decode,
 * call ops (ops-pool.c holds every rule), encode. */
#include "config.h"

#include <stdio.h>

#include "api.h"
#include "json.h"
#include "ops.h"
#include "util.h"

static Json *time_json(long long t)
{
    char buf[32];

    if (t <= 0)
        return json_from_str(NULL);
    format_rfc3339((uint64_t)t * 1000000u, buf);
    return json_from_str(buf);
}

static Json *pool_json(const OpsPoolStatus *p, bool members)
{
    Json *o = json_obj();

    json_set_str(o, "name", p->name);
    json_set(o, "template", json_from_str(p->template_name));
    json_set(o, "host", json_from_str(p->host));
    json_set_int(o, "size", p->size);
    json_set_int(o, "pending", p->pending);
    json_set_int(o, "ready", p->ready);
    json_set_int(o, "running", p->running);
    json_set_int(o, "completed", p->completed);
    if (p->orphan)
        json_set_bool(o, "orphan", true);
    if (p->error)
        json_set_str(o, "error", p->error);
    if (members) {
        Json *a = json_arr();

        for (size_t i = 0; i < p->n_members; i++) {
            const OpsPoolMember *m = &p->members[i];
            Json *e = json_obj();

            json_set_str(e, "name", m->name);
            json_set_str(e, "uuid", m->uuid);
            json_set(e, "state", json_from_str(pool_state_to_string(m->state)));
            json_set(e, "since", time_json(m->since));
            json_set_str(e, "machine_state", machine_state_to_string(m->machine_state));
            if (m->state == POOL_STATE_RUNNING) {
                json_set(e, "owner", json_from_str(m->owner));
                json_set(e, "expires", time_json(m->expires));
            }
            json_push(a, e);
        }
        json_set(o, "members", a);
    }
    return o;
}

void api_pools_list(Ctx *c)
{
    OpsPoolStatus *v = NULL;
    size_t n = 0;
    int r = ops_pools_status(c->conf, &v, &n);
    Json *a;

    if (r < 0) {
        api_reply_errno(c, r, "list the pools");
        return;
    }
    a = json_arr();
    for (size_t i = 0; i < n; i++)
        json_push(a, pool_json(&v[i], false));
    ops_pools_status_free(v, n);
    api_reply_json(c, 200, a);
}

void api_pool_get(Ctx *c)
{
    OpsPoolStatus p = { 0 };
    int r = ops_pool_status(c->conf, route_param(&c->m, "pool"), &p);

    if (r < 0) {
        api_reply_errno(c, r, "read the pool");
        return;
    }
    api_reply_json(c, 200, pool_json(&p, true));
    ops_pool_status_clear(&p);
}

static Json *lease_json(const OpsLease *l, bool machine)
{
    Json *o = json_obj();

    if (machine) {
        json_set_str(o, "name", l->machine.name);
        json_set_str(o, "uuid", l->machine.uuid);
        json_set_str(o, "host", virt_host_name(l->machine.host));
        json_set_str(o, "pool", l->pool);
        json_set(o, "addresses", api_addresses_cached(&l->machine));
    } else {
        json_set_str(o, "pool", l->pool);
        json_set_str(o, "owner", l->owner);
        json_set(o, "checkout", time_json(l->checkout));
        json_set_int(o, "lifetime", l->lifetime);
        json_set(o, "state", json_from_str(pool_state_to_string(l->state)));
    }
    json_set(o, "expires", time_json(l->expires));
    return o;
}

/* "lifetime" of a checkout or lease body: hours, 0 when absent. */
static int read_lifetime(const Json *body, unsigned *ret)
{
    uint64_t v;
    int r;

    *ret = 0;
    if (!body || !json_get(body, "lifetime"))
        return 0;
    r = json_get_uint(body, "lifetime", 8760, &v);
    if (r < 0 || v < 1) {
        error_setf("lifetime must be a whole number of hours, 1..8760");
        return -EINVAL;
    }
    *ret = (unsigned)v;
    return 0;
}

static void reply_checkout(Ctx *c, int r, OpsLease *l, size_t n, char **empty)
{
    if (r == -EAGAIN && empty) {
        Json *o = json_obj(), *a = json_arr();

        for (size_t i = 0; empty[i]; i++)
            json_push_str(a, empty[i]);
        json_set_str(o, "error", error_get());
        json_set(o, "empty", a);
        (void)reply_add_header(c->rep, "Retry-After", "10");
        api_reply_json(c, 503, o);
        strv_free(empty);
        return;
    }
    strv_free(empty);
    if (r < 0) {
        api_reply_errno(c, r, "checkout");
        return;
    }
    {
        Json *o = json_obj(), *a = json_arr();

        for (size_t i = 0; i < n; i++)
            json_push(a, lease_json(&l[i], true));
        json_set(o, "machines", a);
        api_reply_json(c, 200, o);
    }
    free(l);
}

void api_pool_checkout(Ctx *c)
{
    static const char *const keys[] = { "count", "lifetime", "tags", NULL };
    _cleanup_(meta_patch_clear) MetaPatch tags = { 0 };
    OpsCaller who = api_caller(c);
    OpsPoolRequest req = { .pool = route_param(&c->m, "pool"), .count = 1 };
    OpsLease *l = NULL;
    size_t n = 0;
    char **empty = NULL;
    unsigned lifetime = 0;
    int r;

    c->req->log_action = "checkout";
    if (c->body) {
        uint64_t v;

        if (json_check_keys(c->body, keys) < 0 || read_lifetime(c->body, &lifetime) < 0 ||
            (json_get(c->body, "tags") && api_tags_patch(json_get(c->body, "tags"), &tags) < 0)) {
            api_reply_error(c, 400, "%s", error_get());
            return;
        }
        if (json_get(c->body, "count")) {
            if (json_get_uint(c->body, "count", POOL_CHECKOUT_MAX, &v) < 0 || v < 1) {
                api_reply_error(c, 400, "count must be a whole number 1..%d", POOL_CHECKOUT_MAX);
                return;
            }
            req.count = (unsigned)v;
        }
    }
    r = ops_pool_checkout(&who, &req, 1, lifetime, tags.n_tags ? &tags : NULL, &l, &n, &empty);
    reply_checkout(c, r, l, n, empty);
}

typedef struct Multi {
    OpsPoolRequest *req;
    size_t n;
} Multi;

static int multi_key(const char *key, Json *value, void *userdata)
{
    Multi *m = userdata;
    OpsPoolRequest *nr;

    (void)value; /* read by the caller with json_get_uint */
    if (streq(key, "lifetime") || streq(key, "tags"))
        return 0;
    nr = realloc(m->req, (m->n + 1) * sizeof(*nr));
    if (!nr)
        return -ENOMEM;
    m->req = nr;
    nr[m->n++] = (OpsPoolRequest){ .pool = key };
    return 0;
}

void api_pools_checkout(Ctx *c)
{
    _cleanup_(meta_patch_clear) MetaPatch tags = { 0 };
    OpsCaller who = api_caller(c);
    Multi m = { 0 };
    OpsLease *l = NULL;
    size_t n = 0;
    char **empty = NULL;
    unsigned lifetime = 0;
    int r;

    c->req->log_action = "checkout";
    if (!c->body) {
        api_reply_error(c, 400, "a JSON body {\"<pool>\": count, ...} is required");
        return;
    }
    r = json_object_each(c->body, multi_key, &m);
    for (size_t i = 0; r == 0 && i < m.n; i++) {
        uint64_t v;

        if (json_get_uint(c->body, m.req[i].pool, POOL_CHECKOUT_MAX, &v) < 0 || v < 1) {
            error_setf("the count of pool '%s' must be a whole number 1..%d", m.req[i].pool,
                       POOL_CHECKOUT_MAX);
            r = -EINVAL;
        } else
            m.req[i].count = (unsigned)v;
    }
    if (r == 0)
        r = read_lifetime(c->body, &lifetime);
    if (r == 0 && json_get(c->body, "tags"))
        r = api_tags_patch(json_get(c->body, "tags"), &tags);
    if (r == 0 && m.n == 0) {
        error_setf("a JSON body {\"<pool>\": count, ...} naming at least one pool is required");
        r = -EINVAL;
    }
    if (r < 0) {
        free(m.req);
        api_reply_error(c, 400, "%s", error_get() ? error_get() : "bad body");
        return;
    }
    r = ops_pool_checkout(&who, m.req, m.n, lifetime, tags.n_tags ? &tags : NULL, &l, &n,
                          &empty);
    free(m.req);
    reply_checkout(c, r, l, n, empty);
}

void api_lease_get(Ctx *c)
{
    OpsCaller who = api_caller(c);
    OpsLease l;
    int r = ops_lease_get(&who, &c->machine, &l);

    if (r < 0) {
        api_reply_errno(c, r, "read the lease");
        return;
    }
    api_reply_json(c, 200, lease_json(&l, false));
}

void api_lease_put(Ctx *c)
{
    static const char *const keys[] = { "lifetime", NULL };
    OpsCaller who = api_caller(c);
    unsigned lifetime = 0;
    OpsLease l;
    int r;

    c->req->log_action = "lease";
    if (!c->body || json_check_keys(c->body, keys) < 0 ||
        read_lifetime(c->body, &lifetime) < 0 || lifetime == 0) {
        api_reply_error(c, 400, "%s",
                        c->body && error_get() ? error_get()
                                               : "a JSON body {\"lifetime\": hours} is required");
        return;
    }
    r = ops_lease_set(&who, &c->machine, lifetime, &l);
    if (r < 0) {
        api_reply_errno(c, r, "change the lease");
        return;
    }
    api_reply_json(c, 200, lease_json(&l, false));
}

void api_lease_delete(Ctx *c)
{
    OpsCaller who = api_caller(c);
    int r;

    c->req->log_action = "return";
    r = ops_lease_return(&who, &c->machine);
    if (r < 0) {
        api_reply_errno(c, r, "return the machine");
        return;
    }
    {
        Json *o = json_obj();

        json_set_str(o, "name", c->machine.name);
        json_set_str(o, "state", "completed");
        api_reply_json(c, 202, o);
    }
}

void api_service_status(Ctx *c)
{
    OpsPoolStatus *v = NULL;
    size_t n = 0;
    unsigned pending = 0, ready = 0, running = 0, total = 0;
    Json *o, *pools, *empty;
    int r = ops_pools_status(c->conf, &v, &n);

    if (r < 0) {
        api_reply_errno(c, r, "read the pools");
        return;
    }
    o = json_obj();
    pools = json_obj();
    empty = json_arr();
    for (size_t i = 0; i < n; i++) {
        const OpsPoolStatus *p = &v[i];
        Json *e = json_obj();

        if (p->orphan) {
            json_unref(e);
            continue;
        }
        pending += p->pending;
        ready += p->ready;
        running += p->running;
        total += p->size;
        json_set_int(e, "size", p->size);
        json_set_int(e, "pending", p->pending);
        json_set_int(e, "ready", p->ready);
        json_set_int(e, "running", p->running);
        json_set(pools, p->name, e);
        if (p->ready == 0 && p->size > 0)
            json_push_str(empty, p->name);
    }
    {
        bool ok = json_arr_len(empty) == 0;
        Json *cap = json_obj(), *q = json_obj();
        char msg[128];

        if (ok)
            snprintf(msg, sizeof(msg), "every pool has ready machines");
        else
            snprintf(msg, sizeof(msg), "%zu pool%s without ready machines", json_arr_len(empty),
                     json_arr_len(empty) == 1 ? "" : "s");
        json_set_bool(o, "ok", ok);
        json_set_str(o, "message", msg);
        json_set_int(cap, "current", ready);
        json_set_int(cap, "total", total);
        json_set(cap, "percent",
                 json_from_double(total ? (double)(ready * 1000 / total) / 10.0 : 0.0));
        json_set(o, "capacity", cap);
        json_set_int(q, "pending", pending);
        json_set_int(q, "ready", ready);
        json_set_int(q, "running", running);
        json_set(o, "queue", q);
        json_set(o, "pools", pools);
        json_set(o, "empty", empty);
    }
    ops_pools_status_free(v, n);
    api_reply_json(c, 200, o);
}

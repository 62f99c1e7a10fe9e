/* api-v3.c: the part of vmpooler's v3 API a checkout needs (API.md section
 * 12.1), for vmfloaty and ABS: tokens, checkout, a checked-out machine's
 * lease and tags, the status and the summary, with vmpooler's shapes
 * (its docs/API-v3.md) on the pool engine of api-pools.c (ops-pool.c holds
 * every rule).  A token is a session of the Redfish session store
 * (session.h), so auth_check() takes its X-AUTH-TOKEN as it takes
 * X-Auth-Token.  This tree reads its bodies itself (RouteTable.raw_body):
 * vmfloaty and curl -d send JSON as a form. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addrcache.h"
#include "api.h"
#include "json.h"
#include "ops.h"
#include "session.h"
#include "util.h"

/* vmpooler's time stamps: "2015-04-28 19:17:47 -0700" (ours are UTC), of
 * a wall-clock time in microseconds. */
static Json *stamp_json(uint64_t usec)
{
    time_t t = (time_t)(usec / 1000000u);
    struct tm tm;
    char buf[64];

    if (!gmtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S +0000", &tm) == 0)
        return json_from_str(NULL);
    return json_from_str(buf);
}

/* A session's monotonic time (now_usec()) on the wall clock. */
static uint64_t wall_usec(uint64_t mono)
{
    uint64_t now = now_usec(), wall = realtime_usec();

    return mono <= now && now - mono <= wall ? wall - (now - mono) : wall;
}

static Json *ok_obj(void)
{
    Json *o = json_obj();

    json_set_bool(o, "ok", true);
    return o;
}

/* The body as one JSON object, or NULL (error_get() says why). */
static int read_body(Ctx *c, Json **ret)
{
    *ret = NULL;
    if (c->req->body_len == 0) {
        error_setf("a JSON body is required");
        return -EINVAL;
    }
    return json_parse_object(c->req->body, c->req->body_len, ret);
}

/* A count or a number of hours: vmpooler's clients send "2" as well as 2. */
static int read_count(const Json *v, unsigned max, unsigned *ret)
{
    long long n = 0;
    const char *s = json_as_str(v);

    if (s) {
        char *end = NULL;

        if (!*s || strlen(s) > 6 || strspn(s, "0123456789") != strlen(s))
            return -EINVAL;
        n = strtoll(s, &end, 10);
    } else if (json_as_int(v, &n) < 0)
        return -EINVAL;
    if (n < 1 || n > (long long)max)
        return -EINVAL;
    *ret = (unsigned)n;
    return 0;
}

/* ---- tokens ---- */

void api_v3_token_post(Ctx *c)
{
    char token[SESSION_TOKEN_LEN + 1];
    SessionInfo s;
    Json *o;
    int r;

    c->req->log_action = "token";
    /* A token is had for a password, never for another token. */
    if (c->id.session[0] || (c->id.anonymous && api_users(c))) {
        api_reply_error(c, 401, "a token is created with a user name and password");
        auth_challenge(c->req, c->conf, false, c->rep);
        return;
    }
    r = session_open(c->id.anonymous ? "" : c->id.user, c->conf->token_timeout, token, &s);
    if (r < 0) {
        api_reply_errno(c, r, "create a token");
        return;
    }
    o = ok_obj();
    json_set_str(o, "token", token);
    api_reply_json(c, 200, o);
}

/* The names of the machines user holds (running leases). */
static Json *running_of(const Conf *conf, const char *user)
{
    OpsPoolStatus *v = NULL;
    size_t n = 0;
    Json *a = json_arr();

    if (ops_pools_status(conf, &v, &n) < 0)
        return a;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < v[i].n_members; k++) {
            const OpsPoolMember *m = &v[i].members[k];

            if (m->state == POOL_STATE_RUNNING && m->owner && streq(m->owner, user))
                json_push_str(a, m->name);
        }
    ops_pools_status_free(v, n);
    return a;
}

/* Public: the token is the credential (vmpooler answers without another). */
void api_v3_token_get(Ctx *c)
{
    const char *token = route_param(&c->m, "token");
    SessionInfo s;
    Json *o, *t, *vms;

    if (session_use(token, &s) < 0) {
        api_reply_error(c, 404, "no such token");
        return;
    }
    t = json_obj();
    json_set_str(t, "user", s.user);
    json_set(t, "created", stamp_json(wall_usec(s.created_usec)));
    json_set(t, "last", stamp_json(wall_usec(s.last_used_usec)));
    vms = json_obj();
    json_set(vms, "running", running_of(c->conf, s.user));
    json_set(t, "vms", vms);
    o = ok_obj();
    json_set(o, token, t);
    api_reply_json(c, 200, o);
}

void api_v3_token_delete(Ctx *c)
{
    const char *token = route_param(&c->m, "token");
    const char *me = c->id.anonymous ? "" : c->id.user;
    SessionInfo s;

    c->req->log_action = "token";
    /* Another user's token does not exist for the caller, unless an admin. */
    if (session_use(token, &s) < 0 || (!streq(s.user, me) && c->id.role < ROLE_ADMIN)) {
        api_reply_error(c, 404, "no such token");
        return;
    }
    (void)session_close(s.id);
    api_reply_json(c, 200, ok_obj());
}

/* ---- checkout ---- */

void api_v3_vm_list(Ctx *c)
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
        if (!v[i].orphan)
            json_push_str(a, v[i].name);
    ops_pools_status_free(v, n);
    api_reply_json(c, 200, a);
}

typedef struct Wanted {
    OpsPoolRequest *req;
    size_t n;
} Wanted;

static void wanted_clear(Wanted *w)
{
    free(w->req);
    *w = (Wanted){ 0 };
}

/* Add count machines of pool (borrowed) to w, merging repeats. */
static int wanted_add(Wanted *w, const char *pool, unsigned count)
{
    OpsPoolRequest *nr;

    for (size_t i = 0; i < w->n; i++)
        if (streq(w->req[i].pool, pool)) {
            if (w->req[i].count + count > POOL_CHECKOUT_MAX) {
                error_setf("at most %d machines of a pool", POOL_CHECKOUT_MAX);
                return -EINVAL;
            }
            w->req[i].count += count;
            return 0;
        }
    nr = realloc(w->req, (w->n + 1) * sizeof(*nr));
    if (!nr)
        return -ENOMEM;
    w->req = nr;
    nr[w->n++] = (OpsPoolRequest){ .pool = pool, .count = count };
    return 0;
}

/* vmpooler's answer: per pool {"hostname": "a"} or {"hostname": ["a", "b"]}. */
static void reply_checkout(Ctx *c, const Wanted *w, int r, OpsLease *l, size_t n, char **empty)
{
    Json *o;

    strv_free(empty);
    if (r < 0) {
        /* vmpooler: 404 for an unknown pool, 503 for an empty one. */
        api_reply_errno(c, r, "checkout");
        return;
    }
    o = ok_obj();
    for (size_t i = 0; i < w->n; i++) {
        Json *p = json_obj(), *names = json_arr();

        for (size_t k = 0; k < n; k++)
            if (streq(l[k].pool, w->req[i].pool))
                json_push_str(names, l[k].machine.name);
        if (json_arr_len(names) == 1) {
            json_set(p, "hostname", json_from_str(json_as_str(json_arr_get(names, 0))));
            json_unref(names);
        } else
            json_set(p, "hostname", names);
        json_set(o, w->req[i].pool, p);
    }
    free(l);
    api_reply_json(c, 200, o);
}

static void checkout(Ctx *c, const Wanted *w)
{
    OpsCaller who = api_caller(c);
    OpsLease *l = NULL;
    size_t n = 0;
    char **empty = NULL;
    int r = ops_pool_checkout(&who, w->req, w->n, 0, NULL, &l, &n, &empty);

    reply_checkout(c, w, r, l, n, empty);
}

static int body_pool(const char *key, Json *value, void *userdata)
{
    Wanted *w = userdata;
    unsigned count;

    if (read_count(value, POOL_CHECKOUT_MAX, &count) < 0) {
        error_setf("the count of pool '%s' must be a whole number 1..%d", key, POOL_CHECKOUT_MAX);
        return -EINVAL;
    }
    return wanted_add(w, key, count);
}

/* POST /vm {"pool": "2", ...}: vmpooler answers 404 to a bad body. */
void api_v3_vm_post(Ctx *c)
{
    _cleanup_(json_unrefp) Json *body = NULL;
    Wanted w = { 0 };
    int r;

    c->req->log_action = "checkout";
    r = read_body(c, &body);
    if (r == 0)
        r = json_object_each(body, body_pool, &w);
    if (r == 0 && w.n == 0) {
        error_setf("a JSON body {\"<pool>\": count, ...} naming a pool is required");
        r = -EINVAL;
    }
    if (r < 0) {
        wanted_clear(&w);
        api_reply_error(c, 404, "%s", error_get() ? error_get() : "bad body");
        return;
    }
    checkout(c, &w);
    wanted_clear(&w);
}

/* POST /vm/<pool>[+<pool>...]: one machine per name. */
void api_v3_vm_pools_post(Ctx *c)
{
    _cleanup_free_ char *spec = strdup(route_param(&c->m, "vm"));
    Wanted w = { 0 };
    char *save = NULL;
    int r = spec ? 0 : -ENOMEM;

    c->req->log_action = "checkout";
    for (char *p = spec ? strtok_r(spec, "+", &save) : NULL; r == 0 && p;
         p = strtok_r(NULL, "+", &save))
        r = wanted_add(&w, p, 1);
    if (r == 0 && w.n == 0) {
        error_setf("no pool named");
        r = -EINVAL;
    }
    if (r < 0) {
        wanted_clear(&w);
        api_reply_error(c, r == -ENOMEM ? 500 : 404, "%s", error_get());
        return;
    }
    checkout(c, &w);
    wanted_clear(&w);
}

/* ---- a checked-out machine ---- */

void api_v3_vm_get(Ctx *c)
{
    OpsCaller who;
    OpsLease l;
    _cleanup_(meta_info_clear) MetaInfo meta = { 0 };
    _cleanup_(virt_addresses_freep) VirtAddresses *addrs = NULL;
    long long now = (long long)time(NULL), running, remaining;
    Json *o, *m, *tags;
    int r;

    if (!api_resolve_machine(c, route_param(&c->m, "vm"), ROLE_USER))
        return;
    who = api_caller(c);
    r = ops_lease_get(&who, &c->machine, &l);
    if (r == 0)
        r = ops_metadata_get(&who, &c->machine, &meta);
    if (r < 0) {
        api_reply_errno(c, r, "read the machine");
        return;
    }
    running = now > l.checkout ? now - l.checkout : 0;
    remaining = l.expires > now ? l.expires - now : 0;
    m = json_obj();
    json_set_str(m, "template", l.pool);
    json_set_int(m, "lifetime", l.lifetime);
    json_set(m, "running", json_from_double((double)(running * 100 / 3600) / 100.0));
    json_set(m, "remaining", json_from_double((double)(remaining * 100 / 3600) / 100.0));
    json_set(m, "start_time", stamp_json((uint64_t)l.checkout * 1000000u));
    json_set_str(m, "state", l.state == POOL_STATE_RUNNING ? "running" : "destroyed");
    tags = json_obj();
    for (size_t i = 0; i < meta.n_tags; i++)
        json_set_str(tags, meta.tags[i].key, meta.tags[i].value);
    json_set(m, "tags", tags);
    if (machine_state_is_active(l.machine.state) &&
        addrcache_get(l.machine.host, l.machine.name, &addrs) == 0)
        for (size_t i = 0; i < addrs->n_ifaces; i++)
            if (addrs->ifaces[i].n_addrs > 0) {
                json_set_str(m, "ip", addrs->ifaces[i].addrs[0].address);
                break;
            }
    json_set_str(m, "host", virt_host_name(l.machine.host));
    o = ok_obj();
    json_set(o, l.machine.name, m);
    api_reply_json(c, 200, o);
}

/* PUT {"lifetime": "2", "tags": {...}}: everything is checked before
 * anything changes (400 otherwise). */
void api_v3_vm_put(Ctx *c)
{
    static const char *const keys[] = { "lifetime", "tags", NULL };
    _cleanup_(json_unrefp) Json *body = NULL;
    _cleanup_(meta_patch_clear) MetaPatch tags = { 0 };
    _cleanup_(ops_meta_result_clear) OpsMetaResult res = { 0 };
    unsigned lifetime = 0;
    OpsCaller who;
    OpsLease l;
    int r;

    c->req->log_action = "lease";
    if (!api_resolve_machine(c, route_param(&c->m, "vm"), ROLE_USER))
        return;
    if (read_body(c, &body) < 0 || json_check_keys(body, keys) < 0 ||
        (json_get(body, "tags") && api_tags_patch(json_get(body, "tags"), &tags) < 0)) {
        api_reply_error(c, 400, "%s", error_get() ? error_get() : "bad body");
        return;
    }
    if (json_get(body, "lifetime") && read_count(json_get(body, "lifetime"), 8760, &lifetime) < 0) {
        api_reply_error(c, 400, "lifetime must be a whole number of hours, 1..8760");
        return;
    }
    who = api_caller(c);
    /* Only a checked-out machine, and only its owner's or an admin's. */
    r = ops_lease_get(&who, &c->machine, &l);
    if (r == 0 && tags.n_tags)
        r = ops_metadata_set(&who, &c->machine, &tags, &res);
    if (r == 0 && lifetime)
        r = ops_lease_set(&who, &c->machine, lifetime, &l);
    if (r < 0) {
        api_reply_errno(c, r, "change the machine");
        return;
    }
    api_reply_json(c, 200, ok_obj());
}

void api_v3_vm_delete(Ctx *c)
{
    OpsCaller who;
    int r;

    c->req->log_action = "return";
    if (!api_resolve_machine(c, route_param(&c->m, "vm"), ROLE_USER))
        return;
    who = api_caller(c);
    r = ops_lease_return(&who, &c->machine);
    if (r < 0) {
        api_reply_errno(c, r, "return the machine");
        return;
    }
    api_reply_json(c, 200, ok_obj());
}

/* ---- status and summary ---- */

/* Whether ?view= (a comma-separated list; absent: all) names section. */
static bool in_view(const char *view, const char *section)
{
    size_t n = strlen(section);

    if (!view)
        return true;
    for (const char *p = view; *p;) {
        size_t k = strcspn(p, ",");

        if (k == n && strncmp(p, section, n) == 0)
            return true;
        p += k;
        if (*p == ',')
            p++;
    }
    return false;
}

void api_v3_status(Ctx *c)
{
    const char *view = http_query(c->req, "view");
    OpsPoolStatus *v = NULL;
    size_t n = 0;
    unsigned pending = 0, ready = 0, running = 0, completed = 0, total = 0;
    Json *o, *pools, *empty;
    int r = ops_pools_status(c->conf, &v, &n);

    if (r < 0) {
        api_reply_errno(c, r, "read the pools");
        return;
    }
    pools = json_obj();
    empty = json_arr();
    for (size_t i = 0; i < n; i++) {
        const OpsPoolStatus *p = &v[i];
        Json *e;

        if (p->orphan)
            continue;
        pending += p->pending;
        ready += p->ready;
        running += p->running;
        completed += p->completed;
        total += p->size;
        e = json_obj();
        json_set_int(e, "ready", p->ready);
        json_set_int(e, "running", p->running);
        json_set_int(e, "pending", p->pending);
        json_set_int(e, "max", p->size);
        json_set(pools, p->name, e);
        if (p->ready == 0 && p->size > 0)
            json_push_str(empty, p->name);
    }
    ops_pools_status_free(v, n);
    o = json_obj();
    if (in_view(view, "capacity")) {
        Json *cap = json_obj();

        json_set_int(cap, "current", ready);
        json_set_int(cap, "total", total);
        json_set(cap, "percent",
                 json_from_double(total ? (double)(ready * 1000 / total) / 10.0 : 0.0));
        json_set(o, "capacity", cap);
    }
    if (in_view(view, "queue")) {
        Json *q = json_obj();

        json_set_int(q, "pending", pending);
        json_set_int(q, "cloning", 0);
        json_set_int(q, "booting", pending);
        json_set_int(q, "ready", ready);
        json_set_int(q, "running", running);
        json_set_int(q, "completed", completed);
        json_set_int(q, "total", pending + ready + running + completed);
        json_set(o, "queue", q);
    }
    if (in_view(view, "pools"))
        json_set(o, "pools", pools);
    else
        json_unref(pools);
    if (in_view(view, "status")) {
        Json *s = json_obj();
        size_t ne = json_arr_len(empty);
        char msg[64];

        json_set_bool(s, "ok", ne == 0);
        if (ne == 0)
            json_set_str(s, "message", "Battle station fully armed and operational.");
        else {
            snprintf(msg, sizeof(msg), "Found %zu empty pool%s.", ne, ne == 1 ? "" : "s");
            json_set_str(s, "message", msg);
            json_set(s, "empty", empty);
            empty = NULL;
        }
        json_set(o, "status", s);
    }
    json_unref(empty);
    api_reply_json(c, 200, o);
}

/* A YYYY-MM-DD date as days since the epoch; -EINVAL otherwise. */
static int parse_day(const char *s, long long *ret)
{
    struct tm tm = { 0 };
    const char *end;
    time_t t;

    if (strlen(s) != 10)
        return -EINVAL;
    end = strptime(s, "%Y-%m-%d", &tm);
    if (!end || *end)
        return -EINVAL;
    t = timegm(&tm);
    if (t == (time_t)-1)
        return -EINVAL;
    *ret = (long long)t / 86400;
    return 0;
}

static Json *zero_stats(bool full_count)
{
    Json *o = json_obj(), *d = json_obj(), *n = json_obj();

    json_set_int(d, "average", 0);
    json_set_int(d, "min", 0);
    json_set_int(d, "max", 0);
    json_set_int(d, "total", 0);
    if (full_count) {
        json_set_int(n, "average", 0);
        json_set_int(n, "min", 0);
        json_set_int(n, "max", 0);
    }
    json_set_int(n, "total", 0);
    json_set(o, "duration", d);
    json_set(o, "count", n);
    return o;
}

/* virtmcd keeps no history of boot and clone times: the shape with zeros,
 * one daily entry per day asked for (API.md section 12.1). */
void api_v3_summary(Ctx *c)
{
    const char *from_s = http_query(c->req, "from"), *to_s = http_query(c->req, "to");
    long long today = (long long)time(NULL) / 86400, from = today, to = today;
    Json *o, *daily;

    if ((from_s && parse_day(from_s, &from) < 0) || (to_s && parse_day(to_s, &to) < 0)) {
        api_reply_error(c, 400, "dates are YYYY-MM-DD");
        return;
    }
    if (from > to || to > today || to - from > 366) {
        api_reply_error(c, 400,
                        "the range must run forwards, end by today and span a year "
                        "at most");
        return;
    }
    o = json_obj();
    json_set(o, "boot", zero_stats(true));
    json_set(o, "clone", zero_stats(true));
    json_set(o, "tag", json_obj());
    daily = json_arr();
    for (long long d = from; d <= to; d++) {
        time_t t = (time_t)(d * 86400);
        struct tm tm;
        char date[16];
        Json *e = json_obj();

        gmtime_r(&t, &tm);
        strftime(date, sizeof(date), "%Y-%m-%d", &tm);
        json_set_str(e, "date", date);
        json_set(e, "boot", zero_stats(false));
        json_set(e, "clone", zero_stats(false));
        json_set(e, "tag", json_obj());
        json_push(daily, e);
    }
    json_set(o, "daily", daily);
    api_reply_json(c, 200, o);
}

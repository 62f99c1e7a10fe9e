/* api.c: the route table of the resource tree and the dispatch around it.
 *
 * Owns the mapping from -errno to HTTP status (the only one), the current
 * configuration as seen by requests, machine-name resolution and the
 * checks every route shares (query keys, content type).  It must never
 * touch libvirt directly: virt does. */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

#include "api.h"
#include "api-routes.h"
#include "redfish.h"
#include "auth.h"
#include "log.h"
#include "session.h"
#include "util.h"

struct ConfHolder {
    Conf *conf;
    Users *users;
    _Atomic unsigned refs;
};

static pthread_mutex_t conf_lock = PTHREAD_MUTEX_INITIALIZER;
static ConfHolder *current;

static void holder_unref(ConfHolder *h)
{
    if (h && atomic_fetch_sub(&h->refs, 1) == 1) {
        conf_free(h->conf);
        users_free(h->users);
        free(h);
    }
}

static ConfHolder *holder_ref(void)
{
    ConfHolder *h;

    pthread_mutex_lock(&conf_lock);
    h = current;
    if (h)
        atomic_fetch_add(&h->refs, 1);
    pthread_mutex_unlock(&conf_lock);
    return h;
}

/* A session outlives a reload while its user is still in the users file
 * (the anonymous sessions of protected mode: while there is none). */
static bool session_user_kept(const char *user, void *userdata)
{
    const Users *users = userdata;

    return user[0] ? users_has(users, user) : users == NULL;
}

void api_set_conf(Conf *conf, Users *users)
{
    ConfHolder *h = calloc(1, sizeof(*h)), *old;
    size_t purged;

    if (!h) {
        conf_free(conf);
        users_free(users);
        return;
    }
    session_configure(conf->session_timeout);
    purged = session_purge(session_user_kept, users);
    if (purged)
        log_notice("Closed %zu Redfish session%s of users no longer in the users file", purged,
                   purged == 1 ? "" : "s");
    h->conf = conf;
    h->users = users;
    h->refs = 1;
    pthread_mutex_lock(&conf_lock);
    old = current;
    current = h;
    pthread_mutex_unlock(&conf_lock);
    holder_unref(old);
}

const Conf *api_conf_acquire(void **ret_holder)
{
    ConfHolder *h = holder_ref();

    *ret_holder = h;
    return h ? h->conf : NULL;
}

void api_conf_release(void *holder)
{
    holder_unref(holder);
}

void api_shutdown(void)
{
    ConfHolder *old;

    pthread_mutex_lock(&conf_lock);
    old = current;
    current = NULL;
    pthread_mutex_unlock(&conf_lock);
    holder_unref(old);
}

/* ---- trees ---- */

/* The route tables this dispatcher serves.  The first also answers the paths
 * that no tree's root claims, with its 404. */
/* /api/v3 before /api: the longer root first. */
static const RouteTable *const trees[] = { &api_route_table, &api_v3_route_table,
                                           &api_v1_route_table, &redfish_route_table,
                                           &api_metrics_route_table };

/* The tree whose root is the path's first segment(s) (taken literally: a root
 * spelled with escapes is no tree's and gets the first tree's 404). */
static const RouteTable *tree_for_path(const char *path)
{
    for (size_t i = 0; i < ELEMENTSOF(trees); i++) {
        const char *root = trees[i]->root;
        size_t n = root ? strlen(root) : 0;

        if (n && path[0] == '/' && strncmp(path + 1, root, n) == 0 &&
            (path[1 + n] == '\0' || path[1 + n] == '/'))
            return trees[i];
    }
    return trees[0];
}

/* ---- replies ---- */

void api_reply_json(Ctx *c, unsigned status, Json *j)
{
    size_t len = 0;
    char *body = j ? json_dump(j, &len) : NULL;

    json_unref(j);
    if (!body) {
        static const char oom[] = "{\"error\": \"out of memory\"}";

        reply_set(c->rep, 500, "application/json", strdup(oom), strlen(oom));
        return;
    }
    reply_set(c->rep, status, "application/json", body, len);
}

static void reply_error_msg(Ctx *c, unsigned status, const char *msg)
{
    size_t len = 0;
    /* Each tree has its own error body (API.md sections 0 and 6). */
    char *body = c->tree->error_body(status, msg, &len);

    reply_set(c->rep, status, "application/json", body, body ? len : 0);
    if (status == 503 && c->host) {
        char ra[16];

        snprintf(ra, sizeof(ra), "%u", virt_host_retry_after(c->host));
        (void)reply_add_header(c->rep, "Retry-After", ra);
    } else if (status == 503)
        (void)reply_add_header(c->rep, "Retry-After", "1");
}

void api_reply_error(Ctx *c, unsigned status, const char *fmt, ...)
{
    _cleanup_free_ char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = strdup_vprintf(fmt, ap);
    va_end(ap);
    reply_error_msg(c, status, msg ? msg : "error");
}

unsigned api_status_from_errno(int r)
{
    static const struct {
        int err;
        unsigned status;
    } map[] = {
        { EINVAL, 400 },    { EBADMSG, 400 },    { EACCES, 403 },   { EPERM, 403 },
        { ENOENT, 404 },    { EBUSY, 409 },      { ENODEV, 409 },   { ENOTUNIQ, 409 },
        { EEXIST, 409 },    { EALREADY, 409 },   { E2BIG, 413 },    { EMSGSIZE, 413 },
        { EPROTO, 415 },    { EOPNOTSUPP, 501 }, { ENOTCONN, 503 }, { EAGAIN, 503 },
        { ETIMEDOUT, 503 },
    };

    for (size_t i = 0; i < ELEMENTSOF(map); i++)
        if (map[i].err == -r)
            return map[i].status;
    return 500;
}

static bool step_up(Ctx *c, Role needed);

void api_reply_errno(Ctx *c, int r, const char *fallback)
{
    unsigned status = api_status_from_errno(r);
    const char *msg = error_get();
    char buf[256];

    if (!msg) {
        snprintf(buf, sizeof(buf), "%s: %s", fallback ? fallback : "error", strerror(-r));
        msg = buf;
    }
    if (status >= 500)
        log_error("%s %s: %s", c->req->method_str, c->req->path, msg);
    if (status == 403 && r == -EACCES && c->id.role < ROLE_ADMIN &&
        step_up(c, (Role)(c->id.role + 1)))
        return;
    if (status == 403) {
        auth_count_forbidden();
        log_warning("Forbidden: %s from %s on %s %s", msg, c->req->peer, c->req->method_str,
                    c->req->path);
    }
    reply_error_msg(c, status, msg);
}

int api_query_bool(Ctx *c, const char *key, bool *ret, bool *ret_present)
{
    const char *v = http_query(c->req, key);
    bool b;

    if (ret_present)
        *ret_present = v != NULL;
    if (!v)
        return 0;
    /* "?once" alone means once=1. */
    if (!*v) {
        *ret = true;
        return 0;
    }
    if (parse_bool(v, &b) < 0) {
        api_reply_error(c, 400, "invalid value '%s' for '%s': expected 1 or 0", v, key);
        return -EINVAL;
    }
    *ret = b;
    return 0;
}

Json *api_machine_entry(const Machine *m)
{
    Json *o = json_obj();
    char id[16];

    if (!o)
        return NULL;
    if (m->id >= 0)
        snprintf(id, sizeof(id), "%d", m->id);
    else
        snprintf(id, sizeof(id), "-");
    json_set_str(o, "id", id);
    json_set_str(o, "name", m->name);
    json_set_str(o, "state", machine_state_to_string(m->state));
    json_set_str(o, "uuid", m->uuid);
    json_set_str(o, "host", virt_host_name(m->host));
    if (m->stale)
        json_set_bool(o, "stale", true);
    return o;
}

/* ---- dispatch ---- */

static bool authenticate(Ctx *c)
{
    AuthResult r = auth_check(c->req, c->conf, c->holder->users, &c->id);

    if (r == AUTH_OK) {
        /* The access log has the peer; "anonymous" marks who came without
         * credentials where anonymous networks are served. */
        c->req->log_user = !c->id.anonymous ? c->id.user
                           : auth_anonymous_enabled(c->conf) ? "anonymous"
                                                             : NULL;
        return true;
    }
    if (r == AUTH_NOT_ALLOWED) {
        auth_count_forbidden();
        log_warning("Refused %s %s from %s: not in [auth] anonymous_networks, and there are "
                    "no users", c->req->method_str, c->req->path, c->req->peer);
        api_reply_error(c, 403, "this address is not allowed: requests without credentials "
                        "are served only from [auth] anonymous_networks");
        return false;
    }
    if (r == AUTH_THROTTLED) {
        char ra[16];

        api_reply_error(c, 429, "too many failed logins: try again in %u s", c->id.retry_after);
        snprintf(ra, sizeof(ra), "%u", c->id.retry_after);
        (void)reply_add_header(c->rep, "Retry-After", ra);
        return false;
    }
    api_reply_error(c, 401, "%s",
                    r == AUTH_MISSING ? "authentication required"
                    : r == AUTH_TOKEN_BAD
                        ? "the session token (X-Auth-Token) is unknown or expired: log in again"
                    : r == AUTH_STALE ? "the nonce is expired or unknown: answer the new challenge"
                    : r == AUTH_BASIC_REFUSED
                        ? "Basic authentication is not accepted here; use Digest"
                        : "wrong user name or password");
    auth_challenge(c->req, c->conf, r == AUTH_STALE, c->rep);
    return false;
}

/* An anonymous request (from [auth] anonymous_networks) that needs more
 * than the anonymous role: with a users file it may step up, so 401 with a
 * challenge instead of 403. */
static bool step_up(Ctx *c, Role needed)
{
    if (!c->id.anonymous || !c->holder->users)
        return false;
    log_warning("Anonymous request from %s on %s %s needs role %s: asking for credentials",
                c->req->peer, c->req->method_str, c->req->path, role_to_string(needed));
    api_reply_error(c, 401, "anonymous requests have role '%s'; this needs '%s': authenticate",
                    role_to_string(c->id.role), role_to_string(needed));
    auth_challenge(c->req, c->conf, false, c->rep);
    return true;
}

void api_forbidden(Ctx *c, Role needed)
{
    if (step_up(c, needed))
        return;
    auth_count_forbidden();
    log_warning("Forbidden: user '%s' (role %s) from %s on %s %s needs role %s",
                c->id.anonymous ? "anonymous" : c->id.user, role_to_string(c->id.role),
                c->req->peer, c->req->method_str, c->req->path, role_to_string(needed));
    api_reply_error(c, 403, "user '%s' has role '%s'; this needs '%s'",
                    c->id.anonymous ? "anonymous" : c->id.user, role_to_string(c->id.role),
                    role_to_string(needed));
}

OpsCaller api_caller(const Ctx *c)
{
    return (OpsCaller){
        .conf = c->conf,
        .user = c->id.anonymous ? NULL : c->id.user,
        .role = c->id.role,
        .peer = c->req->peer,
    };
}

bool api_machine_visible(const Ctx *c, const char *name)
{
    return auth_machine_visible(&c->id, name);
}

bool api_lease_visible(const Ctx *c, const DomInfo *info)
{
    const DomPool *p = info ? &info->pool : NULL;

    return !c->id.anonymous && p && p->name && p->state && streq(p->state, "running") &&
           info->owner && streq(info->owner, c->id.user) &&
           (!p->expires || p->expires > (long long)time(NULL));
}

const Users *api_users(const Ctx *c)
{
    return c->holder->users;
}

static void ctx_free(void *p)
{
    Ctx *c = p;

    route_match_clear(&c->m);
    json_unref(c->body);
    holder_unref(c->holder);
    free(c);
}

typedef struct QueryCheck {
    Ctx *c;
    const char *const *allowed;
} QueryCheck;

static int check_query_key(const char *key, const char *value, void *userdata)
{
    QueryCheck *q = userdata;

    for (size_t i = 0; q->allowed && q->allowed[i]; i++)
        if (streq(q->allowed[i], key))
            return 0;
    api_reply_error(q->c, 400, "unknown query parameter '%s'", key);
    return -EINVAL;
}

static bool content_type_is_json(const char *ct)
{
    size_t n = strlen("application/json");

    return ct && strncasecmp(ct, "application/json", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Resolve a machine name: 404 unknown, 409 ambiguous, 503 host down. */
static bool resolve_name(Ctx *c, const char *name)
{
    _cleanup_strv_free_ char **hosts = NULL;
    const char *host = http_query(c->req, "host");
    int r;

    c->name = name;
    if (!c->name)
        return true;
    c->req->log_machine = c->name;
    r = ops_machine_find(c->name, host, &c->machine, &hosts);
    /* Outside the user's ACL a machine does not exist (never reveal it),
     * unless the user holds its lease (API.md section 5). */
    if (!auth_machine_visible(&c->id, c->name) &&
        (r < 0 || c->id.anonymous || !ops_lease_owned(&c->machine, c->id.user))) {
        api_reply_error(c, 404, "machine '%s' not found", c->name);
        return false;
    }
    if (r == -ENOTUNIQ) {
        Json *o = json_obj(), *a = json_arr();

        for (size_t i = 0; hosts && hosts[i]; i++)
            json_push_str(a, hosts[i]);
        json_set_str(o, "error", error_get());
        json_set(o, "hosts", a);
        api_reply_json(c, 409, o);
        return false;
    }
    if (r < 0) {
        api_reply_errno(c, r, "look up");
        return false;
    }
    c->host = (Host *)c->machine.host;
    /* Found by UUID: from here on the machine goes by its name. */
    c->name = c->machine.name;
    c->req->log_machine = c->name;
    if (c->machine.stale) {
        api_reply_error(c, 503, "host '%s' is unreachable", virt_host_name(c->host));
        return false;
    }
    return true;
}

/* Resolve {name}. */
static bool resolve_machine(Ctx *c)
{
    return resolve_name(c, route_param(&c->m, "name"));
}

/* A leased machine is its owner's (operator) and the admins': anyone else
 * reads it only.  Then the role `needed`. */
static bool check_machine_role(Ctx *c, int needed)
{
    if (c->name) {
        Role before = c->id.role;

        c->id.role = ops_lease_role(&c->machine, c->id.anonymous ? NULL : c->id.user, before);
        if (c->id.role < before && (int)c->id.role < needed) {
            auth_count_forbidden();
            log_warning("Forbidden: %s from %s on %s %s: the machine is leased to another user",
                        c->id.anonymous ? "anonymous" : c->id.user, c->req->peer,
                        c->req->method_str, c->req->path);
            api_reply_error(c, 403, "'%s' is checked out by another user: only its owner or an "
                            "admin may change it", c->name);
            return false;
        }
    }
    if ((int)c->id.role < needed) {
        api_forbidden(c, (Role)needed);
        return false;
    }
    return true;
}

bool api_resolve_machine(Ctx *c, const char *name, Role needed)
{
    return resolve_name(c, name) && check_machine_role(c, (int)needed);
}

/* A request refused before routing still counts under its route (the
 * request counters of GET /metrics): the template only, nothing else of
 * the match is used. */
static void label_route(Ctx *c)
{
    RouteMatch m = { 0 };

    (void)route_match(c->tree, c->req->method, c->req->path, c->conf->legacy_get_actions, &m);
    if (m.route)
        c->req->route = m.route->pattern;
    route_match_clear(&m);
}

int api_handle_early(Request *req, Reply *rep)
{
    Ctx *c = calloc(1, sizeof(*c));

    if (!c) {
        static const char oom[] = "{\"error\": \"out of memory\"}";

        reply_set(rep, 500, "application/json", strdup(oom), strlen(oom));
        return HTTP_DONE;
    }
    req->app = c;
    req->app_free = ctx_free;
    c->req = req;
    c->rep = rep;
    c->tree = tree_for_path(req->path);
    c->holder = holder_ref();
    if (!c->holder) {
        api_reply_error(c, 503, "shutting down");
        return HTTP_DONE;
    }
    c->conf = c->holder->conf;
    for (const char *const *h = c->tree->headers; h && h[0] && h[1]; h += 2)
        (void)reply_add_header(rep, h[0], h[1]);
    /* What the tree shows everyone needs no credentials: it reveals no
     * machine, and a handler of such a path checks what it needs itself. */
    if (c->tree->is_public && c->tree->is_public(req->method, req->path)) {
        static char *const no_machine[] = { NULL };

        c->id = (Identity){ .anonymous = true, .role = ROLE_USER, .machines = no_machine };
        return HTTP_CONTINUE;
    }
    /* Authentication comes before any answer that could reveal a machine,
     * and (called by http once the headers are in) before any body is read. */
    if (authenticate(c))
        return HTTP_CONTINUE;
    label_route(c);
    return HTTP_DONE;
}

static int api_finish(Ctx *c, const RouteMethod *entry, bool on_worker);

int api_handle(Request *req, Reply *rep, bool on_worker)
{
    Ctx *c = req->app;
    const RouteMethod *entry;
    RouteResult rr;

    if (on_worker) {
        if (c->defs_wait)
            (void)api_finish(c, c->m.method, true);
        else
            c->m.method->handler(c);
        return HTTP_DONE;
    }
    if (!c) {
        if (api_handle_early(req, rep) != HTTP_CONTINUE)
            return HTTP_DONE;
        c = req->app;
    }

    rr = route_match(c->tree, req->method, req->path, c->conf->legacy_get_actions, &c->m);
    if (c->m.route)
        req->route = c->m.route->pattern;
    switch (rr) {
    case ROUTE_NOT_FOUND:
        api_reply_error(c, 404, "no such resource: %s", req->path);
        return HTTP_DONE;
    case ROUTE_BAD_METHOD:
        api_reply_error(c, 405, "method %s not allowed here", req->method_str);
        (void)reply_add_header(rep, "Allow", c->m.allow);
        return HTTP_DONE;
    case ROUTE_BAD_REQUEST:
        api_reply_error(c, 400, "%s", c->m.message);
        return HTTP_DONE;
    case ROUTE_FOUND:
        break;
    }
    entry = c->m.method;
    {
        QueryCheck q = { c, entry->query };

        if (http_query_each(req, check_query_key, &q) < 0) {
            if (c->rep->status == 0)
                api_reply_error(c, 400, "invalid query string");
            return HTTP_DONE;
        }
    }
    /* A tree whose clients send JSON under any Content-Type (vmpooler's,
     * whose errors are its own) leaves the body to its handlers. */
    if (req->body_len > 0 && !c->tree->raw_body) {
        if (!content_type_is_json(http_header(req, "Content-Type"))) {
            api_reply_error(c, 415, "the body must be application/json");
            return HTTP_DONE;
        }
        /* Every body is one JSON object, whatever the route does with it. */
        if (json_parse_object(req->body, req->body_len, &c->body) < 0) {
            api_reply_error(c, 400, "%s", error_get());
            return HTTP_DONE;
        }
    }
    {
        bool acting = !(req->method & (HTTP_GET | HTTP_HEAD)) || c->m.legacy_get;
        const char *why = NULL;
        unsigned refused = auth_check_origin(
            req, c->conf, !c->holder->users && !auth_anonymous_enabled(c->conf), acting, &why);

        if (refused) {
            api_reply_error(c, refused, "%s", why);
            return HTTP_DONE;
        }
    }
    /* Until every host has read its machines' definitions, what needs one
     * (owners, tags, leases, MACs, disks) waits for them on a worker.  A
     * machine outside the caller's ACL may be theirs by lease: a definition
     * tells, so that waits too. */
    if (!virt_defs_ready() &&
        (!(entry->flags & ROUTE_NO_DEFS) ||
         (route_param(&c->m, "name") &&
          !auth_machine_visible(&c->id, route_param(&c->m, "name"))))) {
        c->defs_wait = true;
        return HTTP_DEFER;
    }
    return api_finish(c, entry, false);
}

/* How long a request waits for the definitions of hosts that just came up
 * (10,000 machines over RPC take about 4 s). */
#define DEFS_WAIT_MS 30000u

/* Resolve the machine, check the role, run the handler: on the HTTP thread
 * (inline routes) or on a worker. */
static int api_finish(Ctx *c, const RouteMethod *entry, bool on_worker)
{
    if (c->defs_wait && virt_defs_wait(DEFS_WAIT_MS) < 0) {
        (void)reply_add_header(c->rep, "Retry-After", "5");
        api_reply_error(c, 503, "the machines' definitions are still being read from libvirt");
        return HTTP_DONE;
    }
    if (!resolve_machine(c))
        return HTTP_DONE;
    /* The role of the entry that serves this method (a legacy GET: the
     * action's own). */
    if (!check_machine_role(c, entry->role))
        return HTTP_DONE;
    if (on_worker) {
        entry->handler(c);
        return HTTP_DONE;
    }
    if (entry->flags & (ROUTE_INLINE | ROUTE_TRY_INLINE)) {
        c->may_defer = entry->flags & ROUTE_TRY_INLINE;
        entry->handler(c);
        c->may_defer = false;
        if (!c->deferred)
            return HTTP_DONE;
    }
    return HTTP_DEFER;
}

bool api_defer(Ctx *c)
{
    if (!c->may_defer)
        return false;
    c->deferred = true;
    return true;
}

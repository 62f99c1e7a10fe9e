/* test-route.c: matching, decoding, 404/405/400 and the short path; one
 * handler and one role per method, the Allow list, and the daemon's own
 * table with the handlers it names (linked from libvirtmcd.a). */
#include "config.h"

#include "api-routes.h"
#include "api.h"
#include "conf.h"
#include "route.h"
#include "tap.h"
#include "util.h"

static const char *const reserved[] = { "machines", "hosts", "pools", "status", "health",
                                        "version", "map", NULL };

/* Handlers of the local table: each leaves its own mark. */
static const char *called;
static void h_list(struct Ctx *c) { (void)c; called = "list"; }
static void h_get(struct Ctx *c) { (void)c; called = "get"; }
static void h_status(struct Ctx *c) { (void)c; called = "status"; }
static void h_action(struct Ctx *c) { (void)c; called = "action"; }
static void h_boot_get(struct Ctx *c) { (void)c; called = "boot_get"; }
static void h_boot_put(struct Ctx *c) { (void)c; called = "boot_put"; }
static void h_health(struct Ctx *c) { (void)c; called = "health"; }

static const char *const q_action[] = { "once", NULL };

static const Route routes[] = {
    { "/service/machines", { { HTTP_GET, h_list, 0, 0, NULL } } },
    { "/service/machines/{name}", { { HTTP_GET, h_get, 0, 0, NULL } } },
    { "/service/machines/{name}/state_controller/status",
      { { HTTP_GET, h_status, 0, 0, NULL } } },
    { "/service/machines/{name}/state_controller/{action}",
      { { HTTP_POST, h_action, 1, ROUTE_LEGACY_GET, q_action } } },
    { "/service/machines/{name}/boot",
      { { HTTP_GET, h_boot_get, 0, 0, NULL }, { HTTP_PUT, h_boot_put, 1, 0, NULL } } },
    { "/service/health", { { HTTP_GET, h_health, 0, ROUTE_INLINE, NULL } } },
};
/* Rows by position, as matched. */
static const char *const row_names[] = { "list", "get", "status", "action", "boot", "health" };
static const RouteTable table = { .routes = routes,
                                  .n_routes = ELEMENTSOF(routes),
                                  .short_prefix = "service",
                                  .short_insert = "machines",
                                  .reserved = reserved,
                                  .root = "service" };

/* Which handler serves method on path: the mark it leaves when called. */
static const char *served_by(unsigned method, const char *path, bool legacy)
{
    RouteMatch m;

    called = NULL;
    if (route_match(&table, method, path, legacy, &m) == ROUTE_FOUND && m.method &&
        m.method->handler)
        m.method->handler(NULL);
    route_match_clear(&m);
    return called ? called : "none";
}

static const char *match(unsigned method, const char *path, bool legacy, RouteResult expect)
{
    static char name[512];
    RouteMatch m;
    RouteResult r = route_match(&table, method, path, legacy, &m);

    CHECK_INT(r, expect);
    if (r != expect)
        fprintf(stderr, "  path %s\n", path);
    name[0] = '\0';
    if (r == ROUTE_FOUND)
        snprintf(name, sizeof(name), "%s:%s", row_names[m.route - routes],
                 route_param(&m, "name") ? route_param(&m, "name") : "");
    else if (r == ROUTE_BAD_METHOD)
        snprintf(name, sizeof(name), "%s", m.allow);
    route_match_clear(&m);
    return name;
}

int main(void)
{
    RouteMatch m;

    CHECK_STR(match(HTTP_GET, "/service/machines", true, ROUTE_FOUND), "list:");
    CHECK_STR(match(HTTP_GET, "/service/machines/", true, ROUTE_FOUND), "list:");
    CHECK_STR(match(HTTP_HEAD, "/service/machines", true, ROUTE_FOUND), "list:");
    CHECK_STR(match(HTTP_GET, "/service/vm1", true, ROUTE_FOUND), "get:vm1");
    CHECK_STR(match(HTTP_GET, "/service/machines/vm1", true, ROUTE_FOUND), "get:vm1");
    CHECK_STR(match(HTTP_GET, "/service/machines/pools", true, ROUTE_FOUND), "get:pools");
    /* Reserved words are never machines on the short path. */
    match(HTTP_GET, "/service/pools", true, ROUTE_NOT_FOUND);
    CHECK_STR(match(HTTP_GET, "/service/health", true, ROUTE_FOUND), "health:");
    CHECK_STR(match(HTTP_GET, "/service/vm1/state_controller/status", true, ROUTE_FOUND),
              "status:vm1");
    CHECK_STR(match(HTTP_POST, "/service/vm1/state_controller/status", true, ROUTE_BAD_METHOD),
              "GET, HEAD");
    CHECK_STR(match(HTTP_POST, "/service/vm1/state_controller/power_on", true, ROUTE_FOUND),
              "action:vm1");
    CHECK_STR(match(HTTP_GET, "/service/vm1/state_controller/power_on", true, ROUTE_FOUND),
              "action:vm1");
    CHECK_STR(match(HTTP_GET, "/service/vm1/state_controller/power_on", false, ROUTE_BAD_METHOD),
              "POST");
    /* HEAD never performs an action, even where GET does. */
    CHECK_STR(match(HTTP_HEAD, "/service/vm1/state_controller/power_on", true, ROUTE_BAD_METHOD),
              "GET, POST");
    CHECK_STR(match(HTTP_DELETE, "/service/machines", true, ROUTE_BAD_METHOD), "GET, HEAD");
    CHECK_STR(match(HTTP_PUT, "/service/vm1/boot", true, ROUTE_FOUND), "boot:vm1");
    CHECK_STR(match(HTTP_PATCH, "/service/vm1/boot", true, ROUTE_BAD_METHOD), "GET, HEAD, PUT");
    match(HTTP_GET, "/", true, ROUTE_NOT_FOUND);
    match(HTTP_GET, "/nope", true, ROUTE_NOT_FOUND);
    match(HTTP_GET, "/service/vm1/nope", true, ROUTE_NOT_FOUND);
    /* An empty name is a bad name, not an unknown path. */
    match(HTTP_GET, "/service//state_controller/status", true, ROUTE_BAD_REQUEST);
    match(HTTP_GET, "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s", true, ROUTE_NOT_FOUND);

    /* Decoding happens once, after splitting. */
    CHECK_STR(match(HTTP_GET, "/service/web%2001", true, ROUTE_FOUND), "get:web 01");
    CHECK_STR(match(HTTP_GET, "/service/web%252f01", true, ROUTE_FOUND), "get:web%2f01");
    match(HTTP_GET, "/service/a%2fb", true, ROUTE_BAD_REQUEST);
    match(HTTP_GET, "/service/machines/%2e%2e", true, ROUTE_BAD_REQUEST);
    match(HTTP_GET, "/service/machines/.", true, ROUTE_BAD_REQUEST);
    match(HTTP_GET, "/service/a%00b", true, ROUTE_BAD_REQUEST);
    match(HTTP_GET, "/service/a%01b", true, ROUTE_BAD_REQUEST);
    match(HTTP_GET, "/service/a%zz", true, ROUTE_BAD_REQUEST);
    {
        char path[400] = "/service/";

        memset(path + 9, 'a', 256);
        path[9 + 256] = '\0';
        match(HTTP_GET, path, true, ROUTE_BAD_REQUEST);
        path[9 + 255] = '\0';
        match(HTTP_GET, path, true, ROUTE_FOUND);
    }
    CHECK_INT(route_match(&table, HTTP_GET, "/service/a%2fb", true, &m), ROUTE_BAD_REQUEST);
    CHECK_STR(m.message, "invalid machine name");
    route_match_clear(&m);
    CHECK_INT(http_method_from_string("GET"), HTTP_GET);

    /* One handler and one role per method: PUT is never GET's handler. */
    CHECK_STR(served_by(HTTP_GET, "/service/vm1/boot", true), "boot_get");
    CHECK_STR(served_by(HTTP_HEAD, "/service/vm1/boot", true), "boot_get");
    CHECK_STR(served_by(HTTP_PUT, "/service/vm1/boot", true), "boot_put");
    CHECK_STR(served_by(HTTP_POST, "/service/vm1/boot", true), "none");
    CHECK_STR(served_by(HTTP_GET, "/service/vm1/state_controller/reboot", true), "action");
    CHECK_STR(served_by(HTTP_GET, "/service/vm1/state_controller/reboot", false), "none");
    CHECK_STR(served_by(HTTP_HEAD, "/service/vm1/state_controller/reboot", true), "none");
    CHECK_STR(served_by(HTTP_HEAD, "/service/health", true), "health");
    CHECK_INT(route_match(&table, HTTP_PUT, "/service/vm1/boot", true, &m), ROUTE_FOUND);
    CHECK_INT(m.method->method, HTTP_PUT);
    CHECK_INT(m.method->role, 1);
    CHECK(!m.legacy_get);
    route_match_clear(&m);
    CHECK_INT(route_match(&table, HTTP_HEAD, "/service/vm1/boot", true, &m), ROUTE_FOUND);
    CHECK_INT(m.method->method, HTTP_GET);
    CHECK_INT(m.method->role, 0);
    route_match_clear(&m);
    /* A legacy GET is the action's entry: its role, its query keys. */
    CHECK_INT(route_match(&table, HTTP_GET, "/service/vm1/state_controller/reboot", true, &m),
              ROUTE_FOUND);
    CHECK(m.legacy_get);
    CHECK_INT(m.method->method, HTTP_POST);
    CHECK_INT(m.method->role, 1);
    CHECK(m.method->query == q_action);
    route_match_clear(&m);
    CHECK_INT(route_match(&table, HTTP_POST, "/service/vm1/state_controller/reboot", true, &m),
              ROUTE_FOUND);
    CHECK(!m.legacy_get);
    route_match_clear(&m);
    CHECK_INT(route_match(&table, HTTP_GET, "/service/health", true, &m), ROUTE_FOUND);
    CHECK_INT(m.method->flags, ROUTE_INLINE);
    route_match_clear(&m);
    /* The Allow list: exactly what would be served, nothing cut. */
    CHECK_STR(match(HTTP_POST, "/service/vm1/boot", false, ROUTE_BAD_METHOD), "GET, HEAD, PUT");
    CHECK_STR(match(HTTP_OPTIONS, "/service/health", true, ROUTE_BAD_METHOD), "GET, HEAD");
    CHECK_STR(match(HTTP_OTHER, "/service/vm1/state_controller/reboot", true, ROUTE_BAD_METHOD),
              "GET, POST");
    CHECK_STR(match(HTTP_OTHER, "/service/vm1/state_controller/reboot", false, ROUTE_BAD_METHOD),
              "POST");
    {
        static const Route every[] = {
            { "/x",
              { { HTTP_DELETE, h_list, 0, 0, NULL },
                { HTTP_OPTIONS, h_list, 0, 0, NULL },
                { HTTP_PATCH, h_list, 0, 0, NULL },
                { HTTP_PUT, h_list, 0, 0, NULL },
                { HTTP_POST, h_list, 0, 0, NULL },
                { HTTP_GET, h_list, 0, 0, NULL } } },
        };
        static const RouteTable t = { .routes = every, .n_routes = 1 };

        CHECK_INT(route_match(&t, HTTP_OTHER, "/x", true, &m), ROUTE_BAD_METHOD);
        CHECK_STR(m.allow, "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
        route_match_clear(&m);
        CHECK_INT(route_match(&t, HTTP_OPTIONS, "/x", true, &m), ROUTE_FOUND);
        CHECK_INT(m.method->method, HTTP_OPTIONS);
        route_match_clear(&m);
    }

    /* The daemon's own table. */
    {
        static const struct {
            unsigned method;
            const char *path;
            bool legacy;
            RouteResult result;
            RouteHandler handler;
            Role role;
            const char *allow;
        } cases[] = {
            { HTTP_GET, "/service/machines", true, ROUTE_FOUND, api_machines_list, ROLE_USER,
              NULL },
            { HTTP_HEAD, "/service/machines", true, ROUTE_FOUND, api_machines_list, ROLE_USER,
              NULL },
            { HTTP_GET, "/service/vm1", true, ROUTE_FOUND, api_machine_get, ROLE_USER, NULL },
            { HTTP_GET, "/service/machines/pools", true, ROUTE_FOUND, api_machine_get,
              ROLE_USER, NULL },
            { HTTP_GET, "/service/pools", true, ROUTE_FOUND, api_pools_list, ROLE_USER, NULL },
            { HTTP_GET, "/service/pools/deb12", true, ROUTE_FOUND, api_pool_get, ROLE_USER,
              NULL },
            { HTTP_POST, "/service/pools/deb12/checkout", true, ROUTE_FOUND, api_pool_checkout,
              ROLE_OPERATOR, NULL },
            /* The literal row comes first: no pool is called "checkout". */
            { HTTP_POST, "/service/pools/checkout", true, ROUTE_FOUND, api_pools_checkout,
              ROLE_OPERATOR, NULL },
            { HTTP_GET, "/service/pools/checkout", true, ROUTE_BAD_METHOD, NULL, 0, "POST" },
            { HTTP_GET, "/service/status", true, ROUTE_FOUND, api_service_status, ROLE_USER,
              NULL },
            /* Who may see or change a lease is ops-pool.c's (owner or admin). */
            { HTTP_GET, "/service/vm1/lease", true, ROUTE_FOUND, api_lease_get, ROLE_USER, NULL },
            { HTTP_PUT, "/service/vm1/lease", true, ROUTE_FOUND, api_lease_put, ROLE_USER, NULL },
            { HTTP_DELETE, "/service/machines/vm1/lease", true, ROUTE_FOUND, api_lease_delete,
              ROLE_USER, NULL },
            { HTTP_GET, "/service/vm1/state_controller/status", true, ROUTE_FOUND,
              api_machine_status, ROLE_USER, NULL },
            { HTTP_POST, "/service/vm1/state_controller/pxeboot", true, ROUTE_FOUND,
              api_machine_action, ROLE_OPERATOR, NULL },
            /* A legacy GET acts: the operator's role, as POST. */
            { HTTP_GET, "/service/vm1/state_controller/pxeboot", true, ROUTE_FOUND,
              api_machine_action, ROLE_OPERATOR, NULL },
            { HTTP_GET, "/service/vm1/state_controller/pxeboot", false, ROUTE_BAD_METHOD, NULL,
              0, "POST" },
            { HTTP_HEAD, "/service/vm1/state_controller/pxeboot", true, ROUTE_BAD_METHOD, NULL,
              0, "GET, POST" },
            { HTTP_GET, "/service/vm1/boot", true, ROUTE_FOUND, api_boot_get, ROLE_USER, NULL },
            { HTTP_PUT, "/service/vm1/boot", true, ROUTE_FOUND, api_boot_put, ROLE_OPERATOR, NULL },
            { HTTP_PATCH, "/service/vm1/boot", true, ROUTE_BAD_METHOD, NULL, 0,
              "GET, HEAD, PUT" },
            { HTTP_GET, "/service/vm1/backups", true, ROUTE_FOUND, api_backups_list, ROLE_USER,
              NULL },
            /* Reading a backup's content needs admin: it may hold secrets. */
            { HTTP_GET, "/service/vm1/backups/x", true, ROUTE_FOUND, api_backup_get,
              ROLE_ADMIN, NULL },
            { HTTP_POST, "/service/vm1/backups/x/restore", true, ROUTE_FOUND, api_backup_restore,
              ROLE_ADMIN, NULL },
            { HTTP_GET, "/service/vm1/backups/x/restore", true, ROUTE_BAD_METHOD, NULL, 0,
              "POST" },
            { HTTP_GET, "/service/health", true, ROUTE_FOUND, api_health, ROLE_USER, NULL },
            { HTTP_GET, "/service/version", true, ROUTE_FOUND, api_version, ROLE_USER, NULL },
            { HTTP_DELETE, "/service/version", true, ROUTE_BAD_METHOD, NULL, 0, "GET, HEAD" },
            { HTTP_GET, "/service/machines//boot", true, ROUTE_BAD_REQUEST, NULL, 0, NULL },
            /* "map" is reserved: /service/map/x is the map's node x, not a machine. */
            { HTTP_GET, "/service/map", true, ROUTE_FOUND, api_map_get, ROLE_USER, NULL },
            { HTTP_HEAD, "/service/map/kvm09", true, ROUTE_FOUND, api_map_node_get, ROLE_USER,
              NULL },
            { HTTP_POST, "/service/map", true, ROUTE_BAD_METHOD, NULL, 0, "GET, HEAD" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
            RouteResult r = route_match(&api_route_table, cases[i].method, cases[i].path,
                                        cases[i].legacy, &m);

            CHECK_INT(r, cases[i].result);
            if (r != cases[i].result)
                fprintf(stderr, "  case %zu: %s\n", i, cases[i].path);
            if (r == ROUTE_FOUND) {
                CHECK(m.method->handler == cases[i].handler);
                CHECK_INT(m.method->role, cases[i].role);
            }
            if (r == ROUTE_BAD_METHOD)
                CHECK_STR(m.allow, cases[i].allow);
            route_match_clear(&m);
        }

        /* Every row: real handlers, each method once, no HEAD of its own
         * (GET implies it), legacy GET only on a POST of a row without GET. */
        for (size_t i = 0; i < api_route_table.n_routes; i++) {
            const Route *r = &api_route_table.routes[i];
            unsigned seen = 0;
            size_t n = 0;

            for (; n < ROUTE_MAX_METHODS && r->methods[n].method; n++) {
                const RouteMethod *e = &r->methods[n];

                CHECK(e->handler != NULL);
                CHECK(!(seen & e->method));
                CHECK(e->method != HTTP_HEAD && e->method != HTTP_OTHER);
                CHECK(e->role >= ROLE_USER && e->role < _ROLE_MAX);
                if (e->flags & ROUTE_LEGACY_GET)
                    CHECK_INT(e->method, HTTP_POST);
                seen |= e->method;
            }
            CHECK(n > 0);
            for (size_t k = n; k < ROUTE_MAX_METHODS; k++)
                CHECK(r->methods[k].method == 0 && r->methods[k].handler == NULL);
            for (size_t k = 0; k < n; k++)
                if (r->methods[k].flags & ROUTE_LEGACY_GET)
                    CHECK(!(seen & HTTP_GET));
        }

        /* The tree's error body: API.md section 0. */
        {
            size_t len = 0;
            char *body = api_route_table.error_body(404, "no \"vm9\"", &len);

            CHECK_STR(body, "{\"error\":\"no \\\"vm9\\\"\"}");
            CHECK_INT(len, body ? strlen(body) : 0);
            free(body);
            CHECK_STR(api_route_table.root, "service");
        }
    }
    /* The /api tree: virtmapper's paths, the same handlers and error body. */
    {
        CHECK_STR(api_v1_route_table.root, "api");
        CHECK(api_v1_route_table.error_body == api_route_table.error_body);
        CHECK_INT(route_match(&api_v1_route_table, HTTP_GET, "/api/v1/vmap", true, &m),
                  ROUTE_FOUND);
        CHECK(m.method->handler == api_map_get);
        route_match_clear(&m);
        CHECK_INT(route_match(&api_v1_route_table, HTTP_GET, "/api/v1/vmap/tw%69n/", true, &m),
                  ROUTE_FOUND);
        CHECK(m.method->handler == api_map_node_get);
        CHECK_STR(route_param(&m, "node"), "twin");
        route_match_clear(&m);
        CHECK_INT(route_match(&api_v1_route_table, HTTP_GET, "/api/v1/vmap/a/b", true, &m),
                  ROUTE_NOT_FOUND);
        CHECK_INT(route_match(&api_v1_route_table, HTTP_GET, "/api/v1/vmaps", true, &m),
                  ROUTE_NOT_FOUND);
    }
    CHECK_INT(http_method_from_string("BREW"), HTTP_OTHER);
    /* Methods are bit flags: each one names itself, a set or none is "OTHER". */
    for (unsigned bit = 0; (1u << bit) < HTTP_OTHER; bit++)
        CHECK_INT(http_method_from_string(http_method_to_string((HttpMethod)(1u << bit))),
                  1u << bit);
    CHECK_STR(http_method_to_string(HTTP_PATCH), "PATCH");
    CHECK_STR(http_method_to_string(HTTP_OTHER), "OTHER");
    CHECK_STR(http_method_to_string((HttpMethod)(HTTP_GET | HTTP_PUT)), "OTHER");
    CHECK_STR(http_method_to_string((HttpMethod)0), "OTHER");
    CHECK_INT(http_method_from_string("get"), HTTP_OTHER);
    CHECK_INT(http_method_from_string("OTHER"), HTTP_OTHER);
    CHECK_INT(http_method_from_string(NULL), HTTP_OTHER);
    return tap_done();
}

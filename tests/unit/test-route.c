/* test-route.c: matching, decoding, 404/405/400 and the short path. */
#include "config.h"

#include "api-routes.h"
#include "conf.h"
#include "route.h"
#include "tap.h"
#include "util.h"

static const char *const reserved[] = { "machines", "hosts", "pools", "status", "health",
                                        "version", "map", NULL };
static const Route routes[] = {
    { "/service/machines", HTTP_GET, 0, 0, NULL, 0, 0 },
    { "/service/machines/{name}", HTTP_GET, 0, 0, NULL, 1, 0 },
    { "/service/machines/{name}/state_controller/status", HTTP_GET, 0, 0, NULL, 2, 0 },
    { "/service/machines/{name}/state_controller/{action}", HTTP_POST, ROUTE_LEGACY_GET, 1, NULL,
      3, 0 },
    { "/service/machines/{name}/boot", HTTP_GET | HTTP_PUT, 0, 1, NULL, 4, 0 },
    { "/service/health", HTTP_GET, 0, 0, NULL, 5, 0 },
};
static const char *const handler_names[] = { "list", "get", "status", "action", "boot",
                                             "health" };
static const RouteTable table = { routes, ELEMENTSOF(routes), "service", "machines", reserved };

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
        snprintf(name, sizeof(name), "%s:%s", handler_names[m.route->handler],
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

    /* The daemon's own table. */
    {
        static const struct {
            unsigned method;
            const char *path;
            RouteResult result;
            int handler;
        } cases[] = {
            { HTTP_GET, "/service/machines", ROUTE_FOUND, API_MACHINES_LIST },
            { HTTP_GET, "/service/vm1", ROUTE_FOUND, API_MACHINE_GET },
            { HTTP_GET, "/service/machines/pools", ROUTE_FOUND, API_MACHINE_GET },
            { HTTP_GET, "/service/pools", ROUTE_NOT_FOUND, -1 },
            { HTTP_GET, "/service/vm1/state_controller/status", ROUTE_FOUND, API_MACHINE_STATUS },
            { HTTP_POST, "/service/vm1/state_controller/pxeboot", ROUTE_FOUND,
              API_MACHINE_ACTION },
            { HTTP_PUT, "/service/vm1/boot", ROUTE_FOUND, API_BOOT },
            { HTTP_GET, "/service/vm1/backups", ROUTE_FOUND, API_BACKUPS_LIST },
            { HTTP_GET, "/service/vm1/backups/x", ROUTE_FOUND, API_BACKUP_GET },
            { HTTP_POST, "/service/vm1/backups/x/restore", ROUTE_FOUND, API_BACKUP_RESTORE },
            { HTTP_GET, "/service/vm1/backups/x/restore", ROUTE_BAD_METHOD, -1 },
            { HTTP_GET, "/service/health", ROUTE_FOUND, API_HEALTH },
            { HTTP_GET, "/service/version", ROUTE_FOUND, API_VERSION },
            { HTTP_GET, "/service/machines//boot", ROUTE_BAD_REQUEST, -1 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
            RouteResult r = route_match(&api_route_table, cases[i].method, cases[i].path, true,
                                        &m);

            CHECK_INT(r, cases[i].result);
            if (r == ROUTE_FOUND)
                CHECK_INT(m.route->handler, cases[i].handler);
            route_match_clear(&m);
        }
        /* Reading a backup's content needs admin: it may hold secrets. */
        CHECK_INT(route_match(&api_route_table, HTTP_GET, "/service/vm1/backups/x", true, &m),
                  ROUTE_FOUND);
        CHECK_INT(m.route->read_role, ROLE_ADMIN);
        route_match_clear(&m);
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

/* api-routes.c: the routes of API.md as one table: path pattern, methods,
 * flags, the role an acting request needs, accepted query keys, handler
 * number and the role a read needs.  Data only: it never calls anything. */
#include "config.h"

#include "api-routes.h"
#include "conf.h"
#include "util.h"

static const char *const q_host[] = { "host", NULL };
static const char *const q_list[] = { "state", "host", "owner", "tag", "name", "pool", NULL };
static const char *const q_action[] = { "host", "force", "persistent", "once", "restart", NULL };
static const char *const reserved[] = { "machines", "hosts",  "map",     "pools",
                                        "status",   "health", "version", NULL };

#define M "/service/machines/{name}"
static const Route routes[] = {
    { "/service/machines", HTTP_GET, ROUTE_INLINE, ROLE_USER, q_list, API_MACHINES_LIST,
      ROLE_USER },
    { M, HTTP_GET, 0, ROLE_USER, q_host, API_MACHINE_GET, ROLE_USER },
    { M "/state_controller/status", HTTP_GET, ROUTE_INLINE, ROLE_USER, q_host,
      API_MACHINE_STATUS, ROLE_USER },
    { M "/state_controller/{action}", HTTP_POST, ROUTE_LEGACY_GET, ROLE_OPERATOR, q_action,
      API_MACHINE_ACTION, ROLE_USER },
    { M "/boot", HTTP_GET | HTTP_PUT, 0, ROLE_OPERATOR, q_host, API_BOOT, ROLE_USER },
    { M "/backups", HTTP_GET, 0, ROLE_USER, q_host, API_BACKUPS_LIST, ROLE_USER },
    /* A saved definition holds secrets (read with the secure flag). */
    { M "/backups/{id}", HTTP_GET, 0, ROLE_ADMIN, q_host, API_BACKUP_GET, ROLE_ADMIN },
    { M "/backups/{id}/restore", HTTP_POST, 0, ROLE_ADMIN, q_host, API_BACKUP_RESTORE,
      ROLE_USER },
    { "/service/health", HTTP_GET, ROUTE_INLINE, ROLE_USER, NULL, API_HEALTH, ROLE_USER },
    { "/service/version", HTTP_GET, ROUTE_INLINE, ROLE_USER, NULL, API_VERSION, ROLE_USER },
};
#undef M

const RouteTable api_route_table = {
    .routes = routes,
    .n_routes = ELEMENTSOF(routes),
    .short_prefix = "service",
    .short_insert = "machines",
    .reserved = reserved,
};

/* api-routes.c: the routes of API.md sections 1-2, 3 (hosts), 4 (the map),
 * 5 (pools), 7 and 12.1 (vmpooler's v3) as tables, one per tree (/service, /api,
 * /api/v3): a row per path pattern,
 * and per method its handler, the role it needs, its flags and its accepted
 * query keys; plus the error body of the tree.  Data only: it names handlers
 * but never calls one. */
#include "config.h"

#include <string.h>

#include "api-routes.h"
#include "api.h"
#include "conf.h"
#include "json.h"
#include "util.h"

static const char *const q_host[] = { "host", NULL };
static const char *const q_list[] = { "state", "host", "owner",     "tag",
                                      "name",  "pool", "addresses", NULL };
static const char *const q_action[] = { "host", "force", "persistent", "once", "restart", NULL };
/* "machine": the original controller's README lists machines at
 * /service/machine; a machine called "machine" is /service/machines/machine. */
static const char *const reserved[] = { "machines", "machine", "hosts",   "map", "pools",
                                        "status",   "health",  "version", NULL };

/* API.md section 0: {"error": "message"} whatever the status. */
static char *service_error_body(unsigned status, const char *message, size_t *ret_len)
{
    (void)status;
    return json_error_body(message, ret_len);
}

#define M "/service/machines/{name}"
static const Route routes[] = {
    { "/service/machines",
      { { HTTP_GET, api_machines_list, ROLE_USER, ROUTE_INLINE, q_list } } },
    /* The original controller's spellings (issue 10): its README's list and
     * its reset without state_controller. */
    { "/service/machine",
      { { HTTP_GET, api_machines_list, ROLE_USER, ROUTE_INLINE, q_list } } },
    { M "/force_reset",
      { { HTTP_POST, api_machine_force_reset, ROLE_OPERATOR, ROUTE_LEGACY_GET, q_action } } },
    { M, { { HTTP_GET, api_machine_get, ROLE_USER, 0, q_host } } },
    { M "/state_controller/status",
      { { HTTP_GET, api_machine_status, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, q_host } } },
    { M "/state_controller/{action}",
      { { HTTP_POST, api_machine_action, ROLE_OPERATOR, ROUTE_LEGACY_GET, q_action } } },
    { M "/boot",
      { { HTTP_GET, api_boot_get, ROLE_USER, 0, q_host },
        { HTTP_PUT, api_boot_put, ROLE_OPERATOR, 0, q_host } } },
    { M "/metadata",
      { { HTTP_GET, api_metadata_get, ROLE_USER, 0, q_host },
        { HTTP_PATCH, api_metadata_patch, ROLE_OPERATOR, 0, q_host } } },
    { M "/media",
      { { HTTP_GET, api_media_get, ROLE_USER, 0, q_host },
        { HTTP_PUT, api_media_put, ROLE_OPERATOR, 0, q_host },
        { HTTP_DELETE, api_media_delete, ROLE_OPERATOR, 0, q_host } } },
    /* The lease's rules (owner or admin) are ops-pool.c's. */
    { M "/lease",
      { { HTTP_GET, api_lease_get, ROLE_USER, 0, q_host },
        { HTTP_PUT, api_lease_put, ROLE_USER, 0, q_host },
        { HTTP_DELETE, api_lease_delete, ROLE_USER, 0, q_host } } },
    { M "/addresses", { { HTTP_GET, api_machine_addresses, ROLE_USER, 0, q_host } } },
    { M "/backups", { { HTTP_GET, api_backups_list, ROLE_USER, 0, q_host } } },
    /* A saved definition holds secrets (read with the secure flag). */
    { M "/backups/{id}", { { HTTP_GET, api_backup_get, ROLE_ADMIN, 0, q_host } } },
    { M "/backups/{id}/restore",
      { { HTTP_POST, api_backup_restore, ROLE_ADMIN, 0, q_host } } },
    /* From memory: a host that hangs never holds the answer. */
    { "/service/hosts", { { HTTP_GET, api_hosts_list, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
    { "/service/hosts/{host}", { { HTTP_GET, api_host_get, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
    /* Pools: status from virt's table (memory), checkout writes metadata.
     * "checkout" comes before {pool}; conf_check reserves that pool name. */
    { "/service/pools", { { HTTP_GET, api_pools_list, ROLE_USER, ROUTE_INLINE, NULL } } },
    { "/service/pools/checkout",
      { { HTTP_POST, api_pools_checkout, ROLE_OPERATOR, 0, NULL } } },
    { "/service/pools/{pool}", { { HTTP_GET, api_pool_get, ROLE_USER, ROUTE_INLINE, NULL } } },
    { "/service/pools/{pool}/checkout",
      { { HTTP_POST, api_pool_checkout, ROLE_OPERATOR, 0, NULL } } },
    { "/service/status", { { HTTP_GET, api_service_status, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
    { "/service/health", { { HTTP_GET, api_health, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
    { "/service/version", { { HTTP_GET, api_version, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
    /* {node}, not {name}: a host or a guest, looked up in the map itself. */
    { "/service/map", { { HTTP_GET, api_map_get, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
    { "/service/map/{node}", { { HTTP_GET, api_map_node_get, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
};
#undef M

const RouteTable api_route_table = {
    .routes = routes,
    .n_routes = ELEMENTSOF(routes),
    .short_prefix = "service",
    .short_insert = "machines",
    .reserved = reserved,
    .root = "service",
    .error_body = service_error_body,
};

/* virtmapper's own paths, for its clients (API.md section 4). */
static const Route v1_routes[] = {
    { "/api/v1/vmap", { { HTTP_GET, api_map_get, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
    { "/api/v1/vmap/{node}", { { HTTP_GET, api_map_node_get, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
};

const RouteTable api_v1_route_table = {
    .routes = v1_routes,
    .n_routes = ELEMENTSOF(v1_routes),
    .root = "api",
    .error_body = service_error_body,
};

/* vmpooler's v3 API (API.md section 12.1): its error body is {"ok": false},
 * with our message as "reason". */
static char *v3_error_body(unsigned status, const char *message, size_t *ret_len)
{
    _cleanup_(json_unrefp) Json *o = json_obj();

    (void)status;
    json_set_bool(o, "ok", false);
    if (message)
        json_set_str(o, "reason", message);
    return json_dump(o, ret_len);
}

/* GET /api/v3/token/<token>: the token is the credential (api-v3.c). */
static bool v3_is_public(HttpMethod method, const char *path)
{
    static const char prefix[] = "/api/v3/token/";

    return (method & (HTTP_GET | HTTP_HEAD)) && strncmp(path, prefix, strlen(prefix)) == 0 &&
           path[strlen(prefix)] && !strchr(path + strlen(prefix), '/');
}

static const char *const q_view[] = { "view", NULL };
static const char *const q_summary[] = { "from", "to", NULL };

/* The machine segment is {vm}, not {name}: POST takes pools there
 * ("a+b"), the other methods resolve it as a machine (api_resolve_machine). */
static const Route v3_routes[] = {
    { "/api/v3/token", { { HTTP_POST, api_v3_token_post, ROLE_USER, ROUTE_NO_DEFS, NULL } } },
    { "/api/v3/token/{token}",
      { { HTTP_GET, api_v3_token_get, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL },
        { HTTP_DELETE, api_v3_token_delete, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
    { "/api/v3/vm",
      { { HTTP_GET, api_v3_vm_list, ROLE_USER, ROUTE_INLINE, NULL },
        { HTTP_POST, api_v3_vm_post, ROLE_OPERATOR, 0, NULL } } },
    { "/api/v3/vm/{vm}",
      { { HTTP_GET, api_v3_vm_get, ROLE_USER, 0, NULL },
        { HTTP_POST, api_v3_vm_pools_post, ROLE_OPERATOR, 0, NULL },
        { HTTP_PUT, api_v3_vm_put, ROLE_USER, 0, NULL },
        { HTTP_DELETE, api_v3_vm_delete, ROLE_USER, 0, NULL } } },
    { "/api/v3/status", { { HTTP_GET, api_v3_status, ROLE_USER, ROUTE_INLINE, q_view } } },
    { "/api/v3/summary", { { HTTP_GET, api_v3_summary, ROLE_USER, ROUTE_INLINE, q_summary } } },
};

const RouteTable api_v3_route_table = {
    .routes = v3_routes,
    .n_routes = ELEMENTSOF(v3_routes),
    .root = "api/v3",
    .error_body = v3_error_body,
    .is_public = v3_is_public,
    .raw_body = true,
};

/* Prometheus' scrape path (API.md section 7): read like /service/health,
 * answered from memory. */
static const Route metrics_routes[] = {
    { "/metrics", { { HTTP_GET, api_metrics, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
};

const RouteTable api_metrics_route_table = {
    .routes = metrics_routes,
    .n_routes = ELEMENTSOF(metrics_routes),
    .root = "metrics",
    .error_body = service_error_body,
};

/* api-routes.c: the routes of API.md sections 1-2, 3 (hosts), 4 (the map),
 * 5 (pools) and 7 as tables, one per tree (/service, /api): a row per path pattern,
 * and per method its handler, the role it needs, its flags and its accepted
 * query keys; plus the error body of the tree.  Data only: it names handlers
 * but never calls one. */
#include "config.h"

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
      { { HTTP_GET, api_machine_status, ROLE_USER, ROUTE_INLINE, q_host } } },
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
    { "/service/hosts", { { HTTP_GET, api_hosts_list, ROLE_USER, ROUTE_INLINE, NULL } } },
    { "/service/hosts/{host}", { { HTTP_GET, api_host_get, ROLE_USER, ROUTE_INLINE, NULL } } },
    /* Pools: status from virt's table (memory), checkout writes metadata.
     * "checkout" comes before {pool}; conf_check reserves that pool name. */
    { "/service/pools", { { HTTP_GET, api_pools_list, ROLE_USER, ROUTE_INLINE, NULL } } },
    { "/service/pools/checkout",
      { { HTTP_POST, api_pools_checkout, ROLE_OPERATOR, 0, NULL } } },
    { "/service/pools/{pool}", { { HTTP_GET, api_pool_get, ROLE_USER, ROUTE_INLINE, NULL } } },
    { "/service/pools/{pool}/checkout",
      { { HTTP_POST, api_pool_checkout, ROLE_OPERATOR, 0, NULL } } },
    { "/service/status", { { HTTP_GET, api_service_status, ROLE_USER, ROUTE_INLINE, NULL } } },
    { "/service/health", { { HTTP_GET, api_health, ROLE_USER, ROUTE_INLINE, NULL } } },
    { "/service/version", { { HTTP_GET, api_version, ROLE_USER, ROUTE_INLINE, NULL } } },
    /* {node}, not {name}: a host or a guest, looked up in the map itself. */
    { "/service/map", { { HTTP_GET, api_map_get, ROLE_USER, ROUTE_INLINE, NULL } } },
    { "/service/map/{node}", { { HTTP_GET, api_map_node_get, ROLE_USER, ROUTE_INLINE, NULL } } },
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
    { "/api/v1/vmap", { { HTTP_GET, api_map_get, ROLE_USER, ROUTE_INLINE, NULL } } },
    { "/api/v1/vmap/{node}", { { HTTP_GET, api_map_node_get, ROLE_USER, ROUTE_INLINE, NULL } } },
};

const RouteTable api_v1_route_table = {
    .routes = v1_routes,
    .n_routes = ELEMENTSOF(v1_routes),
    .root = "api",
    .error_body = service_error_body,
};

/* Prometheus' scrape path (API.md section 7): read like /service/health,
 * answered from memory. */
static const Route metrics_routes[] = {
    { "/metrics", { { HTTP_GET, api_metrics, ROLE_USER, ROUTE_INLINE, NULL } } },
};

const RouteTable api_metrics_route_table = {
    .routes = metrics_routes,
    .n_routes = ELEMENTSOF(metrics_routes),
    .root = "metrics",
    .error_body = service_error_body,
};

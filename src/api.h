/* api.h: the resource tree: dispatch, the one errno-to-status table, and
 * the handlers of each tree (api-service.c, api-hosts.c, api-map.c, api-boot.c).
 *
 * Handlers are thin: decode, call a module, encode.  Each serves the one
 * method its route entry registers it for (api-routes.c).  They run on an
 * HTTP thread when that entry is ROUTE_INLINE (memory only), else on a worker.
 * They never include libmicrohttpd, libvirt or json-c directly. */
#pragma once

#include <stdbool.h>

#include "auth.h"
#include "conf.h"
#include "http.h"
#include "json.h"
#include "ops.h"
#include "route.h"
#include "virt.h"

typedef struct ConfHolder ConfHolder;

typedef struct Ctx {
    Request *req;
    Reply *rep;
    const RouteTable *tree; /* the tree of the path: its routes, its error body */
    RouteMatch m;
    ConfHolder *holder;
    const Conf *conf;
    Identity id;
    Json *body;       /* the request body, parsed; NULL when there is none */
    /* Resolved for routes with {name}: */
    const char *name;
    Machine machine;
    Host *host;
    bool may_defer; /* a ROUTE_TRY_INLINE handler on the HTTP thread */
    bool deferred;
    bool defs_wait; /* deferred before the machine was resolved: a host
                     * still reads its definitions (virt_defs_ready) */
} Ctx;

/* In a ROUTE_TRY_INLINE handler: true when it runs on the HTTP thread and
 * must return now, having answered nothing, to be called again on a worker
 * (where it may call libvirt); false where it may go on. */
bool api_defer(Ctx *c);

/* The HttpHandler, and the HttpEarlyHandler (authentication on the headers). */
int api_handle(Request *req, Reply *rep, bool on_worker);
int api_handle_early(Request *req, Reply *rep);
/* Install a new configuration (takes ownership); requests in flight keep
 * the one they started with. */
void api_set_conf(Conf *conf, Users *users);
void api_shutdown(void);
/* The configuration for work outside a request (the operations layer's
 * worker); release it.  The signatures are ops' OpsConfAcquire/Release. */
const Conf *api_conf_acquire(void **ret_holder);
void api_conf_release(void *holder);

/* Who asks, for the operations layer. */
OpsCaller api_caller(const Ctx *c);
/* 403 for a role too low (logged and counted). */
void api_forbidden(Ctx *c, Role needed);
bool api_machine_visible(const Ctx *c, const char *name);
/* For a handler whose path names a machine other than by {name}: resolve
 * it as {name} is (the ACL, 404/409/503), then the lease's rules and the
 * role `needed`; false when it has answered. */
bool api_resolve_machine(Ctx *c, const char *name, Role needed);
/* Whether the row's metadata says the caller holds the machine's unexpired
 * lease (which makes it visible outside the caller's machine globs). */
bool api_lease_visible(const Ctx *c, const DomInfo *info);
/* The users file of the request's configuration; NULL in protected mode. */
const Users *api_users(const Ctx *c);

/* Replies. */
void api_reply_json(Ctx *c, unsigned status, Json *j); /* takes j */
void api_reply_error(Ctx *c, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The one table from -errno to HTTP status; the message is error_get() when
 * set, else the fallback. */
unsigned api_status_from_errno(int r);
void api_reply_errno(Ctx *c, int r, const char *fallback);
/* Query helpers: -EINVAL (and a 400 reply) on a bad value. */
int api_query_bool(Ctx *c, const char *key, bool *ret, bool *ret_present);

/* JSON shapes shared by handlers. */
Json *api_machine_entry(const Machine *m);
/* {"key": "value", ...} of the machine's tags ({} without). */
Json *api_metadata_tags(const DomInfo *info);

/* api-media.c */
void api_media_get(Ctx *c);
void api_media_put(Ctx *c);
void api_media_delete(Ctx *c);

/* api-inventory.c */
void api_metadata_get(Ctx *c);
void api_metadata_patch(Ctx *c);
/* A {"key": "value"} object into p's tag changes (null deletes one);
 * -EINVAL with error_setf(). */
int api_tags_patch(Json *tags, MetaPatch *p);

/* api-pools.c: pools, checkout, leases, the pool status (API.md section 5). */
void api_pools_list(Ctx *c);
void api_pool_get(Ctx *c);
void api_pool_checkout(Ctx *c);
void api_pools_checkout(Ctx *c);
void api_lease_get(Ctx *c);
void api_lease_put(Ctx *c);
void api_lease_delete(Ctx *c);
void api_service_status(Ctx *c);

/* api-v3.c: vmpooler's v3 API, the part a checkout needs (API.md section
 * 12.1). */
void api_v3_token_post(Ctx *c);
void api_v3_token_get(Ctx *c);
void api_v3_token_delete(Ctx *c);
void api_v3_vm_list(Ctx *c);
void api_v3_vm_post(Ctx *c);
void api_v3_vm_pools_post(Ctx *c);
void api_v3_vm_get(Ctx *c);
void api_v3_vm_put(Ctx *c);
void api_v3_vm_delete(Ctx *c);
void api_v3_status(Ctx *c);
void api_v3_summary(Ctx *c);

/* api-service.c */
void api_machines_list(Ctx *c);
void api_machine_get(Ctx *c);
void api_machine_status(Ctx *c);
void api_machine_action(Ctx *c);
/* /service/<name>/force_reset, the original controller's spelling. */
void api_machine_force_reset(Ctx *c);
void api_health(Ctx *c);
void api_version(Ctx *c);

/* api-metrics.c: GET /metrics, from memory (metrics.h). */
void api_metrics(Ctx *c);

/* api-hosts.c */
void api_hosts_list(Ctx *c);
void api_host_get(Ctx *c);

/* api-addr.c: the addresses of one machine, from libvirt; the list entry's
 * "addresses", from the address cache (JSON null when none is known); the
 * shape of both. */
void api_machine_addresses(Ctx *c);
Json *api_addresses_cached(const Machine *m);
Json *api_addresses_json(const VirtAddresses *a);

/* api-map.c: the virtmapper-compatible map (API.md section 4), from memory. */
void api_map_get(Ctx *c);
void api_map_node_get(Ctx *c); /* {node}: a host, else a guest */

/* api-boot.c */
void api_boot_get(Ctx *c);
void api_boot_put(Ctx *c);
void api_backups_list(Ctx *c);
void api_backup_get(Ctx *c);
void api_backup_restore(Ctx *c);
/* A boot action of the state_controller (pxeboot, ...); false if `action`
 * is not one. */
bool api_boot_action(Ctx *c, const char *action);
/* The boot object of GET .../boot, for the machine detail too. */
Json *api_boot_json(const OpsBootState *st);

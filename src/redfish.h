/* redfish.h: the Redfish tree (API.md section 6): what the redfish*.c files
 * share.  Handlers are api handlers (api.h's Ctx): decode, call ops or
 * virt's tables, encode; every change goes through the operations layer.
 *
 * Every answer carries OData-Version: 4.0 (the tree's headers), and every
 * error is a Redfish error body with a Base registry MessageId. */
#pragma once

#include <stdarg.h>

#include "api.h"

#define RF_ROOT "/redfish/v1"
/* The Base message registry version of our MessageIds. */
#define RF_BASE "Base.1.8."

extern const RouteTable redfish_route_table;

/* Answer a resource (takes o). */
void rf_reply(Ctx *c, unsigned status, Json *o);
/* A Redfish error: status, Base registry message (the part after
 * "Base.1.8.", e.g. "ActionParameterNotSupported") and the human message. */
void rf_error(Ctx *c, unsigned status, const char *message_id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same from -errno (the api table's status; message error_get()). */
void rf_error_errno(Ctx *c, int r, const char *fallback);

/* {"@odata.id": ..., "@odata.type": ..., "Id": ..., "Name": ...}. */
Json *rf_resource(const char *odata_id, const char *odata_type, const char *id, const char *name);
/* A resource collection {"@odata.id", "@odata.type", "Name",
 * "Members@odata.count", "Members"} (takes members, an array of links). */
Json *rf_collection(const char *odata_id, const char *odata_type, const char *name,
                    Json *members);
/* {"@odata.id": path} */
Json *rf_link(const char *path);

/* The error body of the tree (RouteTable.error_body). */
char *rf_error_body(unsigned status, const char *message, size_t *ret_len);

/* The one Manager and the one Chassis: virtmcd itself. */
#define RF_MANAGER_ID "virtmcd"
#define RF_CHASSIS_ID "virtmcd"
#define RF_MANAGER RF_ROOT "/Managers/" RF_MANAGER_ID
#define RF_CHASSIS RF_ROOT "/Chassis/" RF_CHASSIS_ID

/* redfish-systems.c: Systems and their EthernetInterfaces, Processors,
 * SimpleStorage and Storage ({sys}: a UUID, or a name that answers 307). */
void rf_systems_list(Ctx *c);
void rf_system_get(Ctx *c);
void rf_system_patch(Ctx *c);
void rf_system_reset(Ctx *c);
void rf_nics_list(Ctx *c);
void rf_nic_get(Ctx *c);
void rf_cpus_list(Ctx *c);
void rf_cpu_get(Ctx *c);
void rf_storage_list(Ctx *c);
void rf_storage_get(Ctx *c);
/* Storage/{stor} ("1") with Drives/{drive} and Volumes/{vol} (disk targets). */
void rf_storages_list(Ctx *c);
void rf_storage_subsystem_get(Ctx *c);
void rf_drive_get(Ctx *c);
void rf_volumes_list(Ctx *c);
void rf_volume_get(Ctx *c);
/* Resolve {sys} into c->machine (UUID; a name answers 307, unknown or
 * outside the user's ACL 404); false when it answered. */
bool rf_sys_resolve(Ctx *c);
/* The strong ETag of a representation (a quoted 64-bit FNV-1a). */
void rf_etag(const char *body, size_t len, char ret[24]);
/* A resource as GET answers it: body and ETag.  fresh: read now, never a
 * copy kept from an earlier request (the check under the machine's lock). */
typedef int (*RfRenderFn)(Ctx *c, bool fresh, char **ret_body, size_t *ret_len,
                          char ret_etag[24]);

/* If-Match (RFC 9110 section 13.1.1: "*" or entity tags, compared strongly)
 * on the resource a change is about.  rf_if_match checks it at once (a 412
 * without waiting for the machine's lock); the change then hands
 * rf_if_match_pre() to the operations layer, which checks it again with
 * the machine's lock held, against a fresh rendering, before it changes
 * anything: of the requests that carry one ETag, one changes the machine
 * and the others get 412.  Lives on the handler's stack for the request. */
typedef struct RfIfMatch {
    Ctx *c;
    const char *what;      /* names the resource in the 412 */
    RfRenderFn render;
    char **tags;           /* the entity tags; NULL: no condition (none, or "*") */
    bool pinned;           /* the change was decided on the representation `want` */
    char want[24];
    char etag[24];         /* the ETag the last check found */
    bool failed;           /* the check under the lock failed (-ESTALE) */
    OpsPrecondition pre;
} RfIfMatch;
void rf_if_match_clear(RfIfMatch *m);
/* Read the header into *ret (cleared with rf_if_match_clear) and check it
 * against render's ETag: true when the request may go on, else the 412 is
 * answered. */
bool rf_if_match(Ctx *c, const char *what, RfRenderFn render, RfIfMatch *ret);
/* The change was decided on a representation whose ETag is etag, read
 * after rf_if_match: it must match too (else the 412 is answered, false),
 * and the check under the lock then wants exactly it. */
bool rf_if_match_pin(RfIfMatch *m, const char etag[24]);
/* The precondition for ops (NULL when there is nothing to check). */
const OpsPrecondition *rf_if_match_pre(RfIfMatch *m);
/* Answer the failure r of a change that carried m's precondition: the
 * 412 when it did not hold, else rf_error_errno(c, r, doing). */
void rf_change_error(Ctx *c, const RfIfMatch *m, int r, const char *doing);
/* Links to every system the caller may see (a machine on two hosts once);
 * NULL on out of memory. */
Json *rf_systems_links(Ctx *c);

/* redfish-media.c: Systems/{sys}/VirtualMedia and its Cd ({vm}). */
void rf_media_list(Ctx *c);
void rf_media_get(Ctx *c);
void rf_media_patch(Ctx *c);
void rf_media_insert(Ctx *c);
void rf_media_eject(Ctx *c);

/* redfish-manager.c: the Manager (and its VirtualMedia) and the Chassis. */
void rf_managers_list(Ctx *c);
void rf_manager_get(Ctx *c);
void rf_manager_media_list(Ctx *c);
void rf_chassis_list(Ctx *c);
void rf_chassis_get(Ctx *c);

/* redfish.c: the service itself. */
void rf_versions(Ctx *c);
void rf_service_root(Ctx *c);
void rf_odata(Ctx *c);
void rf_metadata(Ctx *c);

/* redfish-session.c: the SessionService, login, the sessions, logout. */
void rf_session_service_get(Ctx *c);
void rf_session_service_patch(Ctx *c);
void rf_session_login(Ctx *c);
void rf_sessions_list(Ctx *c);
void rf_session_get(Ctx *c);
void rf_session_delete(Ctx *c);

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
/* {"@odata.id": path} */
Json *rf_link(const char *path);

/* The error body of the tree (RouteTable.error_body). */
char *rf_error_body(unsigned status, const char *message, size_t *ret_len);

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

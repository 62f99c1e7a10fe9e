/* redfish.c: the Redfish service (API.md section 6): its route table, its
 * error body, and the resources readable without credentials: /redfish,
 * the service root, the OData service document and $metadata. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <systemd/sd-id128.h>

#include "redfish.h"
#include "util.h"

/* ---- replies ---- */

void rf_reply(Ctx *c, unsigned status, Json *o)
{
    api_reply_json(c, status, o);
}

/* The MessageId of an error that carries none of its own, by status. */
static const char *message_id_for(unsigned status)
{
    switch (status) {
    case 400:
        return "GeneralError";
    case 401:
        return "NoValidSession";
    case 403:
        return "InsufficientPrivilege";
    case 404:
        return "ResourceMissingAtURI";
    case 409:
        return "ResourceInUse";
    case 412:
        return "PreconditionFailed";
    case 500:
        return "InternalError";
    case 503:
        return "ServiceTemporarilyUnavailable";
    default:
        return "GeneralError";
    }
}

static char *error_body(unsigned status, const char *message_id, const char *message,
                        size_t *ret_len)
{
    Json *o = json_obj(), *e = json_obj(), *info = json_arr(), *m = json_obj();
    char id[96];
    char *s;

    snprintf(id, sizeof(id), RF_BASE "%s", message_id ? message_id : message_id_for(status));
    json_set_str(m, "@odata.type", "#Message.v1_1_1.Message");
    json_set_str(m, "MessageId", id);
    json_set_str(m, "Message", message);
    json_set_str(m, "Severity", status >= 500 ? "Critical" : "Warning");
    json_set_str(m, "Resolution", status == 401   ? "Authenticate, or log in with a session."
                                  : status == 403 ? "Ask an administrator for the role."
                                  : status >= 500 ? "Retry later."
                                                  : "Correct the request and resubmit it.");
    json_push(info, m);
    json_set_str(e, "code", id);
    json_set_str(e, "message", message);
    json_set(e, "@Message.ExtendedInfo", info);
    json_set(o, "error", e);
    s = json_dump(o, ret_len);
    json_unref(o);
    return s;
}

char *rf_error_body(unsigned status, const char *message, size_t *ret_len)
{
    return error_body(status, NULL, message, ret_len);
}

void rf_error(Ctx *c, unsigned status, const char *message_id, const char *fmt, ...)
{
    _cleanup_free_ char *msg = NULL;
    size_t len = 0;
    char *body;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    body = error_body(status, message_id, msg ? msg : "error", &len);
    reply_set(c->rep, status, "application/json", body, body ? len : 0);
}

void rf_error_errno(Ctx *c, int r, const char *fallback)
{
    /* api_reply_errno writes the tree's error body with the right status. */
    api_reply_errno(c, r, fallback);
}

Json *rf_link(const char *path)
{
    Json *o = json_obj();

    json_set_str(o, "@odata.id", path);
    return o;
}

Json *rf_resource(const char *odata_id, const char *odata_type, const char *id, const char *name)
{
    Json *o = json_obj();

    json_set_str(o, "@odata.id", odata_id);
    json_set_str(o, "@odata.type", odata_type);
    json_set_str(o, "Id", id);
    json_set_str(o, "Name", name);
    return o;
}

/* ---- the service ---- */

/* The service's UUID: stable for this host, not the machine ID itself
 * (sd_id128_get_machine_app_specific hashes it with our application id). */
static void service_uuid(char ret[37])
{
    /* 6f1c… : virtmcd's application id for sd_id128. */
    static const sd_id128_t app = SD_ID128_MAKE(6f, 1c, 2e, 8a, 3d, 47, 4b, 0e, 9a, 55, c1,
                                                77, 0b, 2d, 6e, 91);
    sd_id128_t id;

    if (sd_id128_get_machine_app_specific(app, &id) < 0)
        id = app;
    snprintf(ret, 37, SD_ID128_UUID_FORMAT_STR, SD_ID128_FORMAT_VAL(id));
}

/* /redfish: the protocol versions and where each one's root is. */
void rf_versions(Ctx *c)
{
    Json *o = json_obj();

    json_set_str(o, "v1", RF_ROOT "/");
    rf_reply(c, 200, o);
}

void rf_service_root(Ctx *c)
{
    Json *o = rf_resource(RF_ROOT "/", "#ServiceRoot.v1_5_0.ServiceRoot", "RootService",
                          "virtmcd Redfish service");
    Json *links = json_obj();
    char uuid[37];

    service_uuid(uuid);
    json_set_str(o, "RedfishVersion", "1.6.0");
    json_set_str(o, "UUID", uuid);
    json_set_str(o, "Product", "virtmcd");
    json_set_str(o, "Vendor", "virtmcd");
    json_set(o, "Systems", rf_link(RF_ROOT "/Systems"));
    json_set(o, "Managers", rf_link(RF_ROOT "/Managers"));
    json_set(o, "Chassis", rf_link(RF_ROOT "/Chassis"));
    json_set(o, "SessionService", rf_link(RF_ROOT "/SessionService"));
    json_set(links, "Sessions", rf_link(RF_ROOT "/SessionService/Sessions"));
    json_set(o, "Links", links);
    rf_reply(c, 200, o);
}

/* The OData service document: the service root's top-level resources. */
void rf_odata(Ctx *c)
{
    static const char *const sets[][2] = {
        { "Service", RF_ROOT "/" },
        { "Systems", RF_ROOT "/Systems" },
        { "Managers", RF_ROOT "/Managers" },
        { "Chassis", RF_ROOT "/Chassis" },
        { "SessionService", RF_ROOT "/SessionService" },
        { "Sessions", RF_ROOT "/SessionService/Sessions" },
    };
    Json *o = json_obj(), *v = json_arr();

    json_set_str(o, "@odata.context", RF_ROOT "/$metadata");
    for (size_t i = 0; i < ELEMENTSOF(sets); i++) {
        Json *e = json_obj();

        json_set_str(e, "name", sets[i][0]);
        json_set_str(e, "kind", "Singleton");
        json_set_str(e, "url", sets[i][1]);
        json_push(v, e);
    }
    json_set(o, "value", v);
    rf_reply(c, 200, o);
}

/* The CSDL document: references to the DMTF schemas of every type the
 * service answers with, at the versions it uses. */
void rf_metadata(Ctx *c)
{
    static const char *const refs[][2] = {
        { "ServiceRoot", "v1_5_0" },     { "ComputerSystemCollection", NULL },
        { "ComputerSystem", "v1_13_0" }, { "ManagerCollection", NULL },
        { "Manager", "v1_5_0" },         { "ChassisCollection", NULL },
        { "Chassis", "v1_10_0" },        { "SessionService", "v1_1_6" },
        { "SessionCollection", NULL },   { "Session", "v1_1_2" },
        { "EthernetInterfaceCollection", NULL }, { "EthernetInterface", "v1_5_1" },
        { "ProcessorCollection", NULL }, { "Processor", "v1_7_0" },
        { "SimpleStorageCollection", NULL }, { "SimpleStorage", "v1_2_3" },
        { "StorageCollection", NULL },   { "Storage", "v1_8_0" },
        { "Drive", "v1_9_0" },           { "VolumeCollection", NULL },
        { "Volume", "v1_5_0" },
        { "VirtualMediaCollection", NULL }, { "VirtualMedia", "v1_3_0" },
        { "Message", "v1_1_1" },         { "Resource", "v1_11_0" },
    };
    Buf b = { 0 };
    char *s;

    buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<edmx:Edmx xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\" "
                 "Version=\"4.0\">\n");
    for (size_t i = 0; i < ELEMENTSOF(refs); i++) {
        const char *ns = refs[i][0];

        buf_printf(&b, "  <edmx:Reference Uri=\"http://redfish.dmtf.org/schemas/v1/%s_v1.xml\">\n"
                       "    <edmx:Include Namespace=\"%s\"/>\n",
                   ns, ns);
        if (refs[i][1])
            buf_printf(&b, "    <edmx:Include Namespace=\"%s.%s\"/>\n", ns, refs[i][1]);
        buf_puts(&b, "  </edmx:Reference>\n");
    }
    buf_puts(&b, "  <edmx:DataServices>\n"
                 "    <Schema xmlns=\"http://docs.oasis-open.org/odata/ns/edm\" "
                 "Namespace=\"Service\">\n"
                 "      <EntityContainer Name=\"Service\" "
                 "Extends=\"ServiceRoot.v1_5_0.ServiceContainer\"/>\n"
                 "    </Schema>\n"
                 "  </edmx:DataServices>\n"
                 "</edmx:Edmx>\n");
    s = buf_steal(&b);
    buf_free(&b);
    if (!s) {
        rf_error(c, 500, "InternalError", "out of memory");
        return;
    }
    reply_set(c->rep, 200, "application/xml", s, strlen(s));
}

/* ---- the tree ---- */

static const char *const headers[] = { "OData-Version", "4.0", NULL };

/* Paths compared without a trailing slash. */
static bool path_is(const char *path, const char *want)
{
    size_t n = strlen(want);

    return strncmp(path, want, n) == 0 && (path[n] == '\0' || (path[n] == '/' && !path[n + 1]));
}

static bool is_public(HttpMethod method, const char *path)
{
    if (method & (HTTP_GET | HTTP_HEAD))
        return path_is(path, "/redfish") || path_is(path, RF_ROOT) ||
               path_is(path, RF_ROOT "/odata") || path_is(path, RF_ROOT "/$metadata");
    /* The login: its handler checks the password in the body. */
    if (method == HTTP_POST)
        return path_is(path, RF_ROOT "/SessionService/Sessions");
    return false;
}

static const Route routes[] = {
    { "/redfish", { { HTTP_GET, rf_versions, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
    { "/redfish/v1", { { HTTP_GET, rf_service_root, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
    { "/redfish/v1/odata", { { HTTP_GET, rf_odata, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
    { "/redfish/v1/$metadata", { { HTTP_GET, rf_metadata, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
    { "/redfish/v1/SessionService",
      { { HTTP_GET, rf_session_service_get, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL },
        { HTTP_PATCH, rf_session_service_patch, ROLE_ADMIN, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
    { "/redfish/v1/SessionService/Sessions",
      { { HTTP_GET, rf_sessions_list, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL },
        { HTTP_POST, rf_session_login, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
    { "/redfish/v1/SessionService/Sessions/{id}",
      { { HTTP_GET, rf_session_get, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL },
        { HTTP_DELETE, rf_session_delete, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
    /* redfish-systems.c; {sys} is resolved by its handlers (UUID, or 307 for a name). */
    { RF_ROOT "/Systems", { { HTTP_GET, rf_systems_list, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
    { RF_ROOT "/Systems/{sys}",
      { { HTTP_GET, rf_system_get, ROLE_USER, ROUTE_TRY_INLINE, NULL },
        { HTTP_PATCH, rf_system_patch, ROLE_OPERATOR, 0, NULL } } },
    { RF_ROOT "/Systems/{sys}/Actions/ComputerSystem.Reset",
      { { HTTP_POST, rf_system_reset, ROLE_OPERATOR, 0, NULL } } },
    { RF_ROOT "/Systems/{sys}/EthernetInterfaces",
      { { HTTP_GET, rf_nics_list, ROLE_USER, ROUTE_INLINE, NULL } } },
    { RF_ROOT "/Systems/{sys}/EthernetInterfaces/{nic}",
      { { HTTP_GET, rf_nic_get, ROLE_USER, ROUTE_INLINE, NULL } } },
    { RF_ROOT "/Systems/{sys}/Processors",
      { { HTTP_GET, rf_cpus_list, ROLE_USER, ROUTE_INLINE, NULL } } },
    { RF_ROOT "/Systems/{sys}/Processors/{cpu}",
      { { HTTP_GET, rf_cpu_get, ROLE_USER, ROUTE_INLINE, NULL } } },
    { RF_ROOT "/Systems/{sys}/SimpleStorage",
      { { HTTP_GET, rf_storage_list, ROLE_USER, ROUTE_INLINE, NULL } } },
    { RF_ROOT "/Systems/{sys}/SimpleStorage/{ctl}",
      { { HTTP_GET, rf_storage_get, ROLE_USER, 0, NULL } } },
    { RF_ROOT "/Systems/{sys}/Storage",
      { { HTTP_GET, rf_storages_list, ROLE_USER, ROUTE_INLINE, NULL } } },
    { RF_ROOT "/Systems/{sys}/Storage/{stor}",
      { { HTTP_GET, rf_storage_subsystem_get, ROLE_USER, ROUTE_INLINE, NULL } } },
    { RF_ROOT "/Systems/{sys}/Storage/{stor}/Drives/{drive}",
      { { HTTP_GET, rf_drive_get, ROLE_USER, 0, NULL } } },
    { RF_ROOT "/Systems/{sys}/Storage/{stor}/Volumes",
      { { HTTP_GET, rf_volumes_list, ROLE_USER, ROUTE_INLINE, NULL } } },
    { RF_ROOT "/Systems/{sys}/Storage/{stor}/Volumes/{vol}",
      { { HTTP_GET, rf_volume_get, ROLE_USER, 0, NULL } } },
    /* redfish-media.c */
    { RF_ROOT "/Systems/{sys}/VirtualMedia",
      { { HTTP_GET, rf_media_list, ROLE_USER, ROUTE_INLINE, NULL } } },
    { RF_ROOT "/Systems/{sys}/VirtualMedia/{vm}",
      { { HTTP_GET, rf_media_get, ROLE_USER, 0, NULL },
        { HTTP_PATCH, rf_media_patch, ROLE_OPERATOR, 0, NULL } } },
    { RF_ROOT "/Systems/{sys}/VirtualMedia/{vm}/Actions/VirtualMedia.InsertMedia",
      { { HTTP_POST, rf_media_insert, ROLE_OPERATOR, 0, NULL } } },
    { RF_ROOT "/Systems/{sys}/VirtualMedia/{vm}/Actions/VirtualMedia.EjectMedia",
      { { HTTP_POST, rf_media_eject, ROLE_OPERATOR, 0, NULL } } },
    /* redfish-manager.c */
    { RF_ROOT "/Managers", { { HTTP_GET, rf_managers_list, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
    { RF_ROOT "/Managers/{mgr}", { { HTTP_GET, rf_manager_get, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
    { RF_ROOT "/Managers/{mgr}/VirtualMedia",
      { { HTTP_GET, rf_manager_media_list, ROLE_USER, ROUTE_INLINE, NULL } } },
    { RF_ROOT "/Chassis", { { HTTP_GET, rf_chassis_list, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
    { RF_ROOT "/Chassis/{ch}", { { HTTP_GET, rf_chassis_get, ROLE_USER, ROUTE_INLINE | ROUTE_NO_DEFS, NULL } } },
};

const RouteTable redfish_route_table = {
    .routes = routes,
    .n_routes = ELEMENTSOF(routes),
    .root = "redfish",
    .error_body = rf_error_body,
    .headers = headers,
    .is_public = is_public,
};

/* redfish-session.c: the SessionService of the Redfish tree (API.md
 * section 6): the service and its SessionTimeout, login (POST to the
 * Sessions collection, readable without credentials), the collection, one
 * session, logout.
 *
 * It decodes and encodes only: passwords are checked by auth.c, tokens
 * kept (as hashes) by session.c.  It never logs a password or a token. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "redfish.h"
#include "session.h"
#include "util.h"

#define RF_SESSIONS RF_ROOT "/SessionService/Sessions"

static Json *session_json(const SessionInfo *s)
{
    char path[sizeof(RF_SESSIONS) + SESSION_ID_LEN + 2];
    Json *o;

    snprintf(path, sizeof(path), RF_SESSIONS "/%s", s->id);
    o = rf_resource(path, "#Session.v1_1_2.Session", s->id, "User Session");
    json_set_str(o, "Description", "A Redfish session: its token stands for the user");
    json_set_str(o, "UserName", s->user[0] ? s->user : "anonymous");
    return o;
}

/* Admins see every session, everyone else their own: another user's
 * session does not exist for them (404, as machines outside the globs). */
static bool may_see(const Ctx *c, const SessionInfo *s)
{
    if (c->id.role >= ROLE_ADMIN)
        return true;
    return !c->id.anonymous && streq(s->user, c->id.user);
}

/* ---- the service ---- */

static void service_reply(Ctx *c)
{
    Json *o = rf_resource(RF_ROOT "/SessionService", "#SessionService.v1_1_6.SessionService",
                          "SessionService", "Session Service");
    Json *status = json_obj();

    json_set_str(o, "Description", "Redfish sessions: log in with POST to Sessions");
    json_set_bool(o, "ServiceEnabled", true);
    json_set_int(o, "SessionTimeout", session_timeout());
    json_set_str(status, "State", "Enabled");
    json_set_str(status, "Health", "OK");
    json_set(o, "Status", status);
    json_set(o, "Sessions", rf_link(RF_SESSIONS));
    rf_reply(c, 200, o);
}

void rf_session_service_get(Ctx *c)
{
    service_reply(c);
}

typedef struct PatchCheck {
    Ctx *c;
    bool has_timeout;
} PatchCheck;

static int patch_key(const char *key, Json *value, void *userdata)
{
    static const char *const read_only[] = { "@odata.id", "@odata.type", "@odata.context",
                                             "Id", "Name", "Description", "ServiceEnabled",
                                             "Status", "Sessions", NULL };
    PatchCheck *p = userdata;

    (void)value;
    if (streq(key, "SessionTimeout")) {
        p->has_timeout = true;
        return 0;
    }
    for (size_t i = 0; read_only[i]; i++)
        if (streq(read_only[i], key)) {
            rf_error(p->c, 400, "PropertyNotWritable",
                     "The property %s is a read only property and cannot be assigned a value.",
                     key);
            return -EINVAL;
        }
    rf_error(p->c, 400, "PropertyUnknown",
             "The property %s is not in the list of valid properties for the resource.", key);
    return -EINVAL;
}

/* PATCH {"SessionTimeout": seconds}: admins only (the route's role). */
void rf_session_service_patch(Ctx *c)
{
    PatchCheck p = { c, false };
    _cleanup_free_ char *text = NULL;
    uint64_t v = 0;
    int r;

    if (!c->body) {
        rf_error(c, 400, "MalformedJSON",
                 "The request body must be a JSON object, such as {\"SessionTimeout\": 600}.");
        return;
    }
    if (json_object_each(c->body, patch_key, &p) < 0)
        return;
    if (!p.has_timeout) {
        rf_error(c, 400, "PropertyMissing", "The request body names no property to change.");
        return;
    }
    text = json_dump(json_get(c->body, "SessionTimeout"), NULL);
    r = json_get_uint(c->body, "SessionTimeout", SESSION_TIMEOUT_MAX, &v);
    if (r < 0 && text && text[strspn(text, "-0123456789")] != '\0') {
        rf_error(c, 400, "PropertyValueTypeError",
                 "The value '%s' for the property SessionTimeout is of a different type than "
                 "the property can accept: a whole number of seconds.", text);
        return;
    }
    if (r < 0 || v < SESSION_TIMEOUT_MIN) {
        rf_error(c, 400, "PropertyValueOutOfRange",
                 "The value '%s' for the property SessionTimeout is not in the supported range "
                 "of acceptable values (%u to %u seconds).", text ? text : "?",
                 SESSION_TIMEOUT_MIN, SESSION_TIMEOUT_MAX);
        return;
    }
    if (v != session_timeout())
        log_notice("SessionTimeout set to %u s by user '%s' from %s", (unsigned)v,
                   c->id.anonymous ? "anonymous" : c->id.user, c->req->peer);
    session_set_timeout((unsigned)v);
    c->req->log_action = "SessionTimeout";
    service_reply(c);
}

/* ---- login ---- */

/* POST {"UserName", "Password"}: readable without credentials (the tree's
 * is_public), so the password is checked here, as Basic's is. */
void rf_session_login(Ctx *c)
{
    const char *user = NULL, *pass = NULL;
    char token[SESSION_TOKEN_LEN + 1];
    char location[sizeof(RF_SESSIONS) + SESSION_ID_LEN + 2];
    static const char *const fields[] = { "UserName", "Password" };
    const char **values[] = { &user, &pass };
    SessionInfo s;
    Identity id;
    AuthResult a;
    int r;

    if (!c->body) {
        rf_error(c, 400, "PropertyMissing",
                 "The properties UserName and Password are required in a JSON body.");
        return;
    }
    for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
        r = json_get_str(c->body, fields[i], values[i]);
        if (r == -ENOENT) {
            rf_error(c, 400, "PropertyMissing",
                     "The property %s is a required property and must be included in the "
                     "request.", fields[i]);
            return;
        }
        if (r < 0) {
            rf_error(c, 400, "PropertyValueTypeError",
                     "The value for the property %s is of a different type than the property "
                     "can accept: a string.", fields[i]);
            return;
        }
    }
    if (strlen(user) >= sizeof(id.user) || strlen(user) != json_str_len(json_get(c->body,
                                                                                 "UserName"))) {
        rf_error(c, 400, "PropertyValueFormatError",
                 "The value for the property UserName is of a different format than the "
                 "property can accept.");
        return;
    }
    a = auth_password(c->req, c->conf, api_users(c), user, pass, &id);
    if (a == AUTH_THROTTLED) {
        char ra[16];

        rf_error(c, 429, "ServiceTemporarilyUnavailable",
                 "Too many failed logins: try again in %u s.", id.retry_after);
        snprintf(ra, sizeof(ra), "%u", id.retry_after);
        (void)reply_add_header(c->rep, "Retry-After", ra);
        return;
    }
    if (a == AUTH_NOT_ALLOWED) {
        auth_count_forbidden();
        log_warning("Refused a Redfish login from %s: not in [auth] anonymous_networks, and "
                    "there are no users", c->req->peer);
        rf_error(c, 403, "InsufficientPrivilege",
                 "This address is not allowed: there are no users, and requests are served "
                 "only from [auth] anonymous_networks.");
        return;
    }
    if (a == AUTH_BASIC_REFUSED) {
        rf_error(c, 401, "NoValidSession",
                 "A login sends the password in clear, as Basic does: it is accepted only %s.",
                 c->conf->basic == BASIC_NEVER ? "where [auth] basic allows Basic"
                                               : "over TLS (or with [auth] basic = always)");
        auth_challenge(c->req, c->conf, false, c->rep);
        return;
    }
    if (a != AUTH_OK) {
        rf_error(c, 401, "NoValidSession", "Wrong user name or password.");
        auth_challenge(c->req, c->conf, false, c->rep);
        return;
    }
    r = session_open(id.anonymous ? "" : id.user, 0, token, &s);
    if (r < 0) {
        log_error("Cannot open a Redfish session for user '%s': %s", user, strerror(-r));
        rf_error(c, 500, "InternalError", "Cannot open a session: %s.", strerror(-r));
        return;
    }
    c->id = id;
    c->req->log_user = c->id.anonymous ? NULL : c->id.user;
    c->req->log_action = "login";
    log_notice("Redfish session %s opened for user '%s' from %s", s.id,
               s.user[0] ? s.user : "anonymous", c->req->peer);
    snprintf(location, sizeof(location), RF_SESSIONS "/%s", s.id);
    rf_reply(c, 201, session_json(&s));
    (void)reply_add_header(c->rep, "Location", location);
    (void)reply_add_header(c->rep, "X-Auth-Token", token);
    (void)reply_add_header(c->rep, "Cache-Control", "no-store");
    explicit_bzero(token, sizeof(token));
}

/* ---- the collection and its members ---- */

void rf_sessions_list(Ctx *c)
{
    _cleanup_free_ SessionInfo *v = NULL;
    Json *o, *members;
    int n = session_list(&v), shown = 0;

    if (n < 0) {
        rf_error_errno(c, n, "list the sessions");
        return;
    }
    o = json_obj();
    members = json_arr();
    json_set_str(o, "@odata.id", RF_SESSIONS);
    json_set_str(o, "@odata.type", "#SessionCollection.SessionCollection");
    json_set_str(o, "Name", "Session Collection");
    for (int i = 0; i < n; i++) {
        char path[sizeof(RF_SESSIONS) + SESSION_ID_LEN + 2];

        if (!may_see(c, &v[i]))
            continue;
        snprintf(path, sizeof(path), RF_SESSIONS "/%s", v[i].id);
        json_push(members, rf_link(path));
        shown++;
    }
    json_set(o, "Members", members);
    json_set_int(o, "Members@odata.count", shown);
    rf_reply(c, 200, o);
}

/* The session of the path's {id}, when this request may see it; else a
 * 404 is answered. */
static bool find_session(Ctx *c, SessionInfo *ret)
{
    const char *id = route_param(&c->m, "id");

    if (!id || session_get(id, ret) < 0 || !may_see(c, ret)) {
        rf_error(c, 404, "ResourceNotFound",
                 "The requested resource of type Session named '%s' was not found.",
                 id ? id : "");
        return false;
    }
    return true;
}

void rf_session_get(Ctx *c)
{
    SessionInfo s;

    if (find_session(c, &s))
        rf_reply(c, 200, session_json(&s));
}

/* Logout: the token stops working at once. */
void rf_session_delete(Ctx *c)
{
    SessionInfo s;

    if (!find_session(c, &s))
        return;
    if (session_close(s.id) < 0) {
        rf_error(c, 404, "ResourceNotFound",
                 "The requested resource of type Session named '%s' was not found.", s.id);
        return;
    }
    if (!streq(s.id, c->id.session))
        log_notice("Redfish session %s of user '%s' closed by user '%s' from %s", s.id,
                   s.user[0] ? s.user : "anonymous",
                   c->id.anonymous ? "anonymous" : c->id.user, c->req->peer);
    c->req->log_action = "logout";
    reply_set(c->rep, 204, NULL, NULL, 0);
}

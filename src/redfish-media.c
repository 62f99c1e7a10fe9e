/* redfish-media.c: the Redfish VirtualMedia of a system (API.md section 6,
 * issue 12 point 6): Systems/<id>/VirtualMedia with one member, Cd (the
 * machine's CD drive, added on the first insert), its ETag, the
 * InsertMedia and EjectMedia actions and the PATCH of Image and Inserted.
 *
 * Decode, call ops_media_set_if / ops_media_get, encode: the lock, the
 * If-Match check under it, the backup, the live change and the boot order
 * after an eject are the operations layer's.  QEMU reads the image over http(s) itself (its curl
 * driver), so TransferMethod is Stream; credentials for the image are
 * refused (see check_request).  This file never calls a changing virt_*
 * function. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "redfish.h"
#include "util.h"

#define RF_CD_ID "Cd"
#define INSERT "VirtualMedia.InsertMedia"
#define EJECT "VirtualMedia.EjectMedia"

static char *media_path(const Machine *m, const char *sub)
{
    return strdup_printf(RF_ROOT "/Systems/%s/VirtualMedia%s%s", m->uuid, sub ? "/" : "",
                         sub ? sub : "");
}

/* The last segment of the image's path, without query or fragment. */
static char *image_name(const char *image)
{
    const char *p = image, *slash, *end;

    if (!image)
        return NULL;
    if (strstr(p, "://"))
        p = strstr(p, "://") + 3;
    end = p + strcspn(p, "?#");
    slash = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == '/')
            slash = q;
    if (!slash || slash + 1 >= end)
        return NULL;
    return strndup(slash + 1, (size_t)(end - slash - 1));
}

static const char *protocol_of(const char *image)
{
    if (!image)
        return NULL;
    if (startswith(image, "https://"))
        return "HTTPS";
    if (startswith(image, "http://"))
        return "HTTP";
    return NULL;
}

static Json *media_json(const Machine *m, const MediaState *s)
{
    _cleanup_free_ char *self = media_path(m, RF_CD_ID);
    _cleanup_free_ char *insert = media_path(m, RF_CD_ID "/Actions/" INSERT);
    _cleanup_free_ char *eject = media_path(m, RF_CD_ID "/Actions/" EJECT);
    _cleanup_free_ char *name = image_name(s->image);
    Json *o, *types, *status, *actions, *a, *v;

    if (!self || !insert || !eject)
        return NULL;
    o = rf_resource(self, "#VirtualMedia.v1_3_0.VirtualMedia", RF_CD_ID, "Virtual CD");
    json_set_str(o, "Description", s->drive ? "the machine's CD drive"
                                            : "a CD drive, added to the machine on insert");
    types = json_arr();
    json_push_str(types, "CD");
    json_push_str(types, "DVD");
    json_set(o, "MediaTypes", types);
    json_set(o, "Image", json_from_str(s->image));
    json_set(o, "ImageName", json_from_str(name));
    json_set_bool(o, "Inserted", s->image != NULL);
    json_set_bool(o, "WriteProtected", true);
    json_set_str(o, "ConnectedVia", s->image ? "URI" : "NotConnected");
    json_set_str(o, "TransferMethod", "Stream");
    json_set(o, "TransferProtocolType", json_from_str(protocol_of(s->image)));
    status = json_obj();
    json_set_str(status, "State", "Enabled");
    json_set_str(status, "Health", "OK");
    json_set(o, "Status", status);

    actions = json_obj();
    a = json_obj();
    json_set_str(a, "target", insert);
    v = json_arr();
    json_push_str(v, "HTTP");
    json_push_str(v, "HTTPS");
    json_set(a, "TransferProtocolType@Redfish.AllowableValues", v);
    v = json_arr();
    json_push_str(v, "Stream");
    json_set(a, "TransferMethod@Redfish.AllowableValues", v);
    json_set(actions, "#" INSERT, a);
    a = json_obj();
    json_set_str(a, "target", eject);
    json_set(actions, "#" EJECT, a);
    json_set(o, "Actions", actions);
    return o;
}

/* The Cd as GET answers it: body and ETag, always read from libvirt (so
 * fresh or not, the same). */
static int media_render(Ctx *c, bool fresh, char **ret_body, size_t *ret_len, char ret_etag[24])
{
    _cleanup_(media_state_clear) MediaState s = { 0 };
    OpsCaller who = api_caller(c);
    Json *o;
    char *body;
    size_t len = 0;
    int r;

    (void)fresh;
    r = ops_media_get(&who, &c->machine, &s);
    if (r < 0)
        return r;
    o = media_json(&c->machine, &s);
    if (!o)
        return -ENOMEM;
    body = json_dump(o, &len);
    json_unref(o);
    if (!body)
        return -ENOMEM;
    rf_etag(body, len, ret_etag);
    *ret_body = body;
    *ret_len = len;
    return 0;
}

static void reply_media(Ctx *c, unsigned status)
{
    char *body = NULL, etag[24];
    size_t len = 0;
    int r = media_render(c, false, &body, &len, etag);

    if (r < 0) {
        rf_error_errno(c, r, "read the virtual media");
        return;
    }
    reply_set(c->rep, status, "application/json", body, len);
    (void)reply_add_header(c->rep, "ETag", etag);
}

/* The system and the member of the URL; false when answered. */
static bool media_resolve(Ctx *c)
{
    const char *id = route_param(&c->m, "vm");

    if (!rf_sys_resolve(c))
        return false;
    if (!id || !streq(id, RF_CD_ID)) {
        _cleanup_free_ char *shown = utf8_sanitize(id ? id : "");

        rf_error(c, 404, "ResourceMissingAtURI", "system '%s' has no virtual media '%s': its "
                 "one member is " RF_CD_ID, c->name, shown ? shown : "");
        return false;
    }
    return true;
}

/* ---- GET ---- */

void rf_media_list(Ctx *c)
{
    _cleanup_free_ char *path = NULL, *member = NULL;
    Json *members;

    if (!rf_sys_resolve(c))
        return;
    path = media_path(&c->machine, NULL);
    member = media_path(&c->machine, RF_CD_ID);
    if (!path || !member) {
        rf_error(c, 500, "InternalError", "out of memory");
        return;
    }
    members = json_arr();
    json_push(members, rf_link(member));
    rf_reply(c, 200, rf_collection(path, "#VirtualMediaCollection.VirtualMediaCollection",
                                   "Virtual Media Collection", members));
}

void rf_media_get(Ctx *c)
{
    if (!media_resolve(c))
        return;
    reply_media(c, 200);
}

/* ---- the request: InsertMedia's parameters, or the PATCH's properties ---- */

typedef struct MediaRequest {
    Ctx *c;
    bool action;             /* InsertMedia/EjectMedia: ActionParameter* messages */
    const char *action_name; /* for the messages */
    bool has_image;
    const char *image;       /* NULL with has_image: JSON null (PATCH: eject) */
    bool has_inserted, inserted;
    bool has_write_protected, write_protected;
    const char *user, *password, *protocol, *method;
} MediaRequest;

static int refuse_value(const MediaRequest *q, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A value virtmcd does not support: 400 naming the parameter or property. */
static int refuse_value(const MediaRequest *q, const char *key, const char *fmt, ...)
{
    _cleanup_free_ char *why = NULL;
    va_list ap;

    va_start(ap, fmt);
    why = strdup_vprintf(fmt, ap);
    va_end(ap);
    if (q->action)
        rf_error(q->c, 400, "ActionParameterNotSupported",
                 "the parameter %s for the action %s is not supported: %s", key,
                 q->action_name, why ? why : "");
    else
        rf_error(q->c, 400, "PropertyValueNotInList",
                 "the value for the property %s is not in the list of acceptable values: %s",
                 key, why ? why : "");
    return -EINVAL;
}

static int type_error(const MediaRequest *q, const char *key, const char *type)
{
    if (q->action)
        rf_error(q->c, 400, "ActionParameterValueTypeError",
                 "the value for the parameter %s in the action %s must be %s", key,
                 q->action_name, type);
    else
        rf_error(q->c, 400, "PropertyValueTypeError",
                 "the value of the property %s must be %s", key, type);
    return -EINVAL;
}

/* A string, or null when null_ok (*ret NULL). */
static int get_string(const MediaRequest *q, const char *key, Json *v, bool null_ok,
                      const char **ret)
{
    if (null_ok && json_is_null(v)) {
        *ret = NULL;
        return 0;
    }
    *ret = json_as_str(v);
    if (!*ret || strlen(*ret) != json_str_len(v))
        return type_error(q, key, null_ok ? "a string or null" : "a string");
    return 0;
}

/* A boolean (the value is the body's own member key). */
static int get_bool(const MediaRequest *q, const char *key, bool *ret)
{
    if (json_get_bool(q->c->body, key, ret) < 0)
        return type_error(q, key, "a boolean");
    return 0;
}

static int request_key(const char *key, Json *value, void *userdata)
{
    static const char *const read_only[] = {
        "@odata.id", "@odata.type", "@odata.context", "@odata.etag", "Id", "Name",
        "Description", "MediaTypes", "ImageName", "ConnectedVia", "Status", "Actions", NULL,
    };
    MediaRequest *q = userdata;
    _cleanup_free_ char *shown = NULL;

    if (streq(key, "Image")) {
        q->has_image = true;
        return get_string(q, key, value, !q->action, &q->image);
    }
    if (streq(key, "Inserted")) {
        q->has_inserted = true;
        return get_bool(q, key, &q->inserted);
    }
    if (streq(key, "WriteProtected")) {
        q->has_write_protected = true;
        return get_bool(q, key, &q->write_protected);
    }
    if (streq(key, "UserName"))
        return get_string(q, key, value, true, &q->user);
    if (streq(key, "Password"))
        return get_string(q, key, value, true, &q->password);
    if (streq(key, "TransferProtocolType"))
        return get_string(q, key, value, true, &q->protocol);
    if (streq(key, "TransferMethod"))
        return get_string(q, key, value, true, &q->method);
    shown = utf8_sanitize(key);
    if (q->action)
        rf_error(q->c, 400, "ActionParameterUnknown",
                 "the action %s was submitted with the invalid parameter %s", q->action_name,
                 shown ? shown : "");
    else {
        bool known = false;

        for (size_t i = 0; read_only[i]; i++)
            known = known || streq(read_only[i], key);
        if (known)
            rf_error(q->c, 400, "PropertyNotWritable", "the property %s is read-only",
                     shown ? shown : "");
        else
            rf_error(q->c, 400, "PropertyUnknown", "the property %s is not a known property",
                     shown ? shown : "");
    }
    return -EINVAL;
}

/* What virtmcd cannot do, refused before anything changes. */
static int check_request(const MediaRequest *q)
{
    if (q->has_write_protected && !q->write_protected)
        return refuse_value(q, "WriteProtected", "the virtual CD is read-only: "
                            "WriteProtected must be true");
    /* QEMU could read a protected image only with the password in a libvirt
     * secret that virtmcd would have to create, keep and remove with the
     * drive; until then, say so rather than insert an image QEMU cannot
     * read.  A token in the URL's query works. */
    if ((q->user && *q->user) || (q->password && *q->password))
        return refuse_value(q, q->user && *q->user ? "UserName" : "Password",
                            "virtmcd inserts images QEMU can read without credentials; serve "
                            "the image without HTTP authentication (a token in the URL's query "
                            "works)");
    if (q->method && !streq(q->method, "Stream"))
        return refuse_value(q, "TransferMethod", "QEMU reads the image from its URL while the "
                            "machine runs: the one method is Stream");
    if (q->protocol) {
        const char *scheme = protocol_of(q->image);

        if (!streq(q->protocol, "HTTP") && !streq(q->protocol, "HTTPS"))
            return refuse_value(q, "TransferProtocolType",
                                "virtmcd inserts http and https images: HTTP or HTTPS");
        if (q->has_image && q->image && scheme && !streq(scheme, q->protocol))
            return refuse_value(q, "TransferProtocolType", "%s does not match the scheme of "
                                "the Image URL", q->protocol);
    }
    return 0;
}

/* Insert (url) or eject (NULL) through the operations layer, if im's
 * condition holds under the machine's lock; false when answered with an
 * error. */
static bool media_change(Ctx *c, const char *url, bool action, RfIfMatch *im)
{
    _cleanup_(ops_media_result_clear) OpsMediaResult res = { 0 };
    OpsCaller who = api_caller(c);
    int r;

    c->req->log_action = url ? "insert" : "eject";
    r = ops_media_set_if(&who, &c->machine, url, rf_if_match_pre(im), &res);
    if (r == -EINVAL) {
        if (action)
            rf_error(c, 400, "ActionParameterValueFormatError",
                     "the value for the parameter Image in the action " INSERT " is not "
                     "usable: %s", error_get() ? error_get() : "invalid URL");
        else
            rf_error(c, 400, "PropertyValueFormatError", "the value for the property Image "
                     "is not usable: %s", error_get() ? error_get() : "invalid URL");
        return false;
    }
    if (r < 0) {
        rf_change_error(c, im, r, url ? "insert the media" : "eject the media");
        return false;
    }
    return true;
}

/* ---- the actions ---- */

void rf_media_insert(Ctx *c)
{
    _cleanup_(rf_if_match_clear) RfIfMatch im = { 0 };
    MediaRequest q = { .c = c, .action = true, .action_name = INSERT };

    c->req->log_action = "insert";
    if (!media_resolve(c))
        return;
    if (c->body && json_object_each(c->body, request_key, &q) < 0)
        return;
    if (!q.has_image) {
        rf_error(c, 400, "ActionParameterMissing",
                 "the action " INSERT " requires the parameter Image to be present in the "
                 "request body");
        return;
    }
    if (q.has_inserted && !q.inserted) {
        refuse_value(&q, "Inserted", "an image attached but not inserted is not supported: "
                     "send true or leave it out");
        return;
    }
    if (check_request(&q) < 0 || !rf_if_match(c, "virtual media", media_render, &im))
        return;
    if (media_change(c, q.image, true, &im))
        reply_set(c->rep, 204, NULL, NULL, 0);
}

static int no_parameter(const char *key, Json *value, void *userdata)
{
    _cleanup_free_ char *shown = utf8_sanitize(key);

    (void)value;
    rf_error(userdata, 400, "ActionParameterUnknown",
             "the action " EJECT " takes no parameters; it was submitted with %s",
             shown ? shown : "");
    return -EINVAL;
}

void rf_media_eject(Ctx *c)
{
    _cleanup_(rf_if_match_clear) RfIfMatch im = { 0 };

    c->req->log_action = "eject";
    if (!media_resolve(c))
        return;
    /* sushy posts no body at all, other clients {}. */
    if (c->body && json_object_each(c->body, no_parameter, c) < 0)
        return;
    if (!rf_if_match(c, "virtual media", media_render, &im))
        return;
    if (media_change(c, NULL, true, &im))
        reply_set(c->rep, 204, NULL, NULL, 0);
}

/* ---- PATCH: Image and Inserted (sushy's way for BMCs without actions) ---- */

void rf_media_patch(Ctx *c)
{
    _cleanup_(media_state_clear) MediaState cur = { 0 };
    _cleanup_(rf_if_match_clear) RfIfMatch im = { 0 };
    MediaRequest q = { .c = c };
    OpsCaller who = api_caller(c);
    bool eject;
    int r;

    c->req->log_action = "media";
    if (!media_resolve(c))
        return;
    if (c->body && json_object_each(c->body, request_key, &q) < 0)
        return;
    if (!q.has_image && !q.has_inserted && !q.has_write_protected) {
        rf_error(c, 400, "NoOperation", "the request body holds no property to change");
        return;
    }
    if (q.has_image && q.image && q.has_inserted && !q.inserted) {
        refuse_value(&q, "Inserted", "an image attached but not inserted is not supported: "
                     "send an Image with Inserted true, or Inserted false alone to eject");
        return;
    }
    if (check_request(&q) < 0 || !rf_if_match(c, "virtual media", media_render, &im))
        return;
    eject = (q.has_image && !q.image) || (q.has_inserted && !q.inserted);
    if (!eject && !q.has_image && q.has_inserted) {
        /* Inserted true alone: true already, or nothing to insert. */
        r = ops_media_get(&who, &c->machine, &cur);
        if (r < 0) {
            rf_error_errno(c, r, "read the virtual media");
            return;
        }
        if (!cur.image) {
            rf_error(c, 400, "PropertyValueConflict", "the property Inserted cannot be true "
                     "while the drive is empty: send an Image with it");
            return;
        }
    } else if (eject || q.has_image) {
        if (!media_change(c, eject ? NULL : q.image, false, &im))
            return;
    }
    reply_media(c, 200);
}

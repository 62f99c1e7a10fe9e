/* api-media.c: the virtual CD of a machine on the /service tree: what its
 * drive holds, insert an http(s) image, eject.  One call to ops each. */
#include "config.h"

#include "api.h"
#include "json.h"
#include "ops.h"
#include "util.h"

static Json *media_json(const MediaState *s)
{
    Json *o = json_obj();

    json_set_bool(o, "drive", s->drive);
    json_set(o, "target", json_from_str(s->target));
    json_set(o, "bus", json_from_str(s->bus));
    json_set(o, "image", json_from_str(s->image));
    json_set_bool(o, "inserted", s->image != NULL);
    return o;
}

void api_media_get(Ctx *c)
{
    OpsCaller who = api_caller(c);
    _cleanup_(media_state_clear) MediaState s = { 0 };
    int r = ops_media_get(&who, &c->machine, &s);

    if (r < 0) {
        api_reply_errno(c, r, "read the media");
        return;
    }
    api_reply_json(c, 200, media_json(&s));
}

static void media_set(Ctx *c, const char *url)
{
    OpsCaller who = api_caller(c);
    _cleanup_(ops_media_result_clear) OpsMediaResult res = { 0 };
    Json *o;
    int r;

    c->req->log_action = url ? "insert" : "eject";
    r = ops_media_set(&who, &c->machine, url, &res);
    if (r < 0) {
        api_reply_errno(c, r, url ? "insert the media" : "eject the media");
        return;
    }
    o = media_json(&res.media);
    json_set_str(o, "name", c->name);
    json_set_str(o, "action", url ? "insert" : "eject");
    json_set_str(o, "result", res.changed ? "done" : "unchanged");
    json_set(o, "backup", json_from_str(res.backup_id));
    if (!url) {
        /* An eject from a CD-first machine made its disk first. */
        json_set_bool(o, "boot_to_disk", res.boot_to_disk);
        json_set(o, "boot_backup", json_from_str(res.boot_backup_id));
    }
    json_set_str(o, "applies", res.changed ? boot_applies_to_string(res.applies) : "now");
    api_reply_json(c, 200, o);
}

void api_media_put(Ctx *c)
{
    static const char *const keys[] = { "image", NULL };
    const char *image = NULL;
    int r;

    if (!c->body) {
        api_reply_error(c, 400, "a JSON body {\"image\": \"https://host/path.iso\"} is required");
        return;
    }
    if (json_check_keys(c->body, keys) < 0) {
        api_reply_error(c, 400, "%s", error_get());
        return;
    }
    r = json_get_str(c->body, "image", &image);
    if (r == -ENOENT) {
        api_reply_error(c, 400, "'image' is required (DELETE ejects)");
        return;
    }
    if (r < 0) {
        api_reply_error(c, 400, "%s", error_get());
        return;
    }
    media_set(c, image);
}

void api_media_delete(Ctx *c)
{
    media_set(c, NULL);
}

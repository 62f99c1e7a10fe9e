/* api-inventory.c: owner, description and tags of a machine (API.md
 * section 3).  Reads come from virt's table through ops; a change is one
 * call to ops_metadata_set, which owns the lock, the backup and the writes.
 * Handlers decode, call, encode. */
#include "config.h"

#include <stdio.h>

#include "api.h"
#include "json.h"
#include "ops.h"
#include "util.h"

static Json *meta_json(const MetaInfo *m)
{
    Json *o = json_obj(), *tags = json_obj();

    json_set(o, "owner", json_from_str(m->owner));
    json_set(o, "description", json_from_str(m->description));
    for (size_t i = 0; i < m->n_tags; i++)
        json_set_str(tags, m->tags[i].key, m->tags[i].value);
    json_set(o, "tags", tags);
    return o;
}

void api_metadata_get(Ctx *c)
{
    OpsCaller who = api_caller(c);
    _cleanup_(meta_info_clear) MetaInfo m = { 0 };
    int r = ops_metadata_get(&who, &c->machine, &m);

    if (r < 0) {
        api_reply_errno(c, r, "read the metadata");
        return;
    }
    api_reply_json(c, 200, meta_json(&m));
}

/* A string, or null (*ret NULL); anything else is a 400. */
static int string_or_null(const char *what, Json *v, char **ret)
{
    const char *s;

    *ret = NULL;
    if (!v)
        return 0;
    s = json_as_str(v);
    if (!s) {
        error_setf("%s must be a string or null", what);
        return -EINVAL;
    }
    if (json_str_len(v) != strlen(s)) {
        error_setf("%s must not hold NUL characters", what);
        return -EINVAL;
    }
    *ret = strdup(s);
    return *ret ? 0 : -ENOMEM;
}

static int tag_change(const char *key, Json *value, void *userdata)
{
    MetaPatch *p = userdata;
    MetaTagChange *nt;
    char what[96];
    int r;

    /* No cap here: a patch may delete as many tags as it sets (the body's
     * size bounds it); meta_patch_check and the merge bound the result. */
    nt = realloc(p->tags, (p->n_tags + 1) * sizeof(*nt));
    if (!nt)
        return -ENOMEM;
    p->tags = nt;
    nt = &p->tags[p->n_tags];
    *nt = (MetaTagChange){ .key = strdup(key) };
    if (!nt->key)
        return -ENOMEM;
    p->n_tags++;
    snprintf(what, sizeof(what), "tag '%.63s'", key);
    r = string_or_null(what, value, &nt->value);
    return r;
}

int api_tags_patch(Json *tags, MetaPatch *p)
{
    if (!json_is_object(tags)) {
        error_setf("tags must be an object of strings");
        return -EINVAL;
    }
    return json_object_each(tags, tag_change, p);
}

static int patch_key(const char *key, Json *value, void *userdata)
{
    MetaPatch *p = userdata;
    int r;

    if (streq(key, "owner")) {
        r = string_or_null("owner", value, &p->owner_value);
        p->owner = p->owner_value ? META_SET : META_DELETE;
        return r;
    }
    if (streq(key, "description")) {
        r = string_or_null("description", value, &p->description_value);
        p->description = p->description_value ? META_SET : META_DELETE;
        return r;
    }
    /* streq(key, "tags"): json_check_keys let nothing else through. */
    if (!value) {
        p->tags_clear = true;
        return 0;
    }
    if (!json_is_object(value)) {
        error_setf("tags must be an object of strings (null deletes one) or null");
        return -EINVAL;
    }
    return json_object_each(value, tag_change, p);
}

void api_metadata_patch(Ctx *c)
{
    static const char *const keys[] = { "owner", "description", "tags", NULL };
    OpsCaller who = api_caller(c);
    _cleanup_(meta_patch_clear) MetaPatch p = { 0 };
    _cleanup_(ops_meta_result_clear) OpsMetaResult res = { 0 };
    int r;

    c->req->log_action = "metadata";
    if (!c->body) {
        api_reply_error(c, 400, "a JSON body {\"owner\": \"bob\", \"tags\": {\"env\": \"ci\"}} "
                                "is required");
        return;
    }
    if (json_check_keys(c->body, keys) < 0 || json_object_each(c->body, patch_key, &p) < 0) {
        api_reply_error(c, 400, "%s", error_get());
        return;
    }
    r = ops_metadata_set(&who, &c->machine, &p, &res);
    if (r < 0) {
        api_reply_errno(c, r, "change the metadata");
        return;
    }
    api_reply_json(c, 200, meta_json(&res.info));
}

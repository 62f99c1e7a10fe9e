/* json.c: reply bodies and request bodies over json-c.
 *
 * The one module that includes json-c.  It knows nothing of HTTP or libvirt;
 * it never logs, it explains failures through error_setf(). */
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "json.h"
#include "util.h"

Json *json_obj(void)
{
    return json_object_new_object();
}

Json *json_arr(void)
{
    return json_object_new_array();
}

Json *json_from_str(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

Json *json_from_int(long long v)
{
    return json_object_new_int64(v);
}

Json *json_from_bool(bool v)
{
    return json_object_new_boolean(v);
}

size_t json_arr_len(const Json *a)
{
    return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

Json *json_arr_get(const Json *a, size_t i)
{
    return i < json_arr_len(a) ? json_object_array_get_idx(a, i) : NULL;
}

Json *json_from_double(double v)
{
    return json_object_new_double(v);
}

void json_unref(Json *j)
{
    if (j)
        json_object_put(j);
}

void json_set(Json *o, const char *key, Json *value)
{
    json_object_object_add(o, key, value);
}

void json_set_str(Json *o, const char *key, const char *s)
{
    json_set(o, key, json_from_str(s));
}

void json_set_int(Json *o, const char *key, long long v)
{
    json_set(o, key, json_from_int(v));
}

void json_set_bool(Json *o, const char *key, bool v)
{
    json_set(o, key, json_from_bool(v));
}

void json_set_null(Json *o, const char *key)
{
    json_set(o, key, NULL);
}

void json_push(Json *a, Json *value)
{
    if (json_object_array_add(a, value) < 0)
        json_unref(value);
}

void json_push_str(Json *a, const char *s)
{
    json_push(a, json_from_str(s));
}

char *json_dump(const Json *j, size_t *ret_len)
{
    size_t len = 0;
    const char *s = json_object_to_json_string_length((Json *)j,
                                                      JSON_C_TO_STRING_PLAIN |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE,
                                                      &len);
    char *copy;

    if (!s)
        return NULL;
    copy = malloc(len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, len + 1);
    if (ret_len)
        *ret_len = len;
    return copy;
}

char *json_error_body(const char *msg, size_t *ret_len)
{
    _cleanup_json_ Json *o = json_obj();
    _cleanup_free_ char *clean = utf8_sanitize(msg);

    if (!o || !clean)
        return NULL;
    /* Messages quote what the client sent, which need not be UTF-8. */
    json_set_str(o, "error", clean);
    return json_dump(o, ret_len);
}

int json_parse_object(const char *text, size_t len, Json **ret)
{
    struct json_tokener *tok;
    Json *j;
    enum json_tokener_error jerr;

    if (len > INT32_MAX) {
        error_setf("body too large");
        return -EINVAL;
    }
    if (memchr(text, '\0', len)) {
        error_setf("invalid JSON: NUL byte in body");
        return -EINVAL;
    }
    tok = json_tokener_new_ex(32);
    if (!tok)
        return -ENOMEM;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    j = json_tokener_parse_ex(tok, text, (int)len);
    jerr = json_tokener_get_error(tok);
    if (jerr == json_tokener_continue) {
        error_setf("invalid JSON: unexpected end of body");
        json_unref(j);
        json_tokener_free(tok);
        return -EINVAL;
    }
    if (jerr != json_tokener_success) {
        error_setf("invalid JSON at offset %zu: %s", json_tokener_get_parse_end(tok),
                   json_tokener_error_desc(jerr));
        json_tokener_free(tok);
        return -EINVAL;
    }
    /* Anything but blanks after the value is garbage. */
    for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
        if (!strchr(" \t\r\n", text[i])) {
            error_setf("invalid JSON: trailing data at offset %zu", i);
            json_unref(j);
            json_tokener_free(tok);
            return -EINVAL;
        }
    }
    json_tokener_free(tok);
    if (!json_object_is_type(j, json_type_object)) {
        error_setf("the body must be a JSON object");
        json_unref(j);
        return -EINVAL;
    }
    *ret = j;
    return 0;
}

bool json_is_null(const Json *j)
{
    return j == NULL;
}

bool json_is_object(const Json *j)
{
    return json_object_is_type(j, json_type_object);
}

Json *json_get(const Json *o, const char *key)
{
    Json *v = NULL;

    if (!json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

int json_get_str(const Json *o, const char *key, const char **ret)
{
    Json *v = NULL;

    if (!json_object_object_get_ex(o, key, &v))
        return -ENOENT;
    if (!json_object_is_type(v, json_type_string)) {
        error_setf("'%s' must be a string", key);
        return -EINVAL;
    }
    *ret = json_object_get_string(v);
    return 0;
}

int json_get_bool(const Json *o, const char *key, bool *ret)
{
    Json *v = NULL;

    if (!json_object_object_get_ex(o, key, &v))
        return -ENOENT;
    if (!json_object_is_type(v, json_type_boolean)) {
        error_setf("'%s' must be true or false", key);
        return -EINVAL;
    }
    *ret = json_object_get_boolean(v);
    return 0;
}

int json_get_uint(const Json *o, const char *key, uint64_t max, uint64_t *ret)
{
    Json *v = NULL;
    int64_t i;

    if (!json_object_object_get_ex(o, key, &v))
        return -ENOENT;
    if (!json_object_is_type(v, json_type_int)) {
        error_setf("'%s' must be a whole number", key);
        return -EINVAL;
    }
    errno = 0;
    i = json_object_get_int64(v);
    if (i < 0 || (uint64_t)i > max || errno == ERANGE) {
        error_setf("'%s' must be a whole number from 0 to %llu", key, (unsigned long long)max);
        return -EINVAL;
    }
    *ret = (uint64_t)i;
    return 0;
}

const char *json_as_str(const Json *j)
{
    return json_object_is_type(j, json_type_string) ? json_object_get_string((Json *)j) : NULL;
}

size_t json_str_len(const Json *j)
{
    return json_object_is_type(j, json_type_string) ? (size_t)json_object_get_string_len(j) : 0;
}

int json_check_keys(const Json *o, const char *const *allowed)
{
    json_object_object_foreach((Json *)o, key, val) {
        bool ok = false;

        (void)val;
        for (size_t i = 0; allowed[i]; i++)
            if (streq(key, allowed[i]))
                ok = true;
        if (!ok) {
            error_setf("unknown key '%s'", key);
            return -EINVAL;
        }
    }
    return 0;
}

int json_object_each(const Json *o, JsonEachFn fn, void *userdata)
{
    json_object_object_foreach((Json *)o, key, val) {
        int r = fn(key, val, userdata);

        if (r < 0)
            return r;
    }
    return 0;
}

/* json.h: the only json-c user: building reply bodies, parsing request
 * bodies with typed getters.
 *
 * Json is json-c's object behind an opaque name.  Setters take ownership of
 * the Json they are given.  Getters never abort: a missing key is -ENOENT, a
 * wrong type -EINVAL with the reason in error_setf(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct json_object Json;

Json *json_obj(void);
Json *json_arr(void);
Json *json_from_str(const char *s); /* NULL gives JSON null */
Json *json_from_int(long long v);
Json *json_from_bool(bool v);
/* A number with a fraction (0.5); printed in its shortest exact form. */
Json *json_from_double(double v);
void json_unref(Json *j);
static inline void json_unrefp(Json **j)
{
    json_unref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(json_unrefp)))

/* Object setters (replace an existing key); the value is owned by o after. */
void json_set(Json *o, const char *key, Json *value);
void json_set_str(Json *o, const char *key, const char *s);
void json_set_int(Json *o, const char *key, long long v);
void json_set_bool(Json *o, const char *key, bool v);
void json_set_null(Json *o, const char *key);
void json_push(Json *a, Json *value);
void json_push_str(Json *a, const char *s);
/* The length of an array; 0 for anything else. */
size_t json_arr_len(const Json *a);

/* Compact text; caller frees.  NULL on out of memory. */
char *json_dump(const Json *j, size_t *ret_len);
/* {"error": msg} as text; caller frees. */
char *json_error_body(const char *msg, size_t *ret_len);

/* JSON written as text, for a large answer (thousands of list entries)
 * that would cost an object per field.  Out of memory is sticky: every
 * later call does nothing and json_text_steal() returns NULL. */
typedef struct JsonText {
    char *buf;
    size_t len, cap;
    bool oom;
} JsonText;

void json_text_reserve(JsonText *t, size_t more);
void json_text_raw(JsonText *t, const char *s, size_t len);
void json_text_lit(JsonText *t, const char *s); /* raw, NUL-terminated */
void json_text_str(JsonText *t, const char *s); /* a quoted string; NULL gives null */
void json_text_int(JsonText *t, long long v);
void json_text_json(JsonText *t, const Json *j); /* j's compact text; NULL gives null */
/* The text (NUL-terminated), or NULL on out of memory; t is empty after. */
char *json_text_steal(JsonText *t, size_t *ret_len);
void json_text_clear(JsonText *t);

/* Parse a request body that must be one JSON object.  -EINVAL (message in
 * error_get()) for bad JSON, trailing garbage, or another type. */
int json_parse_object(const char *text, size_t len, Json **ret);
/* The same for any JSON value (a server's answer, read by virtmc): *ret is
 * NULL for the text "null". */
int json_parse(const char *text, size_t len, Json **ret);

bool json_is_null(const Json *j);
bool json_is_object(const Json *j);
bool json_is_array(const Json *j);
/* Element i of an array (borrowed); NULL past its end or for another type. */
Json *json_arr_get(const Json *a, size_t i);
/* A whole number or a boolean; -EINVAL for any other type. */
int json_as_int(const Json *j, long long *ret);
int json_as_bool(const Json *j, bool *ret);
Json *json_get(const Json *o, const char *key); /* borrowed; NULL if absent */
int json_get_str(const Json *o, const char *key, const char **ret);
int json_get_bool(const Json *o, const char *key, bool *ret);
int json_get_uint(const Json *o, const char *key, uint64_t max, uint64_t *ret);
const char *json_as_str(const Json *j); /* NULL unless a string */
/* Its length in bytes, NULs included (a string shorter by strlen holds one). */
size_t json_str_len(const Json *j);
/* -EINVAL naming the first key of o not in allowed (NULL-terminated). */
int json_check_keys(const Json *o, const char *const *allowed);

typedef int (*JsonEachFn)(const char *key, Json *value, void *userdata);
int json_object_each(const Json *o, JsonEachFn fn, void *userdata);

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
/* Element i of an array (borrowed); NULL out of range or not an array. */
Json *json_arr_get(const Json *a, size_t i);

/* Compact text; caller frees.  NULL on out of memory. */
char *json_dump(const Json *j, size_t *ret_len);
/* {"error": msg} as text; caller frees. */
char *json_error_body(const char *msg, size_t *ret_len);

/* Parse a request body that must be one JSON object.  -EINVAL (message in
 * error_get()) for bad JSON, trailing garbage, or another type. */
int json_parse_object(const char *text, size_t len, Json **ret);

bool json_is_null(const Json *j);
bool json_is_object(const Json *j);
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

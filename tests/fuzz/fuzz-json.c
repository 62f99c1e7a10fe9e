/* fuzz-json.c: libFuzzer target for request-body parsing (src/json.c):
 * json_parse_object(), json_check_keys(), the typed getters,
 * json_object_each(), json_dump() and json_error_body().
 *
 * The input is a request body.  Beyond "no crash, no leak" it checks that
 * an accepted body is an object whose dump parses again to the same dump,
 * that the getters agree with the value's type and bounds, that key checks
 * agree with a count of the keys, and that every error message (and every
 * UTF-8 string) makes a JSON error body that parses back to the same text.
 * Seeds are in tests/fuzz/corpus/fuzz-json/.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Isrc \
 *       $(pkg-config --cflags json-c) tests/fuzz/fuzz-json.c src/json.c src/util.c \
 *       $(pkg-config --libs json-c) -o fuzz-json */
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...)                                   \
    do {                                            \
        fprintf(stderr, "fuzz-json: " __VA_ARGS__); \
        fputc('\n', stderr);                        \
        abort();                                    \
    } while (0)

/* Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        uint8_t c = s[i];
        size_t k;
        uint32_t cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            k = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            cp = c & 0x07;
        } else
            return false;
        if (i + k >= n)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

/* The error body of msg parses back to {"error": msg}. */
static void check_error_body(const char *msg, size_t len)
{
    _cleanup_free_ char *body = NULL;
    _cleanup_json_ Json *o = NULL;
    const char *back = NULL;
    _cleanup_free_ char *clean = NULL;
    size_t blen = 0;

    body = json_error_body(msg, &blen);
    if (!body)
        FAIL("json_error_body failed");
    if (strlen(body) != blen)
        FAIL("json_error_body length %zu but %zu bytes", blen, strlen(body));
    if (json_parse_object(body, blen, &o) < 0)
        FAIL("the error body of a %zu-byte message does not parse: %s", len, body);
    /* Bytes that are not UTF-8 come back as '?' (API.md: bodies are UTF-8). */
    clean = utf8_sanitize(msg);
    if (!clean)
        FAIL("utf8_sanitize failed");
    if (json_get_str(o, "error", &back) < 0 || strcmp(back, clean) != 0)
        FAIL("the error body does not give the message back");
    if (json_object_object_length(o) != 1)
        FAIL("the error body has more than one key");
}

static int count_key(const char *key, Json *value, void *userdata)
{
    size_t *n = userdata;

    if (!key)
        FAIL("json_object_each gave a NULL key");
    (void)json_is_null(value);
    (void)json_is_object(value);
    (void)json_as_str(value);
    (*n)++;
    return 0;
}

static int stop_at_first(const char *key, Json *value, void *userdata)
{
    (*(size_t *)userdata)++;
    return -ECANCELED;
}

static void check_getters(const Json *o)
{
    static const char *const keys[] = { "first", "persistent", "once", "restart", "count",
                                        "lifetime", "tags", "owner", "description", "" };

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        Json *v = json_get(o, keys[i]);
        const char *s = NULL;
        bool b = false;
        uint64_t u = 0;
        int rs = json_get_str(o, keys[i], &s);
        int rb = json_get_bool(o, keys[i], &b);
        int ru = json_get_uint(o, keys[i], 1000, &u);
        int rbig = json_get_uint(o, keys[i], UINT64_MAX, &u);

        if (!v) {
            if (rs != -ENOENT || rb != -ENOENT || ru != -ENOENT || rbig != -ENOENT)
                FAIL("a missing key '%s' is not -ENOENT", keys[i]);
            continue;
        }
        if ((rs == 0) != json_object_is_type(v, json_type_string))
            FAIL("json_get_str on '%s' disagrees with the type", keys[i]);
        if (rs == 0 && (json_as_str(v) != s || !s))
            FAIL("json_as_str disagrees with json_get_str");
        if (rs != 0 && (rs != -EINVAL || json_as_str(v)))
            FAIL("json_get_str on a non-string");
        if ((rb == 0) != json_object_is_type(v, json_type_boolean))
            FAIL("json_get_bool on '%s' disagrees with the type", keys[i]);
        if (ru == 0) {
            if (!json_object_is_type(v, json_type_int))
                FAIL("json_get_uint accepted a non-integer");
            if (json_object_get_int64(v) < 0 || json_object_get_int64(v) > 1000)
                FAIL("json_get_uint went past its bounds");
        } else if (ru != -EINVAL)
            FAIL("json_get_uint returned %d", ru);
        if (rbig == 0 && json_object_get_int64(v) < 0)
            FAIL("json_get_uint accepted a negative number");
        if (rs < 0 || rb < 0 || ru < 0) {
            const char *msg = error_get();

            if (!msg)
                FAIL("a getter failed without a message");
            check_error_body(msg, strlen(msg));
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const boot_keys[] = { "first", "persistent", "once", "restart", NULL };
    static const char *const no_keys[] = { NULL };
    _cleanup_json_ Json *o = NULL, *again = NULL;
    _cleanup_free_ char *dump = NULL, *dump2 = NULL;
    size_t len = 0, len2 = 0, n = 0, stopped = 0;
    int r;

    if (size > 1 << 20)
        return 0;
    error_clear();
    r = json_parse_object((const char *)data, size, &o);
    if (r < 0) {
        const char *msg = error_get();

        if (r != -EINVAL)
            FAIL("json_parse_object returned %d", r);
        if (!msg || !*msg)
            FAIL("a refused body without a message");
        check_error_body(msg, strlen(msg));
        if (!memchr(data, '\0', size) && utf8_valid(data, size)) {
            _cleanup_free_ char *s = strndup((const char *)data, size);

            if (s)
                check_error_body(s, size);
        }
        return 0;
    }
    if (!o || !json_is_object(o))
        FAIL("json_parse_object accepted something that is not an object");

    dump = json_dump(o, &len);
    if (!dump)
        FAIL("json_dump failed");
    if (json_parse_object(dump, len, &again) < 0)
        FAIL("the dump of an accepted body does not parse: %s", dump);
    dump2 = json_dump(again, &len2);
    if (!dump2 || len != len2 || memcmp(dump, dump2, len) != 0)
        FAIL("dump, parse, dump is not stable");

    if (json_object_each(o, count_key, &n) < 0)
        FAIL("json_object_each failed");
    if (n != (size_t)json_object_object_length(o))
        FAIL("json_object_each saw %zu of %d keys", n, json_object_object_length(o));
    if (n > 0 && (json_object_each(o, stop_at_first, &stopped) != -ECANCELED || stopped != 1))
        FAIL("json_object_each did not stop at the first error");

    r = json_check_keys(o, no_keys);
    if ((r == 0) != (n == 0))
        FAIL("json_check_keys with no allowed key: %d for %zu keys", r, n);
    if (r < 0)
        check_error_body(error_get(), strlen(error_get()));
    r = json_check_keys(o, boot_keys);
    if (r == 0)
        for (size_t i = 0; boot_keys[i]; i++)
            (void)json_get(o, boot_keys[i]);
    else {
        const char *msg = error_get();

        if (!msg)
            FAIL("json_check_keys failed without a message");
        check_error_body(msg, strlen(msg));
    }
    check_getters(o);
    return 0;
}

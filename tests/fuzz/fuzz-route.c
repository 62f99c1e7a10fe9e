/* fuzz-route.c: libFuzzer target for the route matcher, percent_decode()
 * and machine_name_valid().
 *
 * It matches against the daemon's own table (src/api-routes.c, data only).
 *
 * Input: "METHOD PATH" ("GET /service/vm-off/boot"); a METHOD starting with
 * '!' turns legacy GET actions off; no space means GET.  Beyond "no crash,
 * no leak" it checks what route.c promises: a found route takes the method,
 * its {name} is a valid machine name without NUL, every parameter of the
 * pattern is filled, 405 comes with an Allow list and 400 with a message;
 * percent_decode() round-trips any byte string and never grows it; and
 * machine_name_valid() agrees with API.md section 0, written out again here.
 * Seeds are in tests/fuzz/corpus/fuzz-route/.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Isrc \
 *       tests/fuzz/fuzz-route.c src/route.c src/api-routes.c src/util.c -o fuzz-route */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api-routes.h"
#include "route.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...)                                    \
    do {                                             \
        fprintf(stderr, "fuzz-route: " __VA_ARGS__); \
        fputc('\n', stderr);                         \
        abort();                                     \
    } while (0)



/* API.md section 0, independently of util.c. */
static bool spec_name_valid(const char *s, size_t len)
{
    if (len < 1 || len > 255)
        return false;
    if (len == 1 && s[0] == '.')
        return false;
    if (len == 2 && s[0] == '.' && s[1] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '/' || c == '\0' || c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

static size_t count_params(const char *pattern)
{
    size_t n = 0;

    for (const char *p = pattern; *p; p++)
        if (*p == '{')
            n++;
    return n;
}

static void check_match(unsigned method, const char *path, bool legacy)
{
    RouteMatch m;
    RouteResult rr = route_match(&api_route_table, method, path, legacy, &m);

    switch (rr) {
    case ROUTE_FOUND: {
        const Route *r = m.route;
        unsigned accepted;
        const char *name;

        if (!r || r < api_route_table.routes ||
            r >= api_route_table.routes + api_route_table.n_routes)
            FAIL("FOUND without a route of the table for '%s'", path);
        accepted = r->methods;
        if ((r->flags & ROUTE_LEGACY_GET) && legacy)
            accepted |= HTTP_GET;
        if (accepted & HTTP_GET)
            accepted |= HTTP_HEAD;
        if (!(accepted & method))
            FAIL("FOUND a route that does not take method %u for '%s'", method, path);
        if (m.legacy_get && (!(r->flags & ROUTE_LEGACY_GET) || !legacy ||
                             !(method & (HTTP_GET | HTTP_HEAD))))
            FAIL("legacy_get set wrongly for '%s'", path);
        if (m.n_params != count_params(r->pattern))
            FAIL("'%s' matched %s with %zu parameters", path, r->pattern, m.n_params);
        for (size_t i = 0; i < m.n_params; i++) {
            if (!m.params[i] || !m.param_names[i] || !*m.params[i])
                FAIL("empty parameter %zu for '%s'", i, path);
            if (route_param(&m, m.param_names[i]) != m.params[i])
                FAIL("route_param(%s) is not the parameter", m.param_names[i]);
        }
        name = route_param(&m, "name");
        if (strstr(r->pattern, "{name}")) {
            if (!name)
                FAIL("no name for '%s'", path);
            if (!spec_name_valid(name, strlen(name)))
                FAIL("invalid machine name '%s' accepted from '%s'", name, path);
            if (strchr(name, '/'))
                FAIL("a '/' in a name from '%s'", path);
        }
        if (route_param(&m, "no-such-parameter"))
            FAIL("route_param of an unknown name");
        break;
    }
    case ROUTE_BAD_METHOD:
        if (!m.allow[0])
            FAIL("405 without an Allow list for '%s'", path);
        if (!strstr(m.allow, "GET") && !strstr(m.allow, "POST") && !strstr(m.allow, "PUT"))
            FAIL("odd Allow list '%s'", m.allow);
        if (m.n_params != 0)
            FAIL("405 with parameters left");
        break;
    case ROUTE_BAD_REQUEST:
        if (!m.message[0])
            FAIL("400 without a message for '%s'", path);
        if (m.n_params != 0)
            FAIL("400 with parameters left");
        break;
    case ROUTE_NOT_FOUND:
        if (m.n_params != 0)
            FAIL("404 with parameters left");
        break;
    default:
        FAIL("unknown route result %d", (int)rr);
    }
    route_match_clear(&m);
    if (m.n_params != 0 || m.route)
        FAIL("route_match_clear left state");
}

static void check_decode(const uint8_t *data, size_t size)
{
    char *out = NULL, *enc, *back = NULL;
    size_t len = 0, blen = 0;
    int r;

    /* Decoding never grows, and never reads past len. */
    r = percent_decode((const char *)data, size, &out, &len);
    if (r == 0) {
        if (len > size)
            FAIL("percent_decode grew %zu bytes to %zu", size, len);
        if (out[len] != '\0')
            FAIL("percent_decode result not terminated");
        if (!memchr(data, '%', size) && (len != size || memcmp(out, data, size) != 0))
            FAIL("percent_decode changed a string without escapes");
        free(out);
    } else if (r != -EINVAL)
        FAIL("percent_decode returned %d", r);
    else if (!memchr(data, '%', size))
        FAIL("percent_decode refused a string without '%%'");

    /* Encoding every byte and decoding gives the bytes back. */
    enc = malloc(size * 3 + 1);
    if (!enc)
        return;
    for (size_t i = 0; i < size; i++)
        snprintf(enc + 3 * i, 4, "%%%02X", data[i]);
    if (percent_decode(enc, size * 3, &back, &blen) < 0)
        FAIL("percent_decode refused a fully encoded string");
    if (blen != size || memcmp(back, data, size) != 0)
        FAIL("percent_decode did not round-trip");
    free(back);
    free(enc);
}

static bool is_reserved(const char *s)
{
    for (size_t i = 0; api_route_table.reserved[i]; i++)
        if (streq(api_route_table.reserved[i], s))
            return true;
    return false;
}

/* The short path /service/<x>/... and /service/machines/<x>/... agree when
 * <x> (decoded) is not a reserved word. */
static void check_short(unsigned method, const char *path, bool legacy)
{
    const char *rest, *slash;
    char *seg = NULL, *canon;
    size_t seglen;
    RouteMatch a, b;
    RouteResult ra, rb;

    if (strncmp(path, "/service/", 9) != 0)
        return;
    rest = path + 9;
    slash = strchr(rest, '/');
    seglen = slash ? (size_t)(slash - rest) : strlen(rest);
    if (seglen == 0 || percent_decode(rest, seglen, &seg, NULL) < 0)
        return;
    if (is_reserved(seg)) {
        free(seg);
        return;
    }
    free(seg);
    canon = strdup_printf("/service/machines/%s", rest);
    if (!canon)
        return;
    {
        /* Past route.c's segment limit the two differ in which error comes
         * first (too many segments, or a bad escape): both refusals. */
        size_t n = 0, len = strlen(canon);

        for (size_t i = 0; i < len; i++)
            n += canon[i] == '/' && i + 1 < len;
        if (n >= 16) {
            free(canon);
            return;
        }
    }
    ra = route_match(&api_route_table, method, path, legacy, &a);
    rb = route_match(&api_route_table, method, canon, legacy, &b);
    if (ra != rb)
        FAIL("'%s' gives %d but '%s' gives %d", path, (int)ra, canon, (int)rb);
    if (ra == ROUTE_FOUND) {
        if (a.route != b.route)
            FAIL("'%s' and '%s' match different routes", path, canon);
        if (!streq_ptr(route_param(&a, "name"), route_param(&b, "name")))
            FAIL("'%s' and '%s' give different names", path, canon);
    }
    route_match_clear(&a);
    route_match_clear(&b);
    free(canon);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned all[] = { HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_PATCH,
                                    HTTP_DELETE, HTTP_OPTIONS, HTTP_OTHER };
    char *text, *path, *sp;
    bool legacy = true;
    unsigned method = HTTP_GET;

    if (size > 65536)
        return 0;
    check_decode(data, size);
    if (machine_name_valid((const char *)data, size) !=
        spec_name_valid((const char *)data, size))
        FAIL("machine_name_valid disagrees with API.md on %zu bytes", size);

    text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    path = text;
    sp = strchr(text, ' ');
    if (sp) {
        char *m = text;

        *sp = '\0';
        path = sp + 1;
        if (*m == '!') {
            legacy = false;
            m++;
        }
        method = http_method_from_string(m);
        if (method != HTTP_OTHER && !streq(http_method_to_string(method), m))
            FAIL("method name does not round-trip: %s", m);
    }
    check_match(method, path, legacy);
    check_short(method, path, legacy);
    /* Every method on the same path, both legacy settings. */
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        check_match(all[i], path, true);
        check_match(all[i], path, false);
    }
    free(text);
    return 0;
}

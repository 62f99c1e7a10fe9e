/* fuzz-route.c: libFuzzer target for the route matcher, percent_decode()
 * and machine_name_valid().
 *
 * It matches against the daemon's own table (src/api-routes.c), linked with
 * the handlers it names from libvirtmcd.a; no handler is ever called.
 *
 * Input: "METHOD PATH" ("GET /service/vm-off/boot"); a METHOD starting with
 * '!' turns legacy GET actions off; no space means GET.  Beyond "no crash,
 * no leak" it checks what route.c promises: a found route takes the method,
 * its {name} is a valid machine name without NUL, every parameter of the
 * pattern is filled, the entry found is the row's own for that method (HEAD:
 * GET's; a legacy GET: the ROUTE_LEGACY_GET POST), 405 comes with an Allow
 * list that every listed method matches and the refused one is not on, and
 * 400 with a message;
 * percent_decode() round-trips any byte string and never grows it; and
 * machine_name_valid() agrees with API.md section 0, written out again here.
 * Seeds are in tests/fuzz/corpus/fuzz-route/.
 *
 * In a configured build folder (make libvirtmcd.a first):
 *
 *   PKGS="libvirt libmicrohttpd libxml-2.0 json-c libsystemd inih gnutls"
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Isrc \
 *       $(pkg-config --cflags $PKGS) tests/fuzz/fuzz-route.c src/route.c src/util.c \
 *       libvirtmcd.a $(pkg-config --libs $PKGS) -lpthread -o fuzz-route */
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

static const RouteMethod *entry_of(const Route *r, unsigned method)
{
    for (size_t i = 0; i < ROUTE_MAX_METHODS && r->methods[i].method; i++)
        if (r->methods[i].method == method)
            return &r->methods[i];
    return NULL;
}

/* Every method on a 405's Allow list is served on that path (or refused for
 * its parameters, which are checked after the method), the refused one is
 * not on it, and the list is the methods' names joined by ", ". */
static void check_allow(unsigned method, const char *path, bool legacy, const char *allow)
{
    char copy[ROUTE_ALLOW_MAX];
    char *save = NULL;
    size_t n = 0;

    if (strlen(allow) >= sizeof(copy))
        FAIL("Allow list '%s' overflows", allow);
    memcpy(copy, allow, strlen(allow) + 1);
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        unsigned am;
        RouteMatch m2;
        RouteResult r2;

        if (n++ > 0) {
            if (*tok != ' ')
                FAIL("Allow list '%s' is not joined by ', '", allow);
            tok++;
        }
        am = http_method_from_string(tok);
        if (am == HTTP_OTHER)
            FAIL("Allow list '%s' names '%s'", allow, tok);
        if (am == method)
            FAIL("405 for %s on '%s' but Allow '%s' lists it", tok, path, allow);
        r2 = route_match(&api_route_table, am, path, legacy, &m2);
        if (r2 != ROUTE_FOUND && r2 != ROUTE_BAD_REQUEST)
            FAIL("Allow '%s' lists %s but it gives %d on '%s'", allow, tok, (int)r2, path);
        route_match_clear(&m2);
    }
}

static void check_match(unsigned method, const char *path, bool legacy)
{
    RouteMatch m;
    RouteResult rr = route_match(&api_route_table, method, path, legacy, &m);

    switch (rr) {
    case ROUTE_FOUND: {
        const Route *r = m.route;
        const RouteMethod *e = m.method;
        const char *name;

        if (!r || r < api_route_table.routes ||
            r >= api_route_table.routes + api_route_table.n_routes)
            FAIL("FOUND without a route of the table for '%s'", path);
        if (!e || e < r->methods || e >= r->methods + ROUTE_MAX_METHODS || !e->method ||
            !e->handler)
            FAIL("FOUND without an entry of the row %s for '%s'", r->pattern, path);
        /* The entry registered for the method, never another method's. */
        if (e->method != method &&
            !(method == HTTP_HEAD && e->method == HTTP_GET && !entry_of(r, HTTP_HEAD)) &&
            !(method == HTTP_GET && m.legacy_get && !entry_of(r, HTTP_GET)))
            FAIL("method %u served by the %u entry of %s", method, (unsigned)e->method,
                 r->pattern);
        if (m.legacy_get && (!(e->flags & ROUTE_LEGACY_GET) || !legacy || method != HTTP_GET))
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
        /* The row is kept (metrics count a 405 under its template); no
         * method and no parameters are. */
        if (m.n_params != 0 || !m.route || m.method)
            FAIL("405 with a match left, or without its row");
        check_allow(method, path, legacy, m.allow);
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
    if (m.n_params != 0 || m.route || m.method)
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
        if (a.route != b.route || a.method != b.method)
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

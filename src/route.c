/* route.c: path decoding and route matching.
 *
 * Segments are split on '/' first and then percent-decoded once, so "%2f"
 * inside a machine name can never become a path separator.  The first route
 * whose pattern matches the path decides: a method it has no entry for is 405
 * with its Allow list, never a fall-through to another route, and the entry
 * found is the one registered for that method (HEAD: GET's; a legacy GET:
 * the ROUTE_LEGACY_GET entry), never another method's. */
#include "config.h"

#include <stdio.h>
#include <strings.h>

#include "route.h"
#include "strtable.h"
#include "util.h"

#define MAX_SEGMENTS 16

/* HttpMethod values are bit flags (one per method, so a route's methods and an
 * Allow list are sets): the table is indexed by bit position. */
#define BIT(m) __builtin_ctz(m)
static const char *const http_method_bit_table[] = {
    [BIT(HTTP_GET)] = "GET",     [BIT(HTTP_HEAD)] = "HEAD",     [BIT(HTTP_POST)] = "POST",
    [BIT(HTTP_PUT)] = "PUT",     [BIT(HTTP_PATCH)] = "PATCH",   [BIT(HTTP_DELETE)] = "DELETE",
    [BIT(HTTP_OPTIONS)] = "OPTIONS",
};
#undef BIT
DEFINE_PRIVATE_STRING_TABLE_LOOKUP(http_method_bit, int)

HttpMethod http_method_from_string(const char *s)
{
    int bit = http_method_bit_from_string(s);

    return bit < 0 ? HTTP_OTHER : (HttpMethod)(1u << bit);
}

/* "OTHER" for HTTP_OTHER, for a set of several methods and for no method. */
const char *http_method_to_string(HttpMethod m)
{
    const char *s = NULL;

    if (m != 0 && (m & (m - 1)) == 0)
        s = http_method_bit_to_string(__builtin_ctz(m));
    return s ? s : "OTHER";
}

typedef struct Segs {
    size_t n;
    char *v[MAX_SEGMENTS];
    size_t len[MAX_SEGMENTS];
} Segs;

static void segs_clear(Segs *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    s->n = 0;
}

/* Split and decode.  -EINVAL for a bad escape, -E2BIG for too many segments. */
static int split_path(const char *raw, Segs *ret)
{
    size_t len = strlen(raw);
    const char *p;

    if (len == 0 || raw[0] != '/')
        return -EINVAL;
    /* A trailing slash is ignored (API.md section 0). */
    if (len > 1 && raw[len - 1] == '/')
        len--;
    p = raw + 1;
    len--;
    if (len == 0)
        return 0;
    for (;;) {
        const char *slash = memchr(p, '/', len);
        size_t seglen = slash ? (size_t)(slash - p) : len;
        int r;

        if (ret->n == MAX_SEGMENTS)
            return -E2BIG;
        r = percent_decode(p, seglen, &ret->v[ret->n], &ret->len[ret->n]);
        if (r < 0)
            return r;
        ret->n++;
        if (!slash)
            break;
        len -= seglen + 1;
        p = slash + 1;
    }
    return 0;
}

static bool is_reserved(const RouteTable *t, const char *s)
{
    for (size_t i = 0; t->reserved && t->reserved[i]; i++)
        if (streq(t->reserved[i], s))
            return true;
    return false;
}

/* Does pattern match segs?  Fills names/values (borrowed) when it does. */
static bool pattern_match(const char *pattern, const Segs *s, const char **names,
                          size_t *name_lens, size_t *values, size_t *n_params)
{
    const char *p = pattern;
    size_t i = 0, np = 0;

    if (*p == '/')
        p++;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t plen = end ? (size_t)(end - p) : strlen(p);

        if (i >= s->n)
            return false;
        if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
            /* An empty {name} matches, so that it is refused as a bad name
             * (400) rather than an unknown path. */
            bool is_name = plen == 6 && memcmp(p, "{name}", 6) == 0;

            if ((s->len[i] == 0 && !is_name) || np == ROUTE_MAX_PARAMS)
                return false;
            names[np] = p + 1;
            name_lens[np] = plen - 2;
            values[np] = i;
            np++;
        } else if (plen != s->len[i] || memcmp(p, s->v[i], plen) != 0)
            return false;
        i++;
        p += plen;
        if (*p == '/')
            p++;
    }
    if (i != s->n)
        return false;
    *n_params = np;
    return true;
}

static const RouteMethod *method_entry(const Route *r, unsigned method)
{
    for (size_t i = 0; i < ROUTE_MAX_METHODS && r->methods[i].method; i++)
        if (r->methods[i].method == method)
            return &r->methods[i];
    return NULL;
}

/* The entry that serves `method` on row r, NULL if none does.  HEAD is GET
 * without a body; a legacy GET performs the row's ROUTE_LEGACY_GET entry. */
static const RouteMethod *serving_entry(const Route *r, unsigned method, bool legacy_get,
                                        bool *ret_legacy)
{
    const RouteMethod *e = method_entry(r, method);

    *ret_legacy = false;
    if (e)
        return e;
    /* HEAD never performs an action, even where GET does. */
    if (method == HTTP_HEAD)
        return method_entry(r, HTTP_GET);
    if (method == HTTP_GET && legacy_get)
        for (size_t i = 0; i < ROUTE_MAX_METHODS && r->methods[i].method; i++)
            if (r->methods[i].flags & ROUTE_LEGACY_GET) {
                *ret_legacy = true;
                return &r->methods[i];
            }
    return NULL;
}

/* Exactly the methods serving_entry() serves, in HttpMethod bit order. */
static void format_allow(const Route *r, bool legacy_get, char *buf, size_t size)
{
    unsigned m = 0;
    size_t len = 0;

    for (size_t i = 0; i < ROUTE_MAX_METHODS && r->methods[i].method; i++)
        m |= r->methods[i].method;
    if (m & HTTP_GET)
        m |= HTTP_HEAD;
    for (size_t i = 0; i < ROUTE_MAX_METHODS && r->methods[i].method; i++)
        if (legacy_get && (r->methods[i].flags & ROUTE_LEGACY_GET))
            m |= HTTP_GET;
    buf[0] = '\0';
    /* size is ROUTE_ALLOW_MAX, room for every name: nothing is cut. */
    for (size_t i = 0; i < ELEMENTSOF(http_method_bit_table); i++)
        if (m & (1u << i))
            len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
                                    http_method_bit_table[i]);
}

RouteResult route_match(const RouteTable *t, unsigned method, const char *raw_path,
                        bool legacy_get, RouteMatch *ret)
{
    Segs s = { 0 };
    RouteResult result = ROUTE_NOT_FOUND;
    int r;

    *ret = (RouteMatch){ 0 };
    r = split_path(raw_path, &s);
    if (r < 0) {
        segs_clear(&s);
        if (r == -E2BIG)
            return ROUTE_NOT_FOUND;
        snprintf(ret->message, sizeof(ret->message), "invalid percent-encoding in path");
        return ROUTE_BAD_REQUEST;
    }
    /* The short machine path: /service/<name>/... means /service/machines/<name>/... */
    if (t->short_prefix && s.n >= 2 && streq(s.v[0], t->short_prefix) &&
        !is_reserved(t, s.v[1]) && s.n < MAX_SEGMENTS) {
        char *insert = strdup(t->short_insert);

        if (!insert) {
            segs_clear(&s);
            return ROUTE_NOT_FOUND;
        }
        memmove(&s.v[2], &s.v[1], (s.n - 1) * sizeof(s.v[0]));
        memmove(&s.len[2], &s.len[1], (s.n - 1) * sizeof(s.len[0]));
        s.v[1] = insert;
        s.len[1] = strlen(insert);
        s.n++;
    }

    for (size_t i = 0; i < t->n_routes; i++) {
        const Route *route = &t->routes[i];
        const char *names[ROUTE_MAX_PARAMS];
        size_t name_lens[ROUTE_MAX_PARAMS], values[ROUTE_MAX_PARAMS], np = 0;
        const RouteMethod *entry;
        bool legacy = false;

        if (!pattern_match(route->pattern, &s, names, name_lens, values, &np))
            continue;
        entry = serving_entry(route, method, legacy_get, &legacy);
        if (!entry) {
            format_allow(route, legacy_get, ret->allow, sizeof(ret->allow));
            ret->route = route; /* the row is known: for the request counters */
            result = ROUTE_BAD_METHOD;
            break;
        }
        for (size_t k = 0; k < np; k++) {
            size_t v = values[k];

            if (strlen(s.v[v]) != s.len[v]) {
                snprintf(ret->message, sizeof(ret->message), "NUL byte in path");
                result = ROUTE_BAD_REQUEST;
                break;
            }
            if (name_lens[k] == 4 && memcmp(names[k], "name", 4) == 0 &&
                !machine_name_valid(s.v[v], s.len[v])) {
                snprintf(ret->message, sizeof(ret->message), "invalid machine name");
                result = ROUTE_BAD_REQUEST;
                break;
            }
            ret->param_names[k] = strndup(names[k], name_lens[k]);
            ret->params[k] = steal_ptr(&s.v[v]);
            ret->n_params = k + 1;
        }
        if (result == ROUTE_BAD_REQUEST) {
            route_match_clear(ret);
            break;
        }
        ret->route = route;
        ret->method = entry;
        ret->legacy_get = legacy;
        result = ROUTE_FOUND;
        break;
    }
    segs_clear(&s);
    return result;
}

void route_match_clear(RouteMatch *m)
{
    char msg[sizeof(m->message)];

    memcpy(msg, m->message, sizeof(msg));
    for (size_t i = 0; i < m->n_params; i++) {
        free(m->params[i]);
        free(m->param_names[i]);
    }
    *m = (RouteMatch){ 0 };
    memcpy(m->message, msg, sizeof(msg));
}

const char *route_param(const RouteMatch *m, const char *name)
{
    for (size_t i = 0; i < m->n_params; i++)
        if (m->param_names[i] && streq(m->param_names[i], name))
            return m->params[i];
    return NULL;
}

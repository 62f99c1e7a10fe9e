/* route.h: the route table engine: path decoding, matching, 404/405.
 *
 * Pure: a raw request path and method in, the matching route and its decoded
 * parameters out.  It knows no handler's meaning, does no I/O and never
 * calls libvirt.  Tables are static arrays owned by their users (api.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef enum HttpMethod {
    HTTP_GET = 1u << 0,
    HTTP_HEAD = 1u << 1,
    HTTP_POST = 1u << 2,
    HTTP_PUT = 1u << 3,
    HTTP_PATCH = 1u << 4,
    HTTP_DELETE = 1u << 5,
    HTTP_OPTIONS = 1u << 6,
    HTTP_OTHER = 1u << 7,
} HttpMethod;

HttpMethod http_method_from_string(const char *s);
const char *http_method_to_string(HttpMethod m);

enum {
    ROUTE_LEGACY_GET = 1u << 0, /* GET also performs the action (API.md section 0) */
    ROUTE_INLINE = 1u << 1,     /* answered from memory on the HTTP thread */
};

#define ROUTE_MAX_PARAMS 4

/* A pattern is a path of literal segments and parameters: "{name}" is a
 * machine name (validated as API.md section 0 says), "{...}" any other
 * non-empty segment. */
typedef struct Route {
    const char *pattern;
    unsigned methods;           /* HTTP_* accepted; HEAD is implied by GET */
    unsigned flags;             /* ROUTE_* */
    int role;                   /* role needed for methods other than GET/HEAD */
    const char *const *query;   /* accepted query keys, NULL-terminated, or NULL = none */
    int handler;                /* the owner's handler number */
    int read_role;              /* role needed for GET/HEAD (0 = the lowest) */
} Route;

typedef struct RouteTable {
    const Route *routes;
    size_t n_routes;
    /* The short machine path: "/<prefix>/<x>/..." with x not reserved is
     * "/<prefix>/<insert>/<x>/...". */
    const char *short_prefix;
    const char *short_insert;
    const char *const *reserved;
} RouteTable;

typedef enum RouteResult {
    ROUTE_FOUND,
    ROUTE_NOT_FOUND,   /* 404 */
    ROUTE_BAD_METHOD,  /* 405, allow lists the methods */
    ROUTE_BAD_REQUEST, /* 400, message says why */
} RouteResult;

typedef struct RouteMatch {
    const Route *route;
    size_t n_params;
    char *param_names[ROUTE_MAX_PARAMS]; /* borrowed from the pattern copy */
    char *params[ROUTE_MAX_PARAMS];      /* decoded, owned */
    bool legacy_get;                     /* GET performing an action */
    char allow[96];                      /* "GET, HEAD, POST" for 405 */
    char message[128];                   /* for 400 */
} RouteMatch;

/* Match a raw (still percent-encoded) path without its query string.
 * legacy_get enables ROUTE_LEGACY_GET routes for GET. */
RouteResult route_match(const RouteTable *t, unsigned method, const char *raw_path,
                        bool legacy_get, RouteMatch *ret);
void route_match_clear(RouteMatch *m);
/* The decoded value of a parameter, NULL if the route has none by that name. */
const char *route_param(const RouteMatch *m, const char *name);

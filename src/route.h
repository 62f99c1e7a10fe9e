/* route.h: the route table engine: path decoding, matching, 404/405.
 *
 * Pure: a raw request path and method in, the matching row, the entry of
 * the method and its decoded parameters out.  It knows no handler's meaning,
 * never calls a handler, does no I/O and never calls libvirt.  Tables are
 * static arrays owned by their users (api-routes.c): one row per path, one
 * handler and one role per method, so adding a route is one edit. */
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
    ROUTE_LEGACY_GET = 1u << 0, /* on POST: GET also performs it (API.md section 0) */
    ROUTE_INLINE = 1u << 1,     /* answered from memory on the HTTP thread */
    ROUTE_TRY_INLINE = 1u << 2, /* tried on the HTTP thread; the handler may defer
                                 * itself to a worker (api_defer) when it cannot
                                 * answer from memory */
    ROUTE_NO_DEFS = 1u << 3,    /* needs no machine definition (states and names
                                 * only): served while a host that just came up
                                 * still reads them (virt_defs_ready) */
};

#define ROUTE_MAX_PARAMS 4
/* One entry per method but HEAD (which GET implies): room for every method. */
#define ROUTE_MAX_METHODS 6

/* Handlers take the owner's request context.  route.h only declares it: the
 * router stores and returns handlers but never calls one or looks inside a
 * context, so it stays generic, while the owner (api.h defines struct Ctx)
 * writes rows of plain `void api_x(Ctx *c)` functions, type-checked, without
 * casts.  A `void (*)(void *)` would need a cast per row, and calling a
 * function through another type is undefined behaviour that clang's
 * -fsanitize=function reports.  Every tree of one dispatcher shares it. */
struct Ctx;
typedef void (*RouteHandler)(struct Ctx *c);

/* One method of a path: what serves it and who may. */
typedef struct RouteMethod {
    HttpMethod method;          /* one HTTP_*; a GET entry also serves HEAD */
    RouteHandler handler;
    int role;                   /* the role it needs (0 = the lowest) */
    unsigned flags;             /* ROUTE_* */
    const char *const *query;   /* accepted query keys, NULL-terminated, or NULL = none */
} RouteMethod;

/* A row per path.  A pattern is a path of literal segments and parameters:
 * "{name}" is a machine name (validated as API.md section 0 says), "{...}"
 * any other non-empty segment.  methods[] ends at the first entry without a
 * method, and names a method at most once. */
typedef struct Route {
    const char *pattern;
    RouteMethod methods[ROUTE_MAX_METHODS];
} Route;

/* The error body of a tree (API.md section 0 for /service and /api, section
 * 6 for Redfish): allocated, with its length; NULL when out of memory. */
typedef char *(*RouteErrorBody)(unsigned status, const char *message, size_t *ret_len);

typedef struct RouteTable {
    const Route *routes;
    size_t n_routes;
    /* The short machine path: "/<prefix>/<x>/..." with x not reserved is
     * "/<prefix>/<insert>/<x>/...". */
    const char *short_prefix;
    const char *short_insert;
    const char *const *reserved;
    /* The first segment of every path of the tree ("service"), or the
     * first two ("api/v3"). */
    const char *root;
    RouteErrorBody error_body;
    /* Headers on every answer of the tree, name and value in turn,
     * NULL-terminated (Redfish's OData-Version); may be NULL. */
    const char *const *headers;
    /* Whether method and raw path are readable without credentials (the
     * Redfish service root, its login); NULL: none is. */
    bool (*is_public)(HttpMethod method, const char *path);
    /* The handlers read the body themselves (Request.body), whatever its
     * Content-Type: vmpooler's clients send JSON as a form. */
    bool raw_body;
} RouteTable;

typedef enum RouteResult {
    ROUTE_FOUND,
    ROUTE_NOT_FOUND,   /* 404 */
    ROUTE_BAD_METHOD,  /* 405, allow lists the methods */
    ROUTE_BAD_REQUEST, /* 400, message says why */
} RouteResult;

/* Room for every method's name: an Allow list is never cut short. */
#define ROUTE_ALLOW_MAX sizeof("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")

typedef struct RouteMatch {
    const Route *route;                  /* the row: found, or ROUTE_BAD_METHOD */
    const RouteMethod *method;           /* the entry that serves the request */
    size_t n_params;
    char *param_names[ROUTE_MAX_PARAMS]; /* borrowed from the pattern copy */
    char *params[ROUTE_MAX_PARAMS];      /* decoded, owned */
    bool legacy_get;                     /* GET performing an action */
    char allow[ROUTE_ALLOW_MAX];         /* "GET, HEAD, POST" for 405 */
    char message[128];                   /* for 400 */
} RouteMatch;

/* Match a raw (still percent-encoded) path without its query string.
 * legacy_get lets GET perform the ROUTE_LEGACY_GET entry (a POST) where the
 * row has no GET of its own; HEAD never does. */
RouteResult route_match(const RouteTable *t, unsigned method, const char *raw_path,
                        bool legacy_get, RouteMatch *ret);
void route_match_clear(RouteMatch *m);
/* The decoded value of a parameter, NULL if the route has none by that name. */
const char *route_param(const RouteMatch *m, const char *name);

/* api-routes.h: the route tables of the /service and /api trees, as data.
 *
 * One row per path, one entry per method naming its handler and the role it
 * needs (route.h), and the tree's error body: adding a route is one edit in
 * api-routes.c.  The route tests and the fuzzer match against this very
 * table, linked with the handlers it names (libvirtmcd.a). */
#pragma once

#include "route.h"

extern const RouteTable api_route_table;
/* The /api tree: virtmapper's paths (/api/v1/vmap), same error body. */
extern const RouteTable api_v1_route_table;
/* /api/v3: vmpooler's paths (API.md section 12.1), its {"ok": false}
 * errors, its bodies read by the handlers. */
extern const RouteTable api_v3_route_table;
/* GET /metrics (API.md section 7): a tree of its own, with the /service
 * tree's error body and authentication. */
extern const RouteTable api_metrics_route_table;

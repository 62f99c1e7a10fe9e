/* api-routes.h: the route table of the /service tree, as data.
 *
 * One row per path, one entry per method naming its handler and the role it
 * needs (route.h), and the tree's error body: adding a route is one edit in
 * api-routes.c.  The route tests and the fuzzer match against this very
 * table, linked with the handlers it names (libvirtmcd.a). */
#pragma once

#include "route.h"

extern const RouteTable api_route_table;

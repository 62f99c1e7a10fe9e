/* api-routes.h: the route table of the resource tree, as data.
 *
 * Each route names its handler by number; api.c maps numbers to functions.
 * Keeping the table free of code lets the route tests and the fuzzer match
 * against the real table without linking libvirt. */
#pragma once

#include "route.h"

typedef enum ApiHandlerId {
    API_MACHINES_LIST,
    API_MACHINE_GET,
    API_MACHINE_STATUS,
    API_MACHINE_ACTION,
    API_BOOT,
    API_BACKUPS_LIST,
    API_BACKUP_GET,
    API_BACKUP_RESTORE,
    API_HEALTH,
    API_VERSION,
    _API_HANDLER_MAX,
} ApiHandlerId;

extern const RouteTable api_route_table;

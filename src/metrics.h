/* metrics.h: the counters behind GET /metrics and their Prometheus text.
 *
 * metrics owns every counter and gauge virtmcd exports and the text
 * exposition format (version 0.0.4) they are served in.  It knows no route,
 * host or libvirt: callers hand it static label values (requests), short
 * strings (hosts, pools) and, at scrape time, a snapshot of what lives
 * elsewhere (hosts up, machines by state, the configured pools), so a scrape
 * never makes a libvirt call.
 *
 * Threads: every function may be called from any thread, at any time.  The
 * request path (metrics_request) takes no lock and no locked instruction:
 * each thread counts into a shard of its own, which only it writes and which
 * metrics_render sums.  The other counters are lock-free atomics in tables
 * of fixed size; label values longer than METRICS_LABEL_MAX bytes are cut,
 * and a series that finds no free slot is counted in
 * virtmcd_metrics_series_dropped_total instead of being lost silently. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_LABEL_MAX 128

/* Record the process start time (main, before anything is counted). */
void metrics_init(void);

/* One answered request.  route and method must be static strings (they are
 * compared by address): the route template of the matched row
 * ("/service/machines/{name}/state_controller/status"), or NULL for a
 * request answered before or without a route (shown as route="none"). */
void metrics_request(const char *route, const char *method, unsigned status, uint64_t usec);

/* One libvirt operation on a host ("define", "power_on", "connect"); failed
 * counts an error too. */
void metrics_libvirt_call(const char *host, const char *op, bool failed);
/* A libvirt error seen outside a counted operation. */
void metrics_libvirt_error(const char *host, const char *op);
/* A boot order changed ("pxeboot", ...; once or persistent). */
void metrics_boot_change(const char *action, bool once);
/* A definition backup written, or one that could not be. */
void metrics_backup_written(bool ok);
/* A refused authentication: scheme "digest", "basic", "token", "password",
 * "none"; reason "bad_credentials", "stale_nonce", "basic_refused",
 * "bad_token", "throttled", "not_allowed". */
void metrics_auth_failure(const char *scheme, const char *reason);

/* The pool manager's view of one pool (API.md section 5).  Pools that the
 * configuration lists are exported at 0 until their first call. */
void metrics_pool_set(const char *pool, unsigned ready, unsigned pending, unsigned running);

/* What a scrape reads from elsewhere, gathered by the caller from memory. */
typedef struct MetricsHost {
    const char *name;
    bool up;
    const size_t *machines; /* one count per state of MetricsSnapshot.states */
} MetricsHost;

typedef struct MetricsSnapshot {
    const char *version;            /* virtmcd_build_info */
    const MetricsHost *hosts;
    size_t n_hosts;
    const char *const *states;      /* the machine states, in order */
    size_t n_states;
    const char *const *pools;       /* the configured pools */
    size_t n_pools;
} MetricsSnapshot;

/* The whole exposition, NUL-terminated; NULL when out of memory. */
char *metrics_render(const MetricsSnapshot *s, size_t *ret_len);

/* Tests only: forget every count (no thread may be counting). */
void metrics_reset(void);

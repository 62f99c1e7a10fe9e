/* metrics.c: virtmcd's counters and the Prometheus text exposition format.
 *
 * Owns the counters and their text; must never call libvirt, take a lock on
 * the request path, or keep a label value it was not given a bound for.
 *
 * Requests (the hot path, ~100k/s): each thread counts into a shard of its
 * own, found through a thread-local pointer; only the owner writes a shard,
 * with plain relaxed loads and stores (no locked instruction), and a scrape
 * reads them with relaxed loads.  A slot's key is published by a release
 * store of its route pointer, after its method and status are written.  The
 * shard list's lock is taken once per thread (its first request) and by
 * scrapes.  Everything else is rarer and counts with atomic adds into
 * fixed tables whose slots are claimed by compare-and-swap. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "util.h"

/* ---- requests: per-thread shards ---- */

/* Upper bounds of the duration buckets, in microseconds and as written:
 * status from memory takes tens of microseconds, a libvirt round trip
 * milliseconds, a forced power-off seconds. */
static const uint64_t bucket_usec[] = { 100,    250,    500,     1000,    2500,    5000,
                                        10000,  25000,  50000,   100000,  250000,  500000,
                                        1000000, 2500000, 5000000, 10000000 };
static const char *const bucket_le[] = { "0.0001", "0.00025", "0.0005", "0.001",
                                         "0.0025", "0.005",   "0.01",   "0.025",
                                         "0.05",   "0.1",     "0.25",   "0.5",
                                         "1",      "2.5",     "5",      "10" };
#define N_BUCKETS ELEMENTSOF(bucket_usec)

#define REQ_SLOTS 1024 /* route x method x status seen by one thread */
#define HIST_SLOTS 256 /* routes seen by one thread */

static const char route_none[] = "none";

typedef struct ReqSlot {
    _Atomic(const char *) route; /* NULL: free; published last */
    const char *method;
    unsigned status;
    _Atomic uint64_t count;
} ReqSlot;

typedef struct HistSlot {
    _Atomic(const char *) route;
    _Atomic uint64_t sum_usec;
    _Atomic uint64_t buckets[N_BUCKETS + 1]; /* per bucket, not cumulative; last: +Inf */
} HistSlot;

typedef struct Shard {
    ReqSlot req[REQ_SLOTS];
    HistSlot hist[HIST_SLOTS];
    struct Shard *next;
} Shard;

/* The shards, newest first; shards_lock guards the list (not the counts). */
static pthread_mutex_t shards_lock = PTHREAD_MUTEX_INITIALIZER;
static Shard *shards;
static _Thread_local Shard *my_shard;

static _Atomic uint64_t dropped_total;
static _Atomic uint64_t start_time_usec;

/* Only the owning thread writes: no read-modify-write needed. */
static inline void own_add(_Atomic uint64_t *p, uint64_t n)
{
    atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline size_t mix(uintptr_t a, uintptr_t b, unsigned c)
{
    uint64_t h = (uint64_t)a * 0x9e3779b97f4a7c15ull;

    h ^= (uint64_t)b * 0xc2b2ae3d27d4eb4full;
    h ^= (uint64_t)c * 0x165667b19e3779f9ull;
    return (size_t)(h ^ (h >> 29));
}

static Shard *shard_get(void)
{
    Shard *s = my_shard;

    if (s)
        return s;
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    pthread_mutex_lock(&shards_lock);
    s->next = shards;
    shards = s;
    pthread_mutex_unlock(&shards_lock);
    my_shard = s;
    return s;
}

void metrics_request(const char *route, const char *method, unsigned status, uint64_t usec)
{
    Shard *s = shard_get();
    size_t i, b;

    if (!s) {
        atomic_fetch_add(&dropped_total, 1);
        return;
    }
    if (!route)
        route = route_none;
    if (!method)
        method = "OTHER";

    i = mix((uintptr_t)route, (uintptr_t)method, status);
    for (size_t n = 0;; n++, i++) {
        ReqSlot *r = &s->req[i % REQ_SLOTS];
        const char *k = atomic_load_explicit(&r->route, memory_order_relaxed);

        if (n == REQ_SLOTS) {
            atomic_fetch_add(&dropped_total, 1);
            break;
        }
        if (!k) {
            r->method = method;
            r->status = status;
            atomic_store_explicit(&r->route, route, memory_order_release);
            k = route;
        }
        if (k == route && r->method == method && r->status == status) {
            own_add(&r->count, 1);
            break;
        }
    }

    for (b = 0; b < N_BUCKETS && usec > bucket_usec[b]; b++)
        ;
    i = mix((uintptr_t)route, 0, 0);
    for (size_t n = 0;; n++, i++) {
        HistSlot *h = &s->hist[i % HIST_SLOTS];
        const char *k = atomic_load_explicit(&h->route, memory_order_relaxed);

        if (n == HIST_SLOTS) {
            atomic_fetch_add(&dropped_total, 1);
            break;
        }
        if (!k) {
            atomic_store_explicit(&h->route, route, memory_order_release);
            k = route;
        }
        if (k == route) {
            own_add(&h->buckets[b], 1);
            own_add(&h->sum_usec, usec);
            break;
        }
    }
}

/* ---- the other counters: shared tables, claimed by CAS ---- */

enum { SLOT_FREE, SLOT_FILLING, SLOT_READY };

typedef struct Series {
    _Atomic int state;
    char a[METRICS_LABEL_MAX];
    char b[METRICS_LABEL_MAX];
    _Atomic uint64_t v[3];
} Series;

#define TABLE(name, n)                                                                        \
    static Series name##_slots[n];                                                            \
    static const size_t name##_n = n

TABLE(libvirt, 512); /* host x op: v[0] calls, v[1] errors */
TABLE(auth, 64);     /* scheme x reason */
TABLE(boot, 32);     /* action x once */
TABLE(pool, 128);    /* pool: v[0] ready, v[1] pending, v[2] running */

static _Atomic uint64_t backups_ok, backups_failed;

static size_t hash_str(const char *s, size_t h)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* The series of (a, b), claimed when new; NULL when the table is full. */
static Series *series_get(Series *t, size_t n, const char *a_in, const char *b_in)
{
    char a[METRICS_LABEL_MAX], b[METRICS_LABEL_MAX];
    size_t i;

    snprintf(a, sizeof(a), "%s", a_in ? a_in : "");
    snprintf(b, sizeof(b), "%s", b_in ? b_in : "");
    i = hash_str(b, hash_str(a, 0xcbf29ce484222325ull));
    for (size_t k = 0; k < n; k++, i++) {
        Series *s = &t[i % n];
        int st = atomic_load_explicit(&s->state, memory_order_acquire);

        if (st == SLOT_FREE) {
            int expected = SLOT_FREE;

            if (atomic_compare_exchange_strong(&s->state, &expected, SLOT_FILLING)) {
                memcpy(s->a, a, sizeof(a));
                memcpy(s->b, b, sizeof(b));
                atomic_store_explicit(&s->state, SLOT_READY, memory_order_release);
                return s;
            }
            st = expected;
        }
        /* Another thread is filling it: a few stores away. */
        while (st == SLOT_FILLING) {
            sched_yield();
            st = atomic_load_explicit(&s->state, memory_order_acquire);
        }
        if (streq(s->a, a) && streq(s->b, b))
            return s;
    }
    atomic_fetch_add(&dropped_total, 1);
    return NULL;
}

#define SERIES(name, a, b) series_get(name##_slots, name##_n, (a), (b))

void metrics_init(void)
{
    atomic_store(&start_time_usec, realtime_usec());
}

void metrics_libvirt_call(const char *host, const char *op, bool failed)
{
    Series *s = SERIES(libvirt, host, op);

    if (!s)
        return;
    atomic_fetch_add_explicit(&s->v[0], 1, memory_order_relaxed);
    if (failed)
        atomic_fetch_add_explicit(&s->v[1], 1, memory_order_relaxed);
}

void metrics_libvirt_error(const char *host, const char *op)
{
    Series *s = SERIES(libvirt, host, op);

    if (s)
        atomic_fetch_add_explicit(&s->v[1], 1, memory_order_relaxed);
}

void metrics_boot_change(const char *action, bool once)
{
    Series *s = SERIES(boot, action, once ? "true" : "false");

    if (s)
        atomic_fetch_add_explicit(&s->v[0], 1, memory_order_relaxed);
}

void metrics_backup_written(bool ok)
{
    atomic_fetch_add_explicit(ok ? &backups_ok : &backups_failed, 1, memory_order_relaxed);
}

void metrics_auth_failure(const char *scheme, const char *reason)
{
    Series *s = SERIES(auth, scheme, reason);

    if (s)
        atomic_fetch_add_explicit(&s->v[0], 1, memory_order_relaxed);
}

void metrics_pool_set(const char *pool, unsigned ready, unsigned pending, unsigned running)
{
    Series *s = SERIES(pool, pool, "");

    if (!s)
        return;
    atomic_store_explicit(&s->v[0], ready, memory_order_relaxed);
    atomic_store_explicit(&s->v[1], pending, memory_order_relaxed);
    atomic_store_explicit(&s->v[2], running, memory_order_relaxed);
}

void metrics_reset(void)
{
    Shard *s;

    pthread_mutex_lock(&shards_lock);
    for (s = shards; s; s = s->next) {
        Shard *next = s->next;

        memset(s, 0, sizeof(*s));
        s->next = next;
    }
    pthread_mutex_unlock(&shards_lock);
    memset(libvirt_slots, 0, sizeof(libvirt_slots));
    memset(auth_slots, 0, sizeof(auth_slots));
    memset(boot_slots, 0, sizeof(boot_slots));
    memset(pool_slots, 0, sizeof(pool_slots));
    atomic_store(&backups_ok, 0);
    atomic_store(&backups_failed, 0);
    atomic_store(&dropped_total, 0);
}

/* ---- the text ---- */

static void family(Buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and line feed escaped. */
static void label(Buf *b, const char *name, const char *value, bool first)
{
    const char *p = value, *q;

    buf_printf(b, "%s%s=\"", first ? "" : ",", name);
    for (q = p; *q; q++) {
        const char *esc = *q == '\\' ? "\\\\" : *q == '"' ? "\\\"" : *q == '\n' ? "\\n" : NULL;

        if (esc) {
            buf_append(b, p, (size_t)(q - p));
            buf_puts(b, esc);
            p = q + 1;
        }
    }
    buf_append(b, p, (size_t)(q - p));
    buf_puts(b, "\"");
}

typedef struct ReqRow {
    const char *route;
    const char *method;
    unsigned status;
    uint64_t count;
} ReqRow;

typedef struct HistRow {
    const char *route;
    uint64_t sum_usec;
    uint64_t buckets[N_BUCKETS + 1];
} HistRow;

static int req_row_cmp(const void *x, const void *y)
{
    const ReqRow *a = x, *b = y;
    int r = strcmp(a->route, b->route);

    if (!r)
        r = strcmp(a->method, b->method);
    return r ? r : (a->status > b->status) - (a->status < b->status);
}

static int hist_row_cmp(const void *x, const void *y)
{
    return strcmp(((const HistRow *)x)->route, ((const HistRow *)y)->route);
}

/* Every shard's rows, merged (equal keys summed), sorted. */
static int gather_requests(ReqRow **ret_req, size_t *ret_nreq, HistRow **ret_hist,
                           size_t *ret_nhist)
{
    size_t n_shards = 0, nr = 0, nh = 0, out;
    ReqRow *req = NULL;
    HistRow *hist = NULL;
    Shard *s;

    pthread_mutex_lock(&shards_lock);
    for (s = shards; s; s = s->next)
        n_shards++;
    if (n_shards) {
        req = calloc(n_shards * REQ_SLOTS, sizeof(*req));
        hist = calloc(n_shards * HIST_SLOTS, sizeof(*hist));
        if (!req || !hist) {
            pthread_mutex_unlock(&shards_lock);
            free(req);
            free(hist);
            return -ENOMEM;
        }
    }
    for (s = shards; s; s = s->next) {
        for (size_t i = 0; i < REQ_SLOTS; i++) {
            const ReqSlot *r = &s->req[i];
            const char *route = atomic_load_explicit(&r->route, memory_order_acquire);

            if (!route)
                continue;
            req[nr++] = (ReqRow){ route, r->method, r->status,
                                  atomic_load_explicit(&r->count, memory_order_relaxed) };
        }
        for (size_t i = 0; i < HIST_SLOTS; i++) {
            const HistSlot *h = &s->hist[i];
            const char *route = atomic_load_explicit(&h->route, memory_order_acquire);

            if (!route)
                continue;
            hist[nh].route = route;
            hist[nh].sum_usec = atomic_load_explicit(&h->sum_usec, memory_order_relaxed);
            for (size_t k = 0; k <= N_BUCKETS; k++)
                hist[nh].buckets[k] = atomic_load_explicit(&h->buckets[k],
                                                           memory_order_relaxed);
            nh++;
        }
    }
    pthread_mutex_unlock(&shards_lock);

    if (nr)
        qsort(req, nr, sizeof(*req), req_row_cmp);
    out = 0;
    for (size_t i = 0; i < nr; i++) {
        if (out && req_row_cmp(&req[out - 1], &req[i]) == 0)
            req[out - 1].count += req[i].count;
        else
            req[out++] = req[i];
    }
    nr = out;
    if (nh)
        qsort(hist, nh, sizeof(*hist), hist_row_cmp);
    out = 0;
    for (size_t i = 0; i < nh; i++) {
        if (out && hist_row_cmp(&hist[out - 1], &hist[i]) == 0) {
            hist[out - 1].sum_usec += hist[i].sum_usec;
            for (size_t k = 0; k <= N_BUCKETS; k++)
                hist[out - 1].buckets[k] += hist[i].buckets[k];
        } else
            hist[out++] = hist[i];
    }
    *ret_req = req;
    *ret_nreq = nr;
    *ret_hist = hist;
    *ret_nhist = out;
    return 0;
}

static int series_cmp(const void *x, const void *y)
{
    const Series *a = *(const Series *const *)x, *b = *(const Series *const *)y;
    int r = strcmp(a->a, b->a);

    return r ? r : strcmp(a->b, b->b);
}

/* The ready slots of a table, sorted by their labels. */
static const Series **series_sorted(const Series *t, size_t n, size_t *ret_n)
{
    const Series **v = calloc(n ? n : 1, sizeof(*v));
    size_t k = 0;

    if (!v)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (atomic_load_explicit(&t[i].state, memory_order_acquire) == SLOT_READY)
            v[k++] = &t[i];
    if (k)
        qsort(v, k, sizeof(*v), series_cmp);
    *ret_n = k;
    return v;
}

static void render_requests(Buf *b)
{
    _cleanup_free_ ReqRow *req = NULL;
    _cleanup_free_ HistRow *hist = NULL;
    size_t nr = 0, nh = 0;

    if (gather_requests(&req, &nr, &hist, &nh) < 0) {
        b->oom = true;
        return;
    }
    family(b, "virtmcd_http_requests_total", "counter",
           "HTTP requests answered, by route template, method and status.");
    for (size_t i = 0; i < nr; i++) {
        buf_puts(b, "virtmcd_http_requests_total{");
        label(b, "route", req[i].route, true);
        label(b, "method", req[i].method, false);
        buf_printf(b, ",status=\"%u\"} %llu\n", req[i].status,
                   (unsigned long long)req[i].count);
    }
    family(b, "virtmcd_http_request_duration_seconds", "histogram",
           "Time from a request's headers to its completion, by route template.");
    for (size_t i = 0; i < nh; i++) {
        uint64_t cum = 0;

        for (size_t k = 0; k <= N_BUCKETS; k++) {
            cum += hist[i].buckets[k];
            buf_puts(b, "virtmcd_http_request_duration_seconds_bucket{");
            label(b, "route", hist[i].route, true);
            buf_printf(b, ",le=\"%s\"} %llu\n", k < N_BUCKETS ? bucket_le[k] : "+Inf",
                       (unsigned long long)cum);
        }
        buf_puts(b, "virtmcd_http_request_duration_seconds_sum{");
        label(b, "route", hist[i].route, true);
        buf_printf(b, "} %llu.%06llu\n", (unsigned long long)(hist[i].sum_usec / 1000000),
                   (unsigned long long)(hist[i].sum_usec % 1000000));
        buf_puts(b, "virtmcd_http_request_duration_seconds_count{");
        label(b, "route", hist[i].route, true);
        buf_printf(b, "} %llu\n", (unsigned long long)cum);
    }
}

/* One family of a two-label table: value v[idx] of every series. */
static void render_table(Buf *b, const Series *const *v, size_t n, const char *name,
                         const char *la, const char *lb, size_t idx)
{
    for (size_t i = 0; i < n; i++) {
        buf_printf(b, "%s{", name);
        label(b, la, v[i]->a, true);
        if (lb)
            label(b, lb, v[i]->b, false);
        buf_printf(b, "} %llu\n",
                   (unsigned long long)atomic_load_explicit(&v[i]->v[idx],
                                                            memory_order_relaxed));
    }
}

static const Series *pool_find(const Series *const *v, size_t n, const char *pool)
{
    for (size_t i = 0; i < n; i++)
        if (strncmp(v[i]->a, pool, METRICS_LABEL_MAX - 1) == 0)
            return v[i];
    return NULL;
}

char *metrics_render(const MetricsSnapshot *snap, size_t *ret_len)
{
    static const char *const pool_families[][2] = {
        { "virtmcd_pool_ready", "Ready clones waiting in each configured pool." },
        { "virtmcd_pool_pending", "Clones of each configured pool still starting." },
        { "virtmcd_pool_running", "Checked-out machines of each configured pool." },
    };
    _cleanup_free_ const Series **lv = NULL, **av = NULL, **bv = NULL, **pv = NULL;
    size_t nl = 0, na = 0, nb = 0, np = 0, up = 0;
    uint64_t start = atomic_load(&start_time_usec);
    Buf b = { 0 };
    char *out;

    lv = series_sorted(libvirt_slots, libvirt_n, &nl);
    av = series_sorted(auth_slots, auth_n, &na);
    bv = series_sorted(boot_slots, boot_n, &nb);
    pv = series_sorted(pool_slots, pool_n, &np);
    if (!lv || !av || !bv || !pv)
        return NULL;

    family(&b, "virtmcd_build_info", "gauge", "Always 1: the version of virtmcd running.");
    buf_puts(&b, "virtmcd_build_info{");
    label(&b, "version", snap->version ? snap->version : "", true);
    buf_puts(&b, "} 1\n");
    family(&b, "virtmcd_process_start_time_seconds", "gauge",
           "Start time of the process since the Unix epoch, in seconds.");
    buf_printf(&b, "virtmcd_process_start_time_seconds %llu.%06llu\n",
               (unsigned long long)(start / 1000000), (unsigned long long)(start % 1000000));

    render_requests(&b);

    family(&b, "virtmcd_libvirt_calls_total", "counter",
           "libvirt operations (one or more libvirt API calls each), by host and operation.");
    render_table(&b, lv, nl, "virtmcd_libvirt_calls_total", "host", "op", 0);
    family(&b, "virtmcd_libvirt_errors_total", "counter",
           "libvirt operations that met a libvirt error, by host and operation.");
    render_table(&b, lv, nl, "virtmcd_libvirt_errors_total", "host", "op", 1);

    for (size_t i = 0; i < snap->n_hosts; i++)
        up += snap->hosts[i].up;
    family(&b, "virtmcd_hosts_up", "gauge", "Hosts whose libvirt connection is up.");
    buf_printf(&b, "virtmcd_hosts_up %zu\n", up);
    family(&b, "virtmcd_host_up", "gauge", "1 when the host's libvirt connection is up, else 0.");
    for (size_t i = 0; i < snap->n_hosts; i++) {
        buf_puts(&b, "virtmcd_host_up{");
        label(&b, "host", snap->hosts[i].name, true);
        buf_printf(&b, "} %d\n", snap->hosts[i].up ? 1 : 0);
    }
    family(&b, "virtmcd_machines", "gauge",
           "Machines in the in-memory tables, by host and state (a down host: last known).");
    for (size_t i = 0; i < snap->n_hosts; i++)
        for (size_t k = 0; k < snap->n_states; k++) {
            buf_puts(&b, "virtmcd_machines{");
            label(&b, "host", snap->hosts[i].name, true);
            label(&b, "state", snap->states[k], false);
            buf_printf(&b, "} %zu\n", snap->hosts[i].machines ? snap->hosts[i].machines[k] : 0);
        }

    family(&b, "virtmcd_boot_changes_total", "counter",
           "Boot order changes written, by action and whether they apply once.");
    render_table(&b, bv, nb, "virtmcd_boot_changes_total", "action", "once", 0);
    family(&b, "virtmcd_backups_written_total", "counter",
           "Definition backups written before a redefinition.");
    buf_printf(&b, "virtmcd_backups_written_total %llu\n",
               (unsigned long long)atomic_load(&backups_ok));
    family(&b, "virtmcd_backup_failures_total", "counter",
           "Definition backups that could not be written (the change was refused).");
    buf_printf(&b, "virtmcd_backup_failures_total %llu\n",
               (unsigned long long)atomic_load(&backups_failed));
    family(&b, "virtmcd_auth_failures_total", "counter",
           "Refused authentications, by scheme and reason.");
    render_table(&b, av, na, "virtmcd_auth_failures_total", "scheme", "reason", 0);

    for (size_t f = 0; f < ELEMENTSOF(pool_families); f++) {
        family(&b, pool_families[f][0], "gauge", pool_families[f][1]);
        for (size_t i = 0; i < snap->n_pools; i++) {
            const Series *s = pool_find(pv, np, snap->pools[i]);

            buf_printf(&b, "%s{", pool_families[f][0]);
            label(&b, "pool", snap->pools[i], true);
            buf_printf(&b, "} %llu\n",
                       s ? (unsigned long long)atomic_load_explicit(&s->v[f],
                                                                    memory_order_relaxed)
                         : 0ull);
        }
    }

    family(&b, "virtmcd_metrics_series_dropped_total", "counter",
           "Counts not kept because a metrics table was full or memory ran out.");
    buf_printf(&b, "virtmcd_metrics_series_dropped_total %llu\n",
               (unsigned long long)atomic_load(&dropped_total));

    if (ret_len)
        *ret_len = b.len;
    out = buf_steal(&b);
    return out;
}

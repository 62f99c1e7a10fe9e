/* virt.c: hosts, connections, events and the machine table.
 *
 * Owns the libvirt connections (one per host), libvirt's event loop thread,
 * one monitor thread per host that (re)connects with backoff, one event
 * thread that turns lifecycle events into table updates, and the per-machine
 * locks.  It must never block a reader on libvirt: the table lock is never
 * held across a libvirt call, and a host that is down answers -ENOTCONN at
 * once instead of trying to reach it. */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "strtable.h"
#include "util.h"
#include "virt-private.h"
#include "xmlns.h"

#define BACKOFF_MIN_MS 250u
#define BACKOFF_MAX_MS 10000u
#define KEEPALIVE_INTERVAL 2
#define KEEPALIVE_COUNT 3
/* How often a monitor re-reads its host's free memory while it is up. */
#define FREE_MEMORY_POLL_MS 5000u

/* The domain events a host's connection follows (domain_events). */
#define N_DOMAIN_EVENTS 5

/* A row of a host's machine table: the machine, and what its definition in
 * use (live when active, else persistent) says, for the inventory. */
typedef struct Row {
    Machine m;
    DomInfo *info;     /* NULL when the definition could not be read (or, while
                        * the host is filling, is not read yet) */
    uint64_t info_seq; /* the read seq of info: an older read never replaces it */
} Row;

struct Host {
    char *name;
    char *uri;
    char *uri_shown; /* without credentials: for clients */

    /* lock guards conn, up, machines, next_attempt_usec, node, down_since_usec,
     * last_error. */
    pthread_rwlock_t lock;
    virConnectPtr conn;
    int event_cbs[N_DOMAIN_EVENTS]; /* domain_events' callback ids; -1 when not registered */
    bool up;
    uint64_t next_attempt_usec;
    Row *rows; /* sorted by name */
    size_t n_rows;
    bool filling;             /* rows have their states; definitions are being read */
    HostNode node;            /* virt-host.c: the last known node facts */
    uint64_t down_since_usec; /* realtime; 0 while up */
    char *last_error;         /* why it is down */

    /* mon_lock guards the monitor's wake-up and first-attempt flags. */
    pthread_mutex_t mon_lock;
    pthread_cond_t mon_cond;
    bool wake;
    bool first_attempt_done;
    pthread_t monitor;
    /* What the monitor is doing in libvirt, for the log of a stop that
     * cannot wait for it; a static string or NULL. */
    const char *_Atomic mon_doing;
    /* The monitor's: the domains whose definitions the fill reads after a
     * (re)connect (table_rebuild -> host_fill). */
    virDomainPtr *fill_doms;
    size_t n_fill_doms;
};

static Host **hosts;
static size_t n_hosts;
static _Atomic bool stopping;
static pthread_t event_loop_thread;
/* Orders table reads: a row read earlier never replaces one read later. */
static _Atomic uint64_t read_seq;
/* Hosts that are up with definitions still to read (Host.filling); waiters
 * of virt_defs_wait() sleep on fill_cond. */
static _Atomic unsigned n_filling;
static pthread_mutex_t fill_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fill_cond = PTHREAD_COND_INITIALIZER;

static void event_push(Host *h, virDomainPtr dom, VirtEventKind kind);

/* Observers: registered before virt_init, read by the event thread only. */
#define MAX_OBSERVERS 8
static struct {
    VirtObserver fn;
    void *userdata;
} observers[MAX_OBSERVERS];
static size_t n_observers;

/* The event queue: domain and host events handed from libvirt's loop and the
 * monitors to our event thread, one lock. */
typedef struct EventItem {
    Host *host;
    virDomainPtr dom;      /* NULL for a host event */
    VirtEventKind kind;
    struct EventItem *next;
} EventItem;
static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ev_cond = PTHREAD_COND_INITIALIZER;
static EventItem *ev_head, *ev_tail;
static pthread_t event_thread;
/* The machine the event thread is refreshing (a static buffer, for the log
 * of a stop that cannot wait for it); guarded by ev_lock. */
static char ev_doing[256];

static const char *const machine_state_table[_MACHINE_STATE_MAX] = {
    [MACHINE_NOSTATE] = "no state",         [MACHINE_RUNNING] = "running",
    [MACHINE_IDLE] = "idle",                [MACHINE_PAUSED] = "paused",
    [MACHINE_IN_SHUTDOWN] = "in shutdown",  [MACHINE_SHUT_OFF] = "shut off",
    [MACHINE_CRASHED] = "crashed",          [MACHINE_PMSUSPENDED] = "pmsuspended",
};
DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(machine_state, machine_state_table, MachineState, )

/* Never NULL: a state libvirt adds later reads as virsh's "no state". */
const char *machine_state_to_string(MachineState s)
{
    return s >= 0 && s < _MACHINE_STATE_MAX ? machine_state_table[s] : "no state";
}

static const char *const virt_event_kind_table[_VIRT_EVENT_KIND_MAX] = {
    [VIRT_EVENT_DEFINED] = "defined",         [VIRT_EVENT_UNDEFINED] = "undefined",
    [VIRT_EVENT_STARTED] = "started",         [VIRT_EVENT_SUSPENDED] = "suspended",
    [VIRT_EVENT_RESUMED] = "resumed",         [VIRT_EVENT_STOPPED] = "stopped",
    [VIRT_EVENT_SHUTDOWN] = "shutdown",       [VIRT_EVENT_PMSUSPENDED] = "pmsuspended",
    [VIRT_EVENT_CRASHED] = "crashed",         [VIRT_EVENT_METADATA] = "metadata",
    [VIRT_EVENT_REBOOT] = "reboot",           [VIRT_EVENT_DEVICE] = "device",
    [VIRT_EVENT_HOST_UP] = "host up",         [VIRT_EVENT_HOST_DOWN] = "host down",
};
DEFINE_STRING_TABLE_LOOKUP_TO_STRING(virt_event_kind, virt_event_kind_table, VirtEventKind, )

bool machine_state_is_active(MachineState s)
{
    return s == MACHINE_RUNNING || s == MACHINE_IDLE || s == MACHINE_PAUSED ||
           s == MACHINE_IN_SHUTDOWN || s == MACHINE_PMSUSPENDED || s == MACHINE_CRASHED;
}

MachineState machine_state_from_libvirt(int state)
{
    switch (state) {
    case VIR_DOMAIN_RUNNING:
        return MACHINE_RUNNING;
    case VIR_DOMAIN_BLOCKED:
        return MACHINE_IDLE;
    case VIR_DOMAIN_PAUSED:
        return MACHINE_PAUSED;
    case VIR_DOMAIN_SHUTDOWN:
        return MACHINE_IN_SHUTDOWN;
    case VIR_DOMAIN_SHUTOFF:
        return MACHINE_SHUT_OFF;
    case VIR_DOMAIN_CRASHED:
        return MACHINE_CRASHED;
    case VIR_DOMAIN_PMSUSPENDED:
        return MACHINE_PMSUSPENDED;
    default:
        return MACHINE_NOSTATE;
    }
}

struct VirtOp {
    const char *host;
    const char *op;
    unsigned depth;
    bool failed;
};

static _Thread_local VirtOp cur_op;

VirtOp *virt_op_begin(const Host *h, const char *op)
{
    if (cur_op.depth++ == 0) {
        cur_op.host = virt_host_name(h);
        cur_op.op = op;
        cur_op.failed = false;
    }
    return &cur_op;
}

void virt_op_end(VirtOp **op)
{
    VirtOp *o = *op;

    if (o && --o->depth == 0)
        metrics_libvirt_call(o->host, o->op, o->failed);
}

void virt_op_forgive(void)
{
    cur_op.failed = false;
}

/* A libvirt error: the operation in progress failed (none: "other"). */
static void op_failed(void)
{
    if (cur_op.depth)
        cur_op.failed = true;
    else
        metrics_libvirt_error("unknown", "other");
}

int virt_errno(const char *what, const char *name)
{
    virErrorPtr e = virGetLastError();
    int r;

    op_failed();

    if (!e) {
        error_setf("Failed to %s %s", what, name ? name : "");
        return -EIO;
    }
    switch (e->code) {
    case VIR_ERR_NO_DOMAIN:
        r = -ENOENT;
        break;
    case VIR_ERR_OPERATION_INVALID:
        r = -EBUSY;
        break;
    case VIR_ERR_XML_ERROR:
    case VIR_ERR_XML_DETAIL:
    case VIR_ERR_INVALID_ARG:
    case VIR_ERR_CONFIG_UNSUPPORTED:
        r = -EINVAL;
        break;
    case VIR_ERR_NO_SUPPORT:
    case VIR_ERR_ARGUMENT_UNSUPPORTED:
        r = -EOPNOTSUPP;
        break;
    case VIR_ERR_OPERATION_DENIED:
    case VIR_ERR_AUTH_FAILED:
    case VIR_ERR_AUTH_CANCELLED:
    case VIR_ERR_ACCESS_DENIED:
        r = -EACCES;
        break;
    case VIR_ERR_NO_CONNECT:
    case VIR_ERR_INVALID_CONN:
    case VIR_ERR_RPC:
    case VIR_ERR_OPERATION_TIMEOUT:
    case VIR_ERR_AGENT_UNRESPONSIVE:
        r = -ENOTCONN;
        break;
    case VIR_ERR_SYSTEM_ERROR:
    case VIR_ERR_INTERNAL_ERROR:
        /* A connection that died mid-call reports itself this way. */
        r = (e->domain == VIR_FROM_RPC || e->domain == VIR_FROM_REMOTE) ? -ENOTCONN : -EIO;
        break;
    default:
        r = -EIO;
        break;
    }
    error_setf("%s", e->message ? e->message : "libvirt error");
    log_debug("libvirt: failed to %s %s: %s (code %d, domain %d)", what, name ? name : "",
              e->message ? e->message : "", e->code, e->domain);
    return r;
}

static bool verbose_libs;

static void silence_libvirt(void *userdata, virErrorPtr e)
{
    /* Errors are reported where they are handled (virt_errno); -vv shows
     * every one libvirt raises, handled or not. */
    if (verbose_libs)
        log_debug("libvirt error (code %d, domain %d): %s", e->code, e->domain,
                  e->message ? e->message : "");
}

void virt_set_verbose(bool on)
{
    verbose_libs = on;
}

/* ---- hosts ---- */

size_t virt_host_count(void)
{
    return n_hosts;
}

Host *virt_host_at(size_t i)
{
    return i < n_hosts ? hosts[i] : NULL;
}

Host *virt_host_find(const char *name)
{
    for (size_t i = 0; i < n_hosts; i++)
        if (streq(hosts[i]->name, name))
            return hosts[i];
    return NULL;
}

const char *virt_host_name(const Host *h)
{
    return h->name;
}

const char *virt_host_uri(const Host *h)
{
    return h->uri;
}

bool virt_host_up(const Host *h)
{
    bool up;

    pthread_rwlock_rdlock((pthread_rwlock_t *)&h->lock);
    up = h->up;
    pthread_rwlock_unlock((pthread_rwlock_t *)&h->lock);
    return up;
}

unsigned virt_host_retry_after(const Host *h)
{
    uint64_t next, now = now_usec();

    pthread_rwlock_rdlock((pthread_rwlock_t *)&h->lock);
    next = h->next_attempt_usec;
    pthread_rwlock_unlock((pthread_rwlock_t *)&h->lock);
    if (next <= now)
        return 1;
    return (unsigned)((next - now + 999999u) / 1000000u);
}

size_t virt_hosts_up(void)
{
    size_t n = 0;

    for (size_t i = 0; i < n_hosts; i++)
        if (virt_host_up(hosts[i]))
            n++;
    return n;
}

/* Free memory as known without a libvirt call; under h->lock.  libvirt's
 * figure when the driver gives one; else the node's memory less what the
 * active machines of the table are given (<memory>), an estimate. */
static int free_memory_locked(const Host *h, unsigned long long *ret_kib, bool *ret_estimated)
{
    unsigned long long used = 0;

    if (h->node.has_free_memory) {
        *ret_kib = h->node.free_memory_kib;
        *ret_estimated = false;
        return 0;
    }
    if (!h->node.memory_kib)
        return -ENODATA;
    /* Not before the table knows what every active machine is given. */
    if (h->filling)
        return -EAGAIN;
    for (size_t k = 0; k < h->n_rows; k++)
        if (machine_state_is_active(h->rows[k].m.state) && h->rows[k].info)
            used += h->rows[k].info->memory_kib;
    *ret_kib = used < h->node.memory_kib ? h->node.memory_kib - used : 0;
    *ret_estimated = true;
    return 0;
}

int virt_host_free_memory(const Host *h, unsigned long long *ret_kib, bool *ret_estimated)
{
    int r;

    pthread_rwlock_rdlock((pthread_rwlock_t *)&h->lock);
    r = free_memory_locked(h, ret_kib, ret_estimated);
    pthread_rwlock_unlock((pthread_rwlock_t *)&h->lock);
    return r;
}

int virt_host_info(const Host *h, VirtHostInfo *ret)
{
    _cleanup_(virt_host_info_clear) VirtHostInfo info = { 0 };
    int r;

    info.name = strdup(h->name);
    info.uri = strdup(h->uri_shown);
    if (!info.name || !info.uri)
        return -ENOMEM;
    pthread_rwlock_rdlock((pthread_rwlock_t *)&h->lock);
    info.up = h->up;
    info.stale = !h->up;
    info.reading_definitions = h->up && h->filling;
    r = host_node_to_info(&h->node, &info);
    info.has_free_memory =
        free_memory_locked(h, &info.free_memory_kib, &info.free_memory_estimated) >= 0;
    if (!h->up) {
        info.down_since_usec = h->down_since_usec;
        if (h->last_error && !(info.last_error = strdup(h->last_error)))
            r = -ENOMEM;
    }
    info.guests = calloc(h->n_rows + 1, sizeof(char *));
    if (!info.guests)
        r = -ENOMEM;
    for (size_t k = 0; r >= 0 && k < h->n_rows; k++)
        if (!(info.guests[k] = strdup(h->rows[k].m.name)))
            r = -ENOMEM;
    pthread_rwlock_unlock((pthread_rwlock_t *)&h->lock);
    if (r < 0)
        return r;
    *ret = info;
    info = (VirtHostInfo){ 0 };
    return 0;
}

static char version_buf[32];
static pthread_once_t version_once = PTHREAD_ONCE_INIT;

static void version_init(void)
{
    unsigned long v = 0;

    (void)virGetVersion(&v, NULL, NULL);
    snprintf(version_buf, sizeof(version_buf), "%lu.%lu.%lu", v / 1000000, v / 1000 % 1000,
             v % 1000);
}

const char *virt_library_version(void)
{
    (void)pthread_once(&version_once, version_init);
    return version_buf;
}

virConnectPtr virt_host_conn(Host *h)
{
    virConnectPtr c = NULL;

    pthread_rwlock_rdlock(&h->lock);
    if (h->up && h->conn) {
        c = h->conn;
        virConnectRef(c);
    }
    pthread_rwlock_unlock(&h->lock);
    if (!c) {
        op_failed();
        error_setf("host '%s' (%s) is unreachable", h->name, h->uri_shown);
    }
    return c;
}

virDomainPtr virt_lookup(Host *h, const char *name, int *ret_error)
{
    _cleanup_(virConnectClosep) virConnectPtr c = virt_host_conn(h);
    virDomainPtr dom;

    if (!c) {
        *ret_error = -ENOTCONN;
        return NULL;
    }
    dom = virDomainLookupByName(c, name);
    if (!dom) {
        *ret_error = virt_errno("look up", name);
        if (*ret_error == -ENOENT)
            error_setf("machine '%s' not found", name);
    }
    return dom;
}

/* ---- the machine table ---- */

static int row_cmp(const void *a, const void *b)
{
    const Machine *x = &((const Row *)a)->m, *y = &((const Row *)b)->m;

    return strcmp(x->name, y->name);
}

static int machine_cmp(const void *a, const void *b)
{
    int c = strcmp(((const Machine *)a)->name, ((const Machine *)b)->name);

    return c ? c : strcmp(virt_host_name(((const Machine *)a)->host),
                          virt_host_name(((const Machine *)b)->host));
}

static int idx_cmp(const void *a, const void *b, void *rows)
{
    const Row *r = rows;

    return row_cmp(&r[*(const size_t *)a], &r[*(const size_t *)b]);
}

static ssize_t table_index(const Host *h, const char *name)
{
    size_t lo = 0, hi = h->n_rows;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(h->rows[mid].m.name, name);

        if (c == 0)
            return (ssize_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* The definition in use, parsed: one more round trip, and what keeps MACs,
 * disks, memory and metadata in the table, so that neither a start guard
 * nor a filtered list ever reads a definition per machine.  NULL when it
 * cannot be read (the row is still good). */
static DomInfo *info_read(virDomainPtr dom, const char *name)
{
    _cleanup_free_ char *xml = virDomainGetXMLDesc(dom, 0);
    DomInfo *info = NULL;

    if (!xml) {
        log_debug("Cannot read the definition of '%s': %s", name, virGetLastErrorMessage());
        return NULL;
    }
    if (domxml_parse(xml, &info) < 0)
        log_debug("Cannot parse the definition of '%s'", name);
    return info;
}

/* Read one domain's row.  Several round trips; never under the table lock. */
static int machine_read(Host *h, virDomainPtr dom, Machine *ret, DomInfo **ret_info)
{
    Machine m = { .host = h, .id = -1, .seq = atomic_fetch_add(&read_seq, 1) + 1 };
    const char *name = virDomainGetName(dom);
    int state, reason, persistent;

    if (!name)
        return virt_errno("read the name of", "a domain");
    snprintf(m.name, sizeof(m.name), "%s", name);
    if (virDomainGetUUIDString(dom, m.uuid) < 0)
        return virt_errno("read the UUID of", name);
    if (virDomainGetState(dom, &state, &reason, 0) < 0)
        return virt_errno("read the state of", name);
    m.state = machine_state_from_libvirt(state);
    m.reason = reason;
    persistent = virDomainIsPersistent(dom);
    if (persistent < 0)
        return virt_errno("read the persistence of", name);
    m.persistent = persistent == 1;
    if (machine_state_is_active(m.state)) {
        unsigned id = virDomainGetID(dom);

        m.id = id == (unsigned)-1 ? -1 : (int)id;
    }
    if (ret_info)
        *ret_info = info_read(dom, name);
    *ret = m;
    return 0;
}

/* A row read before the one in the table (an event's read that raced an
 * action's) never replaces it.  Takes info (freed when not used). */
static void table_upsert(Host *h, const Machine *m, DomInfo *info)
{
    ssize_t i;

    pthread_rwlock_wrlock(&h->lock);
    i = table_index(h, m->name);
    if (i >= 0) {
        Row *row = &h->rows[i];

        if (row->m.seq <= m->seq)
            row->m = *m;
        if (row->info_seq <= m->seq) {
            dom_info_free(row->info);
            row->info = steal_ptr(&info);
            row->info_seq = m->seq;
        }
    } else {
        Row *nr = realloc(h->rows, (h->n_rows + 1) * sizeof(Row));

        if (nr) {
            size_t pos = 0;

            h->rows = nr;
            while (pos < h->n_rows && strcmp(nr[pos].m.name, m->name) < 0)
                pos++;
            memmove(&nr[pos + 1], &nr[pos], (h->n_rows - pos) * sizeof(Row));
            nr[pos] = (Row){ .m = *m, .info = steal_ptr(&info), .info_seq = m->seq };
            h->n_rows++;
        }
    }
    pthread_rwlock_unlock(&h->lock);
    dom_info_free(info);
}

static void table_remove(Host *h, const char *name, uint64_t seq)
{
    ssize_t i;
    DomInfo *gone = NULL;

    pthread_rwlock_wrlock(&h->lock);
    i = table_index(h, name);
    if (i >= 0 && h->rows[i].m.seq <= seq) {
        gone = h->rows[i].info;
        memmove(&h->rows[i], &h->rows[i + 1], (h->n_rows - (size_t)i - 1) * sizeof(Row));
        h->n_rows--;
    }
    pthread_rwlock_unlock(&h->lock);
    dom_info_free(gone);
}

static void rows_free(Row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dom_info_free(rows[i].info);
    free(rows);
}

/* ---- rebuilding the table ---- */

/* A (re)connect builds the table in two steps.  table_rebuild() lists the
 * domains and reads their states in one bulk call: the host is up and
 * answers status with that.  host_fill() then reads every definition (one
 * virDomainGetXMLDesc each: libvirt has no bulk call for it) while the host
 * serves; what needs a definition (owners, tags, MACs, disks, memory, pool
 * state) waits for virt_defs_ready().
 *
 * Definitions are read by a few threads at once over the one connection:
 * libvirt's client multiplexes calls, and the daemon answers them in
 * parallel.  10,000 domains over RPC: 22 s one by one, 3.3 s with 8 readers
 * (libvirtd hosting the test driver, loaded machine). */
#define REBUILD_READERS 8

typedef struct Rebuild {
    Host *h;
    virDomainPtr *doms;
    Row *rows; /* table_rebuild: the rows to read where !ok; NULL: host_fill */
    bool *ok;
    size_t n;
    _Atomic size_t next;
} Rebuild;

/* The fill's read of one definition: into the row of that name and UUID,
 * unless a later read (an event's, an action's) got there first. */
static void fill_one(Host *h, virDomainPtr dom)
{
    uint64_t seq = atomic_fetch_add(&read_seq, 1) + 1;
    const char *name = virDomainGetName(dom);
    char uuid[VIR_UUID_STRING_BUFLEN];
    DomInfo *info;
    ssize_t i;

    if (!name || virDomainGetUUIDString(dom, uuid) < 0)
        return;
    info = info_read(dom, name);
    pthread_rwlock_wrlock(&h->lock);
    i = table_index(h, name);
    if (i >= 0 && streq(h->rows[i].m.uuid, uuid) && h->rows[i].info_seq <= seq) {
        Row *row = &h->rows[i];

        dom_info_free(row->info);
        row->info = steal_ptr(&info);
        row->info_seq = seq;
    }
    pthread_rwlock_unlock(&h->lock);
    dom_info_free(info);
}

static void *rebuild_reader(void *userdata)
{
    Rebuild *rb = userdata;

    for (;;) {
        size_t i = atomic_fetch_add(&rb->next, 1);

        if (i >= rb->n || atomic_load(&stopping))
            return NULL;
        if (!rb->rows)
            fill_one(rb->h, rb->doms[i]);
        else if (!rb->ok[i])
            rb->ok[i] = machine_read(rb->h, rb->doms[i], &rb->rows[i].m,
                                     &rb->rows[i].info) == 0;
    }
}

/* Run rebuild_reader over rb: one thread per 64 domains, up to
 * REBUILD_READERS; the calling thread is one. */
static void readers_run(Rebuild *rb)
{
    pthread_t threads[REBUILD_READERS];
    size_t n_threads = 0;

    while (n_threads + 1 < REBUILD_READERS && (n_threads + 1) * 64 < rb->n &&
           pthread_create(&threads[n_threads], NULL, rebuild_reader, rb) == 0)
        n_threads++;
    (void)rebuild_reader(rb);
    for (size_t t = 0; t < n_threads; t++)
        pthread_join(threads[t], NULL);
}

/* A row from a bulk state record. */
static int row_from_record(Host *h, const virDomainStatsRecord *rec, bool persistent, Row *ret)
{
    const char *name = virDomainGetName(rec->dom);
    int state = -1, reason = 0;

    for (int p = 0; p < rec->nparams; p++) {
        const virTypedParameter *tp = &rec->params[p];

        if (streq(tp->field, "state.state"))
            state = tp->value.i;
        else if (streq(tp->field, "state.reason"))
            reason = tp->value.i;
    }
    if (!name || state < 0)
        return -EIO;
    *ret = (Row){ .m = { .host = h, .id = -1, .state = machine_state_from_libvirt(state),
                         .reason = reason, .persistent = persistent,
                         .seq = atomic_fetch_add(&read_seq, 1) + 1 } };
    snprintf(ret->m.name, sizeof(ret->m.name), "%s", name);
    if (virDomainGetUUIDString(rec->dom, ret->m.uuid) < 0)
        return -EIO;
    if (machine_state_is_active(ret->m.state)) {
        unsigned id = virDomainGetID(rec->dom);

        ret->m.id = id == (unsigned)-1 ? -1 : (int)id;
    }
    return 0;
}

/* Every domain with its state from one call for the persistent domains
 * and one for the transient ones (the domain list comes with them), instead
 * of a list and round trips per domain.  The rows have no definition yet;
 * *ret_doms holds a reference to each row's domain, in the same order.
 * -EOPNOTSUPP for a driver without bulk stats. */
static int rows_from_stats(Host *h, virConnectPtr c, Row **ret_rows, virDomainPtr **ret_doms,
                           size_t *ret_n)
{
    static const unsigned kinds[2] = { VIR_CONNECT_GET_ALL_DOMAINS_STATS_PERSISTENT,
                                       VIR_CONNECT_GET_ALL_DOMAINS_STATS_TRANSIENT };
    virDomainStatsRecordPtr *recs[2] = { NULL, NULL };
    int nr[2] = { 0, 0 };
    Row *rows = NULL;
    virDomainPtr *doms = NULL;
    size_t n = 0;
    int r = 0;

    for (size_t k = 0; k < 2 && r == 0; k++) {
        nr[k] = virConnectGetAllDomainStats(c, VIR_DOMAIN_STATS_STATE, &recs[k], kinds[k]);
        if (nr[k] < 0) {
            log_debug("No bulk states from '%s' (%s): one domain at a time", h->name,
                      virGetLastErrorMessage());
            nr[k] = 0;
            r = -EOPNOTSUPP;
        }
    }
    if (r == 0) {
        rows = calloc((size_t)nr[0] + (size_t)nr[1] + 1, sizeof(Row));
        doms = calloc((size_t)nr[0] + (size_t)nr[1] + 1, sizeof(virDomainPtr));
        if (!rows || !doms)
            r = -ENOMEM;
    }
    for (size_t k = 0; k < 2 && r == 0; k++)
        for (int i = 0; i < nr[k]; i++) {
            if (row_from_record(h, recs[k][i], k == 0, &rows[n]) < 0)
                continue; /* gone meanwhile: its event tells */
            doms[n] = recs[k][i]->dom;
            virDomainRef(doms[n]);
            n++;
        }
    for (size_t k = 0; k < 2; k++)
        if (recs[k])
            virDomainStatsRecordListFree(recs[k]);
    if (r < 0) {
        free(rows);
        free(doms);
        return r;
    }
    *ret_rows = rows;
    *ret_doms = doms;
    *ret_n = n;
    return 0;
}

/* Every domain, read whole (state and definition) one at a time by the
 * readers: for a driver without bulk stats. */
static int rows_one_by_one(Host *h, virConnectPtr c, Row **ret_rows, size_t *ret_n)
{
    virDomainPtr *doms = NULL;
    Row *rows;
    bool *ok;
    int n = virConnectListAllDomains(c, &doms, 0);
    size_t k = 0;
    Rebuild rb;

    if (n < 0)
        return virt_errno("list the domains of", h->name);
    rows = calloc((size_t)n + 1, sizeof(Row));
    ok = calloc((size_t)n + 1, sizeof(bool));
    if (rows && ok) {
        rb = (Rebuild){ .h = h, .doms = doms, .rows = rows, .ok = ok, .n = (size_t)n };
        readers_run(&rb);
    }
    for (int i = 0; i < n; i++) {
        if (rows && ok && ok[i]) {
            rows[i].info_seq = rows[i].info ? rows[i].m.seq : 0;
            rows[k++] = rows[i];
        } else if (rows) {
            dom_info_free(rows[i].info);
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    if (!rows || !ok) {
        free(rows);
        free(ok);
        return -ENOMEM;
    }
    free(ok);
    *ret_rows = rows;
    *ret_n = k;
    return 0;
}

/* Rebuild the whole table from libvirt (on every (re)connect): every row
 * with its state; the domains whose definitions are still to read are left
 * in h->fill_doms for host_fill(). */
static int table_rebuild(Host *h, virConnectPtr c)
{
    virDomainPtr *doms = NULL;
    Row *rows = NULL, *old;
    size_t n = 0, k = 0, n_old;
    int r = rows_from_stats(h, c, &rows, &doms, &n);

    if (r == -EOPNOTSUPP)
        r = rows_one_by_one(h, c, &rows, &n);
    if (r < 0)
        return r;
    if (doms) {
        /* Sort rows and their domains together: sort an index. */
        Row *sorted = calloc(n + 1, sizeof(Row));
        virDomainPtr *sdoms = calloc(n + 1, sizeof(virDomainPtr));
        size_t *idx = calloc(n + 1, sizeof(size_t));

        if (!sorted || !sdoms || !idx) {
            free(sorted);
            free(sdoms);
            free(idx);
            for (size_t i = 0; i < n; i++)
                virDomainFree(doms[i]);
            free(doms);
            free(rows);
            return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
        qsort_r(idx, n, sizeof(size_t), idx_cmp, rows);
        /* A domain in both answers (made persistent between the two calls)
         * keeps one row. */
        for (size_t i = 0; i < n; i++) {
            if (k > 0 && streq(sorted[k - 1].m.name, rows[idx[i]].m.name)) {
                virDomainFree(doms[idx[i]]);
                continue;
            }
            sorted[k] = rows[idx[i]];
            sdoms[k++] = doms[idx[i]];
        }
        free(idx);
        free(rows);
        free(doms);
        rows = sorted;
        doms = sdoms;
        n = k;
    } else {
        qsort(rows, n, sizeof(Row), row_cmp);
    }
    pthread_rwlock_wrlock(&h->lock);
    old = h->rows;
    n_old = h->n_rows;
    h->rows = rows;
    h->n_rows = n;
    pthread_rwlock_unlock(&h->lock);
    rows_free(old, n_old);
    h->fill_doms = doms;
    h->n_fill_doms = doms ? n : 0;
    return 0;
}

static void fill_doms_free(Host *h)
{
    for (size_t i = 0; i < h->n_fill_doms; i++)
        virDomainFree(h->fill_doms[i]);
    free(h->fill_doms);
    h->fill_doms = NULL;
    h->n_fill_doms = 0;
}

/* The second step of a (re)connect, on the monitor thread, while the host
 * serves: read the definitions table_rebuild left, then tell waiters and
 * observers (VIRT_EVENT_HOST_UP comes now: what observers do with a host
 * that came up needs the definitions). */
static void host_fill(Host *h)
{
    uint64_t t0 = now_usec();
    size_t n = h->n_fill_doms;
    Rebuild rb = { .h = h, .doms = h->fill_doms, .n = n };

    if (n > 0)
        readers_run(&rb);
    fill_doms_free(h);
    pthread_rwlock_wrlock(&h->lock);
    h->filling = false;
    pthread_rwlock_unlock(&h->lock);
    pthread_mutex_lock(&fill_lock);
    atomic_fetch_sub(&n_filling, 1);
    pthread_cond_broadcast(&fill_cond);
    pthread_mutex_unlock(&fill_lock);
    if (n > 0)
        log_info("Host '%s': %zu definitions read in %.2f s", h->name, n,
                 (double)(now_usec() - t0) / 1e6);
    event_push(h, NULL, VIRT_EVENT_HOST_UP);
}

bool virt_defs_ready(void)
{
    return atomic_load(&n_filling) == 0;
}

int virt_defs_wait(unsigned timeout_ms)
{
    uint64_t until = realtime_usec() + (uint64_t)timeout_ms * 1000u;
    struct timespec ts = { .tv_sec = (time_t)(until / 1000000u),
                           .tv_nsec = (long)(until % 1000000u) * 1000 };
    int r = 0;

    if (virt_defs_ready())
        return 0;
    pthread_mutex_lock(&fill_lock);
    while (r == 0 && !virt_defs_ready())
        r = pthread_cond_timedwait(&fill_cond, &fill_lock, &ts);
    pthread_mutex_unlock(&fill_lock);
    return virt_defs_ready() ? 0 : -ETIMEDOUT;
}

int virt_machine_refresh(Host *h, const char *name, Machine *ret)
{
    VIRT_OP(h, "refresh");
    uint64_t seq = atomic_fetch_add(&read_seq, 1) + 1;
    int r = 0;
    _cleanup_(virDomainFreep) virDomainPtr dom = virt_lookup(h, name, &r);
    DomInfo *info = NULL;
    Machine m;

    if (!dom) {
        if (r == -ENOENT)
            table_remove(h, name, seq);
        return r;
    }
    r = machine_read(h, dom, &m, &info);
    if (r < 0) {
        if (r == -ENOENT)
            table_remove(h, name, seq);
        return r;
    }
    table_upsert(h, &m, info);
    if (ret)
        *ret = m;
    return 0;
}

int virt_machines(Machine **ret, size_t *ret_n)
{
    Machine *all = NULL;
    size_t n = 0;

    for (size_t i = 0; i < n_hosts; i++) {
        Host *h = hosts[i];
        Machine *na;

        pthread_rwlock_rdlock(&h->lock);
        na = realloc(all, (n + h->n_rows + 1) * sizeof(Machine));
        if (!na) {
            pthread_rwlock_unlock(&h->lock);
            free(all);
            return -ENOMEM;
        }
        all = na;
        for (size_t k = 0; k < h->n_rows; k++) {
            all[n] = h->rows[k].m;
            all[n].stale = !h->up;
            n++;
        }
        pthread_rwlock_unlock(&h->lock);
    }
    /* One host's table is sorted already; several need a merge. */
    if (n_hosts > 1)
        qsort(all, n, sizeof(Machine), machine_cmp);
    *ret = all;
    *ret_n = n;
    return 0;
}

int virt_machines_each(const char *host_name, VirtMachineFn fn, void *userdata)
{
    for (size_t i = 0; i < n_hosts; i++) {
        Host *h = hosts[i];
        int r = 0;

        if (host_name && !streq(h->name, host_name))
            continue;
        pthread_rwlock_rdlock(&h->lock);
        for (size_t k = 0; k < h->n_rows && r == 0; k++) {
            Machine m = h->rows[k].m;

            m.stale = !h->up;
            r = fn(&m, h->rows[k].info, userdata);
        }
        pthread_rwlock_unlock(&h->lock);
        if (r != 0)
            return r;
    }
    return 0;
}

int virt_machine_with(const Host *h, const char *name, VirtMachineFn fn, void *userdata)
{
    Host *host = (Host *)h;
    ssize_t k;
    int r;

    pthread_rwlock_rdlock(&host->lock);
    k = table_index(host, name);
    if (k < 0) {
        pthread_rwlock_unlock(&host->lock);
        error_setf("machine '%s' not found on host '%s'", name, host->name);
        return -ENOENT;
    } else {
        Machine m = host->rows[k].m;

        m.stale = !host->up;
        r = fn(&m, host->rows[k].info, userdata);
    }
    pthread_rwlock_unlock(&host->lock);
    return r;
}

size_t virt_machine_count(void)
{
    size_t n = 0;

    for (size_t i = 0; i < n_hosts; i++) {
        pthread_rwlock_rdlock(&hosts[i]->lock);
        n += hosts[i]->n_rows;
        pthread_rwlock_unlock(&hosts[i]->lock);
    }
    return n;
}

static ssize_t table_index_uuid(const Host *h, const char *uuid)
{
    for (size_t i = 0; i < h->n_rows; i++)
        if (strcasecmp(h->rows[i].m.uuid, uuid) == 0)
            return (ssize_t)i;
    return -1;
}

static int machine_find(const char *key, bool by_uuid, const char *host_name, Machine *ret,
                        char ***ret_hosts)
{
    _cleanup_strv_free_ char **found = NULL;
    const char *name = key;
    Machine m = { 0 };
    bool any_down = false;
    size_t n_found = 0;

    for (size_t i = 0; i < n_hosts; i++) {
        Host *h = hosts[i];
        ssize_t k;

        if (host_name && !streq(h->name, host_name))
            continue;
        pthread_rwlock_rdlock(&h->lock);
        if (!h->up)
            any_down = true;
        k = by_uuid ? table_index_uuid(h, key) : table_index(h, key);
        if (k >= 0) {
            m = h->rows[k].m;
            m.stale = !h->up;
            n_found++;
            if (strv_push(&found, h->name) < 0) {
                pthread_rwlock_unlock(&h->lock);
                return -ENOMEM;
            }
        }
        pthread_rwlock_unlock(&h->lock);
    }
    if (host_name && !virt_host_find(host_name)) {
        error_setf("host '%s' not found", host_name);
        return -ENOENT;
    }
    if (n_found == 0) {
        if (any_down) {
            error_setf("machine '%s' not found, and a host that may have it is unreachable",
                       name);
            return -ENOTCONN;
        }
        error_setf("machine '%s' not found", name);
        return -ENOENT;
    }
    if (n_found > 1) {
        error_setf("machine '%s' exists on several hosts; pick one with ?host=", name);
        if (ret_hosts)
            *ret_hosts = steal_ptr(&found);
        return -ENOTUNIQ;
    }
    *ret = m;
    return 0;
}

int virt_machine_find(const char *name, const char *host_name, Machine *ret, char ***ret_hosts)
{
    return machine_find(name, false, host_name, ret, ret_hosts);
}

int virt_machine_find_uuid(const char *uuid, const char *host_name, Machine *ret,
                           char ***ret_hosts)
{
    return machine_find(uuid, true, host_name, ret, ret_hosts);
}

void machine_detail_clear(MachineDetail *d)
{
    free(d->xml);
    free(d->xml_inactive);
    *d = (MachineDetail){ 0 };
}

int virt_machine_detail(Host *h, const char *name, MachineDetail *ret)
{
    VIRT_OP(h, "detail");
    int r = 0, autostart = 0, active;
    _cleanup_(virDomainFreep) virDomainPtr dom = virt_lookup(h, name, &r);
    MachineDetail d = { 0 };

    if (!dom)
        return r;
    active = virDomainIsActive(dom);
    if (active < 0)
        return virt_errno("read the state of", name);
    d.xml_inactive = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
    if (!d.xml_inactive)
        return virt_errno("read the definition of", name);
    if (active) {
        d.xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_SECURE);
        if (!d.xml) {
            r = virt_errno("read the live definition of", name);
            machine_detail_clear(&d);
            return r;
        }
    }
    if (virDomainGetAutostart(dom, &autostart) < 0)
        autostart = 0; /* transient domains have none */
    d.autostart = autostart != 0;
    *ret = d;
    return 0;
}

int virt_machine_xml(Host *h, const char *name, bool inactive, char **ret_xml)
{
    VIRT_OP(h, "xml");
    int r = 0;
    _cleanup_(virDomainFreep) virDomainPtr dom = virt_lookup(h, name, &r);
    char *xml;

    if (!dom)
        return r;
    xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_SECURE | (inactive ? VIR_DOMAIN_XML_INACTIVE : 0));
    if (!xml)
        return virt_errno("read the definition of", name);
    *ret_xml = xml;
    return 0;
}

int virt_machine_metadata(Host *h, const char *name, bool live, char **ret_xml)
{
    VIRT_OP(h, "metadata");
    int r = 0;
    _cleanup_(virDomainFreep) virDomainPtr dom = virt_lookup(h, name, &r);
    char *xml;

    if (!dom)
        return r;
    xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, VIRTMCD_XMLNS,
                               live ? VIR_DOMAIN_AFFECT_LIVE : VIR_DOMAIN_AFFECT_CONFIG);
    if (!xml) {
        virErrorPtr e = virGetLastError();

        if (e && e->code == VIR_ERR_NO_DOMAIN_METADATA)
            return -ENODATA;
        return virt_errno("read the metadata of", name);
    }
    *ret_xml = xml;
    return 0;
}

/* Bumped after every change virtmcd makes to a definition, whether it
 * succeeded or not (a failure may have changed part of it). */
static _Atomic uint64_t change_count;

uint64_t virt_change_count(void)
{
    return atomic_load(&change_count);
}

void virt_changed(void)
{
    atomic_fetch_add(&change_count, 1);
}

int virt_machine_set_metadata(Host *h, const char *name, bool live, const char *instance_xml)
{
    VIRT_OP(h, "set_metadata");
    int r = 0;
    _cleanup_(virDomainFreep) virDomainPtr dom = virt_lookup(h, name, &r);

    if (!dom)
        return r;
    r = virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, instance_xml, VIRTMCD_XMLNS_PREFIX,
                             VIRTMCD_XMLNS, live ? VIR_DOMAIN_AFFECT_LIVE : VIR_DOMAIN_AFFECT_CONFIG);
    virt_changed();
    if (r < 0)
        return virt_errno(live ? "write the live metadata of" : "write the metadata of", name);
    return 0;
}

int virt_machine_update_device(Host *h, const char *name, bool live, const char *device_xml)
{
    VIRT_OP(h, "update_device");
    int r = 0;
    _cleanup_(virDomainFreep) virDomainPtr dom = virt_lookup(h, name, &r);

    if (!dom)
        return r;
    r = virDomainUpdateDeviceFlags(dom, device_xml,
                                   live ? VIR_DOMAIN_AFFECT_LIVE : VIR_DOMAIN_AFFECT_CONFIG);
    virt_changed();
    if (r < 0)
        return virt_errno("change the media of", name);
    return 0;
}

int virt_machine_define(Host *h, const char *xml, Machine *ret)
{
    VIRT_OP(h, "define");
    _cleanup_(virConnectClosep) virConnectPtr c = virt_host_conn(h);
    _cleanup_(virDomainFreep) virDomainPtr dom = NULL;
    DomInfo *info = NULL;
    Machine m;
    int r;

    if (!c)
        return -ENOTCONN;
    dom = virDomainDefineXML(c, xml);
    virt_changed();
    if (!dom)
        return virt_errno("define", "a domain");
    r = machine_read(h, dom, &m, &info);
    if (r < 0)
        return r;
    table_upsert(h, &m, info);
    if (ret)
        *ret = m;
    return 0;
}

/* ---- per-machine locks ---- */

/* One lock per machine that someone holds or waits for, in a registry
 * guarded by locks_lock (lock order: see virt.h). */
struct MachineLock {
    const Host *host;
    char *name;
    unsigned refs;       /* the holder and the waiters; locks_lock */
    const char *op;      /* what the holder does; locks_lock */
    uint64_t since_usec; /* when it took the lock; locks_lock */
    pthread_mutex_t mutex;
    struct MachineLock *next;
};
static pthread_mutex_t locks_lock = PTHREAD_MUTEX_INITIALIZER;
static MachineLock *locks;

/* Drop one reference; locks_lock held. */
static void lock_unref(MachineLock *l)
{
    if (--l->refs > 0)
        return;
    for (MachineLock **p = &locks; *p; p = &(*p)->next)
        if (*p == l) {
            *p = l->next;
            break;
        }
    pthread_mutex_destroy(&l->mutex);
    free(l->name);
    free(l);
}

int virt_machine_lock(const Host *h, const char *name, const char *op, unsigned timeout_ms,
                      unsigned max_waiters, MachineLock **ret)
{
    uint64_t deadline = realtime_usec() + (uint64_t)timeout_ms * 1000u;
    struct timespec ts = { .tv_sec = (time_t)(deadline / 1000000u),
                           .tv_nsec = (long)(deadline % 1000000u) * 1000 };
    MachineLock *l;
    int r;

    pthread_mutex_lock(&locks_lock);
    for (l = locks; l; l = l->next)
        if (l->host == h && streq(l->name, name))
            break;
    if (!l) {
        l = calloc(1, sizeof(*l));
        if (!l || !(l->name = strdup(name))) {
            free(l);
            pthread_mutex_unlock(&locks_lock);
            return -ENOMEM;
        }
        l->host = h;
        pthread_mutex_init(&l->mutex, NULL);
        l->next = locks;
        locks = l;
    } else if (l->refs > max_waiters) {
        /* refs counts the holder: refs - 1 already wait. */
        error_setf("machine '%s' is busy: %s is running on it and %u more requests wait; "
                   "try again later", name, l->op ? l->op : "an operation", l->refs - 1);
        pthread_mutex_unlock(&locks_lock);
        return -EAGAIN;
    }
    l->refs++;
    pthread_mutex_unlock(&locks_lock);

    r = pthread_mutex_timedlock(&l->mutex, &ts);
    pthread_mutex_lock(&locks_lock);
    if (r != 0) {
        double held = l->since_usec ? (double)(now_usec() - l->since_usec) / 1e6 : 0;

        error_setf("machine '%s' is busy: %s has held it for %.1f s; try again later", name,
                   l->op ? l->op : "an operation", held);
        lock_unref(l);
        pthread_mutex_unlock(&locks_lock);
        return -ETIMEDOUT;
    }
    l->op = op;
    l->since_usec = now_usec();
    pthread_mutex_unlock(&locks_lock);
    *ret = l;
    return 0;
}

void virt_machine_unlock(MachineLock *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&locks_lock);
    l->op = NULL;
    l->since_usec = 0;
    pthread_mutex_unlock(&locks_lock);
    pthread_mutex_unlock(&l->mutex);
    pthread_mutex_lock(&locks_lock);
    lock_unref(l);
    pthread_mutex_unlock(&locks_lock);
}

int virt_observe(VirtObserver fn, void *userdata)
{
    if (n_observers == MAX_OBSERVERS)
        return -E2BIG;
    observers[n_observers].fn = fn;
    observers[n_observers].userdata = userdata;
    n_observers++;
    return 0;
}

/* ---- events ---- */

static void event_push(Host *h, virDomainPtr dom, VirtEventKind kind)
{
    EventItem *it = calloc(1, sizeof(*it));

    if (!it)
        return;
    it->host = h;
    it->dom = dom;
    it->kind = kind;
    if (dom)
        virDomainRef(dom);
    pthread_mutex_lock(&ev_lock);
    if (ev_tail)
        ev_tail->next = it;
    else
        ev_head = it;
    ev_tail = it;
    pthread_cond_signal(&ev_cond);
    pthread_mutex_unlock(&ev_lock);
}

static VirtEventKind event_kind_from_libvirt(int event)
{
    switch (event) {
    case VIR_DOMAIN_EVENT_DEFINED:
        return VIRT_EVENT_DEFINED;
    case VIR_DOMAIN_EVENT_UNDEFINED:
        return VIRT_EVENT_UNDEFINED;
    case VIR_DOMAIN_EVENT_STARTED:
        return VIRT_EVENT_STARTED;
    case VIR_DOMAIN_EVENT_SUSPENDED:
        return VIRT_EVENT_SUSPENDED;
    case VIR_DOMAIN_EVENT_RESUMED:
        return VIRT_EVENT_RESUMED;
    case VIR_DOMAIN_EVENT_STOPPED:
        return VIRT_EVENT_STOPPED;
    case VIR_DOMAIN_EVENT_SHUTDOWN:
        return VIRT_EVENT_SHUTDOWN;
    case VIR_DOMAIN_EVENT_PMSUSPENDED:
        return VIRT_EVENT_PMSUSPENDED;
    case VIR_DOMAIN_EVENT_CRASHED:
        return VIRT_EVENT_CRASHED;
    default:
        return _VIRT_EVENT_KIND_INVALID;
    }
}

static int on_lifecycle(virConnectPtr c, virDomainPtr dom, int event, int detail, void *opaque)
{
    VirtEventKind k = event_kind_from_libvirt(event);

    if (k != _VIRT_EVENT_KIND_INVALID)
        event_push(opaque, dom, k);
    return 0;
}

static void on_metadata(virConnectPtr c, virDomainPtr dom, int type, const char *nsuri,
                        void *opaque)
{
    event_push(opaque, dom, VIRT_EVENT_METADATA);
}

static void on_reboot(virConnectPtr c, virDomainPtr dom, void *opaque)
{
    event_push(opaque, dom, VIRT_EVENT_REBOOT);
}

static void on_device(virConnectPtr c, virDomainPtr dom, const char *alias, void *opaque)
{
    event_push(opaque, dom, VIRT_EVENT_DEVICE);
}

/* What a connection follows.  Each event re-reads the domain's row.  Only
 * lifecycle events are required: a driver without the others still serves,
 * its rows current at the next lifecycle event or action.  Metadata events
 * (libvirt >= 3.0) keep owners and tags current; device events keep the
 * MACs and disks of the start guards current across a hot plug
 * (virsh attach-device --live) or unplug. */
static const struct {
    int id;
    virConnectDomainEventGenericCallback cb;
    const char *what;
} domain_events[N_DOMAIN_EVENTS] = {
    { VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), "lifecycle" },
    { VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(on_metadata), "metadata" },
    { VIR_DOMAIN_EVENT_ID_REBOOT, VIR_DOMAIN_EVENT_CALLBACK(on_reboot), "reboot" },
    { VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, VIR_DOMAIN_EVENT_CALLBACK(on_device), "device-added" },
    { VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(on_device), "device-removed" },
};

static void events_deregister(Host *h, virConnectPtr c)
{
    for (size_t i = 0; i < N_DOMAIN_EVENTS; i++) {
        if (h->event_cbs[i] >= 0)
            (void)virConnectDomainEventDeregisterAny(c, h->event_cbs[i]);
        h->event_cbs[i] = -1;
    }
}

/* Register domain_events on c: 0, or the error of the required one. */
static int events_register(Host *h, virConnectPtr c)
{
    for (size_t i = 0; i < N_DOMAIN_EVENTS; i++) {
        h->event_cbs[i] = virConnectDomainEventRegisterAny(c, NULL, domain_events[i].id,
                                                           domain_events[i].cb, h, NULL);
        if (h->event_cbs[i] >= 0)
            continue;
        if (domain_events[i].id == VIR_DOMAIN_EVENT_ID_LIFECYCLE)
            return virt_errno("register for events on", h->uri_shown);
        log_debug("Host '%s' sends no %s events: %s", h->name, domain_events[i].what,
                  virGetLastErrorMessage());
    }
    return 0;
}

static void notify_observers(const VirtEvent *ev)
{
    for (size_t i = 0; i < n_observers; i++)
        observers[i].fn(ev, observers[i].userdata);
}

static void *event_thread_main(void *arg)
{
    for (;;) {
        EventItem *it;
        _cleanup_free_ char *name = NULL;
        Machine m;
        int r;

        pthread_mutex_lock(&ev_lock);
        while (!ev_head && !atomic_load(&stopping))
            pthread_cond_wait(&ev_cond, &ev_lock);
        it = ev_head;
        if (it) {
            ev_head = it->next;
            if (!ev_head)
                ev_tail = NULL;
        }
        pthread_mutex_unlock(&ev_lock);
        if (!it)
            return NULL;

        if (!it->dom) {
            VirtEvent ev = { .kind = it->kind, .host = it->host };

            if (!atomic_load(&stopping))
                notify_observers(&ev);
            free(it);
            continue;
        }
        name = strdup_null(virDomainGetName(it->dom));
        if (name && !atomic_load(&stopping)) {
            VirtEvent ev = { .kind = it->kind, .host = it->host, .name = name };

            pthread_mutex_lock(&ev_lock);
            snprintf(ev_doing, sizeof(ev_doing), "%s", name);
            pthread_mutex_unlock(&ev_lock);
            {
                /* Counted apart from the refreshes operations ask for. */
                VIRT_OP(it->host, "event_refresh");

                r = virt_machine_refresh(it->host, name, &m);
            }
            log_debug("event %s on '%s' (%s): %s", virt_event_kind_to_string(it->kind), name,
                      it->host->name, r == 0 ? machine_state_to_string(m.state) : "gone");
            ev.machine = r == 0 ? &m : NULL;
            notify_observers(&ev);
            pthread_mutex_lock(&ev_lock);
            ev_doing[0] = '\0';
            pthread_mutex_unlock(&ev_lock);
        }
        virDomainFree(it->dom);
        free(it);
    }
}

/* Down since the first failure after being up (or since the first
 * attempt); the message is the latest one. */
static void host_set_down_locked(Host *h, const char *why)
{
    if (h->down_since_usec == 0)
        h->down_since_usec = realtime_usec();
    free(h->last_error);
    h->last_error = why ? host_message_scrub(why, h->uri, h->uri_shown) : NULL;
}

static void on_close(virConnectPtr c, int reason, void *opaque)
{
    Host *h = opaque;

    log_warning("Lost the connection to host '%s' (%s), reason %d; reconnecting", h->name,
                h->uri_shown, reason);
    pthread_rwlock_wrlock(&h->lock);
    h->up = false;
    h->next_attempt_usec = now_usec() + BACKOFF_MIN_MS * 1000u;
    host_set_down_locked(h, host_close_reason_to_string(reason));
    pthread_rwlock_unlock(&h->lock);
    event_push(h, NULL, VIRT_EVENT_HOST_DOWN);
    pthread_mutex_lock(&h->mon_lock);
    h->wake = true;
    pthread_cond_signal(&h->mon_cond);
    pthread_mutex_unlock(&h->mon_lock);
}

static void host_disconnect(Host *h)
{
    virConnectPtr c;

    pthread_rwlock_wrlock(&h->lock);
    c = h->conn;
    h->conn = NULL;
    h->up = false;
    pthread_rwlock_unlock(&h->lock);
    if (!c)
        return;
    events_deregister(h, c);
    (void)virConnectUnregisterCloseCallback(c, on_close);
    virConnectClose(c);
}

static int host_connect(Host *h)
{
    VIRT_OP(h, "connect");
    uint64_t t0 = now_usec(), t1;
    virConnectPtr c = virConnectOpen(h->uri);
    HostNode node;
    size_t n;
    int r;

    if (!c)
        return virt_errno("connect to", h->uri_shown);
    t1 = now_usec();
    /* Keepalive turns a silent libvirtd into a closed connection. */
    (void)virConnectSetKeepAlive(c, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT);
    (void)virConnectRegisterCloseCallback(c, on_close, h, NULL);
    r = events_register(h, c);
    if (r == 0)
        r = table_rebuild(h, c);
    if (r < 0) {
        events_deregister(h, c);
        (void)virConnectUnregisterCloseCallback(c, on_close);
        virConnectClose(c);
        return r;
    }
    host_node_read(c, h->name, &node);
    /* Node facts are optional (a driver may lack one): the connection is
     * up, so this connect did not fail. */
    virt_op_forgive();
    /* Counted before it shows up: no moment where the host is up with
     * definitions unread and virt_defs_ready() says true. */
    atomic_fetch_add(&n_filling, 1);
    pthread_rwlock_wrlock(&h->lock);
    n = h->n_rows;
    h->conn = c;
    h->up = true;
    h->filling = true;
    host_node_clear(&h->node);
    h->node = node;
    h->down_since_usec = 0;
    free(h->last_error);
    h->last_error = NULL;
    pthread_rwlock_unlock(&h->lock);
    /* The two figures tell libvirt's part (opening; the test driver parses
     * its node file then) from virtmcd's (listing every domain's state). */
    log_info("Connected to host '%s' (%s) in %.2f s; %zu machines listed in %.2f s", h->name,
             h->uri_shown, (double)(t1 - t0) / 1e6, n, (double)(now_usec() - t1) / 1e6);
    return 0;
}

/* Up: sleep until woken (a close, a stop), or until the free memory is
 * due; true when it is. */
static bool monitor_sleep(Host *h)
{
    uint64_t until = realtime_usec() + FREE_MEMORY_POLL_MS * 1000u;
    struct timespec ts = { .tv_sec = (time_t)(until / 1000000u),
                           .tv_nsec = (long)(until % 1000000u) * 1000 };
    bool poll, due = false;

    pthread_rwlock_rdlock(&h->lock);
    poll = h->up && !h->node.free_memory_unsupported;
    pthread_rwlock_unlock(&h->lock);
    pthread_mutex_lock(&h->mon_lock);
    while (!h->wake && !atomic_load(&stopping)) {
        if (!poll)
            pthread_cond_wait(&h->mon_cond, &h->mon_lock);
        else if (pthread_cond_timedwait(&h->mon_cond, &h->mon_lock, &ts) != 0) {
            due = true;
            break;
        }
    }
    h->wake = false;
    pthread_mutex_unlock(&h->mon_lock);
    return due && !atomic_load(&stopping);
}

/* Readers never call libvirt: the monitor keeps the free memory fresh.  A
 * failure keeps the last value (the host is going down, or its driver
 * stopped telling). */
static void poll_free_memory(Host *h)
{
    unsigned long long kib;
    int r = virt_host_free_memory_now(h, &kib);

    pthread_rwlock_wrlock(&h->lock);
    if (r >= 0) {
        h->node.has_free_memory = true;
        h->node.free_memory_kib = kib;
    } else if (r == -EOPNOTSUPP)
        h->node.free_memory_unsupported = true;
    pthread_rwlock_unlock(&h->lock);
}

static void *monitor_main(void *arg)
{
    Host *h = arg;
    unsigned backoff = BACKOFF_MIN_MS;

    while (!atomic_load(&stopping)) {
        bool connected, dead;
        int r;

        pthread_rwlock_rdlock(&h->lock);
        connected = h->conn != NULL;
        dead = connected && !h->up;
        pthread_rwlock_unlock(&h->lock);
        if (dead) {
            atomic_store(&h->mon_doing, "disconnecting from");
            host_disconnect(h);
            atomic_store(&h->mon_doing, NULL);
            connected = false;
        }
        if (!connected) {
            atomic_store(&h->mon_doing, "connecting to");
            r = host_connect(h);
            atomic_store(&h->mon_doing, NULL);
            if (r == 0) {
                backoff = BACKOFF_MIN_MS;
            } else {
                log_warning("Cannot connect to host '%s' (%s): %s; next try in %u ms", h->name,
                            h->uri_shown, error_get() ? error_get() : "unknown error", backoff);
                pthread_rwlock_wrlock(&h->lock);
                h->next_attempt_usec = now_usec() + (uint64_t)backoff * 1000u;
                host_set_down_locked(h, error_get());
                pthread_rwlock_unlock(&h->lock);
            }
            pthread_mutex_lock(&h->mon_lock);
            h->first_attempt_done = true;
            pthread_cond_broadcast(&h->mon_cond);
            pthread_mutex_unlock(&h->mon_lock);
            if (r == 0) {
                atomic_store(&h->mon_doing, "reading the definitions of");
                host_fill(h);
                atomic_store(&h->mon_doing, NULL);
            }
            if (r < 0) {
                struct timespec ts;
                uint64_t until = realtime_usec() + (uint64_t)backoff * 1000u;

                ts.tv_sec = (time_t)(until / 1000000u);
                ts.tv_nsec = (long)(until % 1000000u) * 1000;
                pthread_mutex_lock(&h->mon_lock);
                while (!h->wake && !atomic_load(&stopping))
                    if (pthread_cond_timedwait(&h->mon_cond, &h->mon_lock, &ts) != 0)
                        break;
                h->wake = false;
                pthread_mutex_unlock(&h->mon_lock);
                backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
                continue;
            }
        }
        if (monitor_sleep(h)) {
            atomic_store(&h->mon_doing, "reading the free memory of");
            poll_free_memory(h);
            atomic_store(&h->mon_doing, NULL);
        }
    }
    atomic_store(&h->mon_doing, "disconnecting from");
    host_disconnect(h);
    atomic_store(&h->mon_doing, NULL);
    return NULL;
}

static void *event_loop_main(void *arg)
{
    while (!atomic_load(&stopping))
        if (virEventRunDefaultImpl() < 0)
            usleep(100000);
    return NULL;
}

static void wake_loop(int timer, void *opaque)
{
    virEventRemoveTimeout(timer);
}

/* The name of a host without a [host] section: the URI's server part, or
 * this machine's name for a local URI. */
static char *default_host_name(const char *uri)
{
    const char *p = strstr(uri, "://");
    char buf[256];

    if (p) {
        const char *start = p + 3, *end;
        const char *at;

        end = start + strcspn(start, "/:?");
        at = memchr(start, '@', (size_t)(end - start));
        if (at)
            start = at + 1;
        if (end > start)
            return strndup(start, (size_t)(end - start));
    }
    if (gethostname(buf, sizeof(buf)) < 0)
        snprintf(buf, sizeof(buf), "localhost");
    buf[sizeof(buf) - 1] = '\0';
    return strdup(buf);
}

static Host *host_new(const char *name, const char *uri)
{
    Host *h = calloc(1, sizeof(*h));

    if (!h)
        return NULL;
    h->name = name ? strdup(name) : default_host_name(uri);
    h->uri = strdup(uri);
    h->uri_shown = uri_strip_credentials(uri);
    for (size_t i = 0; i < N_DOMAIN_EVENTS; i++)
        h->event_cbs[i] = -1;
    if (!h->name || !h->uri || !h->uri_shown) {
        free(h->name);
        free(h->uri);
        free(h->uri_shown);
        free(h);
        return NULL;
    }
    pthread_rwlock_init(&h->lock, NULL);
    pthread_mutex_init(&h->mon_lock, NULL);
    pthread_cond_init(&h->mon_cond, NULL);
    return h;
}

int virt_init(const Conf *conf, const char *uri_override, unsigned wait_ms)
{
    uint64_t deadline;

    atomic_store(&stopping, false);
    virSetErrorFunc(NULL, silence_libvirt);
    if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0)
        return log_error_errno(EIO, "Failed to initialise libvirt");
    if (pthread_create(&event_loop_thread, NULL, event_loop_main, NULL) != 0 ||
        pthread_create(&event_thread, NULL, event_thread_main, NULL) != 0)
        return log_error_errno(ENOMEM, "Failed to start libvirt's event threads");

    if (conf->n_hosts > 0 && !uri_override) {
        hosts = calloc(conf->n_hosts, sizeof(Host *));
        if (!hosts)
            return -ENOMEM;
        for (size_t i = 0; i < conf->n_hosts; i++) {
            hosts[i] = host_new(conf->hosts[i].name, conf->hosts[i].uri);
            if (!hosts[i])
                return -ENOMEM;
            n_hosts++;
        }
    } else {
        hosts = calloc(1, sizeof(Host *));
        if (!hosts)
            return -ENOMEM;
        hosts[0] = host_new(NULL, uri_override ? uri_override : conf->uri);
        if (!hosts[0])
            return -ENOMEM;
        n_hosts = 1;
    }
    for (size_t i = 0; i < n_hosts; i++)
        if (pthread_create(&hosts[i]->monitor, NULL, monitor_main, hosts[i]) != 0)
            return log_error_errno(ENOMEM, "Failed to start a host monitor");

    /* READY=1 waits for every first attempt, but a host that is down or
     * slow does not hold start-up beyond wait_ms. */
    deadline = realtime_usec() + (uint64_t)wait_ms * 1000u;
    for (size_t i = 0; i < n_hosts; i++) {
        Host *h = hosts[i];
        struct timespec ts = { .tv_sec = (time_t)(deadline / 1000000u),
                               .tv_nsec = (long)(deadline % 1000000u) * 1000 };

        pthread_mutex_lock(&h->mon_lock);
        while (!h->first_attempt_done)
            if (pthread_cond_timedwait(&h->mon_cond, &h->mon_lock, &ts) != 0)
                break;
        pthread_mutex_unlock(&h->mon_lock);
    }
    return 0;
}

static void timespec_from_usec(uint64_t deadline_usec, struct timespec *ts)
{
    /* pthread_timedjoin_np() counts in CLOCK_REALTIME. */
    uint64_t now = now_usec();
    uint64_t abs = realtime_usec() + (deadline_usec > now ? deadline_usec - now : 0);

    ts->tv_sec = (time_t)(abs / 1000000u);
    ts->tv_nsec = (long)(abs % 1000000u) * 1000;
}

size_t virt_shutdown(uint64_t deadline_usec, bool keep)
{
    struct timespec ts;
    size_t n_left = 0;
    bool ev_joined;

    atomic_store(&stopping, true);
    /* Wake every monitor first, so that they all stop at once. */
    for (size_t i = 0; i < n_hosts; i++) {
        Host *h = hosts[i];

        pthread_mutex_lock(&h->mon_lock);
        h->wake = true;
        pthread_cond_broadcast(&h->mon_cond);
        pthread_mutex_unlock(&h->mon_lock);
    }
    pthread_mutex_lock(&ev_lock);
    pthread_cond_broadcast(&ev_cond);
    pthread_mutex_unlock(&ev_lock);

    /* A libvirt call to a host that does not answer (a frozen libvirtd:
     * virConnectOpen has no keepalive yet) may never return: wait until the
     * deadline, then name it and leave it. */
    timespec_from_usec(deadline_usec, &ts);
    for (size_t i = 0; i < n_hosts; i++) {
        Host *h = hosts[i];

        if (pthread_timedjoin_np(h->monitor, NULL, &ts) != 0) {
            const char *doing = atomic_load(&h->mon_doing);

            log_warning("The monitor of host '%s' is stuck %s %s; not waiting for it", h->name,
                        doing ? doing : "in a libvirt call on", h->uri_shown);
            n_left++;
        }
    }
    ev_joined = pthread_timedjoin_np(event_thread, NULL, &ts) == 0;
    if (!ev_joined) {
        pthread_mutex_lock(&ev_lock);
        log_warning("The event thread is stuck in a libvirt call (refreshing '%s'); "
                    "not waiting for it", ev_doing[0] ? ev_doing : "?");
        pthread_mutex_unlock(&ev_lock);
        n_left++;
    }
    /* A zero timeout wakes the loop so that it sees `stopping`. */
    (void)virEventAddTimeout(0, wake_loop, NULL, NULL);
    if (pthread_timedjoin_np(event_loop_thread, NULL, &ts) != 0) {
        log_warning("libvirt's event loop thread does not stop; not waiting for it");
        n_left++;
    }
    /* Whatever a running thread may still use stays allocated, and
     * reachable from hosts and ev_head. */
    if (n_left > 0 || keep)
        return n_left;
    while (ev_head) {
        EventItem *it = ev_head;

        ev_head = it->next;
        virDomainFree(it->dom);
        free(it);
    }
    ev_tail = NULL;
    for (size_t i = 0; i < n_hosts; i++) {
        Host *h = hosts[i];

        rows_free(h->rows, h->n_rows);
        free(h->name);
        free(h->uri);
        free(h->uri_shown);
        host_node_clear(&h->node);
        free(h->last_error);
        pthread_rwlock_destroy(&h->lock);
        pthread_mutex_destroy(&h->mon_lock);
        pthread_cond_destroy(&h->mon_cond);
        free(h);
    }
    free(hosts);
    hosts = NULL;
    n_hosts = 0;
    return 0;
}

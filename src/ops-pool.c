/* ops-pool.c: pools of ready clones of a template, checked out with a lease
 * (API.md section 5).
 *
 * libvirt is the only store: a clone's pool, state, times, owner and the
 * volumes virtmcd made for it are in its virtmcd metadata, which virt's
 * table carries, so a restarted daemon finds every pool as it was.  What
 * lives only here: the pool locks, the last clone error of each pool, and
 * the manager thread.
 *
 * Every change of a clone goes through the operations layer as any other:
 * starts and stops through ops_power (locks, start guards), metadata under
 * the machine's lock and, like every definition change, only once a backup
 * of the persistent definition is on disk (ops_save_backup): no backup, no
 * change.  A clone the pool deletes takes its backup folder with it, once
 * no machine of its UUID is left on any host.  The manager never touches a
 * clone of a pool that is not configured (an orphan), never a template,
 * and deletes only the volumes recorded in a clone's metadata that no
 * other machine uses. */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "ops-private.h"
#include "util.h"

/* A clone as the table has it. */
typedef struct Clone {
    Machine m;
    DomPool pool;
    char *owner;
} Clone;

static void clones_free(Clone *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++) {
        dom_pool_clear(&c[i].pool);
        free(c[i].owner);
    }
    free(c);
}

/* ---- the manager's shared state ---- */

/* One lock per pool name, made on first use and kept (a handful). */
typedef struct PoolLock {
    char *name;
    pthread_mutex_t mutex;
    char *error;             /* the last clone failure; state_lock */
    bool reported;           /* the first pass was logged; the manager's own */
    /* Held from a clone's first volume to its definition, and across a
     * sweep of left volumes: no sweep sees a clone half made. */
    pthread_mutex_t make_mutex;
    /* The sweep of left volumes (pool_sweep); the manager's own. */
    bool swept;              /* since start-up, on swept_host, at swept_gen */
    bool sweep_warned;       /* a failed sweep was logged (retries are debug) */
    uint64_t swept_gen;
    char *swept_host;
    struct PoolLock *next;
} PoolLock;

/* state_lock guards the list, the errors and the manager's flags (a leaf). */
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t state_cond = PTHREAD_COND_INITIALIZER;
static PoolLock *pool_locks;
static bool mgr_stop, mgr_wake, mgr_started, guard_added;
static uint64_t host_up_gen; /* HOST_UP events seen: a sweep follows each */
static pthread_t mgr_thread;

static PoolLock *pool_lock_get(const char *name)
{
    PoolLock *l;

    pthread_mutex_lock(&state_lock);
    for (l = pool_locks; l; l = l->next)
        if (streq(l->name, name))
            break;
    if (!l && (l = calloc(1, sizeof(*l)))) {
        l->name = strdup(name);
        if (!l->name) {
            free(l);
            l = NULL;
        } else {
            pthread_mutex_init(&l->mutex, NULL);
            pthread_mutex_init(&l->make_mutex, NULL);
            l->next = pool_locks;
            pool_locks = l;
        }
    }
    pthread_mutex_unlock(&state_lock);
    return l;
}

/* Wait at most the caller's lock_timeout for a pool's lock. */
static int pool_lock_take(const Conf *conf, PoolLock *l)
{
    uint64_t deadline = realtime_usec() + (uint64_t)conf->lock_timeout * 1000000u;
    struct timespec ts = { .tv_sec = (time_t)(deadline / 1000000u),
                           .tv_nsec = (long)(deadline % 1000000u) * 1000 };

    if (pthread_mutex_timedlock(&l->mutex, &ts) == 0)
        return 0;
    error_setf("pool '%s' is busy: try again", l->name);
    return -ETIMEDOUT;
}

static void pool_error_set(const char *pool, const char *msg)
{
    PoolLock *l = pool_lock_get(pool);
    char *dup = msg ? strdup(msg) : NULL;
    bool changed;

    if (!l) {
        free(dup);
        return;
    }
    pthread_mutex_lock(&state_lock);
    changed = !streq(l->error ? l->error : "", msg ? msg : "");
    free(l->error);
    l->error = dup;
    pthread_mutex_unlock(&state_lock);
    if (changed && msg)
        log_error("Pool '%s': %s", pool, msg);
    else if (changed)
        log_notice("Pool '%s' clones again", pool);
}

static char *pool_error_get(const char *pool)
{
    char *s = NULL;

    pthread_mutex_lock(&state_lock);
    for (PoolLock *l = pool_locks; l; l = l->next)
        if (streq(l->name, pool) && l->error)
            s = strdup(l->error);
    pthread_mutex_unlock(&state_lock);
    return s;
}

void ops_pools_wake(void)
{
    pthread_mutex_lock(&state_lock);
    mgr_wake = true;
    pthread_cond_broadcast(&state_cond);
    pthread_mutex_unlock(&state_lock);
}

static bool stopping(void)
{
    bool s;

    pthread_mutex_lock(&state_lock);
    s = mgr_stop;
    pthread_mutex_unlock(&state_lock);
    return s;
}

/* ---- reading the table ---- */

static int dom_pool_copy(const DomPool *src, DomPool *ret)
{
    DomPool p = *src;
    size_t n = 0;

    p.name = p.template_name = p.state = NULL;
    p.volumes = NULL;
    while (src->volumes && src->volumes[n])
        n++;
    if ((src->name && !(p.name = strdup(src->name))) ||
        (src->template_name && !(p.template_name = strdup(src->template_name))) ||
        (src->state && !(p.state = strdup(src->state))) ||
        !(p.volumes = calloc(n + 1, sizeof(char *))))
        goto fail;
    for (size_t i = 0; i < n; i++)
        if (!(p.volumes[i] = strdup(src->volumes[i])))
            goto fail;
    *ret = p;
    return 0;
fail:
    dom_pool_clear(&p);
    return -ENOMEM;
}

typedef struct Collect {
    const char *pool;   /* NULL: every clone */
    const Host *host;   /* NULL: every host */
    Clone *v;
    size_t n;
    int error;
} Collect;

static int collect_row(const Machine *m, const DomInfo *info, void *userdata)
{
    Collect *c = userdata;
    Clone *nv;

    if (!info || !info->pool.name || (c->pool && !streq(info->pool.name, c->pool)) ||
        (c->host && m->host != c->host))
        return 0;
    nv = realloc(c->v, (c->n + 1) * sizeof(*nv));
    if (!nv)
        return c->error = -ENOMEM;
    c->v = nv;
    nv[c->n] = (Clone){ .m = *m };
    if (dom_pool_copy(&info->pool, &nv[c->n].pool) < 0 ||
        (info->owner && !(nv[c->n].owner = strdup(info->owner)))) {
        c->n++;
        return c->error = -ENOMEM;
    }
    c->n++;
    return 0;
}

/* The clones of pool (NULL: all) on host (NULL: all), from the table: only
 * that host's table is read, not every host's under its lock in turn. */
static int clones_collect(const char *pool, const Host *host, Clone **ret, size_t *ret_n)
{
    Collect c = { .pool = pool, .host = host };
    int r = virt_machines_each(host ? virt_host_name(host) : NULL, collect_row, &c);

    if (r < 0 || c.error < 0) {
        clones_free(c.v, c.n);
        return r < 0 ? r : c.error;
    }
    *ret = c.v;
    *ret_n = c.n;
    return 0;
}

/* One clone, re-read from the table (after the caller took the pool lock). */
static int clone_get(const Machine *m, Clone *ret)
{
    Collect c = { 0 };
    int r = virt_machine_with(m->host, m->name, collect_row, &c);

    if (r == 0 && c.error < 0)
        r = c.error;
    if (r == 0 && c.n == 0) {
        error_setf("'%s' is not a pool machine", m->name);
        r = -ENOENT;
    }
    if (r < 0) {
        clones_free(c.v, c.n);
        return r;
    }
    *ret = c.v[0];
    free(c.v);
    return 0;
}

static void clone_clear(Clone *c)
{
    dom_pool_clear(&c->pool);
    free(c->owner);
    *c = (Clone){ 0 };
}

static Host *pool_host(const ConfPool *p)
{
    if (p->host)
        return virt_host_find(p->host);
    return virt_host_count() == 1 ? virt_host_at(0) : NULL;
}

static PoolState clone_state(const Clone *c)
{
    return pool_state_from_string(c->pool.state);
}

/* ---- writing a clone's metadata ---- */

/* Replace the pool part of m's metadata with p, and with owner (NULL:
 * delete it; not touched when keep_owner) and tags: the persistent
 * definition, backed up first (reason: what the pool does), or the live
 * one.  The caller holds m's machine lock. */
static int meta_write_one(const Conf *conf, const Machine *m, const char *reason, bool live,
                          const DomPool *p, bool keep_owner, const char *owner,
                          const MetaPatch *tags)
{
    _cleanup_free_ char *cur = NULL, *mid = NULL, *out = NULL, *id = NULL;
    MetaPatch patch = { 0 };
    int r;

    r = virt_machine_metadata((Host *)m->host, m->name, live, &cur);
    if (r == -ENODATA)
        r = 0;
    if (r < 0)
        return r;
    if (tags)
        patch = *tags;
    patch.owner = keep_owner ? META_KEEP : owner ? META_SET : META_DELETE;
    patch.owner_value = (char *)owner;
    patch.description = META_KEEP;
    r = metaxml_apply(cur, &patch, &mid, NULL);
    if (r == 0)
        r = poolxml_meta_apply(mid, p, &out);
    if (r < 0)
        return r;
    if (live)
        return virt_machine_set_metadata((Host *)m->host, m->name, true, out);
    /* The persistent definition changes: no backup, no change. */
    r = ops_backup_current(conf, m, reason, &id);
    if (r == 0)
        r = virt_machine_set_metadata((Host *)m->host, m->name, false, out);
    if (r == 0)
        log_debug("Pool metadata of '%s' written (%s); previous definition saved as %s",
                  m->name, reason, id);
    return r;
}

static int meta_write(const Conf *conf, const Machine *m, const char *reason, const DomPool *p,
                      bool keep_owner, const char *owner, const MetaPatch *tags)
{
    Machine now;
    int r;

    r = meta_write_one(conf, m, reason, false, p, keep_owner, owner, tags);
    if (r < 0)
        return r;
    r = virt_machine_refresh((Host *)m->host, m->name, &now);
    if (r == 0 && machine_state_is_active(now.state)) {
        r = meta_write_one(conf, m, reason, true, p, keep_owner, owner, tags);
        if (r < 0)
            log_warning("Pool state of '%s' written to its definition but not to the running "
                        "machine: %s", m->name, error_get() ? error_get() : strerror(-r));
        r = 0;
    }
    /* The table must have it before the pool lock is let go. */
    (void)virt_machine_refresh((Host *)m->host, m->name, NULL);
    return r;
}

/* Move c to state s (under the pool lock, checking the table still has it
 * in the state the caller saw). */
static int clone_set_state(const Conf *conf, PoolLock *pl, const Clone *c, PoolState s,
                           const char *why)
{
    _cleanup_(clone_clear) Clone now = { 0 };
    MachineLock *ml = NULL;
    char reason[32];
    DomPool p;
    int r;

    r = pool_lock_take(conf, pl);
    if (r < 0)
        return r;
    r = clone_get(&c->m, &now);
    if (r < 0)
        goto out;
    if (!streq(now.pool.state ? now.pool.state : "", c->pool.state ? c->pool.state : "")) {
        r = -EAGAIN; /* someone else moved it first */
        goto out;
    }
    r = ops_lock(conf, &c->m, "pool", &ml);
    if (r < 0)
        goto out;
    p = now.pool;
    p.state = (char *)pool_state_to_string(s);
    p.since = (long long)time(NULL);
    snprintf(reason, sizeof(reason), "pool-state-%s", p.state);
    r = meta_write(conf, &c->m, reason, &p, true, NULL, NULL);
    virt_machine_unlock(ml);
    if (r == 0)
        log_info("Pool '%s': '%s' %s -> %s (%s)", c->pool.name, c->m.name,
                 c->pool.state ? c->pool.state : "?", pool_state_to_string(s), why);
out:
    pthread_mutex_unlock(&pl->mutex);
    return r;
}

/* error_get() with a prefix (error_setf must not read its own buffer). */
static void error_prefix(const char *prefix, const char *fallback)
{
    char saved[768];

    snprintf(saved, sizeof(saved), "%s", error_get() ? error_get() : fallback);
    error_setf("%s: %s", prefix, saved);
}

/* ---- cloning and deleting ---- */

static OpsCaller manager_caller(const Conf *conf)
{
    return (OpsCaller){ .conf = conf, .user = "pool-manager", .role = ROLE_ADMIN };
}

typedef struct Uses {
    const Host *host;
    const char *except;
    const char *path;
    bool used;
} Uses;

static int uses_row(const Machine *m, const DomInfo *info, void *userdata)
{
    Uses *u = userdata;

    if (!info || m->host != u->host || streq(m->name, u->except))
        return 0;
    for (size_t i = 0; i < info->n_disks; i++)
        if (info->disks[i].source && streq(info->disks[i].source, u->path))
            u->used = true;
    return 0;
}

/* c is undefined: its backups go too (throwaway clones would leave a folder
 * each), unless a machine of its UUID is still known on a host, or a host
 * that might have one is down. */
static void clone_backups_remove(const Conf *conf, const Clone *c)
{
    Machine other;
    int r = virt_machine_find_uuid(c->m.uuid, NULL, &other, NULL);

    if (r != -ENOENT) {
        log_notice("Pool '%s': backups of '%s' kept in %s/%s: %s", c->pool.name, c->m.name,
                   conf->backup_dir, c->m.uuid,
                   r == 0 || r == -ENOTUNIQ ? "a machine of its UUID still exists"
                                            : error_get() ? error_get() : strerror(-r));
        return;
    }
    r = backup_remove(conf->backup_dir, c->m.uuid);
    if (r < 0)
        log_warning("Pool '%s': cannot remove the backups of '%s' (%s/%s): %s", c->pool.name,
                    c->m.name, conf->backup_dir, c->m.uuid, strerror(-r));
    else if (r > 0)
        log_info("Pool '%s': removed %d backup%s of '%s' with it (%s/%s)", c->pool.name, r,
                 r == 1 ? "" : "s", c->m.name, conf->backup_dir, c->m.uuid);
}

/* Destroy c, delete the volumes recorded for it, undefine it, remove its
 * backups. */
static int clone_delete(const Conf *conf, const Clone *c)
{
    OpsCaller sys = manager_caller(conf);
    Host *h = (Host *)c->m.host;
    MachineLock *ml = NULL;
    Machine now;
    int r;

    r = virt_machine_refresh(h, c->m.name, &now);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    if (machine_state_is_active(now.state)) {
        OpsPowerResult pr;

        r = ops_power(&sys, &now, POWER_OFF, false, &pr);
        if (r < 0) {
            log_error("Pool '%s': cannot stop '%s': %s", c->pool.name, c->m.name,
                      error_get() ? error_get() : strerror(-r));
            return r;
        }
    }
    r = ops_lock(conf, &c->m, "pool delete", &ml);
    if (r < 0)
        return r;
    /* Volumes first: the metadata that names them goes with the undefine. */
    for (size_t i = 0; c->pool.volumes && c->pool.volumes[i]; i++) {
        Uses u = { .host = h, .except = c->m.name, .path = c->pool.volumes[i] };

        (void)virt_machines_each(NULL, uses_row, &u);
        if (u.used) {
            log_warning("Pool '%s': volume %s of '%s' is used by another machine: kept",
                        c->pool.name, u.path, c->m.name);
            continue;
        }
        r = virt_volume_delete(h, c->pool.volumes[i]);
        if (r < 0 && r != -ENOENT) {
            log_error("Pool '%s': cannot delete volume %s of '%s': %s", c->pool.name,
                      c->pool.volumes[i], c->m.name, error_get() ? error_get() : strerror(-r));
            virt_machine_unlock(ml);
            return r;
        }
    }
    r = virt_machine_undefine(h, c->m.name);
    if (r == 0)
        clone_backups_remove(conf, c);
    virt_machine_unlock(ml);
    if (r < 0 && r != -ENOENT) {
        log_error("Pool '%s': cannot undefine '%s': %s", c->pool.name, c->m.name,
                  error_get() ? error_get() : strerror(-r));
        return r;
    }
    log_info("Pool '%s': deleted '%s' and its volumes", c->pool.name, c->m.name);
    return 0;
}

static int random_suffix(char out[7])
{
    uint8_t rnd[3];

    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return -EIO;
    hex_encode(rnd, sizeof(rnd), out);
    out[6] = '\0';
    return 0;
}

/* Make one clone of p on h: its volumes, its definition, its start.  Its
 * volumes are named "<clone>-<target>.<ext>", the clone
 * "<prefix><pool>-<6 hex digits>": poolxml_clone_volume_match knows them
 * again when a crash left them (pool_sweep). */
static int clone_make(const Conf *conf, const ConfPool *p, Host *h, PoolLock *pl)
{
    _cleanup_free_ char *txml = NULL, *xml = NULL, *name = NULL;
    _cleanup_strv_free_ char **vols = NULL;
    _cleanup_strv_free_ char **sources = NULL;
    OpsCaller sys = manager_caller(conf);
    PoolDisk *disks = NULL;
    size_t n_disks = 0, n_vols = 0;
    Machine tm, m;
    char sfx[7];
    bool making = false;
    int r;

    r = virt_machine_find(p->template_name, virt_host_name(h), &tm, NULL);
    if (r < 0) {
        error_setf("template '%s' not found on host '%s'", p->template_name, virt_host_name(h));
        return r;
    }
    r = virt_machine_xml(h, p->template_name, true, &txml);
    if (r < 0)
        return r;
    r = poolxml_template_disks(txml, &disks, &n_disks);
    if (r < 0) {
        _cleanup_free_ char *pre = strdup_printf("template '%s'", p->template_name);

        error_prefix(pre ? pre : "template", "bad XML");
        return r;
    }
    for (int tries = 0;; tries++) {
        Machine other;

        r = random_suffix(sfx);
        if (r < 0)
            goto out;
        free(name);
        name = strdup_printf("%s%s-%s", p->prefix ? p->prefix : "", p->name, sfx);
        r = -ENOMEM;
        if (!name)
            goto out;
        if (virt_machine_find(name, virt_host_name(h), &other, NULL) == -ENOENT)
            break;
        if (tries > 8) {
            error_setf("no free name for a clone of pool '%s'", p->name);
            r = -EEXIST;
            goto out;
        }
    }
    vols = calloc(n_disks + 1, sizeof(char *));
    sources = calloc(n_disks + 1, sizeof(char *));
    r = -ENOMEM;
    if (!vols || !sources)
        goto out;
    pthread_mutex_lock(&pl->make_mutex);
    making = true;
    for (size_t i = 0; i < n_disks; i++) {
        const PoolDisk *d = &disks[i];
        bool linked = p->clone == CLONE_LINKED;
        const char *ext = linked || (d->format && streq(d->format, "qcow2")) ? "qcow2" : "img";
        _cleanup_free_ char *vname = strdup_printf("%s-%s.%s", name, d->target, ext);

        r = -ENOMEM;
        if (!vname)
            goto out;
        r = virt_volume_clone(h, d->target, d->source, d->vol_pool,
                              d->vol_pool ? d->source : NULL, vname, linked, &vols[n_vols]);
        if (r < 0) {
            _cleanup_free_ char *pre = strdup_printf("template '%s'", p->template_name);

            error_prefix(pre ? pre : "template", "cannot clone a disk");
            goto out;
        }
        n_vols++;
        sources[i] = strdup(d->vol_pool ? vname : vols[i]);
        r = -ENOMEM;
        if (!sources[i])
            goto out;
    }
    {
        long long now = (long long)time(NULL);
        DomPool meta = { .name = p->name,
                         .template_name = p->template_name,
                         .state = (char *)pool_state_to_string(POOL_STATE_PENDING),
                         .created = now,
                         .since = now,
                         .volumes = vols };
        PoolCloneSpec spec = { .name = name,
                               .sources = (const char *const *)sources,
                               .n_sources = n_disks,
                               .format = p->clone == CLONE_LINKED ? "qcow2" : NULL,
                               .meta = &meta };

        r = poolxml_clone(txml, &spec, &xml);
        if (r == 0)
            r = virt_machine_define(h, xml, &m);
        if (r < 0) {
            _cleanup_free_ char *pre = strdup_printf("cannot define a clone of '%s'",
                                                     p->template_name);

            error_prefix(pre ? pre : "cannot define a clone", strerror(-r));
            goto out;
        }
    }
    log_info("Pool '%s': defined '%s' (%s clone of '%s', %zu volume%s)", p->name, name,
             clone_mode_to_string(p->clone), p->template_name, n_vols, n_vols == 1 ? "" : "s");
    n_vols = 0; /* recorded in its metadata: the clone's now */
    pthread_mutex_unlock(&pl->make_mutex);
    making = false;
    {
        OpsPowerResult pr;
        int rs = ops_power(&sys, &m, POWER_ON, false, &pr);

        if (rs < 0)
            log_warning("Pool '%s': cannot start '%s' yet: %s", p->name, name,
                        error_get() ? error_get() : strerror(-rs));
    }
    r = 0;
out:
    for (size_t i = 0; i < n_vols; i++)
        if (vols[i] && virt_volume_delete(h, vols[i]) < 0) {
            log_warning("Pool '%s': cannot delete volume %s of a failed clone (the next sweep "
                        "tries again)", p->name, vols[i]);
            pl->swept = false;
        }
    if (making)
        pthread_mutex_unlock(&pl->make_mutex);
    pool_disks_free(disks, n_disks);
    return r;
}

/* ---- readiness ---- */

static bool tcp_open(const char *addr, VirtAddrFamily fam, unsigned port)
{
    struct sockaddr_storage ss = { 0 };
    socklen_t len;
    int fd, r, err = 0;
    socklen_t el = sizeof(err);
    struct pollfd pfd;

    if (fam == VIRT_ADDR_IPV4) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
            return false;
        len = sizeof(*s4);
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
            return false;
        len = sizeof(*s6);
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    r = connect(fd, (struct sockaddr *)&ss, len);
    if (r < 0 && errno == EINPROGRESS) {
        pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
        r = poll(&pfd, 1, 1000) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 &&
                    err == 0
                ? 0
                : -1;
    }
    close(fd);
    return r == 0;
}

/* Whether a running pending clone passes the pool's ready_check. */
static bool clone_ready(const ConfPool *p, const Clone *c)
{
    _cleanup_(virt_addresses_freep) VirtAddresses *a = NULL;

    if (p->ready_check == READY_CHECK_NONE)
        return true;
    if (virt_machine_addresses((Host *)c->m.host, c->m.name, &a) < 0)
        return false;
    for (size_t i = 0; i < a->n_ifaces; i++)
        for (size_t k = 0; k < a->ifaces[i].n_addrs; k++) {
            const VirtIpAddr *ip = &a->ifaces[i].addrs[k];

            if (p->ready_check == READY_CHECK_ADDRESS)
                return true;
            if (tcp_open(ip->address, ip->family, p->ready_port))
                return true;
        }
    return false;
}

/* ---- volumes an interrupted clone left ---- */

/* What the table of a pool's host says of the swept volumes. */
typedef struct VolUse {
    const Host *host;
    const VirtVolume *vols;
    char **clones;       /* per volume: the clone it would be of; NULL: not a candidate */
    bool *used;          /* per volume */
    size_t n;
    bool unread;         /* a row's definition is unknown: nothing is deleted */
} VolUse;

static int voluse_row(const Machine *m, const DomInfo *info, void *userdata)
{
    VolUse *u = userdata;

    if (m->host != u->host)
        return 0;
    if (!info) {
        u->unread = true;
        return 0;
    }
    for (size_t i = 0; i < u->n; i++) {
        const VirtVolume *v = &u->vols[i];

        if (!u->clones[i] || u->used[i])
            continue;
        /* Its clone exists (whatever its disks say now). */
        if (streq(m->name, u->clones[i]))
            u->used[i] = true;
        /* A disk on it: by path, or as storage pool/volume. */
        for (size_t k = 0; k < info->n_disks && !u->used[i]; k++) {
            const char *src = info->disks[k].source;
            size_t lp = strlen(v->pool);

            if (src && (streq(src, v->path) || (strncmp(src, v->pool, lp) == 0 &&
                                                src[lp] == '/' && streq(src + lp + 1, v->name))))
                u->used[i] = true;
        }
        /* Recorded as a clone's own: clone_delete's to delete. */
        for (size_t k = 0; info->pool.volumes && info->pool.volumes[k] && !u->used[i]; k++)
            if (streq(info->pool.volumes[k], v->path))
                u->used[i] = true;
    }
    return 0;
}

/* Add the volumes of list to *all that it lacks (by path). */
static int volumes_merge(VirtVolume **all, size_t *n_all, VirtVolume *list, size_t n)
{
    VirtVolume *nv = realloc(*all, (*n_all + n + 1) * sizeof(*nv));

    if (!nv)
        return -ENOMEM;
    *all = nv;
    for (size_t i = 0; i < n; i++) {
        bool dup = false;

        for (size_t k = 0; k < *n_all && !dup; k++)
            dup = streq(nv[k].path, list[i].path);
        if (dup) {
            free(list[i].name);
            free(list[i].path);
            free(list[i].pool);
            free(list[i].backing);
        } else
            nv[(*n_all)++] = list[i];
        list[i] = (VirtVolume){ 0 };
    }
    return 0;
}

/* The sweep: delete the volumes in the storage pools of p's template disks
 * that are named as p's clones' (and no other configured pool's), that no
 * machine of h uses (a disk, a clone's recorded volumes, the clone the name
 * says) and that back no other volume: what a crash between a clone's
 * volumes and its definition left.  Under p's make_mutex: no clone of p is
 * half made meanwhile.  The table is complete (the manager runs after
 * virt_defs_ready()); a row whose definition is unknown stops it.  0 when
 * swept; -errno (logged) when it must be tried again. */
static int pool_sweep(const Conf *conf, const ConfPool *p, Host *h, PoolLock *pl,
                      unsigned *ret_deleted)
{
    _cleanup_free_ char *txml = NULL;
    PoolDisk *disks = NULL;
    size_t n_disks = 0, n = 0;
    VirtVolume *vols = NULL;
    VolUse u = { .host = h };
    unsigned deleted = 0;
    int r;

    *ret_deleted = 0;
    r = virt_machine_xml(h, p->template_name, true, &txml);
    if (r == 0)
        r = poolxml_template_disks(txml, &disks, &n_disks);
    for (size_t i = 0; r == 0 && i < n_disks; i++) {
        const PoolDisk *d = &disks[i];
        VirtVolume *list = NULL;
        size_t nl = 0;

        r = virt_volumes_beside(h, d->source, d->vol_pool, d->source, &list, &nl);
        if (r == 0)
            r = volumes_merge(&vols, &n, list, nl);
        virt_volumes_free(list, r == 0 ? 0 : nl);
    }
    pool_disks_free(disks, n_disks);
    if (r < 0)
        goto out;
    u.vols = vols;
    u.n = n;
    u.clones = calloc(n + 1, sizeof(char *));
    u.used = calloc(n + 1, sizeof(bool));
    r = -ENOMEM;
    if (!u.clones || !u.used)
        goto out;
    for (size_t i = 0; i < n; i++) {
        int m = poolxml_clone_volume_match(vols[i].name, p->prefix, p->name, &u.clones[i]);

        if (m < 0)
            goto out;
        /* A name another configured pool would give too is not p's to take. */
        for (size_t k = 0; m > 0 && k < conf->n_pools; k++) {
            const ConfPool *o = &conf->pools[k];

            if (o != p && poolxml_clone_volume_match(vols[i].name, o->prefix, o->name, NULL)) {
                log_debug("Pool '%s': volume %s is named as a clone's of pool '%s' too: kept",
                          p->name, vols[i].path, o->name);
                m = 0;
            }
        }
        /* A volume backing another is in use whatever its name. */
        for (size_t k = 0; m > 0 && k < n; k++)
            if (vols[k].backing && streq(vols[k].backing, vols[i].path)) {
                log_debug("Pool '%s': volume %s backs %s: kept", p->name, vols[i].path,
                          vols[k].path);
                m = 0;
            }
        if (m == 0) {
            free(u.clones[i]);
            u.clones[i] = NULL;
        }
    }
    pthread_mutex_lock(&pl->make_mutex);
    r = virt_machines_each(virt_host_name(h), voluse_row, &u);
    if (r == 0 && u.unread) {
        error_setf("a definition on host '%s' is not read yet", virt_host_name(h));
        r = -EAGAIN;
    }
    if (r == 0 && !virt_host_up(h)) {
        error_setf("host '%s' is down", virt_host_name(h));
        r = -ENOTCONN;
    }
    for (size_t i = 0; r == 0 && i < n; i++) {
        int rd;

        if (!u.clones[i] || u.used[i])
            continue;
        rd = virt_volume_delete(h, vols[i].path);
        if (rd < 0 && rd != -ENOENT) {
            log_warning("Pool '%s': cannot delete volume %s, left by a clone never defined: %s",
                        p->name, vols[i].path, error_get() ? error_get() : strerror(-rd));
            r = rd;
            break;
        }
        if (rd == 0) {
            log_notice("Pool '%s' on '%s': deleted volume %s, left by a clone never defined "
                       "('%s')", p->name, virt_host_name(h), vols[i].path, u.clones[i]);
            deleted++;
        }
    }
    pthread_mutex_unlock(&pl->make_mutex);
out:
    for (size_t i = 0; u.clones && i < n; i++)
        free(u.clones[i]);
    free(u.clones);
    free(u.used);
    virt_volumes_free(vols, n);
    *ret_deleted = deleted;
    return r;
}

/* Sweep p's left volumes on its first pass on h since start-up, since a
 * host came up, or since a failed clone could not delete its volumes. */
static void pool_sweep_maybe(const Conf *conf, const ConfPool *p, Host *h, PoolLock *pl)
{
    uint64_t gen;
    unsigned deleted = 0;
    int r;

    pthread_mutex_lock(&state_lock);
    gen = host_up_gen;
    pthread_mutex_unlock(&state_lock);
    if (pl->swept && pl->swept_gen == gen && pl->swept_host &&
        streq(pl->swept_host, virt_host_name(h)))
        return;
    r = pool_sweep(conf, p, h, pl, &deleted);
    if (r < 0) {
        const char *why = error_get() ? error_get() : strerror(-r);

        /* A template or disk that is not there is the pool's clone error
         * already (GET /service/pools): no second warning for it. */
        if (!pl->sweep_warned && r != -ENOENT)
            log_warning("Pool '%s': cannot look for volumes left by interrupted clones on "
                        "'%s' (tried again at each pass): %s", p->name, virt_host_name(h), why);
        else
            log_debug("Pool '%s': sweep on '%s' failed again: %s", p->name, virt_host_name(h),
                      why);
        pl->sweep_warned = true;
        return;
    }
    free(pl->swept_host);
    pl->swept_host = strdup(virt_host_name(h));
    pl->swept = pl->swept_host != NULL;
    pl->swept_gen = gen;
    pl->sweep_warned = false;
    log_debug("Pool '%s': swept '%s': %u left volume%s deleted", p->name, virt_host_name(h),
              deleted, deleted == 1 ? "" : "s");
}

/* ---- the manager ---- */

/* One pass over pool p: finish, recycle, promote, refill.  Whether it
 * changed anything (then another pass follows at once). */
static bool pool_pass(const Conf *conf, const ConfPool *p)
{
    Host *h = pool_host(p);
    PoolLock *pl = pool_lock_get(p->name);
    OpsCaller sys = manager_caller(conf);
    Clone *cl = NULL;
    size_t n = 0;
    unsigned live = 0, made = 0, ready = 0, pending = 0, running = 0;
    long long now = (long long)time(NULL);
    bool changed = false;

    if (!h || !pl || !virt_host_up(h))
        return false;
    pool_sweep_maybe(conf, p, h, pl);
    if (clones_collect(p->name, h, &cl, &n) < 0)
        return false;
    for (size_t i = 0; i < n && !stopping(); i++) {
        Clone *c = &cl[i];
        PoolClone pc = { .state = clone_state(c), .active = machine_state_is_active(c->m.state),
                         .since = c->pool.since, .expires = c->pool.expires };
        PoolAction act = pool_next_action(&pc, now, p->timeout, p->ready_ttl);
        const char *why = NULL;
        OpsPowerResult pr;

        live += pool_action_counts(&pc, act);
        switch (act) {
        case POOL_ACTION_KEEP:
            continue;
        case POOL_ACTION_IGNORE:
            log_warning("Pool '%s': '%s' has unknown state '%s': left alone", p->name, c->m.name,
                        c->pool.state ? c->pool.state : "");
            continue;
        case POOL_ACTION_DELETE:
            if (clone_delete(conf, c) == 0)
                changed = true;
            continue;
        case POOL_ACTION_START:
            if (ops_power(&sys, &c->m, POWER_ON, false, &pr) < 0)
                log_debug("Pool '%s': '%s' does not start yet: %s", p->name, c->m.name,
                          error_get() ? error_get() : "");
            continue;
        case POOL_ACTION_CHECK:
            if (clone_ready(p, c) &&
                clone_set_state(conf, pl, c, POOL_STATE_READY, "ready check passed") == 0)
                changed = true;
            continue;
        case POOL_ACTION_EXPIRE:
            why = "lease expired";
            break;
        case POOL_ACTION_RECYCLE:
            why = pc.state == POOL_STATE_PENDING ? "not ready in time"
                  : pc.active                    ? "ready too long"
                                                 : "stopped while ready";
            break;
        default:
            continue;
        }
        if (clone_set_state(conf, pl, c, POOL_STATE_COMPLETED, why) == 0) {
            (void)clone_delete(conf, c);
            changed = true;
        }
    }
    clones_free(cl, n);
    while (live < p->size && !stopping()) {
        int r = clone_make(conf, p, h, pl);

        if (r < 0) {
            pool_error_set(p->name, error_get() ? error_get() : strerror(-r));
            break;
        }
        pool_error_set(p->name, NULL);
        live++;
        made++;
        changed = true;
    }
    /* The counts after the pass: the gauges of /metrics, and, once, what a
     * (re)started daemon found (the restart-safety record). */
    if (clones_collect(p->name, h, &cl, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            PoolState s = clone_state(&cl[i]);

            ready += s == POOL_STATE_READY;
            pending += s == POOL_STATE_PENDING;
            running += s == POOL_STATE_RUNNING;
        }
        clones_free(cl, n);
        metrics_pool_set(p->name, ready, pending, running);
        if (!pl->reported)
            log_notice("Pool '%s' on '%s': first pass: %u ready, %u pending, %u running; %u "
                       "clones made", p->name, virt_host_name(h), ready, pending, running,
                       made);
        pl->reported = true;
    }
    return changed;
}

static void *manager_main(void *arg)
{
    (void)arg;
    for (;;) {
        uint64_t until = realtime_usec() + (uint64_t)POOL_TICK_SECONDS * 1000000u;
        struct timespec ts = { .tv_sec = (time_t)(until / 1000000u),
                               .tv_nsec = (long)(until % 1000000u) * 1000 };
        const Conf *conf;
        void *ref = NULL;

        pthread_mutex_lock(&state_lock);
        while (!mgr_stop && !mgr_wake)
            if (pthread_cond_timedwait(&state_cond, &state_lock, &ts) == ETIMEDOUT)
                break;
        mgr_wake = false;
        if (mgr_stop) {
            pthread_mutex_unlock(&state_lock);
            break;
        }
        pthread_mutex_unlock(&state_lock);
        /* A pass counts clones by their pool metadata: before every
         * definition is read it would miss some and make more.  The host's
         * HOST_UP (after its definitions) wakes it again. */
        if (!virt_defs_ready())
            continue;
        conf = ops_conf_acquire(&ref);
        if (!conf)
            continue;
        error_clear();
        for (size_t i = 0; i < conf->n_pools && !stopping(); i++)
            if (pool_pass(conf, &conf->pools[i]))
                ops_pools_wake();
        ops_conf_release(ref);
    }
    return NULL;
}

/* The start guard: a template never starts through virtmcd (its clones'
 * overlays are backed by its disks). */
static int guard_template(const OpsCaller *who, const Machine *m, void *userdata)
{
    (void)userdata;
    for (size_t i = 0; who->conf && i < who->conf->n_pools; i++) {
        const ConfPool *p = &who->conf->pools[i];

        if (streq(p->template_name, m->name) && pool_host(p) == m->host) {
            error_setf("'%s' is the template of pool '%s': its clones' disks are backed by its "
                       "own, so it is never started (force=1 overrides)", m->name, p->name);
            return -EBUSY;
        }
    }
    return 0;
}

static void host_up(const VirtEvent *ev, void *userdata)
{
    (void)userdata;
    if (ev->kind != VIRT_EVENT_HOST_UP)
        return;
    pthread_mutex_lock(&state_lock);
    host_up_gen++;
    pthread_mutex_unlock(&state_lock);
    ops_pools_wake();
}

int ops_pools_start(void)
{
    int r;

    if (!guard_added) {
        r = ops_add_start_guard(guard_template, NULL);
        if (r < 0)
            return r;
        r = virt_observe(host_up, NULL);
        if (r < 0)
            return r;
        guard_added = true;
    }
    mgr_stop = false;
    mgr_wake = true;
    if (pthread_create(&mgr_thread, NULL, manager_main, NULL) != 0)
        return -ENOMEM;
    mgr_started = true;
    return 0;
}

void ops_pools_stop_begin(void)
{
    pthread_mutex_lock(&state_lock);
    mgr_stop = true;
    pthread_cond_broadcast(&state_cond);
    pthread_mutex_unlock(&state_lock);
}

bool ops_pools_stop(unsigned timeout_ms)
{
    uint64_t deadline = realtime_usec() + (uint64_t)timeout_ms * 1000u;
    struct timespec ts = { .tv_sec = (time_t)(deadline / 1000000u),
                           .tv_nsec = (long)(deadline % 1000000u) * 1000 };

    if (!mgr_started)
        return true;
    ops_pools_stop_begin();
    if (pthread_timedjoin_np(mgr_thread, NULL, &ts) != 0) {
        log_warning("The pool manager is still busy (stuck in libvirt?); not waiting");
        return false;
    }
    mgr_started = false;
    return true;
}

/* ---- status ---- */

void ops_pool_status_clear(OpsPoolStatus *p)
{
    free(p->name);
    free(p->template_name);
    free(p->host);
    free(p->error);
    for (size_t k = 0; k < p->n_members; k++)
        free(p->members[k].owner);
    free(p->members);
    *p = (OpsPoolStatus){ 0 };
}

void ops_pools_status_free(OpsPoolStatus *p, size_t n)
{
    for (size_t i = 0; p && i < n; i++)
        ops_pool_status_clear(&p[i]);
    free(p);
}

static int add_member(OpsPoolStatus *s, const Clone *c)
{
    OpsPoolMember *nm = realloc(s->members, (s->n_members + 1) * sizeof(*nm));
    PoolState st = clone_state(c);

    if (!nm)
        return -ENOMEM;
    s->members = nm;
    nm += s->n_members++;
    *nm = (OpsPoolMember){ .state = st, .since = c->pool.since, .expires = c->pool.expires,
                           .machine_state = c->m.state };
    snprintf(nm->name, sizeof(nm->name), "%s", c->m.name);
    snprintf(nm->uuid, sizeof(nm->uuid), "%s", c->m.uuid);
    if (c->owner && st == POOL_STATE_RUNNING && !(nm->owner = strdup(c->owner)))
        return -ENOMEM;
    switch (st) {
    case POOL_STATE_PENDING:
        s->pending++;
        break;
    case POOL_STATE_READY:
        s->ready++;
        break;
    case POOL_STATE_RUNNING:
        s->running++;
        break;
    case POOL_STATE_COMPLETED:
        s->completed++;
        break;
    default:
        break;
    }
    return 0;
}

int ops_pools_status(const Conf *conf, OpsPoolStatus **ret, size_t *ret_n)
{
    Clone *cl = NULL;
    OpsPoolStatus *v;
    size_t n = 0, nv = 0;
    int r;

    r = clones_collect(NULL, NULL, &cl, &n);
    if (r < 0)
        return r;
    v = calloc(conf->n_pools + n + 1, sizeof(*v));
    if (!v) {
        clones_free(cl, n);
        return -ENOMEM;
    }
    for (size_t i = 0; i < conf->n_pools; i++) {
        const ConfPool *p = &conf->pools[i];
        Host *h = pool_host(p);
        OpsPoolStatus *s = &v[nv++];

        s->name = strdup(p->name);
        s->template_name = strdup(p->template_name);
        s->host = h ? strdup(virt_host_name(h)) : p->host ? strdup(p->host) : NULL;
        s->size = p->size;
        s->error = pool_error_get(p->name);
        if (!s->name || !s->template_name)
            goto oom;
    }
    for (size_t k = 0; k < n; k++) {
        const Clone *c = &cl[k];
        OpsPoolStatus *s = NULL;

        for (size_t i = 0; i < nv && !s; i++) {
            if (!streq(v[i].name, c->pool.name))
                continue;
            /* A configured pool's clones on another host are orphans, and
             * orphans are listed per pool and host. */
            if (!v[i].host || !streq(v[i].host, virt_host_name(c->m.host)))
                continue;
            s = &v[i];
        }
        if (!s) {
            s = &v[nv++];
            s->orphan = true;
            s->name = strdup(c->pool.name);
            s->host = strdup(virt_host_name(c->m.host));
            if (!s->name || !s->host)
                goto oom;
        }
        if (add_member(s, c) < 0)
            goto oom;
    }
    clones_free(cl, n);
    *ret = v;
    *ret_n = nv;
    return 0;
oom:
    clones_free(cl, n);
    ops_pools_status_free(v, nv);
    return -ENOMEM;
}

int ops_pool_status(const Conf *conf, const char *name, OpsPoolStatus *ret)
{
    OpsPoolStatus *v = NULL;
    size_t n = 0;
    int r = ops_pools_status(conf, &v, &n);

    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++)
        if (streq(v[i].name, name)) {
            *ret = v[i];
            v[i] = v[n - 1];
            ops_pools_status_free(v, n - 1);
            return 0;
        }
    ops_pools_status_free(v, n);
    error_setf("pool '%s' not found", name);
    return -ENOENT;
}

/* ---- checkout and leases ---- */

static int name_cmp(const void *a, const void *b)
{
    return strcmp(((const OpsPoolRequest *)a)->pool, ((const OpsPoolRequest *)b)->pool);
}

static unsigned cap_lifetime(const ConfPool *p, unsigned hours)
{
    if (hours == 0)
        hours = p->lifetime;
    return hours > p->max_lifetime ? p->max_lifetime : hours;
}

static void lease_fill(const Clone *c, OpsLease *l)
{
    *l = (OpsLease){ .machine = c->m, .state = clone_state(c), .checkout = c->pool.checkout,
                     .lifetime = c->pool.lifetime, .expires = c->pool.expires };
    snprintf(l->pool, sizeof(l->pool), "%s", c->pool.name ? c->pool.name : "");
    snprintf(l->owner, sizeof(l->owner), "%s", c->owner ? c->owner : "");
}

/* The ready clones of one pool, oldest ready first. */
static int since_cmp(const void *a, const void *b)
{
    const Clone *x = a, *y = b;

    return x->pool.since < y->pool.since ? -1 : x->pool.since > y->pool.since;
}

int ops_pool_checkout(const OpsCaller *who, const OpsPoolRequest *req, size_t n,
                      unsigned lifetime, const MetaPatch *tags, OpsLease **ret, size_t *ret_n,
                      char ***ret_empty)
{
    _cleanup_free_ OpsPoolRequest *sorted = NULL;
    _cleanup_free_ PoolLock **locks = NULL;
    _cleanup_strv_free_ char **empty = NULL;
    Clone **picked = NULL;
    size_t *n_picked = NULL, n_locked = 0, total = 0, n_empty = 0, n_out = 0, n_done = 0;
    OpsLease *out = NULL;
    Buf msg = { 0 };
    long long now = (long long)time(NULL);
    int r;

    r = ops_require(who, ROLE_OPERATOR, "checkout");
    if (r < 0)
        return r;
    if (n == 0) {
        error_setf("name at least one pool");
        return -EINVAL;
    }
    if (tags) {
        r = meta_patch_check(tags);
        if (r < 0)
            return r;
    }
    sorted = calloc(n, sizeof(*sorted));
    locks = calloc(n, sizeof(*locks));
    picked = calloc(n, sizeof(*picked));
    n_picked = calloc(n, sizeof(*n_picked));
    empty = calloc(n + 1, sizeof(char *));
    r = -ENOMEM;
    if (!sorted || !locks || !picked || !n_picked || !empty)
        goto out;
    memcpy(sorted, req, n * sizeof(*req));
    qsort(sorted, n, sizeof(*sorted), name_cmp);
    for (size_t i = 0; i < n; i++) {
        if (!conf_find_pool(who->conf, sorted[i].pool)) {
            error_setf("pool '%s' not found", sorted[i].pool);
            r = -ENOENT;
            goto out;
        }
        if (i > 0 && streq(sorted[i].pool, sorted[i - 1].pool)) {
            error_setf("pool '%s' is named twice", sorted[i].pool);
            r = -EINVAL;
            goto out;
        }
        if (sorted[i].count < 1 || sorted[i].count > POOL_CHECKOUT_MAX) {
            error_setf("count for pool '%s' must be 1..%d", sorted[i].pool, POOL_CHECKOUT_MAX);
            r = -EINVAL;
            goto out;
        }
        total += sorted[i].count;
    }
    if (total > POOL_CHECKOUT_MAX) {
        error_setf("at most %d machines per checkout", POOL_CHECKOUT_MAX);
        r = -EINVAL;
        goto out;
    }
    /* Pool locks in name order (the lock order). */
    for (size_t i = 0; i < n; i++) {
        locks[i] = pool_lock_get(sorted[i].pool);
        r = -ENOMEM;
        if (!locks[i])
            goto out;
        r = pool_lock_take(who->conf, locks[i]);
        if (r < 0)
            goto out;
        n_locked++;
    }
    /* Under the locks, the table is the truth: no ready clone moves. */
    for (size_t i = 0; i < n; i++) {
        const ConfPool *p = conf_find_pool(who->conf, sorted[i].pool);
        Host *h = pool_host(p);
        Clone *cl = NULL;
        size_t nc = 0, k = 0;

        if (h && virt_host_up(h)) {
            r = clones_collect(p->name, h, &cl, &nc);
            if (r < 0)
                goto out;
        }
        for (size_t j = 0; j < nc; j++)
            if (clone_state(&cl[j]) == POOL_STATE_READY && machine_state_is_active(cl[j].m.state))
                cl[k++] = cl[j];
            else {
                dom_pool_clear(&cl[j].pool);
                free(cl[j].owner);
            }
        /* cl is NULL for a pool whose host is down: qsort takes no NULL. */
        if (k > 1)
            qsort(cl, k, sizeof(*cl), since_cmp);
        picked[i] = cl;
        n_picked[i] = k;
        if (k < sorted[i].count) {
            empty[n_empty] = strdup(p->name);
            r = -ENOMEM;
            if (!empty[n_empty++])
                goto out;
        }
    }
    if (n_empty) {
        buf_puts(&msg, n_empty == 1 ? "pool " : "pools ");
        for (size_t i = 0; i < n_empty; i++)
            buf_printf(&msg, "%s'%s'", i ? ", " : "", empty[i]);
        buf_printf(&msg, " %s not enough ready machines; nothing was checked out",
                   n_empty == 1 ? "has" : "have");
        {
            _cleanup_free_ char *s = buf_steal(&msg);

            error_setf("%s", s ? s : "pools are empty");
        }
        r = -EAGAIN;
        goto out;
    }
    out = calloc(total, sizeof(*out));
    r = -ENOMEM;
    if (!out)
        goto out;
    /* The commit: one metadata write per machine; on a failure the ones
     * written go back to ready. */
    r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        const ConfPool *p = conf_find_pool(who->conf, sorted[i].pool);
        unsigned hours = cap_lifetime(p, lifetime);

        for (size_t k = 0; k < sorted[i].count && r == 0; k++) {
            Clone *c = &picked[i][k];
            MachineLock *ml = NULL;
            DomPool np = c->pool;

            np.state = (char *)pool_state_to_string(POOL_STATE_RUNNING);
            np.since = np.checkout = now;
            np.lifetime = hours;
            np.expires = now + (long long)hours * 3600;
            r = ops_lock(who->conf, &c->m, "checkout", &ml);
            if (r == 0) {
                r = meta_write(who->conf, &c->m, "pool-checkout", &np, false, ops_who(who),
                               tags);
                virt_machine_unlock(ml);
            }
            if (r < 0)
                break;
            free(c->owner);
            c->owner = strdup(ops_who(who));
            free(c->pool.state);
            c->pool.state = strdup(np.state);
            c->pool.since = c->pool.checkout = now;
            c->pool.lifetime = hours;
            c->pool.expires = np.expires;
            lease_fill(c, &out[n_out++]);
        }
    }
    if (r < 0) {
        const char *why = error_get() ? error_get() : strerror(-r);
        _cleanup_free_ char *saved = strdup(why);

        for (size_t i = 0; i < n_out; i++) {
            Clone *c = NULL;

            for (size_t a = 0; a < n && !c; a++)
                for (size_t b = 0; b < n_picked[a] && !c; b++)
                    if (streq(picked[a][b].m.name, out[i].machine.name))
                        c = &picked[a][b];
            if (c) {
                MachineLock *ml = NULL;
                DomPool back = c->pool;

                back.state = (char *)pool_state_to_string(POOL_STATE_READY);
                back.checkout = back.expires = 0;
                back.lifetime = 0;
                if (ops_lock(who->conf, &c->m, "checkout undo", &ml) == 0) {
                    if (meta_write(who->conf, &c->m, "pool-checkout-undo", &back, false, NULL,
                                   NULL) < 0)
                        log_error("Checkout undo: '%s' stays checked out by %s: %s",
                                  c->m.name, ops_who(who), error_get() ? error_get() : "");
                    virt_machine_unlock(ml);
                }
            }
        }
        error_setf("checkout failed, nothing was checked out: %s", saved ? saved : "error");
        r = r == -EAGAIN ? -EBUSY : r;
        n_out = 0;
        goto out;
    }
    for (size_t i = 0; i < n_out; i++) {
        log_info("Pool '%s': '%s' checked out by %s for %u h", out[i].pool, out[i].machine.name,
                 ops_who(who), out[i].lifetime);
        n_done++;
    }
out:
    for (size_t i = n_locked; i > 0; i--)
        pthread_mutex_unlock(&locks[i - 1]->mutex);
    for (size_t i = 0; i < n; i++)
        if (picked && picked[i])
            clones_free(picked[i], n_picked[i]);
    free(picked);
    free(n_picked);
    buf_free(&msg);
    if (n_done)
        ops_pools_wake();
    if (r < 0) {
        free(out);
        if (r == -EAGAIN && ret_empty)
            *ret_empty = steal_ptr(&empty);
        return r;
    }
    *ret = out;
    *ret_n = n_out;
    return 0;
}

/* The lease of m for who: owner or admin. */
static int lease_clone(const OpsCaller *who, const Machine *m, Clone *ret)
{
    Clone c = { 0 };
    int r = clone_get(m, &c);

    if (r < 0)
        return r;
    if (clone_state(&c) != POOL_STATE_RUNNING) {
        error_setf("'%s' is not checked out (pool '%s', %s)", m->name, c.pool.name,
                   c.pool.state ? c.pool.state : "no state");
        clone_clear(&c);
        return -ENOENT;
    }
    if (who->role < ROLE_ADMIN && (!c.owner || !who->user || !streq(c.owner, who->user))) {
        error_setf("'%s' is checked out by %s: only they or an admin may see or change its "
                   "lease", m->name, c.owner ? c.owner : "someone else");
        clone_clear(&c);
        return -EACCES;
    }
    *ret = c;
    return 0;
}

int ops_lease_get(const OpsCaller *who, const Machine *m, OpsLease *ret)
{
    _cleanup_(clone_clear) Clone c = { 0 };
    int r = lease_clone(who, m, &c);

    if (r < 0)
        return r;
    lease_fill(&c, ret);
    return 0;
}

int ops_lease_set(const OpsCaller *who, const Machine *m, unsigned lifetime, OpsLease *ret)
{
    _cleanup_(clone_clear) Clone c = { 0 };
    const ConfPool *p;
    PoolLock *pl;
    MachineLock *ml = NULL;
    DomPool np;
    int r;

    r = lease_clone(who, m, &c);
    if (r < 0)
        return r;
    p = conf_find_pool(who->conf, c.pool.name);
    if (!p) {
        error_setf("pool '%s' of '%s' is no longer configured", c.pool.name, m->name);
        return -ENOENT;
    }
    if (lifetime < 1) {
        error_setf("lifetime must be a whole number of hours from 1");
        return -EINVAL;
    }
    pl = pool_lock_get(p->name);
    if (!pl)
        return -ENOMEM;
    r = pool_lock_take(who->conf, pl);
    if (r < 0)
        return r;
    clone_clear(&c);
    r = lease_clone(who, m, &c);
    if (r == 0)
        r = ops_lock(who->conf, m, "lease", &ml);
    if (r == 0) {
        np = c.pool;
        np.lifetime = cap_lifetime(p, lifetime);
        np.expires = c.pool.checkout + (long long)np.lifetime * 3600;
        r = meta_write(who->conf, m, "pool-lease", &np, true, NULL, NULL);
        virt_machine_unlock(ml);
        if (r == 0) {
            c.pool.lifetime = np.lifetime;
            c.pool.expires = np.expires;
            lease_fill(&c, ret);
            log_info("Pool '%s': lease of '%s' set to %u h by %s", p->name, m->name,
                     np.lifetime, ops_who(who));
        }
    }
    pthread_mutex_unlock(&pl->mutex);
    return r;
}

int ops_lease_return(const OpsCaller *who, const Machine *m)
{
    _cleanup_(clone_clear) Clone c = { 0 };
    PoolLock *pl;
    int r;

    r = lease_clone(who, m, &c);
    if (r < 0)
        return r;
    pl = pool_lock_get(c.pool.name);
    if (!pl)
        return -ENOMEM;
    r = clone_set_state(who->conf, pl, &c, POOL_STATE_COMPLETED, "returned");
    if (r == -EAGAIN) {
        error_setf("'%s' changed state meanwhile; try again", m->name);
        return -EBUSY;
    }
    if (r < 0)
        return r;
    log_info("Pool '%s': '%s' returned by %s", c.pool.name, m->name, ops_who(who));
    ops_pools_wake();
    return 0;
}

typedef struct LeaseLook {
    const char *user;
    bool leased;   /* an unexpired lease */
    bool owned;    /* ... of user */
} LeaseLook;

static int lease_row(const Machine *m, const DomInfo *info, void *userdata)
{
    LeaseLook *l = userdata;

    (void)m;
    if (!info || !info->pool.name || !info->pool.state || !streq(info->pool.state, "running"))
        return 0;
    if (info->pool.expires && info->pool.expires <= (long long)time(NULL))
        return 0;
    l->leased = true;
    l->owned = l->user && info->owner && streq(info->owner, l->user);
    return 0;
}

bool ops_lease_owned(const Machine *m, const char *user)
{
    LeaseLook l = { .user = user };

    if (!user || !*user)
        return false;
    (void)virt_machine_with(m->host, m->name, lease_row, &l);
    return l.owned;
}

Role ops_lease_role(const Machine *m, const char *user, Role role)
{
    LeaseLook l = { .user = user && *user ? user : NULL };

    if (role >= ROLE_ADMIN)
        return role;
    (void)virt_machine_with(m->host, m->name, lease_row, &l);
    if (!l.leased)
        return role;
    return l.owned ? (role > ROLE_OPERATOR ? role : ROLE_OPERATOR) : ROLE_USER;
}

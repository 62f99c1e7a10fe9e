/* ops-guard.c: the start guards (API.md section 4, vmcli's checks before a
 * start): the same UUID or name active on another host, a MAC address or a
 * writable disk source in use by another active machine on any host, and
 * the host's free memory ([power] memory_guard).
 *
 * Everything is judged from virt's machine tables, which keep each
 * machine's MACs, disks and memory from its definition in use: checking a
 * start reads no definition.  ops_power runs the guards and the start under
 * one process-wide lock, so two starts through virtmcd never both pass a
 * check that only one of them may pass. */
#include "config.h"

#include <stdio.h>
#include <strings.h>

#include "log.h"
#include "ops-private.h"
#include "util.h"

/* What the machine to start would use, copied out of its table row. */
typedef struct StartNeeds {
    const Machine *m;
    char **macs;          /* lower case */
    DomDisk *disks;       /* source, readonly, shareable only */
    size_t n_disks;
    unsigned long long memory_kib;
    bool known;           /* the row had its definition */
} StartNeeds;

static void needs_clear(StartNeeds *n)
{
    strv_free(n->macs);
    for (size_t i = 0; i < n->n_disks; i++)
        free(n->disks[i].source);
    free(n->disks);
}

static char *mac_lower(const char *mac)
{
    char *s = strdup(mac);

    for (char *p = s; p && *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    return s;
}

static int needs_copy(const Machine *m, const DomInfo *info, void *userdata)
{
    StartNeeds *n = userdata;

    if (!info)
        return 0;
    n->known = true;
    n->memory_kib = info->memory_kib;
    for (size_t i = 0; i < info->n_ifaces; i++) {
        _cleanup_free_ char *mac = NULL;

        if (!info->ifaces[i].mac)
            continue;
        mac = mac_lower(info->ifaces[i].mac);
        if (!mac || strv_push(&n->macs, mac) < 0)
            return -ENOMEM;
    }
    n->disks = calloc(info->n_disks + 1, sizeof(DomDisk));
    if (!n->disks)
        return -ENOMEM;
    for (size_t i = 0; i < info->n_disks; i++) {
        const DomDisk *d = &info->disks[i];
        DomDisk *c;

        if (!d->source)
            continue;
        c = &n->disks[n->n_disks];
        c->source = strdup(d->source);
        if (!c->source)
            return -ENOMEM;
        c->readonly = d->readonly;
        c->shareable = d->shareable;
        n->n_disks++;
    }
    return 0;
}

/* Two machines may both use a disk that both open read-only, or that both
 * mark shareable (a cluster file system's disk); any other pair corrupts it. */
static bool disks_clash(const DomDisk *a, const DomDisk *b)
{
    if (!a->source || !b->source || !streq(a->source, b->source))
        return false;
    if (a->readonly && b->readonly)
        return false;
    if (a->shareable && b->shareable)
        return false;
    return true;
}

/* -EBUSY naming the first clash of n with m (an active machine). */
static int clash_with(const StartNeeds *n, const Machine *m, const DomInfo *info)
{
    const Machine *me = n->m;
    const char *there = virt_host_name(m->host);
    const char *how = m->stale ? " (last known: its host is unreachable)" : "";

    if (m->host != me->host) {
        if (strcasecmp(m->uuid, me->uuid) == 0 && streq(m->name, me->name)) {
            error_setf("machine '%s' is already %s on host '%s'%s", me->name,
                       machine_state_to_string(m->state), there, how);
            return -EBUSY;
        }
        if (strcasecmp(m->uuid, me->uuid) == 0) {
            error_setf("machine '%s' (UUID %s) is already %s on host '%s' as '%s'%s", me->name,
                       me->uuid, machine_state_to_string(m->state), there, m->name, how);
            return -EBUSY;
        }
        if (streq(m->name, me->name)) {
            error_setf("a machine named '%s' is already %s on host '%s'%s", me->name,
                       machine_state_to_string(m->state), there, how);
            return -EBUSY;
        }
    }
    if (!info)
        return 0;
    for (size_t i = 0; i < info->n_ifaces; i++) {
        const char *mac = info->ifaces[i].mac;

        for (char *const *p = n->macs; mac && p && *p; p++)
            if (strcasecmp(*p, mac) == 0) {
                error_setf("MAC address %s of '%s' is in use by '%s' (%s) on host '%s'%s", *p,
                           me->name, m->name, machine_state_to_string(m->state), there, how);
                return -EBUSY;
            }
    }
    for (size_t i = 0; i < info->n_disks; i++)
        for (size_t k = 0; k < n->n_disks; k++)
            if (disks_clash(&n->disks[k], &info->disks[i])) {
                error_setf("disk %s of '%s' is in use by '%s' (%s) on host '%s'%s",
                           n->disks[k].source, me->name, m->name,
                           machine_state_to_string(m->state), there, how);
                return -EBUSY;
            }
    return 0;
}

static int check_row(const Machine *m, const DomInfo *info, void *userdata)
{
    const StartNeeds *n = userdata;

    if (m->host == n->m->host && streq(m->name, n->m->name))
        return 0;
    if (!machine_state_is_active(m->state))
        return 0;
    return clash_with(n, m, info);
}

/* The host's free memory against the machine's <memory>: libvirt's figure
 * now, else the last known one or the table's estimate. */
static int check_memory(const OpsCaller *who, const StartNeeds *n)
{
    Host *h = (Host *)n->m->host;
    unsigned long long free_kib = 0;
    bool estimated = false;
    int r;

    if (!who->conf->memory_guard || !n->known || n->memory_kib == 0)
        return 0;
    r = virt_host_free_memory_now(h, &free_kib);
    if (r < 0)
        r = virt_host_free_memory(h, &free_kib, &estimated);
    if (r < 0) {
        log_debug("start of '%s': the free memory of host '%s' is unknown; not checked",
                  n->m->name, virt_host_name(h));
        return 0;
    }
    if (n->memory_kib <= free_kib)
        return 0;
    error_setf("host '%s' has %llu KiB of memory free%s; '%s' needs %llu KiB", virt_host_name(h),
               free_kib, estimated ? " (its memory less that of its active machines)" : "",
               n->m->name, n->memory_kib);
    return -EBUSY;
}

#define GUARD_DEFS_WAIT_MS 30000u

/* The guard itself (registered by ops_init through ops_add_start_guard). */
int ops_guard_start(const OpsCaller *who, const Machine *m, void *userdata)
{
    _cleanup_(needs_clear) StartNeeds n = { .m = m };
    int r;

    (void)userdata;
    /* The guards read every row's MACs, disks and memory: not before a
     * host that just came up has read them (HTTP requests waited already;
     * this is for the ops worker and the pool manager). */
    if (virt_defs_wait(GUARD_DEFS_WAIT_MS) < 0) {
        error_setf("the machines' definitions are still being read from libvirt: the start "
                   "of '%s' cannot be checked yet", m->name);
        return -EAGAIN;
    }
    r = virt_machine_with(m->host, m->name, needs_copy, &n);
    if (r < 0)
        return r;
    if (!n.known)
        log_debug("start of '%s': its definition is not in the table; only names and UUIDs "
                  "are checked", m->name);
    r = virt_machines_each(NULL, check_row, &n);
    if (r == 0)
        r = check_memory(who, &n);
    if (r == -EBUSY)
        log_info("start of '%s' refused: %s", m->name, error_get());
    return r;
}

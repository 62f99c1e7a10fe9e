/* redfish-systems.c: the Redfish ComputerSystems (API.md section 6): the
 * collection, one system per machine (Id = domain UUID; a name answers 307
 * to it), its ETag and If-Match, the Reset action, the Boot PATCH, and the
 * system's EthernetInterfaces, Processors, SimpleStorage and Storage (with
 * its Drives and Volumes).
 *
 * Handlers decode, call the operations layer (ops_power, ops_boot_set) and
 * encode; what they show comes from virt's machine table, the boot order
 * from ops_boot_get and disk sizes from virt's block info (reads only).
 * This file never calls a changing virt_* function. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "redfish.h"
#include "util.h"

#define RF_SYSTEMS RF_ROOT "/Systems"

Json *rf_collection(const char *odata_id, const char *odata_type, const char *name,
                    Json *members)
{
    Json *o = json_obj();

    json_set_str(o, "@odata.id", odata_id);
    json_set_str(o, "@odata.type", odata_type);
    json_set_str(o, "Name", name);
    json_set_int(o, "Members@odata.count", (long long)json_arr_len(members));
    json_set(o, "Members", members);
    return o;
}

/* ---- what the table says of one machine ---- */

typedef struct SysDisk {
    char *target;
    char *device;
    bool empty;    /* no source: an empty drive */
} SysDisk;

typedef struct SysInfo {
    Machine m;
    bool has_info;         /* the definition could be read */
    unsigned vcpus, sockets, cores, threads;
    unsigned long long memory_kib;
    char *arch;
    char **macs;
    SysDisk *disks;
    size_t n_disks;
} SysInfo;

static void sys_info_clear(SysInfo *si)
{
    free(si->arch);
    strv_free(si->macs);
    for (size_t i = 0; i < si->n_disks; i++) {
        free(si->disks[i].target);
        free(si->disks[i].device);
    }
    free(si->disks);
    *si = (SysInfo){ 0 };
}

/* Under the host's read lock: copy, nothing else. */
static int sys_info_copy(const Machine *m, const DomInfo *info, void *userdata)
{
    SysInfo *si = userdata;

    si->m = *m;
    if (!info)
        return 0;
    si->has_info = true;
    si->vcpus = info->vcpus;
    si->sockets = info->sockets;
    si->cores = info->cores;
    si->threads = info->threads;
    si->memory_kib = info->memory_kib;
    if (info->arch && !(si->arch = strdup(info->arch)))
        return -ENOMEM;
    for (size_t i = 0; i < info->n_ifaces; i++)
        if (info->ifaces[i].mac && strv_push(&si->macs, info->ifaces[i].mac) < 0)
            return -ENOMEM;
    si->disks = calloc(info->n_disks + 1, sizeof(*si->disks));
    if (!si->disks)
        return -ENOMEM;
    for (size_t i = 0; i < info->n_disks; i++) {
        const DomDisk *d = &info->disks[i];
        SysDisk *o = &si->disks[si->n_disks];

        if (!d->target)
            continue;
        o->target = strdup(d->target);
        o->device = strdup(d->device ? d->device : "disk");
        o->empty = !d->source;
        si->n_disks++;
        if (!o->target || !o->device)
            return -ENOMEM;
    }
    return 0;
}

static int sys_info_load(const Ctx *c, SysInfo *ret)
{
    int r = virt_machine_with(c->host, c->name, sys_info_copy, ret);

    if (r == -ENOENT)
        error_setf("machine '%s' not found", c->name);
    return r;
}

/* ---- vocabularies ---- */

/* API.md section 6. */
static const char *power_state(MachineState s)
{
    switch (s) {
    case MACHINE_RUNNING:
    case MACHINE_IDLE:
        return "On";
    case MACHINE_IN_SHUTDOWN:
        return "PoweringOff";
    case MACHINE_PAUSED:
    case MACHINE_PMSUSPENDED:
        return "Paused";
    default:
        return "Off";
    }
}

static bool powered_on(MachineState s)
{
    return s == MACHINE_RUNNING || s == MACHINE_IDLE;
}

static Json *status_json(const char *state, const char *health)
{
    Json *o = json_obj();

    json_set_str(o, "State", state);
    json_set_str(o, "Health", health);
    return o;
}

static Json *system_status(MachineState s)
{
    if (s == MACHINE_CRASHED)
        return status_json("Enabled", "Critical");
    if (s == MACHINE_SHUT_OFF || s == MACHINE_NOSTATE)
        return status_json("StandbyOffline", "OK");
    return status_json("Enabled", "OK");
}

/* ResetType, in the order of ResetType@Redfish.AllowableValues.  Each maps
 * onto one power action of the operations layer (PushPowerButton depends
 * on the state, see reset_action). */
static const struct {
    const char *name;
    PowerAction action;
} reset_types[] = {
    { "On", POWER_ON },
    { "ForceOff", POWER_OFF },
    { "GracefulShutdown", POWER_SOFT_OFF },
    { "GracefulRestart", POWER_REBOOT },
    { "ForceRestart", POWER_FORCE_RESET },
    { "Nmi", POWER_NMI },
    { "ForceOn", POWER_ON },
    { "PushPowerButton", _POWER_ACTION_INVALID },
    { "PowerCycle", POWER_CYCLE },
};

/* BootSourceOverrideTarget values and the boot targets of ops. */
static const struct {
    const char *name;
    BootTarget target;
    BootClass cls;
} boot_targets[] = {
    { "None", BOOT_TARGET_DEFAULT, _BOOT_CLASS_INVALID },
    { "Pxe", BOOT_TARGET_NETWORK, BOOT_CLASS_NETWORK },
    { "Hdd", BOOT_TARGET_DISK, BOOT_CLASS_DISK },
    { "Cd", BOOT_TARGET_CDROM, BOOT_CLASS_CDROM },
};

static const char *const boot_enabled[] = { "Once", "Continuous", "Disabled", NULL };

static const char *target_of_class(BootClass cls)
{
    for (size_t i = 0; i < ELEMENTSOF(boot_targets); i++)
        if (boot_targets[i].cls == cls && cls != _BOOT_CLASS_INVALID)
            return boot_targets[i].name;
    return "None";
}

/* The current override, as Redfish says it: Once while a one-time order is
 * armed; Continuous while the order differs from the machine's default (the
 * one before virtmcd first changed it); else Disabled. */
static const char *boot_enabled_of(const BootInfo *cur, const BootInfo *def)
{
    if (cur->once_restore)
        return "Once";
    if (def && !boot_info_same_order(cur, def))
        return "Continuous";
    return "Disabled";
}

/* ---- finding the system of the URL ---- */

/* The URL of the request with its system segment (the 4th) replaced by
 * uuid, absolute: the scheme of the connection, the authority of Host. */
static char *redirect_location(const Ctx *c, const char *uuid)
{
    const char *path = c->req->path, *host = http_header(c->req, "Host"), *p = path;
    const char *seg, *rest;

    /* "/redfish/v1/Systems/<seg>/...": skip four slashes. */
    for (int i = 0; i < 4 && p; i++)
        p = strchr(p + (i > 0), '/');
    if (!p)
        return NULL;
    seg = p + 1;
    rest = strchr(seg, '/');
    if (!host || !*host || strpbrk(host, " \t\r\n/\\@?#"))
        host = http_listen_is_unix() ? "localhost" : http_bound_address();
    return strdup_printf("%s://%s%.*s%s%s", c->req->tls ? "https" : "http", host,
                         (int)(seg - path), path, uuid, rest ? rest : "");
}

/* Resolve {sys} into c->machine: 404 unknown or outside the user's ACL,
 * 409 several hosts, 503 host down, 307 to the UUID URL for a name.  False
 * when it answered. */
bool rf_sys_resolve(Ctx *c)
{
    _cleanup_strv_free_ char **hosts = NULL;
    const char *seg = route_param(&c->m, "sys");
    Machine m;
    int r;

    if (!seg) {
        rf_error(c, 500, "InternalError", "route without a system");
        return false;
    }
    c->req->log_machine = seg;
    r = ops_machine_find(seg, NULL, &m, &hosts);
    if (r == -ENOTUNIQ) {
        _cleanup_free_ char *list = NULL;
        Buf b = { 0 };

        for (size_t i = 0; hosts && hosts[i]; i++)
            buf_printf(&b, "%s%s", i ? ", " : "", hosts[i]);
        list = buf_steal(&b);
        buf_free(&b);
        rf_error(c, 409, "ResourceInUse",
                 "'%s' names machines on several hosts (%s): address the system by its "
                 "UUID, or remove the duplicate", seg, list ? list : "");
        return false;
    }
    if (r == -ENOENT || (r == 0 && !api_machine_visible(c, m.name))) {
        rf_error(c, 404, "ResourceMissingAtURI", "no system '%s'", seg);
        return false;
    }
    if (r < 0) {
        rf_error_errno(c, r, "look up the system");
        return false;
    }
    c->machine = m;
    c->host = (Host *)c->machine.host;
    c->name = c->machine.name;
    c->req->log_machine = c->name;
    if (!streq(seg, m.uuid)) {
        _cleanup_free_ char *loc = redirect_location(c, m.uuid);

        if (!loc || reply_add_header(c->rep, "Location", loc) < 0) {
            rf_error(c, 500, "InternalError", "out of memory");
            return false;
        }
        reply_set(c->rep, 307, NULL, NULL, 0);
        return false;
    }
    if (m.stale) {
        api_reply_error(c, 503, "host '%s' is unreachable", virt_host_name(c->host));
        return false;
    }
    return true;
}

static char *sys_path(const Machine *m, const char *sub)
{
    return strdup_printf(RF_SYSTEMS "/%s%s%s", m->uuid, sub ? "/" : "", sub ? sub : "");
}

/* ---- the collection ---- */

typedef struct ListWalk {
    Ctx *c;
    Json *members;
    char **seen;   /* UUIDs listed: a machine defined on two hosts is one URL */
} ListWalk;

static int list_row(const Machine *m, const DomInfo *info, void *userdata)
{
    ListWalk *w = userdata;
    _cleanup_free_ char *path = NULL;

    (void)info;
    if (!api_machine_visible(w->c, m->name))
        return 0;
    for (char **s = w->seen; s && *s; s++)
        if (streq(*s, m->uuid))
            return 0;
    path = sys_path(m, NULL);
    if (!path || strv_push(&w->seen, m->uuid) < 0)
        return -ENOMEM;
    json_push(w->members, rf_link(path));
    return 0;
}

/* The links to every system the caller may see, for Manager and Chassis. */
Json *rf_systems_links(Ctx *c)
{
    ListWalk w = { .c = c, .members = json_arr() };
    int r = virt_machines_each(NULL, list_row, &w);

    strv_free(w.seen);
    if (r < 0) {
        json_unref(w.members);
        return NULL;
    }
    return w.members;
}

void rf_systems_list(Ctx *c)
{
    Json *o, *members;

    if (virt_hosts_up() == 0) {
        c->host = virt_host_at(0);
        api_reply_error(c, 503, "no libvirt host is reachable");
        return;
    }
    members = rf_systems_links(c);
    if (!members) {
        rf_error(c, 500, "InternalError", "out of memory");
        return;
    }
    o = rf_collection(RF_SYSTEMS, "#ComputerSystemCollection.ComputerSystemCollection",
                      "Computer System Collection", members);
    rf_reply(c, 200, o);
}

/* ---- one system ---- */

typedef struct SysView {
    SysInfo si;
    OpsBootState boot;
    BootInfo *def;   /* the default order; NULL: the current one is it */
} SysView;

static void sys_view_clear(SysView *v)
{
    sys_info_clear(&v->si);
    ops_boot_state_clear(&v->boot);
    boot_info_free(v->def);
    *v = (SysView){ 0 };
}

static int sys_view_load(Ctx *c, SysView *v)
{
    OpsCaller who = api_caller(c);
    int r;

    r = sys_info_load(c, &v->si);
    if (r < 0)
        return r;
    r = ops_boot_get(&who, &c->machine, &v->boot);
    if (r < 0)
        return r;
    r = ops_boot_default(&who, &c->machine, &v->def);
    if (r == -ENOENT)
        r = 0;
    return r;
}

static Json *allowable(const char *const *values)
{
    Json *a = json_arr();

    for (size_t i = 0; values[i]; i++)
        json_push_str(a, values[i]);
    return a;
}

/* Whether virtmcd can switch the machine's firmware: x86_64, for which
 * hosts have an EFI firmware (Debian's ovmf) and SeaBIOS. */
static bool mode_switchable(const SysView *v)
{
    return v->si.arch && streq(v->si.arch, "x86_64");
}

static Json *boot_json(const SysView *v)
{
    const BootInfo *bi = v->boot.info;
    Json *o = json_obj(), *targets = json_arr(), *modes = json_arr();
    const char *mode = bi->uefi ? "UEFI" : "Legacy";

    json_set_str(o, "BootSourceOverrideTarget", target_of_class(boot_info_first(bi)));
    /* Every target virtmcd implements, whatever devices the machine has:
     * Ironic's profile wants Pxe, Hdd and Cd listed (MinSupportValues), and
     * virtual media adds a CD-ROM drive later.  A PATCH naming a class the
     * machine lacks is 400, saying so. */
    for (size_t i = 0; i < ELEMENTSOF(boot_targets); i++)
        json_push_str(targets, boot_targets[i].name);
    json_set(o, "BootSourceOverrideTarget@Redfish.AllowableValues", targets);
    json_set_str(o, "BootSourceOverrideEnabled", boot_enabled_of(bi, v->def));
    json_set(o, "BootSourceOverrideEnabled@Redfish.AllowableValues", allowable(boot_enabled));
    json_set_str(o, "BootSourceOverrideMode", mode);
    if (mode_switchable(v)) {
        json_push_str(modes, "UEFI");
        json_push_str(modes, "Legacy");
    } else
        json_push_str(modes, mode);
    json_set(o, "BootSourceOverrideMode@Redfish.AllowableValues", modes);
    return o;
}

static Json *system_json(const SysView *v)
{
    const Machine *m = &v->si.m;
    _cleanup_free_ char *self = sys_path(m, NULL);
    _cleanup_free_ char *target = sys_path(m, "Actions/ComputerSystem.Reset");
    _cleanup_free_ char *nics = sys_path(m, "EthernetInterfaces");
    _cleanup_free_ char *cpus = sys_path(m, "Processors");
    _cleanup_free_ char *disks = sys_path(m, "SimpleStorage");
    _cleanup_free_ char *media = sys_path(m, "VirtualMedia");
    _cleanup_free_ char *storage = sys_path(m, "Storage");
    _cleanup_free_ char *desc = strdup_printf("libvirt domain '%s' on host '%s'", m->name,
                                              virt_host_name(m->host));
    Json *o, *ps, *ms, *links, *a, *actions, *reset, *rt;

    if (!self || !target || !nics || !cpus || !disks || !media || !storage || !desc)
        return NULL;
    o = rf_resource(self, "#ComputerSystem.v1_13_0.ComputerSystem", m->uuid, m->name);
    json_set_str(o, "Description", desc);
    json_set_str(o, "UUID", m->uuid);
    json_set_null(o, "HostName");
    json_set_str(o, "SystemType", "Virtual");
    json_set_str(o, "PowerState", power_state(m->state));
    json_set(o, "Status", system_status(m->state));

    ps = json_obj();
    json_set_int(ps, "Count", v->si.sockets ? v->si.sockets : 1);
    json_set_int(ps, "LogicalProcessorCount", v->si.vcpus);
    json_set(ps, "Status", status_json("Enabled", "OK"));
    json_set(o, "ProcessorSummary", ps);
    ms = json_obj();
    json_set(ms, "TotalSystemMemoryGiB", json_from_double((double)v->si.memory_kib / 1048576.0));
    json_set(ms, "Status", status_json("Enabled", "OK"));
    json_set(o, "MemorySummary", ms);

    json_set(o, "Boot", boot_json(v));
    json_set(o, "EthernetInterfaces", rf_link(nics));
    json_set(o, "Processors", rf_link(cpus));
    json_set(o, "SimpleStorage", rf_link(disks));
    json_set(o, "Storage", rf_link(storage));
    json_set(o, "VirtualMedia", rf_link(media));

    links = json_obj();
    a = json_arr();
    json_push(a, rf_link(RF_MANAGER));
    json_set(links, "ManagedBy", a);
    a = json_arr();
    json_push(a, rf_link(RF_CHASSIS));
    json_set(links, "Chassis", a);
    json_set(o, "Links", links);

    actions = json_obj();
    reset = json_obj();
    json_set_str(reset, "target", target);
    rt = json_arr();
    for (size_t i = 0; i < ELEMENTSOF(reset_types); i++)
        json_push_str(rt, reset_types[i].name);
    json_set(reset, "ResetType@Redfish.AllowableValues", rt);
    json_set(actions, "#ComputerSystem.Reset", reset);
    json_set(o, "Actions", actions);
    return o;
}

/* A strong validator of the representation: 64-bit FNV-1a of its bytes.
 * Equal bodies, equal tags; any change to what GET shows changes it. */
void rf_etag(const char *body, size_t len, char ret[24])
{
    snprintf(ret, 24, "\"%016llx\"", (unsigned long long)fnv1a64(body, len));
}

/* ---- rendered systems, kept while they stand ----
 *
 * A system's body needs both definitions and the backups (the boot order
 * and its default): two libvirt round trips and a directory read, where
 * status needs none.  So the body is kept with the row's seq and virt's
 * change count, read before the definitions were: while both are the same,
 * neither libvirt (events re-read the row) nor virtmcd (every change bumps
 * the count) changed what it shows.  Direct-mapped by UUID: a collision
 * only renders again. */
#define RENDER_SLOTS 1024

typedef struct Rendered {
    pthread_mutex_t lock;
    const Host *host;
    char uuid[37];
    uint64_t seq, changes;
    char *body;
    size_t len;
    char etag[24];
} Rendered;

static Rendered rendered[RENDER_SLOTS];
static pthread_once_t rendered_once = PTHREAD_ONCE_INIT;

static void rendered_init(void)
{
    for (size_t i = 0; i < RENDER_SLOTS; i++)
        pthread_mutex_init(&rendered[i].lock, NULL);
}

static Rendered *rendered_slot(const char *uuid)
{
    pthread_once(&rendered_once, rendered_init);
    return &rendered[fnv1a64(uuid, strlen(uuid)) % RENDER_SLOTS];
}

/* A copy of the body kept for m, if it still stands. */
static bool rendered_get(const Machine *m, uint64_t changes, char **ret_body, size_t *ret_len,
                         char ret_etag[24])
{
    Rendered *r = rendered_slot(m->uuid);
    bool hit;

    pthread_mutex_lock(&r->lock);
    hit = r->body && r->host == m->host && streq(r->uuid, m->uuid) && r->seq == m->seq &&
          r->changes == changes;
    if (hit && (*ret_body = malloc(r->len + 1))) {
        memcpy(*ret_body, r->body, r->len + 1);
        *ret_len = r->len;
        memcpy(ret_etag, r->etag, 24);
    } else
        hit = false;
    pthread_mutex_unlock(&r->lock);
    return hit;
}

static void rendered_put(const Machine *m, uint64_t changes, const char *body, size_t len,
                         const char etag[24])
{
    Rendered *r = rendered_slot(m->uuid);
    char *copy = malloc(len + 1);

    if (!copy)
        return;
    memcpy(copy, body, len + 1);
    pthread_mutex_lock(&r->lock);
    free(r->body);
    r->body = copy;
    r->len = len;
    r->host = m->host;
    snprintf(r->uuid, sizeof(r->uuid), "%s", m->uuid);
    r->seq = m->seq;
    r->changes = changes;
    memcpy(r->etag, etag, 24);
    pthread_mutex_unlock(&r->lock);
}

/* The body and ETag of a loaded view. */
static int view_render(const SysView *v, char **ret_body, size_t *ret_len, char ret_etag[24])
{
    Json *o = system_json(v);
    char *body;
    size_t len = 0;

    if (!o)
        return -ENOMEM;
    body = json_dump(o, &len);
    json_unref(o);
    if (!body)
        return -ENOMEM;
    rf_etag(body, len, ret_etag);
    *ret_body = body;
    *ret_len = len;
    return 0;
}

/* The system as GET answers it: body and ETag; the kept one unless fresh. */
static int system_render(Ctx *c, bool fresh, char **ret_body, size_t *ret_len, char ret_etag[24])
{
    _cleanup_(sys_view_clear) SysView v = { 0 };
    uint64_t changes = virt_change_count();
    int r;

    if (!fresh && rendered_get(&c->machine, changes, ret_body, ret_len, ret_etag))
        return 0;
    r = sys_view_load(c, &v);
    if (r < 0)
        return r;
    r = view_render(&v, ret_body, ret_len, ret_etag);
    if (r < 0)
        return r;
    /* Kept with the seq of the row read before the definitions were. */
    rendered_put(&v.si.m, changes, *ret_body, *ret_len, ret_etag);
    return 0;
}

static void reply_system(Ctx *c, unsigned status)
{
    char *body = NULL, etag[24];
    size_t len = 0;
    int r;

    r = system_render(c, false, &body, &len, etag);
    if (r < 0) {
        rf_error_errno(c, r, "read the system");
        return;
    }
    reply_set(c->rep, status, "application/json", body, len);
    (void)reply_add_header(c->rep, "ETag", etag);
}

void rf_system_get(Ctx *c)
{
    char *body = NULL, etag[24];
    size_t len = 0;

    if (!rf_sys_resolve(c))
        return;
    /* Kept and still standing: answered on the HTTP thread. */
    if (rendered_get(&c->machine, virt_change_count(), &body, &len, etag)) {
        reply_set(c->rep, 200, "application/json", body, len);
        (void)reply_add_header(c->rep, "ETag", etag);
        return;
    }
    if (api_defer(c))
        return;
    reply_system(c, 200);
}

/* ---- If-Match ----
 *
 * RFC 9110 If-Match: "*", or a list of entity tags; a weak tag never
 * matches (strong comparison).  Checked twice: at once, against what GET
 * would answer (kept copies included), to answer a stale tag without
 * waiting; then by the operations layer with the machine's lock held,
 * against a fresh rendering, just before the change: between that check
 * and the change no other change through virtmcd can come. */

void rf_if_match_clear(RfIfMatch *m)
{
    strv_free(m->tags);
    *m = (RfIfMatch){ 0 };
}

static bool tag_matches(const RfIfMatch *m, const char *etag)
{
    if (m->pinned)
        return streq(m->want, etag);
    for (char **t = m->tags; t && *t; t++)
        if (streq(*t, etag))
            return true;
    return false;
}

static void precondition_failed(Ctx *c, const char *what, const char *etag)
{
    rf_error(c, 412, "PreconditionFailed",
             "the %s changed since the ETag in If-Match was read: it is now %s; GET it again",
             what, etag);
    (void)reply_add_header(c->rep, "ETag", etag);
}

/* The OpsCheck: with the machine's lock held, render afresh and compare. */
static int if_match_check(const Machine *mach, void *userdata)
{
    RfIfMatch *m = userdata;
    _cleanup_free_ char *body = NULL;
    size_t len = 0;
    int r;

    (void)mach;
    r = m->render(m->c, true, &body, &len, m->etag);
    if (r < 0)
        return r;
    if (tag_matches(m, m->etag))
        return 0;
    m->failed = true;
    error_setf("the %s changed since the ETag in If-Match was read: it is now %s; GET it again",
               m->what, m->etag);
    return -ESTALE;
}

bool rf_if_match(Ctx *c, const char *what, RfRenderFn render, RfIfMatch *ret)
{
    const char *h = http_header(c->req, "If-Match");
    _cleanup_free_ char *body = NULL, *doing = NULL;
    size_t len;
    int r;

    *ret = (RfIfMatch){ .c = c, .what = what, .render = render,
                        .pre = { .check = if_match_check, .userdata = ret } };
    if (!h)
        return true;
    ret->tags = strv_split(h, ',');
    if (!ret->tags) {
        rf_error(c, 500, "InternalError", "out of memory");
        return false;
    }
    for (char **t = ret->tags; *t; t++)
        if (streq(*t, "*")) {
            /* Any current representation: nothing to check under the lock. */
            strv_free(ret->tags);
            ret->tags = NULL;
            return true;
        }
    r = render(c, false, &body, &len, ret->etag);
    if (r < 0) {
        doing = strdup_printf("read the %s", what);
        rf_error_errno(c, r, doing ? doing : "read the resource");
        return false;
    }
    if (tag_matches(ret, ret->etag))
        return true;
    precondition_failed(c, what, ret->etag);
    return false;
}

bool rf_if_match_pin(RfIfMatch *m, const char etag[24])
{
    if (!m->tags)
        return true;
    memcpy(m->etag, etag, sizeof(m->etag));
    if (!tag_matches(m, etag)) {
        precondition_failed(m->c, m->what, etag);
        return false;
    }
    memcpy(m->want, etag, sizeof(m->want));
    m->pinned = true;
    return true;
}

const OpsPrecondition *rf_if_match_pre(RfIfMatch *m)
{
    return m->tags ? &m->pre : NULL;
}

void rf_change_error(Ctx *c, const RfIfMatch *m, int r, const char *doing)
{
    if (r == -ESTALE && m->failed) {
        precondition_failed(c, m->what, m->etag);
        return;
    }
    rf_error_errno(c, r, doing);
}

/* ---- Reset ---- */

static PowerAction reset_action(const char *type, MachineState s)
{
    for (size_t i = 0; i < ELEMENTSOF(reset_types); i++) {
        if (!streq(reset_types[i].name, type))
            continue;
        if (reset_types[i].action != _POWER_ACTION_INVALID)
            return reset_types[i].action;
        /* The power button: on when PowerState is Off, else an ACPI
         * power-button press. */
        return streq(power_state(s), "Off") ? POWER_ON : POWER_SOFT_OFF;
    }
    return _POWER_ACTION_INVALID;
}

static int reset_key(const char *key, Json *value, void *userdata)
{
    Ctx *c = userdata;

    (void)value;
    if (streq(key, "ResetType"))
        return 0;
    rf_error(c, 400, "ActionParameterUnknown",
             "the action ComputerSystem.Reset was submitted with the invalid parameter %s", key);
    return -EINVAL;
}

void rf_system_reset(Ctx *c)
{
    _cleanup_(rf_if_match_clear) RfIfMatch im = { 0 };
    OpsCaller who = api_caller(c);
    OpsPowerResult res;
    const Json *v;
    const char *type;
    PowerAction a;
    int r;

    c->req->log_action = "reset";
    if (!rf_sys_resolve(c))
        return;
    v = c->body ? json_get(c->body, "ResetType") : NULL;
    if (!v) {
        rf_error(c, 400, "ActionParameterMissing",
                 "the action ComputerSystem.Reset requires the parameter ResetType to be "
                 "present in the request body");
        return;
    }
    if (json_object_each(c->body, reset_key, c) < 0)
        return;
    type = json_as_str(v);
    if (!type) {
        rf_error(c, 400, "ActionParameterValueTypeError",
                 "the value for the parameter ResetType in the action ComputerSystem.Reset "
                 "must be a string");
        return;
    }
    a = reset_action(type, c->machine.state);
    if (a == _POWER_ACTION_INVALID) {
        _cleanup_free_ char *shown = utf8_sanitize(type);

        rf_error(c, 400, "ActionParameterNotSupported",
                 "the parameter ResetType '%s' for the action ComputerSystem.Reset is not "
                 "supported: see ResetType@Redfish.AllowableValues", shown ? shown : "");
        return;
    }
    if (!rf_if_match(c, "system", system_render, &im))
        return;
    c->req->log_action = power_action_to_string(a);
    r = ops_power_if(&who, &c->machine, a, false, rf_if_match_pre(&im), &res);
    if (r < 0) {
        rf_change_error(c, &im, r, power_action_to_string(a));
        return;
    }
    reply_set(c->rep, 204, NULL, NULL, 0);
}

/* ---- PATCH (Boot) ---- */

/* Properties GET shows that a PATCH may not change. */
static const char *const read_only[] = {
    "@odata.id", "@odata.type", "@odata.context", "@odata.etag", "Id", "Name", "Description",
    "UUID", "HostName", "SystemType", "PowerState", "Status", "ProcessorSummary",
    "MemorySummary", "EthernetInterfaces", "Processors", "SimpleStorage", "Storage",
    "VirtualMedia", "Links", "Actions",
    NULL,
};

static bool in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (streq(list[i], s))
            return true;
    return false;
}

typedef struct BootPatch {
    Ctx *c;
    const char *target, *enabled, *mode;
    bool failed;
} BootPatch;

static int refuse_property(Ctx *c, const char *prefix, const char *key, bool known)
{
    _cleanup_free_ char *shown = utf8_sanitize(key);

    if (known)
        rf_error(c, 400, "PropertyNotWritable", "the property %s%s is read-only", prefix,
                 shown ? shown : "");
    else
        rf_error(c, 400, "PropertyUnknown", "the property %s%s is not a known property",
                 prefix, shown ? shown : "");
    return -EINVAL;
}

static int boot_key(const char *key, Json *value, void *userdata)
{
    static const char *const boot_ro[] = {
        "BootSourceOverrideTarget@Redfish.AllowableValues",
        "BootSourceOverrideEnabled@Redfish.AllowableValues",
        "BootSourceOverrideMode@Redfish.AllowableValues", NULL,
    };
    BootPatch *p = userdata;
    const char **slot;
    const char *s;

    if (streq(key, "BootSourceOverrideTarget"))
        slot = &p->target;
    else if (streq(key, "BootSourceOverrideEnabled"))
        slot = &p->enabled;
    else if (streq(key, "BootSourceOverrideMode"))
        slot = &p->mode;
    else
        return refuse_property(p->c, "Boot/", key, in_list(boot_ro, key));
    s = json_as_str(value);
    if (!s) {
        rf_error(p->c, 400, "PropertyValueTypeError",
                 "the value of the property Boot/%s must be a string", key);
        return -EINVAL;
    }
    *slot = s;
    return 0;
}

static int patch_key(const char *key, Json *value, void *userdata)
{
    BootPatch *p = userdata;

    if (!streq(key, "Boot"))
        return refuse_property(p->c, "", key, in_list(read_only, key));
    if (!json_is_object(value)) {
        rf_error(p->c, 400, "PropertyValueTypeError", "the property Boot must be an object");
        return -EINVAL;
    }
    return json_object_each(value, boot_key, p);
}

static int value_not_in_list(Ctx *c, const char *prop, const char *value, const char *why)
{
    _cleanup_free_ char *shown = utf8_sanitize(value);

    rf_error(c, 400, "PropertyValueNotInList", "the value '%s' for the property Boot/%s is not "
             "in the list of acceptable values%s%s", shown ? shown : "", prop, why ? ": " : "",
             why ? why : "");
    return -EINVAL;
}

/* Decide the ops requests from the PATCH and the current override:
 * *ret_uefi 1 or 0 to switch the firmware to UEFI or legacy, -1 to keep it;
 * 1 with *ret filled: change the order; 0: nothing to change there;
 * -EINVAL: answered. */
static int boot_request(Ctx *c, const BootPatch *p, const SysView *v, int *ret_uefi,
                        OpsBootRequest *ret)
{
    const BootInfo *bi = v->boot.info;
    const char *cur_mode = bi->uefi ? "UEFI" : "Legacy";
    const char *cur_enabled = boot_enabled_of(bi, v->def);
    const char *enabled, *target;
    ssize_t ti = -1;

    *ret_uefi = -1;
    if (p->mode && !streq(p->mode, cur_mode)) {
        if (!streq(p->mode, "UEFI") && !streq(p->mode, "Legacy"))
            return value_not_in_list(c, "BootSourceOverrideMode", p->mode, NULL);
        if (!mode_switchable(v)) {
            _cleanup_free_ char *why = strdup_printf(
                "the machine boots %s firmware, and virtmcd switches the firmware of x86_64 "
                "machines only (its architecture is %s)", bi->uefi ? "UEFI" : "legacy BIOS",
                v->si.arch ? v->si.arch : "unknown");

            return value_not_in_list(c, "BootSourceOverrideMode", p->mode, why);
        }
        *ret_uefi = streq(p->mode, "UEFI");
    }
    if (p->enabled && !in_list(boot_enabled, p->enabled))
        return value_not_in_list(c, "BootSourceOverrideEnabled", p->enabled, NULL);
    if (p->target) {
        for (size_t i = 0; i < ELEMENTSOF(boot_targets); i++)
            if (streq(boot_targets[i].name, p->target))
                ti = (ssize_t)i;
        if (ti < 0 && streq(p->target, "BiosSetup"))
            /* libvirt has no knob for it: SeaBIOS has no setup program, and
             * OVMF's setup is reached by a key press during its boot. */
            return value_not_in_list(c, "BootSourceOverrideTarget", p->target,
                                     "a virtual machine's firmware setup cannot be chosen "
                                     "through libvirt (SeaBIOS has none; OVMF's is reached "
                                     "by a key at boot, on the console); virtmcd supports "
                                     "None, Pxe, Hdd and Cd");
        if (ti < 0)
            return value_not_in_list(c, "BootSourceOverrideTarget", p->target,
                                     "virtmcd supports None, Pxe, Hdd and Cd");
        if (boot_targets[ti].cls != _BOOT_CLASS_INVALID && !bi->has_class[boot_targets[ti].cls]) {
            _cleanup_free_ char *why = strdup_printf(
                "machine '%s' has no %s device to boot from", c->name,
                boot_class_to_string(boot_targets[ti].cls));

            return value_not_in_list(c, "BootSourceOverrideTarget", p->target, why);
        }
    }
    if (!p->target && !p->enabled)
        return 0;
    /* Enabled alone keeps the target; a target alone keeps Once or
     * Continuous, and makes a Disabled override Once (IPMI's default). */
    enabled = p->enabled ? p->enabled : streq(cur_enabled, "Disabled") ? "Once" : cur_enabled;
    target = p->target ? p->target : target_of_class(boot_info_first(bi));
    if (streq(enabled, "Disabled") || streq(target, "None")) {
        /* No override: the order the machine had before virtmcd changed it. */
        *ret = (OpsBootRequest){ .target = BOOT_TARGET_DEFAULT };
        return 1;
    }
    for (size_t i = 0; i < ELEMENTSOF(boot_targets); i++)
        if (streq(boot_targets[i].name, target))
            *ret = (OpsBootRequest){ .target = boot_targets[i].target,
                                     .once = streq(enabled, "Once") };
    return 1;
}

void rf_system_patch(Ctx *c)
{
    _cleanup_(sys_view_clear) SysView v = { 0 };
    _cleanup_(rf_if_match_clear) RfIfMatch im = { 0 };
    _cleanup_free_ char *seen = NULL;
    OpsCaller who = api_caller(c);
    BootPatch p = { .c = c };
    OpsBootRequest br = { 0 };
    size_t seen_len = 0;
    char etag[24];
    int r, uefi;

    c->req->log_action = "boot";
    if (!rf_sys_resolve(c))
        return;
    /* Every property is checked before anything changes. */
    if (c->body && json_object_each(c->body, patch_key, &p) < 0)
        return;
    if (!p.target && !p.enabled && !p.mode) {
        rf_error(c, 400, "NoOperation", "the request body holds no property to change");
        return;
    }
    if (!rf_if_match(c, "system", system_render, &im))
        return;
    r = sys_view_load(c, &v);
    if (r == 0 && im.tags)
        r = view_render(&v, &seen, &seen_len, etag);
    if (r < 0) {
        rf_error_errno(c, r, "read the system");
        return;
    }
    /* What to change follows from this view ("a target alone keeps Once"):
     * the change is made only if the system is still this one. */
    if (im.tags && !rf_if_match_pin(&im, etag))
        return;
    r = boot_request(c, &p, &v, &uefi, &br);
    if (r < 0)
        return;
    br.pre = rf_if_match_pre(&im);
    if (uefi >= 0) {
        /* The firmware first, the order then onto the new definition: one
         * transaction. */
        _cleanup_(ops_firmware_result_clear) OpsFirmwareResult fr = { 0 };
        OpsFirmwareRequest fq = { .uefi = uefi, .order = r > 0 ? &br : NULL, .pre = br.pre };

        r = ops_firmware_change(&who, &c->machine, &fq, &fr);
    } else if (r > 0) {
        OpsBootResult res = { 0 };

        r = ops_boot_set(&who, &c->machine, &br, &res);
        ops_boot_result_clear(&res);
    }
    if (r == -ENODEV) {
        rf_error(c, 400, "PropertyValueNotInList", "%s", error_get());
        return;
    }
    if (r < 0) {
        rf_change_error(c, &im, r,
                        uefi == 1   ? "switch to UEFI firmware"
                        : uefi == 0 ? "switch to legacy firmware"
                                    : boot_target_action_to_string(br.target));
        return;
    }
    reply_system(c, 200);
}

/* ---- EthernetInterfaces ---- */

static Json *collection(const char *path, const char *type, const char *name)
{
    return rf_collection(path, type, name, json_arr());
}

static void collection_add(Json *o, const char *member)
{
    Json *members = json_get(o, "Members");

    json_push(members, rf_link(member));
    json_set_int(o, "Members@odata.count", json_arr_len(members));
}

/* Load the table's view of the system of the URL; false when answered. */
static bool sys_load(Ctx *c, SysInfo *si)
{
    int r;

    if (!rf_sys_resolve(c))
        return false;
    r = sys_info_load(c, si);
    if (r == 0 && !si->has_info) {
        error_setf("the definition of '%s' could not be read", c->name);
        r = -ENODATA;
    }
    if (r < 0) {
        rf_error_errno(c, r, "read the system");
        return false;
    }
    return true;
}

void rf_nics_list(Ctx *c)
{
    _cleanup_(sys_info_clear) SysInfo si = { 0 };
    _cleanup_free_ char *path = NULL;
    Json *o;

    if (!sys_load(c, &si))
        return;
    path = sys_path(&si.m, "EthernetInterfaces");
    o = collection(path, "#EthernetInterfaceCollection.EthernetInterfaceCollection",
                   "Ethernet Interface Collection");
    for (char **mac = si.macs; mac && *mac; mac++) {
        _cleanup_free_ char *p = strdup_printf("%s/%s", path, *mac);

        collection_add(o, p);
    }
    rf_reply(c, 200, o);
}

void rf_nic_get(Ctx *c)
{
    _cleanup_(sys_info_clear) SysInfo si = { 0 };
    _cleanup_free_ char *path = NULL;
    const char *id = route_param(&c->m, "nic");
    Json *o;

    if (!sys_load(c, &si))
        return;
    for (char **mac = si.macs; mac && *mac; mac++) {
        if (strcasecmp(*mac, id) != 0)
            continue;
        path = strdup_printf(RF_SYSTEMS "/%s/EthernetInterfaces/%s", si.m.uuid, *mac);
        o = rf_resource(path, "#EthernetInterface.v1_5_1.EthernetInterface", *mac,
                        "Virtual network interface");
        json_set_str(o, "MACAddress", *mac);
        json_set_str(o, "PermanentMACAddress", *mac);
        json_set(o, "Status", status_json("Enabled", "OK"));
        json_set_str(o, "LinkStatus", powered_on(si.m.state) ? "LinkUp" : "LinkDown");
        rf_reply(c, 200, o);
        return;
    }
    rf_error(c, 404, "ResourceMissingAtURI", "system '%s' has no interface '%s'", c->name, id);
}

/* ---- Processors ---- */

/* Redfish's ProcessorArchitecture and InstructionSet of libvirt's arch. */
static void arch_words(const char *arch, const char **ret_arch, const char **ret_set)
{
    static const struct {
        const char *libvirt, *arch, *set;
    } map[] = {
        { "x86_64", "x86", "x86-64" },   { "i686", "x86", "x86" },
        { "aarch64", "ARM", "ARM-A64" }, { "armv7l", "ARM", "ARM-A32" },
        { "ppc64", "Power", "PowerISA" }, { "ppc64le", "Power", "PowerISA" },
        { "mips64", "MIPS", "MIPS64" },  { "mips", "MIPS", "MIPS32" },
    };

    for (size_t i = 0; arch && i < ELEMENTSOF(map); i++)
        if (streq(map[i].libvirt, arch)) {
            *ret_arch = map[i].arch;
            *ret_set = map[i].set;
            return;
        }
    *ret_arch = "OEM";
    *ret_set = "OEM";
}

/* Sockets, and cores and threads per socket: the guest topology when it
 * accounts for every vCPU, else one socket of single-threaded cores. */
static void topology(const SysInfo *si, unsigned *ret_sockets, unsigned *ret_cores,
                     unsigned *ret_threads)
{
    if (si->sockets && (unsigned long long)si->sockets * si->cores * si->threads == si->vcpus) {
        *ret_sockets = si->sockets;
        *ret_cores = si->cores;
        *ret_threads = si->threads;
        return;
    }
    *ret_sockets = 1;
    *ret_cores = si->vcpus;
    *ret_threads = 1;
}

void rf_cpus_list(Ctx *c)
{
    _cleanup_(sys_info_clear) SysInfo si = { 0 };
    _cleanup_free_ char *path = NULL;
    unsigned sockets, cores, threads;
    Json *o;

    if (!sys_load(c, &si))
        return;
    topology(&si, &sockets, &cores, &threads);
    path = sys_path(&si.m, "Processors");
    o = collection(path, "#ProcessorCollection.ProcessorCollection", "Processor Collection");
    for (unsigned i = 0; i < sockets && si.vcpus; i++) {
        _cleanup_free_ char *p = strdup_printf("%s/CPU%u", path, i);

        collection_add(o, p);
    }
    rf_reply(c, 200, o);
}

void rf_cpu_get(Ctx *c)
{
    _cleanup_(sys_info_clear) SysInfo si = { 0 };
    _cleanup_free_ char *path = NULL;
    const char *id = route_param(&c->m, "cpu"), *arch, *set;
    unsigned sockets, cores, threads;
    unsigned long long n;
    char name[32];
    Json *o;

    if (!sys_load(c, &si))
        return;
    topology(&si, &sockets, &cores, &threads);
    /* "CPU<n>", n written without leading zeros. */
    if (!startswith(id, "CPU") || (id[3] == '0' && id[4]) || !si.vcpus ||
        parse_uint(id + 3, 0, sockets - 1, &n) < 0) {
        rf_error(c, 404, "ResourceMissingAtURI", "system '%s' has no processor '%s'", c->name,
                 id);
        return;
    }
    arch_words(si.arch, &arch, &set);
    path = strdup_printf(RF_SYSTEMS "/%s/Processors/%s", si.m.uuid, id);
    snprintf(name, sizeof(name), "Virtual CPU socket %llu", n);
    o = rf_resource(path, "#Processor.v1_7_0.Processor", id, name);
    json_set_str(o, "ProcessorType", "CPU");
    json_set_str(o, "ProcessorArchitecture", arch);
    json_set_str(o, "InstructionSet", set);
    json_set_str(o, "Socket", id);
    json_set_int(o, "TotalCores", cores);
    json_set_int(o, "TotalThreads", (long long)cores * threads);
    json_set(o, "Status", status_json("Enabled", "OK"));
    rf_reply(c, 200, o);
}

/* ---- SimpleStorage ---- */

/* A disk's capacity from libvirt's block info, or JSON null. */
static Json *capacity_json(Ctx *c, const SysDisk *d)
{
    unsigned long long bytes;
    int r = d->empty ? -ENODATA
                     : virt_machine_block_capacity(c->host, c->name, d->target, &bytes);

    if (r == 0)
        return json_from_int((long long)bytes);
    if (r != -ENODATA)
        log_debug("No capacity for disk %s of '%s': %s", d->target, c->name,
                  error_get() ? error_get() : strerror(-r));
    return json_from_str(NULL);
}

#define RF_STORAGE_ID "1"

void rf_storage_list(Ctx *c)
{
    _cleanup_(sys_info_clear) SysInfo si = { 0 };
    _cleanup_free_ char *path = NULL, *member = NULL;
    Json *o;

    if (!sys_load(c, &si))
        return;
    path = sys_path(&si.m, "SimpleStorage");
    o = collection(path, "#SimpleStorageCollection.SimpleStorageCollection",
                   "Simple Storage Collection");
    member = strdup_printf("%s/" RF_STORAGE_ID, path);
    collection_add(o, member);
    rf_reply(c, 200, o);
}

void rf_storage_get(Ctx *c)
{
    _cleanup_(sys_info_clear) SysInfo si = { 0 };
    _cleanup_free_ char *path = NULL;
    const char *id = route_param(&c->m, "ctl");
    Json *o, *devs;

    if (!sys_load(c, &si))
        return;
    if (!streq(id, RF_STORAGE_ID)) {
        rf_error(c, 404, "ResourceMissingAtURI", "system '%s' has no storage '%s'", c->name, id);
        return;
    }
    path = strdup_printf(RF_SYSTEMS "/%s/SimpleStorage/" RF_STORAGE_ID, si.m.uuid);
    o = rf_resource(path, "#SimpleStorage.v1_2_3.SimpleStorage", RF_STORAGE_ID,
                    "Virtual disk controller");
    json_set(o, "Status", status_json("Enabled", "OK"));
    devs = json_arr();
    for (size_t i = 0; i < si.n_disks; i++) {
        const SysDisk *d = &si.disks[i];
        Json *e = json_obj();

        json_set_str(e, "Name", d->target);
        json_set(e, "CapacityBytes", capacity_json(c, d));
        json_set(e, "Status", status_json(d->empty ? "Absent" : "Enabled", "OK"));
        json_push(devs, e);
    }
    json_set(o, "Devices", devs);
    rf_reply(c, 200, o);
}

/* ---- Storage: one subsystem with the disks as Drives and Volumes ---- */

/* The disks Storage shows: device 'disk' or 'lun' (a CD or floppy drive is
 * no storage for Ironic's inspection, which reads Volumes' sizes). */
static bool is_storage_disk(const SysDisk *d)
{
    return streq(d->device, "disk") || streq(d->device, "lun");
}

static const SysDisk *storage_disk(const SysInfo *si, const char *target)
{
    for (size_t i = 0; target && i < si->n_disks; i++)
        if (is_storage_disk(&si->disks[i]) && streq(si->disks[i].target, target))
            return &si->disks[i];
    return NULL;
}

/* The system and the subsystem of the URL ("1"); false when answered. */
static bool storage_load(Ctx *c, SysInfo *si)
{
    const char *id = route_param(&c->m, "stor");

    if (!sys_load(c, si))
        return false;
    if (!id || !streq(id, RF_STORAGE_ID)) {
        rf_error(c, 404, "ResourceMissingAtURI", "system '%s' has no storage '%s'", c->name,
                 id ? id : "");
        return false;
    }
    return true;
}

void rf_storages_list(Ctx *c)
{
    _cleanup_(sys_info_clear) SysInfo si = { 0 };
    _cleanup_free_ char *path = NULL, *member = NULL;
    Json *o;

    if (!sys_load(c, &si))
        return;
    path = sys_path(&si.m, "Storage");
    o = collection(path, "#StorageCollection.StorageCollection", "Storage Collection");
    member = strdup_printf("%s/" RF_STORAGE_ID, path);
    collection_add(o, member);
    rf_reply(c, 200, o);
}

void rf_storage_subsystem_get(Ctx *c)
{
    _cleanup_(sys_info_clear) SysInfo si = { 0 };
    _cleanup_free_ char *path = NULL, *vols = NULL;
    Json *o, *drives;

    if (!storage_load(c, &si))
        return;
    path = strdup_printf(RF_SYSTEMS "/%s/Storage/" RF_STORAGE_ID, si.m.uuid);
    vols = strdup_printf("%s/Volumes", path ? path : "");
    o = rf_resource(path, "#Storage.v1_8_0.Storage", RF_STORAGE_ID, "Virtual storage");
    json_set(o, "Status", status_json("Enabled", "OK"));
    drives = json_arr();
    for (size_t i = 0; i < si.n_disks; i++) {
        _cleanup_free_ char *p = NULL;

        if (!is_storage_disk(&si.disks[i]))
            continue;
        p = strdup_printf("%s/Drives/%s", path, si.disks[i].target);
        json_push(drives, rf_link(p));
    }
    json_set_int(o, "Drives@odata.count", (long long)json_arr_len(drives));
    json_set(o, "Drives", drives);
    json_set(o, "Volumes", rf_link(vols));
    rf_reply(c, 200, o);
}

/* A Drive and its Volume are one virtual disk seen twice: each links the
 * other. */
typedef struct StorageKind {
    const char *param, *what, *own, *other, *type;
    bool volume;
} StorageKind;

static const StorageKind drive_kind = { "drive", "drive", "Drives", "Volumes",
                                        "#Drive.v1_9_0.Drive", false };
static const StorageKind volume_kind = { "vol", "volume", "Volumes", "Drives",
                                         "#Volume.v1_5_0.Volume", true };

static void storage_member_get(Ctx *c, const StorageKind *k)
{
    _cleanup_(sys_info_clear) SysInfo si = { 0 };
    _cleanup_free_ char *path = NULL, *other = NULL;
    const char *id = route_param(&c->m, k->param);
    const SysDisk *d;
    Json *o, *links, *a;

    if (!storage_load(c, &si))
        return;
    d = storage_disk(&si, id);
    if (!d) {
        rf_error(c, 404, "ResourceMissingAtURI", "system '%s' has no %s '%s'", c->name, k->what,
                 id ? id : "");
        return;
    }
    path = strdup_printf(RF_SYSTEMS "/%s/Storage/" RF_STORAGE_ID "/%s/%s", si.m.uuid, k->own,
                         d->target);
    other = strdup_printf(RF_SYSTEMS "/%s/Storage/" RF_STORAGE_ID "/%s/%s", si.m.uuid,
                          k->other, d->target);
    o = rf_resource(path, k->type, d->target, "Virtual disk");
    json_set(o, "CapacityBytes", capacity_json(c, d));
    if (k->volume)
        json_set_str(o, "VolumeType", "RawDevice");
    json_set(o, "Status", status_json(d->empty ? "Absent" : "Enabled", "OK"));
    links = json_obj();
    a = json_arr();
    json_push(a, rf_link(other));
    json_set(links, k->other, a);
    json_set(o, "Links", links);
    rf_reply(c, 200, o);
}

void rf_drive_get(Ctx *c)
{
    storage_member_get(c, &drive_kind);
}

void rf_volumes_list(Ctx *c)
{
    _cleanup_(sys_info_clear) SysInfo si = { 0 };
    _cleanup_free_ char *path = NULL;
    Json *o;

    if (!storage_load(c, &si))
        return;
    path = strdup_printf(RF_SYSTEMS "/%s/Storage/" RF_STORAGE_ID "/Volumes", si.m.uuid);
    o = collection(path, "#VolumeCollection.VolumeCollection", "Volume Collection");
    for (size_t i = 0; i < si.n_disks; i++) {
        _cleanup_free_ char *p = NULL;

        if (!is_storage_disk(&si.disks[i]))
            continue;
        p = strdup_printf("%s/%s", path, si.disks[i].target);
        collection_add(o, p);
    }
    rf_reply(c, 200, o);
}

void rf_volume_get(Ctx *c)
{
    storage_member_get(c, &volume_kind);
}

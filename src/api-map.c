/* api-map.c: the virtmapper-compatible map (API.md section 4):
 * /service/map[/<node>] and its aliases /api/v1/vmap[/<node>].
 *
 * Answered from virt's in-memory machine tables and host states only, never
 * a libvirt round trip: the map must answer, with the last known guests,
 * exactly when a host is down.  It changes nothing.
 *
 * The choices virtmapper's shape leaves open (docs/API.md, "The map"):
 * - "guests" lists every defined machine, not only running ones: virtmapper
 *   read `virsh list --all` (its parser takes the "-" id of machines that
 *   are off), and "where does machine X live" is asked of machines that are
 *   off too.  A host's own list is every machine it holds.
 * - A name on several hosts has one "guests" entry: the host where it is
 *   active; if it is active on several (a conflict) or on none, the first
 *   of those hosts by name.
 * - A conflict is a name or a UUID active on more than one host.  "name" and
 *   "uuid" are the value the machines share, null where they differ (one
 *   name, two UUIDs: "uuid" is null; one UUID under two names: "name" is
 *   null).  Machines of a down host count with their last known state.
 * - Outside the user's machine ACL a machine does not exist: it is in no
 *   list and in no conflict. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "util.h"

typedef struct Conflict {
    const char *name;        /* what the machines share; NULL where they differ */
    const char *uuid;
    const Machine **members; /* by host name */
    size_t n;
} Conflict;

typedef struct Map {
    Machine *ms;             /* the visible machines, by name then host name */
    size_t n;
    Host **hosts;            /* by name */
    size_t n_hosts;
    Conflict *conflicts;     /* sorted, no two alike */
    size_t n_conflicts;
} Map;

static void map_clear(Map *map)
{
    for (size_t i = 0; i < map->n_conflicts; i++)
        free(map->conflicts[i].members);
    free(map->conflicts);
    free(map->hosts);
    free(map->ms);
    *map = (Map){ 0 };
}

/* NULL sorts after every string. */
static int strcmp_null(const char *a, const char *b)
{
    if (!a || !b)
        return (a == NULL) - (b == NULL);
    return strcmp(a, b);
}

static int host_cmp(const void *a, const void *b)
{
    return strcmp(virt_host_name(*(Host *const *)a), virt_host_name(*(Host *const *)b));
}

static int machine_cmp(const void *a, const void *b)
{
    const Machine *x = a, *y = b;
    int r = strcmp(x->name, y->name);

    return r ? r : strcmp(virt_host_name(x->host), virt_host_name(y->host));
}

static int machine_ptr_host_cmp(const void *a, const void *b)
{
    const Machine *x = *(const Machine *const *)a, *y = *(const Machine *const *)b;

    return strcmp(virt_host_name(x->host), virt_host_name(y->host));
}

static int machine_ptr_uuid_cmp(const void *a, const void *b)
{
    const Machine *x = *(const Machine *const *)a, *y = *(const Machine *const *)b;
    int r = strcmp(x->uuid, y->uuid);

    return r ? r : strcmp(virt_host_name(x->host), virt_host_name(y->host));
}

static int conflict_cmp(const void *a, const void *b)
{
    const Conflict *x = a, *y = b;
    int r = strcmp_null(x->name, y->name);

    if (!r)
        r = strcmp_null(x->uuid, y->uuid);
    for (size_t i = 0; !r && i < x->n && i < y->n; i++)
        r = strcmp(virt_host_name(x->members[i]->host), virt_host_name(y->members[i]->host));
    if (!r)
        r = (x->n > y->n) - (x->n < y->n);
    return r;
}

/* One conflict of the n active machines in group (n >= 2): -ENOMEM. */
static int conflict_add(Map *map, const Machine *const *group, size_t n)
{
    Conflict *cs, *c;

    cs = realloc(map->conflicts, (map->n_conflicts + 1) * sizeof(*cs));
    if (!cs)
        return -ENOMEM;
    map->conflicts = cs;
    c = &cs[map->n_conflicts];
    *c = (Conflict){ .name = group[0]->name, .uuid = group[0]->uuid, .n = n };
    c->members = malloc(n * sizeof(*c->members));
    if (!c->members)
        return -ENOMEM;
    map->n_conflicts++;
    memcpy(c->members, group, n * sizeof(*c->members));
    qsort(c->members, n, sizeof(*c->members), machine_ptr_host_cmp);
    for (size_t i = 1; i < n; i++) {
        if (c->name && !streq(c->name, group[i]->name))
            c->name = NULL;
        if (c->uuid && !streq(c->uuid, group[i]->uuid))
            c->uuid = NULL;
    }
    return 0;
}

/* Every name, then every UUID, active on more than one host.  A machine
 * running on two hosts under one name and one UUID is both: one entry. */
static int find_conflicts(Map *map)
{
    _cleanup_free_ const Machine **act = NULL;
    size_t n_act = 0, w;
    int r;

    act = malloc((map->n ? map->n : 1) * sizeof(*act));
    if (!act)
        return -ENOMEM;
    for (size_t i = 0; i < map->n; i++)
        if (machine_state_is_active(map->ms[i].state))
            act[n_act++] = &map->ms[i];
    /* act is in name order (map->ms is), then in UUID order. */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            qsort(act, n_act, sizeof(*act), machine_ptr_uuid_cmp);
        for (size_t i = 0, j; i < n_act; i = j) {
            for (j = i + 1; j < n_act; j++)
                if (!streq(pass ? act[j]->uuid : act[j]->name,
                           pass ? act[i]->uuid : act[i]->name))
                    break;
            if (j - i > 1 && (r = conflict_add(map, act + i, j - i)) < 0)
                return r;
        }
    }
    if (map->n_conflicts > 0)
        qsort(map->conflicts, map->n_conflicts, sizeof(*map->conflicts), conflict_cmp);
    for (size_t i = w = 0; i < map->n_conflicts; i++) {
        if (w > 0 && conflict_cmp(&map->conflicts[w - 1], &map->conflicts[i]) == 0) {
            free(map->conflicts[i].members);
            continue;
        }
        map->conflicts[w++] = map->conflicts[i];
    }
    map->n_conflicts = w;
    return 0;
}

static int map_build(const Ctx *c, Map *ret)
{
    _cleanup_(map_clear) Map map = { 0 };
    size_t w = 0;
    int r;

    r = virt_machines(&map.ms, &map.n);
    if (r < 0)
        return r;
    for (size_t i = 0; i < map.n; i++)
        if (api_machine_visible(c, map.ms[i].name))
            map.ms[w++] = map.ms[i];
    map.n = w;
    /* virt sorts by name only: the host order of one name is ours.  (qsort's
     * array must not be NULL, even when empty.) */
    if (map.n > 0)
        qsort(map.ms, map.n, sizeof(*map.ms), machine_cmp);

    map.n_hosts = virt_host_count();
    map.hosts = calloc(map.n_hosts ? map.n_hosts : 1, sizeof(*map.hosts));
    if (!map.hosts)
        return -ENOMEM;
    for (size_t i = 0; i < map.n_hosts; i++)
        map.hosts[i] = virt_host_at(i);
    qsort(map.hosts, map.n_hosts, sizeof(*map.hosts), host_cmp);

    r = find_conflicts(&map);
    if (r < 0)
        return r;
    *ret = map;
    map = (Map){ 0 };
    return 0;
}

/* {"state": "up", "guests": [names]}: every machine the host holds. */
static Json *host_json(const Map *map, const Host *h)
{
    Json *o = json_obj(), *a = json_arr();

    json_set_str(o, "state", virt_host_up(h) ? "up" : "down");
    for (size_t i = 0; i < map->n; i++)
        if (map->ms[i].host == h)
            json_push_str(a, map->ms[i].name);
    json_set(o, "guests", a);
    return o;
}

/* The rows of one name: ms[i..*ret_end); the row that answers for it. */
static const Machine *guest_row(const Map *map, size_t i, size_t *ret_end)
{
    const Machine *best = &map->ms[i];
    size_t j = i;

    for (; j < map->n && streq(map->ms[j].name, map->ms[i].name); j++)
        if (!machine_state_is_active(best->state) && machine_state_is_active(map->ms[j].state))
            best = &map->ms[j];
    *ret_end = j;
    return best;
}

static Json *guest_json(const Machine *m)
{
    Json *o = json_obj();

    json_set_str(o, "state", machine_state_to_string(m->state));
    json_set_str(o, "host", virt_host_name(m->host));
    return o;
}

static Json *conflict_json(const Conflict *cf)
{
    Json *o = json_obj(), *a = json_arr();

    json_set(o, "name", json_from_str(cf->name));
    json_set(o, "uuid", json_from_str(cf->uuid));
    for (size_t i = 0; i < cf->n; i++)
        json_push_str(a, virt_host_name(cf->members[i]->host));
    json_set(o, "hosts", a);
    return o;
}

static bool conflict_concerns(const Conflict *cf, const Host *h, const char *name)
{
    for (size_t i = 0; i < cf->n; i++)
        if (h ? cf->members[i]->host == h : streq(cf->members[i]->name, name))
            return true;
    return false;
}

/* The conflicts of a host (h) or of a guest (name); all of them when both
 * are NULL. */
static Json *conflicts_json(const Map *map, const Host *h, const char *name)
{
    Json *a = json_arr();

    for (size_t i = 0; i < map->n_conflicts; i++)
        if ((!h && !name) || conflict_concerns(&map->conflicts[i], h, name))
            json_push(a, conflict_json(&map->conflicts[i]));
    return a;
}

static Json *map_answer(Json *hosts, Json *guests, Json *conflicts)
{
    Json *o = json_obj();

    json_set(o, "hosts", hosts);
    json_set(o, "guests", guests);
    json_set(o, "conflicts", conflicts);
    return o;
}

void api_map_get(Ctx *c)
{
    _cleanup_(map_clear) Map map = { 0 };
    Json *hosts, *guests;
    int r;

    r = map_build(c, &map);
    if (r < 0) {
        api_reply_errno(c, r, "build the map");
        return;
    }
    hosts = json_obj();
    for (size_t i = 0; i < map.n_hosts; i++)
        json_set(hosts, virt_host_name(map.hosts[i]), host_json(&map, map.hosts[i]));
    guests = json_obj();
    for (size_t i = 0, end; i < map.n; i = end) {
        const Machine *m = guest_row(&map, i, &end);

        json_set(guests, m->name, guest_json(m));
    }
    api_reply_json(c, 200, map_answer(hosts, guests, conflicts_json(&map, NULL, NULL)));
}

/* virtmapper's lookup: a host name, else a guest name (a host wins). */
void api_map_node_get(Ctx *c)
{
    _cleanup_(map_clear) Map map = { 0 };
    const char *node = route_param(&c->m, "node");
    Json *one;
    int r;

    r = map_build(c, &map);
    if (r < 0) {
        api_reply_errno(c, r, "build the map");
        return;
    }
    for (size_t i = 0; i < map.n_hosts; i++) {
        const Host *h = map.hosts[i];

        if (!streq(virt_host_name(h), node))
            continue;
        one = json_obj();
        json_set(one, virt_host_name(h), host_json(&map, h));
        api_reply_json(c, 200, map_answer(one, NULL, conflicts_json(&map, h, NULL)));
        return;
    }
    for (size_t i = 0, end; i < map.n; i = end) {
        const Machine *m = guest_row(&map, i, &end);

        if (!streq(m->name, node))
            continue;
        c->req->log_machine = node;
        one = json_obj();
        json_set(one, m->name, guest_json(m));
        api_reply_json(c, 200, map_answer(NULL, one, conflicts_json(&map, NULL, m->name)));
        return;
    }
    /* virtmapper's words, exactly. */
    api_reply_error(c, 404, "Node %s not found", node);
}
